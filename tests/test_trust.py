"""Trust settings without a network: pattern forms, host normalisation, where settings may come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from validator import engine
from validator.errors import UsageError
from validator.live import VerifyOptions
from validator.live.plan import plan
from validator.trust import from_settings, host_pattern, normalize_host


@pytest.mark.parametrize(("host", "normal"), [
    ("Mail.Example.COM.", "mail.example.com"),
    ("straße.example", "xn--strae-oqa.example"),  # UTS-46 non-transitional: never "strasse"
    ("BÜCHER.example", "xn--bcher-kva.example"),
    ("[::1]", "::1"),
    ("0:0::1", "::1"),
])
def test_normalize_host(host: str, normal: str) -> None:
    assert normalize_host(host) == normal


@pytest.mark.parametrize(("pattern", "host", "matches"), [
    ("mail.example.com", "mail.example.com", True),
    ("mail.example.com", "MAIL.example.com.", True),
    ("mail.example.com", "mail.example.com.attacker.net", False),
    ("*.example.com", "a.b.example.com", True),
    ("*.example.com", "example.com", False),
    ("*.example.com", "evilexample.com", False),
    ("203.0.113.0/24", "203.0.113.9", True),
    ("203.0.113.0/24", "203.0.113.attacker.net", False),
    ("203.0.113.0/24", "203.0.114.1", False),
    ("::1", "[::1]", True),
    ("127.0.0.1", "localhost", False),  # an address pattern never admits a name, whatever it resolves to
    ("straße.example", "xn--strae-oqa.example", True),
    ("strasse.example", "straße.example", False),
])
def test_host_patterns(pattern: str, host: str, matches: bool) -> None:
    assert from_settings(hosts=[pattern]).host_allowed(host) is matches


@pytest.mark.parametrize(("pattern", "message"), [
    ("127.0.0.*", "CIDR form, for example '127.0.0.0/24'"),
    ("203.0.*.*", "'203.0.0.0/16'"),
    ("*example.com", "whole leftmost label"),
    ("mail.example.*", "whole leftmost label"),
    ("mail.*.com", "whole leftmost label"),
    ("ma?l.example.com", "whole leftmost label"),
    ("*", "whole leftmost label"),
    ("mail.example.com:587", "no port"),
])
def test_bad_patterns_are_usage_errors(pattern: str, message: str) -> None:
    with pytest.raises(UsageError, match="--allow-host") as error:
        host_pattern(pattern)
    assert message in str(error.value)


def test_settings_combine_flags_and_variables() -> None:
    trust = from_settings(
        hosts=["a.example.com,b.example.com"],
        recipients=["*@Example.com"],
        environ={"MAILCFG_ALLOW_HOST": " c.example.com\n10.0.0.0/8 ", "MAILCFG_ALLOW_ENV": "MAILCFG_* OTHER"},
    )
    assert [pattern.text for pattern in trust.hosts] == ["a.example.com", "b.example.com", "c.example.com",
                                                         "10.0.0.0/8"]
    assert trust.env == ("MAILCFG_*", "OTHER")
    assert trust.env_allowed("MAILCFG_X")
    assert not trust.env_allowed("mailcfg_x")
    assert not trust.env_allowed("AWS")
    assert trust.recipient_allowed("IT@example.COM")
    assert not trust.recipient_allowed("it@example.com.evil")
    assert not trust.any_host


def test_defaults_trust_no_host_and_any_variable() -> None:
    trust = from_settings()
    assert not trust.names_hosts
    assert not trust.host_allowed("mail.example.com")
    assert trust.env_allowed("ANYTHING")
    assert not trust.recipient_allowed("it@example.com")  # without --allow-recipient only --allow-any-host sends
    assert from_settings(environ={"MAILCFG_ALLOW_ANY_HOST": "1"}).recipient_allowed("it@example.com")
    assert not from_settings(environ={"MAILCFG_ALLOW_ANY_HOST": "0"}).any_host


def test_plan_uses_the_normalised_host(tmp_path: Path) -> None:
    """The name checked is the name resolved and sent as SNI: one form, A-labels."""
    path = tmp_path / "a.yaml"
    path.write_text(
        "version: 1\nsmtp:\n  - id: out\n    host: Straße.Example.\n    encryption: ssl\n"
        "    authentication: none\n",
        encoding="utf-8",
    )
    _, accounts = engine.analyse(engine.CheckOptions(paths=(str(path),)))
    (check,) = plan(accounts, VerifyOptions())
    assert check.host == "xn--strae-oqa.example"


def test_trust_is_not_a_configuration_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`.mailcfg.yaml` comes from the pull request: a trust setting in it is an unknown key, not a setting."""
    from validator.cli import main

    (tmp_path / ".mailcfg.yaml").write_text("allow-host: ['*']\nallow-any-host: true\n", encoding="utf-8")
    (tmp_path / "accounts.yaml").write_text(
        "version: 1\nsmtp:\n  - id: out\n    host: mail.example.com\n    encryption: ssl\n"
        "    authentication: none\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for name in ("MAILCFG_ALLOW_HOST", "MAILCFG_ALLOW_ANY_HOST"):
        monkeypatch.delenv(name, raising=False)
    code = main(["verify", "--no-color"])
    captured = capsys.readouterr()
    # An unknown key fails the static stage (exit 1), so no live check runs at all.
    assert code == 1, captured
    assert "error[MC006]" in captured.out, captured.out
    assert "allow-host" in captured.out, captured.out
    assert "live checks" not in captured.out

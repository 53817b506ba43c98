"""MC104: value not allowed (choice, pattern, range).

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the schema stage
(validator/schema.py); validator/rules/mc104_value.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import SMTP_HEAD, VALID
from conftest import Check, assert_fires_once, only

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC104", SMTP_HEAD.replace("starttls", "tls"), 5, 17, id="MC104-encryption"),
    pytest.param("MC104", SMTP_HEAD.replace("id: outgoing", "id: Outgoing Server"), 3, 9, id="MC104-id"),
    pytest.param("MC104", SMTP_HEAD + "    port: 70000\n", 6, 11, id="MC104-port-range"),
    pytest.param(
        "MC104",
        SMTP_HEAD + "    credentials:\n      username: a\n      password: {env: 1BAD}\n",
        8,
        23,
        id="MC104-env-name",
    ),
    pytest.param("MC104", SMTP_HEAD + "    authentication: optional\n", 6, 21, id="MC104-authentication"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc104_tls_hint_names_starttls_and_ssl(check: Check) -> None:
    [bad] = only(check(SMTP_HEAD.replace("starttls", "tls")), "MC104")
    assert "starttls" in (bad.hint or "")
    assert "ssl" in (bad.hint or "")
    assert "'tls'" in bad.message


def test_mc104_tls_without_a_port_explains_both(check: Check) -> None:
    [bad] = only(check(VALID.replace("encryption: ssl", "encryption: TLS")), "MC104")
    assert "did you mean" not in bad.message
    assert "starttls (ports 587/143)" in (bad.hint or "")
    assert "ssl (ports 465/993)" in (bad.hint or "")


@pytest.mark.parametrize(
    ("written", "port", "meant"),
    [
        ("SSL", None, "ssl"),
        ("Ssl", 465, "ssl"),
        ("Ohne", None, "none"),
        ("ohne", 25, "none"),
        ("STARTTLS", None, "starttls"),
        ("None", None, "none"),
        ("TLS", 587, "starttls"),
        ("tls", 143, "starttls"),
        ("TLS", 465, "ssl"),
        ("TLS", 993, "ssl"),
    ],
)
def test_mc104_encryption_did_you_mean(check: Check, written: str, port: int | None, meant: str) -> None:
    # The application's dialog offers "Ohne", "TLS" and "SSL": each is told the format's word for it.
    source = SMTP_HEAD.replace("starttls", written) + (f"    port: {port}\n" if port else "")
    [bad] = only(check(source), "MC104")
    assert f"'encryption' of smtp entry 'outgoing' is '{written}' (did you mean `{meant}`?)" in bad.message
    assert bad.hint
    if port and written.lower() == "tls":
        assert f"port {port}" in bad.hint


@pytest.mark.parametrize("encryption", ["none", "starttls", "ssl"])
def test_mc104_passes_on_allowed_encryption(check: Check, encryption: str) -> None:
    assert only(check(SMTP_HEAD.replace("starttls", encryption)), "MC104") == []

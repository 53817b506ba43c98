"""MC106: invalid host name.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the schema stage
(validator/schema.py); validator/rules/mc106_host.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import SMTP_HEAD, Cli
from conftest import Check, assert_fires_once, only, where

# An smtp entry that logs in nowhere: nothing but its host to find fault with.
NO_AUTHENTICATION = """\
version: 1
smtp:
  - id: outgoing
    host: smtp.example.invalid
    encryption: ssl
    authentication: none
"""

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC106", SMTP_HEAD.replace("smtp.example.com", "smtp.example.com:587"), 4, 11, id="MC106-port"),
    pytest.param("MC106", SMTP_HEAD.replace("smtp.example.com", "smtps://smtp.example.com"), 4, 11, id="MC106-url"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_bracketed_ipv6_host_is_mc106(tmp_path: Path, cli: Cli) -> None:
    """`host: "[::1]"` passed `check` and then failed every `verify` (sockets take the bare address)."""
    path = tmp_path / "accounts.yaml"
    path.write_text(NO_AUTHENTICATION.replace("smtp.example.invalid", '"[::1]"'), encoding="utf-8")
    code, out, _ = cli("check", str(path), "--no-config", "--no-color")
    assert code == 1
    assert f"{path}:4:11: error[MC106]" in out
    assert "write the IPv6 address without brackets: ::1" in out


@pytest.mark.parametrize(
    ("field", "value", "column", "rule"),
    [
        ("host", "smtp example com", 11, "MC106"),
        ("host", "-smtp.example.com", 11, "MC106"),
    ],
)
def test_mc106_bad_values(check: Check, field: str, value: str, column: int, rule: str) -> None:
    source = SMTP_HEAD.replace("    host: smtp.example.com\n", "") + f"    {field}: {value}\n"
    result = check(source)
    assert where(result, rule) == [("error", 5, column)]
    assert only(result, rule)[0].hint


# Good values of both formats pass both rules (the address ones are in tests/rules/test_mc105_email.py).
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("host", "mail.bücher.example"),
        ("host", "192.0.2.10"),
        ("host", "localhost"),
    ],
)
def test_mc105_mc106_pass_on_good_values(check: Check, field: str, value: str) -> None:
    source = SMTP_HEAD.replace("    host: smtp.example.com\n", "") + f"    {field}: {value}\n"
    result = check(source)
    assert only(result, "MC105") == []
    assert only(result, "MC106") == []

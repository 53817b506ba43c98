"""MC105: invalid e-mail address.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the schema stage
(validator/schema.py); validator/rules/mc105_email.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import SMTP_HEAD, VALID
from conftest import Check, assert_fires_once, only, where

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC105", SMTP_HEAD + "    test_recipient: it.example.com\n", 6, 21, id="MC105-test-recipient"),
    pytest.param(
        "MC105", VALID.replace("address: info@example.com", "address: info.example.com"), 16, 14, id="MC105-address"
    ),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


@pytest.mark.parametrize(
    ("field", "value", "column", "rule"),
    [
        ("test_recipient", "Anna <anna@example.com>", 21, "MC105"),
        ("test_recipient", "anna@@example.com", 21, "MC105"),
    ],
)
def test_mc105_bad_values(check: Check, field: str, value: str, column: int, rule: str) -> None:
    source = SMTP_HEAD.replace("    host: smtp.example.com\n", "") + f"    {field}: {value}\n"
    result = check(source)
    assert where(result, rule) == [("error", 5, column)]
    assert only(result, rule)[0].hint


# Good values of both formats pass both rules (the host ones are in tests/rules/test_mc106_host.py).
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("test_recipient", "anna.muster@example.com"),
        ("test_recipient", "jürgen@müller.example"),
    ],
)
def test_mc105_mc106_pass_on_good_values(check: Check, field: str, value: str) -> None:
    source = SMTP_HEAD.replace("    host: smtp.example.com\n", "") + f"    {field}: {value}\n"
    result = check(source)
    assert only(result, "MC105") == []
    assert only(result, "MC106") == []

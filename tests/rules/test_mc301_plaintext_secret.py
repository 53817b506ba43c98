"""MC301: plaintext secret in the YAML.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc301_plaintext_secret.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed
(its lines are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import SMTP_HEAD, VALID, edit
from conftest import Check, assert_fires_once, assert_passes, only, where

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param(
        "MC301",
        edit(("password: {env: IMAP_INFO_PASSWORD}", "password: Sommer2024!")),
        {},
        22,
        17,
        "/imap/0/credentials/password",
        id="MC301",
    ),
    pytest.param(
        "MC301",
        edit(("password: {env: IMAP_INFO_PASSWORD}", "password: 12345678")),
        {},
        22,
        17,
        "/imap/0/credentials/password",
        id="MC301-number",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC301", VALID, {}, id="MC301"),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc301_message_never_repeats_the_secret(check: Check) -> None:
    result = check(edit(("password: {env: IMAP_INFO_PASSWORD}", "password: Sommer2024!")))
    assert only(result, "MC301")
    for finding in result.findings:
        assert "Sommer2024" not in finding.message
        assert "Sommer2024" not in (finding.hint or "")


def test_schema_errors_do_not_repeat_a_plaintext_password(check: Check) -> None:
    result = check(SMTP_HEAD + "    credentials:\n      username: ''\n      password: Sommer2024!\n")
    assert where(result, "MC301") == [("error", 8, 17)]
    assert where(result, "MC104") == [("error", 7, 17)]
    for item in result.findings:
        assert "Sommer2024" not in item.message
        assert "Sommer2024" not in (item.hint or "")

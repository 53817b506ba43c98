"""MC303: one password variable shared by different usernames.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc303_shared_password.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its
lines are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import VALID, edit, imap_entry
from conftest import Check, assert_fires_once, assert_passes, only

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param(
        "MC303",
        edit(("IMAP_INFO_PASSWORD", "SMTP_PASSWORD")),
        {},
        22,
        17,
        "/imap/0/credentials/password",
        id="MC303",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param(
        "MC303",
        VALID + imap_entry(password="IMAP_INFO_PASSWORD", username="info@example.com", address="info2@example.com"),
        {},
        id="MC303-same-username",
    ),
    pytest.param("MC303", VALID, {}, id="MC303"),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc303_names_the_first_username(check: Check) -> None:
    [finding] = only(check(edit(("IMAP_INFO_PASSWORD", "SMTP_PASSWORD"))), "MC303")
    assert "SMTP_PASSWORD" in finding.message
    assert "mailer@example.com" in finding.message


def test_mc303_points_at_the_other_password_line(check: Check, tmp_path: Path) -> None:
    # Where the variable was first used: the smtp entry's `password:` (line 11), not its `- id:` (line 5).
    [finding] = only(check(edit(("IMAP_INFO_PASSWORD", "SMTP_PASSWORD"))), "MC303")
    assert (finding.line, finding.column) == (22, 17)
    assert finding.message.endswith(f"(at {tmp_path / 'accounts.yaml'}:11:7)")

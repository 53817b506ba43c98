"""MC203: `user` names no entry of `users`.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc203_user_ref.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its lines
are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import VALID, edit, imap_entry
from conftest import Check, assert_fires_once, assert_passes, only

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param("MC203", VALID + imap_entry(user="ana"), {}, 26, 11, "/imap/1/user", id="MC203"),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC203", VALID + imap_entry(user="anna"), {}, id="MC203"),
    pytest.param(
        "MC203", edit(("users:\n  - id: anna\n", "")) + imap_entry(user="ana"), {}, id="MC203-without-users-list"
    ),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc203_did_you_mean_anna(check: Check) -> None:
    [finding] = only(check(VALID + imap_entry(user="ana")), "MC203")
    assert "'anna'" in (finding.hint or "")
    assert finding.account == "anna-mail"

"""MC204: `user` on a system account, or missing on a user account.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc204_user_scope.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its
lines are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import VALID, edit, imap_entry
from conftest import Check, assert_fires_once, assert_passes

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    # a superfluous `user` is reported on the key, a missing one on the mapping that lacks it
    pytest.param(
        "MC204",
        edit(("    scope: system\n", "    scope: system\n    user: anna\n")),
        {},
        16,
        5,
        "/imap/0/user",
        id="MC204-system-with-user",
    ),
    pytest.param("MC204", VALID + imap_entry(user=None), {}, 24, 5, "/imap/1", id="MC204-user-without-user"),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC204", VALID + imap_entry(user="anna"), {}, id="MC204"),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)

"""MC405: more than one smtp entry.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc405_several_smtp.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its
lines are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import RELAY, SMTP_FILE, VALID, edit
from conftest import Check, assert_fires_once, assert_passes, check_path, only, write

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param("MC405", edit(("imap:\n", RELAY)), {}, 13, 5, "/smtp/1", id="MC405"),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC405", VALID, {}, id="MC405"),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_several_smtp_entries_across_files(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", SMTP_FILE)
    write(tmp_path / "b.yaml", SMTP_FILE.replace("id: outgoing", "id: relay"))
    result = check_path(tmp_path)
    [finding] = only(result, "MC405")
    assert (finding.severity.value, finding.file, finding.line, finding.column) == (
        "warning",
        str(tmp_path / "b.yaml"),
        3,
        5,
    )
    assert f"{tmp_path / 'a.yaml'}:3:5" in finding.message

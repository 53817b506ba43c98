"""MC201: `outgoing` names no smtp entry.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc201_outgoing.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its lines
are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import ANNA_FILE, SMTP_FILE, VALID, edit
from conftest import Check, assert_fires_once, assert_passes, check_path, only, write

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param(
        "MC201", edit(("outgoing: outgoing", "outgoing: outgoin")), {}, 19, 15, "/imap/0/outgoing", id="MC201"
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC201", VALID, {}, id="MC201"),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc201_did_you_mean_outgoing(check: Check) -> None:
    [finding] = only(check(edit(("outgoing: outgoing", "outgoing: outgoin"))), "MC201")
    assert "'outgoing'" in (finding.hint or "")
    assert "outgoin" in finding.message
    assert finding.account == "info"


def test_mc201_hint_without_any_smtp_entry(check: Check) -> None:
    source = edit(("smtp:\n", "smtp: []\nold:\n"))  # the smtp entry now hangs under an unknown key
    [finding] = only(check(source), "MC201")
    assert (finding.line, finding.column) == (20, 15)
    assert "no smtp entry" in (finding.hint or "")


def test_unresolved_reference_across_files_is_reported_in_the_referring_file(tmp_path: Path) -> None:
    write(tmp_path / "smtp.yaml", SMTP_FILE.replace("id: outgoing", "id: mailout"))
    write(tmp_path / "users" / "anna.yaml", ANNA_FILE)
    result = check_path(tmp_path)
    [finding] = only(result, "MC201")
    assert (finding.file, finding.line, finding.column) == (str(tmp_path / "users" / "anna.yaml"), 11, 15)
    assert [(f.file, f.line, f.column) for f in only(result, "MC206")] == [(str(tmp_path / "smtp.yaml"), 3, 9)]

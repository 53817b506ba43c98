"""MC202: duplicate id.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc202_duplicate_id.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its
lines are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import ANNA_FILE, SMTP_FILE, VALID, edit, imap_entry
from conftest import Check, assert_fires_once, assert_passes, check_path, only, where, write

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param(
        "MC202", VALID + imap_entry(id="info", scope="system", user=None), {}, 24, 9, "/imap/1/id", id="MC202"
    ),
    pytest.param(
        "MC202", VALID + imap_entry(id="outgoing", user="anna"), {}, 24, 9, "/imap/1/id", id="MC202-smtp-and-imap"
    ),
    pytest.param(
        "MC202", edit(("  - id: anna\n", "  - id: anna\n  - id: anna\n")), {}, 4, 9, "/users/1/id", id="MC202-user"
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC202", edit(("  - id: anna\n", "  - id: info\n")), {}, id="MC202-users-have-own-namespace"),
    pytest.param("MC202", VALID + imap_entry(), {}, id="MC202-distinct"),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc202_names_the_first_place(check: Check, tmp_path: Path) -> None:
    [finding] = only(check(VALID + imap_entry(id="info", scope="system", user=None)), "MC202")
    assert f"{tmp_path / 'accounts.yaml'}:14:5" in finding.message


def test_duplicate_id_across_files_names_the_first_file(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", SMTP_FILE)
    write(tmp_path / "b.yaml", SMTP_FILE.replace("smtp.example.com", "mail.example.com") + ANNA_FILE.split("\n", 1)[1])
    result = check_path(tmp_path)
    [finding] = only(result, "MC202")
    assert (finding.severity.value, finding.file, finding.line, finding.column) == (
        "error",
        str(tmp_path / "b.yaml"),
        3,
        9,
    )
    assert f"{tmp_path / 'a.yaml'}:3:5" in finding.message


def test_duplicate_id_across_documents_of_one_file(check: Check, tmp_path: Path) -> None:
    result = check(SMTP_FILE + "---\n" + SMTP_FILE)
    [finding] = only(result, "MC202")
    assert (finding.line, finding.column) == (14, 9)
    assert f"{tmp_path / 'accounts.yaml'}:3:5" in finding.message


def test_invalid_entries_still_count_for_duplicate_ids(check: Check) -> None:
    source = VALID + "  - id: info\n    scope: everyone\n"
    result = check(source)
    assert where(result, "MC202") == [("error", 24, 9)]
    assert where(result, "MC104") == [("error", 25, 12)]

"""How the engine runs the rules over a set: across files, on partially valid entries, and selected or ignored.

What each rule finds is tested in its own file, tests/rules/test_mcNNN_name.py. Snippets are tests/builders.py's
``VALID`` (its lines are listed there) with a line or two changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import ANNA_FILE, NO_CONTACT, SMTP_FILE, VALID, edit
from conftest import Check, check_path, only, where, write

from validator import engine
from validator.errors import UsageError


def test_valid_base_set_is_clean(check: Check) -> None:
    result = check(VALID)
    assert result.findings == ()
    assert result.summary.accounts == 2
    assert result.exit_code(strict=True) == 0


# ---------------------------------------------------------------------------------------- cross-file


def test_references_resolve_across_files(tmp_path: Path) -> None:
    write(tmp_path / "smtp.yaml", SMTP_FILE)
    write(tmp_path / "users" / "anna.yaml", ANNA_FILE)
    result = check_path(tmp_path)
    assert [source.name for source in result.files] == [
        str(tmp_path / "smtp.yaml"),
        str(tmp_path / "users" / "anna.yaml"),
    ]
    assert result.findings == ()
    assert result.summary.accounts == 2


@pytest.mark.parametrize("rule", ["MC201", "MC203", "MC206"])
def test_absence_rules_stay_quiet_when_a_file_is_unreadable(tmp_path: Path, rule: str) -> None:
    # anna.yaml names a missing smtp entry and a missing user; smtp.yaml's entry is unused
    write(tmp_path / "smtp.yaml", SMTP_FILE)
    write(
        tmp_path / "users" / "anna.yaml",
        ANNA_FILE.replace("outgoing: outgoing", "outgoing: nowhere").replace("user: anna", "user: bob"),
    )
    assert len(only(check_path(tmp_path), rule)) == 1  # the rule fires while every file is readable
    write(tmp_path / "broken.yaml", "version: 1\nsmtp:\n  - id: x\n   host: y\n")
    result = check_path(tmp_path)
    assert where(result, "MC001") == [("error", 4, 4)]
    assert only(result, rule) == []


def test_rules_that_do_not_conclude_from_absence_still_run_when_a_file_is_unreadable(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", SMTP_FILE.replace("encryption: starttls", "encryption: ssl\n    port: 587"))
    write(tmp_path / "broken.yaml", "version: 1\nsmtp:\n  - id: x\n   host: y\n")
    result = check_path(tmp_path)
    assert [(f.file, f.line, f.column) for f in only(result, "MC401")] == [(str(tmp_path / "a.yaml"), 6, 11)]


# -------------------------------------------------------------------------------------- partial entries


def test_entry_with_an_unknown_key_still_gets_semantic_rules(check: Check) -> None:
    source = edit(
        ("outgoing: outgoing", "outgoing: outgoin"),
        ("    scope: system\n", "    scope: system\n    sent_foldr: Sent\n"),
    )
    result = check(source)
    assert [(f.line, f.column, f.account) for f in only(result, "MC102")] == [(16, 5, "info")]
    assert "'sent_folder'" in (only(result, "MC102")[0].hint or "")
    assert [(f.line, f.column, f.account) for f in only(result, "MC201")] == [(20, 15, "info")]


def test_entry_with_a_wrongly_typed_key_still_gets_semantic_rules(check: Check) -> None:
    source = edit(
        ("    encryption: ssl\n", '    encryption: none\n    port: "143"\n'),
    )
    result = check(source)
    assert where(result, "MC103") == [("error", 19, 11)]
    assert where(result, "MC302") == [("error", 18, 17)]


# ------------------------------------------------------------------------------------- select / ignore


def test_parse_selectors_accepts_ids_and_prefixes() -> None:
    assert engine.parse_selectors(["MC3"]) == ("MC3",)
    assert engine.parse_selectors(["mc201, MC4", "MC102"]) == ("MC201", "MC4", "MC102")
    assert engine.parse_selectors(["", " , "]) == ()


@pytest.mark.parametrize("selector", ["MC9", "MC999", "MC2010", "XY1", "201", "MC20X"])
def test_parse_selectors_refuses_unknown(selector: str) -> None:
    with pytest.raises(UsageError, match="unknown rule"):
        engine.parse_selectors([selector])


PROBLEMS = edit(
    ("outgoing: outgoing", "outgoing: outgoin"),  # MC201 + MC206
    ("    test_recipient: it@example.com\n", ""),  # MC404
    NO_CONTACT,  # MC305
)


def test_problems_snippet_has_several_rule_families(check: Check) -> None:
    assert {f.rule for f in check(PROBLEMS).findings} == {"MC201", "MC206", "MC305", "MC404"}


def test_select_keeps_only_the_prefix(check: Check) -> None:
    result = check(PROBLEMS, select=engine.parse_selectors(["MC2"]))
    assert {f.rule for f in result.findings} == {"MC201", "MC206"}


def test_select_several(check: Check) -> None:
    result = check(PROBLEMS, select=engine.parse_selectors(["MC201,MC404"]))
    assert {f.rule for f in result.findings} == {"MC201", "MC404"}


def test_ignore_drops_a_rule_and_a_prefix(check: Check) -> None:
    result = check(PROBLEMS, ignore=engine.parse_selectors(["MC404", "MC3"]))
    assert {f.rule for f in result.findings} == {"MC201", "MC206"}


def test_select_and_ignore_combine(check: Check) -> None:
    result = check(PROBLEMS, select=("MC2",), ignore=("MC206",))
    assert [(f.rule, f.line, f.column) for f in result.findings] == [("MC201", 17, 15)]


def test_ignore_changes_the_exit_code(check: Check) -> None:
    assert check(PROBLEMS).exit_code() == 1
    assert check(PROBLEMS, ignore=("MC201",)).exit_code() == 0
    assert check(PROBLEMS, ignore=("MC201",)).exit_code(strict=True) == 1  # MC206 is a warning

"""Semantic rules (MC201-MC206, MC301-MC306, MC401-MC405), cross-file behaviour and rule selection.

Snippets are the ``VALID`` set of tests/builders.py with a line or two changed. Its lines, for counting positions:

     1 version: 1                       13 imap:
     2 users:                           14   - id: info
     3   - id: anna                     15     scope: system
     4 smtp:                            16     address: info@example.com
     5   - id: outgoing                 17     host: imap.example.com
     6     host: smtp.example.com       18     encryption: ssl
     7     encryption: starttls         19     outgoing: outgoing
     8     test_recipient: it@ex…       20     credentials:
     9     credentials:                 21       username: info@example.com
    10       username: mailer@ex…       22       password: {env: IMAP_INFO_PASSWORD}
    11       password: {env: SMTP_…}    23       contact: IT desk
    12       contact: IT desk
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from builders import SMTP, VALID, edit, imap_entry
from conftest import SPEC_SEVERITY as ALL_SPEC_SEVERITY
from conftest import Check, only, where

from validator import engine
from validator.errors import UsageError
from validator.outcome import Result
from validator.registry import RULES

# An unused second smtp entry, inserted before `imap:`: it takes lines 13-16 and `imap:` moves to 17.
RELAY = """\
  - id: relay
    host: relay.example.com
    encryption: starttls
    test_recipient: it@example.com
imap:
"""
NO_CONTACT = (
    "      password: {env: SMTP_PASSWORD}\n      contact: IT desk\n",
    "      password: {env: SMTP_PASSWORD}\n",
)
SPEC_SEVERITY = {rule: severity for rule, severity in ALL_SPEC_SEVERITY.items() if rule >= "MC2"}

# (rule, YAML source, CheckOptions fields, expected line, column, pointer)
FIRES = [
    pytest.param(
        "MC201", edit(("outgoing: outgoing", "outgoing: outgoin")), {}, 19, 15, "/imap/0/outgoing", id="MC201"
    ),
    pytest.param(
        "MC202", VALID + imap_entry(id="info", scope="system", user=None), {}, 24, 9, "/imap/1/id", id="MC202"
    ),
    pytest.param(
        "MC202", VALID + imap_entry(id="outgoing", user="anna"), {}, 24, 9, "/imap/1/id", id="MC202-smtp-and-imap"
    ),
    pytest.param(
        "MC202", edit(("  - id: anna\n", "  - id: anna\n  - id: anna\n")), {}, 4, 9, "/users/1/id", id="MC202-user"
    ),
    pytest.param("MC203", VALID + imap_entry(user="ana"), {}, 26, 11, "/imap/1/user", id="MC203"),
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
    pytest.param(
        "MC205",
        VALID + imap_entry(id="office", scope="system", user=None, address="Info@Example.com"),
        {},
        26,
        14,
        "/imap/1/address",
        id="MC205",
    ),
    pytest.param("MC206", edit(("imap:\n", RELAY)), {}, 13, 9, "/smtp/1/id", id="MC206"),
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
    pytest.param(
        "MC302", edit(("encryption: ssl", "encryption: none")), {}, 18, 17, "/imap/0/encryption", id="MC302-imap"
    ),
    pytest.param(
        "MC302",
        edit(("encryption: starttls", "encryption: none")),
        {},
        7,
        17,
        "/smtp/0/encryption",
        id="MC302-smtp",
    ),
    pytest.param(
        "MC303",
        edit(("IMAP_INFO_PASSWORD", "SMTP_PASSWORD")),
        {},
        22,
        17,
        "/imap/0/credentials/password",
        id="MC303",
    ),
    pytest.param(
        "MC304",
        edit(
            (
                "    credentials:\n      username: mailer",
                "    authentication: none\n    credentials:\n      username: mailer",
            )
        ),
        {},
        10,
        5,
        "/smtp/0/credentials",
        id="MC304",
    ),
    pytest.param("MC305", edit(NO_CONTACT), {}, 9, 5, "/smtp/0/credentials", id="MC305"),
    pytest.param(
        "MC306",
        VALID,
        {"require_env": True, "env": {"SMTP_PASSWORD": "x"}},
        22,
        23,
        "/imap/0/credentials/password/env",
        id="MC306",
    ),
    pytest.param(
        "MC401",
        edit(("    encryption: starttls\n", "    encryption: ssl\n    port: 587\n")),
        {},
        8,
        11,
        "/smtp/0/port",
        id="MC401-ssl-on-587",
    ),
    pytest.param(
        "MC401",
        edit(("    encryption: ssl\n", "    encryption: starttls\n    port: 993\n")),
        {},
        19,
        11,
        "/imap/0/port",
        id="MC401-starttls-on-993",
    ),
    pytest.param(
        "MC401",
        edit(("    encryption: ssl\n", "    encryption: ssl\n    port: 143\n")),
        {},
        19,
        11,
        "/imap/0/port",
        id="MC401-ssl-on-143",
    ),
    pytest.param(
        "MC401",
        edit(("    encryption: starttls\n", "    encryption: none\n    port: 465\n")),
        {},
        8,
        11,
        "/smtp/0/port",
        id="MC401-none-on-465",
    ),
    pytest.param(
        "MC402",
        edit(("    encryption: starttls\n", "    encryption: starttls\n    port: 2525\n")),
        {},
        8,
        11,
        "/smtp/0/port",
        id="MC402",
    ),
    pytest.param("MC403", VALID + imap_entry(address="support@example.com"), {}, 25, 12, "/imap/1/scope", id="MC403"),
    pytest.param("MC404", edit(("    test_recipient: it@example.com\n", "")), {}, 5, 5, "/smtp/0", id="MC404"),
    pytest.param("MC405", edit(("imap:\n", RELAY)), {}, 13, 5, "/smtp/1", id="MC405"),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC201", VALID, {}, id="MC201"),
    pytest.param("MC202", edit(("  - id: anna\n", "  - id: info\n")), {}, id="MC202-users-have-own-namespace"),
    pytest.param("MC202", VALID + imap_entry(), {}, id="MC202-distinct"),
    pytest.param("MC203", VALID + imap_entry(user="anna"), {}, id="MC203"),
    pytest.param(
        "MC203", edit(("users:\n  - id: anna\n", "")) + imap_entry(user="ana"), {}, id="MC203-without-users-list"
    ),
    pytest.param("MC204", VALID + imap_entry(user="anna"), {}, id="MC204"),
    pytest.param("MC205", VALID + imap_entry(address="anna@example.com"), {}, id="MC205"),
    pytest.param(
        "MC206",
        edit(("imap:\n", RELAY)) + imap_entry(outgoing="relay"),
        {},
        id="MC206",
    ),
    pytest.param("MC301", VALID, {}, id="MC301"),
    pytest.param(
        "MC302",
        edit(("    encryption: ssl\n", "    encryption: none\n    allow_insecure: true\n")),
        {},
        id="MC302-allow-insecure",
    ),
    pytest.param(
        "MC302",
        edit(
            ("    encryption: starttls\n", "    encryption: none\n    authentication: none\n"),
            (
                "    credentials:\n      username: mailer@example.com\n      password: {env: SMTP_PASSWORD}\n"
                "      contact: IT desk\n",
                "",
            ),
        ),
        {},
        id="MC302-smtp-without-authentication",
    ),
    pytest.param(
        "MC303",
        VALID + imap_entry(password="IMAP_INFO_PASSWORD", username="info@example.com", address="info2@example.com"),
        {},
        id="MC303-same-username",
    ),
    pytest.param("MC303", VALID, {}, id="MC303"),
    pytest.param(
        "MC304",
        edit(
            ("    credentials:\n      username: mailer@example.com\n", "    authentication: none\n"),
            ("      password: {env: SMTP_PASSWORD}\n      contact: IT desk\n", ""),
        ),
        {},
        id="MC304",
    ),
    pytest.param("MC305", VALID, {}, id="MC305"),
    pytest.param(
        "MC306",
        VALID,
        {"require_env": True, "env": {"SMTP_PASSWORD": "x", "IMAP_INFO_PASSWORD": "y"}},
        id="MC306-all-set",
    ),
    pytest.param("MC306", VALID, {"require_env": False, "env": {}}, id="MC306-not-required"),
    pytest.param(
        "MC401",
        edit(("    encryption: starttls\n", "    encryption: ssl\n    port: 465\n")),
        {},
        id="MC401",
    ),
    pytest.param(
        "MC402",
        edit(("    encryption: starttls\n", "    encryption: starttls\n    port: 587\n")),
        {},
        id="MC402",
    ),
    # a contradicting port is MC401, not also MC402
    pytest.param(
        "MC402",
        edit(("    encryption: starttls\n", "    encryption: ssl\n    port: 587\n")),
        {},
        id="MC402-not-on-contradiction",
    ),
    pytest.param("MC403", VALID, {}, id="MC403-system-scope"),
    pytest.param("MC403", VALID + imap_entry(address="anna.muster@example.com"), {}, id="MC403-personal"),
    pytest.param("MC404", VALID, {}, id="MC404"),
    pytest.param("MC405", VALID, {}, id="MC405"),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    result = check(source, **options)
    found = only(result, rule)
    assert [(f.severity.value, f.file, f.line, f.column, f.pointer) for f in found] == [
        (SPEC_SEVERITY[rule], str(tmp_path / "accounts.yaml"), line, column, pointer)
    ]
    assert found[0].message
    assert found[0].account


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    result = check(source, **options)
    assert only(result, rule) == []
    assert result.files[0].documents  # the snippet was read, so the silence means something


def test_every_semantic_rule_has_firing_and_passing_cases() -> None:
    # the semantic rules of docs/reference.md's rules table, all of them registered with their default severity
    assert {rule: RULES[rule].severity.value for rule in SPEC_SEVERITY} == SPEC_SEVERITY
    assert {param.values[0] for param in FIRES} == set(SPEC_SEVERITY)
    assert {param.values[0] for param in PASSES} == set(SPEC_SEVERITY)


# ------------------------------------------------------------------------------------------- hints


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


def test_mc203_did_you_mean_anna(check: Check) -> None:
    [finding] = only(check(VALID + imap_entry(user="ana")), "MC203")
    assert "'anna'" in (finding.hint or "")
    assert finding.account == "anna-mail"


def test_mc202_names_the_first_place(check: Check, tmp_path: Path) -> None:
    [finding] = only(check(VALID + imap_entry(id="info", scope="system", user=None)), "MC202")
    assert f"{tmp_path / 'accounts.yaml'}:14:5" in finding.message


def test_mc205_names_the_first_account(check: Check) -> None:
    [finding] = only(
        check(VALID + imap_entry(id="office", scope="system", user=None, address="Info@Example.com")), "MC205"
    )
    assert "'info'" in finding.message


def test_mc301_message_never_repeats_the_secret(check: Check) -> None:
    result = check(edit(("password: {env: IMAP_INFO_PASSWORD}", "password: Sommer2024!")))
    assert only(result, "MC301")
    for finding in result.findings:
        assert "Sommer2024" not in finding.message
        assert "Sommer2024" not in (finding.hint or "")


def test_mc302_on_smtp_only_when_it_logs_in(check: Check) -> None:
    source = edit(
        ("    encryption: starttls\n", "    encryption: none\n    authentication: none\n"),
        NO_CONTACT,
    )
    result = check(source)
    assert only(result, "MC302") == []
    assert where(result, "MC304") == [("warning", 10, 5)]


def test_mc303_names_the_first_username(check: Check) -> None:
    [finding] = only(check(edit(("IMAP_INFO_PASSWORD", "SMTP_PASSWORD"))), "MC303")
    assert "SMTP_PASSWORD" in finding.message
    assert "mailer@example.com" in finding.message


def test_mc303_points_at_the_other_password_line(check: Check, tmp_path: Path) -> None:
    # Where the variable was first used: the smtp entry's `password:` (line 11), not its `- id:` (line 5).
    [finding] = only(check(edit(("IMAP_INFO_PASSWORD", "SMTP_PASSWORD"))), "MC303")
    assert (finding.line, finding.column) == (22, 17)
    assert finding.message.endswith(f"(at {tmp_path / 'accounts.yaml'}:11:7)")


def test_mc305_for_every_credentials_without_contact(check: Check) -> None:
    source = VALID.replace("      contact: IT desk\n", "")
    assert where(check(source), "MC305") == [("info", 9, 5), ("info", 19, 5)]


# --------------------------------------------------------------------------------------------- MC306


def test_mc306_reports_every_unset_variable_at_once(check: Check) -> None:
    result = check(VALID + imap_entry(), require_env=True, env={})
    assert where(result, "MC306") == [("error", 11, 23), ("error", 22, 23), ("error", 33, 23)]
    named = [finding.message.split()[2] for finding in only(result, "MC306")]
    assert named == ["SMTP_PASSWORD", "IMAP_INFO_PASSWORD", "IMAP_ANNA_PASSWORD"]


def test_mc306_only_with_require_env(check: Check) -> None:
    assert only(check(VALID, env={}), "MC306") == []


def test_mc306_an_empty_value_counts_as_unset(check: Check) -> None:
    result = check(VALID, require_env=True, env={"SMTP_PASSWORD": "", "IMAP_INFO_PASSWORD": "y"})
    assert where(result, "MC306") == [("error", 11, 23)]


def test_mc306_never_shows_a_value(check: Check) -> None:
    result = check(VALID, require_env=True, env={"SMTP_PASSWORD": "hunter2-value"})
    assert len(only(result, "MC306")) == 1
    for finding in result.findings:
        assert "hunter2" not in finding.message
        assert "hunter2" not in (finding.hint or "")


# ---------------------------------------------------------------------------------------- cross-file

SMTP_FILE = "version: 1\n" + SMTP
ANNA_FILE = "version: 1\nusers:\n  - id: anna\nimap:\n" + imap_entry(address="anna.muster@example.com")


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def run_dir(directory: Path, **options: Any) -> Result:
    return engine.run(engine.CheckOptions(paths=(str(directory),), **options))


def test_references_resolve_across_files(tmp_path: Path) -> None:
    write(tmp_path / "smtp.yaml", SMTP_FILE)
    write(tmp_path / "users" / "anna.yaml", ANNA_FILE)
    result = run_dir(tmp_path)
    assert [source.name for source in result.files] == [
        str(tmp_path / "smtp.yaml"),
        str(tmp_path / "users" / "anna.yaml"),
    ]
    assert result.findings == ()
    assert result.summary.accounts == 2


def test_unresolved_reference_across_files_is_reported_in_the_referring_file(tmp_path: Path) -> None:
    write(tmp_path / "smtp.yaml", SMTP_FILE.replace("id: outgoing", "id: mailout"))
    write(tmp_path / "users" / "anna.yaml", ANNA_FILE)
    result = run_dir(tmp_path)
    [finding] = only(result, "MC201")
    assert (finding.file, finding.line, finding.column) == (str(tmp_path / "users" / "anna.yaml"), 11, 15)
    assert [(f.file, f.line, f.column) for f in only(result, "MC206")] == [(str(tmp_path / "smtp.yaml"), 3, 9)]


def test_duplicate_id_across_files_names_the_first_file(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", SMTP_FILE)
    write(tmp_path / "b.yaml", SMTP_FILE.replace("smtp.example.com", "mail.example.com") + ANNA_FILE.split("\n", 1)[1])
    result = run_dir(tmp_path)
    [finding] = only(result, "MC202")
    assert (finding.severity.value, finding.file, finding.line, finding.column) == (
        "error",
        str(tmp_path / "b.yaml"),
        3,
        9,
    )
    assert f"{tmp_path / 'a.yaml'}:3:5" in finding.message


def test_several_smtp_entries_across_files(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", SMTP_FILE)
    write(tmp_path / "b.yaml", SMTP_FILE.replace("id: outgoing", "id: relay"))
    result = run_dir(tmp_path)
    [finding] = only(result, "MC405")
    assert (finding.severity.value, finding.file, finding.line, finding.column) == (
        "warning",
        str(tmp_path / "b.yaml"),
        3,
        5,
    )
    assert f"{tmp_path / 'a.yaml'}:3:5" in finding.message


def test_duplicate_id_across_documents_of_one_file(check: Check, tmp_path: Path) -> None:
    result = check(SMTP_FILE + "---\n" + SMTP_FILE)
    [finding] = only(result, "MC202")
    assert (finding.line, finding.column) == (14, 9)
    assert f"{tmp_path / 'accounts.yaml'}:3:5" in finding.message


@pytest.mark.parametrize("rule", ["MC201", "MC203", "MC206"])
def test_absence_rules_stay_quiet_when_a_file_is_unreadable(tmp_path: Path, rule: str) -> None:
    # anna.yaml names a missing smtp entry and a missing user; smtp.yaml's entry is unused
    write(tmp_path / "smtp.yaml", SMTP_FILE)
    write(
        tmp_path / "users" / "anna.yaml",
        ANNA_FILE.replace("outgoing: outgoing", "outgoing: nowhere").replace("user: anna", "user: bob"),
    )
    assert len(only(run_dir(tmp_path), rule)) == 1  # the rule fires while every file is readable
    write(tmp_path / "broken.yaml", "version: 1\nsmtp:\n  - id: x\n   host: y\n")
    result = run_dir(tmp_path)
    assert where(result, "MC001") == [("error", 4, 4)]
    assert only(result, rule) == []


def test_rules_that_do_not_conclude_from_absence_still_run_when_a_file_is_unreadable(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", SMTP_FILE.replace("encryption: starttls", "encryption: ssl\n    port: 587"))
    write(tmp_path / "broken.yaml", "version: 1\nsmtp:\n  - id: x\n   host: y\n")
    result = run_dir(tmp_path)
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


def test_invalid_entries_still_count_for_duplicate_ids(check: Check) -> None:
    source = VALID + "  - id: info\n    scope: everyone\n"
    result = check(source)
    assert where(result, "MC202") == [("error", 24, 9)]
    assert where(result, "MC104") == [("error", 25, 12)]


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

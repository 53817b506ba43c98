"""MC407: placeholder left in the file.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc407_placeholder.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its
lines are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import VALID, edit, replace_line, with_oauth2
from conftest import Check, assert_fires_once, assert_passes, only

from validator.placeholders import DOMAIN_PLACEHOLDER, find, text

CONTACT = '      contact: "<CHANGE ME: who can enter this password>"'
TENANT = f"tenant: {DOMAIN_PLACEHOLDER}"
CLIENT_ID = 'client_id: "<CHANGE ME: the application (client) id>"'
M365 = ("provider: microsoft", TENANT, CLIENT_ID, "client_secret: {env: M365_CLIENT_SECRET}")

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param("MC407", replace_line(23, CONTACT), {}, 23, 16, "/imap/0/credentials/contact", id="MC407"),
    pytest.param(
        "MC407",
        with_oauth2("provider: microsoft", TENANT, "client_id: x", "client_secret: {env: M365_CLIENT_SECRET}"),
        {},
        24,
        17,
        "/imap/0/credentials/oauth2/tenant",
        id="MC407-tenant",
    ),
    pytest.param(
        "MC407", replace_line(6, '    host: "<CHANGE ME: host>"'), {}, 6, 11, "/smtp/0/host", id="MC407-invalid-host"
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC407", VALID, {}, id="MC407"),
    pytest.param("MC407", replace_line(23, '      contact: "IT desk <it@example.com>"'), {}, id="MC407-angle-brackets"),
    pytest.param("MC407", with_oauth2(), {}, id="MC407-real-tenant"),
    pytest.param("MC407", replace_line(6, "    host: change-me.example.com"), {}, id="MC407-not-invalid"),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc407_message_names_the_key_the_entry_and_the_placeholder(check: Check) -> None:
    [finding] = only(check(replace_line(23, CONTACT)), "MC407")
    assert finding.message == (
        "`credentials.contact` of imap account 'info' is still a placeholder: <CHANGE ME: who can enter this password>"
    )
    assert finding.hint == "write the real value it asks for"
    assert finding.account == "info"


def test_mc407_tenant_hint_points_at_the_comment(check: Check) -> None:
    tenant = [item for item in only(check(with_oauth2(*M365)), "MC407") if item.pointer.endswith("/tenant")]
    assert len(tenant) == 1
    assert tenant[0].message.endswith("is still a placeholder: change-me.invalid")
    assert tenant[0].hint == "write the real name (what belongs there is in the comment beside it)"


def test_mc407_one_finding_per_placeholder_and_the_file_has_no_error(check: Check) -> None:
    source = with_oauth2(*M365).removesuffix("      contact: IT desk\n") + CONTACT + "\n"
    result = check(source)
    assert [(f.pointer) for f in only(result, "MC407")] == [
        "/imap/0/credentials/oauth2/tenant",
        "/imap/0/credentials/oauth2/client_id",
        "/imap/0/credentials/contact",
    ]
    assert not [f for f in result.findings if f.severity.value == "error"]


def test_mc407_looks_into_users_and_lists(check: Check) -> None:
    source = edit(("  - id: anna\n", '  - id: anna\n    name: "<CHANGE ME: her name>"\n'))
    source = with_oauth2(
        "provider: google", "service_account: {env: GOOGLE_SA_KEY}", 'scopes: ["<change me>"]', base=source
    )
    assert [(f.pointer, f.line) for f in only(check(source), "MC407")] == [
        ("/users/0/name", 4),
        ("/imap/0/credentials/oauth2/scopes/0", 26),
    ]


def test_mc407_never_reads_a_secret_key(check: Check) -> None:
    # A plaintext password is MC301's (an error); MC407 does not look at secret keys, so never quotes one.
    source = edit(("      password: {env: IMAP_INFO_PASSWORD}\n", '      password: "<CHANGE ME: x>"\n'))
    result = check(source)
    assert only(result, "MC407") == []
    assert only(result, "MC301")


def test_mc407_can_be_suppressed_inline(check: Check) -> None:
    source = replace_line(23, CONTACT + "  # mailcfg: ignore[MC407] filled in by the deployment")
    result = check(source)
    assert only(result, "MC407") == []
    assert only(result, "MC007") == []


def test_placeholder_forms() -> None:
    assert text("a <b> c") == "<CHANGE ME: a (b) c>"
    assert find(text("who can enter this password")) == "<CHANGE ME: who can enter this password>"
    assert find("https://change-me.invalid/oauth2/token") == "change-me.invalid"
    assert find("tenant.change-me.invalid") == "change-me.invalid"
    assert find("IT desk <it@example.com>") is None
    assert find("nochange-me.invalid") is None
    assert find("change-me.invalid.example.com") is None

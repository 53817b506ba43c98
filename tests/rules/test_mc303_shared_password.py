"""MC303: one password variable shared by different usernames.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc303_shared_password.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its
lines are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import GOOGLE_SERVICE_ACCOUNT, M365_APP_ONLY, VALID, edit, imap_entry, with_oauth2
from conftest import Check, assert_fires_once, assert_passes, only

# A delegated Microsoft 365 login (a person's refresh token); ``shared()`` gives it to both the smtp entry
# (mailer@example.com: `oauth2` on line 11, `refresh_token` on 15) and the imap account (info@example.com: `oauth2` on
# line 26, `refresh_token` on 30).
DELEGATED = (
    "provider: microsoft",
    "tenant: contoso.onmicrosoft.com",
    "client_id: 00000000-0000-0000-0000-000000000000",
    "refresh_token: {env: SHARED_REFRESH_TOKEN}",
)


def shared(*keys: str) -> str:
    """VALID with the smtp entry and the imap account (different usernames) logging in with the same oauth2 keys."""
    return with_oauth2(*keys, base=with_oauth2(*keys, entry="smtp"))


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
    pytest.param(
        "MC303",
        shared(*DELEGATED),
        {},
        30,
        24,
        "/imap/0/credentials/oauth2/refresh_token",
        id="MC303-oauth2-refresh-token",
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
    pytest.param("MC303", shared(*M365_APP_ONLY), {}, id="MC303-oauth2-one-client-secret-for-many-mailboxes"),
    pytest.param("MC303", shared(*GOOGLE_SERVICE_ACCOUNT), {}, id="MC303-oauth2-one-service-account"),
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


# ---------------------------------------------------------------------------------------------- oauth2


def test_mc303_a_shared_refresh_token_names_the_first_username_and_line(check: Check, tmp_path: Path) -> None:
    [finding] = only(check(shared(*DELEGATED)), "MC303")
    assert finding.message == (
        "refresh token variable SHARED_REFRESH_TOKEN is also used for username mailer@example.com "
        f"(at {tmp_path / 'accounts.yaml'}:15:9)"
    )
    assert finding.hint == "give each login its own variable"


def test_mc303_a_refresh_token_shared_by_one_username_is_one_login(check: Check) -> None:
    source = shared(*DELEGATED).replace("username: mailer@example.com", "username: info@example.com")
    assert only(check(source), "MC303") == []


def test_mc303_a_password_variable_reused_as_a_refresh_token(check: Check) -> None:
    keys = (*DELEGATED[:3], "refresh_token: {env: SMTP_PASSWORD}")
    [finding] = only(check(with_oauth2(*keys)), "MC303")
    assert finding.message.startswith("refresh token variable SMTP_PASSWORD is also used for username mailer@")


def test_mc303_a_client_secret_beside_a_shared_refresh_token_is_not_reported(check: Check) -> None:
    keys = (*DELEGATED, "client_secret: {env: M365_CLIENT_SECRET}")
    assert [f.pointer for f in only(check(shared(*keys)), "MC303")] == ["/imap/0/credentials/oauth2/refresh_token"]

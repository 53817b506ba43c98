"""MC101: required key missing.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the schema stage
(validator/schema.py); validator/rules/mc101_required.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import IMAP_PASSWORD, SMTP_HEAD, VALID, with_oauth2
from conftest import Check, assert_fires_once, only, where

TENANT = "tenant: contoso.onmicrosoft.com"
CLIENT_ID = "client_id: 00000000-0000-0000-0000-000000000000"
CLIENT_SECRET = "client_secret: {env: M365_CLIENT_SECRET}"

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC101", "version: 1\nsmtp:\n  - id: outgoing\n    encryption: starttls\n", 3, 5, id="MC101-host"),
    pytest.param(
        "MC101",
        SMTP_HEAD + "    credentials:\n      password: {env: SMTP_PASSWORD}\n",
        7,
        7,
        id="MC101-credentials-username",
    ),
    # The combinations of validator/credentials.py that lack a key: on the mapping that lacks it.
    pytest.param("MC101", VALID.replace(IMAP_PASSWORD, ""), 21, 7, id="MC101-credentials-no-login-method"),
    pytest.param("MC101", with_oauth2("provider: microsoft", TENANT, CLIENT_ID), 22, 7, id="MC101-oauth2-no-grant"),
    pytest.param(
        "MC101", with_oauth2("provider: google", "refresh_token: {env: RT}"), 22, 7, id="MC101-oauth2-client-id"
    ),
    pytest.param("MC101", with_oauth2(CLIENT_ID, CLIENT_SECRET), 22, 7, id="MC101-oauth2-generic-token-url"),
    pytest.param(
        "MC101", with_oauth2("provider: microsoft", CLIENT_ID, CLIENT_SECRET), 22, 7, id="MC101-oauth2-microsoft-tenant"
    ),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc101_names_the_missing_key(check: Check) -> None:
    [missing] = only(check("version: 1\nsmtp:\n  - id: outgoing\n    encryption: starttls\n"), "MC101")
    assert "'host'" in missing.message
    assert missing.pointer == "/smtp/0"
    assert missing.account == "outgoing"


def test_mc101_every_missing_key_of_an_imap_account(check: Check) -> None:
    result = check("version: 1\nimap:\n  - id: info\n")
    assert where(result, "MC101") == [("error", 3, 5)] * 6
    named = {f.message.rsplit("'", 2)[1] for f in only(result, "MC101")}
    assert named == {"scope", "address", "host", "encryption", "outgoing", "credentials"}


def test_mc101_password_without_env_names_the_password(check: Check) -> None:
    [missing] = only(check(VALID.replace("password: {env: IMAP_INFO_PASSWORD}", "password: {}")), "MC101")
    assert missing.message == (
        "`password` of imap account 'info' names no source: none of `env`, `file`, `credential`, `command`"
    )
    assert (missing.line, missing.column, missing.pointer) == (22, 17, "/imap/0/credentials/password")
    assert "`password: {env: SOME_VARIABLE}`" in (missing.hint or "")
    assert "{command: [PROGRAM, ARG...]}" in (missing.hint or "")


# ------------------------------------------------------------------------------------ credentials and oauth2

# Each combination that lacks a key (validator/credentials.py): its message after "the credentials of imap account
# 'info'", and a word of its hint.
LACKING = [
    pytest.param(
        VALID.replace(IMAP_PASSWORD, ""),
        "lack a login method: neither `password` nor `oauth2`",
        "`password: {env: SOME_VARIABLE}`, or an `oauth2` block",
        id="no-login-method",
    ),
    pytest.param(
        with_oauth2("provider: microsoft", TENANT, CLIENT_ID),
        "name no way to get an OAuth2 token",
        "`client_secret` (app-only access), `refresh_token`, `service_account` (Google) or `command`",
        id="no-grant",
    ),
    pytest.param(
        with_oauth2("provider: google", "refresh_token: {env: RT}"),
        "lack `client_id`",
        "`client_id: …`",
        id="client-id",
    ),
    pytest.param(
        with_oauth2(CLIENT_ID, CLIENT_SECRET),
        "lack `token_url` (needed by `provider: generic`)",
        "`token_url: https://…`",
        id="token-url",
    ),
    pytest.param(
        with_oauth2("provider: microsoft", CLIENT_ID, CLIENT_SECRET),
        "lack `tenant` (needed by `provider: microsoft`)",
        "contoso.onmicrosoft.com",
        id="tenant",
    ),
]


@pytest.mark.parametrize(("source", "message", "hint"), LACKING)
def test_mc101_oauth2_combinations_word_what_is_missing(check: Check, source: str, message: str, hint: str) -> None:
    result = check(source)
    [missing] = only(result, "MC101")
    assert missing.message == f"the credentials of imap account 'info' {message}"
    assert hint in (missing.hint or "")
    assert missing.account == "info"
    assert missing.pointer in ("/imap/0/credentials", "/imap/0/credentials/oauth2")
    assert [item.rule for item in result.findings] == ["MC101"]  # nothing else, and only once


def test_mc101_a_service_account_needs_no_client_id_nor_token_url(check: Check) -> None:
    assert check(with_oauth2("service_account: {env: GOOGLE_SA_KEY}")).findings == ()
    assert check(with_oauth2("command: [oama, access, info@example.com]")).findings == ()

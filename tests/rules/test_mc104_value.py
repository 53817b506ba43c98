"""MC104: value not allowed (choice, pattern, range).

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the schema stage
(validator/schema.py); validator/rules/mc104_value.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import IMAP_PASSWORD, M365_APP_ONLY, SMTP_HEAD, VALID, with_oauth2
from conftest import Check, assert_fires_once, only

MICROSOFT, GOOGLE = "provider: microsoft", "provider: google"
TENANT = "tenant: contoso.onmicrosoft.com"
CLIENT_ID = "client_id: 00000000-0000-0000-0000-000000000000"
SECRET = "client_secret: {env: M365_CLIENT_SECRET}"
REFRESH = "refresh_token: {env: INFO_REFRESH_TOKEN}"
SA = "service_account: {env: GOOGLE_SA_KEY}"
COMMAND = "command: [oama, access, info@example.com]"
# VALID's imap account with a password and an `oauth2` block (line 23); an oauth2 login with `app_password` (line 22).
BOTH = VALID.replace(IMAP_PASSWORD, IMAP_PASSWORD + f"      oauth2:\n        {COMMAND}\n")
APP_PASSWORD_OAUTH2 = with_oauth2().replace("      oauth2:\n", "      app_password: true\n      oauth2:\n")

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC104", SMTP_HEAD.replace("starttls", "tls"), 5, 17, id="MC104-encryption"),
    pytest.param("MC104", SMTP_HEAD.replace("id: outgoing", "id: Outgoing Server"), 3, 9, id="MC104-id"),
    pytest.param("MC104", SMTP_HEAD + "    port: 70000\n", 6, 11, id="MC104-port-range"),
    pytest.param(
        "MC104",
        SMTP_HEAD + "    credentials:\n      username: a\n      password: {env: 1BAD}\n",
        8,
        23,
        id="MC104-env-name",
    ),
    pytest.param("MC104", SMTP_HEAD + "    authentication: optional\n", 6, 21, id="MC104-authentication"),
    # The combinations of validator/credentials.py that do not go together: at the key that causes it.
    pytest.param("MC104", BOTH, 23, 7, id="MC104-credentials-password-and-oauth2"),
    pytest.param("MC104", APP_PASSWORD_OAUTH2, 22, 7, id="MC104-credentials-app-password-without-password"),
    pytest.param("MC104", with_oauth2(COMMAND, "scopes: [x]"), 24, 9, id="MC104-oauth2-command-and-scopes"),
    pytest.param("MC104", with_oauth2(GOOGLE, SA, "refresh_token: {env: RT}"), 25, 9, id="MC104-oauth2-sa-refresh"),
    pytest.param("MC104", with_oauth2(GOOGLE, SA, "client_secret: {env: CS}"), 25, 9, id="MC104-oauth2-sa-secret"),
    pytest.param(
        "MC104", with_oauth2(GOOGLE, CLIENT_ID, REFRESH, "subject: info@example.com"), 26, 9, id="MC104-oauth2-subject"
    ),
    pytest.param("MC104", with_oauth2(GOOGLE, TENANT, CLIENT_ID, REFRESH), 24, 9, id="MC104-oauth2-tenant-google"),
    pytest.param(
        "MC104", with_oauth2(MICROSOFT, "tenant: common", CLIENT_ID, SECRET), 24, 9, id="MC104-oauth2-tenant-common"
    ),
    pytest.param(
        "MC104", with_oauth2("token_url: http://login.example.com/token", CLIENT_ID, SECRET), 23, 20, id="MC104-http"
    ),
    pytest.param("MC104", with_oauth2(MICROSOFT, "tenant: contoso/x", CLIENT_ID, SECRET), 24, 17, id="MC104-tenant"),
    pytest.param("MC104", with_oauth2("provider: azure", CLIENT_ID, SECRET), 23, 19, id="MC104-oauth2-provider"),
    pytest.param("MC104", with_oauth2(*M365_APP_ONLY, "mechanism: plain"), 27, 20, id="MC104-oauth2-mechanism"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc104_tls_hint_names_starttls_and_ssl(check: Check) -> None:
    [bad] = only(check(SMTP_HEAD.replace("starttls", "tls")), "MC104")
    assert "starttls" in (bad.hint or "")
    assert "ssl" in (bad.hint or "")
    assert "'tls'" in bad.message


def test_mc104_tls_without_a_port_explains_both(check: Check) -> None:
    [bad] = only(check(VALID.replace("encryption: ssl", "encryption: TLS")), "MC104")
    assert "did you mean" not in bad.message
    assert "starttls (ports 587/143)" in (bad.hint or "")
    assert "ssl (ports 465/993)" in (bad.hint or "")


@pytest.mark.parametrize(
    ("written", "port", "meant"),
    [
        ("SSL", None, "ssl"),
        ("Ssl", 465, "ssl"),
        ("Ohne", None, "none"),
        ("ohne", 25, "none"),
        ("STARTTLS", None, "starttls"),
        ("None", None, "none"),
        ("TLS", 587, "starttls"),
        ("tls", 143, "starttls"),
        ("TLS", 465, "ssl"),
        ("TLS", 993, "ssl"),
    ],
)
def test_mc104_encryption_did_you_mean(check: Check, written: str, port: int | None, meant: str) -> None:
    # The application's dialog offers "Ohne", "TLS" and "SSL": each is told the format's word for it.
    source = SMTP_HEAD.replace("starttls", written) + (f"    port: {port}\n" if port else "")
    [bad] = only(check(source), "MC104")
    assert f"'encryption' of smtp entry 'outgoing' is '{written}' (did you mean `{meant}`?)" in bad.message
    assert bad.hint
    if port and written.lower() == "tls":
        assert f"port {port}" in bad.hint


@pytest.mark.parametrize("encryption", ["none", "starttls", "ssl"])
def test_mc104_passes_on_allowed_encryption(check: Check, encryption: str) -> None:
    assert only(check(SMTP_HEAD.replace("starttls", encryption)), "MC104") == []


# ------------------------------------------------------------------------------------ credentials and oauth2

# Each combination that does not go together (validator/credentials.py): the key it sits on, its message after "the
# credentials of imap account 'info'", and a word of its hint.
CLASHING = [
    pytest.param(BOTH, "oauth2", "have both `password` and `oauth2`", "keep the one", id="password-and-oauth2"),
    pytest.param(
        APP_PASSWORD_OAUTH2,
        "app_password",
        "have `app_password` but no `password`",
        "remove it from an oauth2 login",
        id="app-password",
    ),
    pytest.param(
        with_oauth2(COMMAND, MICROSOFT, TENANT),
        "oauth2/tenant",
        "have `tenant` beside `oauth2: command`, which prints the token itself",
        "remove `command`",
        id="command-and-tenant",
    ),
    pytest.param(
        with_oauth2(GOOGLE, SA, REFRESH),
        "oauth2/refresh_token",
        "have `refresh_token` beside `service_account`: two different grants",
        "keep `service_account`",
        id="service-account-and-refresh-token",
    ),
    pytest.param(
        with_oauth2(GOOGLE, CLIENT_ID, REFRESH, "subject: info@example.com"),
        "oauth2/subject",
        "have `subject` without `service_account`",
        "a service account acts for",
        id="subject",
    ),
    pytest.param(
        with_oauth2(TENANT, "token_url: https://login.example.com/token", CLIENT_ID, SECRET),
        "oauth2/tenant",
        "have `tenant`, which only `provider: microsoft` uses",
        "add `provider: microsoft`",
        id="tenant-generic",
    ),
    pytest.param(
        with_oauth2(MICROSOFT, "tenant: organizations", CLIENT_ID, SECRET),
        "oauth2/tenant",
        "use `tenant: organizations` for app-only access (client credentials)",
        "not a shared alias",
        id="tenant-organizations",
    ),
]


@pytest.mark.parametrize(("source", "key", "message", "hint"), CLASHING)
def test_mc104_oauth2_combinations_are_located_at_their_key(
    check: Check, source: str, key: str, message: str, hint: str
) -> None:
    result = check(source)
    [clash] = only(result, "MC104")
    assert clash.message == f"the credentials of imap account 'info' {message}"
    assert hint in (clash.hint or "")
    assert clash.pointer == f"/imap/0/credentials/{key}"
    assert clash.column == 7 + 2 * key.count("/")  # the key itself, in `credentials` or in `oauth2`
    assert [item.rule for item in result.findings] == ["MC104"]  # nothing else, and only once


def test_mc104_every_key_beside_a_command_is_reported(check: Check) -> None:
    source = with_oauth2(COMMAND, TENANT, CLIENT_ID, SECRET, "scopes: [x]")
    assert [(f.line, f.pointer) for f in only(check(source), "MC104")] == [
        (24, "/imap/0/credentials/oauth2/tenant"),
        (25, "/imap/0/credentials/oauth2/client_id"),
        (26, "/imap/0/credentials/oauth2/client_secret"),
        (27, "/imap/0/credentials/oauth2/scopes"),
    ]


def test_mc104_a_shared_tenant_is_fine_for_a_persons_refresh_token(check: Check) -> None:
    assert check(with_oauth2(MICROSOFT, "tenant: common", CLIENT_ID, REFRESH)).findings == ()


@pytest.mark.parametrize(
    "url",
    [
        "http://login.example.com/token",
        "ftp://login.example.com/token",
        "login.example.com/token",
        "https://user:secret@login.example.com/token",
        "'https://login.example.com\\@evil.example/token'",  # a backslash: URL parsers disagree on it
        "'https://login.example.com/to ken'",
    ],
)
def test_mc104_token_url_must_be_https_without_user(check: Check, url: str) -> None:
    result = check(with_oauth2(f"token_url: {url}", CLIENT_ID, SECRET))
    [bad] = only(result, "MC104")
    assert bad.message == (
        "'token_url' of the credentials of imap account 'info' must be an https:// URL without `user@`: a token "
        "endpoint receives client secrets and refresh tokens"
    )
    assert (bad.line, bad.column, bad.pointer) == (23, 20, "/imap/0/credentials/oauth2/token_url")


def test_mc104_token_url_https_passes(check: Check) -> None:
    source = with_oauth2("token_url: https://login.example.com/oauth2/token?x=1", CLIENT_ID, SECRET)
    assert check(source).findings == ()


@pytest.mark.parametrize("tenant", ["contoso/evil", "'contoso onmicrosoft.com'", "-contoso.com", "contoso.com.", "x?y"])
def test_mc104_tenant_pattern(check: Check, tenant: str) -> None:
    [bad] = only(check(with_oauth2(MICROSOFT, f"tenant: {tenant}", CLIENT_ID, SECRET)), "MC104")
    assert bad.message == (
        "'tenant' of the credentials of imap account 'info' is no tenant: a verified domain or the directory's id "
        "(a GUID)"
    )
    assert (bad.line, bad.column) == (24, 17)


@pytest.mark.parametrize("tenant", ["contoso.onmicrosoft.com", "00000000-0000-0000-0000-000000000000", "example.de"])
def test_mc104_tenant_pattern_passes(check: Check, tenant: str) -> None:
    assert check(with_oauth2(MICROSOFT, f"tenant: {tenant}", CLIENT_ID, SECRET)).findings == ()


def test_mc104_an_unknown_provider_is_named_once_and_nothing_follows_from_it(check: Check) -> None:
    # Which keys `provider: azure` would need is unknown: no MC101 for a token URL, no MC104 for the tenant.
    result = check(with_oauth2("provider: azure", TENANT, CLIENT_ID, SECRET))
    assert [(f.rule, f.pointer) for f in result.findings] == [("MC104", "/imap/0/credentials/oauth2/provider")]
    assert "allowed: generic, microsoft, google" in result.findings[0].message


# ------------------------------------------------------------------------------------------- secret sources

# A secret reference with another source than `env` (line 22: the imap account's password).
SOURCES = {
    "two-sources": ("{env: IMAP_INFO_PASSWORD, file: /run/secrets/info}", 22, 43, "names 2 sources (`env`, `file`)"),
    "credential-with-slash": ("{credential: ../info}", 22, 30, "must be a file name in $CREDENTIALS_DIRECTORY"),
    "credential-dots": ("{credential: ..}", 22, 30, "must be a file name in $CREDENTIALS_DIRECTORY"),
    "file-empty": ('{file: ""}', 22, 24, "'file' of `password` in the credentials of imap account 'info' must not"),
    "command-empty": ("{command: []}", 22, 27, "'command' of `password` in the credentials of imap account 'info' "
                                               "names no program"),
    "command-empty-program": ('{command: ["", x]}', 22, 28, "must not be empty"),
    "file-control": ('{file: "/run/secrets/\\tinfo"}', 22, 24, "contains a control character (U+0009)"),
}


@pytest.mark.parametrize("case", list(SOURCES))
def test_mc104_a_secret_source_that_is_not_allowed(check: Check, tmp_path: Path, case: str) -> None:
    reference, line, column, words = SOURCES[case]
    source = VALID.replace("{env: IMAP_INFO_PASSWORD}", reference)
    result = check(source)
    found = assert_fires_once(result, "MC104", tmp_path / "accounts.yaml", line, column)
    assert words in found.message
    assert found.account == "info"
    assert {item.rule for item in result.findings if item.severity.value == "error"} == {"MC104"}


def test_mc104_secret_sources_never_echo_the_value(check: Check) -> None:
    for reference in ("{credential: a/Hunter2-Canary}", "{command: []}", "{env: X, command: [Hunter2-Canary]}"):
        for item in check(VALID.replace("{env: IMAP_INFO_PASSWORD}", reference)).findings:
            assert "Hunter2-Canary" not in f"{item.message} {item.hint}"


@pytest.mark.parametrize(
    "reference",
    [
        "{file: /run/secrets/info}",
        "{file: secrets/info_pw}",
        "{file: ~/.config/mailcfg/info}",
        "{credential: info_pw}",
        "{credential: ...x}",
        "{command: [op, read, 'op://Mail/info/password']}",
        "{command: [/usr/bin/pass, show, mail/info]}",
    ],
)
def test_mc104_passes_on_every_secret_source(check: Check, reference: str) -> None:
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", reference))
    assert [item for item in result.findings if item.severity.value == "error"] == []

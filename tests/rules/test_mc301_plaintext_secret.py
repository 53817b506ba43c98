"""MC301: plaintext secret in the YAML.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc301_plaintext_secret.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed
(its lines are listed there).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import GOOGLE_SERVICE_ACCOUNT, M365_APP_ONLY, SMTP_HEAD, VALID, Cli, edit, with_oauth2
from conftest import Check, assert_fires_once, assert_passes, only, where
from monitoring import exit_code_for

from validator.reporters import FORMATS

# An oauth2 block's keys before its secret (with_oauth2: `oauth2` on line 22, these on 23-25, the secret on 26).
M365_HEAD = M365_APP_ONLY[:3]
OAUTH2_SECRET = "Oauth2-Plaintext-9c41"

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
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
        "MC301",
        with_oauth2(*M365_HEAD, f"client_secret: {OAUTH2_SECRET}"),
        {},
        26,
        24,
        "/imap/0/credentials/oauth2/client_secret",
        id="MC301-oauth2-client-secret",
    ),
    pytest.param(
        "MC301",
        with_oauth2(*M365_HEAD[:2], f"refresh_token: '{OAUTH2_SECRET}'", "client_id: abc"),
        {},
        25,
        24,
        "/imap/0/credentials/oauth2/refresh_token",
        id="MC301-oauth2-refresh-token",
    ),
    pytest.param(
        "MC301",
        with_oauth2("provider: google", f"service_account: {OAUTH2_SECRET}"),
        {},
        24,
        26,
        "/imap/0/credentials/oauth2/service_account",
        id="MC301-oauth2-service-account",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC301", VALID, {}, id="MC301"),
    pytest.param("MC301", with_oauth2(), {}, id="MC301-oauth2-client-secret-from-env"),
    pytest.param("MC301", with_oauth2(*GOOGLE_SERVICE_ACCOUNT), {}, id="MC301-oauth2-service-account-from-env"),
    pytest.param(
        "MC301",
        with_oauth2("command: [oama, access, info@example.com]", "mechanism: oauthbearer"),
        {},
        id="MC301-oauth2-command-is-no-secret",
    ),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc301_message_never_repeats_the_secret(check: Check) -> None:
    result = check(edit(("password: {env: IMAP_INFO_PASSWORD}", "password: Sommer2024!")))
    assert only(result, "MC301")
    for finding in result.findings:
        assert "Sommer2024" not in finding.message
        assert "Sommer2024" not in (finding.hint or "")


def test_schema_errors_do_not_repeat_a_plaintext_password(check: Check) -> None:
    result = check(SMTP_HEAD + "    credentials:\n      username: ''\n      password: Sommer2024!\n")
    assert where(result, "MC301") == [("error", 8, 17)]
    assert where(result, "MC104") == [("error", 7, 17)]
    for item in result.findings:
        assert "Sommer2024" not in item.message
        assert "Sommer2024" not in (item.hint or "")


# --------------------------------------------------------------------------------------------------- oauth2

# A service-account key pasted as its JSON object (JSON is YAML): a mapping, the plaintext key itself.
SERVICE_ACCOUNT_JSON = (
    f'service_account: {{"type": "service_account", "client_email": "sa@p.iam.gserviceaccount.com", '
    f'"private_key": "-----BEGIN PRIVATE KEY-----{OAUTH2_SECRET}"}}'
)
SERVICE_ACCOUNT_BLOCK = (
    "service_account:\n          type: service_account\n"
    f"          private_key: -----BEGIN PRIVATE KEY-----{OAUTH2_SECRET}"
)
OAUTH2_PLAINTEXT = {
    "client-secret": with_oauth2(*M365_HEAD, f"client_secret: {OAUTH2_SECRET}"),
    "client-secret-quoted": with_oauth2(*M365_HEAD, f'client_secret: "{OAUTH2_SECRET}"'),
    "refresh-token": with_oauth2(*M365_HEAD, "client_secret: {env: X}", f"refresh_token: {OAUTH2_SECRET}"),
    "service-account": with_oauth2("provider: google", f"service_account: {OAUTH2_SECRET}"),
    "service-account-block-scalar": with_oauth2(
        "provider: google", f'service_account: |\n          {{"private_key": "{OAUTH2_SECRET}"}}'
    ),
    "service-account-json": with_oauth2("provider: google", SERVICE_ACCOUNT_JSON),
    "service-account-mapping": with_oauth2("provider: google", SERVICE_ACCOUNT_BLOCK),
}


@pytest.mark.parametrize("key", ["client_secret", "refresh_token", "service_account"])
def test_mc301_names_the_oauth2_key_and_hints_at_env(check: Check, key: str) -> None:
    keys = ("provider: google", "client_id: abc", f"{key}: {OAUTH2_SECRET}")
    [finding] = only(check(with_oauth2(*keys)), "MC301")
    assert finding.message == f"plaintext `{key}` in the credentials of imap account 'info'"
    assert finding.hint == f"name an environment variable instead: `{key}: {{env: SOME_VARIABLE}}`"
    assert (finding.line, finding.column, finding.pointer) == (25, 11 + len(key), f"/imap/0/credentials/oauth2/{key}")


@pytest.mark.parametrize("source", [SERVICE_ACCOUNT_JSON, SERVICE_ACCOUNT_BLOCK], ids=["json", "block"])
def test_mc301_a_service_account_key_pasted_as_a_mapping(check: Check, source: str) -> None:
    result = check(with_oauth2("provider: google", source))
    [finding] = only(result, "MC301")
    assert finding.message == "plaintext service-account key in the credentials of imap account 'info'"
    assert "`service_account: {env: SOME_VARIABLE}`" in (finding.hint or "")
    assert finding.pointer == "/imap/0/credentials/oauth2/service_account"
    assert only(result, "MC101") == []  # MC301 says what is wrong, not "it has no `env`"
    assert {item.rule for item in result.findings} == {"MC301", "MC102"}


@pytest.mark.parametrize("case", list(OAUTH2_PLAINTEXT))
def test_mc301_an_oauth2_secret_is_in_no_output_format(cli: Cli, tmp_path: Path, case: str) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(OAUTH2_PLAINTEXT[case], encoding="utf-8")
    for fmt in FORMATS:
        code, out, err = cli("check", "--no-config", "--format", fmt, str(path))
        assert code == exit_code_for(fmt, 1), (fmt, out, err)
        assert OAUTH2_SECRET not in out + err, (fmt, out)
        if fmt == "json":
            assert "MC301" in {item["rule"] for item in json.loads(out)["findings"]}
    code, out, _ = cli("check", "--no-config", "--no-color", str(path))
    assert "****" in out  # the source line is shown, masked

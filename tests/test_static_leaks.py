"""Secrets in shapes the format does not foresee: where they are masked, what is reported, what is not echoed.

tests/test_secrets.py checks that a canary never reaches any output; these tests pin down the findings and
the masked source line of each shape: a connection URL in `host:`, flat password-like keys of an account,
`credentials` written as a string, a password pasted as a key of `credentials`, and `password:secret`
without a space (which YAML reads as text).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import VALID, Cli, in_account, with_credentials, with_host
from conftest import Check, only

from validator.outcome import Result

SECRET = "Sommer2024x"
IMAP_PASSWORD = "      password: {env: IMAP_INFO_PASSWORD}\n"


def text_report(cli: Cli, tmp_path: Path, source: str) -> str:
    config = tmp_path / "report.yaml"
    config.write_text(source, encoding="utf-8")
    _, out, err = cli("check", str(config))
    assert SECRET not in out + err
    return out


def nowhere(result: Result, secret: str = SECRET) -> None:
    """``secret`` is in no message, hint, pointer or account of the findings."""
    for item in result.findings:
        assert secret not in json.dumps([item.message, item.hint, item.pointer, item.account]), item


# ----------------------------------------------------------------------------- a URL pasted into host


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        (f"imaps://info:{SECRET}@imap.example.com", "imaps://****@imap.example.com"),
        (f"info:{SECRET}@imap.example.com", "****@imap.example.com"),
        (f"imaps://info:{SECRET}@imap.example.com:993/INBOX", "imaps://****@imap.example.com:993/INBOX"),
        (f"'imaps://info:{SECRET}@imap.example.com'", "imaps://****@imap.example.com"),
    ],
)
def test_host_url_userinfo_is_masked_in_message_and_line(
    check: Check, cli: Cli, tmp_path: Path, host: str, shown: str
) -> None:
    result = check(with_host(host))
    [bad] = only(result, "MC106")
    assert (bad.line, bad.column) == (17, 11)
    assert f"not a valid host name: '{shown}'" in bad.message
    assert "`user:password@`" in (bad.hint or "")
    nowhere(result)
    out = text_report(cli, tmp_path, with_host(host))
    assert "   17 |     host: " in out
    assert "****@imap.example.com" in out


def test_host_without_a_password_is_quoted_as_written(check: Check) -> None:
    # An address in `host:` names no password: nothing to hide, the message shows what is wrong.
    [bad] = only(check(with_host("info@imap.example.com")), "MC106")
    assert "'info@imap.example.com'" in bad.message


def test_userinfo_in_a_line_yaml_cannot_read_is_masked(cli: Cli, tmp_path: Path) -> None:
    out = text_report(cli, tmp_path, with_host(f"imaps://info:{SECRET}@imap.example.com: x"))
    assert "error[MC001]" in out
    assert "   17 |     host: imaps://****@imap.example.com: x\n" in out


# ------------------------------------------------------------------------------ flat password-like keys


@pytest.mark.parametrize("key", ["pass", "pw", "pin", "key", "auth", "credential", "PW", "passwort", "token"])
def test_flat_secret_key_is_masked_and_mc301(check: Check, cli: Cli, tmp_path: Path, key: str) -> None:
    source = in_account(f"{key}: {SECRET}")
    result = check(source)
    assert [(f.line, f.column) for f in only(result, "MC102")] == [(20, 5)]
    [secret] = only(result, "MC301")
    assert (secret.line, secret.column, secret.account) == (20, 7 + len(key), "info")
    nowhere(result)
    assert f"   20 |     {key}: ****\n" in text_report(cli, tmp_path, source)


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (f"url: imaps://info:{SECRET}@imap.example.com", "url: imaps://****@imap.example.com"),
        (f"server: info:{SECRET}@imap.example.com", "server: ****@imap.example.com"),
        (f'login: "info:{SECRET}"', "login: ****"),
        (f"username: info@example.com:{SECRET}", "username: ****"),
        ("pin: 7355", "pin: ****"),
    ],
)
def test_flat_login_and_url_with_a_password_are_masked_and_mc301(
    check: Check, cli: Cli, tmp_path: Path, line: str, masked: str
) -> None:
    source = in_account(line)
    result = check(source)
    assert len(only(result, "MC301")) == 1
    nowhere(result)
    assert f"   20 |     {masked}\n" in text_report(cli, tmp_path, source)


def test_flat_secret_key_in_a_user_entry(check: Check) -> None:
    result = check(VALID.replace("  - id: anna\n", f"  - id: anna\n    pin: {SECRET}\n"))
    [secret] = only(result, "MC301")
    assert (secret.line, secret.account) == (4, "anna")


@pytest.mark.parametrize(
    "lines",
    [
        ("auth: required",),  # a short `authentication:`
        ("login: info@example.com",),  # no password in it
        ("url: https://imap.example.com/",),
        ("pass: {env: IMAP_INFO_PASSWORD}",),  # a reference, not a secret
        ("pin: ",),
        ("comment: see the wiki",),
    ],
)
def test_no_mc301_for_flat_keys_without_a_secret(check: Check, lines: tuple[str, ...]) -> None:
    result = check(in_account(*lines))
    assert len(only(result, "MC102")) == 1
    assert only(result, "MC301") == []


def test_no_mc301_for_known_keys_nor_inside_a_reference(check: Check) -> None:
    # `authentication` is a known key of smtp entries; `pin` inside `{env: …}` is the reference's problem.
    source = VALID.replace("    encryption: starttls\n", "    encryption: starttls\n    authentication: required\n")
    source = source.replace(IMAP_PASSWORD, "      password: {env: IMAP_INFO_PASSWORD, pin: 1234}\n")
    result = check(source)
    assert only(result, "MC301") == []
    [extra] = only(result, "MC102")
    assert "`password` of imap account 'info'" in extra.message
    assert "1234" not in extra.message


def test_flat_secret_key_in_a_line_yaml_cannot_read_is_masked(cli: Cli, tmp_path: Path) -> None:
    out = text_report(cli, tmp_path, in_account(f"pass: {SECRET}: x"))
    assert "error[MC001]" in out
    assert "   20 |     pass: ****\n" in out


# ------------------------------------------------------------------------- credentials that are no mapping


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (f'"info:{SECRET}"', "credentials: ****"),
        (f"info {SECRET}", "credentials: ****"),
        (f"[info, {SECRET}]", "credentials: [****, ****]"),
        ("7355608", "credentials: ****"),
    ],
)
def test_credentials_not_a_mapping(check: Check, cli: Cli, tmp_path: Path, value: str, masked: str) -> None:
    source = with_credentials(value)
    result = check(source)
    [wrong] = only(result, "MC103")
    assert wrong.message == (
        "`credentials` of imap account 'info' must be a mapping (username, password or oauth2, contact)"
    )
    assert (wrong.line, wrong.column, wrong.pointer) == (20, 18, "/imap/0/credentials")
    nowhere(result)
    nowhere(result, "7355608")
    assert f"   20 |     {masked}\n" in text_report(cli, tmp_path, source)


def test_smtp_credentials_not_a_mapping(check: Check) -> None:
    source = VALID.replace(
        "    credentials:\n      username: mailer@example.com\n      password: {env: SMTP_PASSWORD}\n"
        "      contact: IT desk\n",
        f"    credentials: mailer {SECRET}\n",
    )
    [wrong] = only(check(source), "MC103")
    assert wrong.message == (
        "`credentials` of smtp entry 'outgoing' must be a mapping (username, password or oauth2, contact)"
    )


# ----------------------------------------------------------------------------- unknown keys in credentials


def test_unknown_key_in_credentials_is_not_echoed(check: Check, cli: Cli, tmp_path: Path) -> None:
    source = VALID.replace(IMAP_PASSWORD, f"{IMAP_PASSWORD}      {SECRET}: 1\n")
    result = check(source)
    [unknown] = only(result, "MC102")
    assert unknown.message == "unknown key in the credentials of imap account 'info'"
    assert (unknown.line, unknown.column, unknown.pointer) == (23, 7, "/imap/0/credentials")
    assert "username, password, app_password, oauth2, contact" in (unknown.hint or "")
    nowhere(result)
    assert "   23 |       ****: ****\n" in text_report(cli, tmp_path, source)


def test_mistyped_credentials_key_still_gets_a_suggestion(check: Check) -> None:
    source = VALID.replace(IMAP_PASSWORD, "      pasword: {env: IMAP_INFO_PASSWORD}\n")
    [unknown] = only(check(source), "MC102")
    assert "pasword" not in unknown.message
    assert unknown.hint == "did you mean 'password'?"


def test_duplicate_and_yaml11_key_in_credentials_are_not_echoed(check: Check) -> None:
    source = VALID.replace(IMAP_PASSWORD, f"{IMAP_PASSWORD}      {SECRET}: 0777\n      {SECRET}: 2\n")
    result = check(source)
    assert only(result, "MC002")
    assert only(result, "MC003")
    nowhere(result)


# ------------------------------------------------------------------------ `password:secret` with no space


def test_password_without_space_on_a_continuation_line(check: Check, cli: Cli, tmp_path: Path) -> None:
    # YAML reads `username: info@example.com password:secret`: the username then holds the password.
    source = VALID.replace(IMAP_PASSWORD, f"        password:{SECRET}\n")
    result = check(source)
    [secret] = only(result, "MC301")
    assert (secret.line, secret.column) == (22, 9)
    assert "a space is needed after `password:`" in (secret.hint or "")
    [missing] = only(result, "MC101")
    assert "`password`" in missing.message
    assert "a space is needed after `password:`" in (missing.hint or "")
    nowhere(result)
    assert "   22 |         password:****\n" in text_report(cli, tmp_path, source)


@pytest.mark.parametrize(
    "source",
    [
        VALID.replace(IMAP_PASSWORD, f"      password:{SECRET}\n"),  # `contact:` follows
        VALID.replace(IMAP_PASSWORD + "      contact: IT desk\n", f"      password:{SECRET}\n"),  # the last line
    ],
    ids=["before-a-key", "last-line"],
)
def test_password_without_space_as_its_own_line_points_at_it(
    check: Check, cli: Cli, tmp_path: Path, source: str
) -> None:
    result = check(source)
    [broken] = only(result, "MC001")
    assert (broken.line, broken.column) == (22, 7)
    assert "a space is needed after `password:`" in (broken.hint or "")
    assert "   22 |       password:****\n" in text_report(cli, tmp_path, source)


def test_password_without_space_as_a_key(check: Check, cli: Cli, tmp_path: Path) -> None:
    source = in_account(f"password:{SECRET}: 1")
    result = check(source)
    [unknown] = only(result, "MC102")
    assert unknown.message == "unknown key in imap account 'info'"
    assert unknown.pointer == "/imap/0"
    assert "a space is needed after `password:`" in (unknown.hint or "")
    assert [(f.line, f.column) for f in only(result, "MC301")] == [(20, 5)]
    nowhere(result)
    assert "   20 |     ****" in text_report(cli, tmp_path, source)


def test_password_without_space_in_flow_credentials(check: Check) -> None:
    source = with_credentials(f"{{username: info@example.com, password:{SECRET}}}")
    result = check(source)
    assert [(f.line, f.column) for f in only(result, "MC301")] == [(20, 47)]
    assert "a space is needed after `password:`" in (only(result, "MC102")[0].hint or "")
    nowhere(result)


def test_password_without_space_naming_a_variable_is_no_plaintext(check: Check) -> None:
    # `password:{env: X}` is read as the key `password:{env`; no secret to report, but the hint says why.
    result = check(VALID.replace(IMAP_PASSWORD, "      password:{env: IMAP_INFO_PASSWORD}\n"))
    assert only(result, "MC301") == []
    assert "a space is needed after `password:`" in (only(result, "MC102")[0].hint or "")

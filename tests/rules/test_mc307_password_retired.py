"""MC307: password login to a provider that refuses or is retiring it.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc307_password_retired.py, the providers' hosts and dates are validator/providers.py. Snippets are
tests/builders.py's ``VALID`` with a line or two changed (its lines are listed there).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from builders import GOOGLE_SERVICE_ACCOUNT, IMAP_PASSWORD, VALID, Cli, edit, imap_entry, with_oauth2
from conftest import Check, assert_fires_once, assert_passes, only, where

from validator import engine
from validator.accounts import Context
from validator.finding import Finding
from validator.rules import mc307_password_retired as mc307

SMTP_HOST = "host: smtp.example.com"
IMAP_HOST = "host: imap.example.com"
# VALID's smtp credentials (lines 9-12): without them the smtp entry logs in with each sender's credentials.
SMTP_CREDENTIALS = (
    "    credentials:\n      username: mailer@example.com\n      password: {env: SMTP_PASSWORD}\n"
    "      contact: IT desk\n"
)
NO_SMTP_CREDENTIALS = (SMTP_CREDENTIALS, "")
APP_PASSWORD = (IMAP_PASSWORD, IMAP_PASSWORD + "      app_password: true\n")


def smtp_at(host: str) -> tuple[str, str]:
    return (SMTP_HOST, f"host: {host}")


def imap_at(host: str) -> tuple[str, str]:
    return (IMAP_HOST, f"host: {host}")


# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param(
        "MC307",
        edit(smtp_at("smtp.office365.com")),
        {},
        11,
        7,
        "/smtp/0/credentials/password",
        id="MC307-microsoft-smtp",
    ),
    pytest.param(
        "MC307",
        edit(imap_at("outlook.office365.com")),
        {},
        22,
        7,
        "/imap/0/credentials/password",
        id="MC307-microsoft-imap",
    ),
    pytest.param(
        "MC307", edit(smtp_at("smtp.gmail.com")), {}, 11, 7, "/smtp/0/credentials/password", id="MC307-google-smtp"
    ),
    pytest.param(
        "MC307", edit(imap_at("imap.gmail.com")), {}, 22, 7, "/imap/0/credentials/password", id="MC307-google-imap"
    ),
    pytest.param(
        "MC307",
        edit(smtp_at("smtp.office365.com"), NO_SMTP_CREDENTIALS),
        {},
        6,
        11,
        "/smtp/0/host",
        id="MC307-smtp-with-the-senders-passwords",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC307", VALID, {}, id="MC307"),
    pytest.param("MC307", edit(imap_at("outlook.office365.com"), base=with_oauth2()), {}, id="MC307-microsoft-oauth2"),
    pytest.param(
        "MC307",
        edit(smtp_at("smtp.gmail.com"), base=with_oauth2(*GOOGLE_SERVICE_ACCOUNT, entry="smtp")),
        {},
        id="MC307-google-oauth2",
    ),
    pytest.param("MC307", edit(imap_at("imap.gmail.com"), APP_PASSWORD), {}, id="MC307-google-app-password"),
    pytest.param(
        "MC307",
        edit(smtp_at("smtp.office365.com"), NO_SMTP_CREDENTIALS, base=with_oauth2()),
        {},
        id="MC307-smtp-with-the-senders-oauth2",
    ),
    pytest.param(
        "MC307", edit(imap_at("outlook.office365.com.example.net")), {}, id="MC307-a-name-below-is-another-host"
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


def findings_on(tmp_path: Path, source: str, today: datetime.date) -> list[Finding]:
    """MC307's findings for ``source`` on the day ``today`` (the run's date, injected through the Context)."""
    path = tmp_path / "accounts.yaml"
    path.write_text(source, encoding="utf-8")
    _, accounts = engine.analyse(engine.CheckOptions(paths=(str(path),)))
    return list(mc307.check(accounts, Context(today=today)))


# ------------------------------------------------------------------------------------------ the message


def test_mc307_names_the_account_host_provider_and_the_providers_words(check: Check) -> None:
    [finding] = only(check(edit(smtp_at("smtp.office365.com"))), "MC307")
    assert finding.message.startswith("smtp entry 'outgoing' logs in to smtp.office365.com (Microsoft 365) with a ")
    assert "SMTP AUTH with a password (Basic authentication) by default for existing tenants" in finding.message
    assert finding.message.endswith("the end of December 2026")
    [finding] = only(check(edit(imap_at("outlook.office365.com"))), "MC307")
    assert finding.message.startswith("imap account 'info' logs in to outlook.office365.com (Microsoft 365) with a ")
    assert finding.message.endswith("since October 2022")


@pytest.mark.parametrize(
    ("today", "word"),
    [
        (datetime.date(2026, 12, 1), "from"),
        (datetime.date(2026, 12, 31), "from"),
        (datetime.date(2027, 1, 1), "since"),
        (datetime.date(2030, 6, 1), "since"),
    ],
)
def test_mc307_microsoft_smtp_from_before_the_date_since_after(tmp_path: Path, today: datetime.date, word: str) -> None:
    [finding] = findings_on(tmp_path, edit(smtp_at("smtp.office365.com")), today)
    assert finding.message.endswith(f" {word} the end of December 2026")
    assert ("from" if word == "since" else "since") + " the end" not in finding.message


@pytest.mark.parametrize(
    ("today", "word"), [(datetime.date(2024, 9, 30), "from"), (datetime.date(2024, 10, 1), "since")]
)
def test_mc307_google_from_before_the_date_since_after(tmp_path: Path, today: datetime.date, word: str) -> None:
    [finding] = findings_on(tmp_path, edit(imap_at("imap.gmail.com")), today)
    assert f" {word} autumn 2024 (Google Workspace; personal accounts since 30 May 2022)" in finding.message


def test_mc307_the_run_is_dated_today_by_default() -> None:
    assert Context().today == datetime.date.today()


def test_mc307_location_in_the_text_report(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(edit(imap_at("outlook.office365.com")), encoding="utf-8")
    code, out, _ = cli("check", "--no-config", "--no-color", str(path))
    assert code == 0  # a warning
    assert f"{path}:22:7: warning[MC307] imap account 'info' logs in to outlook.office365.com" in out


# ---------------------------------------------------------------------------------------------- the hint


def test_mc307_hint_points_to_oauth2_and_for_google_to_an_app_password(check: Check) -> None:
    [microsoft] = only(check(edit(imap_at("outlook.office365.com"))), "MC307")
    assert microsoft.hint == "log in with `oauth2` instead of `password` (docs/oauth2.md)"
    [google] = only(check(edit(smtp_at("smtp.gmail.com"))), "MC307")
    assert google.hint == (
        "log in with `oauth2` instead of `password` (docs/oauth2.md), or with an app password: `app_password: true`"
    )


def test_mc307_an_app_password_does_not_answer_it_for_microsoft(check: Check) -> None:
    [finding] = only(check(edit(imap_at("outlook.office365.com"), APP_PASSWORD)), "MC307")
    assert "`app_password` does not help: Microsoft 365 takes no app password here" in (finding.hint or "")


# ------------------------------------------------------------------------------------- which logins count


def test_mc307_an_smtp_entry_without_credentials_is_reported_once_naming_its_senders(check: Check) -> None:
    source = edit(smtp_at("smtp.office365.com"), NO_SMTP_CREDENTIALS) + imap_entry()
    [finding] = only(check(source), "MC307")
    assert (finding.line, finding.column, finding.pointer) == (6, 11, "/smtp/0/host")
    assert finding.message.startswith(
        "smtp entry 'outgoing' has no credentials of its own: imap accounts 'info', 'anna-mail' log in to "
        "smtp.office365.com (Microsoft 365) with a password: "
    )


def test_mc307_names_only_the_senders_that_log_in_with_a_password(check: Check) -> None:
    source = edit(smtp_at("smtp.gmail.com"), NO_SMTP_CREDENTIALS, APP_PASSWORD) + imap_entry()
    [finding] = only(check(source), "MC307")
    assert "has no credentials of its own: imap account 'anna-mail' logs in to smtp.gmail.com (Google)" in (
        finding.message
    )


def test_mc307_the_smtp_entry_and_its_senders_are_separate_logins(check: Check) -> None:
    # imap.gmail.com with a password, and smtp.gmail.com with the same account's password: two findings.
    source = edit(smtp_at("smtp.gmail.com"), imap_at("imap.gmail.com"), NO_SMTP_CREDENTIALS)
    assert where(check(source), "MC307") == [("warning", 6, 11), ("warning", 18, 7)]


def test_mc307_not_for_an_smtp_entry_without_authentication(check: Check) -> None:
    source = edit(
        smtp_at("smtp-relay.gmail.com"),
        NO_SMTP_CREDENTIALS,
        ("    encryption: starttls\n", "    encryption: starttls\n    authentication: none\n"),
    )
    assert only(check(source), "MC307") == []


@pytest.mark.parametrize(
    "keys",
    [
        (),
        GOOGLE_SERVICE_ACCOUNT,
        ("command: [oama, access, info@example.com]",),
        ("provider: google", "client_id: abc.apps.googleusercontent.com", "refresh_token: {env: GOOGLE_REFRESH}"),
    ],
)
def test_mc307_never_fires_for_oauth2_logins(check: Check, keys: tuple[str, ...]) -> None:
    for host in ("outlook.office365.com", "imap.gmail.com"):
        source = edit(
            smtp_at(host.replace("imap.", "smtp.").replace("outlook.", "smtp.")),
            imap_at(host),
            NO_SMTP_CREDENTIALS,
            base=with_oauth2(*keys),
        )
        result = check(source)
        assert only(result, "MC307") == []
        assert result.summary.errors == 0  # a valid oauth2 login, on its provider's hosts


@pytest.mark.parametrize("written", ["Outlook.Office365.COM", "outlook.office365.com.", "OUTLOOK.office365.com."])
def test_mc307_compares_the_normalised_host(check: Check, written: str) -> None:
    [finding] = only(check(edit(imap_at(written))), "MC307")
    assert "logs in to outlook.office365.com (Microsoft 365)" in finding.message

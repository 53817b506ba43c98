"""MC302: credentials would travel unencrypted.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc302_insecure.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its lines
are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import GOOGLE_SERVICE_ACCOUNT, NO_CONTACT, edit, with_oauth2
from conftest import Check, assert_fires_once, assert_passes, only, where

# VALID's smtp entry over `encryption: none` with `allow_insecure: true`, and without its own credentials (9-12).
SMTP_INSECURE = ("    encryption: starttls\n", "    encryption: none\n    allow_insecure: true\n")
NO_SMTP_CREDENTIALS = (
    "    credentials:\n      username: mailer@example.com\n      password: {env: SMTP_PASSWORD}\n"
    "      contact: IT desk\n",
    "",
)
IMAP_INSECURE = ("    encryption: ssl\n", "    encryption: none\n    allow_insecure: true\n")

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
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
        "MC302",
        edit(("    encryption: ssl\n", "    encryption: none\n    allow_insecure: true\n"), base=with_oauth2()),
        {},
        18,
        17,
        "/imap/0/encryption",
        id="MC302-imap-oauth2-despite-allow-insecure",
    ),
    pytest.param(
        "MC302",
        edit(SMTP_INSECURE, NO_SMTP_CREDENTIALS, base=with_oauth2()),
        {},
        7,
        17,
        "/smtp/0/encryption",
        id="MC302-smtp-senders-oauth2-despite-allow-insecure",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
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
    pytest.param("MC302", edit(SMTP_INSECURE, NO_SMTP_CREDENTIALS), {}, id="MC302-smtp-senders-passwords-allowed"),
    pytest.param("MC302", with_oauth2(), {}, id="MC302-oauth2-over-tls"),
    pytest.param(
        "MC302",
        edit(
            ("    encryption: starttls\n", "    encryption: none\n    authentication: none\n"),
            NO_SMTP_CREDENTIALS,
            base=with_oauth2(),
        ),
        {},
        id="MC302-smtp-without-authentication-oauth2-senders",
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


def test_mc302_on_smtp_only_when_it_logs_in(check: Check) -> None:
    source = edit(
        ("    encryption: starttls\n", "    encryption: none\n    authentication: none\n"),
        NO_CONTACT,
    )
    result = check(source)
    assert only(result, "MC302") == []
    assert where(result, "MC304") == [("warning", 10, 5)]


# ---------------------------------------------------------------------------------------------- oauth2


def test_mc302_an_oauth2_token_never_travels_unencrypted_whatever_allow_insecure_says(check: Check) -> None:
    result = check(edit(IMAP_INSECURE, base=with_oauth2()))
    [finding] = only(result, "MC302")
    assert finding.message == "imap account 'info' would send an OAuth2 access token without encryption"
    assert finding.hint == "use `encryption: starttls` or `ssl`; `allow_insecure` does not cover bearer tokens"


def test_mc302_smtp_with_its_own_oauth2_credentials(check: Check) -> None:
    source = edit(SMTP_INSECURE, base=with_oauth2(*GOOGLE_SERVICE_ACCOUNT, entry="smtp"))
    [finding] = only(check(source), "MC302")
    assert finding.message == "smtp entry 'outgoing' would send an OAuth2 access token without encryption"
    assert (finding.line, finding.column, finding.pointer) == (7, 17, "/smtp/0/encryption")


def test_mc302_smtp_whose_senders_use_oauth2(check: Check) -> None:
    [finding] = only(check(edit(SMTP_INSECURE, NO_SMTP_CREDENTIALS, base=with_oauth2())), "MC302")
    assert finding.message == "smtp entry 'outgoing' would send an OAuth2 access token without encryption"
    assert "`allow_insecure` does not cover bearer tokens" in (finding.hint or "")


def test_mc302_oauth2_without_allow_insecure_is_still_the_token_message(check: Check) -> None:
    source = edit(("    encryption: ssl\n", "    encryption: none\n"), base=with_oauth2())
    [finding] = only(check(source), "MC302")
    assert "OAuth2 access token" in finding.message

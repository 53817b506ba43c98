"""MC406: settings a known provider does not publish.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc406_provider_settings.py, the providers' published settings validator/provider_data.py (the
ISPDB snapshot and mailcfg's overlay). Snippets are tests/builders.py's ``VALID`` with a line or two changed
(its lines are listed there).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from builders import VALID, edit, imap_entry
from conftest import Check, assert_fires_once, assert_passes, only

from validator import engine, provider_data
from validator.accounts import Context
from validator.rules import mc402_port_nonstandard as mc402

SMTP_GMX = ("    host: smtp.example.com\n", "    host: mail.gmx.net\n")
IMAP_GMX = ("    host: imap.example.com\n", "    host: imap.gmx.net\n")
IMAP_WEB_DE = ("    host: imap.example.com\n", "    host: imap.web.de\n")
IMAP_MICROSOFT = ("    host: imap.example.com\n", "    host: outlook.office365.com\n")
SMTP_MICROSOFT = ("    host: smtp.example.com\n", "    host: smtp.office365.com\n")
# Google publishes 465 (implicit TLS) and 587 (STARTTLS); the snapshot has only 465, the overlay both.
SMTP_GMAIL = ("    host: smtp.example.com\n", "    host: smtp.gmail.com\n")
# VALID's smtp entry is the only `encryption: starttls`, its imap account the only `encryption: ssl`.
SMTP_PORT_25 = ("    encryption: starttls\n", "    encryption: starttls\n    port: 25\n")
IMAP_USERNAME = "      username: info@example.com\n"
SMTP_USERNAME = "      username: mailer@example.com\n"
SMTP_CREDENTIALS = (
    "    credentials:\n      username: mailer@example.com\n      password: {env: SMTP_PASSWORD}\n"
    "      contact: IT desk\n"
)


def _date() -> str:
    return provider_data.snapshot()[1]


# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param("MC406", edit(SMTP_GMX, SMTP_PORT_25), {}, 8, 11, "/smtp/0/port", id="MC406-smtp-port"),
    pytest.param(
        "MC406",
        edit(IMAP_GMX, ("    encryption: ssl\n", "    encryption: none\n")),
        {},
        18,
        17,
        "/imap/0/encryption",
        id="MC406-encryption-on-the-default-port",
    ),
    pytest.param(
        "MC406",
        edit(IMAP_GMX, (IMAP_USERNAME, "      username: info\n")),
        {},
        21,
        17,
        "/imap/0/credentials/username",
        id="MC406-imap-username",
    ),
    pytest.param(
        "MC406",
        edit(IMAP_WEB_DE),  # WEB.DE publishes the local part as the login: `info`, not info@example.com
        {},
        21,
        17,
        "/imap/0/credentials/username",
        id="MC406-imap-username-local-part",
    ),
    pytest.param(
        "MC406",
        edit(SMTP_GMX, (SMTP_USERNAME, "      username: mailer\n")),
        {},
        10,
        17,
        "/smtp/0/credentials/username",
        id="MC406-smtp-username-no-address",
    ),
    pytest.param(
        "MC406",
        edit(IMAP_MICROSOFT, ("    encryption: ssl\n", "    encryption: starttls\n    port: 143\n")),
        {},
        19,
        11,
        "/imap/0/port",
        id="MC406-overlay-provider",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC406", edit(IMAP_GMX), {}, id="MC406-published-imap-993-ssl"),
    pytest.param("MC406", edit(SMTP_GMX), {}, id="MC406-published-smtp-587-starttls"),
    pytest.param("MC406", edit(SMTP_GMAIL), {}, id="MC406-overlay-gmail-587-starttls"),
    pytest.param(
        "MC406",
        edit(IMAP_GMX, ("    encryption: ssl\n", "    encryption: starttls\n    port: 143\n")),
        {},
        id="MC406-the-other-published-setting",
    ),
    pytest.param(
        "MC406",
        edit(("    encryption: starttls\n", "    encryption: starttls\n    port: 25\n")),
        {},
        id="MC406-unknown-host",
    ),
    pytest.param(
        "MC406",
        edit(("    host: smtp.example.com\n", "    host: mail.kanzlei-muster.de\n"), SMTP_PORT_25),
        {},
        id="MC406-unknown-host-outside-the-reserved-names",
    ),
    pytest.param(
        "MC406",
        edit(SMTP_GMX, ("    encryption: starttls\n", "    encryption: ssl\n    port: 587\n")),
        {},
        id="MC406-a-contradicting-port-is-MC401",
    ),
    pytest.param(
        "MC406",
        edit(("    host: imap.example.com\n", "    host: IMAP.GMX.Net\n")),
        {},
        id="MC406-host-in-upper-case",
    ),
    pytest.param("MC406", edit(IMAP_GMX, (IMAP_USERNAME, "      username: INFO@Example.com\n")), {}, id="MC406-case"),
    pytest.param(
        "MC406", edit(IMAP_WEB_DE, (IMAP_USERNAME, "      username: info\n")), {}, id="MC406-local-part-login"
    ),
    pytest.param(
        "MC406",
        edit(("    host: smtp.example.com\n", "    host: smtp.web.de\n")),
        {},
        id="MC406-smtp-username-checked-only-where-the-login-is-the-address",
    ),
    pytest.param("MC406", edit(SMTP_MICROSOFT, SMTP_PORT_25), {}, id="MC406-microsoft-smtp-port-25"),
    pytest.param("MC406", edit(SMTP_GMX, (SMTP_CREDENTIALS, "")), {}, id="MC406-smtp-without-credentials"),
    pytest.param(
        "MC406",
        edit(("    host: smtp.example.com\n", "    host: imap.gmx.net\n"), SMTP_PORT_25),
        {},
        id="MC406-a-host-known-for-the-other-protocol",
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


# --- messages and hints -------------------------------------------------------------------------------------------


def test_a_contradicting_port_names_the_published_settings_and_the_snapshot_date(check: Check) -> None:
    (finding,) = only(check(edit(SMTP_GMX, SMTP_PORT_25)), "MC406")
    assert finding.message == (
        "smtp port 25 with `encryption: starttls` is not a setting GMX Freemail publishes for mail.gmx.net"
    )
    assert finding.hint == f"published: mail.gmx.net 465 ssl, mail.gmx.net 587 starttls (ISPDB snapshot of {_date()})"
    assert _date() == "2026-03-12"
    assert finding.severity.value == "warning"
    assert finding.account == "outgoing"


def test_without_a_port_the_finding_names_the_default_port(check: Check) -> None:
    (finding,) = only(check(edit(IMAP_GMX, ("    encryption: ssl\n", "    encryption: none\n"))), "MC406")
    assert finding.message == (
        "imap `encryption: none` (port 143 by default) is not a setting GMX Freemail publishes for imap.gmx.net"
    )
    assert finding.hint == f"published: imap.gmx.net 993 ssl, imap.gmx.net 143 starttls (ISPDB snapshot of {_date()})"


def test_an_overlay_provider_names_the_overlay_and_its_date(check: Check) -> None:
    source = edit(IMAP_MICROSOFT, ("    encryption: ssl\n", "    encryption: starttls\n    port: 143\n"))
    (finding,) = only(check(source), "MC406")
    assert finding.message == (
        "imap port 143 with `encryption: starttls` is not a setting Microsoft 365 publishes for outlook.office365.com"
    )
    assert finding.hint == "published: outlook.office365.com 993 ssl (mailcfg's provider overlay, checked 2026-12-01)"


def test_an_imap_username_gets_the_login_the_template_gives(check: Check) -> None:
    (finding,) = only(check(edit(IMAP_WEB_DE)), "MC406")
    assert finding.message == (
        "imap account 'info' logs in as 'info@example.com', but WEB.DE Freemail's login for info@example.com at "
        "imap.web.de is 'info'"
    )
    assert finding.hint == (
        f"the login form WEB.DE Freemail publishes is %EMAILLOCALPART% (ISPDB snapshot of {_date()}): `username: info`"
    )


def test_an_smtp_username_that_is_no_address(check: Check) -> None:
    (finding,) = only(check(edit(SMTP_GMX, (SMTP_USERNAME, "      username: mailer\n"))), "MC406")
    assert finding.message == (
        "smtp entry 'outgoing' logs in as 'mailer', which is no e-mail address; GMX Freemail logs in with the full "
        "address at mail.gmx.net"
    )
    assert finding.hint == (
        "write the mailbox's address as `username` (the login form GMX Freemail publishes is %EMAILADDRESS%, "
        f"ISPDB snapshot of {_date()})"
    )


def test_a_wrong_port_and_a_wrong_login_are_two_findings_on_two_keys(check: Check) -> None:
    source = edit(SMTP_GMX, SMTP_PORT_25, (SMTP_USERNAME, "      username: mailer\n"))
    assert sorted(finding.pointer for finding in only(check(source), "MC406")) == [
        "/smtp/0/credentials/username",
        "/smtp/0/port",
    ]


def test_every_account_on_a_provider_host_is_checked(check: Check) -> None:
    source = edit(IMAP_GMX) + imap_entry(host="imap.gmx.net", username="anna", encryption="starttls")
    found = only(check(source), "MC406")
    assert [(finding.account, finding.pointer) for finding in found] == [("anna-mail", "/imap/1/credentials/username")]


# --- MC406 replaces MC402 on a known provider's host ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "host", "port", "encryption"),
    [
        ("smtp", "mail.gmx.net", 2525, "starttls"),
        ("smtp", "mail.gmx.net", 25, "starttls"),
        ("smtp", "mail.gmx.net", 10465, "ssl"),
        ("smtp", "smtp.office365.com", 2587, "starttls"),
        ("imap", "imap.gmx.net", 1143, "starttls"),
        ("imap", "imap.gmx.net", 10993, "ssl"),
        ("imap", "outlook.office365.com", 1993, "ssl"),
        ("imap", "imap.example.com", 1993, "ssl"),
        ("smtp", "smtp.example.com", 2525, "starttls"),
    ],
)
def test_mc402_and_mc406_never_both_for_one_entry(
    check: Check, kind: str, host: str, port: int, encryption: str
) -> None:
    if kind == "smtp":
        source = edit(("    host: smtp.example.com\n", f"    host: {host}\n"), SMTP_PORT_25)
        source = source.replace("    port: 25\n", f"    port: {port}\n").replace(
            "    encryption: starttls\n", f"    encryption: {encryption}\n"
        )
    else:
        source = edit(
            ("    host: imap.example.com\n", f"    host: {host}\n"),
            ("    encryption: ssl\n", f"    encryption: {encryption}\n    port: {port}\n"),
        )
    result = check(source)
    port_findings = [f.rule for f in result.findings if f.rule in {"MC402", "MC406"} and f.pointer == f"/{kind}/0/port"]
    known = provider_data.by_host(kind, host) is not None
    assert port_findings == (["MC406"] if known else ["MC402"])


def test_mc402_reads_no_provider_data_for_standard_ports(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(VALID, encoding="utf-8")
    _, accounts = engine.analyse(engine.CheckOptions(paths=(str(path),)))
    provider_data._index.cache_clear()
    try:
        assert list(mc402.check(accounts, Context(today=datetime.date(2026, 12, 1)))) == []
        assert provider_data._index.cache_info().currsize == 0
    finally:
        provider_data._index.cache_clear()

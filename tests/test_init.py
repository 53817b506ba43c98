"""`mailcfg init ADDRESS...` from the bundled provider data: what it writes, and that the result checks clean.

Every document is checked with the real engine: no error, and only the warnings the placeholders cause (MC407).
The online lookup (`--online`) is tested against local servers in tests/test_init_online.py.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import Cli
from hypothesis import given
from hypothesis import strategies as st

from validator import engine, init, provider_data, suppress
from validator.errors import UsageError
from validator.placeholders import DOMAIN_PLACEHOLDER

MODELINE = "# yaml-language-server: $schema=schema/accounts.schema.json"
SNAPSHOT_DATE = provider_data.snapshot()[1]


def run_init(cli: Cli, *args: str) -> tuple[str, dict[str, Any]]:
    code, out, err = cli("init", *args)
    assert (code, err) == (0, ""), err
    return out, yaml.safe_load(out)


def comments(out: str) -> str:
    """The comment lines of ``out`` joined into one text (the writer wraps them at 110 characters)."""
    return " ".join(line.strip().removeprefix("# ") for line in out.splitlines() if line.strip().startswith("#"))


def findings(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    """(rule, JSON pointer) of every finding `mailcfg check` makes for ``text``; asserts there is no error."""
    path = tmp_path / "accounts.yaml"
    path.write_text(text, encoding="utf-8")
    result = engine.run(engine.CheckOptions(paths=(str(path),)))
    assert [(f.rule, f.message) for f in result.findings if f.severity.value == "error"] == []
    return [(f.rule, f.pointer or "") for f in result.findings]


# (address, smtp host, port, encryption, imap host, port, encryption, username, variable)
PUBLISHED = [
    pytest.param(
        "info@gmx.de", "mail.gmx.net", 465, "ssl", "imap.gmx.net", 993, "ssl", "info@gmx.de",
        "MAILCFG_INFO_GMX_DE_PASSWORD", id="gmx",
    ),
    pytest.param(
        "anna.muster@web.de", "smtp.web.de", 465, "ssl", "imap.web.de", 993, "ssl", "anna.muster",
        "MAILCFG_ANNA_MUSTER_WEB_DE_PASSWORD", id="web.de",
    ),
    pytest.param(
        "info@t-online.de", "securesmtp.t-online.de", 465, "ssl", "secureimap.t-online.de", 993, "ssl",
        "info@t-online.de", "MAILCFG_INFO_T_ONLINE_DE_PASSWORD", id="t-online",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("address", "smtp_host", "smtp_port", "smtp_tls", "imap_host", "imap_port", "imap_tls", "username", "variable"),
    PUBLISHED,
)
def test_init_writes_the_published_settings_and_checks_clean(
    cli: Cli,
    tmp_path: Path,
    address: str,
    smtp_host: str,
    smtp_port: int,
    smtp_tls: str,
    imap_host: str,
    imap_port: int,
    imap_tls: str,
    username: str,
    variable: str,
) -> None:
    out, document = run_init(cli, address)
    assert out.startswith(MODELINE + "\n")
    [smtp] = document["smtp"]
    [imap] = document["imap"]
    assert (smtp["host"], smtp["port"], smtp["encryption"]) == (smtp_host, smtp_port, smtp_tls)
    assert "credentials" not in smtp  # each account sends with its own login
    assert smtp["test_recipient"] == address
    assert (imap["host"], imap["port"], imap["encryption"]) == (imap_host, imap_port, imap_tls)
    assert imap["address"] == address
    assert imap["outgoing"] == smtp["id"]
    assert imap["credentials"]["username"] == username
    assert imap["credentials"]["password"] == {"env": variable}
    assert imap["credentials"]["contact"].startswith("<CHANGE ME: ")
    # the only findings: the placeholder for the contact (MC407); no MC406, MC402, MC405, MC305
    assert findings(tmp_path, out) == [("MC407", "/imap/0/credentials/contact")]
    assert f"Thunderbird's ISPDB (snapshot of {SNAPSHOT_DATE})" in comments(out)


def test_init_role_address_is_a_system_account(cli: Cli) -> None:
    _, document = run_init(cli, "info@gmx.de")
    assert document["imap"][0]["scope"] == "system"
    assert "user" not in document["imap"][0]
    assert "users" not in document


def test_init_personal_address_has_its_user(cli: Cli) -> None:
    _, document = run_init(cli, "anna.muster@web.de", "kontakt@web.de")
    assert document["users"] == [{"id": "anna-muster", "name": "Anna Muster"}]
    anna, kontakt = document["imap"]
    assert (anna["scope"], anna["user"], anna["name"]) == ("user", "anna-muster", "Anna Muster")
    assert (kontakt["scope"], "user" in kontakt) == ("system", False)


def test_init_t_online_comments_say_what_to_do_first(cli: Cli) -> None:
    out, _ = run_init(cli, "info@t-online.de")
    text = comments(out)
    assert "t-online, for info@t-online.de: the settings published in Thunderbird's ISPDB" in text
    assert "Before the first login (de): Sie müssen ein E-Mail-Passwort einrichten." in text
    assert "Where to do it: https://www.telekom.de/hilfe/apps-dienste/e-mail/programme/passwort-verwalten" in text
    docs = "https://www.telekom.de/hilfe/apps-dienste/e-mail/einstellungen/posteingang-postausgang-server"
    assert f"Documentation: {docs}" in text
    assert (
        "`mailcfg verify --allow-env 'MAILCFG_*' --allow-host secureimap.t-online.de,securesmtp.t-online.de`" in text
    )


def test_init_gmail_writes_an_oauth2_account(cli: Cli, tmp_path: Path) -> None:
    out, document = run_init(cli, "info@gmail.com")
    [imap] = document["imap"]
    credentials = imap["credentials"]
    assert "password" not in credentials
    assert credentials["oauth2"] == {
        "provider": "google",
        "service_account": {"env": "MAILCFG_GMAIL_COM_GOOGLE_SERVICE_ACCOUNT"},
    }
    assert (imap["host"], document["smtp"][0]["host"]) == ("imap.gmail.com", "smtp.gmail.com")
    assert "Google refuses IMAP and SMTP login with the account password" in comments(out)
    assert "--allow-host imap.gmail.com,oauth2.googleapis.com,smtp.gmail.com" in out
    rules = findings(tmp_path, out)
    assert ("MC307", "/imap/0/credentials/password") not in rules
    assert {rule for rule, _ in rules} == {"MC407"}


def test_init_outlook_com_signs_in_at_consumers(cli: Cli, tmp_path: Path) -> None:
    out, document = run_init(cli, "anna@outlook.com")
    oauth2 = document["imap"][0]["credentials"]["oauth2"]
    assert (oauth2["provider"], oauth2["tenant"]) == ("microsoft", "consumers")
    assert oauth2["refresh_token"] == {"env": "MAILCFG_ANNA_OUTLOOK_COM_REFRESH_TOKEN"}
    assert oauth2["client_id"].startswith("<CHANGE ME: ")
    assert sorted(findings(tmp_path, out)) == [
        ("MC407", "/imap/0/credentials/contact"),
        ("MC407", "/imap/0/credentials/oauth2/client_id"),
    ]


def test_init_microsoft_365_tenant_placeholder_passes_the_schema_and_is_mc407(cli: Cli, tmp_path: Path) -> None:
    # MIT's mailboxes are at Exchange Online (outlook.office365.com, OAuth2 only): a tenant to fill in.
    out, document = run_init(cli, "info@mit.edu", "anna@mit.edu")
    info, anna = (item["credentials"]["oauth2"] for item in document["imap"])
    assert info["tenant"] == anna["tenant"] == DOMAIN_PLACEHOLDER
    assert info["client_secret"] == {"env": "MAILCFG_MIT_EDU_M365_CLIENT_SECRET"}  # app-only for the shared mailbox
    assert anna["refresh_token"] == {"env": "MAILCFG_ANNA_MIT_EDU_REFRESH_TOKEN"}  # delegated for a person's
    assert f"tenant: {DOMAIN_PLACEHOLDER}  # <CHANGE ME: the tenant: its domain (contoso.onmicrosoft.com)" in out
    assert ("MC407", "/imap/0/credentials/oauth2/tenant") in findings(tmp_path, out)


def test_init_several_addresses_of_one_provider_share_one_smtp_entry(cli: Cli, tmp_path: Path) -> None:
    out, document = run_init(cli, "info@gmx.de", "anna@gmx.net", "ben@gmx.de")
    [smtp] = document["smtp"]
    assert [item["outgoing"] for item in document["imap"]] == [smtp["id"]] * 3
    assert smtp["test_recipient"] == "info@gmx.de"
    assert "GMX Freemail, for info@gmx.de, anna@gmx.net, ben@gmx.de:" in comments(out)
    assert {rule for rule, _ in findings(tmp_path, out)} == {"MC407"}


def test_init_one_smtp_entry_per_provider_and_no_mc405(cli: Cli, tmp_path: Path) -> None:
    out, document = run_init(cli, "info@gmx.de", "info@web.de", "anna@gmx.de")
    assert [smtp["host"] for smtp in document["smtp"]] == ["mail.gmx.net", "smtp.web.de"]
    assert [imap["outgoing"] for imap in document["imap"]] == ["smtp-gmx-net", "smtp-web-de", "smtp-gmx-net"]
    assert "  - id: smtp-web-de  # mailcfg: ignore[MC405] one outgoing server per provider\n" in out
    assert {rule for rule, _ in findings(tmp_path, out)} == {"MC407"}  # MC405 answered inline, no MC007


def test_init_variable_names_and_ids_are_unique(cli: Cli, tmp_path: Path) -> None:
    out, document = run_init(cli, "a.b@gmx.de", "a-b@gmx.de", "a_b@gmx.de", "smtp@gmx.de")
    assert [item["credentials"]["password"]["env"] for item in document["imap"]] == [
        "MAILCFG_A_B_GMX_DE_PASSWORD",
        "MAILCFG_A_B_GMX_DE_2_PASSWORD",
        "MAILCFG_A_B_GMX_DE_3_PASSWORD",
        "MAILCFG_SMTP_GMX_DE_PASSWORD",
    ]
    ids = [item["id"] for section in ("smtp", "imap") for item in document[section]]
    assert len(set(ids)) == len(ids)
    assert [user["id"] for user in document["users"]] == ["a-b", "a-b-2", "a-b-3", "smtp"]
    assert {rule for rule, _ in findings(tmp_path, out)} == {"MC407"}


@pytest.mark.parametrize(
    "address",
    [
        "o'brien@gmx.de",
        "null@gmx.de",
        "yes@gmx.de",
        "a+b@gmx.de",
        "x#y@gmx.de",
        "a/b=c@gmx.de",
        "{x}@gmx.de",
        "jürgen.müller@gmx.de",
        "Info@GMX.DE",
    ],
)
def test_init_odd_but_valid_addresses_are_written_exactly(cli: Cli, tmp_path: Path, address: str) -> None:
    out, document = run_init(cli, address)
    local, _, domain = address.rpartition("@")
    [imap] = document["imap"]
    assert imap["address"] == imap["credentials"]["username"] == f"{local}@{domain.lower()}"
    for user in document.get("users", []):
        assert isinstance(user["id"], str)
        assert isinstance(user["name"], str)
    assert suppress.comments("accounts.yaml", out) == []
    assert {rule for rule, _ in findings(tmp_path, out)} <= {"MC407", "MC403"}


@pytest.mark.parametrize(
    "address",
    [
        "a@b.de\nversion: 2",
        "info@gmx.de\n  - id: x",
        "a@gmx.de # mailcfg: ignore[MC302]",
        "info@gmx.de\u202e",
        "not-an-address",
        "a@[127.0.0.1]",
        "@gmx.de",
        "",
    ],
)
def test_init_refuses_an_invalid_address_with_a_usage_error(cli: Cli, address: str) -> None:
    code, out, err = cli("init", address)
    assert (code, out) == (2, "")
    assert err.startswith("mailcfg: error: ")
    assert "is no valid e-mail address" in err
    assert err.count("\n") == 1  # the value is shown escaped, on the message's one line
    assert "\u202e" not in err


def test_init_unknown_domain_exits_2_and_suggests_online(cli: Cli) -> None:
    code, out, err = cli("init", "info@gmx.de", "info@firma.test", "ben@unbekannt.test")
    assert (code, out) == (2, "")
    assert "no provider is known for firma.test, unbekannt.test" in err
    assert "`mailcfg init --online`" in err


def test_init_needs_an_address_and_refuses_one_twice(cli: Cli) -> None:
    assert cli("init")[0] == 2
    code, _, err = cli("init", "info@gmx.de", "INFO@gmx.de")
    assert code == 2
    assert "'INFO@gmx.de' is given twice" in err


def test_init_output_file_is_never_overwritten_without_force(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "accounts.yaml"
    code, out, err = cli("init", "info@gmx.de", "--output", str(target))
    assert (code, out) == (0, "")
    assert f"wrote {target}" in err
    written = target.read_text(encoding="utf-8")
    assert written.startswith(MODELINE)
    assert cli("check", "--no-config", str(target))[0] == 0  # warnings only
    code, _, err = cli("init", "info@web.de", "--output", str(target))
    assert code == 2
    assert "exists; pass --force" in err
    assert target.read_text(encoding="utf-8") == written
    assert cli("init", "info@web.de", "--output", str(target), "--force")[0] == 0
    assert "smtp.web.de" in target.read_text(encoding="utf-8")


def test_init_output_into_a_missing_folder_is_a_path_error(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("init", "info@gmx.de", "--output", str(tmp_path / "no" / "such.yaml"))
    assert code == 2
    assert "--output" in err


def test_init_is_deterministic() -> None:
    today = datetime.date(2026, 12, 1)
    assert init.build(["info@gmx.de", "anna@gmail.com"], today=today) == init.build(
        ["info@gmx.de", "anna@gmail.com"], today=today
    )


def test_init_words_a_retirement_by_the_day() -> None:
    before = init.build(["info@outlook.com"], today=datetime.date(2022, 9, 1))
    after = init.build(["info@outlook.com"], today=datetime.date(2026, 12, 1))
    assert "with a password (Basic authentication) from October 2022" in comments(before)
    assert "with a password (Basic authentication) since October 2022" in comments(after)


@given(st.text(max_size=40))
def test_scalar_reads_back_as_exactly_the_string(value: str) -> None:
    text = f"key: {init.scalar(value)}\n"
    assert yaml.safe_load(text) == {"key": value}
    assert text.count("\n") == 1
    assert suppress.comments("t.yaml", text) == []


@given(st.text(max_size=200))
def test_comment_text_is_one_line_that_suppresses_nothing(value: str) -> None:
    line = "# " + init._comment_text(value)
    assert yaml.safe_load("version: 1\n" + line + "\n") == {"version": 1}
    assert suppress.comments("t.yaml", line) == []
    assert "\n" not in line


def test_names() -> None:
    assert init.env_name("jürgen.müller@gmx.de", suffix="PASSWORD") == "MAILCFG_JURGEN_MULLER_GMX_DE_PASSWORD"
    assert init.slug("Jürgen.Müller@GMX.de", "x") == "jurgen-muller-gmx-de"
    assert init.slug("___", "user") == "user"
    assert len(init.slug("a" * 100, "x")) == 60


def _tokens_only(token_url: str | None) -> init.Settings:
    """Settings as a domain's own autoconfig file could give them: OAuth2 only, at no provider mailcfg knows."""

    def server(protocol: str, host: str, port: int) -> provider_data.Server:
        return provider_data.Server(protocol, host, port, "ssl", "%EMAILADDRESS%", ("OAuth2",))

    return init.Settings(
        key="autoconfig:firma.test",
        name="Firma",
        imap=(server("imap", "imap.firma.test", 993),),
        smtp=(server("smtp", "smtp.firma.test", 465),),
        source="a test",
        oauth2={"token_url": token_url, "scopes": ("mail", "offline")} if token_url else None,
    )


def test_init_oauth2_only_elsewhere_is_a_generic_login_with_the_providers_token_url(tmp_path: Path) -> None:
    out = init.build(["anna@firma.test"], online=lambda _address: _tokens_only("https://login.firma.test/token"))
    assert yaml.safe_load(out)["imap"][0]["credentials"]["oauth2"] == {
        "provider": "generic",
        "token_url": "https://login.firma.test/token",
        "client_id": "<CHANGE ME: the application (client) id of the app registration>",
        "refresh_token": {"env": "MAILCFG_ANNA_FIRMA_TEST_REFRESH_TOKEN"},
        "scopes": ["mail", "offline"],
    }
    assert "--allow-host imap.firma.test,login.firma.test,smtp.firma.test" in out
    assert sorted(findings(tmp_path, out)) == [
        ("MC407", "/imap/0/credentials/contact"),
        ("MC407", "/imap/0/credentials/oauth2/client_id"),
    ]


def test_init_oauth2_without_a_token_url_gets_a_placeholder_url(tmp_path: Path) -> None:
    out = init.build(["anna@firma.test"], online=lambda _address: _tokens_only(None))
    oauth2 = yaml.safe_load(out)["imap"][0]["credentials"]["oauth2"]
    assert oauth2["token_url"] == f"https://{DOMAIN_PLACEHOLDER}/oauth2/token"
    assert ("MC407", "/imap/0/credentials/oauth2/token_url") in findings(tmp_path, out)


def test_init_refuses_a_provider_with_only_plain_text_servers() -> None:
    plain = provider_data.Server("imap", "imap.firma.test", 143, "none", "%EMAILADDRESS%", ("password-cleartext",))
    settings = init.Settings("x", "Firma", (plain,), (replace(plain, protocol="smtp", port=25),), "a test")
    with pytest.raises(UsageError, match=r"publishes only unencrypted IMAP servers .* no login over plain text"):
        init.build(["anna@firma.test"], online=lambda _address: settings)

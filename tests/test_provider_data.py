"""validator/provider_data.py: lookups by domain and host, the snapshot, username templates, the overlay.

The contract `mailcfg init` and MC406 are built on; the data is the shipped validator/data/ files (the ISPDB
snapshot of 2026-03-12 and mailcfg's overlay), and synthetic documents where a rule of the index is tested.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from validator import provider_data
from validator.provider_data import Provider, Server, by_domain, by_host, providers, snapshot, username_for

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "validator" / "data"
ENCRYPTIONS = {"ssl", "starttls", "none"}


def _overlay() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / "providers-overlay.json").read_text(encoding="utf-8"))
    return document


# --- by_domain ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["gmx.de", "GMX.DE", "gmx.de.", " gmx.de ", "anna.muster@gmx.de", "gmx.net"])
def test_by_domain_normalises_case_dot_and_address(domain: str) -> None:
    found = by_domain(domain)
    assert found is not None
    assert (found.id, found.name, found.source) == ("gmx.net", "GMX Freemail", "ispdb")


@pytest.mark.parametrize("domain", ["example.com", "", "mail.gmx.net", "de", "gmx.de.example.com"])
def test_by_domain_matches_whole_domains_only(domain: str) -> None:
    assert by_domain(domain) is None


def test_by_domain_finds_the_german_providers() -> None:
    found = {domain: getattr(by_domain(domain), "id", None) for domain in ("web.de", "t-online.de", "posteo.de")}
    assert found == {"web.de": "web.de", "t-online.de": "t-online.de", "posteo.de": "posteo.de"}
    assert getattr(by_domain("gmail.com"), "id", None) == "googlemail.com"


def test_by_domain_encodes_idna(monkeypatch: pytest.MonkeyPatch) -> None:
    index = provider_data._Index(
        {"snapshot": {"commit": "c" * 40, "date": "2026-01-01"}, "providers": {"m": {"domains": ["xn--mller-kva.de"]}}},
        {},
    )
    monkeypatch.setattr(provider_data, "_index", lambda: index)
    assert getattr(by_domain("info@MÜLLER.de"), "id", None) == "m"


# --- by_host ------------------------------------------------------------------------------------------------------


def test_by_host_knows_a_host_for_its_protocol_only() -> None:
    assert getattr(by_host("imap", "imap.gmx.net"), "id", None) == "gmx.net"
    assert getattr(by_host("smtp", "mail.gmx.net"), "id", None) == "gmx.net"
    assert getattr(by_host("imap", "IMAP.GMX.NET."), "id", None) == "gmx.net"
    assert by_host("smtp", "imap.gmx.net") is None
    assert by_host("imap", "mail.gmx.net") is None
    assert by_host("pop3", "pop.gmx.net") is None
    assert by_host("imap", "imap.example.com") is None


def test_a_host_several_providers_list_belongs_to_the_one_whose_domain_it_is_under() -> None:
    # imap.gmail.com is in googlemail.com and umich.edu; imap.aol.com in aol.com and verizon.net
    assert getattr(by_host("imap", "imap.gmail.com"), "id", None) == "googlemail.com"
    assert getattr(by_host("smtp", "smtp.aol.com"), "id", None) == "aol.com"


def test_template_hosts_are_listed_but_never_found() -> None:
    found = by_domain("mail.ee")
    assert found is not None
    assert any("%EMAILDOMAIN%" in server.host for server in found.smtp)
    assert by_host("smtp", "%EMAILDOMAIN%") is None


def test_published_lists_a_hosts_settings_in_the_data_order() -> None:
    gmx = by_host("smtp", "mail.gmx.net")
    assert gmx is not None
    assert [server.setting for server in gmx.published("smtp", "Mail.GMX.net")] == [
        "mail.gmx.net 465 ssl",
        "mail.gmx.net 587 starttls",
    ]
    assert gmx.published("imap", "mail.gmx.net") == ()
    assert gmx.servers("pop3") == ()


# --- the provider records -----------------------------------------------------------------------------------------


def test_t_online_as_a_record() -> None:
    found = by_domain("magenta.de")
    assert found is not None
    address = "%EMAILADDRESS%"
    assert found.imap == (Server("imap", "secureimap.t-online.de", 993, "ssl", address, ("password-cleartext",)),)
    assert found.smtp == (
        Server("smtp", "securesmtp.t-online.de", 465, "ssl", address, ("password-cleartext",)),
        Server("smtp", "securesmtp.t-online.de", 587, "starttls", address, ("password-cleartext",)),
    )
    assert found.instructions["de"].startswith("Sie müssen ein E-Mail-Passwort einrichten.")
    assert found.enable_url == "https://www.telekom.de/hilfe/apps-dienste/e-mail/programme/passwort-verwalten"
    assert found.docs == ("https://www.telekom.de/hilfe/apps-dienste/e-mail/einstellungen/posteingang-postausgang-server",)
    assert (found.oauth2, found.source, found.date, found.customer_domains, found.sources) == (
        None,
        "ispdb",
        "2026-03-12",
        False,
        (),
    )


def test_google_has_its_oauth2_block() -> None:
    google = by_host("smtp", "smtp.gmail.com")
    assert google is not None
    assert google.oauth2 is not None
    assert google.oauth2["issuer"] == "accounts.google.com"
    assert google.oauth2["scopes"][0] == "https://mail.google.com/"
    assert isinstance(google.oauth2["scopes"], tuple)
    assert google.oauth2["token_url"] == "https://www.googleapis.com/oauth2/v3/token"


def test_records_are_frozen_and_hashable() -> None:
    found = by_domain("gmx.de")
    assert found is not None
    assert hash(found) == hash(by_domain("gmx.net"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.name = "other"  # type: ignore[misc]
    assert found is by_domain("gmx.at")  # made once


def test_every_server_is_imap_or_smtp_with_mailcfg_encryption_and_no_pop3() -> None:
    servers = [server for provider in providers() for server in provider.imap + provider.smtp]
    assert len(servers) > 300
    assert {server.protocol for server in servers} == {"imap", "smtp"}
    assert {server.encryption for server in servers} == ENCRYPTIONS
    assert not {server.port for server in servers} & {110, 995}


def test_providers_lists_every_provider_by_id() -> None:
    ids = [provider.id for provider in providers()]
    assert ids == sorted(ids)
    assert len(ids) == 163 + 1  # the snapshot's, and mailbox.org from the overlay
    assert {"gmx.net", "web.de", "t-online.de", "mailbox.org", "office365.com"} <= set(ids)


# --- snapshot and licence -----------------------------------------------------------------------------------------


def test_snapshot_is_the_commit_and_date_the_data_file_records() -> None:
    assert snapshot() == ("c6ad79659b5fc321d1593ec4c277815b83e5dec5", "2026-03-12")
    document = json.loads((DATA / "providers.json").read_text(encoding="utf-8"))
    assert (document["snapshot"]["commit"], document["snapshot"]["date"]) == snapshot()


def test_the_data_carries_the_mpl_notice_and_the_licence_text() -> None:
    document = json.loads((DATA / "providers.json").read_text(encoding="utf-8"))
    assert "Mozilla Public License, v. 2.0" in document["licence"]
    assert "https://mozilla.org/MPL/2.0/" in document["licence"]
    assert "https://github.com/thunderbird/autoconfig" in document["licence"]
    assert (DATA / "LICENSE.ispdb").read_text(encoding="utf-8").startswith("Mozilla Public License Version 2.0\n")


# --- username_for -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "address", "expected"),
    [
        ("%EMAILADDRESS%", "anna.muster@web.de", "anna.muster@web.de"),
        ("%EMAILLOCALPART%", "anna.muster@web.de", "anna.muster"),
        ("%EMAILDOMAIN%", "anna.muster@web.de", "web.de"),
        ("%EMAILLOCALPART%.%EMAILDOMAIN%", "anna@example.net", "anna.example.net"),
        ("mail.%EMAILDOMAIN%", "anna@example.net", "mail.example.net"),
        ("%EMAILLOCALPART%", '"a@b"@example.net', '"a@b"'),  # the last @ splits
        ("%EMAILLOCALPART%", "no-at-sign", "no-at-sign"),
        ("%EMAILDOMAIN%", "no-at-sign", ""),
        ("fixed-login", "anna@example.net", "fixed-login"),
    ],
)
def test_username_for_fills_the_ispdb_placeholders(template: str, address: str, expected: str) -> None:
    assert username_for(template, address) == expected


# --- the overlay --------------------------------------------------------------------------------------------------


def test_every_overlay_entry_names_its_sources_and_the_day_it_was_checked() -> None:
    entries = _overlay()["providers"]
    assert {"mailbox.org", "office365.com"} <= set(entries)
    for ident, entry in entries.items():
        assert entry["sources"], ident
        assert all(re.fullmatch(r"https://[^\s]+", url) for url in entry["sources"]), ident
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["checked"]), ident


def test_overlay_names_are_normalised_as_the_index_expects() -> None:
    """The index takes the data's names as written (no work per name at load): lower case A-labels, no dot."""
    for ident, entry in _overlay()["providers"].items():
        names = list(entry.get("domains", ())) + [s["host"] for p in ("imap", "smtp") for s in entry.get(p, ())]
        for name in names:
            assert name.isascii(), (ident, name)
            assert name == name.lower(), (ident, name)
            assert not name.endswith("."), (ident, name)
        for protocol in ("imap", "smtp"):
            for server in entry.get(protocol, ()):
                assert server["encryption"] in ENCRYPTIONS, ident
                assert isinstance(server["port"], int), ident


def test_microsoft_365_from_the_overlay_is_found_by_host() -> None:
    microsoft = by_host("imap", "outlook.office365.com")
    assert microsoft is not None
    assert (microsoft.id, microsoft.name, microsoft.source, microsoft.customer_domains) == (
        "office365.com",
        "Microsoft 365",
        "overlay",
        True,
    )
    assert [server.setting for server in microsoft.imap] == ["outlook.office365.com 993 ssl"]
    assert [server.setting for server in microsoft.smtp] == [
        "smtp.office365.com 587 starttls",
        "smtp.office365.com 25 starttls",
    ]
    assert all(server.auth == ("OAuth2",) for server in microsoft.imap + microsoft.smtp)
    # fields the overlay does not give come from the snapshot's entry
    assert microsoft.oauth2 is not None
    assert microsoft.oauth2["issuer"] == "login.microsoftonline.com"
    assert "onmicrosoft.com" in microsoft.domains
    assert microsoft.date == "2026-12-01"
    assert microsoft.sources
    # outlook.com (hotmail.com) lists the same IMAP host: the overlay's entry holds it
    assert by_host("smtp", "smtp.office365.com") is microsoft


def test_mailbox_org_from_the_overlay() -> None:
    found = by_domain("someone@mailbox.org")
    assert found is not None
    assert found.source == "overlay"
    assert found.customer_domains
    assert [server.setting for server in found.imap] == ["imap.mailbox.org 993 ssl"]
    assert [server.setting for server in found.smtp] == ["smtp.mailbox.org 465 ssl", "smtp.mailbox.org 587 starttls"]
    assert by_host("smtp", "smtp.mailbox.org") is found


def _server(host: str, port: int = 993) -> dict[str, Any]:
    return {"host": host, "port": port, "encryption": "ssl", "username": "%EMAILADDRESS%", "auth": []}


def test_the_overlay_wins_for_its_id_its_domains_and_its_hosts() -> None:
    snapshot_data = {
        "snapshot": {"commit": "c" * 40, "date": "2026-01-01"},
        "providers": {
            "a.example": {"name": "A", "domains": ["a.example", "shared.example"], "imap": [_server("imap.a.example")]},
            "z.example": {"name": "Z", "domains": ["z.example"], "imap": [_server("imap.z.example")]},
        },
    }
    overlay_data = {
        "providers": {
            # replaces the fields it gives, keeps the others
            "z.example": {"name": "Z (checked)", "checked": "2026-02-02", "sources": ["https://z.example/help"]},
            # takes over a domain and a host of another snapshot provider
            "b.example": {
                "name": "B",
                "domains": ["shared.example"],
                "imap": [_server("imap.a.example", 143)],
                "checked": "2026-02-03",
                "sources": ["https://b.example/help"],
            },
        }
    }
    index = provider_data._Index(snapshot_data, overlay_data)
    z = index.get("z.example")
    assert z is not None
    assert (z.name, z.domains, z.source, z.date, z.sources) == (
        "Z (checked)",
        ("z.example",),
        "overlay",
        "2026-02-02",
        ("https://z.example/help",),
    )
    assert index.get(index.hosts[("imap", "imap.z.example")]) is z
    assert index.domains["shared.example"] == "b.example"
    assert index.domains["a.example"] == "a.example"
    assert index.hosts[("imap", "imap.a.example")] == "b.example"
    a = index.get("a.example")
    assert a is not None
    assert (a.source, a.date) == ("ispdb", "2026-01-01")
    assert list(index.entries) == ["a.example", "b.example", "z.example"]


def test_provider_is_the_documented_record() -> None:
    fields = [item.name for item in dataclasses.fields(Provider)]
    assert fields[:9] == ["id", "name", "domains", "imap", "smtp", "oauth2", "docs", "instructions", "source"]
    assert [item.name for item in dataclasses.fields(Server)] == [
        "protocol",
        "host",
        "port",
        "encryption",
        "username",
        "auth",
    ]


# --- loaded lazily ------------------------------------------------------------------------------------------------


def test_importing_reads_no_data_and_the_first_lookup_reads_it_once() -> None:
    code = (
        "import validator.provider_data as p\n"
        "print(p._index.cache_info().currsize)\n"
        "p.by_host('imap', 'imap.example.com'); p.by_domain('anna@example.org'); p.by_host('smtp', '192.0.2.1')\n"
        "print(p._index.cache_info().currsize)\n"
        "p.by_host('imap', 'imap.company.de'); p.by_domain('gmx.de')\n"
        "print(p._index.cache_info().currsize, p._index.cache_info().misses)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split() == ["0", "0", "1", "1"]


@pytest.mark.parametrize(
    "name",
    ["example.com", "mail.example.net", "imap.example.org", "host.test", "a.invalid", "localhost", "x.example",
     "192.0.2.1", "[2001:db8::1]", ""],
)
def test_reserved_names_and_addresses_belong_to_no_provider(name: str) -> None:
    assert by_host("imap", name) is None
    assert by_domain(name) is None


def test_the_check_stage_of_a_file_without_providers_imports_the_module_but_reads_nothing_until_asked() -> None:
    code = "import sys, validator.loader; print('validator.provider_data' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"

"""mailcfg export: the validated set as one normalised document (json, yaml), and Mozilla autoconfig files.

The document must be an account file itself (check clean, export again: the same bytes), carry secrets
as references only, and never be written for a set with static errors. Autoconfig files are parsed with
ElementTree and checked field by field.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml
from builders import M365_APP_ONLY, VALID, Cli, imap_entry, with_oauth2

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "accounts.example.yaml"
OAUTH2_EXAMPLE = ROOT / "accounts.oauth2.example.yaml"
README = ROOT / "README.md"
CANARY = "Canary-Secret-7f3a9c"

# Written the way people write: several files and documents, not sorted by id, flow style, quoting,
# defaults left out, non-ASCII text, strings that YAML 1.1 would read as something else when unquoted.
# (The smtp entries stay in id order: MC405 names the second one, and the round trip compares findings.)
SPLIT = {
    "accounts/smtp.yaml": """\
        version: 1
        smtp:
          - id: outgoing
            name: Postausgangsserver für alle
            host: smtp.example.com
            encryption: starttls
            credentials: {username: mailer@example.com, password: {env: SMTP_PASSWORD}, contact: "IT <it@example.com>"}
            test_recipient: it@example.com
          - id: relay
            name: "on"
            host: relay.example.com
            encryption: none
            authentication: none
            test_recipient: it@example.com
        """,
    "accounts/mailboxes/all.yml": """\
        version: 1
        imap:
          - id: info
            scope: system
            address: info@example.com
            host: imap.example.com
            port: 143
            encryption: starttls
            outgoing: relay
            sent_folder: "yes"
            credentials:
              username: info@example.com
              password: {env: IMAP_INFO_PASSWORD}
              contact: IT
        ---
        version: 1
        users:
          - {id: anna, name: "Anna Muster: Vertrieb"}
        imap:
          - id: anna-mail
            scope: user
            user: anna
            address: anna.muster@example.com
            host: imap.example.com
            encryption: ssl
            outgoing: outgoing
            sent_folder: "0465"
            credentials:
              username: anna.muster@example.com
              password: {env: IMAP_ANNA_PASSWORD}
              contact: Anna
        """,
}
# A personal account in a set that names no users (so MC203 does not apply): the export must keep it so.
NO_USERS = {
    "accounts.yaml": VALID.replace("users:\n  - id: anna\n", "").replace("scope: system", "scope: user\n    user: anna")
}
# Every other OAuth2 flow (the shipped oauth2 example has client credentials and a service account): a refresh
# token with its own scopes and OAUTHBEARER on the smtp entry, a command on the imap account.
OAUTH2_FLOWS = {
    "accounts.yaml": with_oauth2(
        "command: [oama, access, info@example.com]",
        base=with_oauth2(
            "provider: google",
            "client_id: 000000000000-abc.apps.googleusercontent.com",
            "client_secret: {env: GOOGLE_CLIENT_SECRET}",
            "refresh_token: {env: MAILER_REFRESH_TOKEN}",
            "scopes: [https://mail.google.com/]",
            "mechanism: oauthbearer",
            entry="smtp",
        ),
    )
}
SETS = {
    "example": {"accounts.yaml": EXAMPLE.read_text(encoding="utf-8")},
    "oauth2-example": {"accounts.yaml": OAUTH2_EXAMPLE.read_text(encoding="utf-8")},
    "split": SPLIT,
    "no-users": NO_USERS,
    "oauth2-flows": OAUTH2_FLOWS,
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run in an empty directory: no configuration file of the surroundings applies."""
    monkeypatch.chdir(tmp_path)


def write_set(directory: Path, files: dict[str, str]) -> list[str]:
    paths = []
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        paths.append(str(path))
    return paths


def findings(cli: Cli, *paths: str) -> tuple[int, list[tuple[str, str | None]], dict[str, int]]:
    """Exit code, (rule, account) of each finding, and the summary of `mailcfg check --format json`."""
    code, out, _ = cli("check", "--format", "json", *paths)
    report = json.loads(out)
    return code, sorted((item["rule"], item["account"]) for item in report["findings"]), report["summary"]


def inline_suppressed(cli: Cli, *paths: str) -> list[tuple[str, str | None]]:
    """(rule, account) of each finding an inline comment suppresses: the export keeps no comment, so they return."""
    report = json.loads(cli("check", "--format", "json", *paths)[1])
    return [(item["rule"], item["account"]) for item in report["suppressed"] if item["suppression"]["kind"] == "inline"]


# --- json and yaml -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("name", SETS)
def test_round_trip(cli: Cli, tmp_path: Path, name: str, fmt: str) -> None:
    """Export → write it to a .yaml file → check it (clean, the same findings) → export again: identical."""
    paths = write_set(tmp_path / "in", SETS[name])
    original_code, original, summary = findings(cli, *paths)
    assert (original_code, summary["errors"]) == (0, 0)

    code, exported, err = cli("export", "--format", fmt, *paths)
    assert (code, err) == (0, "")
    copy = tmp_path / "out" / "exported.yaml"  # JSON is YAML: the json export is checked as a .yaml file too
    copy.parent.mkdir()
    copy.write_text(exported, encoding="utf-8")

    code, again, summary = findings(cli, str(copy))
    assert (code, summary["errors"]) == (0, 0)
    # The same rules fire for the same accounts: nothing was lost or added (but the comments: an inline
    # suppression, such as the oauth2 example's of MC405, is a comment, and its finding returns).
    assert again == sorted(original + inline_suppressed(cli, *paths))
    document = _parse(fmt, exported)
    assert summary["accounts"] == len(document["smtp"]) + len(document["imap"])
    assert cli("export", "--format", fmt, str(copy)) == (0, exported, "")


def _parse(fmt: str, text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    return data


@pytest.mark.parametrize("name", SETS)
def test_json_and_yaml_exports_hold_the_same_document(cli: Cli, tmp_path: Path, name: str) -> None:
    paths = write_set(tmp_path, SETS[name])
    documents = [_parse(fmt, cli("export", "--format", fmt, *paths)[1]) for fmt in ("json", "yaml")]
    assert documents[0] == documents[1]
    assert cli("export", *paths)[1] == cli("export", "--format", "json", *paths)[1]  # json is the default


def test_export_is_normalised(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("export", *write_set(tmp_path, SPLIT))
    assert code == 0
    document = json.loads(out)
    assert list(document) == ["version", "users", "smtp", "imap"]
    assert document["version"] == 1
    assert document["users"] == [{"id": "anna", "name": "Anna Muster: Vertrieb"}]
    assert document["smtp"] == [
        {
            "id": "outgoing",
            "name": "Postausgangsserver für alle",
            "host": "smtp.example.com",
            "port": 587,
            "encryption": "starttls",
            "authentication": "required",
            "credentials": {
                "username": "mailer@example.com",
                "password": {"env": "SMTP_PASSWORD"},
                "contact": "IT <it@example.com>",
            },
            "test_recipient": "it@example.com",
            "allow_insecure": False,
        },
        {
            "id": "relay",
            "name": "on",
            "host": "relay.example.com",
            "port": 25,
            "encryption": "none",
            "authentication": "none",
            "test_recipient": "it@example.com",
            "allow_insecure": False,
        },
    ]
    assert [entry["id"] for entry in document["imap"]] == ["anna-mail", "info"]
    anna, info = document["imap"]
    assert list(anna) == [
        "id", "scope", "user", "address", "host", "port", "encryption", "outgoing", "credentials", "sent_folder",
        "allow_insecure",
    ]  # fmt: skip
    assert (anna["port"], anna["sent_folder"], anna["allow_insecure"]) == (993, "0465", False)
    assert (info["port"], info["encryption"], info["sent_folder"]) == (143, "starttls", "yes")
    assert info["credentials"]["password"] == {"env": "IMAP_INFO_PASSWORD"}
    assert "user" not in info


def test_yaml_export_quotes_what_yaml_would_misread(cli: Cli, tmp_path: Path) -> None:
    _, out, _ = cli("export", "--format", "yaml", *write_set(tmp_path, SPLIT))
    assert out.startswith("# yaml-language-server: $schema=schema/accounts.schema.json\n")
    assert "name: 'on'\n" in out
    assert "sent_folder: '0465'\n" in out
    assert "sent_folder: 'yes'\n" in out
    assert "Postausgangsserver für alle" in out  # not escaped


def test_a_set_without_users_is_exported_without_users(cli: Cli, tmp_path: Path) -> None:
    paths = write_set(tmp_path, NO_USERS)
    document = json.loads(cli("export", *paths)[1])
    assert list(document) == ["version", "smtp", "imap"]
    assert document["imap"][0]["user"] == "anna"


def test_output_option_writes_the_document(cli: Cli, tmp_path: Path) -> None:
    paths = write_set(tmp_path, SETS["example"])
    target = tmp_path / "exported.json"
    assert cli("export", "--output", str(target), *paths) == (0, "", "")
    assert target.read_text(encoding="utf-8") == cli("export", *paths)[1]


# --- refused ---------------------------------------------------------------------------------------------------

BROKEN = VALID.replace("    encryption: starttls\n", "    encryption: tls\n", 1)


@pytest.mark.parametrize("fmt", ["json", "yaml", "autoconfig"])
def test_a_set_with_static_errors_is_not_exported(cli: Cli, tmp_path: Path, fmt: str) -> None:
    (path,) = write_set(tmp_path, {"accounts.yaml": BROKEN})
    target, out_dir = tmp_path / "exported", tmp_path / "site"
    code, out, err = cli("export", "--format", fmt, "--output", str(target), "--out", str(out_dir), path)
    assert (code, out) == (1, "")
    assert f"{path}:7:17: error[MC104]" in err
    assert err.endswith("mailcfg: not exported: the set has static errors\n")
    assert not target.exists()
    assert not out_dir.exists()


def test_warnings_do_not_stop_the_export(cli: Cli, tmp_path: Path) -> None:
    paths = write_set(tmp_path, SPLIT)
    code, found, summary = findings(cli, *paths)
    assert "MC405" in {rule for rule, _ in found}  # two smtp entries
    assert (code, summary["errors"]) == (0, 0)
    assert cli("export", *paths)[0] == 0


def test_autoconfig_needs_out(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("export", "--format", "autoconfig", *write_set(tmp_path, SETS["example"]))
    assert (code, out) == (2, "")
    assert "--format autoconfig needs --out DIR" in err


def test_unwritable_out_exits_2(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "site"
    blocker.write_text("a file, not a directory\n", encoding="utf-8")
    paths = write_set(tmp_path, SETS["example"])
    code, _, err = cli("export", "--format", "autoconfig", "--out", str(blocker / "sub"), *paths)
    assert code == 2
    assert "--out" in err


# --- autoconfig ----------------------------------------------------------------------------------------------

SMTP = """\
    version: 1
    smtp:
      - id: outgoing                # shared credentials: every account sends as mailer@
        host: smtp.example.com
        encryption: starttls
        credentials: {username: mailer@example.com, password: {env: SMTP_PASSWORD}, contact: IT}
        test_recipient: it@example.com
      - id: org-out                 # no shared credentials: each account logs in with its own
        host: mail.example.org
        port: 465
        encryption: ssl
        test_recipient: it@example.org
    """


def imap(key: str, address: str, host: str, encryption: str, outgoing: str, username: str) -> str:
    """A shared mailbox (scope system) whose password is in IMAP_<KEY>_PASSWORD."""
    password = f"IMAP_{key.upper().replace('-', '_')}_PASSWORD"
    return imap_entry(
        id=key,
        scope="system",
        user=None,
        address=address,
        host=host,
        encryption=encryption,
        outgoing=outgoing,
        password=password,
        username=username,
        contact="IT",
    )


COM = [
    imap("info", "info@example.com", "imap.example.com", "ssl", "outgoing", "info@example.com"),
    imap("sales", "Sales@Example.com", "IMAP.example.com", "ssl", "outgoing", "sales@example.com"),
]
ORG = [
    imap("office", "office@example.org", "mail.example.org", "starttls", "org-out", "office"),
    imap("billing", "billing@example.org", "mail.example.org", "starttls", "org-out", "billing"),
]
# example.net: its two accounts agree in all but one thing, so no single file can describe the domain.
NET = {
    "different servers": (
        [
            imap("net-a", "a@example.net", "imap1.example.net", "ssl", "outgoing", "a@example.net"),
            imap("net-b", "b@example.net", "imap2.example.net", "ssl", "outgoing", "b@example.net"),
        ],
        "its imap accounts use 2 different servers",
    ),
    "different smtp entries": (
        [
            imap("net-a", "a@example.net", "imap.example.net", "ssl", "outgoing", "a@example.net"),
            imap("net-b", "b@example.net", "imap.example.net", "ssl", "org-out", "b@example.net"),
        ],
        "its imap accounts send through different smtp entries",
    ),
    "different username patterns": (
        [
            imap("net-a", "a@example.net", "imap.example.net", "ssl", "outgoing", "a@example.net"),
            imap("net-b", "b@example.net", "imap.example.net", "ssl", "outgoing", "b"),
        ],
        "its accounts log in with usernames of different patterns",
    ),
}


def autoconfig_set(*entries: str) -> dict[str, str]:
    return {"accounts.yaml": textwrap.dedent(SMTP) + "imap:\n" + "".join(entries)}


def _server(element: ET.Element | None) -> dict[str, str | None]:
    assert element is not None
    return {"type": element.get("type"), **{child.tag: child.text for child in element}}


def parse(path: Path) -> dict[str, Any]:
    """Every field of one config-v1.1.xml, as plain data."""
    raw = path.read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(raw)
    assert (root.tag, root.attrib) == ("clientConfig", {"version": "1.1"})
    (provider,) = list(root)
    assert provider.tag == "emailProvider"
    assert [child.tag for child in provider] == [
        "domain", "displayName", "displayShortName", "incomingServer", "outgoingServer",
    ]  # fmt: skip
    return {
        "id": provider.get("id"),
        "domain": provider.findtext("domain"),
        "displayName": provider.findtext("displayName"),
        "displayShortName": provider.findtext("displayShortName"),
        "incoming": _server(provider.find("incomingServer")),
        "outgoing": _server(provider.find("outgoingServer")),
    }


def _provider(domain: str, incoming: dict[str, str | None], outgoing: dict[str, str | None]) -> dict[str, Any]:
    return {
        "id": domain,
        "domain": domain,
        "displayName": domain,
        "displayShortName": domain.split(".", maxsplit=1)[0],
        "incoming": {"type": "imap", **incoming},
        "outgoing": {"type": "smtp", **outgoing},
    }


def _written(out_dir: Path) -> set[str]:
    return {path.relative_to(out_dir).as_posix() for path in out_dir.rglob("*") if path.is_file()}


@pytest.mark.parametrize("case", NET)
def test_autoconfig_per_domain(cli: Cli, tmp_path: Path, case: str) -> None:
    entries, reason = NET[case]
    paths = write_set(tmp_path, autoconfig_set(*COM, *entries, *ORG))
    assert findings(cli, *paths)[2]["errors"] == 0
    code, out, err = cli("export", "--format", "autoconfig", "--out", "site", *paths)
    assert (code, err) == (0, "")
    assert out == (
        "wrote site/example.com/mail/config-v1.1.xml\n"
        f"skipped example.net: {reason}\n"
        "wrote site/example.org/mail/config-v1.1.xml\n"
    )
    site = tmp_path / "site"
    assert _written(site) == {"example.com/mail/config-v1.1.xml", "example.org/mail/config-v1.1.xml"}
    assert not (site / "example.net").exists()

    # username == address for every account (whatever the case): %EMAILADDRESS%. The smtp entry has shared
    # credentials, but an autoconfig file is public and for the users' own clients: never the shared login.
    assert parse(site / "example.com" / "mail" / "config-v1.1.xml") == _provider(
        "example.com",
        {
            "hostname": "imap.example.com",
            "port": "993",
            "socketType": "SSL",
            "authentication": "password-cleartext",
            "username": "%EMAILADDRESS%",
        },
        {
            "hostname": "smtp.example.com",
            "port": "587",
            "socketType": "STARTTLS",
            "authentication": "password-cleartext",
            "username": "%EMAILADDRESS%",
        },
    )
    assert "mailer@" not in (site / "example.com" / "mail" / "config-v1.1.xml").read_text(encoding="utf-8")
    # username == the local part: %EMAILLOCALPART%, and the smtp entry without credentials uses it too.
    assert parse(site / "example.org" / "mail" / "config-v1.1.xml") == _provider(
        "example.org",
        {
            "hostname": "mail.example.org",
            "port": "143",
            "socketType": "STARTTLS",
            "authentication": "password-cleartext",
            "username": "%EMAILLOCALPART%",
        },
        {
            "hostname": "mail.example.org",
            "port": "465",
            "socketType": "SSL",
            "authentication": "password-cleartext",
            "username": "%EMAILLOCALPART%",
        },
    )


def test_autoconfig_literal_username_plain_and_no_smtp_authentication(cli: Cli, tmp_path: Path) -> None:
    relay = (
        "  - id: relay\n    host: relay.example.de\n    encryption: none\n    authentication: none\n"
        "    test_recipient: it@example.de\n"
    )
    kontakt = imap("kontakt", "kontakt@example.de", "imap.example.de", "none", "relay", "k0815")
    text = autoconfig_set(kontakt)["accounts.yaml"]
    text = text.replace("imap:\n", relay + "imap:\n", 1) + "    allow_insecure: true\n"
    paths = write_set(tmp_path, {"accounts.yaml": text})
    assert findings(cli, *paths)[2]["errors"] == 0
    assert cli("export", "--format", "autoconfig", "--out", "site", *paths) == (
        0,
        "wrote site/example.de/mail/config-v1.1.xml\n",
        "",
    )
    assert parse(tmp_path / "site" / "example.de" / "mail" / "config-v1.1.xml") == _provider(
        "example.de",
        {
            "hostname": "imap.example.de",
            "port": "143",
            "socketType": "plain",
            "authentication": "password-cleartext",
            "username": "k0815",
        },
        {"hostname": "relay.example.de", "port": "25", "socketType": "plain", "authentication": "none"},
    )


# --- autoconfig and OAuth2 ---------------------------------------------------------------------------------


def test_autoconfig_says_oauth2_for_oauth2_logins(cli: Cli, tmp_path: Path) -> None:
    """The shipped oauth2 example: Microsoft 365 (the smtp entry's own oauth2 login) and Google Workspace (an smtp
    entry without credentials, so its login is each account's own: oauth2)."""
    paths = write_set(tmp_path, SETS["oauth2-example"])
    code, out, err = cli("export", "--format", "autoconfig", "--out", "site", *paths)
    assert (code, err) == (0, "")
    assert out == (
        "wrote site/contoso.onmicrosoft.com/mail/config-v1.1.xml\nwrote site/example.com/mail/config-v1.1.xml\n"
    )
    microsoft = parse(tmp_path / "site" / "contoso.onmicrosoft.com" / "mail" / "config-v1.1.xml")
    assert microsoft["incoming"] == {
        "type": "imap",
        "hostname": "outlook.office365.com",
        "port": "993",
        "socketType": "SSL",
        "authentication": "OAuth2",
        "username": "%EMAILADDRESS%",
    }
    assert microsoft["outgoing"] == {
        "type": "smtp",
        "hostname": "smtp.office365.com",
        "port": "587",
        "socketType": "STARTTLS",
        "authentication": "OAuth2",
        "username": "%EMAILADDRESS%",
    }
    google = parse(tmp_path / "site" / "example.com" / "mail" / "config-v1.1.xml")
    assert (google["incoming"]["authentication"], google["outgoing"]["authentication"]) == ("OAuth2", "OAuth2")
    assert google["outgoing"]["hostname"] == "smtp.gmail.com"


def test_autoconfig_outgoing_follows_the_smtp_login(cli: Cli, tmp_path: Path) -> None:
    """An oauth2 mailbox sending through an smtp entry whose own (shared) login is a password: OAuth2 in, the
    password method out."""
    paths = write_set(tmp_path, {"accounts.yaml": with_oauth2()})
    assert findings(cli, *paths)[2]["errors"] == 0
    code, _, err = cli("export", "--format", "autoconfig", "--out", "site", *paths)
    assert (code, err) == (0, "")
    config = parse(tmp_path / "site" / "example.com" / "mail" / "config-v1.1.xml")
    assert (config["incoming"]["authentication"], config["outgoing"]["authentication"]) == (
        "OAuth2",
        "password-cleartext",
    )
    text = (tmp_path / "site" / "example.com" / "mail" / "config-v1.1.xml").read_text(encoding="utf-8")
    # No oauth2 detail: the file is public, and a mail client knows its provider's OAuth2 settings itself.
    assert all(word not in text for word in ("M365_CLIENT_SECRET", "client_id", "tenant", "contoso"))


def test_autoconfig_password_smtp_login_stays_password(cli: Cli, tmp_path: Path) -> None:
    # And an smtp entry with an oauth2 login of its own says OAuth2 for a mailbox that logs in with a password.
    paths = write_set(tmp_path, {"accounts.yaml": with_oauth2(entry="smtp")})
    cli("export", "--format", "autoconfig", "--out", "site", *paths)
    config = parse(tmp_path / "site" / "example.com" / "mail" / "config-v1.1.xml")
    assert (config["incoming"]["authentication"], config["outgoing"]["authentication"]) == (
        "password-cleartext",
        "OAuth2",
    )


def test_autoconfig_skips_a_domain_whose_accounts_log_in_differently(cli: Cli, tmp_path: Path) -> None:
    source = with_oauth2() + imap_entry(address="anna@example.com")
    paths = write_set(tmp_path, {"accounts.yaml": source})
    assert findings(cli, *paths)[2]["errors"] == 0
    code, out, err = cli("export", "--format", "autoconfig", "--out", "site", *paths)
    assert (code, err) == (0, "")
    assert out == "skipped example.com: its accounts log in with different methods (OAuth2 and a password)\n"


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_an_oauth2_account_exports_every_key_it_has(cli: Cli, tmp_path: Path, fmt: str) -> None:
    paths = write_set(tmp_path, {"accounts.yaml": with_oauth2(*M365_APP_ONLY, "mechanism: oauthbearer")})
    code, out, _ = cli("export", "--format", fmt, *paths)
    assert code == 0
    (info,) = _parse(fmt, out)["imap"]
    assert info["credentials"] == {
        "username": "info@example.com",
        "oauth2": {
            "provider": "microsoft",
            "tenant": "contoso.onmicrosoft.com",
            "client_id": "00000000-0000-0000-0000-000000000000",
            "client_secret": {"env": "M365_CLIENT_SECRET"},
            "mechanism": "oauthbearer",
        },
        "contact": "IT desk",
    }


# --- secrets -----------------------------------------------------------------------------------------------------


def test_secrets_are_never_resolved(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sets = {**SETS, "autoconfig": autoconfig_set(*COM, *ORG)}
    texts = [text for files in sets.values() for text in files.values()]
    names = {name for text in texts for name in re.findall(r"\{env: ([A-Za-z_][A-Za-z0-9_]*)\}", text)}
    assert len(names) == 14  # the shipped examples' four and two, the test sets' eight
    for name in names:
        monkeypatch.setenv(name, CANARY)
    for key, files in sets.items():
        paths = write_set(tmp_path / key, files)
        for fmt in ("json", "yaml"):
            code, out, err = cli("export", "--format", fmt, *paths)
            assert code == 0
            assert CANARY not in out + err
            assert any(name in out for name in names)  # the references are there
        site = tmp_path / key / "site"
        code, out, err = cli("export", "--format", "autoconfig", "--out", str(site), *paths)
        assert code == 0
        assert CANARY not in out + err
        assert all(CANARY not in path.read_text(encoding="utf-8") for path in site.rglob("*.xml"))
    assert len(list((tmp_path / "autoconfig" / "site").rglob("*.xml"))) == 2
    # A plaintext password is refused, and not repeated while saying so.
    (path,) = write_set(tmp_path, {"plain.yaml": VALID.replace("{env: SMTP_PASSWORD}", CANARY)})
    for fmt in ("json", "yaml", "autoconfig"):
        code, out, err = cli("export", "--format", fmt, "--out", str(tmp_path / "plain"), path)
        assert code == 1
        assert "error[MC301]" in err
        assert CANARY not in out + err


# --- the README shows real output ----------------------------------------------------------------------------


def _code_blocks(text: str) -> list[str]:
    return [match[1] for match in re.finditer(r"(?ms)^```[a-z]*\n(.*?)^```$", text)]


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("\n## Export: mailcfg export\n", 1)[1].split("\n## ", 1)[0]


def test_readme_autoconfig_example_is_real_output(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "accounts.example.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = cli("export", "--format", "autoconfig", "--out", "public", "accounts.example.yaml")
    assert code == 0
    blocks = _code_blocks(_section())
    assert f"$ mailcfg export --format autoconfig --out public accounts.example.yaml\n{out}" in blocks
    assert (tmp_path / "public" / "example.com" / "mail" / "config-v1.1.xml").read_text(encoding="utf-8") in blocks
    assert f"skipped example.net: {NET['different servers'][1]}\n" in blocks

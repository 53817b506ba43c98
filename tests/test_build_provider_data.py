"""scripts/build_provider_data.py: ISPDB clientConfig files in, validator/data/providers.json out.

The input is tests/data/ispdb/: six files copied from the snapshot the shipped data comes from, with the
MPL-2.0 text beside them (tests/data/ispdb/SOURCE.md says which). A user's clone has no snapshot, so nothing
here reads one.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "build_provider_data.py"
ISPDB = Path(__file__).resolve().parent / "data" / "ispdb"
SHIPPED = ROOT / "validator" / "data" / "providers.json"
COMMIT = "c6ad79659b5fc321d1593ec4c277815b83e5dec5"
DATE = "2026-03-12"
MPL = "https://mozilla.org/MPL/2.0/"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_provider_data", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_provider_data = _script()


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=ROOT, check=False
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """The script's output for tests/data/ispdb (commit and date from its SOURCE.md): text and document."""
    output = tmp_path_factory.mktemp("built") / "providers.json"
    done = run(ISPDB, "--output", output)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {output}: 6 providers, 23 domains, {output.stat().st_size} bytes\n"
    text = output.read_text(encoding="utf-8")
    return text, json.loads(text)


def test_the_input_carries_its_licence() -> None:
    assert (ISPDB / "LICENSE").read_text(encoding="utf-8").startswith("Mozilla Public License Version 2.0\n")
    assert (ISPDB / "LICENSE").read_bytes() == (ROOT / "validator" / "data" / "LICENSE.ispdb").read_bytes()


def test_the_document_records_the_licence_notice_and_the_snapshot(built: tuple[str, dict[str, Any]]) -> None:
    _, document = built
    assert sorted(document) == ["format", "licence", "providers", "snapshot"]
    assert document["format"] == 1
    assert document["snapshot"] == {
        "repository": "https://github.com/thunderbird/autoconfig",
        "path": "ispdb/",
        "commit": COMMIT,
        "date": DATE,
    }
    licence = document["licence"]
    assert licence == (
        "Derived from the ISPDB, Mozilla Thunderbird's database of mail providers' published settings: the "
        f"ispdb/ folder of https://github.com/thunderbird/autoconfig at commit {COMMIT} ({DATE}). "
        "This Source Code Form is subject to the terms of the Mozilla Public License, v. 2.0. If a copy of the "
        f"MPL was not distributed with this file, You can obtain one at {MPL}. "
        "The licence text ships beside this file as LICENSE.ispdb."
    )


def test_one_provider_per_file_named_after_the_file(built: tuple[str, dict[str, Any]]) -> None:
    _, document = built
    assert list(document["providers"]) == [
        "gmx.net",
        "googlemail.com",
        "office365.com",
        "t-online.de",
        "uol.com.br",
        "web.de",
    ]
    assert all(entry["id"] == ident for ident, entry in document["providers"].items())


def test_gmx_field_by_field(built: tuple[str, dict[str, Any]]) -> None:
    gmx = built[1]["providers"]["gmx.net"]
    password = ["password-cleartext"]
    address = "%EMAILADDRESS%"
    assert gmx == {
        "id": "gmx.net",
        "name": "GMX Freemail",
        "domains": [
            "gmx.net",
            "gmx.de",
            "gmx.at",
            "gmx.ch",
            "gmx.eu",
            "gmx.biz",
            "gmx.org",
            "gmx.info",
            "mein.gmx",
            "mail.gmx",
            "email.gmx",
        ],
        # in the file's order; the pop3 servers between them are left out
        "imap": [
            {"host": "imap.gmx.net", "port": 993, "encryption": "ssl", "username": address, "auth": password},
            {"host": "imap.gmx.net", "port": 143, "encryption": "starttls", "username": address, "auth": password},
        ],
        "smtp": [
            {"host": "mail.gmx.net", "port": 465, "encryption": "ssl", "username": address, "auth": password},
            {"host": "mail.gmx.net", "port": 587, "encryption": "starttls", "username": address, "auth": password},
        ],
        "docs": ["https://hilfe.gmx.net/pop-imap/imap/imap-serverdaten.html"],
        "instructions": {
            "en": "You must allow access via POP3 & IMAP once in the e-mail settings of your account!",
            "de": "Sie müssen einmalig den Zugriff über POP3 & IMAP in den E-Mail-Einstellungen Ihres Kontos erlauben!",
        },
        "enable_url": "https://hilfe.gmx.net/pop-imap/einschalten.html",
    }


def test_t_online_keeps_its_password_instruction_in_both_languages(built: tuple[str, dict[str, Any]]) -> None:
    entry = built[1]["providers"]["t-online.de"]
    assert entry["name"] == "t-online"
    assert entry["domains"] == ["t-online.de", "magenta.de"]
    assert [(s["host"], s["port"], s["encryption"]) for s in entry["imap"]] == [("secureimap.t-online.de", 993, "ssl")]
    assert [(s["host"], s["port"], s["encryption"]) for s in entry["smtp"]] == [
        ("securesmtp.t-online.de", 465, "ssl"),
        ("securesmtp.t-online.de", 587, "starttls"),
    ]
    assert entry["instructions"]["de"].startswith("Sie müssen ein E-Mail-Passwort einrichten.")
    assert entry["instructions"]["en"].startswith("You need to set up an E-Mail-Password.")
    assert entry["enable_url"] == "https://www.telekom.de/hilfe/apps-dienste/e-mail/programme/passwort-verwalten"
    assert entry["docs"] == ["https://www.telekom.de/hilfe/apps-dienste/e-mail/einstellungen/posteingang-postausgang-server"]
    assert "oauth2" not in entry


def test_web_de_logs_in_with_the_local_part(built: tuple[str, dict[str, Any]]) -> None:
    entry = built[1]["providers"]["web.de"]
    assert {server["username"] for server in entry["imap"] + entry["smtp"]} == {"%EMAILLOCALPART%"}
    assert [(s["port"], s["encryption"]) for s in entry["imap"]] == [(993, "ssl"), (143, "starttls")]


def test_google_oauth2_and_enable_outside_the_provider_element(built: tuple[str, dict[str, Any]]) -> None:
    entry = built[1]["providers"]["googlemail.com"]
    assert entry["oauth2"] == {
        "issuer": "accounts.google.com",
        "scopes": [
            "https://mail.google.com/",
            "https://www.googleapis.com/auth/contacts",
            "https://www.googleapis.com/auth/calendar",
            "https://www.googleapis.com/auth/carddav",
        ],
        "auth_url": "https://accounts.google.com/o/oauth2/auth",
        "token_url": "https://www.googleapis.com/oauth2/v3/token",
    }
    assert entry["instructions"] == {"en": "You need to enable IMAP access"}
    assert entry["enable_url"] == "https://mail.google.com/mail/?ui=2&shva=1#settings/fwdandpop"
    assert entry["imap"][0]["auth"] == ["OAuth2", "password-cleartext"]
    assert len(entry["docs"]) == 4


def test_microsoft_keeps_imap_and_smtp_only(built: tuple[str, dict[str, Any]]) -> None:
    entry = built[1]["providers"]["office365.com"]
    assert entry["name"] == "Microsoft 365"
    login = {"username": "%EMAILADDRESS%", "auth": ["OAuth2"]}
    assert entry["imap"] == [{"host": "outlook.office365.com", "port": 993, "encryption": "ssl", **login}]
    assert entry["smtp"] == [{"host": "smtp.office365.com", "port": 587, "encryption": "starttls", **login}]
    assert entry["oauth2"]["token_url"] == "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    assert entry["docs"] == []
    assert entry["instructions"] == {}


def test_instructions_are_keyed_by_the_language_given(built: tuple[str, dict[str, Any]]) -> None:
    assert sorted(built[1]["providers"]["uol.com.br"]["instructions"]) == ["en-US", "pt-BR"]


def test_the_output_is_minified_sorted_and_deterministic(built: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    text, document = built
    assert text == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    assert text.count("\n") == 1
    assert "ü" in text  # UTF-8 as is, not \u escapes
    again = tmp_path / "again.json"
    assert run(ISPDB, "--output", again, "--commit", COMMIT, "--date", DATE).returncode == 0
    assert again.read_text(encoding="utf-8") == text


def test_commit_and_date_arguments_win_over_source_md(tmp_path: Path) -> None:
    output = tmp_path / "providers.json"
    assert run(ISPDB, "--output", output, "--commit", "ABCDEF1", "--date", "2027-01-02").returncode == 0
    document = json.loads(output.read_text(encoding="utf-8"))
    assert (document["snapshot"]["commit"], document["snapshot"]["date"]) == ("abcdef1", "2027-01-02")
    assert "at commit abcdef1 (2027-01-02)" in document["licence"]


def test_a_checkout_root_is_read_at_its_ispdb_folder(tmp_path: Path) -> None:
    folder = tmp_path / "autoconfig" / "ispdb"
    folder.mkdir(parents=True)
    for name in ("gmx.net.xml", "LICENSE"):
        shutil.copy(ISPDB / name, folder / name)
    shutil.copy(ISPDB / "gmx.net.xml", folder / "web.de")  # upstream names its files without .xml
    document = build_provider_data.build(tmp_path / "autoconfig", COMMIT, DATE)
    assert list(document["providers"]) == ["gmx.net", "web.de"]


def test_without_commit_or_date_the_script_refuses(tmp_path: Path) -> None:
    shutil.copy(ISPDB / "gmx.net.xml", tmp_path / "gmx.net.xml")
    output = tmp_path / "out.json"
    done = run(tmp_path, "--output", output, "--date", DATE)
    assert done.returncode == 1
    assert "the snapshot's commit is unknown: pass --commit" in done.stderr
    assert not output.exists()


def test_an_unknown_socket_type_is_refused(tmp_path: Path) -> None:
    text = (ISPDB / "gmx.net.xml").read_text(encoding="utf-8").replace("<socketType>SSL<", "<socketType>TLS<", 1)
    (tmp_path / "gmx.net.xml").write_text(text, encoding="utf-8")
    with pytest.raises(build_provider_data.BuildError, match=r"gmx.net.xml: incomingServer\[\d+\]: socketType 'TLS'"):
        build_provider_data.build(tmp_path, COMMIT, DATE)


def test_the_shipped_data_is_this_scripts_output_for_the_same_snapshot(built: tuple[str, dict[str, Any]]) -> None:
    """The copies in tests/data are files of the shipped snapshot: the script makes exactly the shipped entries
    from them, with the same notice, and the shipped file has the script's byte format."""
    shipped_text = SHIPPED.read_text(encoding="utf-8")
    shipped = json.loads(shipped_text)
    assert build_provider_data.dumps(shipped) == shipped_text
    _, document = built
    assert shipped["licence"] == document["licence"]
    assert shipped["snapshot"] == document["snapshot"]
    for ident, entry in document["providers"].items():
        assert shipped["providers"][ident] == entry, ident

"""Build validator/data/providers.json from a checkout of Thunderbird's ISPDB.

Usage: python scripts/build_provider_data.py ISPDB_DIR [--output PATH] [--commit SHA] [--date YYYY-MM-DD]

ISPDB_DIR is a checkout of https://github.com/thunderbird/autoconfig (its ``ispdb/`` folder is used) or that
folder itself: one ``clientConfig`` XML file per provider, named after the provider (with or without
``.xml``). The commit and date of the snapshot come from ``--commit`` and ``--date``, else from a
``SOURCE.md`` beside the files ("... at commit <sha> (<YYYY-MM-DD>)"); the data file records them.

The output is one compact JSON document (minified, keys sorted, the same bytes for the same input) that
mailcfg reads at run time through ``validator/provider_data.py``; the package never needs the snapshot
itself. It keeps, per provider: the id (the file name), the display name, the domains, the IMAP and SMTP
servers in the file's order (host, port, encryption as mailcfg writes it, username template,
authentication methods), the OAuth2 block, the documentation URLs, the "enable" instructions by language
and the page they point to. POP3 and the Exchange/EWS/Graph entries are left out.

The ISPDB files are MPL-2.0; the data file carries the MPL-2.0 notice (Exhibit A) naming its source, and
``validator/data/LICENSE.ispdb`` is the licence text.

The input is parsed with ``xml.etree.ElementTree``, not a hardened parser: it is a snapshot the
maintainer chose and points this script at, never data from a user or the network. Do not run this script
on files you do not trust.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "validator" / "data" / "providers.json"
REPOSITORY = "https://github.com/thunderbird/autoconfig"
MPL_URL = "https://mozilla.org/MPL/2.0/"
FORMAT = 1
# ISPDB's socketType -> mailcfg's `encryption`.
ENCRYPTION = {"SSL": "ssl", "STARTTLS": "starttls", "plain": "none"}
# The server types kept, by the element they are in.
KEPT = {("incomingServer", "imap"): "imap", ("outgoingServer", "smtp"): "smtp"}
_SOURCE = re.compile(r"commit\s+([0-9a-fA-F]{7,40})\s*\((\d{4}-\d{2}-\d{2})\)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_COMMIT = re.compile(r"[0-9a-fA-F]{7,40}\Z")


class BuildError(Exception):
    """The input does not make a data file; the message names the file and the element."""


def notice(commit: str, date: str) -> str:
    """The MPL-2.0 notice the data file carries: its source, and Exhibit A of the licence."""
    return (
        "Derived from the ISPDB, Mozilla Thunderbird's database of mail providers' published settings: the "
        f"ispdb/ folder of {REPOSITORY} at commit {commit} ({date}). "
        "This Source Code Form is subject to the terms of the Mozilla Public License, v. 2.0. If a copy of the "
        f"MPL was not distributed with this file, You can obtain one at {MPL_URL}. "
        "The licence text ships beside this file as LICENSE.ispdb."
    )


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _host(name: str) -> str:
    """A host name in lower case without a final dot; a template (``mail.%EMAILDOMAIN%``) keeps its placeholders."""
    text = name.strip().rstrip(".")
    return text if "%" in text else text.lower()


def _domain(name: str) -> str:
    text = name.strip().rstrip(".").lower()
    if text.isascii():
        return text
    import idna

    return idna.encode(text, uts46=True, transitional=False).decode("ascii")


def _server(element: ET.Element, where: str) -> dict[str, Any]:
    host = _host(_text(element.find("hostname")))
    port = _text(element.find("port"))
    socket = _text(element.find("socketType"))
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BuildError(f"{where}: a server without a hostname or a valid port")
    if socket not in ENCRYPTION:
        raise BuildError(f"{where}: socketType {socket!r} is none of {', '.join(ENCRYPTION)}")
    return {
        "host": host,
        "port": int(port),
        "encryption": ENCRYPTION[socket],
        "username": _text(element.find("username")),
        "auth": [_text(auth) for auth in element.findall("authentication") if _text(auth)],
    }


def _instructions(enable: ET.Element | None) -> dict[str, str]:
    """Each `instruction` by its language (``en`` when the element names none, as ISPDB's default)."""
    found: dict[str, str] = {}
    for instruction in enable.findall("instruction") if enable is not None else ():
        text = " ".join(_text(instruction).split())
        if text:
            found.setdefault(instruction.get("lang") or "en", text)
    return found


def _oauth2(block: ET.Element | None) -> dict[str, Any] | None:
    if block is None:
        return None
    oauth2: dict[str, Any] = {
        "issuer": _text(block.find("issuer")),
        "scopes": _text(block.find("scope")).split(),
        "auth_url": _text(block.find("authURL")),
        "token_url": _text(block.find("tokenURL")),
    }
    return {key: value for key, value in oauth2.items() if value}


def provider(path: Path) -> dict[str, Any]:
    """One provider from one clientConfig file; its id is the file name (without ``.xml``)."""
    ident = path.name.removesuffix(".xml")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise BuildError(f"{path.name}: {error}") from None
    providers = root.findall("emailProvider")
    if root.tag != "clientConfig" or len(providers) != 1:
        raise BuildError(f"{path.name}: not one clientConfig/emailProvider")
    (entry,) = providers
    servers: dict[str, list[dict[str, Any]]] = {"imap": [], "smtp": []}
    for index, element in enumerate(entry):
        kind = KEPT.get((element.tag, element.get("type", "")))
        if kind is not None:
            servers[kind].append(_server(element, f"{path.name}: {element.tag}[{index}]"))
    domains: list[str] = []
    for domain in entry.findall("domain"):
        name = _domain(_text(domain))
        if name and name not in domains:
            domains.append(name)
    # A documentation link is `documentation@url`; some files name theirs as `instruction@url` instead.
    docs: list[str] = []
    for element in [*entry.findall("documentation"), *entry.findall("instruction")]:
        url = (element.get("url") or "").strip()
        if url and url not in docs:
            docs.append(url)
    # `enable` and `oAuth2` sit inside emailProvider or beside it, depending on the file.
    enable = entry.find("enable")
    if enable is None:
        enable = root.find("enable")
    oauth2 = entry.find("oAuth2")
    if oauth2 is None:
        oauth2 = root.find("oAuth2")
    data: dict[str, Any] = {
        "id": ident,
        "name": _text(entry.find("displayName")) or ident,
        "domains": domains,
        "imap": servers["imap"],
        "smtp": servers["smtp"],
        "docs": docs,
        "instructions": _instructions(enable),
    }
    if enable is not None and (enable.get("visiturl") or "").strip():
        data["enable_url"] = (enable.get("visiturl") or "").strip()
    found = _oauth2(oauth2)
    if found:
        data["oauth2"] = found
    return data


def _files(folder: Path) -> list[Path]:
    """The clientConfig files of ``folder``: every file whose text starts a clientConfig document."""
    files = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        with path.open("rb") as handle:
            head = handle.read(512)
        if b"<clientConfig" in head:
            files.append(path)
    return files


def snapshot_of(folder: Path, commit: str | None, date: str | None) -> tuple[str, str]:
    """The snapshot's commit and date: the arguments, else what SOURCE.md beside the files says."""
    source = folder / "SOURCE.md"
    if (commit is None or date is None) and source.is_file():
        match = _SOURCE.search(" ".join(source.read_text(encoding="utf-8").split()))
        if match:
            commit = commit or match.group(1)
            date = date or match.group(2)
    if commit is None or not _COMMIT.match(commit):
        raise BuildError("the snapshot's commit is unknown: pass --commit SHA (or keep SOURCE.md beside the files)")
    if date is None or not _DATE.match(date):
        raise BuildError("the snapshot's date is unknown: pass --date YYYY-MM-DD (or keep SOURCE.md beside the files)")
    return commit.lower(), date


def build(folder: Path, commit: str | None = None, date: str | None = None) -> dict[str, Any]:
    """The data document for the ISPDB files in ``folder`` (or in its ``ispdb/`` subfolder)."""
    if (folder / "ispdb").is_dir():
        folder = folder / "ispdb"
    commit, date = snapshot_of(folder, commit, date)
    files = _files(folder)
    if not files:
        raise BuildError(f"{folder}: no clientConfig files")
    providers = [provider(path) for path in files]
    ids = [entry["id"] for entry in providers]
    if len(set(ids)) != len(ids):
        raise BuildError("two files name the same provider id")
    return {
        "format": FORMAT,
        "licence": notice(commit, date),
        "snapshot": {"repository": REPOSITORY, "path": "ispdb/", "commit": commit, "date": date},
        "providers": {entry["id"]: entry for entry in providers},
    }


def dumps(document: dict[str, Any]) -> str:
    """Minified, keys sorted, UTF-8 text as is: the same document always gives the same bytes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("ispdb", type=Path, metavar="ISPDB_DIR", help="a checkout of thunderbird/autoconfig")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default: {DEFAULT_OUTPUT}")
    parser.add_argument("--commit", help="the snapshot's commit (default: from SOURCE.md)")
    parser.add_argument("--date", help="the snapshot's date, YYYY-MM-DD (default: from SOURCE.md)")
    args = parser.parse_args(argv)
    try:
        document = build(args.ispdb, args.commit, args.date)
    except (BuildError, OSError) as error:
        print(f"build_provider_data: {error}", file=sys.stderr)
        return 1
    text = dumps(document)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    providers = document["providers"].values()
    domains = sum(len(entry["domains"]) for entry in providers)
    print(f"wrote {args.output}: {len(providers)} providers, {domains} domains, {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

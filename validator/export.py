"""``mailcfg export``: the validated set as one canonical document, and Mozilla autoconfig files.

The canonical form has every default filled in (ports by encryption, ``authentication``, ``sent_folder``,
``allow_insecure``), entries sorted by id, keys in schema order, and secrets kept as ``{env: NAME}``
references: a secret's value is never read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from validator.accounts import AccountSet
    from validator.model import Credentials, Imap, Smtp


def canonical(accounts: AccountSet) -> dict[str, Any]:
    """One document: ``version``, then ``users``, ``smtp`` and ``imap``, each sorted by id.

    ``users`` is written only when the set has a ``users`` list: an empty one would switch on MC203 for the
    personal accounts of a set that names no users, and the exported document would no longer check clean.
    """
    document: dict[str, Any] = {"version": 1}
    if accounts.has_users:
        document["users"] = [_dump(entry.model) for entry in sorted(accounts.users, key=lambda e: e.id)]
    document["smtp"] = [_dump(e.model, e.model.effective_port) for e in sorted(accounts.smtp, key=lambda e: e.id)]
    document["imap"] = [_dump(e.model, e.model.effective_port) for e in sorted(accounts.imap, key=lambda e: e.id)]
    return document


def _dump(model: Any, port: int | None = None) -> dict[str, Any]:
    """The model's fields in schema order, with the port the encryption implies when none is written."""
    data: dict[str, Any] = model.model_dump(exclude_none=True)
    credentials = data.get("credentials")
    if isinstance(credentials, dict) and not credentials.get("app_password", True):
        del credentials["app_password"]  # the default, and meaningless beside oauth2
    if port is not None:
        data["port"] = port
    return {key: data[key] for key in type(model).model_fields if key in data}


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_yaml(document: dict[str, Any]) -> str:
    import yaml

    header = "# yaml-language-server: $schema=schema/accounts.schema.json\n# Exported by mailcfg: defaults filled in.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)


# ------------------------------------------------------------------------------------------ autoconfig

SOCKET_TYPES = {"ssl": "SSL", "starttls": "STARTTLS", "none": "plain"}


@dataclass(frozen=True)
class Autoconfig:
    """One domain's ``config-v1.1.xml``, or the reason it was skipped."""

    domain: str
    xml: str | None
    skipped: str | None = None


def autoconfig(accounts: AccountSet) -> list[Autoconfig]:
    """A Mozilla autoconfig file per mail domain of the imap accounts; domains whose accounts disagree are skipped."""
    smtp_by_id = {entry.id: entry.model for entry in accounts.smtp}
    domains: dict[str, list[Imap]] = {}
    for entry in accounts.imap:
        domains.setdefault(entry.model.address.rpartition("@")[2].lower(), []).append(entry.model)
    out = []
    for domain in sorted(domains):
        members = domains[domain]
        incoming = {_server(imap.host, imap.effective_port, imap.encryption) for imap in members}
        outgoing = {_outgoing(smtp_by_id.get(imap.outgoing)) for imap in members}
        usernames = {_username(imap.credentials.username, imap.address) for imap in members}
        methods = {_method(imap.credentials) for imap in members}
        reasons = []
        if len(incoming) > 1:
            reasons.append(f"its imap accounts use {len(incoming)} different servers")
        if len(outgoing) > 1 or None in outgoing:
            reasons.append("its imap accounts send through different smtp entries")
        if len(usernames) > 1:
            reasons.append("its accounts log in with usernames of different patterns")
        if len(methods) > 1:
            reasons.append("its accounts log in with different methods (OAuth2 and a password)")
        if reasons:
            out.append(Autoconfig(domain, None, "; ".join(reasons)))
            continue
        smtp_id = members[0].outgoing
        out.append(Autoconfig(domain, _xml(domain, members[0], smtp_by_id[smtp_id], next(iter(usernames)))))
    return out


def _server(host: str, port: int, encryption: str) -> tuple[str, int, str]:
    return host.lower(), port, encryption


def _outgoing(smtp: Smtp | None) -> tuple[str, int, str, str, str | None] | None:
    if smtp is None:
        return None
    username = smtp.credentials.username if smtp.credentials is not None else None
    return smtp.host.lower(), smtp.effective_port, smtp.encryption, smtp.authentication, username


def _username(username: str, address: str) -> str:
    """The username as a pattern clients fill in: the whole address, its local part, or a literal."""
    if username.lower() == address.lower():
        return "%EMAILADDRESS%"
    if username.lower() == address.rpartition("@")[0].lower():
        return "%EMAILLOCALPART%"
    return username


def _method(credentials: Credentials) -> str:
    """The autoconfig `authentication` of a login: `OAuth2` for an oauth2 login, else `password-cleartext` (the
    password goes inside the TLS the `socketType` names)."""
    return "OAuth2" if credentials.oauth2 is not None else "password-cleartext"


def _xml(domain: str, imap: Imap, smtp: Smtp, username: str) -> str:
    from xml.etree import ElementTree as ET

    root = ET.Element("clientConfig", version="1.1")
    provider = ET.SubElement(root, "emailProvider", id=domain)
    ET.SubElement(provider, "domain").text = domain
    ET.SubElement(provider, "displayName").text = domain
    ET.SubElement(provider, "displayShortName").text = domain.split(".", maxsplit=1)[0]
    incoming = ET.SubElement(provider, "incomingServer", type="imap")
    _fields(incoming, imap.host, imap.effective_port, imap.encryption, _method(imap.credentials), username)
    outgoing = ET.SubElement(provider, "outgoingServer", type="smtp")
    if smtp.authentication == "none":
        _fields(outgoing, smtp.host, smtp.effective_port, smtp.encryption, "none", None)
    else:
        # Never the shared smtp login: an autoconfig file is public and is for the users' own mail clients,
        # which log in as themselves (the same placeholder as for imap). The method is the smtp login's: the
        # shared credentials', else the account's own, as `verify` logs in.
        method = _method(smtp.credentials or imap.credentials)
        _fields(outgoing, smtp.host, smtp.effective_port, smtp.encryption, method, username)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _fields(server: Any, host: str, port: int, encryption: str, authentication: str, username: str | None) -> None:
    from xml.etree import ElementTree as ET

    ET.SubElement(server, "hostname").text = host
    ET.SubElement(server, "port").text = str(port)
    ET.SubElement(server, "socketType").text = SOCKET_TYPES[encryption]
    ET.SubElement(server, "authentication").text = authentication
    if username is not None:
        ET.SubElement(server, "username").text = username

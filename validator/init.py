"""`mailcfg init`: a first account file for some addresses, written from what their providers publish.

The core of the command: :func:`build` takes the addresses as typed and returns the YAML text; it prints
nothing and opens no connection (``--online`` hands it a lookup function, :mod:`validator.autoconfig_lookup`).

What it writes, per the settings of each address's provider (:mod:`validator.provider_data`, or the
domain's own autoconfig file with ``--online``):

- one smtp entry per provider, without credentials of its own (each account sends with its own login), its
  first address as `test_recipient`; one imap account per address;
- implicit TLS where the provider offers it, else STARTTLS; a provider that publishes only plain-text
  servers is refused (no login over plain text is ever written);
- the username from the provider's template; `password: {env: MAILCFG_<ADDRESS>_PASSWORD}` (the address in
  upper case, every other character `_`; made unique on a collision), matching `--allow-env 'MAILCFG_*'`;
- an `oauth2` block instead where the provider refuses passwords (Google, Microsoft 365: the password
  retirements of :mod:`validator.providers`, or servers that list OAuth2 and no password method);
- role addresses (MC403's list) as `scope: system`, others as `scope: user` with a `users` entry;
- placeholders (:mod:`validator.placeholders`) for what cannot be known: the `contact`, a Microsoft tenant,
  an OAuth2 client id. They pass the schema; MC407 reports each until it is replaced;
- comments: the provider's name, where the settings come from and how old they are, its instructions
  ("Sie müssen ein E-Mail-Passwort einrichten") and documentation.

The text is assembled line by line, not dumped: YAML comments are the point. Every value goes through
:func:`scalar` (plain only for a conservative set of characters, else double-quoted with escapes) and every
comment through :func:`_comment_text` (one line, printable, no ``#`` that could start an inline suppression),
so nothing from the command line or from a fetched file can add a key or a suppression to the document.
"""

from __future__ import annotations

import datetime
import re
import textwrap
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from validator import placeholders
from validator.errors import UsageError
from validator.formats import email_problem, host_problem
from validator.model import ENV_PATTERN, HTTPS_URL_PATTERN, TEXT_PATTERN
from validator.provider_data import Provider, Server, by_domain, snapshot, username_for
from validator.providers import GOOGLE_MAIL, GOOGLE_TOKEN_URL, MICROSOFT_TOKEN_URL, Retirement, retirement
from validator.rules.mc403_role_address import ROLE_NAMES
from validator.sanitize import one_line

MODELINE = "# yaml-language-server: $schema=schema/accounts.schema.json"
WIDTH = 110  # comment lines are wrapped to this width (URLs are never broken)
PREFIX = "MAILCFG_"


@dataclass(frozen=True)
class Address:
    """An address from the command line, checked: as typed, with its domain in lower case."""

    text: str
    local: str
    domain: str


@dataclass(frozen=True)
class Settings:
    """What a provider publishes for a domain, wherever it was read (bundled data or the domain's own file)."""

    key: str  # addresses with the same key share one smtp entry (the provider's id)
    name: str
    imap: tuple[Server, ...]
    smtp: tuple[Server, ...]
    source: str  # where the settings come from and their date, for the comments
    docs: tuple[str, ...] = ()
    instructions: Mapping[str, str] = field(default_factory=dict, hash=False)
    enable_url: str | None = None
    oauth2: Mapping[str, Any] | None = field(default=None, hash=False)
    provider_id: str | None = None  # the bundled data's id, when the settings come from there
    via: str | None = None  # how the provider was found when not by the domain itself (the MX record)

    def servers(self, protocol: str) -> tuple[Server, ...]:
        return self.imap if protocol == "imap" else self.smtp


Lookup = Callable[[Address], Settings]


def from_provider(provider: Provider, via: str | None = None) -> Settings:
    """The settings of a provider of the bundled data."""
    if provider.source == "ispdb":
        source = f"Thunderbird's ISPDB (snapshot of {provider.date})"
    else:
        source = f"mailcfg's provider overlay (checked {provider.date})"
    return Settings(
        key=provider.id,
        name=provider.name,
        imap=provider.imap,
        smtp=provider.smtp,
        source=source,
        docs=provider.docs,
        instructions=provider.instructions,
        enable_url=provider.enable_url,
        oauth2=provider.oauth2,
        provider_id=provider.id,
        via=via,
    )


def parse_addresses(values: Sequence[str]) -> list[Address]:
    """The addresses, each checked (email-validator, as the schema's MC105 does); a bad one is a usage error."""
    if not values:
        raise UsageError("name at least one address: mailcfg init info@example.com")
    addresses: list[Address] = []
    seen: set[str] = set()
    for value in values:
        problem = email_problem(value)
        if problem is not None:
            raise UsageError(f"{_shown(value)} is no valid e-mail address: {one_line(problem, 200)}")
        local, _, domain = value.rpartition("@")
        address = Address(f"{local}@{domain.lower()}", local, domain.lower())
        if address.text.casefold() in seen:
            raise UsageError(f"{_shown(value)} is given twice")
        seen.add(address.text.casefold())
        addresses.append(address)
    return addresses


def _shown(value: str) -> str:
    """A value from the command line as an error message may show it: quoted, escaped, one short line."""
    return one_line(repr(value), 120)


def build(values: Sequence[str], *, online: Lookup | None = None, today: datetime.date | None = None) -> str:
    """The YAML document for the addresses ``values``; ``online`` looks up a domain the bundled data lacks."""
    addresses = parse_addresses(values)
    found: dict[str, Settings] = {}
    unknown: list[str] = []
    for address in addresses:
        if address.domain in found or address.domain in unknown:
            continue
        provider = by_domain(address.domain)
        if provider is not None:
            found[address.domain] = from_provider(provider)
        elif online is not None:
            found[address.domain] = online(address)
        else:
            unknown.append(address.domain)
    if unknown:
        date = snapshot()[1]
        raise UsageError(
            f"no provider is known for {', '.join(unknown)} (the bundled data: Thunderbird's ISPDB snapshot of "
            f"{date} and mailcfg's overlay); `mailcfg init --online` looks the domain up as Thunderbird does "
            "(its own autoconfig file over HTTPS, then its MX record), or write the file by hand "
            "(accounts.example.yaml)"
        )
    accounts = [_account(address, found[address.domain]) for address in addresses]
    return _render(accounts, today or datetime.date.today())


# --- what each address gets ------------------------------------------------------------------------------


@dataclass
class _Account:
    address: Address
    settings: Settings
    imap: Server
    smtp: Server
    login: str  # password | google | microsoft-app | microsoft-user | outlook | generic
    retired: Retirement | None
    system: bool
    id: str = ""
    user: str | None = None
    secret: str = ""  # the variable of the password, refresh token, client secret or service-account key


def _account(address: Address, settings: Settings) -> _Account:
    imap = _pick(settings, "imap", address)
    smtp = _pick(settings, "smtp", address)
    login, retired = _login(settings, imap, smtp)
    system = address.local.split("+", 1)[0].lower() in ROLE_NAMES
    if login == "microsoft":
        login = "outlook" if settings.provider_id == "hotmail.com" else "microsoft-app" if system else "microsoft-user"
    return _Account(address, settings, imap, smtp, login, retired, system)


def _pick(settings: Settings, protocol: str, address: Address) -> Server:
    """The server to write: the first with implicit TLS, else the first with STARTTLS; its templates filled."""
    servers = settings.servers(protocol)
    if not servers:
        raise UsageError(
            f"{settings.name} publishes no {protocol.upper()} server for {address.domain} ({settings.source}); "
            "mailcfg init writes IMAP accounts and their SMTP server"
        )
    for encryption in ("ssl", "starttls"):
        for server in servers:
            if server.encryption != encryption:
                continue
            host = username_for(server.host, address.text) if "%" in server.host else server.host
            username = username_for(server.username or "%EMAILADDRESS%", address.text)
            if host_problem(host) is not None or "%" in host:
                raise UsageError(f"{settings.name} publishes {protocol} host {_shown(host)}, which is no host name")
            if not username or "%" in username or not re.match(TEXT_PATTERN, username):
                raise UsageError(f"{settings.name}'s {protocol} login {_shown(server.username)} is not usable")
            return replace(server, host=host, username=username)
    raise UsageError(
        f"{settings.name} publishes only unencrypted {protocol.upper()} servers for {address.domain} "
        f"({settings.source}); mailcfg init writes no login over plain text"
    )


def _login(settings: Settings, imap: Server, smtp: Server) -> tuple[str, Retirement | None]:
    """``password``, or the kind of OAuth2 login (``google``, ``microsoft``, ``generic``), and the retirement."""
    retired = retirement("imap", imap.host) or retirement("smtp", smtp.host)
    tokens_only = any(
        "OAuth2" in server.auth and not any(method.startswith("password") for method in server.auth)
        for server in (imap, smtp)
    )
    if retired is None and not tokens_only:
        return "password", None
    hosts = (imap.host, smtp.host)
    if (retired is not None and retired.provider == "Google") or any(
        host.endswith(("gmail.com", "googlemail.com", "google.com")) for host in hosts
    ):
        return "google", retired
    if (retired is not None and retired.provider.startswith("Microsoft")) or any(
        host.endswith(("office365.com", "outlook.com")) for host in hosts
    ):
        return "microsoft", retired
    return "generic", retired


# --- names ----------------------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    """``text`` with accents dropped (Müller → Muller): ids and variable names are ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slug(text: str, fallback: str) -> str:
    """An id for the schema (``[a-z0-9][a-z0-9_-]*``, at most 60 characters to leave room for ``-2``)."""
    value = re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-")[:60].strip("-")
    return value or fallback


def env_name(*parts: str, suffix: str) -> str:
    """``MAILCFG_<PARTS>_<SUFFIX>``: the parts in upper case, every character but A-Z and 0-9 as ``_``."""
    body = "_".join(re.sub(r"[^A-Z0-9]", "_", _ascii(part).upper()) for part in parts)
    name = f"{PREFIX}{body}_{suffix}"
    assert re.match(ENV_PATTERN, name)
    return name


def _unique(name: str, used: set[str], insert: Callable[[str, int], str]) -> str:
    """``name``, or ``insert(name, n)`` for the first n from 2 that is not in ``used``; recorded as used."""
    candidate, number = name, 1
    while candidate in used:
        number += 1
        candidate = insert(name, number)
    used.add(candidate)
    return candidate


def _display_name(local: str) -> str:
    """A display name guessed from a local part: anna.muster → Anna Muster."""
    parts = [part for part in re.split(r"[._+-]+", local) if part]
    return " ".join(part[:1].upper() + part[1:] for part in parts) or local


def _assign_names(accounts: list[_Account]) -> dict[str, str]:
    """Ids, users and secret variables for every account; returns the smtp id of each provider key."""
    ids: set[str] = set()
    variables: set[str] = set()
    shared: dict[tuple[str, str], str] = {}  # (domain, kind) -> one variable for a tenant's app or a service account
    smtp_ids: dict[str, str] = {}

    def new_id(text: str, fallback: str) -> str:
        return _unique(slug(text, fallback), ids, lambda base, n: f"{base}-{n}")

    def new_variable(name: str, suffix: str) -> str:
        return _unique(name, variables, lambda base, n: f"{base.removesuffix('_' + suffix)}_{n}_{suffix}")

    for account in accounts:
        key = account.settings.key
        if key not in smtp_ids:
            smtp_ids[key] = new_id("smtp-" + key, "smtp")
    user_ids: set[str] = set()
    for account in accounts:
        address = account.address
        account.id = new_id(address.text, "mailbox")
        if not account.system:
            account.user = _unique(slug(address.local, "user"), user_ids, lambda base, n: f"{base}-{n}")
        if account.login in ("password", "microsoft-user", "outlook", "generic"):
            suffix = "PASSWORD" if account.login == "password" else "REFRESH_TOKEN"
            account.secret = new_variable(env_name(address.text, suffix=suffix), suffix)
        else:
            suffix = "GOOGLE_SERVICE_ACCOUNT" if account.login == "google" else "M365_CLIENT_SECRET"
            domain_key = (address.domain, suffix)
            if domain_key not in shared:
                shared[domain_key] = new_variable(env_name(address.domain, suffix=suffix), suffix)
            account.secret = shared[domain_key]
    return smtp_ids


# --- YAML text ------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_.@+-]*(?: [A-Za-z0-9_.@+-]+)*\Z")
# Words YAML 1.1 or 1.2 reads as booleans or null when plain (the pattern lets no number, `:`, `#` or quote in).
_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def scalar(value: str) -> str:
    """``value`` as a YAML scalar that reads back as exactly that string: plain when it is a simple word, a
    name or an address, else double-quoted, with every character that is not printable escaped, and a ``#``
    after a blank too (mailcfg looks for `# mailcfg: ignore[…]` in the raw lines, quoted or not)."""
    if _PLAIN.match(value) and value.lower() not in _WORDS:
        return value
    out = ['"']
    for index, char in enumerate(value):
        if char in '"\\':
            out.append("\\" + char)
        elif char == "#" and (index == 0 or value[index - 1].isspace()):
            out.append("\\x23")  # a blank and `#` in the line would start an inline suppression for mailcfg
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _comment_text(text: str, limit: int = 800) -> str:
    """Text for a comment: one printable line, and no ``#`` after a blank, where it could start
    `# mailcfg: ignore[…]` (text from a fetched autoconfig file must not suppress findings)."""
    line = one_line(text, limit)
    line = "".join(char if char.isprintable() else "\ufffd" for char in line)
    return re.sub(r"(?<!\S)#", "\uff03", line).strip()


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, indent: int, text: str) -> None:
        prefix = " " * indent + "# "
        chunks = textwrap.wrap(
            _comment_text(text), WIDTH - len(prefix), break_long_words=False, break_on_hyphens=False
        )
        self.lines.extend(prefix + chunk for chunk in chunks)

    def key(self, indent: int, key: str, value: str, comment: str | None = None) -> None:
        """``key: value`` (``value`` already YAML) at ``indent``, with an optional trusted end-of-line comment."""
        self.lines.append(" " * indent + f"{key}: {value}" + (f"  # {comment}" if comment else ""))

    def raw(self, line: str) -> None:
        self.lines.append(line)


def _env(name: str) -> str:
    return "{env: " + name + "}"


def _render(accounts: list[_Account], today: datetime.date) -> str:
    smtp_ids = _assign_names(accounts)
    out = _Writer()
    out.raw(MODELINE)
    out.raw("#")
    hosts = sorted({a.smtp.host for a in accounts} | {a.imap.host for a in accounts} | _token_hosts(accounts))
    placeholder_note = "Replace each <CHANGE ME: …> placeholder and change-me.invalid name (`mailcfg check` reports"
    out.comment(0, "Written by `mailcfg init` from the settings the providers publish (each entry names its source).")
    out.comment(0, f"{placeholder_note} every one left as MC407), review the rest, then set the variables and verify:")
    out.raw(f"# `mailcfg verify --allow-env '{PREFIX}*' --allow-host {','.join(hosts)}`")
    out.comment(0, "Secrets are never written here: each names the environment variable that holds it.")
    out.raw("version: 1")
    users = [a for a in accounts if a.user is not None]
    if users:
        out.raw("")
        out.raw("users:")
        for account in users:
            assert account.user is not None
            out.key(2, "- id", scalar(account.user))
            out.key(4, "name", scalar(_display_name(account.address.local)))
    out.raw("")
    out.raw("smtp:")
    written: set[str] = set()
    for account in accounts:
        key = account.settings.key
        if key in written:
            continue
        if written:
            out.raw("")
        first = not written
        written.add(key)
        _smtp_entry(out, account, smtp_ids[key], first, [a for a in accounts if a.settings.key == key], today)
    out.raw("")
    out.raw("imap:")
    for index, account in enumerate(accounts):
        if index:
            out.raw("")
        _imap_entry(out, account, smtp_ids[account.settings.key], today)
    return "\n".join(out.lines) + "\n"


def _token_hosts(accounts: list[_Account]) -> set[str]:
    hosts: set[str] = set()
    for account in accounts:
        if account.login == "google":
            hosts.add(urlsplit(GOOGLE_TOKEN_URL).hostname or "")
        elif account.login in ("microsoft-app", "microsoft-user", "outlook"):
            hosts.add(urlsplit(MICROSOFT_TOKEN_URL).hostname or "")
        elif account.login == "generic":
            hosts.add(urlsplit(_generic_token_url(account.settings)).hostname or "")
    return hosts - {""}


def _smtp_entry(
    out: _Writer, account: _Account, smtp_id: str, first: bool, group: list[_Account], today: datetime.date
) -> None:
    settings = account.settings
    what = ", ".join(a.address.text for a in group)
    out.comment(2, f"{settings.name}, for {what}: the settings published in {settings.source}.")
    for language in sorted(settings.instructions, key=lambda lang: (lang != "de", lang != "en", lang)):
        out.comment(2, f"Before the first login ({language}): {settings.instructions[language]}")
    if settings.enable_url:
        out.comment(2, f"Where to do it: {settings.enable_url}")
    if settings.docs:
        out.comment(2, f"Documentation: {' '.join(settings.docs)}")
    out.comment(2, "No credentials of its own: each imap account that sends through it logs in with its own.")
    # Several providers need several outgoing servers: answered here, so the fresh file has no MC405 warning.
    suppress = None if first else "mailcfg: ignore[MC405] one outgoing server per provider"
    out.key(2, "- id", scalar(smtp_id), suppress)
    out.key(4, "name", scalar(one_line(settings.name, 100)))
    out.key(4, "host", scalar(account.smtp.host))
    out.key(4, "port", str(account.smtp.port))
    out.key(4, "encryption", account.smtp.encryption)
    out.key(4, "authentication", "required")
    out.key(4, "test_recipient", scalar(group[0].address.text))


def _imap_entry(out: _Writer, account: _Account, smtp_id: str, today: datetime.date) -> None:
    address = account.address
    kind = "a role address, so a shared mailbox (scope system)" if account.system else "a personal mailbox"
    out.comment(2, f"{address.text}: {kind} at {account.settings.name}.")
    if account.settings.via:
        out.comment(2, f"The provider was found {account.settings.via}.")
    out.key(2, "- id", scalar(account.id))
    out.key(4, "name", scalar(_display_name(address.local)))
    out.key(4, "scope", "system" if account.system else "user")
    if account.user is not None:
        out.key(4, "user", scalar(account.user))
    out.key(4, "address", scalar(address.text))
    out.key(4, "host", scalar(account.imap.host))
    out.key(4, "port", str(account.imap.port))
    out.key(4, "encryption", account.imap.encryption)
    out.key(4, "outgoing", scalar(smtp_id))
    out.raw("    credentials:")
    out.key(6, "username", scalar(account.imap.username))
    if account.login == "password":
        out.key(6, "password", _env(account.secret))
        out.key(6, "contact", scalar(placeholders.text("who can enter this password, a person or a desk")))
        return
    _oauth2(out, account, today)
    out.key(6, "contact", scalar(placeholders.text("who renews this OAuth2 login, a person or a desk")))


def _when(retired: Retirement, today: datetime.date) -> str:
    return f"{retired.what} {'from' if today < retired.starts else 'since'} {retired.when}"


def _oauth2(out: _Writer, account: _Account, today: datetime.date) -> None:
    why = _when(account.retired, today) if account.retired else f"{account.settings.name} lists only OAuth2 logins"
    out.comment(6, f"OAuth2, not a password: {why}. docs/oauth2.md has the set-up step by step.")
    tenant_note = placeholders.text("the tenant: its domain (contoso.onmicrosoft.com) or the directory id")
    client_id = scalar(placeholders.text("the application (client) id of the app registration"))
    login = account.login
    if login == "google":
        out.comment(
            6,
            "A Google Workspace service account with domain-wide delegation for the scope "
            f"{GOOGLE_MAIL}, its JSON key in the variable; it acts for the username. A personal Google account "
            "has no service account: use an OAuth client with `client_id` and `refresh_token`, or an app password "
            "(2-Step Verification): `password` with `app_password: true`.",
        )
        out.raw("      oauth2:")
        out.key(8, "provider", "google")
        out.key(8, "service_account", _env(account.secret))
    elif login == "microsoft-app":
        out.comment(
            6,
            "App-only access (client credentials), for a shared mailbox: an app registration with the "
            "IMAP.AccessAsApp and SMTP.SendAsApp permissions, its service principal in Exchange Online granted this "
            "mailbox; one client secret serves the tenant's mailboxes.",
        )
        out.raw("      oauth2:")
        out.key(8, "provider", "microsoft")
        out.key(8, "tenant", placeholders.DOMAIN_PLACEHOLDER, tenant_note)
        out.key(8, "client_id", client_id)
        out.key(8, "client_secret", _env(account.secret))
    elif login in ("microsoft-user", "outlook"):
        consumer = login == "outlook"
        out.comment(
            6,
            "A person's mailbox: delegated permissions (IMAP.AccessAsUser.All, SMTP.Send, offline_access); the "
            "refresh token from the person's consent in the variable, or a token helper with `command`."
            + (" A personal Microsoft account (Outlook.com) signs in at the tenant `consumers`." if consumer else ""),
        )
        out.raw("      oauth2:")
        out.key(8, "provider", "microsoft")
        if consumer:
            out.key(8, "tenant", "consumers")
        else:
            out.key(8, "tenant", placeholders.DOMAIN_PLACEHOLDER, tenant_note)
        out.key(8, "client_id", client_id)
        out.key(8, "refresh_token", _env(account.secret))
    else:
        token_url = _generic_token_url(account.settings)
        out.comment(6, "An OAuth client registered at the provider, and a refresh token from the person's consent.")
        out.raw("      oauth2:")
        out.key(8, "provider", "generic")
        out.key(8, "token_url", scalar(token_url))
        out.key(8, "client_id", client_id)
        out.key(8, "refresh_token", _env(account.secret))
        scopes = [s for s in (account.settings.oauth2 or {}).get("scopes", ()) if isinstance(s, str) and s.strip()]
        if scopes:
            out.key(8, "scopes", "[" + ", ".join(scalar(s) for s in scopes) + "]")


def _generic_token_url(settings: Settings) -> str:
    given = (settings.oauth2 or {}).get("token_url")
    if isinstance(given, str) and re.match(HTTPS_URL_PATTERN, given):
        return given
    return f"https://{placeholders.DOMAIN_PLACEHOLDER}/oauth2/token"

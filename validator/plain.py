"""The format without pydantic: its patterns and constants, and the fast path's strict check of one entry.

``mailcfg check`` runs on every commit (pre-commit), and importing pydantic and building the models cost more
than everything else of its start. So the fast path of the schema stage (:func:`validator.accounts.prevalidate`)
checks each entry here, in plain Python, and makes the entries that certainly pass into plain records with the
fields and properties of :mod:`validator.model`'s classes, which stay the format's one source of truth (the JSON
Schema is generated from them). An entry this check does not pass goes the slow way (jsonschema words its findings,
the pydantic model is built), so the output is the same whichever way an entry goes: the check may only ever be
stricter than the models in strict mode plus the format checks, and ``tests/test_properties.py`` holds it to
that, both ways, and the records to the models' values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from validator.credentials import GRANT_KEYS, SHARED_TENANTS, TOKEN_KEYS
from validator.formats import email_problem, host_problem

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# What no string of the format may hold: C0 and C1 controls, DEL, the Unicode line and paragraph
# separators and the bidirectional marks and overrides. These strings reach SMTP/IMAP commands and every
# report; there a line break ends a command early and an escape rewrites a terminal. It is exactly the set
# `validator.sanitize` strips from output (a test holds the two equal). Written as regex escapes that
# Python, Rust (pydantic's fast path) and ECMAScript (editors) all read the same way.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069"
TEXT_PATTERN = rf"^[^{CONTROL_CHARACTERS}]*$"
# `+`, not `*`, where a string must not be empty: generators that follow the pattern then honour minLength.
NONEMPTY_TEXT_PATTERN = rf"^[^{CONTROL_CHARACTERS}]+$"
DEFAULT_PORTS: dict[str, dict[str, int]] = {
    "smtp": {"none": 25, "starttls": 587, "ssl": 465},
    "imap": {"none": 143, "starttls": 143, "ssl": 993},
}
# A systemd credential is a file name in $CREDENTIALS_DIRECTORY: no `/`, not `.` or `..` (nor any name of dots only).
CREDENTIAL_PATTERN = rf"^[^/{CONTROL_CHARACTERS}]*[^./{CONTROL_CHARACTERS}][^/{CONTROL_CHARACTERS}]*$"
# Where a secret's value may come from: exactly one of these keys (validator/secrets.py reads each).
SECRET_SOURCES = ("env", "file", "credential", "command")
# A token endpoint receives client secrets and refresh tokens: https only, no `user@` in the authority and no
# backslash anywhere (parsers disagree on it, so the host checked could differ from the host contacted).
HTTPS_URL_PATTERN = rf"^https://[^{CONTROL_CHARACTERS}\s/?#@\\]+(?:[/?][^{CONTROL_CHARACTERS}\s#\\]*)?$"
# A tenant is a verified domain or the directory's GUID; it goes into the token URL's path.
TENANT_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$"


def oauth2_grant(oauth2: Any) -> str:
    """How ``oauth2`` (a model or a record) gets its token: `command`, `jwt-bearer`, `refresh_token` or
    `client_credentials`."""
    if oauth2.command is not None:
        return "command"
    if oauth2.service_account is not None:
        return "jwt-bearer"
    return "refresh_token" if oauth2.refresh_token is not None else "client_credentials"


def credential_secrets(credentials: Any) -> tuple[tuple[str, Any], ...]:
    """Every secret ``credentials`` (a model or a record) reference, with its key: `password`, or the oauth2 keys."""
    if credentials.password is not None:
        return (("password", credentials.password),)
    assert credentials.oauth2 is not None
    return tuple((key, value) for key in GRANT_KEYS if (value := getattr(credentials.oauth2, key)) is not None)


def oauth2_problem(oauth2: Any) -> str | None:
    """What makes ``oauth2`` (a model or a record) a combination that makes no sense, in the words of the schema's
    rules, or None."""
    present = {key for key in TOKEN_KEYS if getattr(oauth2, key) is not None}
    if oauth2.command is not None:
        return "`command` replaces every token key" if present else None
    if not present & set(GRANT_KEYS):
        return "no grant"
    if oauth2.service_account is not None and (oauth2.refresh_token is not None or oauth2.client_secret is not None):
        return "service_account excludes refresh_token and client_secret"
    if oauth2.service_account is None and (oauth2.client_id is None or oauth2.subject is not None):
        return "client_id needed; subject only with service_account"
    if oauth2.tenant is not None and oauth2.provider != "microsoft":
        return "tenant only with microsoft"
    if oauth2.provider == "generic" and oauth2.token_url is None and oauth2.service_account is None:
        return "generic needs token_url"
    if oauth2.provider == "microsoft" and oauth2.token_url is None and oauth2.tenant is None:
        return "microsoft needs tenant"
    if oauth2.grant == "client_credentials" and oauth2.tenant in SHARED_TENANTS:
        return "app-only access needs the tenant itself"
    return None


# ----------------------------------------------------------------------------------------------- records
# The fields and properties of validator.model's classes of the same names (a test compares them field by field).


@dataclass(frozen=True, slots=True)
class Secret:
    env: str | None = None
    file: str | None = None
    credential: str | None = None
    command: list[str] | None = None

    @property
    def sops(self) -> str | None:
        return None  # a value SOPS encrypted never takes this path (prevalidate)

    @property
    def source(self) -> str:
        return next(key for key in SECRET_SOURCES if getattr(self, key) is not None)


@dataclass(frozen=True, slots=True)
class OAuth2:
    provider: str = "generic"
    tenant: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    refresh_token: Secret | None = None
    service_account: Secret | None = None
    subject: str | None = None
    scopes: list[str] | None = None
    command: list[str] | None = None
    mechanism: str = "xoauth2"

    @property
    def grant(self) -> str:
        return oauth2_grant(self)


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: Secret | None = None
    app_password: bool = False
    oauth2: OAuth2 | None = None
    contact: str | None = None

    @property
    def secrets(self) -> tuple[tuple[str, Secret], ...]:
        return credential_secrets(self)


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Smtp:
    id: str
    host: str
    encryption: str
    name: str | None = None
    port: int | None = None
    authentication: str = "required"
    credentials: Credentials | None = None
    test_recipient: str | None = None
    allow_insecure: bool = False

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS["smtp"][self.encryption]


@dataclass(frozen=True, slots=True)
class Imap:
    id: str
    scope: str
    address: str
    host: str
    encryption: str
    outgoing: str
    credentials: Credentials
    name: str | None = None
    user: str | None = None
    port: int | None = None
    sent_folder: str = "Sent"
    allow_insecure: bool = False

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS["imap"][self.encryption]


Record = User | Smtp | Imap

# ------------------------------------------------------------------------------------------------- check

_ID = re.compile(ID_PATTERN).fullmatch
_ENV = re.compile(ENV_PATTERN).fullmatch
_TEXT = re.compile(TEXT_PATTERN).fullmatch
_NONEMPTY = re.compile(NONEMPTY_TEXT_PATTERN).fullmatch
_CREDENTIAL = re.compile(CREDENTIAL_PATTERN).fullmatch
_HTTPS_URL = re.compile(HTTPS_URL_PATTERN).fullmatch
_TENANT = re.compile(TENANT_PATTERN).fullmatch
_ENCRYPTION = frozenset({"none", "starttls", "ssl"})
_PROVIDERS = frozenset({"generic", "microsoft", "google"})
_MECHANISMS = frozenset({"xoauth2", "oauthbearer"})
_AUTHENTICATION = frozenset({"required", "none"})
_SCOPES = frozenset({"system", "user"})


class _No(Exception):
    """The entry does not certainly pass: it goes the slow way."""


def _str(value: object, match: Any) -> str:
    if type(value) is not str or match(value) is None:
        raise _No
    return value


def _opt(item: dict[str, Any], key: str, match: Any) -> str | None:
    value = item.get(key)
    return None if value is None else _str(value, match)


def _texts(value: object) -> list[str] | None:
    if value is None:
        return None
    if type(value) is not list or not value:
        raise _No
    for text in value:
        _str(text, _NONEMPTY)
    return value


def _choice(value: object, allowed: frozenset[str]) -> str:
    if type(value) is not str or value not in allowed:
        raise _No
    return value


def _flag(item: dict[str, Any], key: str) -> bool:
    value = item.get(key, False)
    if type(value) is not bool:
        raise _No
    return value


def _port(value: object) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= 65535:
        raise _No
    return value


def _keys(item: object, allowed: frozenset[str]) -> dict[str, Any]:
    if type(item) is not dict or not item.keys() <= allowed:
        raise _No
    return item


_SECRET_KEYS = frozenset(SECRET_SOURCES)


def _secret(value: object) -> Secret | None:
    if value is None:
        return None
    item = _keys(value, _SECRET_KEYS)
    if len(item) != 1:
        raise _No
    return Secret(
        env=_opt(item, "env", _ENV),
        file=_opt(item, "file", _NONEMPTY),
        credential=_opt(item, "credential", _CREDENTIAL),
        command=_texts(item.get("command")),
    )


_OAUTH2_KEYS = frozenset(OAuth2.__dataclass_fields__)


def _oauth2(value: object) -> OAuth2 | None:
    if value is None:
        return None
    item = _keys(value, _OAUTH2_KEYS)
    record = OAuth2(
        provider=_choice(item.get("provider", "generic"), _PROVIDERS),
        tenant=_opt(item, "tenant", _TENANT),
        token_url=_opt(item, "token_url", _HTTPS_URL),
        client_id=_opt(item, "client_id", _NONEMPTY),
        client_secret=_secret(item.get("client_secret")),
        refresh_token=_secret(item.get("refresh_token")),
        service_account=_secret(item.get("service_account")),
        subject=_opt(item, "subject", _TEXT),
        scopes=_texts(item.get("scopes")),
        command=_texts(item.get("command")),
        mechanism=_choice(item.get("mechanism", "xoauth2"), _MECHANISMS),
    )
    if oauth2_problem(record) is not None:
        raise _No
    return record


_CREDENTIALS_KEYS = frozenset(Credentials.__dataclass_fields__)


def _credentials(value: object) -> Credentials | None:
    if value is None:
        return None
    item = _keys(value, _CREDENTIALS_KEYS)
    record = Credentials(
        username=_str(item.get("username"), _NONEMPTY),
        password=_secret(item.get("password")),
        app_password=_flag(item, "app_password"),
        oauth2=_oauth2(item.get("oauth2")),
        contact=_opt(item, "contact", _NONEMPTY),
    )
    if (record.password is None) == (record.oauth2 is None) or (record.app_password and record.password is None):
        raise _No
    return record


_USER_KEYS = frozenset(User.__dataclass_fields__)
_SMTP_KEYS = frozenset(Smtp.__dataclass_fields__)
_IMAP_KEYS = frozenset(Imap.__dataclass_fields__)


def _user(item: dict[str, Any]) -> User:
    return User(id=_str(item.get("id"), _ID), name=_opt(_keys(item, _USER_KEYS), "name", _TEXT))


def _smtp(item: dict[str, Any]) -> Smtp:
    _keys(item, _SMTP_KEYS)
    record = Smtp(
        id=_str(item.get("id"), _ID),
        host=_str(item.get("host"), _TEXT),
        encryption=_choice(item.get("encryption"), _ENCRYPTION),
        name=_opt(item, "name", _TEXT),
        port=_port(item.get("port")),
        authentication=_choice(item.get("authentication", "required"), _AUTHENTICATION),
        credentials=_credentials(item.get("credentials")),
        test_recipient=_opt(item, "test_recipient", _TEXT),
        allow_insecure=_flag(item, "allow_insecure"),
    )
    if host_problem(record.host) is not None or (
        record.test_recipient is not None and email_problem(record.test_recipient) is not None
    ):
        raise _No
    return record


def _imap(item: dict[str, Any]) -> Imap:
    _keys(item, _IMAP_KEYS)
    credentials = _credentials(item.get("credentials"))
    if credentials is None:
        raise _No
    record = Imap(
        id=_str(item.get("id"), _ID),
        scope=_choice(item.get("scope"), _SCOPES),
        address=_str(item.get("address"), _TEXT),
        host=_str(item.get("host"), _TEXT),
        encryption=_choice(item.get("encryption"), _ENCRYPTION),
        outgoing=_str(item.get("outgoing"), _ID),
        credentials=credentials,
        name=_opt(item, "name", _TEXT),
        user=_opt(item, "user", _ID),
        port=_port(item.get("port")),
        sent_folder=_str(item.get("sent_folder", "Sent"), _NONEMPTY),
        allow_insecure=_flag(item, "allow_insecure"),
    )
    if host_problem(record.host) is not None or email_problem(record.address) is not None:
        raise _No
    return record


_CHECKS: dict[str, Callable[[dict[str, Any]], Record]] = {"users": _user, "smtp": _smtp, "imap": _imap}


def record(section: str, item: dict[str, Any]) -> Record | None:
    """The record of an entry of ``section`` (a dict without nulls) that certainly passes the schema, or None."""
    try:
        return _CHECKS[section](item)
    except _No:
        return None

"""Which checks a run makes: what the application itself will do with each account.

An smtp entry with shared credentials is checked once, however many imap accounts send through it; one
without shared credentials is checked with each sending imap account's credentials; an imap account is
checked with its own, and with ``--round-trip`` also sends through its linked smtp entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from validator.live.result import VerifyOptions
from validator.trust import normalize_host

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Entry
    from validator.model import Credentials, Imap, OAuth2, Smtp
    from validator.secrets import Ref


@dataclass(frozen=True)
class Login:
    """A username and where its password (or its OAuth2 token source) comes from; ``entry`` is where the
    credentials are written. ``refs`` holds every secret reference the login reads, by credentials key."""

    username: str
    env: str  # the key of the password's value among the run's secret values (its variable); "" for oauth2
    entry: Entry[Smtp] | Entry[Imap]
    oauth2: OAuth2 | None = None
    refs: tuple[tuple[str, Ref], ...] = ()

    @property
    def variables(self) -> tuple[tuple[str, str], ...]:
        """(key, value key) of every secret this login reads: `password`, or the oauth2 secret keys. The value key
        is a variable's name, or the name a file, credential or command's value is kept under (:attr:`Ref.key`)."""
        return tuple((key, ref.key) for key, ref in self.refs)

    def ref(self, key: str) -> Ref:
        """The reference of the secret at credentials key ``key`` (`password`, `client_secret`, ...)."""
        return dict(self.refs)[key]


def login_of(credentials: Credentials, entry: Entry[Smtp] | Entry[Imap]) -> Login:
    """The login ``credentials`` (written in ``entry``) describe."""
    from validator import secrets

    refs = tuple((key, secrets.of(entry, secret)) for key, secret in credentials.secrets)
    password = dict(refs).get("password")
    return Login(credentials.username, password.key if password else "", entry, credentials.oauth2, refs)


@dataclass(frozen=True)
class SmtpTarget:
    """How to send through an smtp entry: the entry, and the login to use (None: no authentication)."""

    entry: Entry[Smtp]
    login: Login | None


@dataclass(frozen=True)
class Check:
    """One session against one server; ``host`` is normalised (the form used for DNS, SNI and limits)."""

    protocol: str
    entry: Entry[Smtp] | Entry[Imap]
    host: str
    port: int
    encryption: str
    allow_insecure: bool
    login: Login | None
    auth_required: bool = True
    send_to: str | None = None
    round_trip: SmtpTarget | None = None
    note: str = ""

    @property
    def account(self) -> str:
        return self.entry.id


def plan(accounts: AccountSet, options: VerifyOptions) -> list[Check]:
    checks: list[Check] = []
    senders: dict[str, list[Entry[Imap]]] = {}
    for imap in accounts.imap:
        senders.setdefault(imap.model.outgoing, []).append(imap)
    smtp_by_id = {smtp.id: smtp for smtp in accounts.smtp}
    for smtp in accounts.smtp:
        for login in _smtp_logins(smtp, senders.get(smtp.id, [])):
            via = "" if login is None or login.entry is smtp else f"with the credentials of '{login.entry.id}'"
            if _wanted(options, smtp.id, login.entry.id if login else None):
                send_to = smtp.model.test_recipient if options.send_test else None
                checks.append(smtp_check(smtp, login, send_to, via))
    for imap in accounts.imap:
        if not _wanted(options, imap.id, None):
            continue
        model = imap.model
        credentials = model.credentials
        target = None
        if options.round_trip and model.outgoing in smtp_by_id:
            smtp = smtp_by_id[model.outgoing]
            target = SmtpTarget(smtp, _send_login(smtp, imap))
        checks.append(
            Check(
                "imap",
                imap,
                normalize_host(model.host),
                model.effective_port,
                model.encryption,
                model.allow_insecure,
                login_of(credentials, imap),
                round_trip=target,
            )
        )
    return checks


def _smtp_logins(smtp: Entry[Smtp], senders: list[Entry[Imap]]) -> list[Login | None]:
    model = smtp.model
    if model.authentication == "none":
        return [None]
    if model.credentials is not None:
        return [login_of(model.credentials, smtp)]
    if not senders:
        return [None]  # nobody to log in as: checked up to the authentication stage
    return [login_of(imap.model.credentials, imap) for imap in senders]


def _send_login(smtp: Entry[Smtp], imap: Entry[Imap]) -> Login | None:
    model = smtp.model
    if model.authentication == "none":
        return None
    if model.credentials is not None:
        return login_of(model.credentials, smtp)
    return login_of(imap.model.credentials, imap)


def smtp_check(smtp: Entry[Smtp], login: Login | None, send_to: str | None = None, note: str = "") -> Check:
    """A session with an smtp entry as ``login`` (None: without authentication)."""
    model = smtp.model
    return Check(
        "smtp",
        smtp,
        normalize_host(model.host),
        model.effective_port,
        model.encryption,
        model.allow_insecure,
        login,
        auth_required=model.authentication == "required",
        send_to=send_to,
        note=note,
    )


def _wanted(options: VerifyOptions, account: str, via: str | None) -> bool:
    return not options.only or account in options.only or (via is not None and via in options.only)

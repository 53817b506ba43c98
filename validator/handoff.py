"""`mailcfg secrets`: the hand-off sheet, every secret the account set needs and who can enter it.

Built from the account set alone, without reading any secret: for each distinct reference (a variable, a file,
a systemd credential, a command) what it is (password, client secret, refresh token, service-account key, or an
OAuth2 access token a `command` prints), the accounts and usernames that use it, the `contact` of their
credentials, and whether it is available here. For an environment variable that means whether it is set (never
its value) and whether the run's `--allow-env` lets it be read at all: a variable outside it is not even looked
up, as in `verify`. Other kinds of reference are "not checked" here.

An smtp entry that requires a login and has no credentials of its own logs in with the credentials of each imap
account sending through it: those secrets list the smtp entry too, saying whose credentials it uses.

The renderers (text, JSON, markdown) are :mod:`validator.reporters.secrets_sheet`. The contact hints of MC306,
MC507 and MC512 (:mod:`validator.contacts`) name the same `contact`, so a failure says who can enter the secret.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from validator import secrets
from validator.credentials import SECRET_LABELS, secret_path

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Entry
    from validator.engine import CheckOptions
    from validator.finding import Location
    from validator.model import Credentials, Imap, Smtp
    from validator.outcome import Result
    from validator.trust import Trust

# The kinds of secret reference, in the order they are looked for on a reference object.
KINDS = ("env", "file", "credential", "command", "sops")
# Availability of one reference here.
AVAILABLE, MISSING, WITHHELD, NOT_CHECKED = "available", "missing", "withheld", "not-checked"
# What an oauth2 `command` gives: not a secret reference of its own, but the login depends on it just the same.
ACCESS_TOKEN = "access token"


@dataclass(frozen=True)
class Reference:
    """Where a secret is taken from: ``kind`` (env, file, credential, command) and what the YAML names there
    (a string; a command's argument list as a tuple)."""

    kind: str
    value: str | tuple[str, ...]
    # A file's real path (relative paths start at the YAML file's folder): two `{file: pw}` in different folders are
    # different files. Empty for other kinds.
    resolved: str = ""

    @property
    def shown(self) -> str:
        """The value as written for people: a command's arguments joined as a shell would read them."""
        return shlex.join(self.value) if isinstance(self.value, tuple) else self.value

    @property
    def text(self) -> str:
        """One line for people: ``env NAME``, ``file PATH``, ``credential NAME``, ``command prog arg ...``."""
        return f"{self.kind} {self.shown}"

    @property
    def program(self) -> str | None:
        """The program a command reference runs (what `--allow-command` names), else None."""
        return self.value[0] if isinstance(self.value, tuple) and self.value else None


def reference(secret: object, folder: str = "") -> Reference:
    """What a secret reference names, from whichever of ``env``, ``file``, ``credential``, ``command`` and ``sops``
    it has; a file's path resolved from ``folder`` (the YAML file's).

    Read by attribute, so every kind of reference the model holds is described the same way.
    """
    for kind in KINDS:
        value = getattr(secret, kind, None)
        if isinstance(value, str):
            if kind == "file" and folder:
                return Reference(kind, value, secrets.Ref.of_file(value, folder).path)
            return Reference(kind, value)
        if isinstance(value, (list, tuple)):
            return Reference(kind, tuple(str(item) for item in value))
    raise ValueError(f"a secret reference that names none of {', '.join(KINDS)}")


@dataclass(frozen=True)
class Use:
    """One login that needs the secret: the entry (``section``, ``account``) and its ``username``; ``key`` is the
    credentials' key holding the reference (`password`, `client_secret`, ...); ``via`` names the imap account
    whose credentials an smtp entry without its own uses (else None); ``owner`` is the entry whose credentials
    these are, ``contact`` their contact, ``location`` where the reference is written."""

    section: str
    account: str
    username: str
    key: str
    via: str | None
    owner: str
    contact: str | None
    location: Location


@dataclass(frozen=True)
class Availability:
    """Whether a reference can be had here, never its value.

    ``status``: ``available`` (set, and allowed), ``missing`` (allowed but not set or empty), ``withheld``
    (outside `--allow-env`: not looked up), ``not-checked`` (a kind this sheet does not look at). ``set``: whether
    the variable is set (None when not looked up or no variable); ``allowed``: whether the run's trust settings
    let it be read or run (None when they say nothing about this kind).
    """

    status: str
    set: bool | None = None
    allowed: bool | None = None


@dataclass(frozen=True)
class Row:
    """One distinct reference with everything that uses it."""

    reference: Reference
    what: tuple[str, ...]
    uses: tuple[Use, ...]
    availability: Availability

    @property
    def contacts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(use.contact for use in self.uses if use.contact is not None))

    @property
    def without_contact(self) -> tuple[str, ...]:
        """The entries whose credentials use this reference and name no `contact` (MC305)."""
        return tuple(dict.fromkeys(use.owner for use in self.uses if use.contact is None))


@dataclass(frozen=True)
class Sheet:
    rows: tuple[Row, ...]
    files: tuple[str, ...] = ()
    # The run's `--allow-env` patterns (None: not given, any variable may be read) and `--allow-command` programs.
    allow_env: tuple[str, ...] | None = None
    allow_command: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.availability.status == status)

    @property
    def unavailable(self) -> tuple[Row, ...]:
        """Variables a run here could not read: not set, or outside `--allow-env` (what `--require-env` fails on)."""
        return tuple(row for row in self.rows if row.availability.status in (MISSING, WITHHELD))


def build(accounts: AccountSet, env: Mapping[str, str], trust: Trust, files: tuple[str, ...] = ()) -> Sheet:
    """The sheet of ``accounts``; ``env`` is only asked whether a variable is set, and only for allowed ones."""
    uses: dict[Reference, list[tuple[str, Use]]] = {}

    def add(ref: Reference, what: str, use: Use) -> None:
        uses.setdefault(ref, []).append((what, use))

    def login(
        entry: Entry[Smtp] | Entry[Imap], credentials: Credentials, section: str, account: str, via: str | None
    ) -> None:
        for ref, what, key, path in references(credentials, secrets.folder(entry)):
            at = entry.origin.at(*path)
            add(ref, what, Use(section, account, credentials.username, key, via, entry.id, credentials.contact, at))

    borrowing = {
        smtp.id: smtp
        for smtp in accounts.smtp
        if smtp.model.credentials is None and smtp.model.authentication == "required"
    }
    for smtp in accounts.smtp:
        if smtp.model.credentials is not None:
            login(smtp, smtp.model.credentials, "smtp", smtp.id, None)
    for imap in accounts.imap:
        login(imap, imap.model.credentials, "imap", imap.id, None)
        sender = borrowing.get(imap.model.outgoing)
        if sender is not None:
            login(imap, imap.model.credentials, "smtp", sender.id, imap.id)
    rows = tuple(
        Row(
            ref,
            tuple(dict.fromkeys(what for what, _ in found)),
            tuple(use for _, use in found),
            availability(ref, env, trust),
        )
        for ref, found in uses.items()
    )
    return Sheet(rows, files, trust.env, trust.commands)


def references(credentials: Credentials, folder: str = "") -> list[tuple[Reference, str, str, tuple[str, ...]]]:
    """(reference, what it is, key, path in the entry) of every secret ``credentials`` take, and of an oauth2
    `command`, whose printed token the login needs as much; relative files are resolved from ``folder``."""
    out = [
        (reference(secret, folder), SECRET_LABELS.get(key, key), key, secret_path(key))
        for key, secret in credentials.secrets
    ]
    oauth2 = credentials.oauth2
    if oauth2 is not None and oauth2.command is not None:
        path = ("credentials", "oauth2", "command")
        out.append((Reference("command", tuple(oauth2.command)), ACCESS_TOKEN, "command", path))
    return out


def availability(ref: Reference, env: Mapping[str, str], trust: Trust) -> Availability:
    """Whether ``ref`` is available here, under the run's trust settings; no value is read but a variable's."""
    if ref.kind == "env":
        assert isinstance(ref.value, str)
        if not trust.env_allowed(ref.value):
            return Availability(WITHHELD, None, False)  # never looked up, as verify never reads it
        present = bool(env.get(ref.value))
        return Availability(AVAILABLE if present else MISSING, present, True)
    program = ref.program
    if ref.kind == "command" and program is not None:
        return Availability(NOT_CHECKED, None, trust.command_allowed(program))  # never run here
    if ref.kind in ("file", "credential") and isinstance(ref.value, str):
        # Looked at as `check --require-env` does: a stat, never an open; a file outside every --allow-secret-dir
        # not even that.
        found = secrets.status(secrets.Ref(ref.kind, ref.value, path=ref.resolved), trust.places)
        if isinstance(found, secrets.Problem):
            return Availability(WITHHELD, None, False) if found.rule == "MC511" else Availability(MISSING, None, True)
        return Availability(AVAILABLE, None, True)
    return Availability(NOT_CHECKED)  # sops: in the file, decrypted by verify --sops


def run(options: CheckOptions, trust: Trust) -> tuple[Result, Sheet | None]:
    """The static checks of ``options`` (MC306 left to the sheet), then the sheet; None when the set has static
    errors or entries that fail the schema (a sheet from them could leave secrets out)."""
    from validator import engine

    result, accounts = engine.analyse(replace(options, require_env=False))
    if engine.unfit(result, accounts) is not None:
        return result, None
    return result, build(accounts, options.env, trust, tuple(source.name for source in result.files))


"""The account set: every entry of a run as a model (:class:`Entry`) together with where it came from.

The schema stage decides which entries are valid (:func:`prevalidate` is its fast path); :func:`build` then
turns each document's outcome (a :class:`Checked`) into the :class:`AccountSet` the rules look at, with the
run's :class:`Context` beside it. The models themselves and the JSON Schema live in :mod:`validator.model`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from validator import plain
from validator.finding import Finding, Location, Severity
from validator.formats import email_problem, host_problem
from validator.loader import SECTIONS, Document
from validator.sanitize import has_control, one_line
from validator.secrets import Places

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from validator.model import Credentials, Imap, Smtp, User
    from validator.sops import Encryption

M = TypeVar("M", bound="BaseModel")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an entry sits: its document and its path inside it (``("imap", 3)``)."""

    document: Document
    path: tuple[object, ...]

    def at(self, *sub: object, key: bool = False) -> Location:
        return self.document.location(self.path + sub, key=key)

    def __str__(self) -> str:
        location = self.at()
        return f"{location.file}:{location.line}:{location.column}"


@dataclass(frozen=True, slots=True)
class Entry(Generic[M]):
    """A validated model together with where it came from."""

    model: M
    origin: Origin

    @property
    def id(self) -> str:
        return str(getattr(self.model, "id", ""))

    def report(
        self, rule: str, severity: Severity, message: str, *path: object, key: bool = False, hint: str | None = None
    ) -> Finding:
        """A finding about this entry at ``path`` (a key's own position with ``key=True``)."""
        return Finding(rule, severity, message, self.origin.at(*path, key=key), hint, self.id or None)


@dataclass(frozen=True, slots=True)
class RawEntry:
    """Facts about an entry taken before validation, so references resolve even to invalid entries."""

    section: str
    # None unless a string free of control characters: rules quote ids in messages and hints, and an id
    # holding one (reported by MC104) is no name anything could refer to.
    id: str | None
    origin: Origin
    data: Mapping[str, Any]


@dataclass
class AccountSet:
    """Every account of one run: valid entries as models, all entries as raw facts."""

    smtp: list[Entry[Smtp]] = field(default_factory=list)
    imap: list[Entry[Imap]] = field(default_factory=list)
    users: list[Entry[User]] = field(default_factory=list)
    raw: list[RawEntry] = field(default_factory=list)
    has_users: bool = False
    # False when some file could not be read whole: rules that conclude from absence stay quiet.
    complete: bool = True
    # Entries the schema passed but the model refused (a gap between the two); reported as MC104.
    problems: list[Finding] = field(default_factory=list)
    # Entries that failed the schema: missing from the models, or modelled without the keys at fault.
    # Whatever the suppressions say, export and diff must not present such a set as complete.
    flawed: list[Origin] = field(default_factory=list)
    # The documents SOPS encrypted, with what is encrypted in each (MC306, MC309).
    encrypted: list[tuple[Document, Encryption]] = field(default_factory=list)
    # The values `--sops` decrypted, by secret reference key (validator.sops.key); never shown.
    sops_values: dict[str, str] = field(default_factory=dict, repr=False)

    def raw_ids(self, section: str) -> dict[str, RawEntry]:
        """First entry of ``section`` for each id."""
        found: dict[str, RawEntry] = {}
        for entry in self.raw:
            if entry.section == section and entry.id is not None:
                found.setdefault(entry.id, entry)
        return found

    def credentials(self) -> Iterator[tuple[Entry[Smtp] | Entry[Imap], Credentials]]:
        for smtp in self.smtp:
            if smtp.model.credentials is not None:
                yield smtp, smtp.model.credentials
        for imap in self.imap:
            yield imap, imap.model.credentials


@dataclass(frozen=True)
class Context:
    """What the rules may know about the run besides the accounts."""

    env: Mapping[str, str] = field(default_factory=dict)
    require_env: bool = False
    # `verify --allow-env`: variables outside it are never read, so MC306 does not ask for them (MC511 says why).
    env_allowed: Callable[[str], bool] | None = None
    # `--env-file`, as given: MC306 then says the variable is not there either, instead of suggesting the flag.
    env_file: str | None = None
    # The day of the run, taken once: MC307 words a provider's date as "from …" before it and "since …" after.
    today: datetime.date = field(default_factory=datetime.date.today)
    # Where `{file:}` and `{credential:}` secrets may be read from (--allow-secret-dir, $CREDENTIALS_DIRECTORY).
    places: Places = field(default_factory=Places)
    # A live run (verify, folders): a secret its trust settings refuse is the trust screen's MC511, per check.
    live: bool = False
    # `--sops`: SOPS-encrypted files are decrypted for the live run.
    sops: bool = False


@dataclass(frozen=True)
class Checked:
    """One document after the schema stage, as :func:`build` needs it. Entries are named by
    ``(section, index)``, so ``("imap", 0)`` is the first entry of the document's ``imap`` list."""

    document: Document
    # Entries that failed the schema, each with the keys at fault (see schema.check_document).
    invalid: Mapping[tuple[str, int], set[object]] = field(default_factory=dict)
    # Entries the fast path (prevalidate) already made into models, or into plain records (validator.plain).
    passed: Mapping[tuple[str, int], Any] = field(default_factory=dict)
    # What SOPS encrypted in the document, if it did.
    encryption: Encryption | None = None


_ROOT_KEYS = frozenset({"version", *SECTIONS})


def prevalidate(
    document: Document, encryption: Encryption | None = None, *, models: bool = False
) -> tuple[bool, dict[tuple[str, int], Any]]:
    """The fast path: whether the document's top level is valid, and the entries that certainly are.

    An entry that passes pydantic in strict mode, holds no null and passes the format checks is valid
    by the JSON Schema too, so the schema stage skips it; every other entry goes through jsonschema,
    which alone words the findings. So the output is the same whichever path an entry takes.

    The entries come as plain records (:mod:`validator.plain`, whose check is that strict validation without
    importing pydantic, which costs most of a check's start), or with ``models`` (what `export`, `diff` and the
    live commands hand on) and in a document SOPS encrypted, as the pydantic models.
    """
    data = document.data
    if not (
        isinstance(data, dict)
        and data.keys() <= _ROOT_KEYS
        and type(data.get("version")) is int
        and data["version"] == 1
        and all(isinstance(data[section], list) for section in SECTIONS if section in data)
    ):
        return False, {}
    passed: dict[tuple[str, int], Any] = {}
    if not models and encryption is None:
        for section in SECTIONS:
            for index, item in enumerate(data.get(section, ())):
                if isinstance(item, dict) and not _has_null(item):
                    record = plain.record(section, item)
                    if record is not None:
                        passed[(section, index)] = record
        return True, passed
    from pydantic import ValidationError

    from validator.model import ENTRY_MODELS

    for section, model in ENTRY_MODELS.items():
        for index, item in enumerate(data.get(section, ())):
            if not isinstance(item, dict) or _has_null(item):
                continue
            view = _decrypted_view(item, (section, index), encryption, document) if encryption is not None else item
            try:
                entry = model.model_validate(view, strict=True)
            except ValidationError:
                continue
            if _formats_ok(entry):
                passed[(section, index)] = entry
    return True, passed


def entry_count(data: Any) -> int:
    """How many entries the sections of a document's data hold (0 for data that is no mapping)."""
    return sum(len(data.get(section, ())) for section in SECTIONS) if isinstance(data, dict) else 0


def _has_null(item: dict[Any, Any]) -> bool:
    # Optional fields accept None in the models but not in the schema (`user: ~` is a wrong type).
    # A plain loop: any() over a generator cost several times more on 10,000 entries.
    for value in item.values():  # noqa: SIM110
        if value is None or (type(value) is dict and _has_null(value)):
            return True
    return False


def _formats_ok(entry: BaseModel) -> bool:
    from validator.model import Imap, Smtp

    if isinstance(entry, Smtp):
        return host_problem(entry.host) is None and (
            entry.test_recipient is None or email_problem(entry.test_recipient) is None
        )
    if isinstance(entry, Imap):
        return host_problem(entry.host) is None and email_problem(entry.address) is None
    return True


def build(checked: Iterable[Checked], complete: bool) -> AccountSet:
    """The account set of the checked documents.

    An entry the fast path passed is taken as it is. An entry that failed the schema becomes a model
    without the keys at fault when that is still valid, else stays raw.
    """
    accounts = AccountSet(complete=complete)
    for outcome in checked:
        document = outcome.document
        data = document.data
        if not isinstance(data, dict):
            continue
        if outcome.encryption is not None:
            accounts.encrypted.append((document, outcome.encryption))
        if isinstance(data.get("users"), list):
            accounts.has_users = True
        for section in SECTIONS:
            items = data.get(section)
            if not isinstance(items, list):
                continue
            target: list[Any] = getattr(accounts, section)
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                origin = Origin(document, (section, index))
                accounts.raw.append(RawEntry(section, _raw_id(item), origin, item))
                ready = outcome.passed.get((section, index))
                if ready is not None:
                    target.append(Entry(ready, origin))
                    continue
                bad = outcome.invalid.get((section, index))
                if bad is not None:
                    accounts.flawed.append(origin)
                from pydantic import ValidationError  # only for an entry the fast path did not pass

                from validator.model import ENTRY_MODELS

                try:
                    model = ENTRY_MODELS[section]
                    valid = {k: v for k, v in item.items() if k not in bad} if bad else item
                    if outcome.encryption is not None:
                        valid = _decrypted_view(valid, (section, index), outcome.encryption, document)
                    target.append(Entry(model.model_validate(valid), origin))
                except ValidationError as error:
                    if bad is None:  # the schema let through what the model refuses: report, never crash
                        accounts.problems.extend(_refused(error, origin))
                        accounts.flawed.append(origin)
    return accounts


def _decrypted_view(
    item: dict[str, Any], entry: tuple[str, int], encryption: Encryption, document: Document
) -> dict[str, Any]:
    from validator.sops import with_secrets

    return with_secrets(item, entry, encryption, document.source.name)


def _raw_id(item: Mapping[Any, Any]) -> str | None:
    raw_id = item.get("id")
    return raw_id if isinstance(raw_id, str) and not has_control(raw_id) else None


def _refused(error: ValidationError, origin: Origin) -> Iterator[Finding]:
    from validator.registry import finding  # at run time: the registry's types name this module's

    # Only the field path is used: pydantic's messages may quote the input, which may be a secret.
    label = f"{origin.path[0]} entry #{int(str(origin.path[1])) + 1}"
    for problem in error.errors(include_input=False, include_url=False):
        path = tuple(problem["loc"])
        name = one_line(str(path[-1])) if path else "entry"
        yield finding("MC104", f"'{name}' of {label} is not allowed", origin.at(*path))

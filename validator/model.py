"""The account model (pydantic v2, frozen): the one source of truth for the format and its JSON Schema.

``schema/accounts.schema.json`` is generated from these classes by ``scripts/generate_schema.py``
(``json_schema()`` below); a test fails when the committed file and the models drift apart. At run
time the schema stage reads the committed file, so a check never pays for schema generation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from validator.finding import Finding, Location, Severity
from validator.formats import email_problem, host_problem
from validator.loader import Document
from validator.sanitize import has_control, one_line

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

Encryption = Literal["none", "starttls", "ssl"]
AccountId = Annotated[str, Field(pattern=ID_PATTERN)]
Host = Annotated[str, Field(pattern=TEXT_PATTERN, json_schema_extra={"format": "hostname"})]
Email = Annotated[str, Field(pattern=TEXT_PATTERN, json_schema_extra={"format": "email"})]
# Free text: a display name, a contact, a login name, a folder.
Text = Annotated[str, Field(pattern=TEXT_PATTERN)]
NonEmptyText = Annotated[str, Field(min_length=1, pattern=NONEMPTY_TEXT_PATTERN)]
Port = Annotated[int, Field(ge=1, le=65535)]

_ENCRYPTION = (
    "How the connection is protected: `none` (plain text), `starttls` (plain connect, then STARTTLS, "
    "which must be offered) or `ssl` (implicit TLS from the first byte)."
)
_ALLOW_INSECURE = "Must be true before credentials may travel over a connection with `encryption: none`."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Strict):
    """A secret named by environment variable; its value never lives in the YAML."""

    env: str = Field(
        pattern=ENV_PATTERN,
        description="Name of the environment variable that holds the secret.",
        examples=["SMTP_PASSWORD"],
    )


class Credentials(_Strict):
    """Username and password for logging in."""

    username: NonEmptyText = Field(
        description="Login name, often the mailbox address.", examples=["mailer@example.com"]
    )
    password: Secret = Field(
        description="The password, as `{env: NAME}`; never a plain string.", examples=[{"env": "SMTP_PASSWORD"}]
    )
    contact: NonEmptyText | None = Field(
        None,
        description="Who can enter this password when it is needed.",
        examples=["IT desk <it@example.com>"],
    )


class User(_Strict):
    """An application user that personal (scope `user`) accounts belong to."""

    id: AccountId = Field(description="The user's id, referenced by `user` of an imap account.", examples=["anna"])
    name: Text | None = Field(None, description="Display name.", examples=["Anna Muster"])


class Smtp(_Strict):
    """An outgoing server; normally one, shared by every user (the "system account")."""

    id: AccountId = Field(
        description="Unique id across all files of the set; imap accounts name it in `outgoing`.", examples=["outgoing"]
    )
    name: Text | None = Field(None, description="Display name.", examples=["Postausgangsserver"])
    host: Host = Field(
        description="DNS name (IDNA allowed) or IP literal of the server.", examples=["smtp.example.com"]
    )
    port: Port | None = Field(
        None, description="TCP port; default by encryption: none 25, starttls 587, ssl 465.", examples=[587]
    )
    encryption: Encryption = Field(description=_ENCRYPTION, examples=["starttls"])
    authentication: Literal["required", "none"] = Field(
        "required", description="Whether the server needs a login before it accepts mail."
    )
    credentials: Credentials | None = Field(
        None, description="Shared credentials used by every account that sends through this server."
    )
    test_recipient: Email | None = Field(
        None, description="Where `mailcfg verify --send-test` sends its test message.", examples=["it@example.com"]
    )
    allow_insecure: bool = Field(False, description=_ALLOW_INSECURE)

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS["smtp"][self.encryption]


class Imap(_Strict):
    """A mailbox: shared (scope `system`, like info@) or personal (scope `user`)."""

    id: AccountId = Field(description="Unique id across all files of the set.", examples=["info"])
    name: Text | None = Field(None, description="Display name.", examples=["Info"])
    scope: Literal["system", "user"] = Field(
        description="`system` for a shared address like info@, `user` for a personal mailbox."
    )
    user: AccountId | None = Field(
        None,
        description="Id of the owning entry of `users`; required when scope is user, forbidden when system.",
        examples=["anna"],
    )
    address: Email = Field(description="The mailbox's e-mail address.", examples=["info@example.com"])
    host: Host = Field(
        description="DNS name (IDNA allowed) or IP literal of the IMAP server.", examples=["imap.example.com"]
    )
    port: Port | None = Field(
        None, description="TCP port; default by encryption: none 143, starttls 143, ssl 993.", examples=[993]
    )
    encryption: Encryption = Field(description=_ENCRYPTION, examples=["ssl"])
    outgoing: AccountId = Field(description="Id of the smtp entry this account sends through.", examples=["outgoing"])
    credentials: Credentials = Field(
        description="IMAP login; also used for SMTP when that smtp entry requires authentication "
        "and has no shared credentials."
    )
    sent_folder: NonEmptyText = Field(
        "Sent",
        description="Folder where sent messages are stored.",
        examples=["Sent", "Gesendete Elemente"],
    )
    allow_insecure: bool = Field(False, description=_ALLOW_INSECURE)

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS["imap"][self.encryption]


class AccountsDocument(_Strict):
    """One YAML document of a mailcfg account set (format version 1)."""

    version: Literal[1] = Field(description="Format version; must be 1.")
    users: list[User] = Field(default_factory=list, description="The application's users.")
    smtp: list[Smtp] = Field(default_factory=list, description="Outgoing servers.")
    imap: list[Imap] = Field(default_factory=list, description="IMAP mailboxes.")


SECTIONS: dict[str, type[_Strict]] = {"users": User, "smtp": Smtp, "imap": Imap}


class _Generator(GenerateJsonSchema):
    """Plain schemas: optional fields are simply not required (no ``anyOf`` with null, no titles)."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        result = super().default_schema(schema)
        if result.get("default", 0) is None:
            del result["default"]
        return result

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) generated from the models; what the committed file must equal."""
    body = AccountsDocument.model_json_schema(schema_generator=_Generator)
    for definition in body.get("$defs", {}).values():
        definition.pop("title", None)
    body.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/mailcfg/mailcfg/blob/main/schema/accounts.schema.json",
        "title": "mailcfg account set",
        **body,
    }


# ------------------------------------------------------------------------------------- the account set

M = TypeVar("M", bound=BaseModel)


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


_ROOT_KEYS = frozenset({"version", "users", "smtp", "imap"})


def prevalidate(document: Document) -> tuple[bool, dict[tuple[str, int], BaseModel]]:
    """The fast path: whether the document's top level is valid, and the entries that certainly are.

    An entry that passes pydantic in strict mode, holds no null and passes the format checks is valid
    by the JSON Schema too, so the schema stage skips it; every other entry goes through jsonschema,
    which alone words the findings. So the output is the same whichever path an entry takes.
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
    passed: dict[tuple[str, int], BaseModel] = {}
    for section, model in SECTIONS.items():
        for index, item in enumerate(data.get(section, ())):
            if not isinstance(item, dict) or _has_null(item):
                continue
            try:
                entry = model.model_validate(item, strict=True)
            except ValidationError:
                continue
            if _formats_ok(entry):
                passed[(section, index)] = entry
    return True, passed


def _has_null(item: dict[Any, Any]) -> bool:
    # Optional fields accept None in the models but not in the schema (`user: ~` is a wrong type).
    # A plain loop: any() over a generator cost several times more on 10,000 entries.
    for value in item.values():  # noqa: SIM110
        if value is None or (type(value) is dict and _has_null(value)):
            return True
    return False


def _formats_ok(entry: BaseModel) -> bool:
    if isinstance(entry, Smtp):
        return host_problem(entry.host) is None and (
            entry.test_recipient is None or email_problem(entry.test_recipient) is None
        )
    if isinstance(entry, Imap):
        return host_problem(entry.host) is None and email_problem(entry.address) is None
    return True


def build(
    documents: list[Document],
    invalid: Mapping[tuple[int, str, int], set[object]],
    complete: bool,
    passed: Mapping[tuple[int, str, int], BaseModel] | None = None,
) -> AccountSet:
    """The account set of ``documents``.

    ``passed`` holds the models the fast path already made. ``invalid`` maps (id(document), section,
    index) of entries that failed the schema to the keys at fault; such an entry becomes a model without
    those keys when that is still valid, else stays raw.
    """
    passed = passed or {}
    accounts = AccountSet(complete=complete)
    for document in documents:
        data = document.data
        if not isinstance(data, dict):
            continue
        if isinstance(data.get("users"), list):
            accounts.has_users = True
        for section, model in SECTIONS.items():
            items = data.get(section)
            if not isinstance(items, list):
                continue
            target: list[Any] = getattr(accounts, section)
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                origin = Origin(document, (section, index))
                accounts.raw.append(RawEntry(section, _raw_id(item), origin, item))
                ready = passed.get((id(document), section, index))
                if ready is not None:
                    target.append(Entry(ready, origin))
                    continue
                bad = invalid.get((id(document), section, index))
                if bad is not None:
                    accounts.flawed.append(origin)
                try:
                    valid = {k: v for k, v in item.items() if k not in bad} if bad else item
                    target.append(Entry(model.model_validate(valid), origin))
                except ValidationError as error:
                    if bad is None:  # the schema let through what the model refuses: report, never crash
                        accounts.problems.extend(_refused(error, origin))
                        accounts.flawed.append(origin)
    return accounts


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


def schema_json(schema: dict[str, Any]) -> str:
    """The committed file's exact text for ``schema`` (stable key order, trailing newline)."""
    import json

    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"

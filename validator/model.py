"""The account model (pydantic v2, frozen): the one source of truth for the format and its JSON Schema.

``schema/accounts.schema.json`` is generated from these classes by ``scripts/generate_schema.py``
(``json_schema()`` below); a test fails when the committed file and the models drift apart. At run
time the schema stage reads the committed file, so a check never pays for schema generation. The account
set made of these models, each entry with where it came from, is :mod:`validator.accounts`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from validator.loader import SECTIONS

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


# The model of each section's entries, in the sections' order.
ENTRY_MODELS: dict[str, type[_Strict]] = dict(zip(SECTIONS, (User, Smtp, Imap), strict=True))


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


def schema_json(schema: dict[str, Any]) -> str:
    """The committed file's exact text for ``schema`` (stable key order, trailing newline)."""
    import json

    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"

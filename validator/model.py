"""The account model (pydantic v2, frozen): the one source of truth for the format and its JSON Schema.

``schema/accounts.schema.json`` is generated from these classes by ``scripts/generate_schema.py``
(``json_schema()`` below); a test fails when the committed file and the models drift apart. At run
time the schema stage reads the committed file, so a check never pays for schema generation. The account
set made of these models, each entry with where it came from, is :mod:`validator.accounts`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from validator import plain
from validator.credentials import GRANT_KEYS, SHARED_TENANTS, TOKEN_KEYS
from validator.loader import SECTIONS

# The patterns and constants of the format live in validator.plain, which the fast path reads without pydantic;
# they are named here too, as the models' vocabulary.
CONTROL_CHARACTERS = plain.CONTROL_CHARACTERS
TEXT_PATTERN = plain.TEXT_PATTERN
NONEMPTY_TEXT_PATTERN = plain.NONEMPTY_TEXT_PATTERN
ID_PATTERN = plain.ID_PATTERN
ENV_PATTERN = plain.ENV_PATTERN
CREDENTIAL_PATTERN = plain.CREDENTIAL_PATTERN
HTTPS_URL_PATTERN = plain.HTTPS_URL_PATTERN
TENANT_PATTERN = plain.TENANT_PATTERN
SECRET_SOURCES = plain.SECRET_SOURCES
DEFAULT_PORTS = plain.DEFAULT_PORTS
oauth2_problem = plain.oauth2_problem

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
    """Where a secret's value comes from (exactly one source); the value itself never lives in the YAML."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": [key]} for key in SECRET_SOURCES]})

    env: str | None = Field(
        None,
        pattern=ENV_PATTERN,
        description="Name of the environment variable that holds the secret.",
        examples=["SMTP_PASSWORD"],
    )
    file: NonEmptyText | None = Field(
        None,
        description="A file that holds the secret (one trailing newline is dropped); relative to the YAML file's "
        "folder, `~` expanded. Read only inside a directory the run allows: `--allow-secret-dir`.",
        examples=["/run/secrets/smtp_password"],
    )
    credential: str | None = Field(
        None,
        pattern=CREDENTIAL_PATTERN,
        description="A systemd credential: the file of this name in `$CREDENTIALS_DIRECTORY` "
        "(`LoadCredential=`, `SetCredentialEncrypted=`).",
        examples=["smtp_password"],
    )
    command: list[NonEmptyText] | None = Field(
        None,
        min_length=1,
        description="A program and its arguments that print the secret (run without a shell, and only when the "
        "run allows the program: `--allow-command`; one trailing newline is dropped).",
        examples=[["op", "read", "op://Mail/smtp/password"]],
    )

    # A value SOPS encrypted in the YAML file itself: (file name, JSON pointer). Never read from the YAML (a private
    # attribute is no field): only validator/sops.py makes such a secret, from an `ENC[...]` value.
    _sops: tuple[str, str] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        # The schema's `oneOf`, for the fast path (accounts.prevalidate).
        if self._sops is None and sum(getattr(self, key) is not None for key in SECRET_SOURCES) != 1:
            raise ValueError("exactly one of env, file, credential and command")
        return self

    @classmethod
    def encrypted(cls, file: str, pointer: str) -> Secret:
        """The secret SOPS encrypted at ``pointer`` of ``file``."""
        secret = cls.model_construct()
        secret._sops = (file, pointer)
        return secret

    @property
    def sops(self) -> str | None:
        """``FILE#POINTER`` of a value encrypted with SOPS in the YAML file, else None."""
        return f"{self._sops[0]}#{self._sops[1]}" if self._sops else None

    @property
    def source(self) -> str:
        """Which source the secret comes from: `env`, `file`, `credential`, `command`, or `sops` (encrypted in the
        YAML file)."""
        if self._sops:
            return "sops"
        return next(key for key in SECRET_SOURCES if getattr(self, key) is not None)


Provider = Literal["generic", "microsoft", "google"]
Mechanism = Literal["xoauth2", "oauthbearer"]


class OAuth2(_Strict):
    """An OAuth2 login (SASL XOAUTH2 or OAUTHBEARER) instead of a password.

    The grant follows from the keys: `command` runs a program that prints an access token; `service_account`
    signs a JWT bearer assertion (RFC 7523, Google); `refresh_token` uses the refresh grant (RFC 6749 6);
    `client_secret` alone the client-credentials grant (RFC 6749 4.4, Microsoft's app-only access).
    """

    provider: Provider = Field(
        "generic",
        description="`microsoft` or `google` fill in the token URL and the scopes; `generic` needs `token_url`.",
    )
    tenant: str | None = Field(
        None,
        pattern=TENANT_PATTERN,
        description="Microsoft: the directory (tenant) as a verified domain or its GUID; app-only access needs "
        "the tenant itself, never `common`, `organizations` or `consumers`.",
        examples=["contoso.onmicrosoft.com"],
    )
    token_url: str | None = Field(
        None,
        pattern=HTTPS_URL_PATTERN,
        description="The token endpoint (https only); required for `generic`, and wins over the provider's.",
        examples=["https://login.example.com/oauth2/token"],
    )
    client_id: NonEmptyText | None = Field(
        None, description="The application (client) id.", examples=["00000000-0000-0000-0000-000000000000"]
    )
    client_secret: Secret | None = Field(
        None, description="The client secret of a confidential client: a secret reference (`{env: NAME}`, …)."
    )
    refresh_token: Secret | None = Field(
        None, description="A refresh token, a secret reference (`{env: NAME}`, …): the refresh-token grant."
    )
    service_account: Secret | None = Field(
        None,
        description="A Google service account's JSON key, a secret reference (`{env: NAME}`, …): the JWT bearer grant.",
    )
    subject: Email | None = Field(
        None,
        description="Service account: the mailbox to act for (domain-wide delegation); default: the username.",
        examples=["info@example.com"],
    )
    scopes: list[NonEmptyText] | None = Field(
        None,
        min_length=1,
        description="Scopes to request; default by provider, grant and protocol.",
        examples=[["https://outlook.office.com/SMTP.Send"]],
    )
    command: list[NonEmptyText] | None = Field(
        None,
        min_length=1,
        description="A program and its arguments that print an access token (run without a shell, and only "
        "when the run allows the program: `--allow-command`); instead of every token key.",
        examples=[["oama", "access", "info@example.com"]],
    )
    mechanism: Mechanism = Field(
        "xoauth2", description="The SASL mechanism: `xoauth2` (default) or `oauthbearer` (RFC 7628)."
    )

    @model_validator(mode="after")
    def _one_grant(self) -> OAuth2:
        # The same constraints as OAUTH2_RULES in the JSON Schema, for the fast path (accounts.prevalidate).
        problem = oauth2_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def grant(self) -> str:
        """`command`, `jwt-bearer`, `refresh_token` or `client_credentials`."""
        return plain.oauth2_grant(self)


def _forbid(*keys: str) -> dict[str, Any]:
    return {"properties": dict.fromkeys(keys, False)}


# The combinations of OAuth2 keys that make sense, as JSON Schema (the schema stage words each keyword's
# error; `OAuth2._one_grant` holds the fast path to the same).
OAUTH2_RULES: dict[str, Any] = {
    "dependentSchemas": {
        "command": _forbid(*TOKEN_KEYS),
        "service_account": _forbid("refresh_token", "client_secret"),
        "subject": {"required": ["service_account"]},
        "tenant": {"required": ["provider"], "properties": {"provider": {"const": "microsoft"}}},
    },
    "anyOf": [{"required": ["command"]}, *({"required": [key]} for key in GRANT_KEYS)],
    "allOf": [
        {
            "if": {"anyOf": [{"required": ["command"]}, {"required": ["service_account"]}]},
            "else": {"required": ["client_id"]},
        },
        {
            "if": {
                "anyOf": [
                    {"required": ["command"]},
                    {"required": ["service_account"]},
                    {"required": ["provider"], "properties": {"provider": {"enum": ["microsoft", "google"]}}},
                ]
            },
            "else": {"required": ["token_url"]},
        },
        {
            "if": {"required": ["provider"], "properties": {"provider": {"const": "microsoft"}}},
            "then": {"anyOf": [{"required": ["command"]}, {"required": ["tenant"]}, {"required": ["token_url"]}]},
        },
        {
            "if": {"required": ["client_secret"], "not": {"required": ["refresh_token"]}},
            "then": {"properties": {"tenant": {"not": {"enum": list(SHARED_TENANTS)}}}},
        },
    ],
}
OAuth2.model_config["json_schema_extra"] = OAUTH2_RULES


class Credentials(_Strict):
    """The login: a username and either a password or an OAuth2 token source."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["password"]}, {"required": ["oauth2"]}],
            "dependentSchemas": {"app_password": {"required": ["password"]}},
        }
    )

    username: NonEmptyText = Field(
        description="Login name, often the mailbox address.", examples=["mailer@example.com"]
    )
    password: Secret | None = Field(
        None,
        description="The password, as a secret reference: `{env: NAME}`, `{file: PATH}`, `{credential: NAME}` or "
        "`{command: [PROGRAM, ARG...]}`; never a plain string. Exactly one of `password` and `oauth2`.",
        examples=[{"env": "SMTP_PASSWORD"}],
    )
    app_password: bool = Field(
        False,
        description="The password is a provider's app password (Google, with 2-Step Verification): "
        "password login stays possible there.",
    )
    oauth2: OAuth2 | None = Field(None, description="Log in with an OAuth2 access token instead of a password.")
    contact: NonEmptyText | None = Field(
        None,
        description="Who can enter this password (or renew this token) when it is needed.",
        examples=["IT desk <it@example.com>"],
    )

    @model_validator(mode="after")
    def _password_or_oauth2(self) -> Credentials:
        if (self.password is None) == (self.oauth2 is None):
            raise ValueError("exactly one of password and oauth2")
        if self.app_password and self.password is None:
            raise ValueError("app_password needs a password")
        return self

    @property
    def secrets(self) -> tuple[tuple[str, Secret], ...]:
        """Every secret these credentials reference, with its key: `password`, or the oauth2 keys."""
        return plain.credential_secrets(self)


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

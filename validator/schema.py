"""The schema stage: validate each document against the committed JSON Schema, all errors at once.

jsonschema's own messages repeat the offending value, which may be a secret; every error is turned into
a finding with a message of our own (MC005, MC101–MC106, MC301) that echoes values only for fields that
cannot hold secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validator.credentials import SECRET_FIELDS, problems
from validator.finding import Finding, Location, pointer_of
from validator.formats import email_problem, host_problem
from validator.loader import (
    FLAT_SECRET_KEYS,
    LOGIN_KEYS,
    NO_SPACE_SECRET,
    SECTIONS,
    hide_userinfo,
    secret_key,
    userinfo,
)
from validator.registry import finding
from validator.sanitize import has_control, one_line
from validator.suggest import did_you_mean

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from validator.loader import Document
    from validator.sops import Encryption

_SECTION_NAMES = {"users": "user", "smtp": "smtp entry", "imap": "imap account"}
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
    "number": "a number",
    "null": "empty",
}
_CONTROL_HINT = (
    "remove it: line breaks, tabs, terminal escapes and bidirectional overrides would reach server commands and reports"
)
_TLS_HINT = (
    "`tls` is ambiguous: starttls (ports 587/143) upgrades a plain connection, "
    "ssl (ports 465/993) is TLS from the first byte"
)
# What an `encryption` means that is not written as the format's word (the application's dialog offers
# "Ohne", "TLS" and "SSL"); `tls` depends on the port.
_ENCRYPTION_WORDS = {
    "ohne": "none",
    "keine": "none",
    "plain": "none",
    "ssl/tls": "ssl",
    "tls/ssl": "ssl",
    "implicit": "ssl",
    "implicit tls": "ssl",
    "start_tls": "starttls",
    "start-tls": "starttls",
    "start tls": "starttls",
}
_SPACE_HINT = "a space is needed after `{0}:`; without it YAML reads `{0}:…` as text"


def schema_path() -> Path:
    """The schema file: inside the installed package, else at the top of the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "accounts.schema.json", here.parent / "schema" / "accounts.schema.json"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("accounts.schema.json is missing from this installation")  # pragma: no cover


def schema_text() -> str:
    return schema_path().read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


@lru_cache(maxsize=1)
def _validator() -> Validator:
    from jsonschema import Draft202012Validator, FormatChecker, validators

    checker = FormatChecker(formats=())
    checker.checks("email", raises=ValueError)(_checked(email_problem))
    checker.checks("hostname", raises=ValueError)(_checked(host_problem))
    cls = validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]
    validator: Validator = cls(load_schema(), format_checker=checker)
    return validator


def _pattern(validator: Any, pattern: str, instance: object, schema: Any) -> Iterator[Any]:
    """jsonschema's ``pattern`` keyword with ECMAScript's ``$``, which JSON Schema means."""
    from jsonschema import ValidationError

    if isinstance(instance, str) and not _ecma(pattern).search(instance):
        # Our own words: jsonschema's would repeat the value, which may be a secret.
        yield ValidationError("does not match the pattern")


@lru_cache(maxsize=16)
def _ecma(pattern: str) -> re.Pattern[str]:
    # Python's `$` also matches before a final "\n", so "anna\n" would pass as an id here while the fast
    # path (pydantic's Rust regex) and editors (ECMAScript) refuse it. Every pattern of the schema ends in
    # a bare `$`, so it becomes `\Z`: the very end.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _checked(problem: Any) -> Any:
    def check(instance: object) -> bool:
        if isinstance(instance, str):
            reason = problem(instance)
            if reason:
                raise ValueError(reason)
        return True

    return check


def check_document(
    document: Document,
    root_ok: bool = False,
    passed: Container[tuple[str, int]] = (),
    encryption: Encryption | None = None,
) -> tuple[list[Finding], dict[tuple[str, int], set[object]]]:
    """Findings for one document, and for each entry that failed the schema the keys at fault.

    With ``root_ok`` (the top level is known to be valid) only the entries not in ``passed`` are
    validated, each inside a one-entry copy of the document so every path stays the same. The rules
    still see a failed entry when it is valid without the keys at fault, so one typo does not hide every
    other problem of the account. With ``encryption`` (a SOPS file), errors at its encrypted values are left out.
    """
    findings: list[Finding] = []
    invalid: dict[tuple[str, int], set[object]] = {}
    seen: set[tuple[str, tuple[object, ...], object]] = set()
    data = document.data
    for path, error in _errors(data, root_ok, passed):
        encrypted = encryption.covers(path) if encryption is not None else None
        if encrypted is not None:
            # A SOPS-encrypted value: a secret kept encrypted is no error; any other is opaque (not checked), and the
            # entry's model goes without it.
            if encryption is not None and encrypted not in encryption.secrets and len(path) > 2:
                invalid.setdefault((str(path[0]), int(str(path[1]))), set()).add(path[2])
            continue
        if len(path) >= 2 and path[0] in SECTIONS and isinstance(path[1], int):
            keys = invalid.setdefault((str(path[0]), path[1]), set())
            if len(path) > 2:
                keys.add(path[2])
            elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
                keys.update(k for k in error.instance if k not in _properties(error.schema))
        findings.extend(_findings(document, error, path, seen))
    return findings, invalid


def _errors(data: Any, root_ok: bool, passed: Container[tuple[str, int]]) -> Iterator[tuple[tuple[object, ...], Any]]:
    validator = _validator()
    if not root_ok:
        for error in validator.iter_errors(data):
            yield tuple(error.absolute_path), error
        return
    for section in SECTIONS:
        for index, item in enumerate(data.get(section, ())):
            if (section, index) in passed:
                continue
            for error in validator.iter_errors({"version": 1, section: [item]}):
                yield (section, index, *tuple(error.absolute_path)[2:]), error


@dataclass
class _Failure:
    """One jsonschema error at ``path`` of ``document``, with what the handlers word their findings from.

    ``seen`` is shared by the errors of one document: a finding that several errors lead to is made once.
    """

    document: Document
    error: Any
    path: tuple[object, ...]
    seen: set[tuple[str, tuple[object, ...], object]]

    @property
    def instance(self) -> Any:
        return self.error.instance

    @cached_property
    def account(self) -> str | None:
        return _account(self.document.data, self.path)

    @cached_property
    def where(self) -> str:
        return _describe(self.document.data, self.path)

    @property
    def location(self) -> Location:
        return self.document.location(self.path)

    @property
    def name(self) -> str:
        """The field at fault (``item`` for a list item)."""
        return str(self.path[-1]) if self.path and isinstance(self.path[-1], str) else "item"

    def first(self, what: str, detail: object = None) -> bool:
        """Whether this is the first time ``what`` is reported for this path (and ``detail``)."""
        key = (what, self.path, detail)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


_Handler = Callable[[_Failure], list[Finding]]


def _findings(
    document: Document, error: Any, path: tuple[object, ...], seen: set[tuple[str, tuple[object, ...], object]]
) -> list[Finding]:
    """The findings for one jsonschema error, worded by the handler of its keyword (:data:`_HANDLERS`).

    A wrong `version` and a wrong password are worded by what they are about, whatever the keyword; a key
    missing from or foreign to them is still worded by its keyword.
    """
    failure = _Failure(document, error, path, seen)
    kind = error.validator
    if kind == "oneOf" and path and path[-1] in SECRET_FIELDS:
        return _on_source(failure)
    if kind is None or not _COMBINATION_KEYWORDS.isdisjoint(error.relative_schema_path):
        return _on_combination(failure)
    if kind not in ("required", "additionalProperties"):
        if path == ("version",):
            return _on_version(failure)
        if not SECRET_FIELDS.isdisjoint(path):
            return _on_password(failure)
    return _HANDLERS.get(kind, _on_other)(failure)


# The keywords that state which keys go together (only `credentials` and `oauth2` use them); their errors
# (and a `false` schema's, whose keyword is None) are worded from the data by validator.credentials.
_COMBINATION_KEYWORDS = frozenset({"oneOf", "anyOf", "not", "dependentSchemas", "then", "else"})


def _on_combination(failure: _Failure) -> list[Finding]:
    """MC101/MC104 for keys of `credentials` or `oauth2` that do not go together, each once at its key."""
    path = failure.path
    if "credentials" not in path:  # pragma: no cover - no other part of the schema combines keys
        return _on_other(failure)
    at = path[: path.index("credentials") + 1]
    raw: Any = failure.document.data
    for part in at:
        raw = raw[part]
    out = []
    for problem in problems(raw):
        # Once per credentials, whichever error (of `credentials` or of `oauth2`, at whatever path) led here.
        key = ("combination", at, (problem.at, problem.message))
        if key not in failure.seen:
            failure.seen.add(key)
            hint = problem.hint
            if not problem.at and problem.rule == "MC101" and isinstance(raw, dict):
                # `password:secret` with no space: YAML read the password into another key or value.
                word = next((w for w in map(_no_space, [*raw, *raw.values()]) if w), None)
                hint = _SPACE_HINT.format(word) if word else hint
            out.append(
                finding(
                    problem.rule,
                    f"{_describe(failure.document.data, (*at, 'x'))} {problem.message}",
                    failure.document.location((*at, *problem.at), key=bool(problem.at)),
                    hint=hint,
                    account=failure.account,
                )
            )
    return out


def _on_required(failure: _Failure) -> list[Finding]:
    """MC101 for each missing key (MC005 for `version`, the `{env: NAME}` form for a password)."""
    document, path, instance = failure.document, failure.path, failure.instance
    out = []
    for name in failure.error.validator_value:
        if not (isinstance(instance, dict) and name not in instance and failure.first("req", name)):
            continue
        if not path and name == "version":
            out.append(
                finding(
                    "MC005",
                    "document has no `version`",
                    document.location(path),
                    hint="add `version: 1` at the top",
                )
            )
        else:
            word = next((w for w in map(_no_space, [*instance, *instance.values()]) if w), None)
            out.append(
                finding(
                    "MC101",
                    f"{failure.where} lacks required key '{name}'",
                    document.location(path),
                    hint=_SPACE_HINT.format(word) if word and name == "password" else None,
                    account=failure.account,
                )
            )
    return out


# Each source of a secret as it is written, for messages and hints (validator.model.SECRET_SOURCES).
_SOURCE_FORMS = {
    "env": "{env: NAME}",
    "file": "{file: PATH}",
    "credential": "{credential: NAME}",
    "command": "{command: [PROGRAM, ARG...]}",
}
_SOURCES_HINT = "one of `{env: NAME}`, `{file: PATH}`, `{credential: NAME}` or `{command: [PROGRAM, ARG...]}`"


def _on_source(failure: _Failure) -> list[Finding]:
    """A secret reference with no source or several (its `oneOf`): MC101, MC104; MC301 for a service-account key
    pasted in as a mapping. A mapping whose source key is written in other letters (`ENV`) is MC102's."""
    document, path, instance = failure.document, failure.path, failure.instance
    if not isinstance(instance, dict) or not failure.first("source"):
        return []  # a plain value is MC301 (its type), never described here
    field = str(path[-1])
    present = [key for key in _SOURCE_FORMS if key in instance]
    if len(present) > 1:
        return [
            finding(
                "MC104",
                f"`{field}` of {_entry(document.data, path)} names {len(present)} sources "
                f"({', '.join(f'`{key}`' for key in present)}): a secret comes from exactly one",
                document.location((*path, present[1]), key=True),
                hint=f"keep the one that holds the {field.replace('_', ' ')}",
                account=failure.account,
            )
        ]
    if present or any(isinstance(key, str) and key.lower() in _SOURCE_FORMS for key in instance):
        return []  # `{ENV: X}`: the wrongly written key says it (MC102)
    if field == "service_account" and instance:
        # A service-account key is a JSON object, and JSON is YAML: pasted in, it is a mapping of its fields
        # (private_key among them), the plaintext secret itself.
        return [
            finding(
                "MC301",
                f"plaintext service-account key in the credentials of {_entry(document.data, path)}",
                document.location(path),
                hint="delete it (and replace the key: it stays in the history); name an environment "
                "variable instead: `service_account: {env: SOME_VARIABLE}`",
                account=failure.account,
            )
        ]
    return [
        finding(
            "MC101",
            f"`{field}` of {_entry(document.data, path)} names no source: none of `env`, `file`, `credential`, "
            "`command`",
            document.location(path),
            hint=f"write `{field}: {{env: SOME_VARIABLE}}`, or {_SOURCES_HINT}",
            account=failure.account,
        )
    ]


def _on_additional_properties(failure: _Failure) -> list[Finding]:
    """MC102 for each unknown key, never echoing one that may be a secret; MC301 when it holds one."""
    document, path, instance = failure.document, failure.path, failure.instance
    allowed = list(_properties(failure.error.schema))
    out = []
    for key in instance:
        if key in allowed or not failure.first("extra", key):
            continue
        # A key that may be the secret itself is never echoed, not even in the JSON pointer.
        hidden = replace(document.location((*path, key), key=True), pointer=pointer_of(path))
        if any(secret_key(part) for part in path):
            out.append(_in_secret(failure, key, hidden))
            continue
        suggestion = did_you_mean(str(key), allowed) or f"known keys: {', '.join(allowed)}"
        word = _no_space(key)
        if (path and path[-1] in ("credentials", "oauth2")) or word:
            # A secret pasted as a key of `credentials` or `oauth2`, or a key `password:secret`: not echoed.
            out.append(
                finding(
                    "MC102",
                    f"unknown key in {failure.where}",
                    hidden,
                    hint=_SPACE_HINT.format(word) if word else suggestion,
                    account=failure.account,
                )
            )
        else:
            out.append(
                finding(
                    "MC102",
                    f"unknown key {_key(key)} in {failure.where}",
                    document.location((*path, key), key=True),
                    hint=suggestion,
                    account=failure.account,
                )
            )
        if len(path) == 2 and path[0] in SECTIONS and _flat_secret(key, instance[key]):
            out.append(
                finding(
                    "MC301",
                    f"plaintext secret in {failure.where} (under the unknown key {_key(key)})",
                    document.location((*path, key)),
                    hint="delete it; a password belongs in `credentials` as `password: {env: SOME_VARIABLE}`",
                    account=failure.account,
                )
            )
    return out


def _in_secret(failure: _Failure, key: object, hidden: Location) -> Finding:
    """MC102 for an unknown key inside a password mapping, where even a key may be the secret itself."""
    path = failure.path
    owner = f"`{path[-1]}` of {_entry(failure.document.data, path)}"
    meant = key.lower() if isinstance(key, str) and key.lower() in _SOURCE_FORMS else None
    if meant is not None:
        return finding(
            "MC102",
            f"{owner} must be {_SOURCE_FORMS[meant]}: `{key}` is not `{meant}`",
            hidden,
            hint=f"write `{path[-1]}: {_SOURCE_FORMS[meant]}`, with `{meant}` in lower case",
            account=failure.account,
        )
    return finding(
        "MC102",
        f"unexpected key in {owner}",
        hidden,
        hint=f"`{path[-1]}` is {_SOURCES_HINT}, and takes no other key",
        account=failure.account,
    )


def _on_version(failure: _Failure) -> list[Finding]:
    """MC005 for a `version` other than 1, once: a wrong type is also not the allowed value."""
    if not failure.first("version"):
        return []
    instance = failure.instance
    shown = repr(instance) if isinstance(instance, (int, str)) and not isinstance(instance, bool) else "this"
    return [
        finding(
            "MC005",
            f"unsupported version {shown}: this mailcfg reads format version 1",
            failure.location,
            hint="write `version: 1`",
        )
    ]


def _on_password(failure: _Failure) -> list[Finding]:
    """A secret (password, client secret, refresh token, key) that is no secret reference: MC301 for a plain
    value, MC103 for another type; inside the reference, MC103 or MC104 for its source's value (never echoed)."""
    kind, path, instance = failure.error.validator, failure.path, failure.instance
    if kind == "type" and path[-1] in SECRET_FIELDS and isinstance(instance, (str, int, float, bool)):
        what = "password" if path[-1] == "password" else f"`{path[-1]}`"
        return [
            finding(
                "MC301",
                f"plaintext {what} in {failure.where}",
                failure.location,
                account=failure.account,
                hint=f"name an environment variable instead: `{path[-1]}: {{env: SOME_VARIABLE}}`",
            )
        ]
    field = next(str(part) for part in reversed(path) if part in SECRET_FIELDS)
    source = path[path.index(field) + 1] if path[-1] != field else None
    form = _SOURCE_FORMS.get(str(source), _SOURCE_FORMS["env"])
    if kind == "type":
        return [
            finding(
                "MC103",
                f"'{failure.name}' of {failure.where} must be {_expected(failure.error.validator_value)}",
                failure.location,
                account=failure.account,
                hint=f"write `{field}: {form}`",
            )
        ]
    if source == "env":
        return [
            finding(
                "MC104",
                f"'{failure.name}' of {failure.where} must be an environment variable name "
                "(letters, digits, '_'; not starting with a digit)",
                failure.location,
                account=failure.account,
            )
        ]
    what = f"'{source}' of `{field}` in {failure.where}"
    if kind == "pattern" and isinstance(instance, str) and has_control(instance):
        return _pattern_findings(failure.error, what, failure.location, failure.account)
    if kind == "pattern" and source != "credential":
        return []  # an empty string, which minLength reports
    if kind == "pattern":  # a credential name with `/`, or only dots
        message = f"{what} must be a file name in $CREDENTIALS_DIRECTORY: no '/', not '.' or '..'"
        hint = "name the credential as systemd loads it (`LoadCredential=NAME:…`): `{credential: NAME}`"
    elif kind == "minItems":
        message, hint = f"{what} names no program", f"write `{field}: {form}`"
    else:  # minLength: an empty path, program or argument
        message, hint = f"{what} must not be empty", f"write `{field}: {form}`"
    return [finding("MC104", message, failure.location, account=failure.account, hint=hint)]


def _on_type(failure: _Failure) -> list[Finding]:
    """MC103 for a value of the wrong type (MC005 for an empty document)."""
    path, instance = failure.path, failure.instance
    if not path and instance is None:
        return [
            finding(
                "MC005",
                "document is empty: it has no `version`",
                failure.location,
                hint="start the document with `version: 1`",
            )
        ]
    if not path:
        return [
            finding(
                "MC103",
                "a document must be a mapping with `version: 1` and the sections users, smtp, imap",
                failure.location,
            )
        ]
    if failure.name == "credentials" and len(path) == 3 and path[0] in SECTIONS:
        # Whatever the value (`credentials: "user:password"`), it is masked and not described.
        word = _no_space(instance)
        entry = _entry(failure.document.data, path)
        return [
            finding(
                "MC103",
                f"`credentials` of {entry} must be a mapping (username, password or oauth2, contact)",
                failure.location,
                hint=_SPACE_HINT.format(word)
                if word
                else "write `credentials:` with `username:`, "
                "`password: {env: SOME_VARIABLE}` and `contact:` indented below it",
                account=failure.account,
            )
        ]
    expected = failure.error.validator_value
    hint = None
    if isinstance(instance, str) and "integer" in str(expected) and instance.strip().isdigit():
        hint = f"write {int(instance.strip())} as a plain number, without quotes or leading zeros"
    return [
        finding(
            "MC103",
            f"'{failure.name}' of {failure.where} must be {_expected(expected)}, not {_actual(instance)}",
            failure.location,
            hint=hint,
            account=failure.account,
        )
    ]


def _on_format(failure: _Failure) -> list[Finding]:
    """MC105 for an e-mail address, MC106 for a host name, with the format check's reason as the hint."""
    instance, error = failure.instance, failure.error
    if isinstance(instance, str) and has_control(instance):
        return []  # the field's pattern reports it, as a control character
    rule = "MC105" if error.validator_value == "email" else "MC106"
    what = "e-mail address" if rule == "MC105" else "host name"
    reason = one_line(str(error.cause)) if error.cause else f"not a valid {what}"
    if rule == "MC106" and isinstance(instance, str) and userinfo(instance) is not None:
        reason = (
            "give the bare host name: the `user:password@` of a URL does not belong here; the password "
            "goes in `credentials` as `password: {env: SOME_VARIABLE}`"
        )
    return [
        finding(
            rule,
            f"'{failure.name}' of {failure.where} is not a valid {what}: {_value(instance)}",
            failure.location,
            hint=reason,
            account=failure.account,
        )
    ]


def _on_enum(failure: _Failure) -> list[Finding]:
    """MC104 for a value outside the allowed ones (`enum`, `const`), with the `encryption` meant if any."""
    error, instance, name = failure.error, failure.instance, failure.name
    allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
    data = failure.document.data
    meant, enum_hint = _encryption_meant(data, failure.path, instance) if name == "encryption" else (None, None)
    guess = f" (did you mean `{meant}`?)" if meant else ""
    return [
        finding(
            "MC104",
            f"'{name}' of {failure.where} is {_value(instance)}{guess}; allowed: {', '.join(map(str, allowed))}",
            failure.location,
            hint=enum_hint,
            account=failure.account,
        )
    ]


def _on_pattern(failure: _Failure) -> list[Finding]:
    what = f"'{failure.name}' of {failure.where}"
    if failure.name in _URL_PATTERNS:
        found = _pattern_findings(failure.error, what, failure.location, failure.account)
        if not found or "control character" in found[0].message:
            return found
        message, hint = _URL_PATTERNS[failure.name]
        return [finding("MC104", f"{what} {message}", failure.location, account=failure.account, hint=hint)]
    return _pattern_findings(failure.error, what, failure.location, failure.account)


# Patterns that are no id, by the key they check: what a value that misses it must be instead.
_URL_PATTERNS = {
    "token_url": (
        "must be an https:// URL without `user@`: a token endpoint receives client secrets and refresh tokens",
        "write the provider's token endpoint, `token_url: https://…`; or leave it out for microsoft and google",
    ),
    "tenant": (
        "is no tenant: a verified domain or the directory's id (a GUID)",
        "write `tenant: contoso.onmicrosoft.com` or the tenant id from the Entra admin center",
    ),
}


def _on_range(failure: _Failure) -> list[Finding]:
    """MC104 for a number outside its range (a port)."""
    return [
        finding(
            "MC104",
            f"'{failure.name}' of {failure.where} is {_value(failure.instance)}, outside 1-65535",
            failure.location,
            account=failure.account,
        )
    ]


def _on_min_length(failure: _Failure) -> list[Finding]:
    """MC104 for an empty string."""
    return [
        finding(
            "MC104", f"'{failure.name}' of {failure.where} must not be empty", failure.location, account=failure.account
        )
    ]


def _on_other(failure: _Failure) -> list[Finding]:  # pragma: no cover - the schema uses no other keyword
    return [
        finding(
            "MC104",
            f"'{failure.name}' of {failure.where} is not allowed here ({failure.error.validator})",
            failure.location,
            account=failure.account,
        )
    ]


# Each jsonschema keyword the schema uses, and the handler that words its errors (the rest: _on_other).
_HANDLERS: dict[str, _Handler] = {
    "required": _on_required,
    "additionalProperties": _on_additional_properties,
    "type": _on_type,
    "format": _on_format,
    "enum": _on_enum,
    "const": _on_enum,
    "pattern": _on_pattern,
    "minimum": _on_range,
    "maximum": _on_range,
    "exclusiveMinimum": _on_range,
    "exclusiveMaximum": _on_range,
    "minLength": _on_min_length,
}


def _pattern_findings(error: Any, what: str, location: Location, account: str | None) -> list[Finding]:
    """A string that does not match its pattern: it holds a control character, or it is no valid id."""
    # Imported here: `mailcfg schema` reads this module and must not pay for pydantic.
    from validator.model import CONTROL_CHARACTERS, NONEMPTY_TEXT_PATTERN

    instance = error.instance
    control = re.search(f"[{CONTROL_CHARACTERS}]", instance) if isinstance(instance, str) else None
    if control is not None:
        message = f"{what} contains a control character (U+{ord(control[0]):04X})"
        return [finding("MC104", message, location, account=account, hint=_CONTROL_HINT)]
    if error.validator_value == NONEMPTY_TEXT_PATTERN:
        return []  # an empty string, which minLength reports
    return [
        finding(
            "MC104",
            f"{what} is {_value(instance)}, which is not a valid id",
            location,
            account=account,
            hint="ids are 1-63 lower-case letters, digits, '-' and '_', starting with a letter or digit",
        )
    ]


def _properties(schema: object) -> dict[str, Any]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return properties if isinstance(properties, dict) else {}


def _account(data: Any, path: tuple[object, ...]) -> str | None:
    if len(path) >= 2 and path[0] in SECTIONS and isinstance(data, dict):
        items = data.get(path[0])
        if isinstance(items, list) and isinstance(path[1], int) and path[1] < len(items):
            item = items[path[1]]
            # An id holding a control character is itself the problem: never repeat it in a finding.
            if isinstance(item, dict) and isinstance(item.get("id"), str) and not has_control(item["id"]):
                return str(item["id"])
    return None


def _describe(data: Any, path: tuple[object, ...]) -> str:
    if not path:
        return "the document"
    if path[0] in SECTIONS and len(path) >= 2:
        account = _account(data, path)
        noun = _SECTION_NAMES[str(path[0])]
        label = f"{noun} '{account}'" if account else f"{noun} #{int(str(path[1])) + 1}"
        return f"the credentials of {label}" if "credentials" in path[2:-1] or path[2:] == ("credentials",) else label
    return f"section '{path[0]}'"


def _entry(data: Any, path: tuple[object, ...]) -> str:
    """The entry ``path`` lies in: ``imap account 'info'`` (``imap account #2`` when it has no usable id)."""
    account = _account(data, path)
    label = _SECTION_NAMES.get(str(path[0]), str(path[0])) if path else "document"
    return f"{label} '{account}'" if account else f"{label} #{int(str(path[1])) + 1}" if len(path) > 1 else label


def _no_space(value: object) -> str | None:
    """The word of a `password:secret` (no space after the colon) in a string, lower case, if any."""
    match = NO_SPACE_SECRET.search(value) if isinstance(value, str) and ":" in value else None
    return match[1].lower() if match else None


def _flat_secret(key: object, value: object) -> bool:
    """Whether an unknown key of an entry holds a plaintext secret: `pass: …`, `pin: 1234`, a `password:` out
    of place, `login: user:password`, a URL with `user:password@`. A `password:secret` (no space) in the key
    or the value is the loader's MC301, which points at it."""
    if not isinstance(key, str) or value is None or isinstance(value, (dict, list)) or _no_space(key):
        return False  # `pass: {env: X}` names a variable; a list or mapping is reported as what it is
    if isinstance(value, str) and _no_space(value):
        return False
    lowered = key.lower()
    if lowered == "auth" and str(value).lower() in ("required", "none"):
        return False  # a short `authentication:`, not a secret
    if lowered in FLAT_SECRET_KEYS or secret_key(key):
        return True
    if isinstance(value, str):
        return (lowered in LOGIN_KEYS and ":" in value) or userinfo(value) is not None
    return False


def _encryption_meant(data: Any, path: tuple[object, ...], instance: object) -> tuple[str | None, str | None]:
    """For an `encryption` written another way (`SSL`, `Ohne`, `TLS`): the value meant, and a hint.

    `TLS` means `starttls` on ports 587/143 (and 25) and `ssl` on 465/993; without such a port both are explained.
    """
    if not isinstance(instance, str):
        return None, None
    word = instance.strip().lower()
    if word == "tls":
        # The ports are validator.model's, through the rules' helper. Imported here: `mailcfg schema` reads this
        # module and must not pay for pydantic.
        from validator.rules._common import either_protocol

        entry = data[path[0]][path[1]] if len(path) == 3 and path[0] in SECTIONS else None
        port = entry.get("port") if isinstance(entry, dict) else None
        if type(port) is int and port in either_protocol("starttls"):
            return "starttls", (
                f"on port {port} TLS starts after a plain greeting: that is `starttls`; "
                "`ssl` (ports 465/993) is TLS from the first byte"
            )
        if type(port) is int and port in either_protocol("ssl"):
            return "ssl", (
                f"on port {port} TLS starts with the first byte: that is `ssl`; "
                "`starttls` (ports 587/143) upgrades a plain connection"
            )
        return None, _TLS_HINT
    meant = word if word in ("none", "starttls", "ssl") else _ENCRYPTION_WORDS.get(word)
    if meant == "none":
        return meant, '`none` is no encryption at all (the application\'s "Ohne")'
    if meant is not None:
        return meant, "the values are written in lower case: `none`, `starttls`, `ssl`"
    return None, None


def _expected(types: object) -> str:
    names = types if isinstance(types, list) else [types]
    return " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in names)


def _actual(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _value(value: object) -> str:
    if isinstance(value, str):
        value = hide_userinfo(value)  # `imaps://info:secret@host`: never the password
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key(key: object) -> str:
    return repr(key) if isinstance(key, str) else f"{key!s} (not a string: quote it)"

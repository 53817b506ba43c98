"""The committed JSON Schema: valid 2020-12, accepts the example, generated from the models, documented."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from validator.model import json_schema, schema_json

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schema" / "accounts.schema.json"
EXAMPLE = ROOT / "accounts.example.yaml"
OAUTH2_EXAMPLE = ROOT / "accounts.oauth2.example.yaml"
MODELINE = "# yaml-language-server: $schema=schema/accounts.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def example() -> Any:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def test_schema_passes_the_2020_12_metaschema(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_example_validates(schema: dict[str, Any], example: Any) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator(schema).iter_errors(example)]
    assert errors == []
    assert {"smtp", "imap", "users"} <= set(example)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("imap", 0, "address"), "not-an-address"),  # format: email, checked by the FormatChecker
        (("imap", 0, "encryption"), "tls"),
        (("imap", 0, "port"), 0),
        (("smtp", 0, "credentials", "password"), "plaintext"),
        (("smtp", 0, "credentials", "password"), {"env": "NOT-A-NAME"}),
        (("imap", 0, "outgoing"), "Not An Id"),
        (("version",), 2),
    ],
)
def test_broken_example_is_rejected(schema: dict[str, Any], example: Any, path: tuple[Any, ...], value: Any) -> None:
    # The control for test_example_validates: the same validator does reject real mistakes.
    data = copy.deepcopy(example)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    assert not _validator(schema).is_valid(data)


def test_unknown_key_is_rejected(schema: dict[str, Any], example: Any) -> None:
    data = copy.deepcopy(example)
    data["imap"][0]["sent_foldr"] = "Sent"
    assert not _validator(schema).is_valid(data)


def test_committed_schema_is_generated_from_the_models() -> None:
    # Drift test: regenerate with `python scripts/generate_schema.py` when this fails.
    assert schema_json(json_schema()) == SCHEMA_FILE.read_text(encoding="utf-8")


_CONSTRAINTS = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas"})


def _properties(node: Any, path: str = "#") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                yield f"{path}/properties/{name}", sub
        for key, value in node.items():
            if key not in _CONSTRAINTS:  # which keys go together: no property is defined there
                yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, f"{path}/{index}")


def test_every_property_has_a_description(schema: dict[str, Any]) -> None:
    properties = list(_properties(schema))
    assert len(properties) > 20
    missing = [path for path, sub in properties if not (isinstance(sub, dict) and sub.get("description"))]
    assert missing == []


def test_every_definition_has_a_description(schema: dict[str, Any]) -> None:
    assert schema.get("description")
    for name, definition in schema["$defs"].items():
        assert definition.get("description"), name


def test_example_starts_with_the_modeline() -> None:
    first = EXAMPLE.read_text(encoding="utf-8").splitlines()[0]
    assert first == MODELINE
    assert (EXAMPLE.parent / MODELINE.split("=", 1)[1]).resolve() == SCHEMA_FILE.resolve()


def test_oauth2_example_validates_and_starts_with_the_modeline(schema: dict[str, Any]) -> None:
    text = OAUTH2_EXAMPLE.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    data = yaml.safe_load(text)
    assert [e.message for e in _validator(schema).iter_errors(data)] == []
    logins = [entry["credentials"] for entry in [*data["smtp"], *data["imap"]] if "credentials" in entry]
    assert logins
    assert all("oauth2" in login and "password" not in login for login in logins)
    # The control: the same validator refuses an oauth2 login that also has a password, or an http token URL.
    both = copy.deepcopy(data)
    both["imap"][0]["credentials"]["password"] = {"env": "MAILCFG_X"}
    assert not _validator(schema).is_valid(both)
    http = copy.deepcopy(data)
    http["imap"][0]["credentials"]["oauth2"]["token_url"] = "http://login.example.com/token"
    assert not _validator(schema).is_valid(http)

"""The fast path without pydantic (validator.plain) against the models: same entries passed, same values.

``tests/test_properties.py`` pins the plain check to jsonschema both ways (an entry it passes has no schema
error; a schema-valid entry without nulls passes); here its records are held to the pydantic models, field by
field and property by property, so the rules see the same values whichever way an entry went.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel
from test_properties import dump_plain, entry_documents

from validator import accounts, loader, model, plain

ROOT = Path(__file__).resolve().parents[1]
PAIRS: list[tuple[type[Any], type[BaseModel]]] = [
    (plain.User, model.User),
    (plain.Smtp, model.Smtp),
    (plain.Imap, model.Imap),
    (plain.Credentials, model.Credentials),
    (plain.Secret, model.Secret),
    (plain.OAuth2, model.OAuth2),
]


def test_records_have_the_models_fields_and_defaults() -> None:
    for record, pydantic_model in PAIRS:
        fields = {field.name: field for field in dataclasses.fields(record)}
        assert set(fields) == set(pydantic_model.model_fields), record
        for name, info in pydantic_model.model_fields.items():
            required = info.is_required()
            assert (fields[name].default is dataclasses.MISSING) == required, (record, name)
            if not required:
                assert fields[name].default == info.default, (record, name)


def _same(record: Any, built: Any) -> None:
    """``record`` has the values and the properties of the model ``built``."""
    if dataclasses.is_dataclass(record):
        assert type(record).__name__ == type(built).__name__
        for field in dataclasses.fields(record):
            _same(getattr(record, field.name), getattr(built, field.name))
        for name in ("effective_port", "secrets", "source", "sops", "grant"):
            if hasattr(built, name):
                _same(getattr(record, name), getattr(built, name))
    elif isinstance(record, tuple):
        assert isinstance(built, tuple)
        assert len(record) == len(built)
        for mine, theirs in zip(record, built, strict=True):
            _same(mine, theirs)
    else:
        assert type(record) is type(built)
        assert record == built


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=entry_documents())
def test_the_plain_fast_path_passes_what_the_models_pass_with_their_values(doc: dict[str, Any]) -> None:
    (document,) = loader.load_bytes(dump_plain(doc), "entries.yaml").documents
    root_ok, records = accounts.prevalidate(document)
    models_ok, models = accounts.prevalidate(document, models=True)
    assert root_ok == models_ok
    assert records.keys() == models.keys()
    for key, record in records.items():
        _same(record, models[key])


def test_check_of_a_valid_set_imports_no_pydantic_nor_the_schema_stage() -> None:
    code = (
        "import sys; from validator.cli import main; "
        "rc = main(['check', '--no-config', 'accounts.example.yaml']); "
        "heavy = ('pydantic', 'jsonschema', 'validator.model', 'validator.schema', 'validator.live'); "
        "print(rc, sorted(m for m in heavy if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert run.stdout.strip().splitlines()[-1] == "0 []"

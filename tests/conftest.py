"""Shared test helpers: write YAML to a temporary file, run the core or the CLI on it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from validator import engine, loader
from validator.cli import main
from validator.finding import Finding
from validator.outcome import Result

# Default severities of the account rules (MC001-MC005, MC101-MC407) in docs/reference.md's rules table.
SPEC_SEVERITY = {
    "MC001": "error",
    "MC002": "error",
    "MC003": "warning",
    "MC004": "error",
    "MC005": "error",
    "MC101": "error",
    "MC102": "error",
    "MC103": "error",
    "MC104": "error",
    "MC105": "error",
    "MC106": "error",
    "MC201": "error",
    "MC202": "error",
    "MC203": "error",
    "MC204": "error",
    "MC205": "warning",
    "MC206": "warning",
    "MC301": "error",
    "MC302": "error",
    "MC303": "warning",
    "MC304": "warning",
    "MC305": "info",
    "MC306": "error",
    "MC307": "warning",
    "MC308": "warning",
    "MC309": "info",
    "MC401": "error",
    "MC402": "info",
    "MC403": "warning",
    "MC404": "info",
    "MC405": "warning",
    "MC406": "warning",
    "MC407": "warning",
}

Check = Callable[..., Result]


@pytest.fixture
def check(tmp_path: Path) -> Check:
    """``check(source, name="accounts.yaml", **CheckOptions fields) -> Result`` for one YAML text."""

    def run(source: str, name: str = "accounts.yaml", **options: Any) -> Result:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return engine.run(engine.CheckOptions(paths=(str(path),), **options))

    return run


def write(path: Path, source: str) -> Path:
    """Write ``source`` (dedented) to ``path``, making its folders; return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def check_path(path: Path, **options: Any) -> Result:
    """Check the file ``path``, or every file under the folder ``path`` (``options``: CheckOptions fields)."""
    return engine.run(engine.CheckOptions(paths=(str(path),), **options))


def run_bytes(tmp_path: Path, raw: bytes, name: str = "accounts.yaml", **options: object) -> Result:
    """Check one file written as exactly ``raw``."""
    path = tmp_path / name
    path.write_bytes(raw)
    return engine.run(engine.CheckOptions(paths=(str(path),), **options))  # type: ignore[arg-type]


def rules_of(text: str) -> list[tuple[str, str]]:
    """(rule, message) of each finding the loader alone makes for ``text``."""
    source = loader.load_bytes(text.encode(), "t.yaml")
    return [(item.rule, item.message) for item in source.findings]


def only(result: Result, rule: str) -> list[Finding]:
    """The findings of one rule."""
    return [item for item in result.findings if item.rule == rule]


def where(result: Result, rule: str) -> list[tuple[str, int, int]]:
    """(severity, line, column) of each finding of ``rule``."""
    return [(item.severity.value, item.line, item.column) for item in only(result, rule)]


def assert_fires_once(
    result: Result, rule: str, file: Path, line: int, column: int, pointer: str | None = None
) -> Finding:
    """The one finding of ``rule`` in ``result``, at the rule's default severity (SPEC_SEVERITY), in ``file`` at
    ``line`` and ``column``, with a message; with a ``pointer``, also at that JSON pointer and naming its account.
    The check of the ``FIRES`` table of each rule's file in tests/rules/."""
    found = only(result, rule)
    assert [(f.severity.value, f.file, f.line, f.column) for f in found] == [
        (SPEC_SEVERITY[rule], str(file), line, column)
    ]
    assert found[0].message
    if pointer is not None:
        assert found[0].pointer == pointer
        assert found[0].account
    return found[0]


def assert_passes(result: Result, rule: str) -> None:
    """``rule`` stays quiet on a file that was read (so the silence means something): the check of the
    ``PASSES`` table of each rule's file in tests/rules/."""
    assert only(result, rule) == []
    assert result.files[0].documents


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder, made the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI in-process: ``cli("check", path) -> (exit_code, stdout, stderr)``."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run

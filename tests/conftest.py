"""Shared test helpers: write YAML to a temporary file, run the core or the CLI on it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from validator import engine
from validator.cli import main
from validator.finding import Finding
from validator.outcome import Result

# Default severities of the account rules (MC001-MC005, MC101-MC405) in docs/reference.md's rules table.
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
    "MC401": "error",
    "MC402": "info",
    "MC403": "warning",
    "MC404": "info",
    "MC405": "warning",
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


def only(result: Result, rule: str) -> list[Finding]:
    """The findings of one rule."""
    return [item for item in result.findings if item.rule == rule]


def where(result: Result, rule: str) -> list[tuple[str, int, int]]:
    """(severity, line, column) of each finding of ``rule``."""
    return [(item.severity.value, item.line, item.column) for item in only(result, rule)]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI in-process: ``cli("check", path) -> (exit_code, stdout, stderr)``."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run

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

# A valid base set; rule tests append or alter a few lines of it.
VALID = textwrap.dedent(
    """\
    version: 1
    users:
      - id: anna
    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
        test_recipient: it@example.com
        credentials:
          username: mailer@example.com
          password: {env: SMTP_PASSWORD}
          contact: IT desk
    imap:
      - id: info
        scope: system
        address: info@example.com
        host: imap.example.com
        encryption: ssl
        outgoing: outgoing
        credentials:
          username: info@example.com
          password: {env: IMAP_INFO_PASSWORD}
          contact: IT desk
    """
)

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

Check = Callable[..., engine.Result]


@pytest.fixture
def check(tmp_path: Path) -> Check:
    """``check(source, name="accounts.yaml", **CheckOptions fields) -> Result`` for one YAML text."""

    def run(source: str, name: str = "accounts.yaml", **options: Any) -> engine.Result:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return engine.run(engine.CheckOptions(paths=(str(path),), **options))

    return run


def only(result: engine.Result, rule: str) -> list[Finding]:
    """The findings of one rule."""
    return [item for item in result.findings if item.rule == rule]


def where(result: engine.Result, rule: str) -> list[tuple[str, int, int]]:
    """(severity, line, column) of each finding of ``rule``."""
    return [(item.severity.value, item.line, item.column) for item in only(result, rule)]  # type: ignore[misc]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI in-process: ``cli("check", path) -> (exit_code, stdout, stderr)``."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run

"""Reporters turn a :class:`~validator.outcome.Result` into text; they return strings and never print."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from json import dumps  # not `import json`: the submodule `validator.reporters.json` would shadow it
from typing import TYPE_CHECKING, Any, Protocol

from validator.sanitize import one_line

if TYPE_CHECKING:
    from validator.outcome import Result


@dataclass(frozen=True)
class ReportOptions:
    color: bool = False
    # With --strict, warnings fail the run; reports that mark failures (JUnit) follow suit.
    strict: bool = False
    # For the monitoring reports: how long the run took up to its report, and verify's --cert-warn-days.
    seconds: float | None = None
    cert_warn_days: int | None = None


def render(name: str, result: Result, options: ReportOptions) -> str:
    """The report called ``name`` (see :data:`FORMATS`)."""
    return _reporter(name).render(result, options)


FORMATS = ("text", "json", "sarif", "github", "junit", "prometheus", "nagios")


class Reporter(Protocol):
    """A report format: a module of this package whose ``render`` returns the report (it never prints)."""

    def render(self, result: Result, options: ReportOptions) -> str: ...


def _reporter(name: str) -> Reporter:
    # Imported on demand: a run pays only for the formats it writes. Each by its name, so that mypy checks
    # every module against Reporter.
    if name == "text":
        from validator.reporters import text

        return text
    if name == "json":
        from validator.reporters import json

        return json
    if name == "sarif":
        from validator.reporters import sarif

        return sarif
    if name == "github":
        from validator.reporters import github

        return github
    if name == "junit":
        from validator.reporters import junit

        return junit
    if name == "prometheus":
        from validator.reporters import prometheus

        return prometheus
    if name == "nagios":
        from validator.reporters import nagios

        return nagios
    raise ValueError(f"no report format {name!r}; the formats are {', '.join(FORMATS)}")


# Our own messages are short; a cap this high only stops a hostile value from filling the screen.
TEXT_LIMIT = 2000


def plain(text: str) -> str:
    """Outside text (a YAML value, a server reply, a file name) as one printable line for a human report."""
    return one_line(text, TEXT_LIMIT)


def json_text(document: Any) -> str:
    """``document`` as indented JSON in which no control character stands raw.

    The values stay exact: C1 controls, DEL, the Unicode line separators and bidirectional overrides are
    written as ``\\uXXXX`` escapes, as JSON already does for C0. Printed raw they would rewrite a terminal,
    reorder what a reviewer sees, or break a line for tools that split at U+2028.
    """
    text = dumps(document, indent=2, ensure_ascii=False)
    return _raw_in_json().sub(lambda match: f"\\u{ord(match[0]):04x}", text) + "\n"


@lru_cache(maxsize=1)
def _raw_in_json() -> re.Pattern[str]:
    """The control characters json.dumps leaves raw with ensure_ascii=False (it escapes C0 itself)."""
    # Imported here, not at the top: the CLI imports this package at start, and `--version` must not pay
    # for pydantic.
    from validator.plain import CONTROL_CHARACTERS

    return re.compile(rf"(?![\x00-\x1f])[{CONTROL_CHARACTERS}]")

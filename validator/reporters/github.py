"""GitHub Actions output: workflow commands that become annotations, and a job summary in Markdown.

Each finding is one ``::error``/``::warning``/``::notice`` line. The runner splits a command at ``,``
and ``:`` and ends it at a line break, so every value is escaped the way the runner unescapes it
(``%`` first, then CR and LF; property values also ``:`` and ``,``); unescaped, a message holding a
line break would end the annotation early and let the rest of the line act as a new command. The text
between a message's line breaks is made printable first (no escape sequence, no other kind of line
break, no bidirectional override), so the only lines starting with ``::`` are mailcfg's own commands.

The job summary is Markdown: each cell is one printable line with HTML and the Markdown that would make
links, images or emphasis escaped, so a value from the YAML shows as the text it is.

Paths are relative to ``$GITHUB_WORKSPACE`` (where the runner resolves ``file=``) when the file lies
inside it, else to the current directory, so annotations land on the right file even when the step runs
in a subdirectory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.reporters import plain
from validator.reporters.sarif import relative_path

if TYPE_CHECKING:
    from validator.outcome import Result
    from validator.reporters import ReportOptions

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
# A step summary may hold 1 MiB; a few hundred rows say enough, the annotations carry the rest.
MAX_ROWS = 200
# The line breaks the runner sees; the text between them is made printable, the breaks are escaped.
_RUNNER_BREAKS = re.compile(r"(\r\n|\r|\n)")
# Markdown that would turn a cell into a link, an image, code or emphasis (`\\` first: it escapes the rest).
_MARKDOWN = re.compile(r"([\\`*_\[\]~!])")


def render(result: Result, options: ReportOptions) -> str:
    lines = [annotation(item, _path(item.file)) for item in result.findings]
    lines.append(f"mailcfg: {_counts(result)}")
    return "\n".join(lines) + "\n"


def annotation(item: Finding, path: str) -> str:
    """The workflow command for one finding; ``path`` as the runner should resolve it."""
    properties = {"file": plain(path), "line": str(item.line), "col": str(item.column), "title": item.rule}
    text = _printable(item.message) if not item.hint else f"{_printable(item.message)}\nhint: {_printable(item.hint)}"
    joined = ",".join(f"{name}={escape_property(value)}" for name, value in properties.items())
    return f"::{COMMANDS[item.severity]} {joined}::{escape_data(text)}"


def _printable(text: str) -> str:
    """``text`` with its CR and LF kept (escaping makes them safe, GitHub shows them) and all else printable."""
    parts = _RUNNER_BREAKS.split(text)
    return "".join(part if index % 2 else plain(part) for index, part in enumerate(parts))


def escape_data(text: str) -> str:
    """A command's message, escaped as the Actions runner expects (``%`` first, so nothing is escaped twice)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: the message escapes plus ``:`` and ``,``, which end a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def job_summary(result: Result) -> str:
    """A short Markdown section for ``$GITHUB_STEP_SUMMARY``: a heading, the counts, a table of findings."""
    out = ["### mailcfg", "", _counts(result), ""]
    if result.findings:
        out += ["| Rule | Severity | Location | Message |", "| --- | --- | --- | --- |"]
        for item in result.findings[:MAX_ROWS]:
            location = f"{_path(item.file)}:{item.line}:{item.column}"
            cells = (item.rule, item.severity.value, location, item.message)
            out.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        if len(result.findings) > MAX_ROWS:
            out += ["", f"… and {len(result.findings) - MAX_ROWS} more; the annotations list every finding."]
        out.append("")
    return "\n".join(out) + "\n"


def _counts(result: Result) -> str:
    summary = result.summary

    def count(number: int, noun: str) -> str:
        return f"{number} {noun}{'s' if number != 1 else ''}"

    line = (
        f"{count(summary.files, 'file')}, {count(summary.accounts, 'account')}: "
        f"{count(summary.errors, 'error')}, {count(summary.warnings, 'warning')}, {count(summary.infos, 'info')}"
    )
    if result.suppressed:
        line += f" ({len(result.suppressed)} suppressed)"
    return line


def _path(name: str) -> str:
    workspace = os.environ.get("GITHUB_WORKSPACE")
    relative = (relative_path(name, Path(workspace)) if workspace else None) or relative_path(name)
    return relative if relative is not None else Path(os.path.abspath(name)).as_posix()


def _cell(text: str) -> str:
    # A table row is one line, `|` ends a cell, `<`/`&` would otherwise start HTML, and a value from the
    # YAML must not become a link or an image (which the reader's browser would load).
    text = _MARKDOWN.sub(r"\\\1", plain(text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")

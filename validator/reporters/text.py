"""The human report: ``path:line:col: severity[MCxxx] message``, the source line with a caret, the hint.

Plaintext secrets recorded by the loader are masked in every source line shown, whatever the finding.

Messages, hints, file names and live results may quote a hostile YAML file or server, so each is made
one printable line, source lines have each control character replaced by one visible character (so the
caret stays under its column), and every line passes :func:`~validator.sanitize.report_line`: nothing in
the report can rewrite the terminal or pose as a GitHub workflow command.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.loader import LINE_BREAKS, SECRET_VALUE
from validator.plain import CONTROL_CHARACTERS
from validator.reporters import plain
from validator.reporters.sarif import MAX_RESULTS
from validator.sanitize import REPLACEMENT, report_line

if TYPE_CHECKING:
    from validator.live.result import LiveResult
    from validator.loader import SourceFile
    from validator.outcome import Result
    from validator.reporters import ReportOptions

_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_MASK = "****"
# Characters of a source line shown around the caret (a minified or hostile file may have 1 MB lines).
SNIPPET = 160
# After this many findings of one rule, the text report only counts the rest: 10,000 stay readable.
FOLD = 20
_COLORS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.INFO: "\x1b[1;36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def render(result: Result, options: ReportOptions) -> str:
    sources = {source.name: source for source in result.files}
    lines_cache: dict[str, list[str]] = {}
    out: list[str] = [line for live in result.live for line in _live(live, options.color)]
    shown: Counter[str] = Counter()
    for item in result.findings:
        shown[item.rule] += 1
        if shown[item.rule] <= FOLD:
            out.extend(_finding(item, sources.get(item.file), lines_cache, options.color))
    for rule, count in sorted(shown.items()):
        if count > FOLD:
            out.append(f"... {count - FOLD:,} more {rule} findings not shown (--format json lists every finding)")
    if result.omitted:
        out.append(f"... {result.omitted:,} more findings not reported (--max-findings)")
    out.extend(_sarif_cap(result))
    out.append(_summary(result, options.color))
    return "\n".join(map(report_line, out)) + "\n"


def _finding(item: Finding, source: SourceFile | None, cache: dict[str, list[str]], color: bool) -> list[str]:
    severity, location, message = item.severity.value, plain(str(item.location)), plain(item.message)
    if color:
        head = f"{_BOLD}{location}{_RESET}: {_COLORS[item.severity]}{severity}[{item.rule}]{_RESET} {message}"
    else:
        head = f"{location}: {severity}[{item.rule}] {message}"
    out = [head]
    if source is not None and source.text:
        lines = cache.get(source.name)
        if lines is None:
            lines = cache[source.name] = LINE_BREAKS.split(source.text)
        if 1 <= item.line <= len(lines):
            text, column = _masked(lines[item.line - 1], item.line - 1, item.column - 1, source.masks)
            text, column = _window(_visible(text), column)
            gutter = f"{item.line:>5} | "
            pad = " " * len(text[:column])
            caret = f"{_COLORS[item.severity]}^{_RESET}" if color else "^"
            out.append(f"{gutter}{text}")
            out.append(f"{' ' * 5} | {pad}{caret}")
    if item.hint:
        hint = f"      = hint: {plain(item.hint)}"
        out.append(f"{_DIM}{hint}{_RESET}" if color else hint)
    return out


def _window(text: str, column: int) -> tuple[str, int]:
    """At most about ``SNIPPET`` characters of a long line, around the caret (masked first, so a cut never
    shows part of a secret); a 1 MB line is not printed whole."""
    if len(text) <= SNIPPET:
        return text, column
    start = max(0, min(column - SNIPPET // 3, len(text) - SNIPPET))
    end = start + SNIPPET
    head, tail = ("…" if start else ""), ("…" if end < len(text) else "")
    return head + text[start:end] + tail, column - start + len(head)


def _visible(text: str) -> str:
    """``text`` with each control character replaced by one character: a tab by a space, others by U+FFFD."""
    return _CONTROL.sub(lambda match: " " if match[0] == "\t" else REPLACEMENT, text)


def _masked(text: str, line: int, column: int, masks: list[tuple[int, int, int, int]]) -> tuple[str, int]:
    """``text`` with secret spans replaced by a fixed mask (hiding the length too), and the moved column."""
    spans = sorted(
        (start_col if start_line == line else 0, end_col if end_line == line else len(text))
        for start_line, start_col, end_line, end_col in masks
        if start_line <= line <= end_line
    )
    for match in SECRET_VALUE.finditer(text):
        spans.append(match.span(2))
    spans = _merged(sorted(spans))
    for start, end in reversed(spans):
        text = text[:start] + _MASK + text[end:]
        if column >= end:
            column += len(_MASK) - (end - start)
        elif column > start:
            column = start
    return text, column


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _live(live: LiveResult, color: bool) -> list[str]:
    """One line per check: mark, protocol, account, server, stages with their durations, total; then why."""
    mark = {"ok": "✓", "warning": "!", "failed": "✗"}.get(live.status, "-")
    stages = ", ".join(
        f"{stage.name} {'skipped' if stage.status == 'skipped' else _ms(stage.seconds)}"
        + ("" if stage.status in ("ok", "skipped") else f" {stage.status.upper()}")
        for stage in live.stages
    )
    server = f"{plain(live.account)} {plain(live.host)}:{live.port}"
    lines = [f"{mark} {live.protocol} {server}  {stages}  ({live.seconds:.2f} s)"]
    if live.status != "ok":
        lines.append(f"      {plain(live.stage)}: {plain(live.message)}")
    if color:
        tint = {"ok": "\x1b[32m", "warning": "\x1b[33m", "failed": "\x1b[31m"}.get(live.status, "")
        return [f"{tint}{line}{_RESET}" for line in lines]
    return lines


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _sarif_cap(result: Result) -> list[str]:
    """The line saying a SARIF report of this run leaves results out (GitHub's limit per run), if it does.

    Said here, in the report a reader sees, rather than only inside the SARIF file, which nobody reads; it is
    true of this run whether or not it writes SARIF, so it needs no knowledge of the other formats.
    """
    total = len(result.findings) + len(result.suppressed)
    if total <= MAX_RESULTS:
        return []
    return [
        f"SARIF: {total:,} results, {MAX_RESULTS:,} kept"
        f" (GitHub code scanning takes at most {MAX_RESULTS:,} a run; the least severe are left out)"
    ]


def _summary(result: Result, color: bool) -> str:
    summary = result.summary
    files = f"{summary.files} file{'s' if summary.files != 1 else ''}"
    accounts = f"{summary.accounts} account{'s' if summary.accounts != 1 else ''}"
    parts = [
        f"{summary.errors} error{'s' if summary.errors != 1 else ''}",
        f"{summary.warnings} warning{'s' if summary.warnings != 1 else ''}",
        f"{summary.infos} info{'s' if summary.infos != 1 else ''}",
    ]
    # The counts, not the findings shown: --max-findings 0 shows none of a failing run's findings, and an
    # interrupted run has not looked at everything, so neither may read as "no problems".
    clean = not (summary.errors or summary.warnings or summary.infos) and not result.interrupted
    found = "no problems" if clean else ", ".join(parts)
    line = f"mailcfg: {files}, {accounts}: {found}"
    if result.suppressed:
        line += f" ({len(result.suppressed)} suppressed)"
    if result.live:
        counts = {
            status: sum(1 for live in result.live if live.status == status) for status in ("ok", "warning", "failed")
        }
        line += "; live checks: " + ", ".join(f"{count} {status}" for status, count in counts.items() if count)
    if result.interrupted:
        line += f"; interrupted after {len(result.live)} finished check{'s' if len(result.live) != 1 else ''}"
    return f"{_BOLD}{line}{_RESET}" if color else line

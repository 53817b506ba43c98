"""The Nagios report: the output of a monitoring plugin (Nagios, Icinga, Naemon, Checkmk, Zabbix agents).

The plugin guidelines' shape: a first line ``MAILCFG STATE - summary | perfdata``, then one line per failing or
warning check (and per static finding that fails or warns). When this report is the one on standard output, the
cli exits with the state's code (:func:`exit_code`) instead of mailcfg's own codes.

Monitoring systems split a plugin's output at ``|``: a YAML value or a server reply holding one would turn the
rest of its line into perfdata, so every outside text has ``|`` replaced, and a perfdata label is quoted with
its quotes doubled and no ``=``. Nothing here names a username or a secret: the findings' messages are scrubbed
where they are made, as for every report.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.live.result import FAILED, SKIPPED, WARNING
from validator.outcome import LIVE_PREFIX
from validator.sanitize import one_line

if TYPE_CHECKING:
    from validator.live.result import LiveResult
    from validator.outcome import Result
    from validator.reporters import ReportOptions

OK, WARNING_STATE, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
# Nagios keeps about 8 KiB of a plugin's output by default: a long list of findings would be cut anyway.
MAX_LINES = 50
# What stands for `|` in outside text: visibly a bar, and no field separator to any monitoring system.
BAR = "¦"


def exit_code(result: Result) -> int:
    """The plugin state of ``result``: CRITICAL for any error finding, WARNING for warnings only (infos never
    count), UNKNOWN for an interrupted run, else OK. ``--strict`` changes nothing: a warning is WARNING already."""
    if result.interrupted:
        return UNKNOWN
    summary = result.summary
    if summary.errors:
        return CRITICAL
    return WARNING_STATE if summary.warnings else OK


def render(result: Result, options: ReportOptions) -> str:
    state = STATES[exit_code(result)]
    checks = [live for live in result.live if live.status != SKIPPED]
    perfdata = [*_counts(result), *(item for live in checks for item in _check_perfdata(live, options))]
    lines = [f"MAILCFG {state} - {_summary(result, checks)} | {' '.join(perfdata)}"]
    details = [_check_line(live) for live in checks if live.status in (FAILED, WARNING)]
    details += [_finding_line(item) for item in result.findings if _listed(item, result)]
    if len(details) > MAX_LINES:
        rest = len(details) - MAX_LINES + 1
        details = [*details[: MAX_LINES - 1], f"... and {rest} more: see the text or JSON report"]
    return "\n".join(lines + details) + "\n"


def unknown(reason: str) -> str:
    """The whole output of a run that ends before its report (a usage or internal error, Ctrl-C): UNKNOWN."""
    return f"MAILCFG UNKNOWN - {_text(reason)}\n"


def _summary(result: Result, checks: list[LiveResult]) -> str:
    summary = result.summary
    text = (
        f"{_count(summary.files, 'file')}, {_count(summary.accounts, 'account')}: "
        f"{_count(summary.errors, 'error')}, {_count(summary.warnings, 'warning')}"
    )
    if checks:
        counts = {status: sum(live.status == status for live in checks) for status in ("ok", WARNING, FAILED)}
        text += "; live checks: " + ", ".join(f"{count} {status}" for status, count in counts.items() if count)
    if result.interrupted:
        text += f"; interrupted after {_count(len(result.live), 'finished check')}"
    return text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _counts(result: Result) -> list[str]:
    """The finding counts, with the thresholds the state follows: any error is critical, any warning warns."""
    summary = result.summary
    return [f"{_label('errors')}={summary.errors};;0;0", f"{_label('warnings')}={summary.warnings};0;;0"]


def _check_perfdata(live: LiveResult, options: ReportOptions) -> list[str]:
    name = _check_name(live)
    out = [f"{_label(f'{name} time')}={live.seconds:.3f}s;;;0"]
    if live.certificate_expires is not None:
        days = (live.certificate_expires - time.time()) / 86400
        # Ranges: `N:` alerts below N. MC505 warns within --cert-warn-days; an expired certificate fails the check.
        warn = f"{options.cert_warn_days}:" if options.cert_warn_days is not None else ""
        out.append(f"{_label(f'{name} cert days')}={days:.1f};{warn};0:")
    return out


def _check_name(live: LiveResult) -> str:
    """``smtp outgoing``; ``smtp outgoing (info)`` for an smtp entry checked with the login of imap account info."""
    name = f"{live.protocol} {live.account}"
    if live.credentials is not None and live.credentials != live.account:
        name += f" ({live.credentials})"
    return name


def _check_line(live: LiveResult) -> str:
    state = "CRITICAL" if live.status == FAILED else "WARNING"
    return _text(f"{state}: {_check_name(live)} {live.host}:{live.port} {live.stage}: {live.message}")


def _listed(item: Finding, result: Result) -> bool:
    """A static finding that fails or warns; a live one has its check's line (unless no check ran, as for
    `check --require-env`'s MC511)."""
    if item.severity is Severity.INFO:
        return False
    return not item.rule.startswith(LIVE_PREFIX) or not result.live


def _finding_line(item: Finding) -> str:
    state = "CRITICAL" if item.severity is Severity.ERROR else "WARNING"
    return _text(f"{state}: {item.file}:{item.line}:{item.column}: {item.rule} {item.message}")


def _text(text: str) -> str:
    return one_line(text).replace("|", BAR)


def _label(text: str) -> str:
    """A perfdata label: quoted (spaces are allowed then), a quote doubled, no `=` (which ends a label)."""
    return "'" + _text(text).replace("=", "_").replace("'", "''") + "'"

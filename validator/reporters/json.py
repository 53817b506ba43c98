"""The JSON report, exactly the shape docs/reference.md gives.

Values are reported exactly, control characters included (a consumer may need the very bytes); JSON
escaping keeps every one of them from standing raw in the output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from validator import __version__
from validator.finding import Finding
from validator.reporters import json_text

if TYPE_CHECKING:
    from validator.outcome import Result, Summary
    from validator.reporters import ReportOptions


def render(result: Result, options: ReportOptions) -> str:
    summary = result.summary
    document: dict[str, Any] = {
        "tool": {"name": "mailcfg", "version": __version__},
        "files": [source.name for source in result.files],
        "findings": [finding_json(item) for item in result.findings],
        "suppressed": [
            {
                **finding_json(item),
                "suppression": {
                    "kind": item.suppression.kind,
                    "reason": item.suppression.reason,
                    "file": item.suppression.location.file if item.suppression.location else None,
                    "line": item.suppression.location.line if item.suppression.location else None,
                },
            }
            for item in result.suppressed
            if item.suppression is not None
        ],
        "live": [
            {
                "account": live.account,
                "protocol": live.protocol,
                "host": live.host,
                "port": live.port,
                "status": live.status,
                "stage": live.stage,
                "message": live.message,
                "seconds": live.seconds,
            }
            for live in result.live
        ],
        # `verify` only: what the adaptive session limit did at each host (validator/live/hostlimit.py).
        "hosts": [
            {
                "host": host.host,
                "ceiling": host.ceiling,
                "limit": host.limit,
                "peak_limit": host.peak_limit,
                "peak_sessions": host.peak_sessions,
                "sessions": host.sessions,
                "retries": host.retries,
                "backoffs": [
                    {
                        "seconds": backoff.seconds,
                        "from": backoff.limit_from,
                        "to": backoff.limit_to,
                        "reason": backoff.reason,
                        "account": backoff.account,
                    }
                    for backoff in host.backoffs
                ],
            }
            for host in result.hosts
        ],
        # Always present, so a consumer tells "verify stopped by Ctrl-C, `live` is partial" from a whole run.
        "interrupted": result.interrupted,
        "summary": summary_json(summary),
    }
    return json_text(document)


def summary_json(summary: Summary) -> dict[str, int]:
    """The run's counts in the report's shape (also the folders report's `summary`)."""
    return {
        "files": summary.files,
        "accounts": summary.accounts,
        "errors": summary.errors,
        "warnings": summary.warnings,
        "infos": summary.infos,
    }


def finding_json(item: Finding) -> dict[str, Any]:
    """A finding in the report's shape (also the `findings` of the folders report)."""
    return {
        "rule": item.rule,
        "severity": item.severity.value,
        "message": item.message,
        "hint": item.hint,
        "file": item.file,
        "line": item.line,
        "column": item.column,
        "pointer": item.pointer,
        "account": item.account,
    }

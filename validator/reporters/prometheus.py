"""The Prometheus report: the text exposition format (0.0.4) that node_exporter's textfile collector reads.

One family per fact monitoring alerts on (docs/monitoring.md): whether each live check passed and how long it
and its stages took, when each server certificate and OAuth2 access token expires, the finding counts, and when
the run happened. Labels hold ids, protocols, hosts, ports, stages, severities and rule ids only: never a
username, never a secret. A family without samples is left out (`check` writes the findings and run families).

Written by hand rather than with prometheus_client: the format is a few lines of rules, and mailcfg needs no
runtime dependency for it. The cli writes it to a file atomically, so the collector never reads half a file.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from validator.finding import Severity
from validator.live.result import FAILED, SKIPPED

if TYPE_CHECKING:
    from validator.live.result import LiveResult
    from validator.outcome import Result
    from validator.reporters import ReportOptions

Labels = tuple[tuple[str, str], ...]
Sample = tuple[Labels, float]


def render(result: Result, options: ReportOptions) -> str:
    # A duplicate login is checked once; the check that made it carries the series (docs/monitoring.md).
    checks = [live for live in result.live if live.status != SKIPPED]
    families = [
        _family(
            "mailcfg_check_success",
            "Whether the live check passed (1; a warning such as MC505 passes) or failed (0).",
            [(_check_labels(live), 0.0 if live.status == FAILED else 1.0) for live in checks],
        ),
        _family(
            "mailcfg_check_duration_seconds",
            "How long the live check took, all its stages.",
            [(_check_labels(live), live.seconds) for live in checks],
        ),
        _family(
            "mailcfg_stage_duration_seconds",
            "How long one stage of a live check took (summed when a stage runs twice, as EHLO around STARTTLS).",
            _stage_samples(checks),
        ),
        _family(
            "mailcfg_certificate_expiry_timestamp_seconds",
            "The notAfter of the server's leaf certificate as a Unix time.",
            _earliest(
                (
                    (("host", live.host), ("port", str(live.port))),
                    live.certificate_expires,
                )
                for live in checks
            ),
        ),
        _family(
            "mailcfg_token_expiry_timestamp_seconds",
            "When the OAuth2 access token of the account's credentials expires, as a Unix time (where the token"
            " endpoint said).",
            _earliest(((("account", account),), expires) for live in checks for account, expires in live.token_expires),
        ),
        _family(
            "mailcfg_findings",
            "Findings of the run that count (not suppressed), by severity.",
            [((("severity", severity),), float(count)) for severity, count in _severity_counts(result)],
        ),
        _family(
            "mailcfg_findings_by_rule",
            "Findings of the run that count (not suppressed), by rule id.",
            [((("rule", rule),), float(count)) for rule, count in _rule_counts(result)],
        ),
        _family(
            "mailcfg_last_run_timestamp_seconds", "When this run wrote its report, as a Unix time.", [((), time.time())]
        ),
        _family(
            "mailcfg_run_duration_seconds",
            "How long the run took, from its start to its report.",
            [((), options.seconds)] if options.seconds is not None else [],
        ),
    ]
    return "".join(families)


def _check_labels(live: LiveResult) -> Labels:
    return (
        ("account", live.account),
        ("credentials", live.credentials or ""),
        ("protocol", live.protocol),
        ("host", live.host),
        ("port", str(live.port)),
    )


def _stage_samples(checks: Sequence[LiveResult]) -> list[Sample]:
    samples: dict[Labels, float] = {}
    for live in checks:
        for stage in live.stages:
            if stage.status == SKIPPED:
                continue
            labels = (
                ("account", live.account),
                ("credentials", live.credentials or ""),
                ("protocol", live.protocol),
                ("stage", stage.name),
            )
            samples[labels] = samples.get(labels, 0.0) + stage.seconds
    return list(samples.items())


def _earliest(samples: Iterable[tuple[Labels, float | None]]) -> list[Sample]:
    """One sample per label set, the earliest time: two checks of one server (or one token) may see it differ."""
    out: dict[Labels, float] = {}
    for labels, value in samples:
        if value is not None:
            out[labels] = min(value, out.get(labels, value))
    return sorted(out.items())


def _severity_counts(result: Result) -> list[tuple[str, int]]:
    summary = result.summary  # the whole run's counts, also when --max-findings shortened the list
    return [(Severity.ERROR.value, summary.errors), (Severity.WARNING.value, summary.warnings),
            (Severity.INFO.value, summary.infos)]  # fmt: skip


def _rule_counts(result: Result) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for item in result.findings:
        counts[item.rule] = counts.get(item.rule, 0) + 1
    return sorted(counts.items())


def _family(name: str, help_text: str, samples: Sequence[Sample]) -> str:
    """HELP, TYPE and one line per sample; nothing at all without samples. Every family here is a gauge."""
    if not samples:
        return ""
    lines = [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} gauge"]
    seen: set[Labels] = set()
    for labels, value in samples:
        if labels in seen:  # the collector refuses a whole file with a repeated series: keep the first
            continue
        seen.add(labels)
        body = ",".join(f'{key}="{_escape_label(text)}"' for key, text in labels)
        lines.append(f"{name}{{{body}}} {_number(value)}" if body else f"{name} {_number(value)}")
    return "\n".join(lines) + "\n"


def _escape_label(text: str) -> str:
    """A label value as the format wants it: backslash, double quote and line feed escaped, all else as is.

    Ids and hosts passed the schema before any live check runs, but a label value is written here whatever it
    holds: a carriage return or another line break would end the line for some readers, so those become spaces.
    """
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return "".join(" " if character in _OTHER_BREAKS else character for character in text)


_OTHER_BREAKS = frozenset("\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(round(value, 6))

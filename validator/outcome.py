"""What a run produced, for every reporter: :class:`Result` (findings, live results, counts) and :class:`Summary`.

Its own module, so reporters depend on the outcome of a run and not on the engine that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.live.hostlimit import HostReport
    from validator.live.result import LiveResult
    from validator.loader import SourceFile

# Live rules (MC5xx): their failures alone give exit code 3 instead of 1.
LIVE_PREFIX = "MC5"


def order_key(order: dict[str, int], item: Finding) -> tuple[int, str, int, int, str, str]:
    """The one report order of findings: the files in run order, then position, rule and message."""
    return (order.get(item.file, len(order)), item.file, item.line, item.column, item.rule, item.message)


@dataclass(frozen=True)
class Summary:
    files: int
    accounts: int
    errors: int
    warnings: int
    infos: int


@dataclass(frozen=True)
class Result:
    """The outcome of a run, ready for any reporter."""

    files: tuple[SourceFile, ...]
    findings: tuple[Finding, ...]
    accounts: int
    # Findings a suppression layer took out, each with its `suppression`; they never fail a run.
    suppressed: tuple[Finding, ...] = ()
    # `mailcfg verify`: one result per check, in plan order.
    live: tuple[LiveResult, ...] = ()
    # `verify` stopped by Ctrl-C: `live` holds the checks that finished.
    interrupted: bool = False
    # `mailcfg verify`: what the adaptive session limit did at each host contacted.
    hosts: tuple[HostReport, ...] = ()
    # Set by `limited()`: the counts of the whole run when only some findings are kept for the report.
    totals: Summary | None = None

    def limited(self, count: int | None) -> Result:
        """This result with at most ``count`` findings to report; the summary still counts them all."""
        if count is None or len(self.findings) <= count:
            return self
        return replace(self, findings=self.findings[:count], totals=self.summary)

    @property
    def omitted(self) -> int:
        if self.totals is None:
            return 0
        return self.totals.errors + self.totals.warnings + self.totals.infos - len(self.findings)

    @property
    def summary(self) -> Summary:
        if self.totals is not None:
            return self.totals
        counts = dict.fromkeys(Severity, 0)
        for item in self.findings:
            counts[item.severity] += 1
        return Summary(
            len(self.files), self.accounts, counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO]
        )

    def exit_code(self, strict: bool = False) -> int:
        """1 for failing static findings, 3 when only live checks failed, else 0. A run without live checks
        (`check`, whose `--require-env` refuses a secret file outside --allow-secret-dir as MC511) fails with 1."""
        failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
        failed = [item for item in self.findings if item.severity in failing]
        if any(not item.rule.startswith(LIVE_PREFIX) for item in failed) or (failed and not self.live):
            return 1
        return 3 if failed else 0

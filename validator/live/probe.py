"""Stage timing and the translation of failures into located MC5xx findings, with secrets scrubbed."""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import NoReturn

from validator.finding import Finding, Severity
from validator.live.plan import Check
from validator.live.result import FAILED, OK, SKIPPED, WARNING, LiveResult, Stage

# The rule a stage's failure is reported under (timeouts included).
STAGE_RULES = {
    "policy": "MC511",
    "dns": "MC501",
    "connect": "MC502",
    "greeting": "MC502",
    "ehlo": "MC502",
    "tls": "MC503",
    "certificate": "MC504",
    "starttls": "MC506",
    "auth": "MC507",
    "send": "MC508",
    "folders": "MC509",
    "round-trip": "MC510",
}
_WARNING_RULES = frozenset({"MC505"})


class StageFailed(Exception):
    """The check stops at the current stage; the probe has recorded why."""


class Probe:
    """Records the stages of one check as they run."""

    def __init__(self, check: Check, secrets: Iterable[tuple[str, str]] = ()) -> None:
        self.check = check
        self.stages: list[Stage] = []
        self.findings: list[Finding] = []
        self.current = ""
        self._began = self._stage_began = time.monotonic()
        self._secrets = _variants([(user, password) for user, password in secrets if password])
        # An imap check's worker thread may still be running when the deadline closes the probe.
        self._lock = threading.Lock()
        self._closed = False
        # Set while a step spans two stages (implicit TLS: handshake, then greeting): which one a timeout hit.
        self.stage_hint: Callable[[], str] | None = None

    def start(self, name: str) -> None:
        if not self._closed:
            self.current = name
            self._stage_began = time.monotonic()

    def ok(self, message: str = "") -> None:
        self._record(Stage(self.current, OK, self._elapsed(), self.scrub(message)))

    def skip(self, name: str, message: str) -> None:
        self._record(Stage(name, SKIPPED, 0.0, message))

    def close_with_timeout(self, timeout: float) -> None:
        """The deadline passed: record that at the current stage, and ignore whatever the check does later."""
        with self._lock:
            if self._closed:
                return
            if not any(stage.status == FAILED for stage in self.stages):
                stage = self.stage_hint() if self.stage_hint is not None else (self.current or "connect")
                rule = STAGE_RULES.get(stage, "MC502")
                message = f"no answer within {timeout:g} s (stage {stage})"
                self.findings.append(
                    self._finding(rule, message, "raise --timeout if the server is just slow", None, Severity.ERROR)
                )
                self.stages.append(Stage(stage, FAILED, self._elapsed(), message))
            self._closed = True

    def unexpected(self, error: BaseException) -> None:
        """A failure no stage foresaw (a protocol library raising something odd): a finding, not a crash."""
        with self._lock:
            if self._closed or any(stage.status == FAILED for stage in self.stages):
                self._closed = True
                return
            stage = self.current or "connect"
            message = f"unexpected {type(error).__name__} ({str(error)[:200]})"
            self.findings.append(self._finding(STAGE_RULES.get(stage, "MC502"), message, None, None, Severity.ERROR))
            self.stages.append(Stage(stage, FAILED, self._elapsed(), self.scrub(message)))
            self._closed = True

    def _record(self, stage: Stage, finding: Finding | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            self.stages.append(stage)
            if finding is not None:
                self.findings.append(finding)

    def warn(self, rule: str, message: str, hint: str | None = None, at: tuple[object, ...] = ("host",)) -> None:
        """A warning inside the current stage (which then still succeeds)."""
        self._record(
            Stage(self.current, WARNING, self._elapsed(), self.scrub(message)),
            self._finding(rule, message, hint, at, Severity.WARNING),
        )

    def fail(
        self,
        message: str,
        hint: str | None = None,
        at: tuple[object, ...] | None = None,
        rule: str | None = None,
        login_entry: bool = False,
    ) -> NoReturn:
        rule = rule or STAGE_RULES.get(self.current, "MC502")
        self._record(
            Stage(self.current, FAILED, self._elapsed(), self.scrub(message)),
            self._finding(rule, message, hint, at, Severity.ERROR, login_entry),
        )
        raise StageFailed(message)

    def result(self) -> LiveResult:
        check = self.check
        failed = next((s for s in self.stages if s.status == FAILED), None)
        warned = next((s for s in self.stages if s.status == WARNING), None)
        last = failed or warned or (self.stages[-1] if self.stages else Stage("plan", OK, 0.0))
        status = FAILED if failed else WARNING if warned else OK
        message = last.message if failed or warned else "all stages passed"
        if check.note:
            message = f"{message} ({check.note})"
        return LiveResult(
            check.account,
            check.protocol,
            check.host,
            check.port,
            status,
            last.name,
            message,
            round(time.monotonic() - self._began, 3),
            tuple(self.stages),
            tuple(self.findings),
        )

    def scrub(self, text: str) -> str:
        """``text`` with every form of a password this check knows replaced (a server may echo input)."""
        for secret in self._secrets:
            text = text.replace(secret, "****")
        return text

    def _elapsed(self) -> float:
        return round(time.monotonic() - self._stage_began, 4)

    def _finding(
        self,
        rule: str,
        message: str,
        hint: str | None,
        at: tuple[object, ...] | None,
        severity: Severity,
        login_entry: bool = False,
    ) -> Finding:
        check = self.check
        entry = check.login.entry if login_entry and check.login is not None else check.entry
        path = at if at is not None else (("credentials",) if login_entry else ("host",))
        if rule in _WARNING_RULES:
            severity = Severity.WARNING
        prefix = f"{check.protocol} {check.account}"
        if check.note:
            prefix += f" ({check.note})"
        return Finding(
            rule,
            severity,
            self.scrub(f"{prefix}: {check.host}:{check.port}: {message}"),
            entry.origin.at(*path),
            self.scrub(hint) if hint else None,
            check.account,
        )


def _variants(secrets: list[tuple[str, str]]) -> list[str]:
    """A password as it may appear on the wire or in an echo: plain, base64, and inside AUTH PLAIN."""
    out: list[str] = []
    for username, password in secrets:
        raw = password.encode("utf-8")
        plain = b"\0" + username.encode("utf-8") + b"\0" + raw
        out += [password, base64.b64encode(raw).decode("ascii"), base64.b64encode(plain).decode("ascii")]
    return sorted(set(out), key=len, reverse=True)


def failed_result(check: Check, stage: str, message: str, hint: str | None = None) -> LiveResult:
    """A result for a check that failed before it ran a stage of its own (policy, timeout)."""
    probe = Probe(check)
    probe.start(stage)
    with contextlib.suppress(StageFailed):
        probe.fail(message, hint)
    return probe.result()


def certificate_stage(probe: Probe, peercert: object, warn_days: int) -> None:
    """The certificate stage after a verified handshake: MC505 when it expires within ``warn_days``."""
    from validator.live.tls import days_left

    probe.start("certificate")
    days = days_left(peercert)
    if days is not None and days < warn_days:
        probe.warn(
            "MC505",
            f"certificate expires in {max(days, 0):.0f} days",
            f"renew it (warning threshold: --cert-warn-days {warn_days})",
        )
        return
    probe.ok(f"valid for {days:.0f} more days" if days is not None else "")

"""What live checks take and give: options, stages, per-account results."""

from __future__ import annotations

from dataclasses import dataclass, field

from validator.finding import Finding
from validator.limits import DEFAULT_MAX_CHECKS
from validator.trust import Trust

OK, WARNING, FAILED, SKIPPED = "ok", "warning", "failed", "skipped"


@dataclass(frozen=True)
class VerifyOptions:
    """Settings of one ``mailcfg verify`` run."""

    timeout: float = 30.0
    jobs: int = 16
    # The adaptive per-host limit (validator/live/hostlimit.py): None adapts between its start and its default
    # ceiling; a number given starts there and is the ceiling.
    per_host: int | None = None
    only: tuple[str, ...] = ()
    ca_file: str | None = None
    send_test: bool = False
    round_trip: bool = False
    trust: Trust = field(default_factory=Trust)
    max_checks: int = DEFAULT_MAX_CHECKS
    cert_warn_days: int = 21


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of a check (dns, connect, tls, certificate, auth, …) with its outcome and duration."""

    name: str
    status: str
    seconds: float
    message: str = ""


@dataclass(frozen=True)
class LiveResult:
    """The outcome of one check: an smtp entry or an imap account against its server."""

    account: str
    protocol: str
    host: str
    port: int
    status: str
    stage: str
    message: str
    seconds: float
    stages: tuple[Stage, ...] = ()
    findings: tuple[Finding, ...] = ()
    # For monitoring (the prometheus report): the id of the entry whose credentials the check logged in with
    # (None: no login), the server certificate's notAfter and each OAuth2 access token's expiry (by that id), as
    # Unix times, where known.
    credentials: str | None = None
    certificate_expires: float | None = None
    token_expires: tuple[tuple[str, float], ...] = ()


class Interrupted(Exception):
    """Ctrl-C during the live checks; carries the results of the checks that had finished."""

    def __init__(self, finished: list[LiveResult]) -> None:
        super().__init__("interrupted")
        self.finished = finished

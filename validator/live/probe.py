"""Stage timing and the translation of failures into located MC5xx findings, with secrets scrubbed.

Two kinds of text reach a finding: mailcfg's own words, and text from outside (a server's reply, banner or
error; a username from a YAML file that may come from a pull request). Outside text goes through
:meth:`Probe.outside` where it is taken in: decoded (never a ``b'…'`` repr), scrubbed, then made one short
line; every finding and stage message is scrubbed once more on the way out. Scrubbing comes before any cut,
so a cut never leaves the start of a password behind; a text that already arrives cut (a server that
shortens its echo) has a trailing start of a password of four or more characters masked.

A password shorter than eight characters can be guessed. A mask would confirm a guess (a YAML username
holding the guess comes back as ``****``), so text that holds a short password is withheld whole instead
of masked. What remains is one bit per text (withheld or not) for an attacker who guesses the whole short
password, or four characters of a longer one that a server echoes cut short.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import NoReturn
from urllib.parse import quote, quote_plus

from validator.finding import Finding, Severity
from validator.live.plan import Check
from validator.live.result import FAILED, OK, SKIPPED, WARNING, LiveResult, Stage
from validator.registry import RULES
from validator.sanitize import LIMIT, has_control, one_line

# The rule a stage's failure is reported under (timeouts included).
STAGE_RULES = {
    "policy": "MC511",
    "secret": "MC512",
    "token": "MC512",
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
MASK = "****"
# Shorter passwords are guessable: text holding one is withheld, never masked (see the module docstring).
SHORT = 8
# The shortest start of a password masked at the end of a text that was cut before mailcfg saw it.
MIN_PREFIX = 4
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}=*")
# A Python bytes repr inside a library's error text (imaplib: ``NO [b'[AUTHENTICATIONFAILED] …']``).
_BYTES_REPR = re.compile(r"""(?<![\w'"])b(['"])((?:\\.|(?!\1)[^\\])*)\1""")
_REPR_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)", re.DOTALL)
_REPR_CHARACTERS = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


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
        self._known = [(user, password) for user, password in secrets if password]
        self._secrets = _Secrets(self._known)
        # An imap check's worker thread may still be running when the deadline closes the probe.
        self._lock = threading.Lock()
        self._closed = False
        # Set while a step spans two stages (implicit TLS: handshake, then greeting): which one a timeout hit.
        self.stage_hint: Callable[[], str] | None = None
        # What monitoring wants to know beyond pass or fail (Unix times): the server certificate's notAfter, and
        # the expiry of each OAuth2 access token this check used, by the id of the entry holding its credentials.
        self.certificate_expires: float | None = None
        self.token_expires: dict[str, float] = {}

    def start(self, name: str) -> None:
        if not self._closed:
            self.current = name
            self._stage_began = time.monotonic()

    def ok(self, message: str = "") -> None:
        self._record(Stage(self.current, OK, self._elapsed(), self.scrub(message)))

    def skip(self, name: str, message: str) -> None:
        self._record(Stage(name, SKIPPED, 0.0, self.scrub(message)))

    def learn(self, secrets: Iterable[tuple[str, str]]) -> None:
        """Also scrub these (username, password) pairs: a round trip reports its sender's failures, which may
        echo the sender's password."""
        self._known = self._known + [(user, password) for user, password in secrets if password]
        self._secrets = _Secrets(self._known)  # replaced whole: a worker thread may be scrubbing meanwhile

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
            message = f"unexpected {type(error).__name__} ({self.outside(str(error), 'error text')})"
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
        raise StageFailed(self.scrub(message))  # a round trip quotes it in another check's finding

    def result(self) -> LiveResult:
        check = self.check
        failed = next((s for s in self.stages if s.status == FAILED), None)
        warned = next((s for s in self.stages if s.status == WARNING), None)
        last = failed or warned or (self.stages[-1] if self.stages else Stage("plan", OK, 0.0))
        status = FAILED if failed else WARNING if warned else OK
        message = last.message if failed or warned else "all stages passed"
        if check.note:
            message = self.scrub(f"{message} ({check.note})")
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
            check.login.entry.id if check.login is not None else None,
            self.certificate_expires,
            tuple(sorted(self.token_expires.items())),
        )

    def scrub(self, text: str, what: str = "message") -> str:
        """``text`` with every printed form of a password this check knows masked (a server may echo input);
        a placeholder instead when it holds a short password."""
        if self._secrets.holds_short(text):
            return withheld(what)
        return self._secrets.mask(text)

    def outside(self, text: str | bytes, what: str = "server reply", limit: int = LIMIT, cut: bool = True) -> str:
        """Text from outside (a server's reply, banner or error; a username from the YAML), ready to print: decoded,
        scrubbed, then one line of at most ``limit`` characters. ``cut``: it may have been cut short before mailcfg
        saw it (a server's echo), so a trailing start of a password is masked too; not for YAML values."""
        text = _unrepr(_decoded(text))
        secrets = self._secrets
        if secrets.holds_short(text):
            return withheld(what)
        text = one_line(secrets.mask(text), limit)
        if not cut:
            return text
        body, ellipsis = (text[:-1], text[-1]) if text.endswith("…") else (text, "")
        prefix = secrets.trailing_prefix(body)
        if prefix is None:
            return text
        length, short = prefix
        return withheld(what) if short else body[:-length] + MASK + ellipsis

    def username(self, username: str) -> str:
        """A username for a message: the YAML's value, so attacker-chosen text (never cut before)."""
        return self.outside(username, "username", cut=False)

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
        # A rule registered as a warning (MC505) stays one, whatever the stage made of it.
        registered = RULES.get(rule)
        if registered is not None and registered.severity is Severity.WARNING:
            severity = Severity.WARNING
        prefix = f"{check.protocol} {check.account}"
        if check.note:
            prefix += f" ({check.note})"
        # The message alone first, so a placeholder keeps the prefix; then the whole, for the YAML's values.
        return Finding(
            rule,
            severity,
            self.scrub(f"{prefix}: {check.host}:{check.port}: {self.scrub(message)}"),
            entry.origin.at(*path),
            self.scrub(hint, "hint") if hint else None,
            check.account,
        )


def withheld(what: str) -> str:
    return f"({what} withheld: it contains the password)"


def refuse_unsendable(probe: Probe, username: str, password: str) -> None:
    """Fail the auth stage before anything is sent when the username or password holds a control character.

    A line break in a value sent in a command line (IMAP LOGIN) ends the command there and makes the rest a
    command of the attacker's; NUL reshapes AUTH PLAIN. No real login holds either; a password read from a
    file often ends in a stray newline.
    """
    for field, value, hint in (
        ("username", username, "a login name holds no line breaks or other control characters"),
        ("password", password, "the variable must hold the password alone (a trailing newline is a common slip)"),
    ):
        if has_control(value):
            probe.fail(
                f"the {field} holds a line break or another control character; nothing sent",
                hint,
                at=("credentials", field),
                login_entry=True,
            )


class _Secrets:
    """Every printed form of some passwords: masked in text, or, for short passwords, detected to withhold it."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        long_text: set[str] = set()
        self._base64: set[str] = set()  # of long passwords, matched inside a base64 run
        self._short: list[str] = []  # every form of a short password, lower case
        self._prefixable: list[tuple[str, bool]] = []  # (form, of a short password) whose start a cut may leave
        for username, password in pairs:
            text, encoded, fragments = _forms(username, password)
            short = len(password) < SHORT
            if short:
                self._short += [form.lower() for form in text | encoded]
            else:
                long_text |= text
                self._base64 |= encoded | fragments
            self._prefixable += [(form, short) for form in text | encoded]
        ordered = sorted(long_text, key=len, reverse=True)  # the longest form first: no partial mask left
        self._pattern = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE) if ordered else None

    def holds_short(self, text: str) -> bool:
        lowered = text.lower()
        return any(form in lowered for form in self._short)

    def mask(self, text: str) -> str:
        if self._base64:
            # A whole base64 run goes: masking only the password's part would leave bits of it at the edges.
            text = _BASE64_RUN.sub(lambda run: MASK if self._in_base64(run.group()) else run.group(), text)
        return self._pattern.sub(MASK, text) if self._pattern is not None else text

    def _in_base64(self, run: str) -> bool:
        return any(form in run for form in self._base64)

    def trailing_prefix(self, text: str) -> tuple[int, bool] | None:
        """(length, of a short password) of the longest start of a form, at least MIN_PREFIX long, ending ``text``."""
        lowered = text.lower()
        best: tuple[int, bool] | None = None
        for form, short in self._prefixable:
            for length in range(len(form) - 1, MIN_PREFIX - 1, -1):
                if (best is None or length > best[0]) and lowered.endswith(form[:length].lower()):
                    best = (length, short)
                    break
        return best


def _forms(username: str, password: str) -> tuple[set[str], set[str], set[str]]:
    """(text forms, base64 forms, base64 fragments) of a password as it is sent or may be echoed.

    Text: plain (a literal's content too), IMAP-quoted or backslash-escaped, JSON, Python str and bytes reprs,
    unicode-escaped, URL-encoded (quote, quote_plus). Base64 (standard and URL-safe, padded or not) of the
    password, of AUTH PLAIN's ``\\0user\\0password`` and of ``user\\0password``; fragments: the part of a base64
    run that encodes the password alone whatever its offset (the edges mix in neighbouring bytes).
    """
    raw = password.encode("utf-8")
    text = {
        password,
        password.replace("\\", "\\\\").replace('"', '\\"'),
        json.dumps(password)[1:-1],
        json.dumps(password, ensure_ascii=False)[1:-1],
        repr(password)[1:-1],
        repr(raw)[2:-1],
        password.encode("unicode_escape").decode("ascii"),
        quote(password, safe=""),
        quote(password),
        quote_plus(password),
    }
    encoded: set[str] = set()
    fragments: set[str] = set()
    user = username.encode("utf-8")
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        # AUTH PLAIN's two forms, and XOAUTH2's `user=…\x01auth=Bearer <token>\x01\x01` (OAUTHBEARER's carries host
        # and port too: its run is caught by the fragments below).
        xoauth2 = b"user=" + user + b"\x01auth=Bearer " + raw + b"\x01\x01"
        for blob in (raw, b"\0" + user + b"\0" + raw, user + b"\0" + raw, xoauth2):
            encoded.add(encode(blob).decode("ascii").rstrip("="))
        for shift in range(3):
            run = encode(b"\0" * shift + raw).decode("ascii")
            fragment = run[4 if shift else 0 : -4]
            if len(fragment) >= SHORT:
                fragments.add(fragment)
    return {form for form in text if form}, {form for form in encoded if form}, fragments


def _decoded(text: str | bytes) -> str:
    """Server bytes as text; a str that carries undecodable bytes as surrogates (aiosmtplib) gets them replaced."""
    if isinstance(text, bytes):
        return text.decode("utf-8", "replace")
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def _unrepr(text: str) -> str:
    """Each Python bytes repr in ``text`` (``b'…'``, as imaplib puts server bytes into errors) as its decoded text."""
    return _BYTES_REPR.sub(_unrepr_one, text)


def _unrepr_one(match: re.Match[str]) -> str:
    def character(escape: re.Match[str]) -> str:
        code = escape.group(1)
        if len(code) == 3 and code[0] == "x":
            return chr(int(code[1:], 16))
        return _REPR_CHARACTERS.get(code, "\\" + code)

    latin = _REPR_ESCAPE.sub(character, match.group(2))
    return latin.encode("latin-1", "replace").decode("utf-8", "replace")


def failed_result(check: Check, stage: str, message: str, hint: str | None = None) -> LiveResult:
    """A result for a check that failed before it ran a stage of its own (policy, timeout)."""
    probe = Probe(check)
    probe.start(stage)
    with contextlib.suppress(StageFailed):
        probe.fail(message, hint)
    return probe.result()


def certificate_stage(probe: Probe, peercert: object, warn_days: int) -> None:
    """The certificate stage after a verified handshake: MC505 when it expires within ``warn_days``."""
    from validator.live.tls import days_left, not_after

    probe.start("certificate")
    probe.certificate_expires = not_after(peercert)
    days = days_left(peercert)
    if days is not None and days < warn_days:
        probe.warn(
            "MC505",
            f"certificate expires in {max(days, 0):.0f} days",
            f"renew it (warning threshold: --cert-warn-days {warn_days})",
        )
        return
    probe.ok(f"valid for {days:.0f} more days" if days is not None else "")

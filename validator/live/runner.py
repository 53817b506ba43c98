"""Runs the planned checks concurrently within limits and deadlines.

Limits: ``--jobs`` sessions at once, an adaptive limit per server host (validator/live/hostlimit.py: it grows
while the host answers well and halves when it pushes back, never above ``--per-host``), and never two sessions
for one account (a lock per protocol, host and username, whatever the port: servers cap sessions per user, and
Dovecot penalises parallel failures). Slots are taken before the account lock, so a round trip (an imap check
that also sends through smtp) can never wait in a cycle. Each whole check has a deadline; an imap
thread still blocked when it passes has its socket shut down. A check the host refused before any credential
was sent goes to the back of the host's queue and is tried again, within the same deadline; after the
credentials, nothing is tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from validator.live import imap, smtp
from validator.live.hostlimit import CEILING, HostLimit, HostReport
from validator.live.plan import Check, Login, SmtpTarget, smtp_check
from validator.live.probe import Probe, StageFailed
from validator.live.pushback import MAX_ATTEMPTS, PushBack
from validator.live.result import OK, LiveResult, VerifyOptions
from validator.live.tokens import Commands, Tokens
from validator.trust import normalize_host

T = TypeVar("T")
# What an imap check does once logged in (besides a round trip): verify checks `sent_folder`; `mailcfg folders`
# lists the folders. It runs in a worker thread with the check's probe and the logged-in client.
ImapStep = Callable[[Check, Probe, Any], None]
# How long cleanup after an interruption may take (deleting an already delivered round-trip message).
CLEANUP_SECONDS = 5.0
# A round trip stops waiting this long before the check's deadline, to report and clean up in time.
WAIT_MARGIN = 0.5
# A refused check waits this long before queueing again (doubled per attempt), and is not tried again with less
# than RETRY_MIN of its deadline left: the refusal is reported instead.
RETRY_DELAY = 0.2
RETRY_MIN = 1.0
_CLEANUP_ERRORS: tuple[type[BaseException], ...] = (asyncio.TimeoutError, OSError, *imap.ERRORS)


class _Limits:
    def __init__(self, options: VerifyOptions) -> None:
        self.jobs = asyncio.Semaphore(max(options.jobs, 1))
        self.per_host = options.per_host
        self.began = time.monotonic()
        self.hosts: dict[str, HostLimit] = {}
        self.accounts: defaultdict[tuple[str, str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self.executor = ThreadPoolExecutor(max_workers=max(options.jobs, 1), thread_name_prefix="mailcfg-imap")

    def host(self, name: str) -> HostLimit:
        key = name.lower()
        if key not in self.hosts:
            if self.per_host is None:
                self.hosts[key] = HostLimit(key, CEILING, self.began)
            else:  # the user vouches for this many: start there, still halve on push-back
                self.hosts[key] = HostLimit(key, self.per_host, self.began, start=self.per_host)
        return self.hosts[key]

    def account(self, protocol: str, host: str, login: Login | None) -> asyncio.Lock:
        # Not by port: a server counts a user's sessions whichever port they came in on (993 and 143 alike).
        return self.accounts[(protocol, host.lower(), login.username if login else "")]


@dataclass(frozen=True)
class CheckRun:
    """One check under way: what it checks with which settings, the run's limits, and what records and
    carries it (the probe, the imap session a deadline can cut) until ``deadline`` (``time.monotonic()``)."""

    check: Check
    options: VerifyOptions
    env: Mapping[str, str]
    limits: _Limits
    probe: Probe
    session: imap.Session
    deadline: float
    tokens: Tokens
    commands: Commands
    imap_step: ImapStep = imap.check_folders


async def run_all(
    checks: list[tuple[int, Check]],
    options: VerifyOptions,
    env: dict[str, str],
    progress: Callable[[int, int], None] | None,
    finished: dict[int, LiveResult],
    imap_step: ImapStep = imap.check_folders,
    hosts: list[HostReport] | None = None,
) -> None:
    """Run every (plan index, check); each result lands in ``finished`` under its index as soon as it is known.

    ``imap_step`` is what an imap check does after its login. ``env`` holds the secret values read so far (by
    :attr:`validator.secrets.Ref.key`); a `{command:}` secret's value is added to it when its first check runs it.
    ``hosts`` receives what the adaptive limit did at each host, in the order of their first check (also when
    interrupted)."""
    limits = _Limits(options)
    values = env
    tokens = Tokens((check for _, check in checks), options, values)
    commands = Commands(values, options.timeout)
    total = len(finished) + len(checks)

    async def one(index: int, check: Check) -> None:
        finished[index] = await _guarded(check, options, values, limits, (tokens, commands), imap_step)
        if progress is not None:
            progress(len(finished), total)

    try:
        # return_exceptions: on Ctrl-C, wait until every check has cleaned up (round-trip messages deleted)
        # instead of returning as soon as the first one is cancelled.
        outcomes = await asyncio.gather(
            *(one(index, check) for index, check in checks), return_exceptions=True
        )
    finally:
        limits.executor.shutdown(wait=False, cancel_futures=True)
        if hosts is not None:
            hosts.extend(limit.report() for limit in limits.hosts.values())
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def _guarded(
    check: Check,
    options: VerifyOptions,
    env: Mapping[str, str],
    limits: _Limits,
    sources: tuple[Tokens, Commands],
    imap_step: ImapStep,
) -> LiveResult:
    # The trust settings were applied before (policy.screen): every check here may contact its hosts.
    host = limits.host(check.host)
    deadline: float | None = None  # set when the first attempt starts: the queue before it does not count
    attempt = 0
    while True:
        attempt += 1
        async with limits.jobs:
            epoch = await host.acquire()
            try:
                async with limits.account(check.protocol, check.host, check.login):
                    if deadline is None:
                        deadline = time.monotonic() + options.timeout
                    probe, pushed = await _attempt(check, options, env, limits, sources, imap_step, deadline)
                # Decided before the slot is released, so it goes on under the new limit.
                if pushed is None and any(s.status == OK and s.name in ("greeting", "tls") for s in probe.stages):
                    host.served(epoch, check.port)
                # Refused at a port that never answered is a server that is down or a wrong port, not a busy one.
                counts = pushed is not None and (check.port in host.answered or not pushed.refused)
                if pushed is not None and counts:
                    host.push_back(epoch, pushed.reason, check.account)
            finally:
                host.release()
        if pushed is None or not counts:
            return probe.result()
        delay = RETRY_DELAY * 2 ** (attempt - 1)
        if pushed.credentials_sent or attempt >= MAX_ATTEMPTS or deadline - time.monotonic() < delay + RETRY_MIN:
            return probe.result()
        host.retried()
        await asyncio.sleep(delay)


async def _attempt(
    check: Check,
    options: VerifyOptions,
    env: Mapping[str, str],
    limits: _Limits,
    sources: tuple[Tokens, Commands],
    imap_step: ImapStep,
    deadline: float,
) -> tuple[Probe, PushBack | None]:
    """One session of ``check`` until ``deadline``; its probe, and the push-back that ended it if one did."""
    probe = Probe(check, _secrets(check.login, env))
    session = imap.Session()
    run = CheckRun(check, options, env, limits, probe, session, deadline, *sources, imap_step)
    pushed: PushBack | None = None
    try:
        await asyncio.wait_for(_run(run), max(deadline - time.monotonic(), 0.0))
    except PushBack as failure:
        pushed = failure
    except StageFailed:
        pass
    except asyncio.TimeoutError:
        probe.close_with_timeout(options.timeout)
        session.abort()
    except asyncio.CancelledError:  # Ctrl-C: free a blocked imap thread, or the process could not exit
        probe.close_with_timeout(options.timeout)
        session.abort()
        raise
    except Exception as error:  # one broken conversation must not end the whole run
        probe.unexpected(error)
        session.abort()
    finally:
        if session.client is not None:
            await _thread(limits, imap.logout, session.client)
    return probe, pushed


async def _run(run: CheckRun) -> None:
    check, probe, limits = run.check, run.probe, run.limits
    # The secret and token stages come first: no server connection is held open while a command or a token endpoint
    # answers.
    if check.login is not None and check.auth_required:
        await run.commands.resolve(probe, check.login)
    token = None
    if check.login is not None and check.login.oauth2 is not None and check.auth_required:
        token = await run.tokens.get(probe, check.login)
    if check.protocol == "smtp":
        await smtp.check(check, run.options, run.env, probe, token)
        return
    run.session.token = token
    client = await _thread(limits, imap.open_session, check, run.options, run.env, probe, run.session)
    await _thread(limits, run.imap_step, check, probe, client)
    if check.round_trip is not None:
        await _round_trip(run, check.round_trip, client)


async def _round_trip(run: CheckRun, target: SmtpTarget, client: Any) -> None:
    """Send through ``target`` to the address of the mailbox ``client`` is logged in to, wait for it, delete it."""
    check, probe, env = run.check, run.probe, run.env
    probe.start("round-trip")
    model = target.entry.model
    login = target.login
    address = str(getattr(check.entry.model, "address", ""))
    _refuse_other_mailbox(probe, check, address)
    token = uuid.uuid4().hex
    sender_check = smtp_check(target.entry, login)
    sender = Probe(sender_check, _secrets(login, env))
    if login is not None and sender_check.auth_required:
        try:
            await run.commands.resolve(sender, login)
        except StageFailed as failure:
            probe.findings.extend(sender.findings)
            probe.fail(f"could not send through smtp '{target.entry.id}' (stage secret: {failure})", at=("outgoing",))
    # The sender's failures and replies end up in this check's findings, and may echo the sender's password.
    probe.learn(_secrets(login, env))
    sender_token = None
    if login is not None and login.oauth2 is not None and sender_check.auth_required:
        try:
            sender_token = await run.tokens.get(sender, login)
        except StageFailed as failure:
            probe.findings.extend(sender.findings)
            probe.fail(f"could not send through smtp '{target.entry.id}' (stage token: {failure})", at=("outgoing",))
        probe.learn([(login.username, sender_token)])
    from_address = login.username if login and "@" in login.username else address
    async with run.limits.account("smtp", sender_check.host, login):
        began = time.monotonic()
        try:
            connection = await smtp.open_session(
                sender, sender_check.host, model.effective_port, model.encryption, run.options
            )
            if login is not None and sender_check.auth_required:
                try:
                    await smtp.authenticate(sender, connection, sender_check, login, env, sender_token)
                except BaseException:
                    await smtp.close(connection)
                    raise
            try:
                sent, reply = await smtp.send_probe(sender, connection, from_address, address, token)
                await smtp.close(connection)
            except asyncio.CancelledError:
                # Interrupted once the server may have taken the message (even during QUIT): remove it if it came.
                await _cleanup(run, client, token)
                raise
        except StageFailed as failure:
            probe.findings.extend(sender.findings)
            probe.fail(
                f"could not send through smtp '{target.entry.id}' (stage {sender.current}: {failure})", at=("outgoing",)
            )
    if not sent:
        probe.fail(
            f"the message to {address} bounced: {reply}", "check `address`: the server refuses it", at=("address",)
        )
    probe.start("round-trip")
    found = await _wait_for_probe(run, client, token)
    if found is None:
        probe.fail(
            f"the message sent to {address} did not arrive in INBOX within {time.monotonic() - began:.1f} s",
            "check `address`, and that the server delivers to it (a bounce may be on its way); --timeout waits longer",
            at=("address",),
        )
    arrived, how = found
    probe.ok(f"delivered in {arrived - began:.2f} s (waited with {how}), then deleted")


def _refuse_other_mailbox(probe: Probe, check: Check, address: str) -> None:
    """Fail before anything is sent when ``address`` clearly is not the mailbox the check logged in to.

    The message is waited for (and deleted) in the mailbox logged in to; sent to another one, it would arrive
    there, stay there, and the check would report a delivery failure that is none.
    """
    username = check.login.username if check.login is not None else ""
    if not other_mailbox(address, username):
        return
    probe.fail(
        f"`address` {address} is not the mailbox logged in to ({probe.username(username)}): the message would be"
        " delivered there and left behind; nothing sent",
        f"correct `address`; if {address} is an alias of this mailbox, log in with it (`credentials: username:"
        f" {address}`) if the server allows, or leave this account out of --round-trip runs (--only the others)",
        at=("address",),
    )


async def _wait_for_probe(run: CheckRun, client: Any, token: str) -> tuple[float, str] | None:
    """Wait for the round-trip message; when cancelled (deadline, Ctrl-C), stop waiting and delete it anyway.

    The waiting thread is asked to stop rather than having its socket cut, so the same session can then
    delete a message that has already been delivered. It stops a little before the check's own deadline, so
    "did not arrive" is what gets reported.
    """
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    until = run.deadline - WAIT_MARGIN
    future = loop.run_in_executor(run.limits.executor, imap.wait_and_delete, client, token, until, stop)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.set()
        try:
            found = await asyncio.wait_for(asyncio.shield(future), CLEANUP_SECONDS)
        except _CLEANUP_ERRORS:
            run.session.abort()
            raise asyncio.CancelledError from None
        if found is None:
            await _cleanup(run, client, token)
        raise


async def _cleanup(run: CheckRun, client: Any, token: str) -> None:
    """Delete the round-trip message if it has arrived by now, within CLEANUP_SECONDS (after an interruption)."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(*_CLEANUP_ERRORS):
        await asyncio.wait_for(
            asyncio.shield(loop.run_in_executor(run.limits.executor, imap.delete_probe, client, token)),
            CLEANUP_SECONDS,
        )


async def _thread(limits: _Limits, function: Callable[..., T], *args: Any) -> T:
    """Run blocking imap code in the pool. A cancelled wait leaves the thread running: ``_guarded`` closes
    the probe first and then cuts the socket, so the thread's own error cannot be recorded instead."""
    loop = asyncio.get_running_loop()
    future: Awaitable[T] = loop.run_in_executor(limits.executor, lambda: function(*args))
    return await future


def _secrets(login: Login | None, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(username, value) of every secret ``login`` reads (its password, or its oauth2 secrets)."""
    if login is None:
        return []
    return [(login.username, env.get(name, "")) for _, name in login.variables if name]


def other_mailbox(address: str, username: str) -> bool:
    """Whether the login ``username`` clearly belongs to another mailbox than ``address``.

    Only a username that is an e-mail address can say so. Domains compare in one form (case, IDNA); local parts
    case-insensitively (RFC 5321 allows case-sensitive ones, but servers fold them, so a case-only difference is no
    clear sign), and a ``+tag`` sub-address counts as its mailbox.
    """
    login = _mailbox(username)
    return login is not None and login != _mailbox(address, subaddress=True)


def _mailbox(text: str, subaddress: bool = False) -> tuple[str, str] | None:
    local, at, domain = text.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    if subaddress:
        local = local.split("+", 1)[0] or local
    return local.lower(), normalize_host(domain)

"""`mailcfg verify` against hostile servers (tests/live/hostile.py), next to good accounts on the real servers.

Each test is one behaviour against one protocol, in every TLS mode it applies to, in one run together with a good
smtp and a good imap account. `mailcfg` runs as a subprocess (``python -m validator``), so the test sees what a
user sees: the wall time until the process has exited (a worker thread that never ends keeps it alive), the exit
code, everything on stdout and stderr, and the peak memory of the process (``os.wait4``).

For every hostile account the test asserts:

- the check failed at the expected stage, with exactly one finding, of the expected rule, within ``--timeout``
  + 1 s (its own duration in the JSON report);
- the hostile server never received a credential (AUTH/AUTHENTICATE/LOGIN, or a password in any encoding) before
  a TLS handshake had completed, and none at all where TLS never completed;

and for the run: exit code 3, both good accounts ✓, no traceback or internal error, the process gone within
``--timeout`` + 1 s + ``STARTUP`` (interpreter start and imports, measured at about 0.5 s), and a peak RSS far
below what reading a 10 MB line would take.

Problems of one run are collected and reported together, so one failing test names every broken case at once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import hostile
from .hostile import subprocess_env
from .servers import DOMAIN, MailServers

INFO, ANNA, BEN, UMLAUT = (f"{name}@{DOMAIN}" for name in ("info", "anna", "ben", "umlaut"))
HOSTILE_USERS = (ANNA, BEN, UMLAUT, INFO)  # the logins of the hostile accounts, in order

TIMEOUT = 2.0
STARTUP = 2.0  # allowance for interpreter start and imports (about 0.5 s measured; more on a loaded CI core)
KILL_AFTER = TIMEOUT + 1 + STARTUP + 1  # a run still alive then is stuck: killed, and reported as such
MAX_RSS_MIB = 300  # absolute ceiling for one run
# A run that read a 10 MB line into memory would need at least 10 MB more than a run with the good accounts alone;
# the libraries give up after 32 KiB (aiosmtplib, a whole reply) and 1 MB (imaplib, a line).
RSS_GROWTH_MIB = 8


@dataclass(frozen=True)
class Case:
    """One hostile account: a server behaviour in one TLS mode and what `verify` must report for it."""

    behaviour: str
    encryption: str
    stages: tuple[str, ...]  # the stage the check must fail at (several: either is right, see below)
    rule: str
    options: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    credentials_after_tls: bool = False  # the server lets the client get as far as sending its credentials
    not_in_message: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return "-".join(part for part in (self.label or self.behaviour.replace("_", "-"), self.encryption) if part)


# Why these stages and rules:
# - a server that never completes its greeting (silent, trickling, a greeting line that never ends or is 10 MB
#   long) fails at `greeting`, MC502 ("no greeting"), whether the greeting is in plain text or inside a completed
#   implicit-TLS handshake: the TLS handshake succeeded, so it is not MC503;
# - an implicit-TLS port that never answers the ClientHello fails at `tls`, MC503: the handshake is what never
#   completed (a timeout is reported under its stage's rule);
# - a 10 MB EHLO reply fails at `ehlo` (SMTP); a 10 MB CAPABILITY reply at `greeting` (IMAP: imaplib asks for
#   the capabilities while connecting, before the greeting stage ends);
# - garbage instead of a TLS handshake after "go ahead" is `tls`, MC503 ("the server did not answer in TLS");
# - garbage inside a completed STARTTLS handshake: SMTP fails at the EHLO after STARTTLS (`ehlo`, MC502, like
#   any unreadable EHLO reply); IMAP at the capabilities after STARTTLS, MC502 at `starttls` or `greeting`. Not
#   MC506, which says "STARTTLS not offered": it was offered and the handshake worked;
# - a connection dropped right after the credentials fails at `auth`, MC507, and must not claim the password was
#   "rejected" (its hint sends the user to check the password: nobody rejected it).
SILENT = [
    Case("silent", "starttls", ("greeting",), "MC502"),
    Case("silent", "ssl", ("tls",), "MC503", label="silent-no-handshake"),
    Case("silent", "ssl", ("greeting",), "MC502", {"tls_first": True}, label="silent-after-handshake"),
]
TRICKLE = [Case("trickle", "starttls", ("greeting",), "MC502"), Case("trickle", "ssl", ("greeting",), "MC502")]
BIG_LINE = {
    "smtp": [Case("big_line", "starttls", ("greeting",), "MC502"), Case("big_line", "ssl", ("greeting",), "MC502"),
             Case("big_reply", "starttls", ("ehlo",), "MC502", label="big-ehlo-reply")],
    "imap": [Case("big_line", "starttls", ("greeting",), "MC502"), Case("big_line", "ssl", ("greeting",), "MC502"),
             Case("big_reply", "starttls", ("greeting",), "MC502", label="big-capability-reply")],
}
GARBAGE = {
    "smtp": [Case("garbage_after_tls", "starttls", ("ehlo",), "MC502"),
             Case("garbage_for_tls", "starttls", ("tls",), "MC503")],
    "imap": [Case("garbage_after_tls", "starttls", ("starttls", "greeting"), "MC502"),
             Case("garbage_for_tls", "starttls", ("tls",), "MC503")],
}
DROP = [
    Case("drop_in_auth", encryption, ("auth",), "MC507", {"drop": how}, label=f"drop-{how}",
         credentials_after_tls=True, not_in_message=("rejected",))
    for how in ("close", "reset") for encryption in ("starttls", "ssl")
]
GROUPS: dict[str, dict[str, list[Case]]] = {
    "silent": {"smtp": SILENT, "imap": SILENT},
    "trickle": {"smtp": TRICKLE, "imap": TRICKLE},
    "big_line": BIG_LINE,
    "garbage": GARBAGE,
    "drop_in_auth": {"smtp": DROP, "imap": DROP},
}


# ----------------------------------------------------------------------------------------------- running mailcfg


@dataclass
class Run:
    code: int | None  # None: killed after KILL_AFTER seconds
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    seconds: float  # from start until the process had exited
    max_rss_mib: float

    def live(self, account: str) -> dict[str, Any] | None:
        found = [item for item in (self.report or {}).get("live", []) if item["account"] == account]
        return found[0] if len(found) == 1 else None

    def findings(self, account: str) -> list[dict[str, Any]]:
        return [item for item in (self.report or {}).get("findings", [])
                if item.get("account") == account and item["rule"].startswith("MC5")]

    def explain(self) -> str:
        """Exit, time, memory, the text report's check lines and summary (not its static findings), stderr."""
        lines = [line for line in self.stdout.splitlines() if re.match(r"^([✓!✗-] |      |mailcfg: )", line)]
        return (f"exit {self.code} after {self.seconds:.2f} s, peak RSS {self.max_rss_mib:.1f} MiB\n"
                + "\n".join(lines) + f"\nstderr:\n{self.stderr[-3000:]}")


def run_mailcfg(servers: MailServers, directory: Path, smtp: Sequence[dict[str, Any]],
                imap: Sequence[dict[str, Any]]) -> Run:
    """`python -m validator verify --timeout 2` over these accounts, its report as JSON in a file, and text on
    stdout; the wall time is until the process has exited, the peak RSS from ``os.wait4``."""
    directory.mkdir(parents=True, exist_ok=True)
    path, variables = servers.accounts_yaml(smtp=smtp, imap=imap, directory=directory)
    report = directory / "report.json"
    env = subprocess_env(variables)
    command = [sys.executable, "-m", "validator", "verify", str(path), "--no-config", "--no-color",
               "--timeout", f"{TIMEOUT:g}", "--ca-file", str(servers.ca_file), "--format", "text",
               "--format", f"json:{report}", "--allow-any-host"]
    with (directory / "stdout").open("wb") as stdout, (directory / "stderr").open("wb") as stderr:
        started = time.monotonic()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env,
                                   cwd=directory)
        code: int | None = None
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                seconds = time.monotonic() - started
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - started > KILL_AFTER:
                os.kill(process.pid, signal.SIGKILL)
                _, status, usage = os.wait4(process.pid, 0)
                seconds = time.monotonic() - started
                break
            time.sleep(0.01)
        process.returncode = code if code is not None else -signal.SIGKILL  # reaped here, not by Popen
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    return Run(code, (directory / "stdout").read_text(encoding="utf-8", errors="replace"),
               (directory / "stderr").read_text(encoding="utf-8", errors="replace"),
               json.loads(text) if text.strip() else None, seconds, usage.ru_maxrss / 1024)


# ----------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server_context(mail_servers: MailServers) -> ssl.SSLContext:
    """The test certificate (localhost, 127.0.0.1, …) signed by the CA that `verify` gets with --ca-file."""
    return mail_servers.certificates.good.server_context()


@pytest.fixture
def started() -> Iterator[list[hostile.FakeServer]]:
    """The hostile servers a test starts; all stopped at its end."""
    servers: list[hostile.FakeServer] = []
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def good_accounts(servers: MailServers) -> tuple[dict[str, Any], dict[str, Any]]:
    """One good smtp and one good imap account, on the real servers at another host than the hostile ones."""
    return (servers.smtp_entry(servers.smtp.starttls),
            servers.imap_entry(INFO, servers.imap.ssl, id="good-imap"))


# ----------------------------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("protocol", ["smtp", "imap"])
@pytest.mark.parametrize("behaviour", list(GROUPS))
def test_hostile_servers_fail_in_time_at_the_right_stage_and_never_get_credentials_in_clear(
        mail_servers: MailServers, server_context: ssl.SSLContext, started: list[hostile.FakeServer],
        tmp_path: Path, behaviour: str, protocol: str) -> None:
    servers = mail_servers
    cases = GROUPS[behaviour][protocol]
    good_smtp, good_imap = good_accounts(servers)
    smtp, imap = [good_smtp], [good_imap]
    accounts: list[tuple[Case, hostile.FakeServer, str]] = []
    for number, case in enumerate(cases):
        server = hostile.make(case.behaviour, protocol, case.encryption, server_context, **case.options)
        started.append(server)
        account = case.id
        # A login of its own per case: the fake servers share one address, and mailcfg never runs two sessions for
        # one login at one host, so a shared login would make the hung cases wait for each other.
        user = HOSTILE_USERS[number % len(HOSTILE_USERS)]
        if protocol == "smtp":
            smtp.append(servers.smtp_entry(server.endpoint, id=account, username=user))
        else:
            imap.append(servers.imap_entry(user, server.endpoint, id=account))
        accounts.append((case, server, account))

    run = run_mailcfg(servers, tmp_path / "run", smtp, imap)
    secrets = list(servers.passwords.items())
    problems: list[str] = []

    # The run as a whole.
    limit = TIMEOUT + 1 + STARTUP
    if run.code is None:
        problems.append(f"mailcfg had not exited after {KILL_AFTER:g} s (killed); a limit of {limit:g} s")
    elif run.seconds > limit:
        problems.append(f"mailcfg took {run.seconds:.2f} s to exit; the limit is {limit:g} s (--timeout "
                        f"{TIMEOUT:g} + 1 s + {STARTUP:g} s to start)")
    if run.code not in (None, 3):
        problems.append(f"exit code {run.code}, expected 3")
    if "Traceback" in run.stderr or "internal error" in run.stderr:
        problems.append(f"stderr: {run.stderr.strip()[-1500:]}")
    if run.report is None:
        problems.append("no JSON report was written")
    if run.max_rss_mib > MAX_RSS_MIB:
        problems.append(f"peak RSS {run.max_rss_mib:.0f} MiB > {MAX_RSS_MIB} MiB")

    # The good accounts in the same run are unaffected.
    for kind, account in (("smtp", "outgoing"), ("imap", "good-imap")):
        result = run.live(account)
        if result is None or result["status"] != "ok":
            problems.append(f"good {kind} account {account}: {result}")
        elif not re.search(rf"^✓ {kind} {account} ", run.stdout, re.MULTILINE):
            problems.append(f"good {kind} account {account}: no ✓ line on stdout")

    for case, server, account in accounts:
        problems += check_case(case, server, account, run, secrets)

    assert not problems, "\n".join([f"{behaviour} / {protocol}:", *problems, "", run.explain()])


def check_case(case: Case, server: hostile.FakeServer, account: str, run: Run,
               secrets: list[tuple[str, str]]) -> list[str]:
    problems = []
    record = server.record
    where = f"{account} ({server.name})"
    if not record.connections:
        problems.append(f"{where}: mailcfg never connected")
    # Credentials: never before TLS; none at all when TLS never completed.
    if record.auth_commands(tls=False) or record.secrets_seen(secrets, tls=False):
        problems.append(f"{where}: CREDENTIALS BEFORE TLS: {record.auth_commands(tls=False)} "
                        f"{record.secrets_seen(secrets, tls=False)}")
    if not record.tls_established and (record.auth_commands() or record.secrets_seen(secrets)):
        problems.append(f"{where}: credentials sent although TLS never completed")
    if not case.credentials_after_tls and (record.auth_commands() or record.secrets_seen(secrets)):
        problems.append(f"{where}: credentials reached a server that never got that far: {record.summary()}")

    result = run.live(account)
    if result is None:
        return [*problems, f"{where}: no live result in the report"]
    if case.credentials_after_tls and len(record.auth_commands(tls=True)) != 1:
        # The scenario really happened: one AUTH over TLS, then the drop (and no second attempt after it).
        problems.append(f"{where}: expected exactly one AUTH over TLS: {record.auth_commands(tls=True)}")
    got = (result["status"], result["stage"])
    rules = [item["rule"] for item in run.findings(account)]
    if result["status"] != "failed" or result["stage"] not in case.stages or rules != [case.rule]:
        problems.append(f"{where}: got {got} {rules} {result['message']!r}; expected failed at "
                        f"{' or '.join(case.stages)} with one {case.rule}")
    if result["seconds"] > TIMEOUT + 1:
        problems.append(f"{where}: the check took {result['seconds']:.2f} s (--timeout {TIMEOUT:g})")
    for word in case.not_in_message:
        if word in result["message"]:
            problems.append(f"{where}: the message says {word!r}: {result['message']!r}")
    return problems


def test_imap_starttls_with_an_untrusted_certificate(mail_servers: MailServers, tmp_path: Path) -> None:
    """Not hostile, just common, and the same path as garbage instead of a TLS handshake: a STARTTLS handshake
    that fails (Dovecot's certificate from a CA that --ca-file does not hold) is MC504, not an internal error."""
    servers = mail_servers
    good_smtp, good_imap = good_accounts(servers)
    untrusted = servers.imap.starttls.at(servers.hosts.untrusted)
    run = run_mailcfg(servers, tmp_path, [good_smtp], [good_imap, servers.imap_entry(ANNA, untrusted)])
    assert run.code == 3, run.explain()
    result = run.live("anna")
    assert result is not None, run.explain()
    assert (result["status"], result["stage"]) == ("failed", "certificate"), run.explain()
    assert [item["rule"] for item in run.findings("anna")] == ["MC504"], run.explain()
    good = run.live("good-imap")
    assert good is not None, run.explain()
    assert good["status"] == "ok", run.explain()


def test_a_10_mb_line_is_never_read_into_memory(mail_servers: MailServers, server_context: ssl.SSLContext,
                                               started: list[hostile.FakeServer], tmp_path: Path) -> None:
    """Every 10 MB line at once (the greeting in plain text and inside TLS, the EHLO and the CAPABILITY reply, both
    protocols): the peak RSS of the run may exceed that of a run with the good accounts alone by less than one
    such line. (aiosmtplib gives up on a reply after 32 KiB, imaplib on a line after 1 MB.)"""
    servers = mail_servers
    good_smtp, good_imap = good_accounts(servers)
    baseline = run_mailcfg(servers, tmp_path / "baseline", [good_smtp], [good_imap])
    assert baseline.code == 0, baseline.explain()
    smtp, imap = [good_smtp], [good_imap]
    for protocol in ("smtp", "imap"):
        for number, (kind, encryption) in enumerate(
                [("big_line", "starttls"), ("big_line", "ssl"), ("big_reply", "starttls")]):
            server = hostile.make(kind, protocol, encryption, server_context)
            started.append(server)
            account = f"{protocol}-{kind.replace('_', '-')}-{encryption}"
            if protocol == "smtp":
                smtp.append(servers.smtp_entry(server.endpoint, id=account))
            else:
                imap.append(servers.imap_entry(HOSTILE_USERS[number], server.endpoint, id=account))
    run = run_mailcfg(servers, tmp_path / "big", smtp, imap)
    assert run.report is not None, run.explain()
    assert len(run.report["live"]) == 8, run.explain()
    sent = sum(c.bytes_sent for server in started for c in server.record.connections)
    assert sent >= 6 * 2**20, f"the servers sent only {sent} bytes: this tests nothing"
    growth = run.max_rss_mib - baseline.max_rss_mib
    assert run.max_rss_mib < MAX_RSS_MIB, run.explain()
    assert growth < RSS_GROWTH_MIB, (
        f"peak RSS {run.max_rss_mib:.1f} MiB with six 10 MB lines, {baseline.max_rss_mib:.1f} MiB without "
        f"(the servers got {sent / 2**20:.1f} MiB onto the wire)")

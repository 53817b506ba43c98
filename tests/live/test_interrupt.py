"""Ctrl-C (SIGINT) during `mailcfg verify --round-trip`: exit 130, a report of what finished, and no test message
left behind, also one that had already been delivered when the user pressed Ctrl-C.

`mailcfg` runs as a subprocess (``python -m validator``) with ``--jobs 1``, so the checks run one after another in
plan order: the smtp entries ``outgoing`` (the real STARTTLS server) and ``relay`` (the fake relay of
tests/live/hostile.py), then the imap accounts ``info`` (round trip through ``outgoing``), ``anna`` (round trip
through ``relay``) and ``umlaut`` (round trip through ``outgoing``). When anna's round trip is under way, the three
checks before it have certainly finished and umlaut's has not started.

The relay decides when the message reaches anna's mailbox and when mailcfg hears about it, so each case puts the
interruption deterministically at a moment where the message IS in the mailbox and mailcfg has NOT found it:

- ``data-reply-held``: the relay delivers the message at once, then holds its reply to DATA: mailcfg is still
  sending when it is interrupted;
- ``quit-reply-held``: the relay delivers, answers DATA, then holds its reply to QUIT: mailcfg has sent the message
  and is closing the SMTP session;
- ``waiting``: the relay only keeps the message and answers at once, so mailcfg polls anna's INBOX for it. The test
  stops mailcfg (SIGSTOP), delivers the message itself, sends SIGINT, and lets mailcfg continue (SIGCONT): the
  signal is pending before mailcfg can look again. (mailcfg may still find the message before it handles the signal:
  then anna's check finished, and is reported as such.)
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from validator.live.smtp import PROBE_HEADER

from . import hostile
from .hostile import subprocess_env
from .servers import DOMAIN, MailServers

INFO, ANNA, UMLAUT, MAILER = (f"{name}@{DOMAIN}" for name in ("info", "anna", "umlaut", "mailer"))
FINISHED_BEFORE = [("smtp", "outgoing"), ("smtp", "relay"), ("imap", "info")]
EXIT_WITHIN = 5.0  # seconds from SIGINT to exit: cleanup may take up to 2 s (an unanswered QUIT) + the deletion
REACH = 15.0  # how long mailcfg may take to get to the moment of the interruption


def probe_messages(servers: MailServers) -> dict[str, list[str]]:
    """The X-Mailcfg-Probe tokens in each test user's INBOX (only users that have any)."""
    found = {}
    for user in servers.passwords:
        tokens = [str(m.headers[PROBE_HEADER]).strip() for m in servers.mailbox_messages(user)
                  if m.headers[PROBE_HEADER] is not None]
        if tokens:
            found[user] = tokens
    return found


def delete_probe_messages(servers: MailServers) -> None:
    """Earlier tests (--send-test) leave tagged messages behind; start from mailboxes without any."""
    for user in servers.passwords:
        with servers.imap_client(user) as client:
            client.select_folder("INBOX")
            uids = client.search(["HEADER", PROBE_HEADER, ""])
            if uids:
                client.delete_messages(uids)
                client.expunge()


def wait_until(condition: Callable[[], bool], what: str, process: subprocess.Popen[bytes],
               timeout: float = REACH) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"mailcfg exited (code {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"mailcfg did not get to {what} within {timeout:g} s")
        time.sleep(0.01)


def quit_after_data(relay: hostile.Relay) -> bool:
    return any(verbs[-2:] == ["DATA", "QUIT"]
               for verbs in ([line.split(" ", 1)[0].upper() for line, _ in c.commands if line.isascii()]
                             for c in relay.record.connections))


@pytest.fixture
def relays() -> Iterator[list[hostile.Relay]]:
    started: list[hostile.Relay] = []
    try:
        yield started
    finally:
        for relay in started:
            relay.stop()


@pytest.mark.parametrize("mode", ["data-reply-held", "quit-reply-held", "waiting"])
def test_ctrl_c_during_round_trip_reports_what_finished_and_deletes_the_delivered_message(
        fresh_mail_servers: MailServers, relays: list[hostile.Relay], tmp_path: Path, mode: str) -> None:
    servers = fresh_mail_servers
    delete_probe_messages(servers)
    relay_mode = {"data-reply-held": "deliver_then_hold_data", "quit-reply-held": "deliver_then_hold_quit",
                  "waiting": "keep"}[mode]
    relay = hostile.Relay("relay", servers.certificates.good.server_context(), servers.deliver, mode=relay_mode)
    relays.append(relay)
    path, variables = servers.accounts_yaml(
        smtp=[servers.smtp_entry(servers.smtp.starttls), servers.smtp_entry(relay.endpoint, id="relay")],
        imap=[servers.imap_entry(INFO, servers.imap.ssl),
              servers.imap_entry(ANNA, servers.imap.starttls, outgoing="relay"),
              servers.imap_entry(UMLAUT, servers.imap.ssl)],
        directory=tmp_path)
    env = subprocess_env(variables)
    command = [sys.executable, "-m", "validator", "verify", str(path), "--no-config", "--no-color",
               "--round-trip", "--jobs", "1", "--timeout", "20", "--ca-file", str(servers.ca_file),
               "--allow-any-host"]
    stdout_path, stderr_path = tmp_path / "stdout", tmp_path / "stderr"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env,
                                   cwd=tmp_path)
    stopped = False
    try:
        # Get to the moment: anna's round-trip message is in her INBOX, and mailcfg has not seen it there.
        if mode == "waiting":
            wait_until(relay.closed.is_set, "the end of the relay session", process)
            time.sleep(0.5)  # mailcfg is now polling anna's INBOX
            process.send_signal(signal.SIGSTOP)
            stopped = True
            (message,) = relay.messages
            assert servers.deliver(ANNA, message.content, message.mail_from)[0] == 250
        elif mode == "quit-reply-held":
            wait_until(lambda: relay.delivered.is_set() and quit_after_data(relay), "the QUIT after the message",
                       process)
        else:
            wait_until(relay.delivered.is_set, "the relay's delivery", process)
        (message,) = relay.messages
        token = message.probe_token
        assert token, message.content[:500]
        assert message.recipients == [ANNA]
        servers.wait_for_message(ANNA, header=(PROBE_HEADER, token), timeout=5)  # delivered, and still there
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        if stopped:
            process.send_signal(signal.SIGCONT)
            stopped = False
        try:
            code = process.wait(EXIT_WITHIN + 5)
        except subprocess.TimeoutExpired:
            code = None
        seconds = time.monotonic() - interrupted
    finally:
        if stopped:
            process.send_signal(signal.SIGCONT)
        if process.poll() is None:
            process.kill()
            process.wait()
    out = stdout_path.read_text(encoding="utf-8", errors="replace")
    err = stderr_path.read_text(encoding="utf-8", errors="replace")
    explain = f"exit {code} {seconds:.2f} s after SIGINT\nstdout:\n{out}\nstderr:\n{err}"

    problems = []
    if code != 130:
        problems.append(f"exit code {code}, expected 130")
    if seconds > EXIT_WITHIN:
        problems.append(f"exited {seconds:.2f} s after SIGINT; at most {EXIT_WITHIN:g} s expected")
    if "Traceback" in err or "internal error" in err:
        problems.append("a traceback or internal error on stderr")
    # The report lists the checks that finished, each ✓; umlaut's never started. anna's cannot have finished unless
    # mailcfg found its message before it handled the signal (possible only when it was waiting for it).
    checks = re.findall(r"^([✓!✗-]) (smtp|imap) (\S+) ", out, re.MULTILINE)
    finished = [(protocol, account) for _, protocol, account in checks]
    allowed = [FINISHED_BEFORE] + ([[*FINISHED_BEFORE, ("imap", "anna")]] if mode == "waiting" else [])
    if finished not in allowed or any(mark != "✓" for mark, _, _ in checks):
        problems.append(f"the report lists {checks}; expected ✓ for {' or '.join(map(str, allowed))}")
    if not re.search(rf"^mailcfg: interrupted; {len(finished)} checks had finished$", err, re.MULTILINE):
        problems.append(f"no line 'mailcfg: interrupted; {len(finished)} checks had finished' on stderr")
    # Nothing tagged is left in any mailbox: anna's delivered message was deleted on the way out.
    left = probe_messages(servers)
    if left:
        problems.append(f"round-trip messages left behind: {left} (anna's token: {token})")
    # The relay got the credentials over TLS only.
    if relay.record.auth_commands(tls=False) or relay.record.secrets_seen([(MAILER, servers.passwords[MAILER])],
                                                                          tls=False):
        problems.append(f"credentials before TLS: {relay.record.summary()}")
    assert not problems, "\n".join([*problems, "", explain])

"""`mailcfg verify` against servers that push back, over latency, and the round trip's wait: what the servers saw.

The adaptive per-host limit (validator/live/hostlimit.py) backs off from a server that refuses sessions above a
limit (tests/live/throttling.py in front of the real Dovecot and SMTP server) and still ends every check ok, with
no login sent twice; a refusal after the login is never retried; one session per login holds, from Dovecot's own
log, with the checks spread over a latency proxy (tests/live/latency.py); and the round trip waits with IMAP IDLE
where the server offers it, polling where it does not, from Dovecot's raw protocol log. No test here asserts a
time.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

from validator import engine
from validator.live import VerifyOptions
from validator.reporters import ReportOptions, render
from validator.trust import Trust

from . import hostile
from .latency import LatencyProxy
from .servers import DOMAIN, Endpoint, MailServers, numbered_users
from .test_verify import ANNA, BEN, INFO, MAILER, DovecotLog, Verify
from .test_verify import verify as verify  # noqa: PLC0414 (re-exported: pytest finds the fixture by this name)
from .throttling import ThrottlingFront

_LOGIN = re.compile(r"imap-login: Info: Login: user=<([^>]+)>.*session=<([^>]+)>")
_LOGOUT = re.compile(r"imap\(([^)]+)\)<\d+><([^>]+)>: Info: Disconnected")


def _sessions(log: str, users: set[str]) -> list[tuple[str, str, str]]:
    """(user, "in" or "out", session id) of the IMAP sessions of ``users``, in the order Dovecot logged them."""
    events = []
    for line in log.splitlines():
        for pattern, kind in ((_LOGIN, "in"), (_LOGOUT, "out")):
            match = pattern.search(line)
            if match and match.group(1) in users:
                events.append((match.group(1), kind, match.group(2)))
    return events


def _wait_for_logouts(log: DovecotLog, users: set[str], count: int) -> list[tuple[str, str, str]]:
    """The sessions once Dovecot has logged ``count`` logouts of ``users`` (its log process writes a little late)."""
    deadline = time.monotonic() + 10
    while True:
        events = _sessions(log.text(), users)
        if sum(kind == "out" for _, kind, _ in events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def test_the_limit_backs_off_from_a_throttling_imap_server_and_every_check_ends_ok(
        fresh_mail_servers: MailServers, verify: Verify) -> None:
    """A server that takes 3 sessions and refuses more with `* BYE [UNAVAILABLE]` before the login: the limit
    halves (visible in the JSON report), every refused check is queued again, and every check ends ok with exactly
    one login per account on the real server."""
    servers = fresh_mail_servers
    users = numbered_users(12, prefix="throttle")
    servers.add_users(users)
    log = DovecotLog(servers)
    context = servers.certificates.good.server_context()
    with ThrottlingFront(servers.imap.ssl.address, "imap", limit=3, tls=context) as front:
        endpoint = Endpoint(front.listen_host, front.port, "ssl")
        imap = [servers.imap_entry(user, endpoint, id=user.split("@")[0], password=password)
                for user, password in users.items()]
        run = verify(smtp=[servers.smtp_entry()], imap=imap, args=["--per-host", "8"])
    assert run.code == 0, run.explain()
    assert {item["status"] for item in run.report["live"]} == {"ok"}, run.report["live"]
    # The front refused sessions (the limit was tested) and never held more than its 3.
    assert front.record.refused >= 1, front.record
    assert front.record.peak <= 3, front.record
    (host,) = [item for item in run.report["hosts"] if item["host"] == front.listen_host]
    assert (host["ceiling"], host["peak_limit"]) == (8, 8), host
    assert host["backoffs"], host
    first = host["backoffs"][0]
    assert (first["from"], first["to"]) == (8, 4), host
    for backoff in host["backoffs"]:
        assert backoff["to"] == max(backoff["from"] // 2, 1), backoff
        assert backoff["reason"].startswith("greeting: "), backoff
        assert "[UNAVAILABLE]" in backoff["reason"], backoff
        assert backoff["account"] in {entry["id"] for entry in imap}, backoff
    # Every refusal was tried again, and nothing else was.
    assert host["retries"] == front.record.refused, (host, front.record)
    assert host["sessions"] == len(imap) + host["retries"], host
    # The real server saw each account log in exactly once: no login was sent twice.
    events = _wait_for_logouts(log, set(users), len(users))
    logins = [user for user, kind, _ in events if kind == "in"]
    assert sorted(logins) == sorted(users), events


def test_the_limit_backs_off_from_an_smtp_server_that_greets_with_421(
        fresh_mail_servers: MailServers, verify: Verify) -> None:
    """The same with SMTP: `421 4.7.0` greetings above one session; each login is sent once."""
    servers = fresh_mail_servers
    with ThrottlingFront(servers.smtp.starttls.address, "smtp", limit=1) as front:
        endpoint = Endpoint(front.listen_host, front.port, "starttls")
        smtp = [servers.smtp_entry(endpoint, id=user.split("@")[0], username=user)
                for user in (INFO, ANNA, BEN, MAILER)]
        run = verify(smtp=smtp, args=["--per-host", "4"])
    assert run.code == 0, run.explain()
    assert {item["status"] for item in run.report["live"]} == {"ok"}, run.report["live"]
    assert front.record.refused >= 1, front.record
    assert front.record.peak == 1, front.record
    (host,) = run.report["hosts"]
    assert host["backoffs"], host
    assert host["retries"] == front.record.refused, (host, front.record)
    assert all("421 4.7.0" in backoff["reason"] for backoff in host["backoffs"]), host
    record = servers.smtp.starttls.record
    assert sorted(attempt.username or "" for attempt in record.credentials_received) == sorted(
        [INFO, ANNA, BEN, MAILER]), record.summary()


def test_a_refusal_after_the_login_halves_the_limit_but_is_never_retried(
        fresh_mail_servers: MailServers, verify: Verify) -> None:
    """`NO [UNAVAILABLE]` to the login is throttling, not a wrong password: reported as such, the limit halves, and
    the credentials are not sent again."""
    servers = fresh_mail_servers
    mailbox = hostile.ImapMailbox(
        ["IMAP4rev1", "AUTH=PLAIN"], context=servers.certificates.good.server_context(),
        refuse=lambda tag, _line: f"{tag} NO [UNAVAILABLE] Too many sessions for this user, try later\r\n".encode())
    server = hostile.FakeServer("imap-busy", mailbox, encryption="starttls")
    try:
        run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO, server.endpoint)],
                     args=["--per-host", "4"])
    finally:
        server.stop()
    assert run.code == 3, run.explain()
    result = run.live("info", "imap")
    assert (result["status"], result["stage"]) == ("failed", "auth"), result
    assert "refused the login for now ([UNAVAILABLE] Too many sessions" in result["message"], result
    (finding,) = run.findings(account="info")
    assert finding["rule"] == "MC507", finding
    assert "--per-host" in finding["hint"], finding
    assert server.record.auth_commands(tls=True) == ["AUTHENTICATE PLAIN"], server.record.commands()
    (host,) = [item for item in run.report["hosts"] if item["host"] == server.endpoint.host]
    assert ([(b["from"], b["to"]) for b in host["backoffs"]], host["retries"]) == ([(4, 2)], 0), host


def test_a_closed_port_is_no_push_back_even_when_the_host_answers_elsewhere(
        fresh_mail_servers: MailServers, verify: Verify) -> None:
    """Connection refused at a port that never answered is a wrong port or a server that is down: reported at
    once, not tried again, and the limit of the host (whose other ports answer) stays where it was."""
    servers = fresh_mail_servers
    closed = servers.hostile.closed
    run = verify(smtp=[servers.smtp_entry()],
                 imap=[servers.imap_entry(INFO), servers.imap_entry(ANNA, Endpoint(closed.host, closed.port, "ssl"))],
                 args=["--per-host", "4"])
    assert run.code == 3, run.explain()
    result = run.live("anna", "imap")
    assert (result["status"], result["stage"], result["message"]) == ("failed", "connect", "connection refused")
    (host,) = [item for item in run.report["hosts"] if item["host"] == closed.host]
    assert (host["backoffs"], host["retries"], host["limit"]) == ([], 0, 4), host


def test_one_session_per_login_holds_over_latency(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """Six logins, each an account on the implicit-TLS port and another on the STARTTLS port of the same server
    (a plan folds only identical logins, so both run), twelve checks at once allowed, 20 ms of round-trip time:
    Dovecot's log shows the two sessions of each login one after the other, never both open, while different
    logins overlapped."""
    servers = fresh_mail_servers
    users = numbered_users(6, prefix="single")
    servers.add_users(users)
    log = DovecotLog(servers)
    with LatencyProxy(servers.imap.ssl.address, rtt=0.02) as implicit, \
            LatencyProxy(servers.imap.starttls.address, rtt=0.02) as starttls:
        endpoints = {"ssl": Endpoint(implicit.listen_host, implicit.port, "ssl"),
                     "starttls": Endpoint(starttls.listen_host, starttls.port, "starttls")}
        imap = [servers.imap_entry(user, endpoint, id=f"{user.split('@')[0]}-{kind}", password=password,
                                   address=f"{user.split('@')[0]}+{kind}@{DOMAIN}")
                for user, password in users.items() for kind, endpoint in endpoints.items()]
        run = verify(smtp=[servers.smtp_entry()], imap=imap, args=["--per-host", "12", "--jobs", "12"])
    assert run.code == 0, run.explain()
    assert {item["status"] for item in run.report["live"]} == {"ok"}, run.report["live"]
    events = _wait_for_logouts(log, set(users), len(imap))
    assert sum(kind == "in" for _, kind, _ in events) == len(imap), events
    open_sessions: defaultdict[str, set[str]] = defaultdict(set)
    most_at_once = 0
    for user, kind, session in events:
        if kind == "in":
            assert not open_sessions[user], f"{user} logged in while session {open_sessions[user]} was open: {events}"
            open_sessions[user].add(session)
        else:
            open_sessions[user].discard(session)
        most_at_once = max(most_at_once, sum(len(each) for each in open_sessions.values()))
    assert most_at_once >= 2, f"the logins never overlapped: this tests nothing ({events})"


def _deliver_later(servers: MailServers, relay: hostile.Relay, count: int, stop: threading.Event) -> None:
    """Hand the relay's kept messages to the mailbox a while after they were accepted, as a real server's queue
    does: the round trip finds nothing at first and has to wait."""
    done = 0
    while done < count and not stop.is_set():
        if len(relay.messages) > done:
            time.sleep(0.5)
            message = relay.messages[done]
            for recipient in message.recipients:
                servers.deliver(recipient, message.content, message.mail_from)
            done += 1
        time.sleep(0.02)


def test_the_round_trip_waits_with_idle_where_offered_and_polls_where_not(
        fresh_mail_servers: MailServers, tmp_path: Path) -> None:
    """Two mailboxes whose delivery comes half a second late; one server offers IDLE, the other (Dovecot with a
    capability list without it) does not. Dovecot's raw protocol log of each session shows IDLE and DONE in the
    first, NOOP polling and no IDLE in the second, and the round-trip stage says which."""
    servers = fresh_mail_servers
    rawlogs = {}
    for name, capabilities in (("idler", []), ("poller", ["userdb_imap_capability=IMAP4rev1"])):
        directory = servers.root / f"rawlog-{name}-{uuid.uuid4().hex[:8]}"  # Dovecot's mail processes reach it
        directory.mkdir()
        directory.chmod(0o777)  # written by Dovecot's mail processes
        user = f"{name}@{DOMAIN}"
        rawlogs[user] = directory
        servers.add_users({user: f"{name.title()}-Secret-1"}, [f"userdb_rawlog_dir={directory}", *capabilities])
    relay = hostile.Relay("relay", servers.certificates.good.server_context(), servers.deliver, mode="keep")
    stop = threading.Event()
    delivering = threading.Thread(target=_deliver_later, args=(servers, relay, 2, stop), daemon=True)
    delivering.start()
    try:
        path, env = servers.accounts_yaml(
            smtp=[servers.smtp_entry(relay.endpoint, username=MAILER)],
            imap=[servers.imap_entry(user, id=user.split("@")[0], password=f"{user.split('@')[0].title()}-Secret-1")
                  for user in rawlogs],
            directory=tmp_path)
        result = engine.verify(engine.CheckOptions(paths=(str(path),), env=env),
                               VerifyOptions(ca_file=str(servers.ca_file), round_trip=True, timeout=15,
                                             trust=Trust(any_host=True)))
    finally:
        stop.set()
        relay.stop()
        delivering.join(5)
    assert result.exit_code() == 0, render("text", result, ReportOptions())
    waits = {item.account: item.stages[-1] for item in result.live if item.protocol == "imap"}
    assert {account: (stage.name, stage.status) for account, stage in waits.items()} == {
        "idler": ("round-trip", "ok"), "poller": ("round-trip", "ok")}, waits
    assert "(waited with IDLE)" in waits["idler"].message, waits
    assert "(waited with polling)" in waits["poller"].message, waits
    sent = {user: b"".join(file.read_bytes() for file in sorted(directory.glob("*.in")))
            for user, directory in rawlogs.items()}
    idler, poller = sent[f"idler@{DOMAIN}"], sent[f"poller@{DOMAIN}"]
    assert re.search(rb" IDLE\r\n", idler), idler
    assert re.search(rb"^[\d.]+ DONE\r\n", idler, re.MULTILINE), idler
    assert not re.search(rb" IDLE\r\n", poller), poller
    assert re.search(rb" NOOP\r\n", poller), poller


def test_a_server_that_refuses_the_idle_it_offers_is_polled(fresh_mail_servers: MailServers, tmp_path: Path) -> None:
    """IDLE offered, then answered BAD: the wait goes on by polling (NOOP), until the deadline for a message that
    never comes."""
    servers = fresh_mail_servers
    context = servers.certificates.good.server_context()
    mailbox = hostile.FakeServer("imap-no-idle", hostile.ImapMailbox(["IMAP4rev1", "AUTH=PLAIN", "IDLE"],
                                                                     context=context, found=()), encryption="starttls")
    relay = hostile.Relay("relay", context, servers.deliver, mode="keep")
    try:
        path, env = servers.accounts_yaml(smtp=[servers.smtp_entry(relay.endpoint, username=MAILER)],
                                          imap=[servers.imap_entry(INFO, mailbox.endpoint)], directory=tmp_path)
        result = engine.verify(engine.CheckOptions(paths=(str(path),), env=env),
                               VerifyOptions(ca_file=str(servers.ca_file), round_trip=True, timeout=3,
                                             trust=Trust(any_host=True)))
    finally:
        mailbox.stop()
        relay.stop()
    (check,) = [item for item in result.live if item.protocol == "imap"]
    assert (check.status, check.stage) == ("failed", "round-trip"), check
    assert "did not arrive" in check.message, check
    verbs = [line.split()[1].upper() for line in mailbox.record.commands(tls=True) if len(line.split()) > 1]
    assert verbs.count("IDLE") == 1, verbs
    assert verbs.index("IDLE") < len(verbs) - 1 - verbs[::-1].index("NOOP"), verbs  # polled after the refusal


"""`mailcfg verify` against the real servers of tests/live/servers.py: every stage, every failure, the guards.

The CLI runs in-process (``validator.cli.main``); each run writes the text report to stdout and the JSON report
to a file, so a test can assert on the exact rule, stage, location and exit code, and on what the servers saw:
the SMTP servers' records (connections, AUTH commands, deliveries) and Dovecot's log (logins, failed logins).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from validator import engine
from validator.cli import main
from validator.live import VerifyOptions
from validator.live.smtp import PROBE_HEADER
from validator.reporters import ReportOptions, render
from validator.trust import Trust

from . import hostile
from .servers import DOMAIN, MailServers, numbered_users

INFO, ANNA, BEN, UMLAUT, MAILER = (f"{name}@{DOMAIN}" for name in ("info", "anna", "ben", "umlaut", "mailer"))
NOBODY = f"nobody@{DOMAIN}"  # Dovecot has no such user: LMTP answers 550 5.1.1

# The stages a passing check goes through, by protocol and encryption (the text report lists them in this order).
STAGES = {
    ("smtp", "starttls"): ["dns", "connect", "greeting", "ehlo", "starttls", "certificate", "ehlo", "auth"],
    ("smtp", "ssl"): ["dns", "connect", "tls", "certificate", "ehlo", "auth"],
    ("imap", "ssl"): ["dns", "connect", "tls", "certificate", "auth", "folders"],
    ("imap", "starttls"): ["dns", "connect", "greeting", "starttls", "certificate", "auth", "folders"],
}


# ----------------------------------------------------------------------------------------------- helpers


@dataclass
class Run:
    """One `mailcfg verify` run: exit code, text report (stdout), stderr, the JSON report, wall time."""

    code: int
    text: str
    stderr: str
    report: dict[str, Any]
    seconds: float
    path: Path

    def live(self, account: str, protocol: str | None = None) -> dict[str, Any]:
        found: list[dict[str, Any]] = [
            item for item in self.report["live"]
            if item["account"] == account and (protocol is None or item["protocol"] == protocol)]
        assert len(found) == 1, f"expected one live result for {protocol or ''} {account}: {self.report['live']}"
        return found[0]

    def findings(self, rule: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
        """Findings of ``rule`` (default: every live rule, MC5xx) for ``account`` (default: any)."""
        return [item for item in self.report["findings"]
                if (item["rule"] == rule if rule else item["rule"].startswith("MC5"))
                and (account is None or item.get("account") == account)]

    def line(self, protocol: str, account: str) -> str:
        """The text report's line for one check (the first line of it: failures add a second)."""
        found = [line for line in self.text.splitlines()
                 if re.match(rf"^[✓!✗-] {protocol} {re.escape(account)} ", line)]
        assert len(found) == 1, f"expected one text line for {protocol} {account}:\n{self.text}"
        return found[0]

    def explain(self) -> str:
        return f"exit {self.code}\n{self.text}\nstderr: {self.stderr}"


Verify = Callable[..., Run]


@pytest.fixture
def verify(fresh_mail_servers: MailServers, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
           tmp_path: Path) -> Verify:
    """``verify(smtp=[...], imap=[...], args=[...], env={...}, unset=[...])`` writes the accounts, sets their
    password variables (``env`` overrides, ``unset`` removes) and runs `mailcfg verify` in-process."""
    servers = fresh_mail_servers
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)

    def run(*, smtp: Sequence[Mapping[str, Any]] = (), imap: Sequence[Mapping[str, Any]] = (),
            args: Sequence[str] = (), env: Mapping[str, str] | None = None, unset: Sequence[str] = ()) -> Run:
        directory = tmp_path / uuid.uuid4().hex[:8]
        directory.mkdir()
        path, variables = servers.accounts_yaml(smtp=smtp, imap=imap, directory=directory)
        for name, value in {**variables, **(env or {})}.items():
            monkeypatch.setenv(name, value)
        for name in unset:
            monkeypatch.delenv(name, raising=False)
        report = directory / "report.json"
        capsys.readouterr()
        started = time.monotonic()
        # Tests about the trust settings pass their own; the others trust every host they wrote themselves.
        trust = [] if any(arg.startswith("--allow-") for arg in args) else ["--allow-any-host"]
        code = main(["verify", str(path), "--no-config", "--no-color", "--ca-file", str(servers.ca_file),
                     "--format", "text", "--format", f"json:{report}", *trust, *args])
        seconds = time.monotonic() - started
        captured = capsys.readouterr()
        assert "internal error" not in captured.err, captured.err
        return Run(code, captured.out, captured.err, json.loads(report.read_text(encoding="utf-8")), seconds, path)

    return run


class DovecotLog:
    """The part of Dovecot's log written since a point. Dovecot's log process writes shortly after the event, so
    the start waits until the log has been quiet for a moment: lines of earlier tests do not count."""

    def __init__(self, servers: MailServers, quiet: float = 0.2) -> None:
        self.path = servers.dovecot_log
        size, since, deadline = -1, time.monotonic(), time.monotonic() + 3
        while time.monotonic() < deadline:
            current = self.path.stat().st_size
            if current != size:
                size, since = current, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.02)
        self.offset = size

    def text(self) -> str:
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            return stream.read().decode("utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float = 5.0) -> str:
        """The new log text once ``pattern`` (a regex) appears in it; fails with the text after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if re.search(pattern, text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"Dovecot never logged {pattern!r}; its new log lines:\n{text}")
            time.sleep(0.05)


def probe_messages(servers: MailServers, user: str) -> list[str]:
    """The X-Mailcfg-Probe tokens of the messages in the user's INBOX."""
    return [str(message.headers[PROBE_HEADER]).strip() for message in servers.mailbox_messages(user)
            if message.headers[PROBE_HEADER] is not None]


# ----------------------------------------------------------------------------------------------- all good


def test_good_accounts_pass_every_stage_in_both_tls_modes(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    starttls, ssl = servers.smtp.starttls, servers.smtp.ssl
    run = verify(
        smtp=[servers.smtp_entry(starttls), servers.smtp_entry(ssl, id="submissions")],
        imap=[servers.imap_entry(INFO, servers.imap.ssl),
              servers.imap_entry(ANNA, servers.imap.starttls, outgoing="submissions")],
    )
    assert run.code == 0, run.explain()
    assert [(item["protocol"], item["account"], item["status"]) for item in run.report["live"]] == [
        ("smtp", "outgoing", "ok"), ("smtp", "submissions", "ok"), ("imap", "info", "ok"), ("imap", "anna", "ok")]
    assert run.findings() == []
    for protocol, account, encryption, port in [
        ("smtp", "outgoing", "starttls", starttls.port), ("smtp", "submissions", "ssl", ssl.port),
        ("imap", "info", "ssl", servers.imap.ssl.port), ("imap", "anna", "starttls", servers.imap.starttls.port),
    ]:
        line = run.line(protocol, account)
        assert line.startswith(f"✓ {protocol} {account} {servers.hosts.remote}:{port}  "), line
        stages = re.findall(r"([a-z-]+) (\d+ ms|\d+\.\d\d s)", line.split("  ")[1])
        assert [name for name, _ in stages] == STAGES[(protocol, encryption)], line
        assert re.search(r"\(\d+\.\d\d s\)$", line), line
    assert re.search(r"^mailcfg: 1 file, 4 accounts: .*; live checks: 4 ok$", run.text, re.MULTILINE), run.text
    # The servers saw one successful AUTH each, over TLS, and nothing was sent without --send-test.
    for server, user in ((starttls, MAILER), (ssl, MAILER)):
        attempts = server.record.auth_attempts
        assert [(a.username, a.success, a.tls, a.mechanism) for a in attempts] == [(user, True, True, "PLAIN")], \
            server.record.summary()
        assert server.record.deliveries == ()
    assert starttls.record.starttls == 1


def test_smtp_entry_without_shared_credentials_is_checked_with_each_senders_login(
        fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry(username=None)],
                 imap=[servers.imap_entry(INFO), servers.imap_entry(ANNA, servers.imap.starttls)])
    assert run.code == 0, run.explain()
    smtp_results = [item for item in run.report["live"] if item["protocol"] == "smtp"]
    assert [item["status"] for item in smtp_results] == ["ok", "ok"]
    logins = sorted((a.username, a.success) for a in servers.smtp.starttls.record.auth_attempts)
    assert logins == [(ANNA, True), (INFO, True)], servers.smtp.starttls.record.summary()


# ----------------------------------------------------------------------------------------------- sending


def test_send_test_delivers_the_test_message_in_both_tls_modes(fresh_mail_servers: MailServers,
                                                               verify: Verify) -> None:
    servers = fresh_mail_servers
    starttls, ssl = servers.smtp.starttls, servers.smtp.ssl
    run = verify(
        smtp=[servers.smtp_entry(starttls, test_recipient=INFO),
              servers.smtp_entry(ssl, id="submissions", test_recipient=ANNA)],
        imap=[servers.imap_entry(INFO), servers.imap_entry(ANNA, outgoing="submissions")],
        args=["--send-test"],
    )
    assert run.code == 0, run.explain()
    for account, server, recipient in (("outgoing", starttls, INFO), ("submissions", ssl, ANNA)):
        result = run.live(account, "smtp")
        assert result["status"] == "ok", result
        assert "send" in run.line("smtp", account).split("  ")[1]
        deliveries = server.record.deliveries
        assert [(d.recipient, d.code, d.subject, d.mail_from) for d in deliveries] == [
            (recipient, 250, "mailcfg test message", MAILER)], server.record.summary()
        # ... and it is in the recipient's INBOX, tagged as mailcfg's probe.
        message = servers.wait_for_message(recipient, header=("Message-ID", str(deliveries[0].message_id)))
        assert message.headers[PROBE_HEADER], message.raw[:500]
        assert message.headers["To"] == recipient


def test_round_trip_finds_the_message_times_it_and_deletes_exactly_it(fresh_mail_servers: MailServers,
                                                                      tmp_path: Path) -> None:
    servers = fresh_mail_servers
    servers.clear_folder(ANNA)
    keep_subject = f"keep me {uuid.uuid4().hex[:8]}"
    assert servers.deliver(ANNA, f"Subject: {keep_subject}\n{PROBE_HEADER}: not-mailcfgs\n\nhello\n")[0] == 250
    path, env = servers.accounts_yaml(
        smtp=[servers.smtp_entry(servers.smtp.ssl)],
        imap=[servers.imap_entry(ANNA, servers.imap.starttls)], directory=tmp_path)
    result = engine.verify(engine.CheckOptions(paths=(str(path),), env=env),
                           VerifyOptions(ca_file=str(servers.ca_file), round_trip=True, timeout=10,
                                         trust=Trust(any_host=True)))
    assert result.exit_code() == 0, render("text", result, ReportOptions())
    imap_result = next(item for item in result.live if item.protocol == "imap")
    assert imap_result.status == "ok", imap_result
    stage = imap_result.stages[-1]
    assert (stage.name, stage.status) == ("round-trip", "ok"), imap_result.stages
    assert re.fullmatch(r"delivered in \d+\.\d\d s \(waited with IDLE\), then deleted", stage.message), stage.message
    line = next(line for line in render("text", result, ReportOptions()).splitlines()
                if line.startswith("✓ imap anna "))
    assert re.search(r", round-trip \d+ ms  \(\d+\.\d\d s\)$", line), line
    # It went through the linked smtp entry to the mailbox's own address, and was delivered there ...
    (delivery,) = [d for d in servers.smtp.ssl.record.deliveries if d.subject and "round-trip" in d.subject]
    assert (delivery.recipient, delivery.code) == (ANNA, 250), servers.smtp.ssl.record.summary()
    token = str(delivery.subject).rsplit(" ", 1)[-1]
    # ... then deleted: no message with its token is left, and the unrelated message is still there.
    assert token not in probe_messages(servers, ANNA)
    assert [m.subject for m in servers.mailbox_messages(ANNA)] == [keep_subject]
    servers.clear_folder(ANNA)


# ----------------------------------------------------------------------------------------------- authentication


def test_wrong_smtp_password_is_one_auth_attempt(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry(password="Wrong-Password-1")], imap=[servers.imap_entry(INFO)])
    assert run.code == 3, run.explain()
    result = run.live("outgoing", "smtp")
    assert (result["status"], result["stage"]) == ("failed", "auth"), result
    (finding,) = run.findings()
    assert (finding["rule"], finding["severity"], finding["pointer"]) == ("MC507", "error", "/smtp/0/credentials")
    assert "MAILCFG_TEST_SMTP_OUTGOING_PASSWORD" in finding["hint"]
    attempts = servers.smtp.starttls.record.auth_attempts
    assert len(attempts) == 1, servers.smtp.starttls.record.summary()  # never a second mechanism
    assert (attempts[0].username, attempts[0].success, attempts[0].tls, attempts[0].credentials_sent) == (
        MAILER, False, True, True)
    assert run.live("info", "imap")["status"] == "ok"


def test_wrong_imap_password_is_one_login_attempt(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    log = DovecotLog(servers)
    run = verify(smtp=[servers.smtp_entry()],
                 imap=[servers.imap_entry(ANNA, servers.imap.ssl, password="Wrong-Password-2"),
                       servers.imap_entry(INFO, servers.imap.starttls, password="Wrong-Password-3")])
    assert run.code == 3, run.explain()
    for index, (account, user) in enumerate((("anna", ANNA), ("info", INFO))):
        result = run.live(account, "imap")
        assert (result["status"], result["stage"]) == ("failed", "auth"), result
        (finding,) = run.findings(account=account)
        assert (finding["rule"], finding["pointer"]) == ("MC507", f"/imap/{index}/credentials"), finding
        # Dovecot's side: one failed password check and a session that ended after exactly one attempt.
        text = log.wait_for(rf"auth failed, \d+ attempts? in \d+ secs\): user=<{re.escape(user)}>")
        assert len(re.findall(rf"passwd-file\({re.escape(user)},[^)]*\): Password mismatch", text)) == 1, text
        sessions = re.findall(rf"auth failed, (\d+) attempts? in \d+ secs\): user=<{re.escape(user)}>", text)
        assert sessions == ["1"], text
    assert run.live("outgoing", "smtp")["status"] == "ok"


def test_a_rejected_login_names_who_can_enter_the_password(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """MC507's hint ends with the credentials' `contact`; an smtp entry without credentials of its own logs in with
    the imap account's, so its rejected login names that account's contact."""
    servers = fresh_mail_servers
    smtp = servers.smtp_entry(username=None)
    imap = servers.imap_entry(ANNA, password="Wrong-Password-4")
    imap["credentials"]["contact"] = "IT desk <it@example.com>"
    run = verify(smtp=[smtp], imap=[imap])
    assert run.code == 3, run.explain()
    findings = run.findings("MC507")
    assert {finding["account"] for finding in findings} == {"outgoing", "anna"}, findings
    for finding in findings:
        assert finding["pointer"] == "/imap/0/credentials", finding
        assert finding["hint"].endswith("and the username; who can enter it: IT desk <it@example.com>"), finding
    assert "hint: check the password in $MAILCFG_TEST_IMAP_ANNA_PASSWORD and the username; who can enter it: IT desk" \
        in run.text, run.text


def test_utf8_password_logs_in(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    assert not servers.passwords[UMLAUT].isascii()
    log = DovecotLog(servers)
    run = verify(smtp=[servers.smtp_entry(username=None)],  # smtp logs in with umlaut's credentials too
                 imap=[servers.imap_entry(UMLAUT, servers.imap.ssl),
                       servers.imap_entry(UMLAUT, servers.imap.starttls, id="umlaut-starttls")])
    assert run.findings() == [], run.explain()
    assert run.code == 0, run.explain()
    for account in ("umlaut", "umlaut-starttls"):
        result = run.live(account, "imap")
        assert result["status"] == "ok", result
        assert re.search(r"auth \d+ ms", run.line("imap", account)), run.line("imap", account)
    # SMTP too: AUTH PLAIN with the UTF-8 bytes the server expects. Both accounts send with the same login
    # (host, port, username, password), so it is tried once and the second check says so.
    record = servers.smtp.starttls.record
    assert [(a.username, a.success) for a in record.auth_attempts] == [(UMLAUT, True)], record.summary()
    folded = [item for item in run.report["live"] if item["protocol"] == "smtp" and item["status"] == "skipped"]
    assert len(folded) == 1, run.report["live"]
    assert "tried once" in folded[0]["message"], folded
    log.wait_for(rf"imap\({re.escape(UMLAUT)}\).*Logged out")
    assert "Password mismatch" not in log.text()


# ----------------------------------------------------------------------------------------------- TLS


def test_starttls_not_offered_stops_before_any_credential(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    cleartext = servers.smtp.cleartext
    log = DovecotLog(servers)
    run = verify(smtp=[servers.smtp_entry(cleartext, encryption="starttls")],
                 imap=[servers.imap_entry(INFO, servers.imap.cleartext, encryption="starttls")])
    assert run.code == 3, run.explain()
    for protocol, account, pointer in (("smtp", "outgoing", "/smtp/0/host"), ("imap", "info", "/imap/0/host")):
        result = run.live(account, protocol)
        assert (result["status"], result["stage"]) == ("failed", "starttls"), result
        (finding,) = run.findings(account=account, rule="MC506")
        assert finding["pointer"] == pointer
    assert [f["rule"] for f in run.findings()] == ["MC506", "MC506"]
    assert cleartext.record.connections == 1, cleartext.record.summary()
    assert cleartext.record.auth_attempts == (), cleartext.record.summary()
    assert cleartext.record.credentials_received == ()
    # Dovecot: the session at the cleartext address ended without any login attempt.
    text = log.wait_for(rf"no auth attempts in \d+ secs\): user=<>, rip=[\d.]+, lip={servers.hosts.cleartext}")
    assert INFO not in text, text


def test_implicit_tls_against_a_starttls_port(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry(servers.smtp.starttls, encryption="ssl")],
                 imap=[servers.imap_entry(INFO, servers.imap.starttls, encryption="ssl")])
    assert run.code == 3, run.explain()
    for protocol, account in (("smtp", "outgoing"), ("imap", "info")):
        result = run.live(account, protocol)
        assert (result["status"], result["stage"]) == ("failed", "tls"), result
        (finding,) = run.findings(account=account, rule="MC503")
        assert "encryption: starttls" in finding["hint"], finding
    assert run.seconds < 5  # a clear failure at once, not a timeout
    assert servers.smtp.starttls.record.auth_attempts == ()


@pytest.mark.parametrize(
    ("case", "message"),
    [("untrusted", "certificate is not trusted"), ("wrong_name", "certificate is not valid for 127.0.0.3"),
     ("expired", "certificate has expired")],
)
def test_bad_certificate(fresh_mail_servers: MailServers, verify: Verify, case: str, message: str) -> None:
    servers = fresh_mail_servers
    smtp_server = getattr(servers.smtp, case)
    log = DovecotLog(servers)
    run = verify(smtp=[servers.smtp_entry(smtp_server)], imap=[servers.imap_entry(INFO, getattr(servers.imap, case))])
    assert run.code == 3, run.explain()
    for protocol, account in (("smtp", "outgoing"), ("imap", "info")):
        result = run.live(account, protocol)
        assert (result["status"], result["stage"]) == ("failed", "certificate"), result
        assert result["message"].startswith(message), result
        (finding,) = run.findings(account=account)
        assert (finding["rule"], finding["severity"]) == ("MC504", "error"), finding
    record = smtp_server.record
    assert (record.starttls, record.auth_attempts) == (1, ()), record.summary()
    # Dovecot: a session at that address that ended before any login.
    text = log.wait_for(rf"Disconnected.*lip={re.escape(getattr(servers.imap, case).host)}\b")
    assert INFO not in text, text


@pytest.mark.parametrize("strict", [False, True])
def test_certificate_expiring_in_5_days_is_a_warning(fresh_mail_servers: MailServers, verify: Verify,
                                                      strict: bool) -> None:
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry(servers.smtp.expiring)],
                 imap=[servers.imap_entry(INFO, servers.imap.expiring)], args=["--strict"] if strict else [])
    assert run.code == (3 if strict else 0), run.explain()
    for protocol, account in (("smtp", "outgoing"), ("imap", "info")):
        result = run.live(account, protocol)
        assert (result["status"], result["stage"]) == ("warning", "certificate"), result
        assert re.fullmatch(r"certificate expires in [45] days", result["message"]), result
        (finding,) = run.findings(account=account, rule="MC505")
        assert finding["severity"] == "warning"
        assert run.line(protocol, account).startswith(f"! {protocol} {account} ")
    assert [f["rule"] for f in run.findings()] == ["MC505", "MC505"]
    # A warning does not stop the check: the login still happened.
    assert [a.success for a in servers.smtp.expiring.record.auth_attempts] == [True]


# ----------------------------------------------------------------------------------------------- folders, recipients


def test_missing_sent_folder_suggests_the_folder_marked_sent(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(BEN)])
    assert run.code == 3, run.explain()
    result = run.live("ben", "imap")
    assert (result["status"], result["stage"]) == ("failed", "folders"), result
    (finding,) = run.findings()
    assert finding["rule"] == "MC509"
    assert "Sent" in finding["message"]
    assert "sent_folder: Gesendete Elemente" in finding["hint"], finding
    # Following the hint fixes it.
    fixed = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(BEN, sent_folder="Gesendete Elemente")])
    assert fixed.code == 0, fixed.explain()
    assert fixed.live("ben", "imap")["status"] == "ok"


@contextlib.contextmanager
def login_without_address(servers: MailServers, user: str) -> Iterator[dict[str, Any]]:
    """An imap account that logs in as ``user`` without the domain, at a fake IMAP server that accepts any login
    and never finds the round-trip message. Dovecot's logins are all addresses, and a login that is another
    address than `address` is refused before anything is sent; a bare name cannot be compared, so its round
    trip is sent."""
    mailbox = hostile.FakeServer("imap-any-login", hostile.ImapMailbox(
        context=servers.certificates.good.server_context(), found=()), encryption="starttls")
    try:
        entry = servers.imap_entry(user, mailbox.endpoint, password="Any-Secret-9")
        entry["credentials"]["username"] = user.split("@", 1)[0]
        yield entry
    finally:
        mailbox.stop()


def test_recipient_refused_at_rcpt(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """The STARTTLS server asks Dovecot at RCPT time: --send-test to an unknown test_recipient is MC508 (stage
    send), a round trip to an unknown address is MC510 (the message bounced); both point at the YAML key."""
    servers = fresh_mail_servers
    with login_without_address(servers, INFO) as imap:
        run = verify(smtp=[servers.smtp_entry(test_recipient=NOBODY)],
                     imap=[{**imap, "address": NOBODY}], args=["--send-test", "--round-trip"])
    assert run.code == 3, run.explain()
    smtp_result = run.live("outgoing", "smtp")
    assert (smtp_result["status"], smtp_result["stage"]) == ("failed", "send"), smtp_result
    (refused,) = run.findings(rule="MC508")
    assert refused["pointer"] == "/smtp/0/test_recipient", refused
    assert "550" in refused["message"], refused
    imap_result = run.live("info", "imap")
    assert (imap_result["status"], imap_result["stage"]) == ("failed", "round-trip"), imap_result
    (bounced,) = run.findings(rule="MC510")
    assert bounced["pointer"] == "/imap/0/address", bounced
    assert "bounced" in bounced["message"], bounced
    assert [r[0] for r in servers.smtp.starttls.record.rejected_recipients] == [NOBODY, NOBODY]
    assert servers.smtp.starttls.record.deliveries == ()


def test_round_trip_to_an_address_that_bounces_later(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """The ``bounce`` server accepts any recipient with 250 and fails the delivery afterwards (like Postfix): only
    the round trip catches it, as MC510 "did not arrive", located at the imap account's `address`."""
    servers = fresh_mail_servers
    bounce = servers.smtp.bounce
    with login_without_address(servers, INFO) as imap:
        run = verify(smtp=[servers.smtp_entry(bounce)], imap=[{**imap, "address": NOBODY}],
                     args=["--round-trip", "--timeout", "2"])
    assert run.code == 3, run.explain()
    assert [(d.recipient, d.code) for d in bounce.record.bounces] == [(NOBODY, 550)], bounce.record.summary()
    result = run.live("info", "imap")
    assert (result["status"], result["stage"]) == ("failed", "round-trip"), result
    (finding,) = run.findings()
    assert finding["rule"] == "MC510", finding
    assert run.seconds < 2 + 1
    # What the user needs to hear: the message did not arrive, and which key to check.
    assert "did not arrive" in finding["message"], finding
    assert finding["pointer"] == "/imap/0/address", finding


# ----------------------------------------------------------------------------------------------- unreachable servers


def test_connection_refused(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    closed = servers.hostile.closed
    run = verify(smtp=[servers.smtp_entry(closed, encryption="starttls")],
                 imap=[servers.imap_entry(INFO, closed, encryption="ssl")])
    assert run.code == 3, run.explain()
    for protocol, account in (("smtp", "outgoing"), ("imap", "info")):
        result = run.live(account, protocol)
        assert (result["status"], result["stage"], result["message"]) == ("failed", "connect", "connection refused")
        (finding,) = run.findings(account=account, rule="MC502")
        assert "port" in finding["hint"]
    assert run.seconds < 2


def _hostile_accounts(servers: MailServers) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    hostile = servers.hostile
    good_host = servers.hosts.localhost  # another host name: its own per-host slots
    # One login per hung account: mailcfg never runs two sessions for one login at one host (whatever the port).
    smtp = [
        servers.smtp_entry(hostile.silent, id="smtp-silent", encryption="starttls", username=BEN),
        servers.smtp_entry(hostile.trickle_smtp, id="smtp-trickle", encryption="starttls", username=ANNA),
        servers.smtp_entry(servers.smtp.starttls.endpoint.at(good_host), id="outgoing"),
    ]
    imap = [
        servers.imap_entry(INFO, hostile.silent, id="imap-silent", encryption="starttls"),
        servers.imap_entry(ANNA, hostile.trickle_imap, id="imap-trickle", encryption="starttls"),
        servers.imap_entry(UMLAUT, servers.imap.ssl.at(good_host), id="good-imap"),
    ]
    return smtp, imap


def test_silent_and_trickling_servers_end_at_the_deadline(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    smtp, imap = _hostile_accounts(servers)
    run = verify(smtp=smtp, imap=imap, args=["--timeout", "2"])
    assert run.code == 3, run.explain()
    assert run.seconds <= 2 + 1, f"the run took {run.seconds:.2f} s with --timeout 2"
    for protocol, account in (("smtp", "smtp-silent"), ("smtp", "smtp-trickle"), ("imap", "imap-silent"),
                              ("imap", "imap-trickle")):
        result = run.live(account, protocol)
        assert (result["status"], result["stage"]) == ("failed", "greeting"), result
        assert 1.9 <= result["seconds"] <= 2 + 1, result
        assert {f["rule"] for f in run.findings(account=account)} == {"MC502"}, run.findings(account=account)
    # The good accounts in the same run are unaffected.
    for protocol, account in (("smtp", "outgoing"), ("imap", "good-imap")):
        assert run.live(account, protocol)["status"] == "ok", run.live(account, protocol)
        assert run.line(protocol, account).startswith("✓ ")


def test_a_timed_out_imap_check_reports_one_finding(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """Each check that ran into the deadline is one failure: one MC502 finding, and a summary that counts one
    error per account (six hung IMAP sessions, so a race between watchdog and worker thread shows up)."""
    servers = fresh_mail_servers
    hostile = servers.hostile
    # Six logins: mailcfg never runs two sessions for one login at one host (whatever the port).
    users = numbered_users(6, prefix="hung")
    servers.add_users(users)
    kinds = [("silent", hostile.silent), ("trickle", hostile.trickle_imap)] * 3
    imap = [servers.imap_entry(user, endpoint, id=f"{kind}-{user.split('@')[0]}", encryption="starttls",
                               password=password)
            for (user, password), (kind, endpoint) in zip(users.items(), kinds, strict=True)]
    run = verify(smtp=[servers.smtp_entry()], imap=imap, args=["--timeout", "1", "--per-host", "8"])
    assert run.code == 3, run.explain()
    assert run.seconds <= 1 + 1
    per_account = {entry["id"]: [f["message"] for f in run.findings(rule="MC502", account=entry["id"])]
                   for entry in imap}
    assert all(len(messages) == 1 for messages in per_account.values()), per_account
    assert run.report["summary"]["errors"] == len(imap), run.report["summary"]


# ----------------------------------------------------------------------------------------------- --allow-host


def test_host_outside_allow_host_is_never_contacted(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    log = DovecotLog(servers)
    allowed_smtp = servers.smtp.ssl.endpoint.at(servers.hosts.localhost)
    run = verify(
        smtp=[servers.smtp_entry(servers.smtp.starttls), servers.smtp_entry(allowed_smtp, id="allowed")],
        imap=[servers.imap_entry(INFO, servers.imap.ssl),
              servers.imap_entry(ANNA, servers.imap.ssl.at(servers.hosts.localhost), outgoing="allowed")],
        args=["--allow-host", "localhost", "--allow-host", "*.example.test"],
    )
    assert run.code == 3, run.explain()
    for protocol, account, index in (("smtp", "outgoing", 0), ("imap", "info", 0)):
        result = run.live(account, protocol)
        assert (result["status"], result["stage"]) == ("failed", "policy"), result
        (finding,) = run.findings(account=account)
        assert (finding["rule"], finding["pointer"]) == ("MC511", f"/{protocol}/{index}/host"), finding
        assert f"--allow-host {servers.hosts.remote}" in finding["hint"], finding
    assert run.live("allowed", "smtp")["status"] == "ok"
    assert run.live("anna", "imap")["status"] == "ok"
    starttls = servers.smtp.starttls.record
    assert (starttls.connections, starttls.credentials_received) == (0, ()), starttls.summary()
    assert [a.username for a in servers.smtp.ssl.record.credentials_received] == [MAILER]
    # Dovecot saw anna's login at localhost, and nothing at all for info.
    text = log.wait_for(rf"imap\({re.escape(ANNA)}\).*Logged out")
    assert INFO not in text, text
    assert f"lip={servers.hosts.remote}" not in text, text


def test_round_trip_through_a_host_outside_allow_host(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """The imap host is allowed, its linked smtp host is not: the round-trip check is withheld whole (MC511 at
    `outgoing`), before anything is contacted, rather than reported as a message that did not arrive (MC510)."""
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry(servers.smtp.starttls)],
                 imap=[servers.imap_entry(INFO, servers.imap.ssl.at(servers.hosts.localhost))],
                 args=["--allow-host", "localhost", "--round-trip", "--allow-recipient", f"*@{DOMAIN}"])
    assert run.code == 3, run.explain()
    starttls = servers.smtp.starttls.record
    assert (starttls.connections, starttls.credentials_received) == (0, ()), starttls.summary()
    assert run.live("outgoing", "smtp")["stage"] == "policy"
    result = run.live("info", "imap")
    assert (result["status"], result["stage"]) == ("failed", "policy"), result
    (finding,) = run.findings(account="info")
    assert (finding["rule"], finding["pointer"]) == ("MC511", "/imap/0/outgoing"), finding


# ----------------------------------------------------------------------------------------------- static errors first


def test_static_errors_stop_live_checks(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    log = DovecotLog(servers)
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO, outgoing="outgoign")])
    assert run.code == 1, run.explain()
    assert [f["rule"] for f in run.report["findings"] if f["severity"] == "error"] == ["MC201"]
    assert run.report["live"] == []
    assert not run.findings()
    assert "live checks" not in run.text
    assert servers.smtp.starttls.record.connections == 0, servers.smtp.starttls.record.summary()
    time.sleep(0.3)
    assert log.text() == "", log.text()  # Dovecot logs every session, even one without a login


@pytest.mark.parametrize("select", [[], ["--select", "MC5"]], ids=["all-rules", "select-MC5"])
def test_missing_password_variable_is_mc306_before_any_connection(fresh_mail_servers: MailServers, verify: Verify,
                                                                  select: list[str]) -> None:
    """README: in `verify` every referenced variable must be set, "one MC306 per missing variable, before any
    connection" — also when the report is narrowed to the live rules."""
    servers = fresh_mail_servers
    log = DovecotLog(servers)
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO)],
                 unset=["MAILCFG_TEST_SMTP_OUTGOING_PASSWORD"], args=select)
    starttls = servers.smtp.starttls.record
    assert (starttls.connections, starttls.auth_attempts) == (0, ()), starttls.summary()
    time.sleep(0.3)
    assert log.text() == "", log.text()
    assert run.report["live"] == [], run.report["live"]
    assert run.code == 1, run.explain()
    if not select:
        (finding,) = run.findings(rule="MC306")
        assert "MAILCFG_TEST_SMTP_OUTGOING_PASSWORD" in finding["message"]
        assert finding["pointer"] == "/smtp/0/credentials/password/env"

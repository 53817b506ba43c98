"""What `mailcfg verify` puts on the wire and into its reports when the YAML or a server is hostile.

The YAML may come from a pull request while CI holds real secrets, and a server may echo what it received,
answer with workflow commands and terminal escapes, or announce a literal of any size. Each test runs `verify`
in-process (``validator.cli.main``, or ``validator.live.verify`` where the YAML could not pass the static checks)
against the scriptable fake servers of tests/live/hostile.py, which record every connection and command, and
asserts from the server's side what was sent, and from every report format what was printed.

No Dovecot here: the fake servers use the test certificates of tests/live/servers.py only.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import socket
import ssl
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import yaml

from validator import engine
from validator.accounts import Entry
from validator.cli import main
from validator.live import LiveResult, VerifyOptions, verify
from validator.live.plan import plan
from validator.live.probe import Probe
from validator.reporters import FORMATS
from validator.reporters.github import escape_data
from validator.trust import from_settings

from . import hostile
from .hostile import FakeServer, ImapMailbox, Relay, auth_plain_fields, smtp_refusing
from .servers import Certificates, closed_port, make_certificates

HOST = hostile.HOST
USER = "info@example.test"
SENDER = "mailer@example.test"
# Quotes and a backslash: every encoder writes them differently. "aryPW" and "CoreQ8" survive all text encodings.
IMAP_PASSWORD = 'Zq9"can\\aryPW!'
SMTP_PASSWORD = 'Kv4"relay\\CoreQ8#'
IMAP_ENV, SMTP_ENV = "MAILCFG_WIRE_IMAP_PASSWORD", "MAILCFG_WIRE_SMTP_PASSWORD"
SHORT_PASSWORD = "Qx7!k"  # short enough to guess: text holding it must be withheld, not masked
WITHHELD = "withheld: it contains the password"
SUFFIX = {"text": "txt", "json": "json", "sarif": "sarif", "github": "txt", "junit": "xml", "prometheus": "prom",
          "nagios": "txt"}


# ----------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def context(certificates: Certificates) -> ssl.SSLContext:
    return certificates.good.server_context()


@pytest.fixture
def started() -> Iterator[list[FakeServer]]:
    """Servers a test starts (append them); all stopped at its end."""
    servers: list[FakeServer] = []
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def serve(started: list[FakeServer], name: str, script: hostile.Script, encryption: str = "starttls",
          implicit: ssl.SSLContext | None = None) -> FakeServer:
    server = FakeServer(name, script, encryption=encryption, implicit_tls=implicit)
    started.append(server)
    return server


# ----------------------------------------------------------------------------------------------- accounts


def write_accounts(directory: Path, *, imap: FakeServer | None = None, smtp: FakeServer | None = None,
                   username: str = USER, sender: str = SENDER, **smtp_extra: Any) -> Path:
    """One smtp entry `outgoing` and one imap account `mailbox` at the fake servers (a closed port for the one
    not given: run with ``--only``)."""
    smtp_entry: dict[str, Any] = {
        "id": "outgoing", "host": HOST, "port": smtp.port if smtp else closed_port(HOST),
        "encryption": smtp.encryption if smtp else "starttls",
        "credentials": {"username": sender, "password": {"env": SMTP_ENV}}, **smtp_extra}
    imap_entry = {
        "id": "mailbox", "scope": "system", "address": USER, "host": HOST,
        "port": imap.port if imap else closed_port(HOST), "encryption": imap.encryption if imap else "starttls",
        "outgoing": "outgoing", "credentials": {"username": username, "password": {"env": IMAP_ENV}}}
    path = directory / "accounts.yaml"
    text = yaml.safe_dump({"version": 1, "smtp": [smtp_entry], "imap": [imap_entry]}, sort_keys=False,
                          allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def username_line(path: Path) -> int:
    """The line of the imap account's `username` (the second credentials block of the file)."""
    lines = [number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if line.strip().startswith("username:")]
    return lines[-1]


# ----------------------------------------------------------------------------------------------- running verify


@dataclass
class Outcome:
    code: int
    outputs: dict[str, str]  # where -> what was written there
    report: dict[str, Any]

    def live(self, account: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = [item for item in self.report["live"] if item["account"] == account]
        assert len(found) == 1, self.report["live"]
        return found[0]

    def findings(self, account: str) -> list[dict[str, Any]]:
        return [item for item in self.report["findings"]
                if item.get("account") == account and item["rule"].startswith("MC5")]

    def messages(self) -> list[str]:
        """Every message and hint of the live checks, as the JSON report holds them (decoded)."""
        out = [item["message"] for item in self.report["live"]]
        out += [stage["message"] for item in self.report["live"] for stage in item.get("stages", [])]
        for item in self.report["findings"]:
            out += [item["message"], item.get("hint") or ""]
        return out


def run_verify(directory: Path, path: Path, certificates: Certificates, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str], *args: str, env: dict[str, str] | None = None,
               timeout: float = 5) -> Outcome:
    """`mailcfg verify` in-process with every report format written to a file, the text one on stdout too."""
    variables = {IMAP_ENV: IMAP_PASSWORD, SMTP_ENV: SMTP_PASSWORD, **(env or {})}
    for name in [name for name in os.environ if name.startswith("MAILCFG_ALLOW_")]:  # the job's own trust settings
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    summary = directory / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("MAILCFG_ALLOW_RECIPIENT", "*@example.test")  # --send-test, --round-trip
    files = {name: directory / f"report-{name}.{SUFFIX[name]}" for name in FORMATS}
    capsys.readouterr()
    code = main(["verify", str(path), "--no-config", "--no-color", "--no-progress", "--ca-file",
                 str(certificates.ca_file), "--timeout", f"{timeout:g}", "--allow-host", HOST, "--format", "text",
                 *[f"--format={name}:{file}" for name, file in files.items()], *args])
    captured = capsys.readouterr()
    outputs = {"stdout": captured.out, "stderr": captured.err}
    outputs.update({f"--format {name}": file.read_text(encoding="utf-8") for name, file in files.items()})
    outputs["GITHUB_STEP_SUMMARY"] = summary.read_text(encoding="utf-8") if summary.exists() else ""
    assert "Traceback" not in captured.err, captured.err
    assert "internal error" not in captured.err, captured.err
    return Outcome(code, outputs, json.loads(files["json"].read_text(encoding="utf-8")))


def run_live(path: Path, certificates: Certificates, env: dict[str, str], change: Callable[[Entry[Any]], Entry[Any]],
             timeout: float = 5) -> list[LiveResult]:
    """The live checks of the imap account `mailbox` alone, on the account set of ``path`` after ``change``: for
    values the static checks may refuse (the wire must be safe regardless)."""
    _, accounts = engine.analyse(engine.CheckOptions(paths=(str(path),), env=env))
    accounts.imap = [change(entry) for entry in accounts.imap]
    options = VerifyOptions(timeout=timeout, ca_file=str(certificates.ca_file), trust=from_settings(hosts=[HOST]),
                            only=("mailbox",))
    return verify(accounts, options, env)


def with_credentials(**update: str) -> Callable[[Entry[Any]], Entry[Any]]:
    def change(entry: Entry[Any]) -> Entry[Any]:
        credentials = entry.model.credentials.model_copy(update=update)
        return replace(entry, model=entry.model.model_copy(update={"credentials": credentials}))
    return change


# ----------------------------------------------------------------------------------------------- leaks


def echoed(username: str, password: str) -> dict[str, str]:
    """Every way a server or a library may write a password it received -> a label (never the password)."""
    raw = password.encode("utf-8")
    found = {
        password: "plain", password.replace("\\", "\\\\").replace('"', '\\"'): "IMAP-quoted or backslash-escaped",
        json.dumps(password)[1:-1]: "JSON-escaped", repr(raw)[2:-1]: "bytes repr", repr(password)[1:-1]: "str repr",
        quote(password, safe=""): "URL-encoded", quote(password): "URL-encoded (/ kept)",
        quote_plus(password): "URL-encoded (quote_plus)",
    }
    blobs = {b"": "base64", b"\0" + username.encode() + b"\0": "AUTH PLAIN", username.encode() + b"\0": "user\\0pass"}
    for prefix, label in blobs.items():
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            full = encode(prefix + raw).decode("ascii")
            found[full] = found[full.rstrip("=")] = f"{label} in base64"
    for shift in range(3):  # base64 of the password at any offset inside a larger blob
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        middle = encoded[4 if shift else 0:-4]
        if len(middle) >= 8:
            found[middle] = "base64 at an offset"
    return found


def forms(username: str, password: str) -> dict[str, str]:
    """Every echoed form, also as each report format writes it (JSON, XML, a workflow command) -> a label."""
    found: dict[str, str] = {}
    for form, label in echoed(username, password).items():
        for encoded, how in ((form, ""), (json.dumps(form)[1:-1], " in JSON"), (html.escape(form), " in XML"),
                             (html.escape(form, quote=False), " in XML"), (escape_data(form), " in a command")):
            found[encoded] = label + how
    return found


def leaks(outputs: dict[str, str], secrets: Iterable[tuple[str, str, str]]) -> list[str]:
    """(username, password, core): any printed form, and the core (letters every text form keeps), in any case."""
    found = []
    for where, text in outputs.items():
        for username, password, core in secrets:
            found += [f"{label} in {where}" for needle, label in forms(username, password).items() if needle in text]
            if core.lower() in text.lower():
                found.append(f"the password's core {core[:2]}… in {where}")
    return found


def nothing_before_tls(*servers: FakeServer, secrets: Iterable[tuple[str, str]]) -> list[str]:
    pairs = list(secrets)
    return [f"{server.name}: {server.record.auth_commands(tls=False)} {server.record.secrets_seen(pairs, tls=False)}"
            for server in servers
            if server.record.auth_commands(tls=False) or server.record.secrets_seen(pairs, tls=False)]


IMAP_SECRET = (USER, IMAP_PASSWORD, "aryPW")
SMTP_SECRET = (SENDER, SMTP_PASSWORD, "CoreQ8")


def echo(username: str, password: str, cut: int = 6) -> str:
    """What an echoing server says: every form of the credentials it got, ending in a password cut short."""
    raw = password.encode()
    plain = base64.b64encode(b"\0" + username.encode() + b"\0" + raw).decode()
    parts = [
        password, base64.b64encode(raw).decode(), base64.b64encode(raw).decode().rstrip("="), plain,
        plain.rstrip("="), base64.b64encode(username.encode() + b"\0" + raw).decode(),
        '"' + password.replace("\\", "\\\\").replace('"', '\\"') + '"', f"{{{len(raw)}}} {password}",
        quote(password, safe=""), quote_plus(password), repr(raw), password.upper(),
    ]
    return " | ".join(parts) + " | " + password[:cut]


# ----------------------------------------------------------------------------------------------- 1. usernames


@pytest.mark.parametrize("field", ["username", "password"])
def test_line_breaks_in_credentials_never_reach_the_wire(certificates: Certificates, context: ssl.SSLContext,
                                                         started: list[FakeServer], tmp_path: Path,
                                                         field: str) -> None:
    """A username (from the YAML) or password with CR/LF would inject IMAP commands into LOGIN, which imaplib
    sends unquoted: refused before anything is sent, with a finding at the value."""
    mailbox = serve(started, "imap-login-only", ImapMailbox(["IMAP4rev1"], context=context))
    path = write_accounts(tmp_path, imap=mailbox)
    evil = "x\r\nA1 LOGIN attacker pw\r\nA2 APPEND INBOX {23}\r\n"
    env = {IMAP_ENV: evil if field == "password" else IMAP_PASSWORD}
    results = run_live(path, certificates, env, with_credentials(**{field: evil}) if field == "username"
                       else (lambda entry: entry))

    commands = mailbox.record.commands()
    assert mailbox.record.connections, "never connected: this tests nothing"
    assert mailbox.record.tls_established
    assert mailbox.record.auth_commands() == [], commands
    assert not [line for line in commands if "attacker" in line or "APPEND" in line.upper()], commands
    assert b"attacker" not in mailbox.record.data()
    [result] = results
    assert (result.status, result.stage) == ("failed", "auth"), result
    [finding] = result.findings
    assert finding.rule == "MC507"
    if field == "username":
        assert finding.line == username_line(path), (finding, path.read_text())
    assert not re.search(r"[\r\n\x00-\x1f]", finding.message + (finding.hint or "") + result.message)
    assert IMAP_PASSWORD not in finding.message


def imap_strings(text: str) -> list[str]:
    """The atoms and quoted strings of an IMAP command line (what a server parses)."""
    out = []
    for match in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', text):
        quoted, atom = match.groups()
        out.append(re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else atom)
    return out


def test_a_username_with_spaces_and_quotes_goes_out_as_one_quoted_string(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    mailbox = serve(started, "imap-login-only", ImapMailbox(["IMAP4rev1"], context=context))
    username = 'in fo "x" \\y@example.test'
    path = write_accounts(tmp_path, imap=mailbox, username=username)
    outcome = run_verify(tmp_path, path, certificates, monkeypatch, capsys, "--only", "mailbox")
    logins = [line for line in mailbox.record.commands(tls=True) if line.split()[1:2] == ["LOGIN"]]
    assert len(logins) == 1, mailbox.record.commands()
    assert imap_strings(logins[0])[1:] == ["LOGIN", username, IMAP_PASSWORD], logins
    assert outcome.live("mailbox")["status"] == "ok", outcome.outputs["stdout"]


# ----------------------------------------------------------------------------------------------- 2, 3. echoes


def test_an_echoed_login_never_shows_the_password_in_any_form(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A server without AUTH=PLAIN refuses LOGIN and echoes the password in every form, after a long preamble (so a
    cut at 200 characters fell inside the first copy), ending in the password cut short; imaplib reports the reply
    as a bytes repr."""
    def refuse(tag: str, line: str) -> bytes:
        preamble = "y" * 172 + IMAP_PASSWORD
        return f"{tag} NO [AUTHENTICATIONFAILED] {preamble} you sent {line} | {echo(USER, IMAP_PASSWORD)}\r\n".encode()

    mailbox = serve(started, "imap-echo", ImapMailbox(["IMAP4rev1"], context=context, refuse=refuse))
    path = write_accounts(tmp_path, imap=mailbox)
    outcome = run_verify(tmp_path, path, certificates, monkeypatch, capsys, "--only", "mailbox")

    assert outcome.code == 3, outcome.outputs["stdout"]
    assert [item["rule"] for item in outcome.findings("mailbox")] == ["MC507"], outcome.outputs["stdout"]
    assert mailbox.record.auth_commands(tls=True) == ["LOGIN"]  # the password was sent, and echoed
    assert leaks(outcome.outputs, [IMAP_SECRET]) == []
    assert not [text for text in outcome.messages() if "b'" in text or 'b"' in text], outcome.messages()
    assert all(len(text) < 700 for text in outcome.messages())
    assert nothing_before_tls(mailbox, secrets=[(USER, IMAP_PASSWORD)]) == []


def test_an_echoed_auth_plain_never_shows_the_password_in_any_form(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The same echo from an SMTP server (a multi-line 535) and an IMAP server after AUTHENTICATE PLAIN."""
    def smtp_reply(line: str) -> bytes:
        user, password = auth_plain_fields(line)
        return f"535-5.7.8 you sent {line}\r\n535 5.7.8 {echo(user, password)}\r\n".encode()

    def imap_refuse(tag: str, line: str) -> bytes:
        user, password = auth_plain_fields(f"AUTH PLAIN {line}")
        return f"{tag} NO [AUTHENTICATIONFAILED] got {line} | {echo(user, password, cut=9)}\r\n".encode()

    mailbox = serve(started, "imap-plain-echo", ImapMailbox(context=context, refuse=imap_refuse))
    relay = serve(started, "smtp-echo", smtp_refusing(context, smtp_reply))
    path = write_accounts(tmp_path, imap=mailbox, smtp=relay)
    outcome = run_verify(tmp_path, path, certificates, monkeypatch, capsys)

    assert outcome.code == 3, outcome.outputs["stdout"]
    assert relay.record.auth_commands(tls=True) == ["AUTH PLAIN"]
    assert mailbox.record.auth_commands(tls=True) == ["AUTHENTICATE PLAIN"]
    assert leaks(outcome.outputs, [IMAP_SECRET, SMTP_SECRET]) == []
    assert nothing_before_tls(mailbox, relay, secrets=[(USER, IMAP_PASSWORD), (SENDER, SMTP_PASSWORD)]) == []


def test_text_that_holds_a_short_password_is_withheld_not_masked(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A short password is guessable: if a masked copy showed where an attacker's text (a username, a reply that
    echoes it) held it, every run would answer a guess. Such text is replaced by a placeholder."""
    username = f"{SHORT_PASSWORD}@example.test"

    def refuse(tag: str, line: str) -> bytes:
        return f"{tag} NO [AUTHENTICATIONFAILED] unknown user {username}\r\n".encode()

    mailbox = serve(started, "imap-short", ImapMailbox(context=context, refuse=refuse))
    path = write_accounts(tmp_path, imap=mailbox, username=username)
    outcome = run_verify(tmp_path, path, certificates, monkeypatch, capsys, "--only", "mailbox",
                         env={IMAP_ENV: SHORT_PASSWORD})
    [finding] = outcome.findings("mailbox")
    assert finding["rule"] == "MC507"
    assert "username " + WITHHELD in finding["message"], finding
    assert "server reply " + WITHHELD in finding["message"], finding
    for text in outcome.messages():
        assert SHORT_PASSWORD.lower() not in text.lower(), text
        assert "****" not in text, text


# ----------------------------------------------------------------------------------------------- 4. round trip


def test_a_round_trip_never_shows_what_the_smtp_server_echoed(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The round trip's SMTP login fails with an echo of the sender's password; the imap check reports that failure
    and must scrub it with the sender's secrets, not only its own."""
    def smtp_reply(line: str) -> bytes:
        return f"535 5.7.8 rejected {line} with password {auth_plain_fields(line)[1]}\r\n".encode()

    mailbox = serve(started, "imap-good", ImapMailbox(context=context))
    relay = serve(started, "smtp-echo", smtp_refusing(context, smtp_reply))
    path = write_accounts(tmp_path, imap=mailbox, smtp=relay)
    outcome = run_verify(tmp_path, path, certificates, monkeypatch, capsys, "--round-trip", "--only", "mailbox")

    result = outcome.live("mailbox")
    assert (result["status"], result["stage"]) == ("failed", "round-trip"), outcome.outputs["stdout"]
    assert relay.record.auth_commands(tls=True) == ["AUTH PLAIN"]
    assert leaks(outcome.outputs, [IMAP_SECRET, SMTP_SECRET]) == []
    assert nothing_before_tls(mailbox, relay, secrets=[(USER, IMAP_PASSWORD), (SENDER, SMTP_PASSWORD)]) == []


# ----------------------------------------------------------------------------------------------- 5. literals


def test_a_huge_literal_is_refused_not_allocated(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """imaplib reads a literal with one read(size) of the size the server announced, and a buffered read of n
    bytes allocates n bytes first (CPython gh-119511): 200 MB on the server's word."""
    announced = 200_000_000
    mailbox = serve(started, "imap-literal", ImapMailbox(greeting=b"* OK {%d}\r\n" % announced), encryption="ssl",
                    implicit=context)
    path = write_accounts(tmp_path, imap=mailbox)
    tracemalloc.start()
    try:
        outcome = run_verify(tmp_path, path, certificates, monkeypatch, capsys, "--only", "mailbox", timeout=3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MiB for a literal announced at {announced / 2**20:.0f} MiB"
    result = outcome.live("mailbox")
    assert (result["status"], result["stage"]) == ("failed", "greeting"), outcome.outputs["stdout"]
    assert "literal" in result["message"], result["message"]
    assert result["seconds"] < 2, result


# ----------------------------------------------------------------------------------------------- 6. deadlines


def test_a_timed_out_imap_check_never_logs_in_afterwards(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Slow DNS, then an implicit-TLS handshake that ends after the check's deadline but before the socket's own
    timeout: the watchdog cannot cut a socket in the middle of its handshake (the TLS socket does not exist yet),
    so the worker must see that its check was given up before it logs in, and close the session itself."""
    mailbox = serve(started, "imap-late-tls", hostile.late_tls(context, 1.5, ImapMailbox()), encryption="ssl")
    path = write_accounts(tmp_path, imap=mailbox)
    resolve = socket.getaddrinfo

    def slow_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == HOST:
            time.sleep(1.0)
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_dns)
    [result] = run_live(path, certificates, {IMAP_ENV: IMAP_PASSWORD}, lambda entry: entry, timeout=2)
    assert (result.status, result.stage) == ("failed", "tls"), result  # the deadline passed in the handshake

    # The worker thread lives on: wait until the handshake is long done and it has either logged in or let go.
    record = mailbox.record
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not record.auth_commands():
        if record.connections and all(c.ended for c in record.connections):
            break
        time.sleep(0.05)
    assert record.tls_established, record.summary()  # the handshake did complete, after the deadline
    assert record.auth_commands() == [], record.summary()
    assert record.secrets_seen([(USER, IMAP_PASSWORD)]) == []
    assert all(c.ended for c in record.connections), f"still connected: {record.summary()}"


# ----------------------------------------------------------------------------------------------- 7. cleanup


@pytest.mark.parametrize("uidplus", [False, True], ids=["without-uidplus", "with-uidplus"])
def test_round_trip_cleanup_touches_only_the_probe_message(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], uidplus: bool) -> None:
    """EXPUNGE removes every message flagged \\Deleted in INBOX, the user's included: only UID EXPUNGE (UIDPLUS)
    removes the probe message alone; without it the probe message is only flagged."""
    capabilities = ["IMAP4rev1", "AUTH=PLAIN", *(["UIDPLUS"] if uidplus else [])]
    mailbox = serve(started, "imap-mailbox", ImapMailbox(capabilities, context=context, found=[7]))
    relay = Relay("smtp-relay", context, lambda *_: (250, "ok"), mode="keep")
    started.append(relay)
    path = write_accounts(tmp_path, imap=mailbox, smtp=relay)
    outcome = run_verify(tmp_path, path, certificates, monkeypatch, capsys, "--round-trip", "--only", "mailbox")

    assert outcome.live("mailbox")["status"] == "ok", outcome.outputs["stdout"]
    assert len(relay.messages) == 1
    commands = [line.split(" ", 1)[1].upper() for line in mailbox.record.commands(tls=True) if " " in line]
    stores = [command for command in commands if command.startswith("UID STORE")]
    assert stores == ["UID STORE 7 +FLAGS (\\DELETED)"], commands
    assert "EXPUNGE" not in commands, commands
    assert [c for c in commands if "EXPUNGE" in c] == (["UID EXPUNGE 7"] if uidplus else []), commands


# ----------------------------------------------------------------------------------------------- 8. message-id


def test_the_test_message_does_not_name_the_runner(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    relay = Relay("smtp-relay", context, lambda *_: (250, "ok"), mode="keep")
    started.append(relay)
    path = write_accounts(tmp_path, smtp=relay, test_recipient=USER)
    outcome = run_verify(tmp_path, path, certificates, monkeypatch, capsys, "--send-test", "--only", "outgoing")
    assert outcome.live("outgoing")["status"] == "ok", outcome.outputs["stdout"]
    [message] = relay.messages
    ids = re.findall(rb"^Message-ID:\s*(\S+)", message.content, re.MULTILINE | re.IGNORECASE)
    assert len(ids) == 1, ids
    assert ids[0].endswith(b"@mailcfg.invalid>"), ids


# ----------------------------------------------------------------------------------------------- 9. reports


def test_workflow_commands_and_terminal_escapes_from_a_server_stay_inert(
        certificates: Certificates, context: ssl.SSLContext, started: list[FakeServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    reply = b"535-5.7.8 first line\r\n535-::error file=x::pwned\r\n535 5.7.8 \x1b]0;title\x07 bad\r\n"
    relay = serve(started, "smtp-commands", smtp_refusing(context, lambda line: reply))
    path = write_accounts(tmp_path, smtp=relay)
    outcome = run_verify(tmp_path, path, certificates, monkeypatch, capsys, "--only", "outgoing")

    assert outcome.live("outgoing")["stage"] == "auth", outcome.outputs["stdout"]
    assert any("pwned" in text for text in outcome.messages()), "the reply was not reported: this tests nothing"
    for where, text in outcome.outputs.items():
        assert "\x1b" not in text, where
        assert "\x07" not in text, where
        assert not [line for line in text.splitlines() if line.lstrip().startswith("::error file=x")], where
    for text in outcome.messages():
        assert not re.search(r"[\x00-\x1f\x7f]", text), text


# ----------------------------------------------------------------------------------------------- the scrubber


@pytest.fixture
def probe(tmp_path: Path) -> Probe:
    """A probe for the imap account, knowing its password and, as a round trip's does, the sender's."""
    path = write_accounts(tmp_path)
    _, accounts = engine.analyse(engine.CheckOptions(paths=(str(path),)))
    check = next(check for check in plan(accounts, VerifyOptions()) if check.protocol == "imap")
    probe = Probe(check, [(USER, IMAP_PASSWORD), (USER, "pässwörd-ß-long")])
    probe.learn([(SENDER, SMTP_PASSWORD)])
    return probe


@pytest.mark.parametrize("password", [IMAP_PASSWORD, "pässwörd-ß-long", SMTP_PASSWORD])
def test_every_form_of_a_password_is_masked(probe: Probe, password: str) -> None:
    username = SENDER if password == SMTP_PASSWORD else USER
    raw = password.encode()
    for form in [*echoed(username, password), f"{{{len(raw)}}}\r\n{password}", repr(raw), password.upper()]:
        for text in (f"before {form} after", form, f"x{form}y"):
            for printed in (probe.outside(text), probe.scrub(text)):
                assert not [label for needle, label in echoed(username, password).items() if needle in printed], (
                    form, printed)


def test_scrub_first_then_cut_and_mask_a_cut_prefix(probe: Probe) -> None:
    for offset in range(280, 310):
        printed = probe.outside("x" * offset + IMAP_PASSWORD + "y" * 100)
        assert len(printed) <= 300, printed
        assert "Zq9" not in printed, printed
    for cut in range(4, len(IMAP_PASSWORD)):
        assert "Zq9" not in probe.outside(f"auth failed for {IMAP_PASSWORD[:cut]}")
    blob = base64.b64encode(f"\0{USER}\0{IMAP_PASSWORD}".encode()).decode()
    assert probe.outside(f"bad AUTH {blob[:-8]}").endswith("****")
    probe.unexpected(RuntimeError("x" * 195 + IMAP_PASSWORD))
    result = probe.result()
    assert "Zq9" not in result.message
    assert all("Zq9" not in item.message for item in result.findings)


def test_short_passwords_withhold_the_whole_text(probe: Probe) -> None:
    probe.learn([("someone", SHORT_PASSWORD)])
    assert probe.outside(f"no user {SHORT_PASSWORD.upper()}@x") == f"(server reply {WITHHELD})"
    assert probe.outside(f"no user {SHORT_PASSWORD}", "username") == f"(username {WITHHELD})"
    assert probe.outside("nothing to hide") == "nothing to hide"


def test_server_bytes_are_decoded_not_shown_as_repr(probe: Probe) -> None:
    assert probe.outside(b"NO [AUTHENTICATIONFAILED] f\xc3\xa4il") == "NO [AUTHENTICATIONFAILED] fäil"
    assert probe.outside("b'[AUTHENTICATIONFAILED] f\\xc3\\xa4il'") == "[AUTHENTICATIONFAILED] fäil"
    assert probe.outside("line\r\n::error file=x::pwned \x1b]0;t\x07") == "line ::error file=x::pwned \ufffd]0;t\ufffd"

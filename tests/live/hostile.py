"""Hostile fake mail servers for the live tests: each misbehaves in one way and records what it received.

Every server listens on a high port at 127.0.0.1 and runs one thread per connection with a blocking socket, so a
behaviour reads as a short script (greet, read a command, answer, switch to TLS, misbehave). The scripts:

=====================  ===============================================================================================
``silent``             accepts and never speaks (with ``tls_first``: completes the TLS handshake, then never speaks)
``trickle``            sends its greeting one byte per ``interval``, forever, never ending the line
``big_line``           sends a greeting line of 10 MB without a line end
``big_reply``          greets normally, then answers EHLO (SMTP) / CAPABILITY (IMAP) with one 10 MB line
``garbage_after_tls``  offers STARTTLS (and, as bait, AUTH before it), completes the TLS handshake with the test
                       certificate and then answers every line with garbage
``garbage_for_tls``    answers STARTTLS with "go ahead" and then sends plain-text garbage instead of a handshake
``drop_in_auth``       a well-behaved server (STARTTLS or implicit TLS) that drops the connection once the client
                       has sent its credentials: ``drop="close"`` (FIN) or ``drop="reset"`` (RST)
=====================  ===============================================================================================

and :class:`Relay`, an SMTP server that accepts any login and every message and lets a test decide when, and
whether, a message reaches the mailbox and when the client hears back (for interrupting a round trip).
For what real servers will not do on request: :class:`ImapMailbox` (a whole IMAP session, with chosen
capabilities and a scripted refusal that may echo the credentials), :func:`smtp_refusing` (AUTH answered with
any reply) and :func:`late_tls` (a handshake that ends after a check's deadline).

Each server has a :class:`Record`: per connection the bytes received before and after the TLS handshake, the
commands, and whether TLS was ever established, so a test can assert that no credential was sent before TLS.
Nothing here depends on pytest.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .servers import SMTP_HOSTNAME, Endpoint

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]  # the checkout whose `validator` the tests run
TEN_MB = 10 * 1024 * 1024
CHUNK = 64 * 1024
KEEP = 256 * 1024  # bytes of each direction kept per connection: enough for every command a client sends
GARBAGE = b"\x00\xff\xfe garbage \x1b[31m \xc3\x28 ~~~ \x7f\r\n"
HANDSHAKE_TIMEOUT = 10.0


class Closed(Exception):
    """The client closed the connection, or the server is stopping."""


# ----------------------------------------------------------------------------------------------- records


@dataclass
class ConnectionRecord:
    """What one connection carried. ``before_tls``/``after_tls``: bytes received from the client (truncated)."""

    before_tls: bytearray = field(default_factory=bytearray)
    after_tls: bytearray = field(default_factory=bytearray)
    tls: bool = False  # the TLS handshake completed
    commands: list[tuple[str, bool]] = field(default_factory=list)  # (command line, sent over TLS)
    bytes_sent: int = 0
    ended: str = ""  # how the script ended: "eof", "dropped", "stopped", "error: …", "done"

    def received(self, data: bytes) -> None:
        target = self.after_tls if self.tls else self.before_tls
        if len(target) < KEEP:
            target.extend(data[: KEEP - len(target)])


@dataclass
class Record:
    """Everything one server saw; the test thread reads it while the server threads write it."""

    name: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _connections: list[ConnectionRecord] = field(default_factory=list)

    def new(self) -> ConnectionRecord:
        connection = ConnectionRecord()
        with self._lock:
            self._connections.append(connection)
        return connection

    @property
    def connections(self) -> list[ConnectionRecord]:
        with self._lock:
            return list(self._connections)

    @property
    def tls_established(self) -> bool:
        return any(c.tls for c in self.connections)

    def commands(self, tls: bool | None = None) -> list[str]:
        return [line for c in self.connections for line, over_tls in list(c.commands) if tls is None or over_tls is tls]

    def auth_commands(self, tls: bool | None = None) -> list[str]:
        """The verb and mechanism of each AUTH (SMTP), AUTHENTICATE or LOGIN (IMAP) command; never credentials."""
        found = []
        for line in self.commands(tls):
            words = line.split()
            if words and words[0].upper() == "AUTH":
                found.append(" ".join(words[:2]))
            elif len(words) > 1 and words[1].upper() in ("AUTHENTICATE", "LOGIN"):
                found.append(words[1].upper() if words[1].upper() == "LOGIN" else " ".join(words[1:3]))
        return found

    def data(self, tls: bool | None = None) -> bytes:
        """The bytes received before TLS (``tls=False``), after it (``True``) or both, over all connections."""
        parts = []
        for connection in self.connections:
            if tls is not True:
                parts.append(bytes(connection.before_tls))
            if tls is not False:
                parts.append(bytes(connection.after_tls))
        return b"\n".join(parts)

    def secrets_seen(self, secrets: Iterable[tuple[str, str]], tls: bool | None = None) -> list[str]:
        """Labels (never the values) of the credentials in ``secrets`` (username, password) found in the data."""
        data = self.data(tls)
        return [label for label, needle in credential_forms(secrets) if needle in data]

    def summary(self) -> str:
        """One line for assertion messages: no secrets, only sizes, flags and command verbs."""
        parts = []
        for c in self.connections:
            verbs = [line.split()[:2] for line, _ in c.commands]
            parts.append(f"[tls={c.tls} in={len(c.before_tls)}+{len(c.after_tls)} B sent={c.bytes_sent} B "
                         f"ended={c.ended} commands={verbs}]")
        return f"{self.name}: {len(parts)} connections {' '.join(parts)}"


def credential_forms(secrets: Iterable[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """(label, bytes) of every form a password takes on the wire: plain, and base64 at any offset (AUTH LOGIN
    sends it alone, AUTH PLAIN after ``\\0user\\0``)."""
    forms: list[tuple[str, bytes]] = []
    for number, (username, password) in enumerate(secrets):
        raw = password.encode("utf-8")
        forms.append((f"password #{number}", raw))
        forms.append((f"password #{number} as AUTH PLAIN", base64.b64encode(b"\0" + username.encode() + b"\0" + raw)))
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + raw)
            start = 4 if shift else 0
            if len(encoded[start:-4]) >= 8:
                forms.append((f"password #{number} in base64", encoded[start:-4]))
    return forms


# ----------------------------------------------------------------------------------------------- one connection


class Connection:
    """The server's side of one connection, for a script: lines in, bytes out, STARTTLS, drop."""

    def __init__(self, sock: socket.socket, record: ConnectionRecord, stopping: threading.Event) -> None:
        self.sock: socket.socket = sock
        self.record = record
        self.stopping = stopping
        self.buffer = bytearray()

    def send(self, data: bytes) -> None:
        """Send all of ``data`` (blocking; ``FakeServer.stop`` shuts the socket down to end a stuck send)."""
        view = memoryview(data)
        self.sock.settimeout(None)
        try:
            while view:
                if self.stopping.is_set():
                    raise Closed("stopping")
                count = self.sock.send(view[:CHUNK])
                self.record.bytes_sent += count
                view = view[count:]
        except OSError as error:
            raise Closed(f"send: {error}") from None

    def _fill(self, timeout: float | None) -> bool:
        """Read what is there within ``timeout`` (None: until data or stop); False if nothing came in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.stopping.is_set():
                raise Closed("stopping")
            wait = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if wait <= 0:
                return False
            self.sock.settimeout(wait)
            try:
                data = self.sock.recv(CHUNK)
            except (TimeoutError, ssl.SSLWantReadError):
                continue
            except OSError as error:
                raise Closed(f"recv: {error}") from None
            if not data:
                raise Closed("eof")
            self.record.received(data)
            self.buffer.extend(data)
            return True

    def readline(self) -> bytes:
        """One line (without CRLF); raises :class:`Closed` at EOF or when the server stops."""
        while b"\n" not in self.buffer:
            self._fill(None)
        index = self.buffer.index(b"\n")
        line = bytes(self.buffer[:index]).rstrip(b"\r")
        del self.buffer[: index + 1]
        return line

    def read_exact(self, count: int) -> bytes:
        """Exactly ``count`` bytes (an IMAP literal); raises :class:`Closed` at EOF or when the server stops."""
        while len(self.buffer) < count:
            self._fill(None)
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def command(self) -> str:
        line = self.readline().decode("utf-8", "replace")
        self.record.commands.append((line, self.record.tls))
        return line

    def idle(self, seconds: float) -> None:
        """Read (and record) whatever arrives for ``seconds``; raises :class:`Closed` at EOF."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._fill(left)
        self.buffer.clear()

    def drain(self) -> None:
        """Read and record until the client closes or the server stops."""
        while True:
            self._fill(None)
            self.buffer.clear()

    def start_tls(self, context: ssl.SSLContext) -> None:
        self.sock.settimeout(HANDSHAKE_TIMEOUT)
        try:
            self.sock = context.wrap_socket(self.sock, server_side=True)
        except OSError as error:
            raise Closed(f"handshake: {error}") from None
        self.record.tls = True
        self.buffer.clear()  # RFC 3207: nothing sent before the handshake counts after it

    def drop(self, how: str) -> None:
        """End the connection without a word (and without a TLS close_notify): ``close`` (FIN) or ``reset`` (RST)."""
        if how == "reset":
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.record.ended = "dropped"
        self.sock.close()
        raise Closed("dropped")


Script = Callable[[Connection], None]


# ----------------------------------------------------------------------------------------------- server


class FakeServer:
    """A listening socket at ``HOST`` and a thread per accepted connection that runs ``script``."""

    def __init__(self, name: str, script: Script, *, encryption: str, implicit_tls: ssl.SSLContext | None = None
                 ) -> None:
        self.name = name
        self.script = script
        self.encryption = encryption  # what the mailcfg account should say: ssl | starttls
        self.implicit_tls = implicit_tls  # handshake first (an implicit-TLS port)
        self.record = Record(name)
        self.stopping = threading.Event()
        self.listener = socket.create_server((HOST, 0))
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self.threads: list[threading.Thread] = []
        self.open: list[Connection] = []
        self.lock = threading.Lock()
        self.acceptor = threading.Thread(target=self._accept, name=f"hostile-{name}", daemon=True)
        self.acceptor.start()

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(HOST, self.port, self.encryption)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection = Connection(sock, self.record.new(), self.stopping)
            thread = threading.Thread(target=self._serve, args=(connection,), name=f"hostile-{self.name}-conn",
                                      daemon=True)
            with self.lock:
                self.open.append(connection)
                self.threads.append(thread)
            thread.start()

    def _serve(self, connection: Connection) -> None:
        record = connection.record
        try:
            if self.implicit_tls is not None:
                connection.start_tls(self.implicit_tls)
            self.script(connection)
            record.ended = record.ended or "done"
        except Closed as reason:
            record.ended = record.ended or str(reason)
        except Exception as error:  # a bug in a script: visible in the record's summary
            record.ended = f"error: {type(error).__name__}: {error}"
        finally:
            with contextlib.suppress(OSError):
                connection.sock.close()

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.lock:
            connections, threads = list(self.open), list(self.threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
        self.acceptor.join(5)
        for thread in threads:
            thread.join(5)


# ----------------------------------------------------------------------------------------------- scripts


def silent(connection: Connection) -> None:
    connection.drain()


def trickle(greeting: bytes, interval: float) -> Script:
    def script(connection: Connection) -> None:
        sent = 0
        while True:
            connection.send(greeting[sent:sent + 1] or b".")
            sent += 1
            connection.idle(interval)
    return script


def big_line(prefix: bytes, size: int = TEN_MB, end: bytes = b"") -> Script:
    def script(connection: Connection) -> None:
        chunk = b"x" * CHUNK
        connection.send(prefix)
        left = size
        while left > 0:
            connection.send(chunk[:left])
            left -= CHUNK
        connection.send(end)
        connection.drain()
    return script


class SmtpDialogue:
    """A minimal ESMTP server for the scripts: STARTTLS (optional), AUTH, and hooks where it misbehaves."""

    def __init__(self, connection: Connection, context: ssl.SSLContext | None) -> None:
        self.c = connection
        self.context = context  # for STARTTLS; None: not offered

    def greet(self) -> None:
        self.c.send(f"220 {SMTP_HOSTNAME} ESMTP hostile\r\n".encode())

    def ehlo_reply(self) -> bytes:
        lines = [SMTP_HOSTNAME]
        if self.context is not None and not self.c.record.tls:
            lines.append("STARTTLS")
        lines += ["AUTH PLAIN LOGIN", "8BITMIME"]  # AUTH before STARTTLS too: bait for a careless client
        return "".join(f"250{'-' if i < len(lines) - 1 else ' '}{line}\r\n" for i, line in enumerate(lines)).encode()

    def run(self, *, on_ehlo: Callable[[], None] | None = None, on_tls: Callable[[], None] | None = None,
            on_auth: Callable[[str], None] | None = None) -> None:
        self.greet()
        while True:
            line = self.c.command()
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                if on_ehlo is not None:
                    on_ehlo()
                    continue
                self.c.send(self.ehlo_reply())
            elif verb == "STARTTLS" and self.context is not None and not self.c.record.tls:
                self.c.send(b"220 2.0.0 Ready to start TLS\r\n")
                if on_tls is not None:
                    on_tls()
                    continue
                self.c.start_tls(self.context)
            elif verb == "AUTH":
                if self.context is not None and not self.c.record.tls:
                    self.c.send(b"530 5.7.0 Must issue a STARTTLS command first\r\n")
                elif on_auth is not None:
                    on_auth(line)
                else:
                    self.c.send(b"535 5.7.8 Authentication credentials invalid\r\n")
            elif verb == "QUIT":
                self.c.send(b"221 2.0.0 Bye\r\n")
                return
            else:
                self.c.send(b"250 2.0.0 OK\r\n" if verb in ("NOOP", "RSET") else b"502 5.5.2 Not here\r\n")


class ImapDialogue:
    """A minimal IMAP server for the scripts: CAPABILITY, STARTTLS (optional), AUTHENTICATE/LOGIN hooks."""

    def __init__(self, connection: Connection, context: ssl.SSLContext | None) -> None:
        self.c = connection
        self.context = context

    def capabilities(self) -> str:
        caps = ["IMAP4rev1", "AUTH=PLAIN"]  # AUTH=PLAIN and no LOGINDISABLED before STARTTLS: bait
        if self.context is not None and not self.c.record.tls:
            caps.append("STARTTLS")
        return " ".join(caps)

    def run(self, *, on_capability: Callable[[str], None] | None = None, on_tls: Callable[[], None] | None = None,
            on_auth: Callable[[str, str], None] | None = None) -> None:
        self.c.send(f"* OK [CAPABILITY {self.capabilities()}] hostile ready\r\n".encode())
        while True:
            line = self.c.command()
            tag, _, rest = line.partition(" ")
            verb = rest.split(" ", 1)[0].upper()
            if verb == "CAPABILITY":
                if on_capability is not None:
                    on_capability(tag)
                    continue
                self.c.send(f"* CAPABILITY {self.capabilities()}\r\n{tag} OK done\r\n".encode())
            elif verb == "STARTTLS" and self.context is not None and not self.c.record.tls:
                self.c.send(f"{tag} OK Begin TLS negotiation now\r\n".encode())
                if on_tls is not None:
                    on_tls()
                    continue
                self.c.start_tls(self.context)
            elif verb in ("AUTHENTICATE", "LOGIN"):
                if self.context is not None and not self.c.record.tls:
                    self.c.send(f"{tag} NO [PRIVACYREQUIRED] STARTTLS first\r\n".encode())
                elif on_auth is not None:
                    on_auth(tag, verb)
                else:
                    self.c.send(f"{tag} NO [AUTHENTICATIONFAILED] no\r\n".encode())
            elif verb == "LOGOUT":
                self.c.send(f"* BYE bye\r\n{tag} OK done\r\n".encode())
                return
            else:
                self.c.send(f"{tag} BAD not here\r\n".encode())


def _garbage_forever(connection: Connection) -> None:
    connection.send(GARBAGE)
    while True:
        connection.command()
        connection.send(GARBAGE)


def garbage_after_tls(protocol: str, context: ssl.SSLContext) -> Script:
    def after_tls(connection: Connection) -> None:
        connection.start_tls(context)
        _garbage_forever(connection)

    def script(connection: Connection) -> None:
        dialogue: Any = (SmtpDialogue if protocol == "smtp" else ImapDialogue)(connection, context)
        dialogue.run(on_tls=lambda: after_tls(connection))
    return script


def garbage_for_tls(protocol: str, context: ssl.SSLContext) -> Script:
    def instead_of_tls(connection: Connection) -> None:
        connection.send(GARBAGE * 4)
        _garbage_forever(connection)

    def script(connection: Connection) -> None:
        dialogue: Any = (SmtpDialogue if protocol == "smtp" else ImapDialogue)(connection, context)
        dialogue.run(on_tls=lambda: instead_of_tls(connection))
    return script


def big_reply(protocol: str, context: ssl.SSLContext | None) -> Script:
    """EHLO (SMTP) or CAPABILITY (IMAP) answered with a 10 MB line; the greeting itself is fine."""
    def smtp_script(connection: Connection) -> None:
        def on_ehlo() -> None:
            big_line(b"250-", end=b"\r\n250 OK\r\n")(connection)
        SmtpDialogue(connection, context).run(on_ehlo=on_ehlo)

    def imap_script(connection: Connection) -> None:
        # The greeting carries no capabilities, so the client has to ask for them.
        connection.send(b"* OK hostile ready\r\n")
        while True:
            tag, _, rest = connection.command().partition(" ")
            if rest.upper().startswith("CAPABILITY"):
                big_line(b"* CAPABILITY IMAP4rev1 X-", end=f"\r\n{tag} OK done\r\n".encode())(connection)
            else:
                connection.send(f"{tag} BAD not here\r\n".encode())

    return smtp_script if protocol == "smtp" else imap_script


def drop_in_auth(protocol: str, context: ssl.SSLContext | None, how: str) -> Script:
    """A proper server (STARTTLS when ``context`` is given) that drops the connection once the client has sent
    its credentials: SMTP with the AUTH line (AUTH PLAIN carries them), IMAP after the continuation ``+``."""
    def smtp_script(connection: Connection) -> None:
        def on_auth(line: str) -> None:
            words = line.split()
            if len(words) == 2 and words[1].upper() == "LOGIN":  # username, then password, each after a 334
                connection.send(b"334 VXNlcm5hbWU6\r\n")
                connection.command()
                connection.send(b"334 UGFzc3dvcmQ6\r\n")
                connection.command()
            elif len(words) == 2:  # PLAIN without an initial response
                connection.send(b"334 \r\n")
                connection.command()
            connection.drop(how)
        SmtpDialogue(connection, context).run(on_auth=on_auth)

    def imap_script(connection: Connection) -> None:
        def on_auth(tag: str, verb: str) -> None:
            if verb == "AUTHENTICATE":
                connection.send(b"+ \r\n")
                connection.command()
            connection.drop(how)
        ImapDialogue(connection, context).run(on_auth=on_auth)

    return smtp_script if protocol == "smtp" else imap_script


def smtp_refusing(context: ssl.SSLContext, reply: Callable[[str], bytes]) -> Script:
    """A STARTTLS SMTP server that answers every AUTH (after TLS) with ``reply(the AUTH line)``: an echo of the
    credentials, a multi-line reply with workflow commands and terminal escapes, …"""
    def script(connection: Connection) -> None:
        SmtpDialogue(connection, context).run(on_auth=lambda line: connection.send(reply(line)))
    return script


def auth_plain_fields(line: str) -> tuple[str, str]:
    """(username, password) from ``AUTH PLAIN <base64>`` (an initial response); ("", "") for anything else."""
    words = line.split()
    if len(words) != 3:
        return "", ""
    parts = base64.b64decode(words[2]).decode("utf-8", "replace").split("\0")
    return (parts[1], parts[2]) if len(parts) == 3 else ("", "")


class ImapMailbox:
    """An IMAP server good enough for a whole `verify` session, as a script: STARTTLS when ``context`` is given (and
    no login before it), LOGIN and AUTHENTICATE PLAIN (accepted, or answered by ``refuse(tag, verb)``), CAPABILITY,
    LIST (INBOX and a \\Sent folder), SELECT, UID SEARCH (finds ``found``), UID STORE, EXPUNGE, UID EXPUNGE, UID MOVE,
    NOOP, LOGOUT. ``capabilities`` are offered before and after login (``AUTH=PLAIN`` among them or not).
    ``refuse`` gets the tag and the line that carried the credentials (the LOGIN command, or the AUTHENTICATE
    response) and returns the whole refusal, so it can echo what it received.
    ``greeting`` replaces the greeting line. A command that ends in a literal (``{n}``) is answered with a
    continuation and the literal read; :attr:`literals` keeps them.
    """

    def __init__(self, capabilities: Iterable[str] = ("IMAP4rev1", "AUTH=PLAIN"), *,
                 context: ssl.SSLContext | None = None, refuse: Callable[[str, str], bytes] | None = None,
                 greeting: bytes | None = None, found: Iterable[int] = (7,)) -> None:
        self.caps = list(capabilities)
        self.context = context
        self.refuse = refuse
        self.greeting = greeting
        self.found = list(found)
        self.literals: list[bytes] = []

    def capabilities(self, connection: Connection) -> str:
        starttls = ["STARTTLS"] if self.context is not None and not connection.record.tls else []
        return " ".join(self.caps + starttls)

    def __call__(self, connection: Connection) -> None:
        c = connection
        c.send(self.greeting or f"* OK [CAPABILITY {self.capabilities(c)}] mailbox ready\r\n".encode())
        while True:
            line = c.command()
            self._literal(c, line)
            tag, _, rest = line.partition(" ")
            words = rest.split()
            verb = " ".join(words[:2]).upper() if words[:1] == ["UID"] else (words[0].upper() if words else "")
            if verb == "LOGOUT":
                c.send(f"* BYE bye\r\n{tag} OK done\r\n".encode())
                return
            c.send(self._answer(c, tag, verb, words, line))

    def _literal(self, connection: Connection, line: str) -> None:
        match = re.search(r"\{(\d+)(\+?)\}$", line)
        if match is None:
            return
        if not match.group(2):
            connection.send(b"+ go ahead\r\n")
        self.literals.append(connection.read_exact(int(match.group(1))))
        self._literal(connection, connection.command())  # the rest of the command, maybe another literal

    def _answer(self, c: Connection, tag: str, verb: str, words: list[str], line: str) -> bytes:
        if verb == "CAPABILITY":
            return f"* CAPABILITY {self.capabilities(c)}\r\n{tag} OK done\r\n".encode()
        if verb == "STARTTLS" and self.context is not None and not c.record.tls:
            c.send(f"{tag} OK Begin TLS negotiation now\r\n".encode())
            c.start_tls(self.context)
            return b""
        if verb in ("LOGIN", "AUTHENTICATE"):
            if self.context is not None and not c.record.tls:
                return f"{tag} NO [PRIVACYREQUIRED] STARTTLS first\r\n".encode()
            if verb == "AUTHENTICATE" and len(words) == 2:
                c.send(b"+ \r\n")
                line = c.command()
            return self.refuse(tag, line) if self.refuse else f"{tag} OK logged in\r\n".encode()
        if verb == "LIST":
            return (b'* LIST (\\HasNoChildren) "/" INBOX\r\n* LIST (\\HasNoChildren \\Sent) "/" Sent\r\n'
                    + f"{tag} OK listed\r\n".encode())
        if verb in ("SELECT", "EXAMINE"):
            return (b"* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] ok\r\n* FLAGS (\\Deleted \\Seen)\r\n"
                    + f"{tag} OK [READ-WRITE] selected\r\n".encode())
        if verb == "UID SEARCH":
            return f"* SEARCH {' '.join(map(str, self.found))}\r\n{tag} OK searched\r\n".encode()
        if verb == "UID STORE":
            return f"* 3 FETCH (UID {words[2]} FLAGS (\\Deleted))\r\n{tag} OK stored\r\n".encode()
        if verb in ("EXPUNGE", "UID EXPUNGE", "UID MOVE"):
            return f"* 3 EXPUNGE\r\n{tag} OK done\r\n".encode()
        if verb in ("NOOP", "ENABLE", "ID"):
            return f"{tag} OK done\r\n".encode()
        return f"{tag} BAD not here\r\n".encode()


def late_tls(context: ssl.SSLContext, hold: float, then: Script) -> Script:
    """An implicit-TLS port that lets the client's handshake wait ``hold`` seconds (the ClientHello stays unread),
    then completes it and runs ``then``: a handshake that ends after a check's deadline, although the client's
    own socket timeout has not passed."""
    def script(connection: Connection) -> None:
        if connection.stopping.wait(hold):
            raise Closed("stopping")
        connection.start_tls(context)
        then(connection)
    return script


# ----------------------------------------------------------------------------------------------- the catalogue


SMTP_TRICKLE = f"220 {SMTP_HOSTNAME} ESMTP slowly ".encode()
IMAP_TRICKLE = b"* OK [CAPABILITY IMAP4rev1] slowly "


def make(behaviour: str, protocol: str, encryption: str, context: ssl.SSLContext, *, tls_first: bool = False,
         drop: str = "close", interval: float = 0.1) -> FakeServer:
    """One hostile server. ``encryption`` is the mailcfg account's (``ssl``: an implicit-TLS port). For ``silent``
    on an ``ssl`` port, ``tls_first`` completes the handshake before the silence; the other behaviours of an
    ``ssl`` port always do (they misbehave inside TLS)."""
    implicit = encryption == "ssl"
    starttls = None if implicit else context
    scripts: dict[str, Callable[[], Script]] = {
        "silent": lambda: silent,
        "trickle": lambda: trickle(SMTP_TRICKLE if protocol == "smtp" else IMAP_TRICKLE, interval),
        "big_line": lambda: big_line(b"220 " if protocol == "smtp" else b"* OK "),
        "big_reply": lambda: big_reply(protocol, starttls),
        "garbage_after_tls": lambda: garbage_after_tls(protocol, context),
        "garbage_for_tls": lambda: garbage_for_tls(protocol, context),
        "drop_in_auth": lambda: drop_in_auth(protocol, starttls, drop),
    }
    handshake_first = implicit and (behaviour != "silent" or tls_first)
    suffix = "-tls-first" if behaviour == "silent" and tls_first else f"-{drop}" if behaviour == "drop_in_auth" else ""
    return FakeServer(f"{protocol}-{behaviour}{suffix}-{encryption}", scripts[behaviour](), encryption=encryption,
                      implicit_tls=context if handshake_first else None)


# ----------------------------------------------------------------------------------------------- relay


@dataclass
class Message:
    mail_from: str
    recipients: list[str]
    content: bytes

    @property
    def probe_token(self) -> str | None:
        match = re.search(rb"^X-Mailcfg-Probe:\s*(\S+)", self.content, re.MULTILINE | re.IGNORECASE)
        return match.group(1).decode() if match else None


class Relay(FakeServer):
    """An SMTP server (STARTTLS, or implicit TLS) that accepts any login and every recipient.

    ``mode`` says what happens to a message:

    - ``deliver_then_hold_data``: delivered to the mailbox at once (``deliver``), then the reply to DATA is held
      for ``hold`` seconds: the client cannot know it arrived;
    - ``deliver_then_hold_quit``: delivered, DATA answered 250, then the reply to QUIT is held;
    - ``keep``: DATA answered 250, the message kept (``messages``) and not delivered: the test delivers it when it
      wants to.

    ``delivered`` is set once a message has been delivered, ``closed`` once a session that sent a message ended.
    """

    def __init__(self, name: str, context: ssl.SSLContext, deliver: Callable[[str, bytes, str], tuple[int, str]],
                 *, mode: str, hold: float = 30.0, encryption: str = "starttls") -> None:
        self.mode = mode
        self.hold = hold
        self.deliver = deliver
        self.context = context
        self.messages: list[Message] = []
        self.deliveries: list[tuple[str, int, str]] = []
        self.delivered = threading.Event()
        self.closed = threading.Event()
        super().__init__(name, self._script, encryption=encryption,
                         implicit_tls=context if encryption == "ssl" else None)

    def _script(self, connection: Connection) -> None:
        dialogue = SmtpDialogue(connection, None if self.encryption == "ssl" else self.context)
        mail_from, sent = "", False
        recipients: list[str] = []
        dialogue.greet()
        try:
            while True:
                line = connection.command()
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    connection.send(dialogue.ehlo_reply())
                elif verb == "STARTTLS" and not connection.record.tls and self.encryption != "ssl":
                    connection.send(b"220 2.0.0 Ready to start TLS\r\n")
                    connection.start_tls(self.context)
                elif verb == "AUTH":
                    if not connection.record.tls:
                        connection.send(b"530 5.7.0 Must issue a STARTTLS command first\r\n")
                        continue
                    words = line.split()
                    if len(words) == 2 and words[1].upper() == "LOGIN":
                        for prompt in (b"334 VXNlcm5hbWU6\r\n", b"334 UGFzc3dvcmQ6\r\n"):
                            connection.send(prompt)
                            connection.command()
                    connection.send(b"235 2.7.0 Authentication successful\r\n")
                elif verb == "MAIL":
                    mail_from, recipients = _address(line), []
                    connection.send(b"250 2.1.0 OK\r\n")
                elif verb == "RCPT":
                    recipients.append(_address(line))
                    connection.send(b"250 2.1.5 OK\r\n")
                elif verb == "DATA":
                    connection.send(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    message = Message(mail_from, recipients, self._data(connection))
                    self.messages.append(message)
                    sent = True
                    if self.mode == "keep":
                        connection.send(b"250 2.0.0 OK: kept\r\n")
                        continue
                    for recipient in recipients:
                        code, reply = self.deliver(recipient, message.content, mail_from)
                        self.deliveries.append((recipient, code, reply))
                    self.delivered.set()
                    if self.mode == "deliver_then_hold_data":
                        connection.idle(self.hold)
                    connection.send(b"250 2.0.0 OK: delivered\r\n")
                elif verb == "QUIT":
                    if sent and self.mode == "deliver_then_hold_quit":
                        connection.idle(self.hold)
                    connection.send(b"221 2.0.0 Bye\r\n")
                    return
                else:
                    connection.send(b"250 2.0.0 OK\r\n")
        finally:
            if sent:
                self.closed.set()

    @staticmethod
    def _data(connection: Connection) -> bytes:
        lines: list[bytes] = []
        while True:
            line = connection.readline()
            if line == b".":
                return b"\r\n".join(lines) + b"\r\n"
            lines.append(line[1:] if line.startswith(b".") else line)


def _address(line: str) -> str:
    match = re.search(r"<([^>]*)>", line)
    return match.group(1) if match else ""


def subprocess_env(variables: dict[str, str]) -> dict[str, str]:
    """The environment for running `python -m validator` against these servers: this checkout's package first on
    the path (the editable install may point at another copy), the accounts' password variables, and no CI or
    colour settings."""
    env = {name: value for name, value in os.environ.items() if name not in ("GITHUB_ACTIONS", "NO_COLOR")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.update(variables)
    return env


__all__ = ["HOST", "TEN_MB", "Closed", "Connection", "ConnectionRecord", "FakeServer", "ImapMailbox", "Message",
           "Record", "Relay", "auth_plain_fields", "credential_forms", "late_tls", "make", "smtp_refusing",
           "subprocess_env"]

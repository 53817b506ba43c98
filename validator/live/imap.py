"""IMAP checks with imapclient, each in a worker thread that a watchdog can cut loose.

Why imapclient: a well-kept, typed wrapper over imaplib that decodes modified UTF-7 folder names, finds
the RFC 6154 ``\\Sent`` folder (SPECIAL-USE first, then common names), does STARTTLS with our context and
AUTHENTICATE PLAIN with UTF-8 passwords (imaplib's LOGIN cannot send them). It is blocking, so each
session runs in a thread; mailcfg connects the socket itself (separate DNS and connect stages) and keeps
it, so when a check's deadline passes the socket is shut down and the blocked thread returns at once.
"""

from __future__ import annotations

import contextlib
import imaplib
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any

import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from validator.live import tls
from validator.live.plan import Check
from validator.live.probe import Probe, certificate_stage
from validator.live.result import VerifyOptions
from validator.live.smtp import PROBE_HEADER

# What a failed imap operation may raise besides OSError.
ERRORS: tuple[type[Exception], ...] = (IMAPClientError, imaplib.IMAP4.error)


class Session:
    """The sockets and client of one check, shared with the watchdog that may abort it."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.tls_sock: ssl.SSLSocket | None = None  # after wrapping, the plain socket object no longer owns the fd
        self.client: Any = None
        self.aborted = False

    def abort(self) -> None:
        """Unblock the worker thread: shut down whichever socket currently carries the session."""
        self.aborted = True
        current = None
        if self.client is not None:
            with contextlib.suppress(Exception):
                current = self.client.socket()
        for sock in (current, self.tls_sock, self.sock):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _client_class(session: Session, sock: socket.socket, context: ssl.SSLContext | None, host: str) -> type[Any]:
    """An IMAPClient that uses the socket mailcfg already connected (TLS-wrapped for implicit TLS)."""

    class _Connected(imaplib.IMAP4):
        def _create_socket(self, timeout: float | None = None) -> socket.socket:
            if context is None:
                return sock
            session.tls_sock = context.wrap_socket(sock, server_hostname=host)
            return session.tls_sock

    class _Client(imapclient.IMAPClient):  # type: ignore[misc]
        def _create_IMAP4(self) -> imaplib.IMAP4:
            return _Connected(host, 0)

    return _Client


def open_session(check: Check, options: VerifyOptions, env: Mapping[str, str], probe: Probe, session: Session) -> Any:
    """DNS, connect, TLS, certificate, capabilities, login and the folder list; returns the logged-in client."""
    host, port = check.host, check.port
    implicit = check.encryption == "ssl"
    probe.start("dns")
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        probe.fail(f"host name does not resolve ({error.strerror})", "check `host`")
    probe.ok(", ".join(sorted({str(a[4][0]) for a in addresses})))
    probe.start("connect")
    sock = session.sock = _connect(probe, addresses, options.timeout)
    probe.ok()
    context = tls.context(options.ca_file)
    probe.start("tls" if implicit else "greeting")
    # One constructor does the implicit TLS handshake and reads the greeting: which one a deadline hit.
    probe.stage_hint = lambda: "greeting" if session.tls_sock is not None or not implicit else "tls"
    try:
        client = _client_class(session, sock, context if implicit else None, host)(
            host, port=port, ssl=implicit, ssl_context=context, timeout=options.timeout
        )
    except (ssl.SSLError, OSError, IMAPClientError, imaplib.IMAP4.error) as error:
        _connect_failed(probe, error, host, implicit, session)
    probe.stage_hint = None
    session.client = client
    probe.ok("TLS and greeting" if implicit else (client.welcome or b"").decode("utf-8", "replace")[:80])
    if implicit:
        _certificate(probe, client, options)
    elif check.encryption == "starttls":
        probe.start("starttls")
        if not client.has_capability("STARTTLS"):
            probe.fail(
                "the server does not offer STARTTLS; mailcfg never falls back to plain text",
                "the server must offer STARTTLS on this port, or use `encryption: ssl` on its TLS port",
            )
        try:
            client.starttls(context)
        except (ssl.SSLError, OSError, IMAPClientError, imaplib.IMAP4.error) as error:
            if tls.is_tls_error(error):
                stage, message, hint = tls.explain(error, host, False)
                probe.start(stage)
                probe.fail(message, hint)
            # STARTTLS was offered and answered; what broke is the conversation after it.
            probe.start("greeting")
            probe.fail(f"unexpected answer around STARTTLS ({_text(error)})", rule="MC502")
        probe.ok()
        _certificate(probe, client, options)
    _login(check, env, probe, client)
    return client


def check_folders(check: Check, probe: Probe, client: Any) -> None:
    probe.start("folders")
    try:
        folders = client.list_folders()
    except IMAPClientError as error:
        probe.fail(f"LIST failed ({_text(error)})")
    names = [name for _, _, name in folders]
    wanted = getattr(check.entry.model, "sent_folder", "Sent")
    if wanted not in names:
        marked = [name for flags, _, name in folders if b"\\Sent" in flags] or [
            client.find_special_folder(imapclient.SENT)
        ]
        suggestion = next((name for name in marked if name), None)
        hint = (
            f"the server marks '{suggestion}' as the Sent folder: `sent_folder: {suggestion}`"
            if suggestion
            else f"folders: {', '.join(names[:12])}"
        )
        probe.fail(f"Sent folder '{wanted}' does not exist", hint, at=("sent_folder",))
    probe.ok(f"{len(names)} folders, Sent folder '{wanted}' found")


def wait_and_delete(client: Any, token: str, deadline: float, stop: threading.Event) -> float | None:
    """Poll INBOX for the tagged message until ``deadline`` (or ``stop``); delete exactly it.

    Returns the time it was found, or None.
    """
    client.select_folder("INBOX")
    while True:
        uids = client.search(["HEADER", PROBE_HEADER, token])
        if uids:
            arrived = time.monotonic()
            _delete(client, uids)
            return arrived
        if time.monotonic() >= deadline or stop.is_set():
            return None
        stop.wait(0.1)
        client.noop()


def delete_probe(client: Any, token: str) -> int:
    """Delete the tagged message if it has arrived by now (cleanup after an interruption); how many."""
    client.select_folder("INBOX")
    uids = client.search(["HEADER", PROBE_HEADER, token])
    if uids:
        _delete(client, uids)
    return len(uids)


def _delete(client: Any, uids: list[int]) -> None:
    client.delete_messages(uids)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def logout(client: Any) -> None:
    """Log out politely, else just drop the connection; a session that broke may fail either way."""
    try:
        client.logout()
    except Exception:  # after a failed check any error here only means "already gone"
        with contextlib.suppress(Exception):
            client.shutdown()


def _connect(probe: Probe, addresses: list[Any], timeout: float) -> socket.socket:
    last: OSError | None = None
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as error:
            sock.close()
            last = error
    if isinstance(last, ConnectionRefusedError):
        probe.fail("connection refused", "is the server running, and is `port` right?")
    if isinstance(last, socket.timeout):
        probe.fail("connection timed out")
    probe.fail(f"cannot connect ({last.strerror if last else 'no address'})")


def _connect_failed(probe: Probe, error: BaseException, host: str, implicit: bool, session: Session) -> None:
    if tls.is_tls_error(error) and not (implicit and session.tls_sock is not None):
        stage, message, hint = tls.explain(error, host, implicit)
        probe.start(stage)
        probe.fail(message, hint)
    probe.start("greeting")  # with implicit TLS the handshake worked: what failed is the greeting
    if isinstance(error, socket.timeout) or session.aborted:
        hint = (
            "the server may be silent or overloaded"
            if implicit
            else ("the server is silent, or this port expects TLS from the first byte: `encryption: ssl`")
        )
        probe.fail("no greeting from the server", hint)
    probe.fail(f"connection failed during the greeting ({_text(error)})")


def _certificate(probe: Probe, client: Any, options: VerifyOptions) -> None:
    certificate_stage(probe, client.socket().getpeercert(), options.cert_warn_days)


def _login(check: Check, env: Mapping[str, str], probe: Probe, client: Any) -> None:
    """Exactly one login attempt: AUTHENTICATE PLAIN when offered (UTF-8 safe), else LOGIN."""
    probe.start("auth")
    login = check.login
    assert login is not None  # imap checks always carry credentials (the schema requires them)
    if check.encryption == "none" and not check.allow_insecure:
        probe.fail(
            "refusing to send credentials over an unencrypted connection",
            "set `allow_insecure: true`",
            login_entry=True,
        )
    password = env.get(login.env, "")
    if not password:  # the static stage stops a run first (MC306); never send an empty password regardless
        probe.fail(f"environment variable {login.env} is not set; nothing sent", login_entry=True)
    try:
        if client.has_capability("AUTH=PLAIN"):
            client.plain_login(login.username, password)
        elif client.has_capability("LOGINDISABLED"):
            probe.fail("the server refuses LOGIN here and offers no AUTH=PLAIN", login_entry=True)
        elif not password.isascii():
            probe.fail(
                "the password has non-ASCII characters, which need AUTH=PLAIN; the server does not offer it",
                login_entry=True,
            )
        else:
            client.login(login.username, password)
    except LoginError as error:
        if isinstance(error.__context__, (OSError, imaplib.IMAP4.abort)) or "socket error" in str(error):
            probe.fail("the server closed the connection during authentication", login_entry=True)
        probe.fail(
            f"authentication as {login.username} rejected ({_text(error)})",
            f"check the password in ${login.env} and the username",
            login_entry=True,
        )
    except (IMAPClientError, imaplib.IMAP4.error) as error:
        probe.fail(f"authentication failed ({_text(error)})", login_entry=True)
    probe.ok(f"logged in as {login.username}")


def _text(error: BaseException) -> str:
    text = str(error)
    return text[:200] if text else type(error).__name__

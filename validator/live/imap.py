"""IMAP checks with imapclient, each in a worker thread that a watchdog can cut loose.

Why imapclient: a well-kept, typed wrapper over imaplib that decodes modified UTF-7 folder names, finds
the RFC 6154 ``\\Sent`` folder (SPECIAL-USE first, then common names), does STARTTLS with our context and
AUTHENTICATE PLAIN with UTF-8 passwords (imaplib's LOGIN cannot send them). It is blocking, so each
session runs in a thread; mailcfg connects the socket itself (separate DNS and connect stages) and keeps
it, so when a check's deadline passes the socket is shut down and the blocked thread returns at once.
A socket in the middle of its TLS handshake cannot be cut that way (the TLS socket does not exist yet), so
the worker also looks whether its check was given up before each step that sends: connect, TLS, login.

Two imaplib traps are closed in the IMAP4 subclass: LOGIN sends the username unquoted (a space splits it, a
line break injects commands), and a literal is read with one ``read(size)`` of whatever size the server
announced, which a buffered read allocates at once (CPython gh-119511).
"""

from __future__ import annotations

import contextlib
import imaplib
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any, Literal, NoReturn

import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from validator.live import pushback, stages, tls
from validator.live.plan import Check, Login
from validator.live.probe import Probe, certificate_stage, refuse_unsendable
from validator.live.result import VerifyOptions
from validator.live.smtp import PROBE_HEADER
from validator.sanitize import has_control

# What a failed imap operation may raise besides OSError.
ERRORS: tuple[type[Exception], ...] = (IMAPClientError, imaplib.IMAP4.error)
# mailcfg reads capabilities, folder names and search results: a literal larger than this is no answer to
# anything it asks (imaplib's own limit for a line is 1,000,000 bytes), and a session reads at most the budget.
MAX_LITERAL = 1 << 20
LITERAL_BUDGET = 8 << 20
_LOGOUT_LOCK = threading.Lock()
# The round trip's wait: polling asks every POLL_INTERVAL; IDLE checks for the end of the wait every IDLE_SLICE
# without a word to the server, and searches again every IDLE_RECHECK in case a notification was missed.
POLL_INTERVAL = 0.1
IDLE_SLICE = 0.25
IDLE_RECHECK = 3.0


class Session:
    """The sockets and client of one check, shared with the watchdog that may abort it."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.tls_sock: ssl.SSLSocket | None = None  # after wrapping, the plain socket object no longer owns the fd
        # The second connection that looks whether a silent port expects TLS; kept plain (the handshake runs on a
        # duplicate), so a shutdown reaches it even in the middle of the handshake.
        self.probe_sock: socket.socket | None = None
        self.client: Any = None
        self.token: str | None = None  # an oauth2 login's access token, from the runner's token stage
        self.aborted = False
        # Taken by abort() and by the worker handing over a socket or client: either abort() sees it and cuts
        # it, or the worker sees the abort and lets go of it itself.
        self._lock = threading.Lock()

    def abort(self) -> None:
        """Unblock the worker thread: shut down whichever socket currently carries the session."""
        with self._lock:
            self.aborted = True
            client, tls_sock, sock, probe_sock = self.client, self.tls_sock, self.sock, self.probe_sock
        current = None
        if client is not None:
            with contextlib.suppress(Exception):
                current = client.socket()
        for each in (current, tls_sock, sock, probe_sock):
            if each is not None:
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)

    def attach(self, name: str, value: Any) -> bool:
        """Hand the socket or client ``name`` to the watchdog; False if it has given up on the check already."""
        with self._lock:
            if self.aborted:
                return False
            setattr(self, name, value)
            return True

    def checkpoint(self, probe: Probe, client: Any = None) -> None:
        """Go no further if the check was given up (its deadline passed during a step that could not be cut,
        such as a TLS handshake): nobody waits for this thread any more, and a login now would be unreported.
        ``client`` is logged out from here: the watchdog may have let go of the session before it existed."""
        if not self.aborted:
            return
        if client is not None:
            logout(client)
        probe.fail("stopped: the check had been given up")  # the probe is closed: this only ends the thread


def _client_class(session: Session, sock: socket.socket, context: ssl.SSLContext | None, host: str) -> type[Any]:
    """An IMAPClient that uses the socket mailcfg already connected (TLS-wrapped for implicit TLS)."""

    class _Connected(imaplib.IMAP4):
        def __init__(self, host: str, port: int) -> None:
            self.literal_bytes = 0
            super().__init__(host, port)

        def _create_socket(self, timeout: float | None = None) -> socket.socket:
            if context is None:
                return sock
            tls_sock = context.wrap_socket(sock, server_hostname=host)
            if not session.attach("tls_sock", tls_sock):  # the deadline passed during the handshake
                tls_sock.close()
                raise OSError("the check was given up during the TLS handshake")
            return tls_sock

        def login(self, user: str, password: str) -> tuple[Literal["OK"], list[bytes]]:
            # imaplib quotes the password only: the username went out as is.
            typ, data = self._simple_command("LOGIN", quoted(user), quoted(password))
            if typ != "OK":
                raise self.error(_text_of(data[-1]))
            self.state = "AUTH"
            return "OK", data

        def read(self, size: int) -> bytes:
            # Only literals are read this way; refuse one before imaplib allocates what the server announced.
            self.literal_bytes += size
            if size > MAX_LITERAL or self.literal_bytes > LITERAL_BUDGET:
                raise self.abort(
                    f"the server announced a literal of {size:,} bytes; mailcfg reads at most {MAX_LITERAL:,}"
                )
            return super().read(size)

    class _Client(imapclient.IMAPClient):  # type: ignore[misc]
        def _create_IMAP4(self) -> imaplib.IMAP4:
            return _Connected(host, 0)

    return _Client


def open_session(check: Check, options: VerifyOptions, env: Mapping[str, str], probe: Probe, session: Session) -> Any:
    """DNS, connect, TLS, certificate, capabilities, login and the folder list; returns the logged-in client."""
    host, port = check.host, check.port
    implicit = check.encryption == "ssl"
    with stages.dns(probe) as addresses:
        addresses.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    probe.start("connect")
    session.checkpoint(probe)
    sock = _connect(probe, addresses, options.timeout)
    if not session.attach("sock", sock):
        sock.close()
        session.checkpoint(probe)
    probe.ok()
    context = tls.context(options.ca_file)
    probe.start("tls" if implicit else "greeting")
    # One constructor does the implicit TLS handshake and reads the greeting: which one a deadline hit.
    probe.stage_hint = lambda: "greeting" if session.tls_sock is not None or not implicit else "tls"
    if not implicit:
        _refuse_implicit_tls_port(check, options, probe, session, sock)
    try:
        client = _client_class(session, sock, context if implicit else None, host)(
            host, port=port, ssl=implicit, ssl_context=context, timeout=options.timeout
        )
    except (ssl.SSLError, OSError, IMAPClientError, imaplib.IMAP4.error) as error:
        sock.close()
        session.checkpoint(probe)
        _connect_failed(probe, error, host, implicit, session)
    probe.stage_hint = None
    if not session.attach("client", client):
        session.checkpoint(probe, client)
    probe.ok("TLS and greeting" if implicit else probe.outside(client.welcome or b"", "greeting", limit=80))
    if implicit:
        _certificate(probe, client, options)
    elif check.encryption == "starttls":
        stages.starttls(probe, client.has_capability("STARTTLS"))
        session.checkpoint(probe, client)
        try:
            client.starttls(context)
        except (ssl.SSLError, OSError, IMAPClientError, imaplib.IMAP4.error) as error:
            stages.tls_failed(probe, error, host, False)
            # STARTTLS was offered and answered; what broke is the conversation after it.
            probe.start("greeting")
            probe.fail(f"unexpected answer around STARTTLS ({_text(probe, error)})", rule="MC502")
        probe.ok()
        _certificate(probe, client, options)
    _login(check, env, probe, client, session)
    return client


def check_folders(check: Check, probe: Probe, client: Any) -> None:
    probe.start("folders")
    try:
        folders = client.list_folders()
    except IMAPClientError as error:
        probe.fail(f"LIST failed ({_text(probe, error)})")
    names = [name for _, _, name in folders]
    wanted = getattr(check.entry.model, "sent_folder", "Sent")
    shown = probe.outside(wanted, "folder name", cut=False)
    if wanted not in names:
        marked = [name for flags, _, name in folders if b"\\Sent" in flags] or [
            client.find_special_folder(imapclient.SENT)
        ]
        suggestion = next((probe.outside(name, "folder name") for name in marked if name), None)
        hint = (
            f"the server marks '{suggestion}' as the Sent folder: `sent_folder: {suggestion}`"
            if suggestion
            else f"folders: {probe.outside(', '.join(names[:12]), 'folder list')}"
        )
        probe.fail(f"Sent folder '{shown}' does not exist", hint, at=("sent_folder",))
    probe.ok(f"{len(names)} folders, Sent folder '{shown}' found")


def wait_and_delete(client: Any, token: str, deadline: float, stop: threading.Event) -> tuple[float, str] | None:
    """Wait in INBOX for the tagged message until ``deadline`` (or ``stop``); delete exactly it.

    With IDLE (RFC 2177) where the server offers it: the session stays quiet until the server says a message
    arrived (Dovecot says so 0.5 s after the change, batching changes). Else, or when the server refuses the IDLE
    it offered, SEARCH and NOOP every POLL_INTERVAL. Returns the time it was found and how it was waited for
    (``IDLE`` or ``polling``), or None.
    """
    client.select_folder("INBOX")
    how = "IDLE" if client.has_capability("IDLE") else "polling"
    while True:
        _news(client)  # what came before this SEARCH is in its answer
        uids = client.search(["HEADER", PROBE_HEADER, token])
        if uids:
            arrived = time.monotonic()
            _delete(client, uids)
            return arrived, how
        if time.monotonic() >= deadline or stop.is_set():
            return None
        if how == "IDLE" and not _idle(client, min(deadline, time.monotonic() + IDLE_RECHECK), stop):
            how = "polling"  # offered, but refused when asked
        if how == "polling":
            stop.wait(POLL_INTERVAL)
            client.noop()


def _idle(client: Any, until: float, stop: threading.Event) -> bool:
    """IDLE until the server announces a message (EXISTS or RECENT), ``until`` or ``stop``; then DONE. False when
    the server refused the IDLE command itself (it answered with a tagged NO or BAD instead of a continuation).

    The wait is cut into IDLE_SLICE pieces, so ``stop`` (an interrupted run that wants to clean up with this very
    session) is seen at once. A message that arrived while SEARCH ran is announced with SEARCH's answer, which
    imaplib keeps aside: then no IDLE at all. And IDLE is left every IDLE_RECHECK seconds to SEARCH again, in case
    a notification was missed (a line imaplib had already buffered is invisible to the socket poll).
    """
    if _news(client):
        return True
    try:
        client.idle()
    except IMAPClientError:
        return False
    try:
        while not stop.is_set():
            left = until - time.monotonic()
            if left <= 0:
                break
            slice_ = min(IDLE_SLICE, left)
            began = time.monotonic()
            responses = client.idle_check(timeout=slice_)
            if any(len(item) > 1 and item[1] in (b"EXISTS", b"RECENT") for item in responses):
                break
            if not responses and time.monotonic() - began < slice_ / 2:
                # idle_check returns at once with nothing only when the connection has ended (EOF).
                raise imaplib.IMAP4.abort("the connection closed during IDLE")
    finally:
        client.idle_done()
    return True


def _news(client: Any) -> bool:
    """Whether the server announced new messages (EXISTS) with another command's answer since the last look;
    forgets the announcement. imaplib keeps such untagged responses in ``untagged_responses``."""
    return client._imap.untagged_responses.pop("EXISTS", None) is not None


def delete_probe(client: Any, token: str) -> int:
    """Delete the tagged message if it has arrived by now (cleanup after an interruption); how many."""
    client.select_folder("INBOX")
    uids = client.search(["HEADER", PROBE_HEADER, token])
    if uids:
        _delete(client, uids)
    return len(uids)


def _delete(client: Any, uids: list[int]) -> None:
    """Delete the probe message and nothing else.

    A plain EXPUNGE removes every message flagged \\Deleted in INBOX, the user's own among them (their client
    may not have expunged yet). So the probe message is expunged alone with UID EXPUNGE where UIDPLUS offers
    it; elsewhere it is only flagged \\Deleted, and the user's client or the server expunges it in time.
    """
    client.delete_messages(uids)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)


def logout(client: Any) -> None:
    """Log out politely, else just drop the connection; a session that broke may fail either way.

    Once per client: the watchdog and a worker that finds its check given up may both try.
    """
    with _LOGOUT_LOCK:
        if getattr(client, "mailcfg_closed", False):
            return
        client.mailcfg_closed = True
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
    stages.connect_failed(probe, last, socket_timeout=True)


def _refuse_implicit_tls_port(
    check: Check, options: VerifyOptions, probe: Probe, session: Session, sock: socket.socket
) -> None:
    """Fail at once (MC503) when a plain-text mode meets a port that expects TLS from the first byte.

    Such a port says nothing until the client's TLS hello, so the check would wait for a greeting until its
    deadline and end in advice to raise it. After a short silence, a TLS handshake on a second connection tells an
    implicit-TLS port from a slow or silent server; a greeting that came meanwhile still wins.
    """
    silence = tls.silence(options.timeout)
    if _said_something(sock, silence, options.timeout):
        return
    session.checkpoint(probe)
    if not _answers_tls(sock, check.host, options, session, silence) or _said_something(sock, 0, options.timeout):
        return
    sock.close()
    message, hint = tls.implicit_port("imap", check.encryption, check.port, silence)
    probe.fail(message, hint, rule="MC503")


def _said_something(sock: socket.socket, seconds: float, timeout: float) -> bool:
    """Whether the server has sent anything (or closed) within ``seconds``; nothing is consumed (MSG_PEEK)."""
    sock.settimeout(seconds)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except (TimeoutError, BlockingIOError):  # BlockingIOError: ``seconds`` 0 makes the socket non-blocking
        return False
    except OSError:
        pass  # a reset or a cut: the greeting read will report it
    finally:
        sock.settimeout(timeout)
    return True


def _answers_tls(sock: socket.socket, host: str, options: VerifyOptions, session: Session, seconds: float) -> bool:
    """Whether the address ``sock`` is connected to answers a TLS handshake within ``seconds`` on a second
    connection; nothing but the TLS hello is sent, and the connection is dropped at once."""
    second = socket.socket(sock.family, sock.type, sock.proto)
    if not session.attach("probe_sock", second):
        second.close()
        return False
    deadline = time.monotonic() + seconds
    try:
        second.settimeout(seconds)
        second.connect(sock.getpeername())
        # On a duplicate: wrapping detaches the socket object, and the watchdog must still be able to cut it.
        handshake = second.dup()
        handshake.settimeout(max(deadline - time.monotonic(), 0.01))
        tls.context(options.ca_file).wrap_socket(handshake, server_hostname=host).close()
    except OSError as error:  # ssl.SSLError and socket.timeout are
        return tls.answered(error)
    finally:
        session.probe_sock = None
        second.close()
    return True


def _connect_failed(probe: Probe, error: BaseException, host: str, implicit: bool, session: Session) -> NoReturn:
    if not (implicit and session.tls_sock is not None):
        stages.tls_failed(probe, error, host, implicit)
    if isinstance(error, socket.timeout) or session.aborted:
        probe.start("greeting")  # with implicit TLS the handshake worked: what failed is the greeting
        stages.silent(probe, implicit)
    text = _text(probe, error)
    stages.greeting_failed(probe, text, pushback.cut_off(error) or pushback.imap_greeting(text))


def _certificate(probe: Probe, client: Any, options: VerifyOptions) -> None:
    certificate_stage(probe, client.socket().getpeercert(), options.cert_warn_days)


def _login(check: Check, env: Mapping[str, str], probe: Probe, client: Any, session: Session) -> None:
    """Exactly one login attempt: AUTHENTICATE PLAIN when offered (UTF-8 safe), else LOGIN with both values as
    quoted strings; never a value with a control character, nor after the check was given up."""
    probe.start("auth")
    login = check.login
    assert login is not None  # imap checks always carry credentials (the schema requires them)
    if login.oauth2 is not None:
        _bearer_login(check, login, probe, client, session)
        return
    stages.refuse_unencrypted(probe, check)
    password = stages.password(probe, login, env)
    username = probe.username(login.username)
    session.checkpoint(probe, client)
    try:
        if client.has_capability("AUTH=PLAIN"):
            client.plain_login(login.username, password)
        elif client.has_capability("LOGINDISABLED"):
            probe.fail("the server refuses LOGIN here and offers no AUTH=PLAIN", login_entry=True)
        elif not (password.isascii() and login.username.isascii()):
            probe.fail(
                "the username or password has non-ASCII characters, which need AUTH=PLAIN; the server does not"
                " offer it; nothing sent",
                login_entry=True,
            )
        else:
            client.login(login.username, password)
    except LoginError as error:
        _refused_for_now(probe, error)
        if isinstance(error.__context__, (OSError, imaplib.IMAP4.abort)) or "socket error" in str(error):
            probe.fail("the server closed the connection during authentication", login_entry=True)
        stages.rejected(probe, login, _text(probe, error))
    except (IMAPClientError, imaplib.IMAP4.error) as error:
        probe.fail(f"authentication failed ({_text(probe, error)})", login_entry=True)
    session.checkpoint(probe, client)  # given up during the login: log out at once
    probe.ok(f"logged in as {username}")


def _refused_for_now(probe: Probe, error: BaseException) -> None:
    """A login refused with ``[UNAVAILABLE]`` or ``[LIMIT]`` is throttling, not a wrong password: push-back,
    never tried again (the credentials went out)."""
    text = _text(probe, error)
    if pushback.imap_login(text):
        pushback.refuse(
            probe, f"the server refused the login for now ({text})", credentials_sent=True, login_entry=True
        )


def _bearer_login(check: Check, login: Login, probe: Probe, client: Any, session: Session) -> None:
    """One AUTHENTICATE with the access token the token stage got (XOAUTH2 or OAUTHBEARER)."""
    token = session.token
    assert token is not None  # the runner's token stage ran first
    stages.refuse_cleartext_token(probe, check)
    refuse_unsendable(probe, login.username, token)
    offered = {str(c, "ascii", "replace").upper()[5:] for c in client.capabilities() if c.upper().startswith(b"AUTH=")}
    mechanism = stages.mechanism(probe, login, offered)
    session.checkpoint(probe, client)
    try:
        if mechanism == "XOAUTH2":
            client.oauth2_login(login.username, token)
        else:
            client.oauthbearer_login(login.username, token)
    except LoginError as error:
        _refused_for_now(probe, error)
        if isinstance(error.__context__, (OSError, imaplib.IMAP4.abort)) or "socket error" in str(error):
            probe.fail("the server closed the connection during authentication", login_entry=True)
        stages.token_rejected(probe, login, _text(probe, error), "imap")
    except (IMAPClientError, imaplib.IMAP4.error) as error:
        probe.fail(f"authentication failed ({_text(probe, error)})", login_entry=True)
    session.checkpoint(probe, client)
    probe.ok(f"logged in as {probe.username(login.username)} ({mechanism})")


def quoted(text: str) -> str:
    """``text`` as an IMAP quoted string (RFC 3501: backslash and double quote escaped).

    A quoted string holds no CR, LF or NUL and, without UTF8=ACCEPT, only ASCII. The login refuses such values
    with a finding first; this is the guard at the wire, whatever calls it.
    """
    if has_control(text) or not text.isascii():
        raise ValueError("a control or non-ASCII character cannot go into an IMAP quoted string")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text_of(data: Any) -> str:
    """Server bytes as text (imaplib raises its errors with the bytes themselves, printed as a repr)."""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)


def _text(probe: Probe, error: BaseException) -> str:
    return probe.outside(str(error), "server reply") if str(error) else type(error).__name__

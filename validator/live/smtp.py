"""SMTP checks with aiosmtplib.

Why aiosmtplib: asyncio-native, so hundreds of checks share one thread and ``asyncio.wait_for`` bounds a
whole check (smtplib's timeout bounds single socket operations only: a server trickling its banner held
it for as long as it liked); every reply is bounded too; it takes an already connected socket, which
lets DNS, connect and TLS be timed and reported as separate stages. Its traps are avoided on purpose:
``start_tls=False`` (the default is opportunistic and sent a password in clear to a server without
STARTTLS), EHLO again after STARTTLS, and exactly one AUTH mechanism (its ``login()`` retries others).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import uuid
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib

from validator.live import pushback, stages, tls
from validator.live.plan import Check, Login
from validator.live.probe import Probe, certificate_stage, refuse_unsendable
from validator.live.result import VerifyOptions

EHLO_NAME = "localhost"
PROBE_HEADER = "X-Mailcfg-Probe"


async def check(
    check: Check, options: VerifyOptions, env: Mapping[str, str], probe: Probe, token: str | None = None
) -> None:
    """The smtp entry's own check: connect, TLS, certificate, AUTH and, with --send-test, a test message.

    ``token``: the access token of an oauth2 login (the runner's token stage got it)."""
    smtp = await open_session(probe, check.host, check.port, check.encryption, options)
    try:
        if check.auth_required:
            if check.login is None:
                probe.skip("auth", "no credentials to log in with: no imap account sends through this entry")
            else:
                await authenticate(probe, smtp, check, check.login, env, token)
        if check.send_to:
            probe.start("send")
            token = uuid.uuid4().hex
            sender = check.login.username if check.login and "@" in check.login.username else check.send_to
            message = compose(sender, check.send_to, "mailcfg test message", token)
            try:
                await smtp.send_message(message)
            except aiosmtplib.SMTPRecipientsRefused as error:
                probe.fail(
                    f"test recipient {check.send_to} refused: {_reply(probe, error.recipients[0])}",
                    "check `test_recipient`",
                    at=("test_recipient",),
                )
            except aiosmtplib.SMTPResponseException as error:
                probe.fail(f"test message refused: {_reply(probe, error)}", at=("test_recipient",))
            probe.ok(f"test message accepted for {check.send_to}")
    finally:
        await close(smtp)


async def open_session(probe: Probe, host: str, port: int, encryption: str, options: VerifyOptions) -> Any:
    """A connected, TLS-protected (unless ``none``), EHLO-greeted client; each step a stage."""
    loop = asyncio.get_running_loop()
    with stages.dns(probe) as addresses:
        addresses.extend(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    probe.start("connect")
    sock = await _connect(probe, addresses)
    probe.ok()
    implicit = encryption == "ssl"
    context = tls.context(options.ca_file)
    client = aiosmtplib.SMTP(
        hostname=host,
        port=None,
        sock=sock,
        use_tls=implicit,
        start_tls=False,
        tls_context=context,
        timeout=options.timeout,
        local_hostname=EHLO_NAME,
    )
    probe.start("tls" if implicit else "greeting")
    # With implicit TLS one call does the handshake and reads the greeting. The client has a transport once
    # the handshake is done but drops it when cancelled, so a watcher latches the moment for the deadline.
    handshake = asyncio.Event()
    watcher = asyncio.create_task(_watch_handshake(client, handshake)) if implicit else None
    probe.stage_hint = lambda: "greeting" if handshake.is_set() or not implicit else "tls"
    try:
        await _greet(probe, client, sock, host, port, encryption, options)
        probe.ok("TLS and greeting" if implicit else "")
    except (aiosmtplib.SMTPConnectTimeoutError, aiosmtplib.SMTPTimeoutError, asyncio.TimeoutError):
        sock.close()
        probe.start(probe.stage_hint())
        stages.silent(probe, implicit)
    except (aiosmtplib.SMTPException, OSError) as error:
        sock.close()
        if not handshake.is_set():
            stages.tls_failed(probe, error, host, implicit)
        code = error.code if isinstance(error, aiosmtplib.SMTPResponseException) else None
        pushed = pushback.cut_off(error) or pushback.smtp_reply(code, getattr(error, "message", ""))
        stages.greeting_failed(probe, _reply(probe, error), pushed)
    finally:
        if watcher is not None:
            watcher.cancel()
    # Cleared only here: a deadline cancels this coroutine and must still find the hint.
    probe.stage_hint = None
    if implicit:
        _certificate(probe, client, options)
    probe.start("ehlo")
    try:
        await client.ehlo()
    except aiosmtplib.SMTPException as error:
        probe.fail(f"EHLO refused ({_reply(probe, error)})")
    probe.ok()
    if encryption == "starttls":
        stages.starttls(probe, client.supports_extension("starttls"))
        try:
            await client.starttls(tls_context=context)
        except (aiosmtplib.SMTPException, OSError) as error:
            stages.tls_failed(probe, error, host, False)
            probe.fail(f"STARTTLS failed ({_reply(probe, error)})")
        probe.ok()
        _certificate(probe, client, options)
        probe.start("ehlo")
        try:
            await client.ehlo()  # capabilities change after STARTTLS; AUTH before a new EHLO gets 503
        except (aiosmtplib.SMTPException, OSError) as error:
            probe.fail(f"EHLO after STARTTLS failed ({_reply(probe, error)})")
        probe.ok("again after STARTTLS")
    return client


async def _greet(
    probe: Probe, client: Any, sock: socket.socket, host: str, port: int, encryption: str, options: VerifyOptions
) -> None:
    """``client.connect()``: the greeting (after the handshake, for implicit TLS).

    In a plain-text mode, a server still silent after a short while gets a TLS handshake on a second connection
    meanwhile: an implicit-TLS port says nothing until the client's TLS hello, and would otherwise hold the
    check until its deadline and end in advice to raise it. A greeting that comes during the probe still wins.
    """
    connecting = asyncio.ensure_future(client.connect())
    try:
        if encryption != "ssl":
            silence = tls.silence(options.timeout)
            done, _ = await asyncio.wait({connecting}, timeout=silence)
            if not done and await _answers_tls(sock, host, options, silence) and not connecting.done():
                connecting.cancel()
                await asyncio.wait({connecting})  # aiosmtplib closes its transport when cancelled: let it
                sock.close()
                message, hint = tls.implicit_port("smtp", encryption, port, silence)
                probe.fail(message, hint, rule="MC503")
        await connecting
    finally:
        connecting.cancel()  # a deadline or Ctrl-C cancels this coroutine: the connection attempt goes with it


async def _answers_tls(sock: socket.socket, host: str, options: VerifyOptions, seconds: float) -> bool:
    """Whether the address ``sock`` is connected to answers a TLS handshake within ``seconds`` on a second
    connection; nothing but the TLS hello is sent, and the connection is dropped at once."""
    second = socket.socket(sock.family, sock.type, sock.proto)
    second.setblocking(False)
    with contextlib.closing(second):  # the transport closes it too on every path: closing twice is harmless
        try:
            transport = await asyncio.wait_for(_handshake(second, sock, host, options), seconds)
        except OSError as error:  # asyncio.TimeoutError is one
            return tls.answered(error)
        transport.abort()
        return True


async def _handshake(second: socket.socket, first: socket.socket, host: str, options: VerifyOptions) -> Any:
    loop = asyncio.get_running_loop()
    await loop.sock_connect(second, first.getpeername())
    transport, _ = await loop.create_connection(
        asyncio.Protocol, sock=second, ssl=tls.context(options.ca_file), server_hostname=host
    )
    return transport


async def authenticate(
    probe: Probe, client: Any, check: Check, login: Login, env: Mapping[str, str], token: str | None = None
) -> None:
    """Exactly one AUTH attempt with one mechanism: a rejected password (or token) is never retried."""
    probe.start("auth")
    if login.oauth2 is not None:
        assert token is not None
        await _bearer(probe, client, check, login, token)
        return
    stages.refuse_unencrypted(probe, check)
    if not client.supports_extension("auth"):
        probe.fail("the server offers no AUTH", login_entry=True)
    methods = [m.lower() for m in client.server_auth_methods]
    # Base64 would carry a line break safely, but NUL reshapes AUTH PLAIN, and the username is also the sender.
    password = stages.password(probe, login, env)
    username = probe.username(login.username)
    try:
        if "plain" in methods:
            await client.auth_plain(login.username, password)
        elif "login" in methods:
            await client.auth_login(login.username, password)
        else:
            offered = probe.outside(", ".join(methods) or "none", "mechanism list")
            probe.fail(f"no supported AUTH mechanism (server offers {offered})", login_entry=True)
    except aiosmtplib.SMTPResponseException as error:  # SMTPAuthenticationError (a 535, or any other refusal) too
        if pushback.smtp_reply(error.code, error.message):  # 421, 454 4.7.0: "not now", not a wrong password
            pushback.refuse(
                probe,
                f"the server refused the login for now ({_reply(probe, error)})",
                credentials_sent=True,
                login_entry=True,
            )
        if isinstance(error, aiosmtplib.SMTPAuthenticationError):
            stages.rejected(probe, login, _reply(probe, error))
        probe.fail(f"authentication failed ({_reply(probe, error)})", login_entry=True)
    except (aiosmtplib.SMTPException, OSError) as error:
        probe.fail(f"the server closed the connection during authentication ({_reply(probe, error)})", login_entry=True)
    probe.ok(f"logged in as {username}")


async def _bearer(probe: Probe, client: Any, check: Check, login: Login, token: str) -> None:
    """AUTH XOAUTH2 (aiosmtplib's) or OAUTHBEARER (RFC 7628, its short exchange written here) with ``token``."""
    stages.refuse_cleartext_token(probe, check)
    refuse_unsendable(probe, login.username, token)
    if not client.supports_extension("auth"):
        probe.fail("the server offers no AUTH", login_entry=True)
    mechanism = stages.mechanism(probe, login, {m.upper() for m in client.server_auth_methods})
    try:
        if mechanism == "XOAUTH2":
            await client.auth_xoauth2(login.username, token)
        else:
            await _oauthbearer(client, login.username, check.host, check.port, token)
    except aiosmtplib.SMTPAuthenticationError as error:
        stages.token_rejected(probe, login, _reply(probe, error), "smtp")
    except aiosmtplib.SMTPResponseException as error:
        probe.fail(f"authentication failed ({_reply(probe, error)})", login_entry=True)
    except (aiosmtplib.SMTPException, OSError) as error:
        probe.fail(f"the server closed the connection during authentication ({_reply(probe, error)})", login_entry=True)
    probe.ok(f"logged in as {probe.username(login.username)} ({mechanism})")


async def _oauthbearer(client: Any, username: str, host: str, port: int, token: str) -> None:
    """RFC 7628: one message; a failure comes as a 334 challenge (JSON) that the client answers with ^A."""
    identity = username.replace("=", "=3D").replace(",", "=2C")
    message = f"n,a={identity},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
    encoded = base64.b64encode(message.encode("utf-8"))
    response = await client.execute_command(b"AUTH", b"OAUTHBEARER", encoded)
    if response.code == 334:
        response = await client.execute_command(base64.b64encode(b"\x01"))
    if response.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


async def send_probe(probe: Probe, client: Any, sender: str, recipient: str, token: str) -> tuple[bool, str]:
    """Send the round-trip message; (accepted, server reply or refusal, ready to print) without failing the probe."""
    message = compose(sender, recipient, f"mailcfg round-trip {token}", token)
    try:
        errors, reply = await client.send_message(message)
    except aiosmtplib.SMTPRecipientsRefused as error:
        return False, _reply(probe, error.recipients[0])
    except aiosmtplib.SMTPResponseException as error:
        return False, _reply(probe, error)
    if errors:
        return False, probe.outside("; ".join(f"{rcpt}: {_reply(probe, err)}" for rcpt, err in errors.items()))
    return True, _reply(probe, reply)


def compose(sender: str, recipient: str, subject: str, token: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    # Not make_msgid()'s default domain: that is the runner's host name, which is no business of the recipient.
    message["Message-ID"] = make_msgid("mailcfg", domain="mailcfg.invalid")
    message[PROBE_HEADER] = token
    message.set_content("This message was sent by `mailcfg verify` to check an account. It can be deleted.\n")
    return message


async def _connect(probe: Probe, addresses: list[Any]) -> socket.socket:
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address)
            return sock
        except OSError as error:
            sock.close()
            last = error
    stages.connect_failed(probe, last)


def _certificate(probe: Probe, client: Any, options: VerifyOptions) -> None:
    transport = client.transport
    certificate_stage(probe, transport.get_extra_info("peercert") if transport else None, options.cert_warn_days)


async def _watch_handshake(client: Any, done: asyncio.Event) -> None:
    while client.transport is None:
        await asyncio.sleep(0.01)
    done.set()


def _reply(probe: Probe, error: object) -> str:
    """A server's reply (or an error carrying one), ready to print: one line, scrubbed (it may echo input)."""
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    text = f"{code} {message}".strip() if isinstance(code, int) and code > 0 else str(message)
    return probe.outside(text)


async def close(client: Any) -> None:
    """QUIT politely within 2 s, else drop the connection."""
    try:
        if client.is_connected:
            await asyncio.wait_for(client.quit(), 2)
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
        client.close()

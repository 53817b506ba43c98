"""The stages both protocols go through, decided once.

smtp.py (asyncio) and imap.py (worker threads) do the I/O their own way: resolving, connecting, reading
capabilities, handshakes. What came of it is handed here, which records the stage's outcome or failure with
the same words for both protocols: DNS, connect failures, TLS failures, a silent server, a missing STARTTLS,
and what must hold before credentials are sent. The certificate stage is shared too:
:func:`validator.live.probe.certificate_stage`.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

from validator.contacts import with_contact
from validator.live import pushback, tls
from validator.live.plan import Check, Login
from validator.live.probe import Probe, refuse_unsendable


@contextlib.contextmanager
def dns(probe: Probe) -> Iterator[list[Any]]:
    """The dns stage around the caller's ``getaddrinfo``, whose results go into the list it is given."""
    probe.start("dns")
    addresses: list[Any] = []
    try:
        yield addresses
    except socket.gaierror as error:
        probe.fail(f"host name does not resolve ({error.strerror})", "check `host`")
    probe.ok(", ".join(sorted({str(a[4][0]) for a in addresses})))


def connect_failed(probe: Probe, last: OSError | None, socket_timeout: bool = False) -> NoReturn:
    """Fail the connect stage after every address refused or failed; ``last`` is the last address's error.

    ``socket_timeout``: the connect ran with a socket timeout (imap's worker threads), and one that ran out is
    reported as such; smtp's connect is bounded by the check's deadline alone, and reports the system's own
    connect timeout like any other error, with its reason.
    """
    if isinstance(last, ConnectionRefusedError):
        # Push-back only from a host that has answered in this run (the runner decides): else the server is down.
        pushback.refuse(probe, "connection refused", "is the server running, and is `port` right?", refused=True)
    if isinstance(last, (ConnectionResetError, ConnectionAbortedError)):
        pushback.refuse(probe, f"connection reset ({last.strerror})")
    if socket_timeout and isinstance(last, socket.timeout):
        probe.fail("connection timed out")
    probe.fail(f"cannot connect ({last.strerror if last else 'no address'})")


def tls_failed(probe: Probe, error: BaseException, host: str, implicit: bool) -> None:
    """When ``error`` comes from TLS, fail at the stage it belongs to (tls or certificate); else return."""
    if tls.is_tls_error(error):
        stage, message, hint = tls.explain(error, host, implicit)
        probe.start(stage)
        probe.fail(message, hint)


def silent(probe: Probe, implicit: bool) -> NoReturn:
    """Fail the current stage (greeting, or tls for an implicit-TLS handshake) of a server that said nothing."""
    if implicit:
        hint = "the server may be silent or overloaded"
    else:
        hint = "the server is silent, or this port expects TLS from the first byte: `encryption: ssl`"
    probe.fail("no greeting from the server" if probe.current == "greeting" else "no TLS handshake", hint)


def greeting_failed(probe: Probe, reply: str, pushed: bool = False) -> NoReturn:
    """The connection broke during the greeting; ``reply`` is the error, ready to print. ``pushed``: the server
    refused the session for now (an IMAP ``* BYE``, an SMTP 421 or 4.7.x greeting, a reset), before any login."""
    probe.start("greeting")
    if pushed:
        pushback.refuse(probe, f"the server refused the session before the login ({reply})")
    probe.fail(f"connection failed during the greeting ({reply})")


def starttls(probe: Probe, offered: bool) -> None:
    """Start the starttls stage; fail it when the server does not offer STARTTLS."""
    probe.start("starttls")
    if not offered:
        probe.fail(
            "the server does not offer STARTTLS; mailcfg never falls back to plain text",
            "the server must offer STARTTLS on this port, or use `encryption: ssl` on its TLS port",
        )


def refuse_unencrypted(probe: Probe, check: Check) -> None:
    """Fail the auth stage when credentials would go over an unencrypted connection not allowed to carry them."""
    if check.encryption == "none" and not check.allow_insecure:
        probe.fail(
            "refusing to send credentials over an unencrypted connection",
            "set `allow_insecure: true`",
            login_entry=True,
        )


def password(probe: Probe, login: Login, env: Mapping[str, str]) -> str:
    """The password to send for ``login``; the auth stage fails instead when it is unset or cannot be sent."""
    value = env.get(login.env, "")
    if not value:  # the static stage stops a run first (MC306); never send an empty password regardless
        probe.fail(f"{login.ref('password').shown} is not set; nothing sent", login_entry=True)
    refuse_unsendable(probe, login.username, value)
    return value


def rejected(probe: Probe, login: Login, reply: str) -> NoReturn:
    """The server refused the username and password; ``reply`` is its answer, ready to print. The hint names who
    can enter the password (the credentials' `contact`)."""
    probe.fail(
        f"authentication as {probe.username(login.username)} rejected ({reply})",
        with_contact(
            f"check the password in {login.ref('password').short} and the username", login.entry.model.credentials
        ),
        login_entry=True,
    )


def refuse_cleartext_token(probe: Probe, check: Check) -> None:
    """A bearer token never crosses an unencrypted connection, whatever `allow_insecure` says (RFC 6750 5.3)."""
    if check.encryption == "none":
        probe.fail(
            "refusing to send an OAuth2 access token over an unencrypted connection",
            "use `encryption: starttls` or `ssl`; `allow_insecure` does not cover bearer tokens",
            login_entry=True,
        )


def mechanism(probe: Probe, login: Login, offered: set[str]) -> str:
    """The SASL mechanism to log in with ``login``'s token (upper case); fails when the server lacks it."""
    assert login.oauth2 is not None
    wanted = login.oauth2.mechanism.upper()
    if wanted in offered:
        return wanted
    other = "OAUTHBEARER" if wanted == "XOAUTH2" else "XOAUTH2"
    listing = probe.outside(", ".join(sorted(offered)) or "none", "mechanism list")
    probe.fail(
        f"the server does not offer {wanted} (it offers {listing}); nothing sent",
        f"the server offers {other}: `mechanism: {other.lower()}`"
        if other in offered
        else "the server takes no OAuth2 login here; check `host` and `port`",
        login_entry=True,
    )


def token_rejected(probe: Probe, login: Login, reply: str, protocol: str) -> NoReturn:
    """The server refused the access token (MC507), with the usual causes at the large providers and who can renew
    the login (the credentials' `contact`)."""
    assert login.oauth2 is not None
    if protocol == "smtp":
        causes = (
            "the token lacks SMTP.Send (delegated) or SMTP.SendAsApp (app-only), SMTP AUTH is disabled for the"
            " mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false), or the app is not granted the mailbox"
        )
    else:
        causes = (
            "the token lacks IMAP.AccessAsUser.All (delegated) or IMAP.AccessAsApp (app-only), the app's service"
            " principal has no FullAccess to the mailbox, or the username is not the mailbox the token is for"
        )
    probe.fail(
        f"the server refused the OAuth2 token for {probe.username(login.username)} ({reply})",
        with_contact(causes, login.entry.model.credentials, "renew"),
        login_entry=True,
    )

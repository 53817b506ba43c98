"""TLS for both protocols: one verifying context, certificate expiry, and what a TLS error means."""

from __future__ import annotations

import ssl
import time
from functools import lru_cache
from typing import Any

from validator.sanitize import one_line

CERT_HINT = "pass --ca-file PEM if the server uses a private CA"
# The longest a plain-text port may stay silent before mailcfg looks whether it expects TLS instead: a real
# greeting comes within milliseconds, and an implicit-TLS server says nothing until the client's TLS hello.
SILENCE_SECONDS = 3.0
# OpenSSL's reasons for a handshake answered by a TLS alert: the server spoke TLS, it only refused something.
_ALERT = "ALERT"


@lru_cache(maxsize=8)
def context(ca_file: str | None) -> ssl.SSLContext:
    """Verifying context: the system trust store plus ``ca_file``; host names checked; TLS 1.2 or newer.

    Cached: loading the trust store costs more CPU than a whole IMAPS login, and one context serves all.
    """
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def not_after(peercert: Any) -> float | None:
    """The certificate's notAfter as a Unix time, from ``getpeercert()``'s dict."""
    if not isinstance(peercert, dict) or "notAfter" not in peercert:
        return None
    return float(ssl.cert_time_to_seconds(peercert["notAfter"]))


def days_left(peercert: Any) -> float | None:
    """Days until the certificate's notAfter, from ``getpeercert()``'s dict."""
    expires = not_after(peercert)
    return None if expires is None else (expires - time.time()) / 86400


def explain(error: BaseException, host: str, implicit: bool) -> tuple[str, str, str | None]:
    """(stage, message, hint) for an exception raised while setting up TLS.

    The reasons are OpenSSL's words, but may quote what the server sent (a name from its certificate): made
    one line like any text from outside.
    """
    cause = _ssl_cause(error)
    if isinstance(cause, ssl.SSLCertVerificationError):
        reason = one_line(cause.verify_message or str(cause.reason or cause))
        if cause.verify_code == 62 or "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
            return (
                "certificate",
                f"certificate is not valid for {host} ({reason})",
                "use the host name the certificate was issued for",
            )
        if cause.verify_code == 10 or "expired" in reason.lower():
            return "certificate", f"certificate has expired ({reason})", "the server needs a renewed certificate"
        return "certificate", f"certificate is not trusted ({reason})", CERT_HINT
    if isinstance(cause, ssl.SSLError):
        reason = one_line(cause.reason or cause.__class__.__name__)
        if reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE"):
            hint = "this port starts in plain text: use `encryption: starttls`" if implicit else None
            return "tls", f"TLS handshake failed: the server did not answer in TLS ({reason})", hint
        return "tls", f"TLS handshake failed ({reason})", None
    return "tls", f"TLS handshake failed ({type(error).__name__})", None


def silence(timeout: float) -> float:
    """How long to wait for a plain-text greeting before trying a TLS handshake on a second connection; a
    third of the deadline at most, so the probe and the report both fit in it."""
    return min(SILENCE_SECONDS, timeout / 3)


def answered(error: BaseException | None) -> bool:
    """Whether a probing handshake that ended with ``error`` (None: it completed) met a TLS server.

    A certificate mailcfg does not trust, or a TLS alert, still came in a TLS handshake: the port speaks TLS, and
    the normal check on it will say what is wrong. Anything else (plain text, silence, a closed connection) is no
    TLS answer.
    """
    if error is None or isinstance(error, ssl.SSLCertVerificationError):
        return True
    return isinstance(error, ssl.SSLError) and _ALERT in str(error.reason or "").upper()


def implicit_port(protocol: str, encryption: str, port: int, waited: float) -> tuple[str, str]:
    """(message, hint) for a plain-text mode (``starttls``, ``none``) on a port that speaks TLS from the first byte."""
    from validator.model import DEFAULT_PORTS

    plain = DEFAULT_PORTS[protocol][encryption]
    return (
        f"no greeting within {waited:.2g} s, but the port answers a TLS handshake: it expects TLS from the first"
        f" byte (implicit TLS), not `encryption: {encryption}`",
        f"use `encryption: ssl` with port {port}, or keep `encryption: {encryption}` with the server's"
        f" plain-text port (usually {plain})",
    )


def is_tls_error(error: BaseException) -> bool:
    return _ssl_cause(error) is not None


def _ssl_cause(error: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None

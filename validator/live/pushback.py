"""Throttling signals: a server saying "not now" rather than "no".

A server that limits sessions (overall, per client address or per user) refuses the extra ones in a few known
ways: the connection is refused or reset, an IMAP greeting is ``* BYE`` (often with ``[UNAVAILABLE]`` or
``[LIMIT]``, RFC 5530), an SMTP greeting is ``421`` or carries a ``4.7.x`` status (RFC 5321 4.2.2, RFC 3463);
after the login, ``NO [UNAVAILABLE]``/``NO [LIMIT]`` or a ``BYE`` (Dovecot's ``mail_max_userip_connections``,
Stalwart's per-account session limit). Such a failure is recorded like any other, and then raised as
:class:`PushBack`: the runner halves the host's session limit (validator/live/hostlimit.py) and queues the check
again when nothing secret was sent yet. An AUTH is never repeated: a refusal after the credentials is reported.
"""

from __future__ import annotations

import re
from typing import NoReturn

from validator.live.probe import Probe, StageFailed

# How often a check refused before its credentials were sent is tried at all (within its deadline).
MAX_ATTEMPTS = 4
_IMAP_CODES = re.compile(r"\[(UNAVAILABLE|LIMIT)\b", re.IGNORECASE)
_ENHANCED_4_7 = re.compile(r"^\s*4\.7\.\d{1,3}\b")
_HINT = (
    "the server limits sessions (overall, per client address or per user); mailcfg halves its sessions to the host"
    f" and tries a refused check again, at most {MAX_ATTEMPTS} times in all and within --timeout; lower --per-host,"
    " or try later"
)


class PushBack(StageFailed):
    """The server pushed back. ``credentials_sent``: the refusal came after the login was sent (never retried);
    ``refused``: the connection was refused, which counts as push-back only at a port of the host that answered
    before in this run (one that refuses everything is down, or the port is wrong: not busy)."""

    def __init__(self, message: str, reason: str, credentials_sent: bool = False, refused: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.credentials_sent = credentials_sent
        self.refused = refused


def refuse(
    probe: Probe,
    message: str,
    hint: str | None = _HINT,
    credentials_sent: bool = False,
    refused: bool = False,
    login_entry: bool = False,
) -> NoReturn:
    """Fail the current stage with ``message`` (recorded and scrubbed as usual), raised as :class:`PushBack`."""
    stage = probe.current
    try:
        probe.fail(message, hint, login_entry=login_entry)
    except StageFailed as failure:
        raise PushBack(str(failure), f"{stage}: {failure}", credentials_sent, refused) from None


def imap_greeting(text: str) -> bool:
    """Whether an IMAP greeting (or the error carrying it) refuses the session for now."""
    line = text.lstrip()
    return line.upper().startswith("* BYE") or bool(_IMAP_CODES.search(line))


def imap_login(text: str) -> bool:
    """Whether a refused login is throttling rather than a wrong password: ``NO [UNAVAILABLE]`` or ``NO [LIMIT]``."""
    return bool(_IMAP_CODES.search(text))


def smtp_reply(code: int | None, message: str) -> bool:
    """Whether an SMTP reply (a greeting, or the answer to AUTH) says "not now": 421, or a 4.7.x status."""
    return code == 421 or (code is not None and 400 <= code < 500 and bool(_ENHANCED_4_7.match(message)))


def cut_off(error: BaseException) -> bool:
    """Whether ``error`` is the server dropping the connection before its greeting (a reset, or end of stream)."""
    if isinstance(error, (ConnectionResetError, ConnectionAbortedError)):
        return True
    text = str(error)
    return "socket error: EOF" in text or "Connection lost" in text or "unexpectedly closed" in text

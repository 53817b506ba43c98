"""The adaptive per-host session limit: grow while the server answers well, halve when it pushes back.

Why adaptive: a company's mailboxes usually all sit on one host, so a fixed per-host cap is what bounds a run, and
over a real network each check is mostly waiting (an IMAPS check is about eight round trips). How many sessions
a host takes from one client is not published anywhere a checker could read it, so the limit starts at
:data:`START` (the old fixed default, tolerated everywhere so far), grows by one for every session the server
answers well while checks are queued (doubling per round, like TCP's slow start), and halves when the server
pushes back (validator/live/pushback.py). After the first halving it grows by one per round only (additive
increase), so it settles just under what the server takes instead of oscillating. One push-back per round
halves it: sessions that started before a halving and are refused later do not halve it again.

The ceiling (default :data:`CEILING`) bounds it whatever the server says; ``--per-host N`` makes N both the start
and the ceiling (the user vouches for N; push-back still halves it). The published limits
are per mailbox, and mailcfg never has two sessions for one login at one server, so those are never the
constraint; what the ceiling guards is the host as a whole:

- Dovecot: ``mail_max_userip_connections`` defaults to 10 sessions per user and client address (the limit and
  its log line "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)":
  https://beyondjapan.com/en/blog/2024/10/dovecot_maximum-number-of-connections-from-userip-exceeded/); the
  server-wide ``default_process_limit`` is 100 processes per service, i.e. 100 logins at once
  (https://docker-mailserver.github.io/docker-mailserver/v10.0/config/advanced/override-defaults/dovecot).
- Microsoft: Exchange Server's IMAP4 defaults are 16 connections per user and 2,147,483,647 per client address
  and per server (https://learn.microsoft.com/id-id/exchange/set-connection-limits-for-imap4-exchange-2013-help);
  Exchange Online allows 20 concurrent IMAP connections per mailbox (Microsoft's "Exchange Online throttling and
  limits FAQ", blogs.msdn.microsoft.com/exchangedev/2011/06/23/exchange-online-throttling-and-limits-faq, as
  quoted at https://priaxon.com/post/exchange-online-mapi-connection-limit.html; no current page found).
- Google: Gmail's help gave 10 simultaneous IMAP connections per account
  (http://mail.google.com/support/bin/answer.py?hl=en&answer=97150, 2008); clients now work to 15 per account
  (https://github.com/maathimself/mailflow/releases/tag/v4.5.1, https://github.com/dlt-hub/verified-sources/pull/615).
- Stalwart: 16 sessions per account, refused with ``NO [LIMIT]`` (https://stalw.art/docs/email/sessions/).

So 16 sessions from one client to one host is what a single user's own devices may hold against these servers,
and a sixth of Dovecot's server-wide default; a host that takes fewer says so and the limit follows it down.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

# The limit a host starts at, and the default ceiling (`--per-host`); see the module docstring for why.
START = 4
CEILING = 16


@dataclass(frozen=True)
class BackOff:
    """One halving: when (seconds since the run began), from and to which limit, why, and which check saw it."""

    seconds: float
    limit_from: int
    limit_to: int
    reason: str
    account: str


@dataclass(frozen=True)
class HostReport:
    """What the adaptive limit did at one host during a run (the JSON report's ``hosts``)."""

    host: str
    ceiling: int
    limit: int  # at the end of the run
    peak_limit: int  # the highest limit reached
    peak_sessions: int  # the most checks that held a slot at once
    sessions: int  # slots taken (a check tried again takes another)
    retries: int  # checks queued again after a refusal before their credentials were sent
    backoffs: tuple[BackOff, ...] = ()


class HostLimit:
    """A FIFO admission gate for one host whose size adapts. Single-threaded: used from the event loop only."""

    def __init__(self, host: str, ceiling: int, began: float, start: int = START) -> None:
        self.host = host
        self.ceiling = max(ceiling, 1)
        self.limit = min(start, self.ceiling)
        self.began = began
        # Ports where a session got its greeting: from then on a refused connection there is push-back (a port that
        # never answered is closed or wrong, not busy).
        self.answered: set[int] = set()
        self._threshold = self.ceiling  # below it the limit grows per session (slow start), above per round
        self._credit = 0
        self._epoch = 0
        self._active = 0
        self._queue: deque[asyncio.Future[int]] = deque()
        self._peak_limit = self.limit
        self._peak_sessions = 0
        self._sessions = 0
        self._retries = 0
        self._backoffs: list[BackOff] = []

    async def acquire(self) -> int:
        """Wait for a slot (first come, first served); returns the round it was given in, for :meth:`push_back`
        and :meth:`served`."""
        if self._active < self.limit and not self._queue:
            self._active += 1
            epoch = self._epoch
        else:
            waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._queue.append(waiter)
            try:
                epoch = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self.release()  # the slot was handed over just as the wait was cancelled: pass it on
                else:
                    self._queue.remove(waiter)
                raise
        self._sessions += 1
        self._peak_sessions = max(self._peak_sessions, self._active)
        return epoch

    def release(self) -> None:
        self._active -= 1
        self._wake()

    def served(self, epoch: int, port: int) -> None:
        """A session taken in round ``epoch`` that the server answered well at ``port``. The limit grows only from
        sessions taken since the last halving (older ones ran under a limit the server already refused), and only
        while checks wait for it: a limit nobody used says nothing about what the server takes."""
        self.answered.add(port)
        if epoch != self._epoch or self.limit >= self.ceiling or not (self._queue or self._active >= self.limit):
            return
        if self.limit < self._threshold:
            self.limit += 1
        else:
            self._credit += 1
            if self._credit >= self.limit:
                self._credit = 0
                self.limit += 1
        self._peak_limit = max(self._peak_limit, self.limit)
        self._wake()

    def push_back(self, epoch: int, reason: str, account: str) -> None:
        """The server refused a session given in round ``epoch``: halve the limit, once per round. Call it before
        the session's slot is released, so the slot goes on under the halved limit."""
        if epoch != self._epoch:
            return
        halved = max(self.limit // 2, 1)
        self._backoffs.append(BackOff(round(time.monotonic() - self.began, 3), self.limit, halved, reason, account))
        self.limit = self._threshold = halved
        self._credit = 0
        self._epoch += 1

    def retried(self) -> None:
        self._retries += 1

    def report(self) -> HostReport:
        return HostReport(
            self.host,
            self.ceiling,
            self.limit,
            self._peak_limit,
            self._peak_sessions,
            self._sessions,
            self._retries,
            tuple(self._backoffs),
        )

    def _wake(self) -> None:
        while self._queue and self._active < self.limit:
            waiter = self._queue.popleft()
            if not waiter.done():
                self._active += 1
                waiter.set_result(self._epoch)

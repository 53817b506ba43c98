"""The adaptive per-host limit (validator/live/hostlimit.py) and the throttling signals (validator/live/pushback.py),
without a network: slots, growth, halving, the report. The live tests (tests/live/test_verify_throttling.py) show the
same against servers that push back."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from validator.live.hostlimit import CEILING, START, HostLimit
from validator.live.pushback import cut_off, imap_greeting, imap_login, smtp_reply


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coroutine)


async def _take(limit: HostLimit, count: int) -> list[int]:
    return [await limit.acquire() for _ in range(count)]


def test_it_starts_at_the_start_and_admits_that_many() -> None:
    async def scenario() -> None:
        limit = HostLimit("imap.example.com", CEILING, 0.0)
        assert limit.limit == START
        await _take(limit, START)
        waiting = asyncio.ensure_future(limit.acquire())
        await asyncio.sleep(0)
        assert not waiting.done()  # the fifth waits
        limit.release()
        assert await waiting == 0
    _run(scenario())


def test_a_given_ceiling_below_the_start_is_the_limit() -> None:
    assert HostLimit("h", 2, 0.0).limit == 2
    assert HostLimit("h", 8, 0.0, start=8).limit == 8


def test_it_grows_by_one_per_good_session_while_checks_wait_up_to_the_ceiling() -> None:
    async def scenario() -> None:
        limit = HostLimit("h", 6, 0.0)
        epochs = await _take(limit, 4)
        waiters = [asyncio.ensure_future(limit.acquire()) for _ in range(10)]
        await asyncio.sleep(0)
        for epoch in epochs:
            limit.served(epoch, 993)
        assert limit.limit == 6  # 4 + 1 + 1, then the ceiling
        await asyncio.sleep(0)
        assert sum(waiter.done() for waiter in waiters) == 2  # the two new slots went to the first in line
        for waiter in waiters:
            waiter.cancel()
    _run(scenario())


def test_it_does_not_grow_when_nobody_waits() -> None:
    async def scenario() -> None:
        limit = HostLimit("h", CEILING, 0.0)
        (epoch,) = await _take(limit, 1)
        limit.served(epoch, 993)
        assert limit.limit == START
        assert limit.report().peak_limit == START
    _run(scenario())


def test_push_back_halves_once_per_round_and_then_grows_by_one_per_round() -> None:
    async def scenario() -> None:
        limit = HostLimit("h", CEILING, 0.0, start=8)
        epochs = await _take(limit, 8)
        limit.push_back(epochs[0], "greeting: * BYE [UNAVAILABLE]", "a")
        limit.push_back(epochs[1], "greeting: * BYE [UNAVAILABLE]", "b")  # the same round: no second halving
        assert limit.limit == 4
        for _ in range(8):
            limit.release()
        fresh = await _take(limit, 4)
        waiting = asyncio.ensure_future(limit.acquire())
        await asyncio.sleep(0)
        for epoch in epochs:  # sessions of the refused round do not grow it
            limit.served(epoch, 993)
        assert limit.limit == 4
        for epoch in fresh[:3]:
            limit.served(epoch, 993)
        assert limit.limit == 4  # additive: one per round of four
        limit.served(fresh[3], 993)
        assert limit.limit == 5
        assert await waiting == 1
        limit.push_back(fresh[0], "greeting: 421 4.7.0", "c")
        report = limit.report()
        assert [(b.limit_from, b.limit_to, b.account) for b in report.backoffs] == [(8, 4, "a"), (5, 2, "c")]
        assert (report.limit, report.peak_limit, report.peak_sessions, report.sessions) == (2, 8, 8, 13)
    _run(scenario())


def test_it_never_goes_below_one() -> None:
    async def scenario() -> None:
        limit = HostLimit("h", 1, 0.0)
        (epoch,) = await _take(limit, 1)
        limit.push_back(epoch, "connect: connection reset", "a")
        assert limit.limit == 1
    _run(scenario())


def test_a_cancelled_wait_gives_its_place_and_a_handed_slot_back() -> None:
    async def scenario() -> None:
        limit = HostLimit("h", 1, 0.0)
        await _take(limit, 1)
        first = asyncio.ensure_future(limit.acquire())
        second = asyncio.ensure_future(limit.acquire())
        await asyncio.sleep(0)
        limit.release()  # the slot is handed to `first` ...
        first.cancel()  # ... which is cancelled before it runs: the slot goes on to `second`
        await asyncio.sleep(0)
        assert await second == 0
        assert limit.report().peak_sessions == 1
    _run(scenario())


@pytest.mark.parametrize(("greeting", "refused"), [
    ("* BYE [UNAVAILABLE] Too many sessions", True),
    ("* BYE Server shutting down", True),
    ("* OK [LIMIT] busy", True),
    ("* OK IMAP ready", False),
    ("* PREAUTH welcome", False),
])
def test_imap_greetings(greeting: str, refused: bool) -> None:
    assert imap_greeting(greeting) is refused


def test_imap_logins() -> None:
    assert imap_login("[UNAVAILABLE] Maximum number of connections from user+IP exceeded")
    assert imap_login("[LIMIT] Too many sessions")
    assert not imap_login("[AUTHENTICATIONFAILED] Authentication failed.")


@pytest.mark.parametrize(("code", "message", "refused"), [
    (421, "4.7.0 Too many connections", True),
    (421, "Service not available", True),
    (450, "4.7.1 Try again later", True),
    (454, "4.7.0 Temporary authentication failure", True),
    (554, "5.7.1 No SMTP service here", False),
    (535, "5.7.8 Authentication credentials invalid", False),
    (451, "4.3.0 Local error", False),
    (None, "", False),
])
def test_smtp_replies(code: int | None, message: str, refused: bool) -> None:
    assert smtp_reply(code, message) is refused


def test_cut_off() -> None:
    assert cut_off(ConnectionResetError())
    assert cut_off(OSError("socket error: EOF"))
    assert not cut_off(TimeoutError())

"""A throttling front for a real mail server: at most ``limit`` sessions at once, the rest refused before login.

A real server cannot be made to throttle on demand (Dovecot's limits are per user and address, or server-wide
process limits that would fail the whole test session), so this front does what busy servers do: it passes up to
``limit`` connections through to the real server untouched (TLS end to end), and answers every connection beyond
that itself, before any login, the way busy servers refuse: IMAP ``* BYE [UNAVAILABLE] ...`` (RFC 5530), SMTP
``421 4.7.0 ...`` (RFC 5321 4.2.2). For an implicit-TLS port it completes the TLS handshake first (with the test
certificate), so the refusal arrives as the greeting would. It records how many sessions it passed, refused, and
the most it held at once (:class:`ThrottleRecord`), so a test can see the limit was tested and kept.

Loopback only. Nothing here depends on pytest::

    with ThrottlingFront(servers.imap.ssl.address, "imap", limit=3, tls=context) as front:
        ...  # connect to front.address
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass, field
from types import TracebackType

from .latency import CHUNK, _LoopThread, loopback, pipe

REFUSALS = {
    "imap": b"* BYE [UNAVAILABLE] Too many sessions from your address, try again later\r\n",
    "smtp": b"421 4.7.0 mail.example.test Too many connections from your address, try again later\r\n",
}


@dataclass
class ThrottleRecord:
    """What the front saw. Updated from its loop thread; read the fields at any time (plain ints)."""

    passed: int = 0
    refused: int = 0
    peak: int = 0  # the most sessions passed through at once
    _open: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class ThrottlingFront(_LoopThread):
    """Listens on ``listen_host`` (a free port: :attr:`address`) in front of ``target`` speaking ``protocol``."""

    def __init__(self, target: tuple[str, int], protocol: str, limit: int, tls: ssl.SSLContext | None = None,
                 listen_host: str = "127.0.0.1", source_host: str = "127.0.0.1") -> None:
        super().__init__(f"throttle-{target[1]}", listen_host, self._front)
        if protocol not in REFUSALS:
            raise ValueError(f"protocol must be one of {sorted(REFUSALS)}")
        self.target = (loopback(target[0]), target[1])
        self.source_host = loopback(source_host)
        self.protocol = protocol
        self.limit = limit
        self.tls = tls
        self.record = ThrottleRecord()

    def __enter__(self) -> ThrottlingFront:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    async def _front(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        record = self.record
        with record._lock:
            admitted = record._open < self.limit
            if admitted:
                record._open += 1
                record.passed += 1
                record.peak = max(record.peak, record._open)
            else:
                record.refused += 1
        if not admitted:
            await self._refuse(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target, local_addr=(self.source_host, 0))
            try:
                await asyncio.gather(pipe(reader, up_writer, 0.0), pipe(up_reader, writer, 0.0))
            finally:
                up_writer.close()
        finally:
            with record._lock:
                record._open -= 1

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.tls is None:
                writer.write(REFUSALS[self.protocol])
            else:
                await asyncio.wait_for(self._refuse_in_tls(reader, writer), 10)
            await writer.drain()
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            pass  # the client gave up first

    async def _refuse_in_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The handshake over memory buffers, then the refusal inside TLS. (StreamWriter.start_tls would lose the
        client's hello, which the stream has already read into its buffer.)"""
        assert self.tls is not None
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.tls.wrap_bio(incoming, outgoing, server_side=True)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                writer.write(outgoing.read())
                data = await reader.read(CHUNK)
                if not data:
                    return
                incoming.write(data)
        tls.write(REFUSALS[self.protocol])
        writer.write(outgoing.read())

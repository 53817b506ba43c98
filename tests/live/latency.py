"""A TCP proxy on loopback that adds network latency: every chunk waits a fixed one-way delay, in both directions.

For the benchmarks (benchmarks/verify_latency.py) and tests that need the waiting a real network imposes: on
loopback a check is CPU-bound, over a WAN it mostly waits. Each direction of a connection is a queue of
(time due, chunk): the reader takes chunks as they come and stamps them ``now + delay``, the writer sends each at
its time. Reading never waits for writing, so throughput is not cut to one chunk per delay, and order is kept
because the stamps only grow. An end of stream travels the same way (a half-close after the delay). A new
connection also waits one round trip before the proxy connects onwards: the TCP handshake a real network
costs, which the client's own connect to the proxy skips.

Loopback only, both sides. Nothing here depends on pytest::

    with LatencyProxy(("127.0.0.2", 993), rtt=0.05) as proxy:
        ...  # connect to proxy.address
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType

CHUNK = 64 * 1024


def loopback(host: str) -> str:
    """``host`` if it is a loopback address, else ValueError: these servers never reach beyond the machine."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"{host} is not a loopback address")
    return host


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer`` until end of stream, each chunk ``delay`` seconds late, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        try:
            while chunk := await reader.read(CHUNK):
                queue.put_nowait((loop.time() + delay, chunk))
        except OSError:
            pass  # a reset: pass on what came before it, then the end
        queue.put_nowait((loop.time() + delay, b""))

    reading = asyncio.create_task(read())
    try:
        while True:
            due, chunk = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()
    except OSError:
        return  # the other side went away
    finally:
        reading.cancel()


class _LoopThread:
    """An asyncio loop in a daemon thread running one listening server; a context manager."""

    def __init__(self, name: str, listen_host: str, handler: Callable[..., Awaitable[None]]) -> None:
        self.name = name
        self.listen_host = loopback(listen_host)
        self._handler = handler
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def address(self) -> tuple[str, int]:
        return (self.listen_host, self.port)

    def start(self) -> None:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(10)
        sock: socket.socket = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])

    async def _listen(self) -> asyncio.Server:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                await self._handler(reader, writer)
            except asyncio.CancelledError:
                pass  # stop() ends every connection: nothing to report
            finally:
                self._tasks.discard(task)
                writer.close()

        return await asyncio.start_server(handle, self.listen_host, 0, backlog=512)

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.sleep(0)

        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)


class LatencyProxy(_LoopThread):
    """Listens on ``listen_host`` (a free port: :attr:`address`) and forwards to ``target`` with ``rtt`` seconds of
    round-trip time (``rtt / 2`` each way). ``connections`` counts the connections proxied."""

    def __init__(self, target: tuple[str, int], rtt: float, listen_host: str = "127.0.0.1",
                 source_host: str = "127.0.0.1") -> None:
        super().__init__(f"latency-{target[1]}", listen_host, self._proxy)
        self.target = (loopback(target[0]), target[1])
        self.source_host = loopback(source_host)
        self.rtt = rtt
        self.connections = 0

    def __enter__(self) -> LatencyProxy:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    async def _proxy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        # What the client sends meanwhile waits in the stream; it is stamped when the upstream pipe reads it.
        await asyncio.sleep(self.rtt)  # the TCP handshake of a real network
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target, local_addr=(self.source_host, 0))
        except OSError:
            return  # the client sees the connection close, as when a real server refuses
        try:
            await asyncio.gather(pipe(reader, up_writer, self.rtt / 2), pipe(up_reader, writer, self.rtt / 2))
        finally:
            up_writer.close()

"""In-memory transports for protomux: a recording sans-IO host and an asyncio message-stream pair.

Invariants:

* :class:`MemoryHost` does no IO: frames the core writes are kept in ``frames`` (as ``bytes``),
  ``call_soon`` work waits in ``soon`` until :meth:`MemoryHost.run_soon`; it cannot run awaitables
  (async handlers need the asyncio adapter).
* :class:`CorePair` wires two cores back to back; :meth:`CorePair.pump` moves frames and deferred
  work until both sides are quiet, and closes both cores once either destroyed its stream.
* :func:`memory_stream_pair` gives two asyncio message streams with the shape
  :class:`hyperpunch.protomux.mux.Protomux` expects of a secret stream (write/drain/read/
  write_eof/close/abort/wait_closed), with byte-count backpressure.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from typing import Any

from hyperpunch.protomux.core import ProtomuxCore
from hyperpunch.protomux.errors import MuxDestroyedError, ProtomuxLocalError

__all__ = ["CorePair", "MemoryHost", "MemoryStream", "memory_stream_pair"]


class MemoryHost:
    """A :class:`~hyperpunch.protomux.core.Host` that records everything (for tests and vectors)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.soon: collections.deque[Callable[[], None]] = collections.deque()
        self.destroyed = False
        self.destroy_error: BaseException | None = None
        self.ended = False
        self.paused = False
        self.warnings: list[BaseException] = []
        self.write_result = True

    def write(self, frame: bytearray) -> bool:
        self.frames.append(bytes(frame))
        return self.write_result

    def destroy(self, error: BaseException | None) -> None:
        if not self.destroyed:
            self.destroyed = True
            self.destroy_error = error

    def end(self) -> None:
        self.ended = True

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def call_soon(self, callback: Callable[[], None]) -> None:
        self.soon.append(callback)

    def spawn(self, awaitable: Awaitable[object], done: Callable[[BaseException | None], None]) -> None:
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()  # a coroutine that will never run: silence "never awaited"
        raise ProtomuxLocalError("async handlers need the asyncio adapter (hyperpunch.protomux.Protomux)")

    def warn(self, error: BaseException) -> None:
        self.warnings.append(error)

    def run_soon(self) -> bool:
        ran = False
        while self.soon:
            self.soon.popleft()()
            ran = True
        return ran

    def take(self) -> list[bytes]:
        frames, self.frames = self.frames, []
        return frames


class CorePair:
    """Two cores wired back to back through :class:`MemoryHost`s."""

    def __init__(self) -> None:
        self.host_a = MemoryHost()
        self.host_b = MemoryHost()
        self.a = ProtomuxCore(self.host_a)
        self.b = ProtomuxCore(self.host_b)
        self.wire_a: list[bytes] = []  # every frame a sent
        self.wire_b: list[bytes] = []
        self.closed = False

    def pump(self, max_rounds: int = 100_000) -> None:
        for _ in range(max_rounds):
            moved = self.host_a.run_soon() | self.host_b.run_soon()
            if not self.closed and (self.host_a.destroyed or self.host_b.destroyed):
                self.closed = True
                self.host_a.frames.clear()
                self.host_b.frames.clear()
                self.a.on_close()
                self.b.on_close()
                moved = True
            for src, dst, wire in ((self.host_a, self.b, self.wire_a), (self.host_b, self.a, self.wire_b)):
                frames = src.take()
                if frames and not self.closed:
                    moved = True
                    wire.extend(frames)
                    for frame in frames:
                        dst.receive_data(frame)
            if not moved:
                return
        raise AssertionError("CorePair.pump did not settle")


class MemoryStream:
    """One end of an in-memory, ordered message stream (the shape of a secret stream)."""

    def __init__(self, limit: int = 1 << 20) -> None:
        self.user_data: Any = None
        self.peer: MemoryStream | None = None
        self.error: BaseException | None = None
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._limit = limit
        self._ended_remote = False
        self._ended_local = False
        self._closed = False
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._closed_waiters: list[asyncio.Future[None]] = []

    @property
    def write_paused(self) -> bool:
        peer = self.peer
        return peer is not None and peer._queued > peer._limit

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed or self._ended_local:
            raise MuxDestroyedError("write on a closed memory stream")
        peer = self.peer
        assert peer is not None
        if peer._closed:
            return
        message = bytes(data)
        peer._queue.append(message)
        peer._queued += len(message)
        peer._wake_reader()

    async def drain(self) -> None:
        while self.write_paused and not self._closed:
            fut = asyncio.get_running_loop().create_future()
            assert self.peer is not None
            self.peer._drain_waiters.append(fut)
            await fut
        if self.error is not None:
            raise self.error

    async def read(self) -> bytes | None:
        while True:
            if self._queue:
                message = self._queue.popleft()
                self._queued -= len(message)
                if self._queued <= self._limit:
                    waiters, self._drain_waiters = self._drain_waiters, []
                    for fut in waiters:
                        if not fut.done():
                            fut.set_result(None)
                return message
            if self.error is not None:
                raise self.error
            if self._ended_remote or self._closed:
                return None
            fut = asyncio.get_running_loop().create_future()
            self._read_waiter = fut
            try:
                await fut
            finally:
                self._read_waiter = None

    def write_eof(self) -> None:
        if self._ended_local or self._closed:
            return
        self._ended_local = True
        peer = self.peer
        assert peer is not None
        peer._ended_remote = True
        peer._wake_reader()
        if self._ended_remote:
            self._close_both(None)

    end = write_eof

    def close(self) -> None:
        self._close_both(None)

    def abort(self) -> None:
        self._close_both(None)

    async def wait_closed(self) -> None:
        if self._closed:
            return
        fut = asyncio.get_running_loop().create_future()
        self._closed_waiters.append(fut)
        await fut

    async def aclose(self) -> None:
        self.close()
        await self.wait_closed()

    def _close_both(self, error: BaseException | None) -> None:
        for side in (self, self.peer):
            if side is None or side._closed:
                continue
            side._closed = True
            side._wake_reader()
            for fut in side._drain_waiters + side._closed_waiters:
                if not fut.done():
                    fut.set_result(None)
            side._drain_waiters = []
            side._closed_waiters = []

    def _wake_reader(self) -> None:
        fut = self._read_waiter
        if fut is not None and not fut.done():
            fut.set_result(None)


def memory_stream_pair(limit: int = 1 << 20) -> tuple[MemoryStream, MemoryStream]:
    """Two connected :class:`MemoryStream` ends; ``limit`` is each reader's buffer before writers pause."""
    a, b = MemoryStream(limit), MemoryStream(limit)
    a.peer, b.peer = b, a
    return a, b

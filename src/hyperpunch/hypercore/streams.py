"""Read streams and download handles over a Hypercore session (JS ``lib/streams.js``,
``lib/download.js``).

Invariants: a :class:`ReadStream` yields blocks in index order, each decoded by the session's
value encoding, through ``session.get`` (so it waits, times out and fails exactly like ``get``).
Without ``live`` it stops at ``end`` (default: the length when iteration starts); with ``live`` it
follows appends forever, until :meth:`ReadStream.aclose` or the session closes. A
:class:`Download` resolves once every block of its range is stored; destroying it stops it from
asking for more, and waiting on a destroyed download raises ``REQUEST_CANCELLED``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from hyperpunch.hypercore.core import Core
from hyperpunch.hypercore.errors import BlockNotAvailableError, RequestCancelledError, SessionClosedError

__all__ = ["ByteStream", "Download", "ReadStream", "StreamSession"]


class StreamSession(Protocol):
    """What the streams read through (a :class:`..session.Hypercore`)."""

    @property
    def closed(self) -> bool: ...

    @property
    def length(self) -> int: ...

    @property
    def byte_length(self) -> int: ...

    async def ready(self) -> None: ...

    async def update(self) -> bool: ...

    async def get(
        self,
        index: int,
        *,
        wait: bool | None = None,
        timeout: float | None = None,
        value_encoding: Any = None,
    ) -> Any: ...

    async def seek(self, byte_offset: int) -> tuple[int, int] | None: ...

    async def wait_block(
        self, core: Core, index: int, timeout: float | None, cancelled: Callable[[], bool] | None = None
    ) -> None: ...

    def wake_waiters(self) -> None: ...


class ReadStream(AsyncIterator[Any]):
    """``async for block in core.read_stream(...)``."""

    def __init__(
        self,
        session: StreamSession,
        start: int = 0,
        end: int | None = None,
        *,
        live: bool = False,
        wait: bool | None = None,
        timeout: float | None = None,
    ) -> None:
        self.session = session
        self.index = start
        self.end = end
        self.live = live and end is None
        self.wait = wait
        self.timeout = timeout
        self._opened = False
        self.closed = False

    def __aiter__(self) -> ReadStream:
        return self

    async def __anext__(self) -> Any:
        if self.closed:
            raise StopAsyncIteration
        s = self.session
        if not self._opened:
            self._opened = True
            if self.end is None and not self.live:
                await s.update()
                self.end = s.length
        if s.closed:
            self.closed = True
            if self.live:
                raise StopAsyncIteration
            raise SessionClosedError("session closed during the read stream")
        end = self.end
        if end is not None and self.index >= end:
            self.closed = True
            raise StopAsyncIteration
        i = self.index
        try:
            value = await s.get(i, wait=True if self.live else self.wait, timeout=self.timeout)
        except SessionClosedError:
            self.closed = True
            if self.live:
                raise StopAsyncIteration from None
            raise
        self.index = i + 1
        return value

    async def aclose(self) -> None:
        self.closed = True


class ByteStream(AsyncIterator[bytes]):
    """``async for chunk in core.byte_stream(byte_offset, byte_length)``: the (decrypted) block
    bytes from ``byte_offset`` on, ``byte_length`` bytes in all (default: to the current end),
    one chunk per block (JS ``createByteStream``)."""

    def __init__(self, session: StreamSession, byte_offset: int = 0, byte_length: int | None = None) -> None:
        self.session = session
        self.offset = byte_offset
        self.remaining = byte_length
        self._index: int | None = None
        self._skip = 0

    def __aiter__(self) -> ByteStream:
        return self

    async def __anext__(self) -> bytes:
        s = self.session
        if self.remaining is None:
            await s.ready()
            self.remaining = max(0, s.byte_length - self.offset)
        while self.remaining > 0:
            if self._index is None:
                found = await s.seek(self.offset)
                if found is None:
                    raise BlockNotAvailableError(f"byte {self.offset} is past the known data")
                self._index, self._skip = found
            block = await s.get(self._index, value_encoding="binary")
            if block is None:
                raise BlockNotAvailableError(f"block {self._index} is not available")
            self._index += 1
            chunk = bytes(block[self._skip : self._skip + self.remaining])
            self._skip = 0
            if chunk:
                self.remaining -= len(chunk)
                return chunk
        raise StopAsyncIteration


class Download:
    """A range download (JS ``core.download({start, end})``)."""

    def __init__(self, session: StreamSession, core: Core, start: int, end: int | None) -> None:
        self.session = session
        self.core = core
        self.start = start
        self.end = core.tree.length if end is None else end
        self.destroyed = False
        if self.start < self.end:
            if core.replicator is not None:
                core.replicator.want_range(self.start, self.end)
            else:  # the first replicator to attach takes it over (see Core.take_pending_ranges)
                core.pending_ranges.append((self.start, self.end))

    def missing(self) -> int:
        """How many blocks of the range are not stored yet."""
        if self.end <= self.start:
            return 0
        return self.core.bitfield.count_unset(self.start, self.end - self.start)

    async def done(self) -> None:
        """Wait until every block of the range is stored."""
        bits = self.core.bitfield
        i = self.start
        while i < self.end:
            if self.destroyed:
                raise RequestCancelledError("download destroyed")
            i = bits.first_unset(i)
            if i >= self.end:
                break
            await self.session.wait_block(self.core, i, None, lambda: self.destroyed)
        if self.destroyed:
            raise RequestCancelledError("download destroyed")

    downloaded = done

    def destroy(self) -> None:
        self.destroyed = True
        self.session.wake_waiters()  # so done() can observe the cancellation

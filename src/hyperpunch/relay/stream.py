"""A connection as a relayed client sees it (JS ``lib/stream.js``), and its raw-byte transport.

Invariants:

* :class:`RelayedStream` has the message-stream face of a
  :class:`~hyperpunch.secretstream.SecretStream` (``read``/``write``/``drain``/``write_eof``/
  ``close``/``abort``/``wait_closed``, ``remote_public_key``, ``handshake_hash``...). Custodial:
  each ``data`` chunk the relay sends is one message (the relay ran secret-stream).
* Non-custodial, the relay carries ciphertext: a :class:`RelayedTransport` turns the same stream
  into an asyncio byte transport under a real ``SecretStream`` with the handshake's keys.
* Writes go out as ``data{alias}`` with our alias; ``end`` half-closes; ``abort`` sends ``destroy``
  once paired. The stream is closed once both sides ended, or on destroy from either side; a
  ``destroy`` error from the relay becomes :attr:`error`.
* Received bytes queue up to ``high_water``; above it the client stops reading its WebSocket
  (:class:`StreamHost.pause_reading`) until the reader drains them.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Protocol, Self

from hyperpunch.errors import HyperpunchError
from hyperpunch.relay.errors import RelayClosedError, RelayRemoteError

__all__ = ["RawCounters", "RelayedStream", "RelayedTransport", "StreamHost"]

HIGH_WATER = 1 << 20


class StreamHost(Protocol):
    """What a relayed stream needs from its client (the seam: :class:`RelayedDHT` satisfies it)."""

    def send_data(self, alias: int, chunks: list[bytes]) -> None: ...
    def send_end(self, alias: int) -> None: ...
    def send_destroy(self, alias: int, paired: bool) -> None: ...
    def forget_stream(self, stream: RelayedStream) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    async def drain(self) -> None: ...


class RawCounters:
    """``raw_bytes_read`` / ``raw_bytes_written`` (what Hyperswarm reads of ``conn.core``)."""

    __slots__ = ("raw_bytes_read", "raw_bytes_written")

    def __init__(self) -> None:
        self.raw_bytes_read = 0
        self.raw_bytes_written = 0


class RelayedStream:
    """One relayed connection; ``alias`` is ours, ``remote_alias`` the relay's."""

    def __init__(
        self,
        host: StreamHost,
        alias: int,
        *,
        is_initiator: bool,
        public_key: bytes,
        remote_public_key: bytes | None,
        high_water: int = HIGH_WATER,
    ) -> None:
        self.host = host
        self.alias = alias
        self.remote_alias: int | None = None
        self.is_initiator = is_initiator
        self.public_key = public_key
        self.remote_public_key = remote_public_key
        self.handshake_hash: bytes | None = None
        self.user_data: Any = None
        self.error: HyperpunchError | None = None
        self.core = RawCounters()
        self.high_water = high_water
        self.on_data: Any = None  # set by RelayedTransport: raw bytes go there instead of the queue
        self.on_end: Any = None
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._paused = False
        self._event = asyncio.Event()
        self._opened = asyncio.get_running_loop().create_future()
        self._remote_ended = False
        self._local_ended = False
        self._closed = asyncio.Event()

    # -- from the client ---------------------------------------------------------------------------

    def on_open(self, remote_alias: int, handshake_hash: bytes | None) -> None:
        self.remote_alias = remote_alias
        self.handshake_hash = handshake_hash
        if not self._opened.done():
            self._opened.set_result(None)

    def on_remote_data(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.core.raw_bytes_read += len(chunk)
            if self.on_data is not None:
                self.on_data(chunk)
                continue
            self._queue.append(chunk)
            self._queued += len(chunk)
        if self._queued > self.high_water and not self._paused:
            self._paused = True
            self.host.pause_reading()
        self._event.set()

    def on_remote_end(self) -> None:
        self._remote_ended = True
        self._event.set()
        if self.on_end is not None:
            self.on_end()
        self._maybe_closed()

    def on_remote_destroy(self, error: str | None) -> None:
        if error:
            self.fail(RelayRemoteError(error, code=error.split(":", 1)[0] if ":" in error else "RELAY_ERROR"))
        else:
            self._finish()

    def fail(self, err: HyperpunchError) -> None:
        if self.error is None:
            self.error = err
        if not self._opened.done():
            self._opened.set_exception(err)
            self._opened.exception()  # retrieved: a stream nobody waits on logs nothing
        self._finish()

    # -- the SecretStream face ---------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def connected(self) -> bool:
        return self._opened.done() and not self._opened.cancelled() and self._opened.exception() is None

    async def wait_open(self) -> None:
        await asyncio.shield(self._opened)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._local_ended or self.closed:
            raise RelayClosedError("cannot write: the relayed stream is ending or closed")
        chunk = bytes(data)
        self.core.raw_bytes_written += len(chunk)
        self.host.send_data(self.alias, [chunk])

    def writelines(self, messages: list[bytes]) -> None:
        for message in messages:
            self.write(message)

    async def drain(self) -> None:
        if self.error is not None:
            raise self.error
        await self.host.drain()

    def send_keep_alive(self) -> None:
        if not self._local_ended and not self.closed:
            self.host.send_data(self.alias, [b""])

    async def read(self) -> bytes | None:
        while True:
            if self._queue:
                chunk = self._queue.popleft()
                self._queued -= len(chunk)
                if self._paused and self._queued <= self.high_water >> 1:
                    self._paused = False
                    self.host.resume_reading()
                return chunk
            if self.error is not None:
                raise self.error
            if self._remote_ended or self.closed:
                return None
            self._event.clear()
            await self._event.wait()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        message = await self.read()
        if message is None:
            raise StopAsyncIteration
        return message

    def write_eof(self) -> None:
        if self._local_ended or self.closed:
            return
        self._local_ended = True
        self.host.send_end(self.alias)
        self._maybe_closed()

    end = write_eof

    def close(self) -> None:
        """Destroy the relayed stream (JS ``destroy()``): the relay aborts its side."""
        if self.closed:
            return
        self.host.send_destroy(self.alias, self._opened.done())
        self._finish()

    abort = close

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def aclose(self) -> None:
        self.close()
        await self._closed.wait()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- internals ---------------------------------------------------------------------------------

    def _maybe_closed(self) -> None:
        if self._local_ended and self._remote_ended:
            self._finish()

    def _finish(self) -> None:
        if self._closed.is_set():
            return
        if not self._opened.done():
            self._opened.set_exception(self.error or RelayClosedError("the relayed stream closed"))
            self._opened.exception()
        self._closed.set()
        self._event.set()
        if self._paused:
            self._paused = False
            self.host.resume_reading()
        if self.on_end is not None:  # the transport sees the close (after any earlier end)
            self.on_end()
        self.host.forget_stream(self)


class RelayedTransport(asyncio.Transport):
    """The raw bytes of a non-custodial :class:`RelayedStream` as an asyncio transport, so a
    ``SecretStream`` (with the client's own keys) runs end to end over the relay."""

    def __init__(self, stream: RelayedStream, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.stream = stream
        self.protocol = protocol
        self._closing = False
        self._lost = False
        stream.on_data = self._on_data
        stream.on_end = self._on_end
        protocol.connection_made(self)

    def _on_data(self, chunk: bytes) -> None:
        if chunk and not self._lost:
            self.protocol.data_received(chunk)

    def _on_end(self) -> None:
        if self._lost:
            return
        if self.stream.closed:
            self._lost = True
            self.protocol.connection_lost(self.stream.error)
        else:
            self.protocol.eof_received()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._closing and not self.stream.closed:
            self.stream.write(data)

    def write_eof(self) -> None:
        self.stream.write_eof()

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.stream.write_eof()

    def abort(self) -> None:
        self._closing = True
        self.stream.abort()

    def is_closing(self) -> bool:
        return self._closing or self.stream.closed

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

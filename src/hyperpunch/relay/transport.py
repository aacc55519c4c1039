"""A WebSocket as the message stream Protomux runs over (JS ``@hyperswarm/dht-relay/ws.js``).

Invariants:

* One binary WebSocket message is one Protomux frame, both ways, with no length prefix and no
  encryption of its own (JS ``lib/transport/ws.js``: each ``write`` is one ``socket.send``, each
  received message one chunk). A text message is a protocol error: the stream fails.
* ``write`` never blocks: frames queue for one owned writer task; ``drain`` waits while more than
  ``high_water`` bytes are queued. ``pause_reading`` makes ``read`` wait (Protomux then stops
  reading, and the WebSocket's own buffers push back on the peer's TCP).
* ``read`` returns ``None`` once the socket closed, whatever the reason (also while reading is
  paused: a watcher ends the stream when the socket closes); ``close``/``abort`` are
  idempotent and ``wait_closed`` returns once the writer ended and the socket is closed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import Any, Protocol

from hyperpunch.aio import TaskOwner
from hyperpunch.relay.errors import RelayClosedError, RelayProtocolError

__all__ = ["WebSocketLike", "WebSocketStream"]

HIGH_WATER = 1 << 20


class WebSocketLike(Protocol):
    """What we use of a ``websockets`` connection (client or server side)."""

    async def recv(self) -> str | bytes: ...
    async def send(self, message: bytes) -> None: ...
    async def close(self, code: int = 1000, reason: str = "") -> None: ...
    async def wait_closed(self) -> None: ...


class WebSocketStream:
    """Protomux's :class:`~hyperpunch.protomux.MessageStream` over one WebSocket connection."""

    def __init__(self, ws: WebSocketLike, *, high_water: int = HIGH_WATER) -> None:
        self.ws = ws
        self.user_data: Any = None
        self.error: BaseException | None = None
        self.high_water = high_water
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._readable = asyncio.Event()
        self._readable.set()
        self._pausers = 0
        self._in_recv = False
        self._recv_idle = asyncio.Event()
        self.close_code = 1000
        self.close_reason = ""
        self._closing = False
        self._closed = asyncio.Event()
        self.paused = asyncio.Event()  # set while reading is paused (backpressure), for observers
        self._tasks = TaskOwner("relay websocket")
        self._writer = self._tasks.spawn(self._write_loop())
        self._tasks.spawn(self._watch())

    # -- MessageStream ---------------------------------------------------------------------------

    def write(self, data: bytes | bytearray) -> None:
        if self._closing:
            return
        self._queue.append(bytes(data))
        self._queued += len(data)
        if self._queued > self.high_water:
            self._drained.clear()
        self._wake.set()

    async def drain(self) -> None:
        while not self._drained.is_set():
            if self._closing:
                raise RelayClosedError()
            waiter = asyncio.ensure_future(self._drained.wait())
            closed = asyncio.ensure_future(self._closed.wait())
            try:
                await asyncio.wait((waiter, closed), return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                closed.cancel()
        if self._closing:
            raise RelayClosedError()

    async def read(self) -> bytes | None:
        if self._closing:
            return None
        if not self._readable.is_set():
            await self._readable.wait()
        self._in_recv = True
        try:
            message = await self.ws.recv()
        except Exception as err:  # websockets' ConnectionClosed*, or the socket failed
            self._fail(err)
            return None
        finally:
            self._in_recv = False
            self._recv_idle.set()
        if isinstance(message, str):
            self._fail(RelayProtocolError("a dht-relay peer sent a text WebSocket message"))
            return None
        return message

    def write_eof(self) -> None:
        self.close()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._readable.set()
        self._wake.set()

    def abort(self) -> None:
        self._queue.clear()
        self._queued = 0
        self.close()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # -- backpressure toward the peer ------------------------------------------------------------

    def pause_reading(self) -> None:
        self._pausers += 1
        self._readable.clear()
        self.paused.set()

    def resume_reading(self) -> None:
        self._pausers = max(0, self._pausers - 1)
        if self._pausers == 0:
            self._readable.set()
            self.paused.clear()

    @property
    def buffered(self) -> int:
        """Bytes queued for the peer and not yet handed to the socket."""
        return self._queued

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def aclose(self) -> None:
        self.close()
        await self._closed.wait()
        await self._tasks.aclose()

    # -- internals -------------------------------------------------------------------------------

    def _fail(self, err: BaseException) -> None:
        if self.error is None:
            self.error = err
        self.abort()

    async def _watch(self) -> None:
        """A socket closing while we do not read (backpressure) still ends the stream at once."""
        with contextlib.suppress(Exception):
            await self.ws.wait_closed()
        if self._pausers > 0:
            self._fail(RelayClosedError("the WebSocket closed"))

    async def _discard(self) -> None:
        while True:
            if self._in_recv:
                self._recv_idle.clear()
                await self._recv_idle.wait()
                continue
            try:
                await self.ws.recv()
            except Exception:
                return

    async def _write_loop(self) -> None:
        try:
            while True:
                while self._queue:
                    frame = self._queue.popleft()
                    self._queued -= len(frame)
                    if self._queued <= self.high_water:
                        self._drained.set()
                    await self.ws.send(frame)
                if self._closing:
                    break
                self._wake.clear()
                await self._wake.wait()
        except Exception as err:  # the socket went away under us
            if self.error is None:
                self.error = err
            self._closing = True
            self._readable.set()
        finally:
            self._queue.clear()
            self._queued = 0
            self._drained.set()
            # keep reading (and dropping) what the peer still sends, or its answer to our close
            # frame could sit behind unread messages until the close timeout
            discard = asyncio.ensure_future(self._discard())
            try:
                with contextlib.suppress(Exception):
                    await self.ws.close(self.close_code, self.close_reason)
            finally:
                discard.cancel()
                self._closed.set()

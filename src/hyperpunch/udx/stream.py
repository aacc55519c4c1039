"""asyncio byte stream over a UDX StreamCore.

Invariants:
* ``write`` never blocks and never fails silently; ``await drain()`` applies backpressure (waits
  while more than ``high_water`` bytes are written but not yet packetized).
* ``read`` returns buffered bytes in order, ``b""`` exactly once the remote END was delivered, and
  raises the stream's error after a reset/timeout. Read bytes reopen the receive window.
* ``end()`` sends END after queued data; the stream closes cleanly when both ENDs are acknowledged.
  ``close()``/``aclose()`` destroy (DESTROY packet) a stream that has not closed cleanly.
* All protocol work happens in ``core``; this class only moves bytes between it, the socket and
  the event loop (one flush per loop tick, one timer handle per stream).
* This module does not know the socket class: it sends through the :class:`DatagramSender` and
  registers with the :class:`StreamRegistry` it declares, which ``socket.py`` satisfies. The
  socket drives a stream only through its public port: ``core.receive_datagram``, ``relaying`` /
  ``relay``, ``touched`` and ``after_io``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from hyperpunch.udx.core import StreamCore
from hyperpunch.udx.errors import StreamStateError, UDXError, UDXLocalError
from hyperpunch.udx.packet import FLAG_DESTROY, U32

__all__ = ["HIGH_WATER", "DatagramSender", "StreamRegistry", "UDXStream"]


class DatagramSender(Protocol):
    """What a stream needs of the UDP socket it runs on (``UDXSocket`` satisfies it)."""

    closed: bool

    @property
    def bound(self) -> bool: ...

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...

    def address(self) -> tuple[str, int]: ...

    def send_one(self, data: bytes, addr: tuple[str, int]) -> None: ...

    def send_many(self, datagrams: Sequence[bytes], addr: tuple[str, int]) -> None: ...


class StreamRegistry(Protocol):
    """The table of live stream ids a stream registers in (``UDX`` satisfies it)."""

    def register(self, stream: UDXStream) -> None: ...

    def unregister(self, stream: UDXStream, final_ack: bytes | None, now: float) -> None: ...


HIGH_WATER = 1024 * 1024


class UDXStream:
    """A reliable stream with a 32-bit local id; ``connect`` it to a remote id and address."""

    def __init__(
        self,
        udx: StreamRegistry,
        stream_id: int,
        *,
        seq: int = 0,
        ack: int = 0,
        high_water: int = HIGH_WATER,
    ) -> None:
        self.udx = udx
        self.id = stream_id
        self.core = StreamCore(stream_id, seq=seq, ack=ack)
        self.socket: DatagramSender | None = None
        self.remote_address: tuple[str, int] | None = None
        self.high_water = high_water
        self.on_message: Callable[[bytes], None] | None = None
        self.on_remote_changed: Callable[[], None] | None = None
        self.touched = False  # the socket's read batch already holds this stream for after_io
        self.relaying: UDXStream | None = None  # set by relay_to: packets go there, not to core
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._eof = False
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._remote_changed: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[None] | None = None
        self._error: UDXError | None = None
        self._flush_scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0
        self.io_hook: Callable[[], None] | None = None  # after every flush (set by UDXTransport)
        core = self.core
        core.on_data = self._on_data
        core.on_end = self._on_end
        core.on_message = self._on_message
        core.on_close = self._on_close
        core.on_remote_changed = self._on_remote_changed
        udx.register(self)

    # ------------------------------------------------------------------ properties

    @property
    def remote_id(self) -> int:
        return self.core.remote_id

    @property
    def connected(self) -> bool:
        return self.core.connected

    @property
    def closed(self) -> bool:
        return self.core.closed

    @property
    def mtu(self) -> int:
        return self.core.mtu

    @property
    def rtt(self) -> float:
        return self.core.rtt.srtt

    @property
    def error(self) -> UDXError | None:
        return self._error

    # ------------------------------------------------------------------ wiring

    def connect(self, socket: DatagramSender, remote_id: int, port: int, host: str = "127.0.0.1") -> None:
        if self.core.closed:
            raise StreamStateError("stream is closed")
        if not socket.bound or socket.closed:
            raise UDXLocalError("socket is not bound or is closed")
        if not 0 < port < 65536:
            raise UDXLocalError(f"{port} is not a valid port")
        self.socket = socket
        self.remote_address = (host, port)
        self.core.connect(remote_id, (host, port), ipv6=":" in host)
        self.schedule_flush()

    def change_remote(
        self, socket: DatagramSender, remote_id: int, port: int, host: str = "127.0.0.1"
    ) -> asyncio.Future[None]:
        """Switch to a new socket/address/id; the future resolves once the old path is drained."""
        if not socket.bound or socket.closed:
            raise UDXLocalError("socket is not bound or is closed")
        loop = socket.loop
        fut: asyncio.Future[None] = loop.create_future()
        self._remote_changed = fut
        self.socket = socket
        self.remote_address = (host, port)
        self.core.change_remote(remote_id, (host, port), ipv6=":" in host)
        self.schedule_flush()
        return fut

    def set_keepalive(self, seconds: float) -> None:
        """Send a HEARTBEAT after ``seconds`` with nothing in flight (0 turns it off)."""
        self.core.set_keepalive(seconds)
        self.schedule_flush()

    def relay_to(self, destination: UDXStream) -> None:
        """Forward every packet of this stream to ``destination``'s remote, rewriting the id."""
        self.relaying = destination

    def relay(self, packet: memoryview, now: float) -> None:
        """Forward one packet to the relay destination (the socket calls this while ``relaying``)."""
        dest = self.relaying
        if dest is None:
            return
        if dest.socket is not None and dest.remote_address is not None and not dest.closed:
            data = bytearray(packet)
            data[4:8] = (dest.core.remote_id & U32).to_bytes(4, "little")
            dest.socket.send_one(bytes(data), dest.remote_address)
        if packet[2] & FLAG_DESTROY:
            self.core.close()

    # ------------------------------------------------------------------ core callbacks

    def _on_data(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        w = self._read_waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _on_end(self) -> None:
        self._eof = True
        w = self._read_waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _on_message(self, data: bytes) -> None:
        if self.on_message is not None:
            self.on_message(data)

    def _on_remote_changed(self) -> None:
        fut = self._remote_changed
        self._remote_changed = None
        if fut is not None and not fut.done():
            fut.set_result(None)
        if self.on_remote_changed is not None:
            self.on_remote_changed()

    def _on_close(self, err: UDXError | None) -> None:
        self._error = err
        core = self.core
        sock = self.socket
        now = sock.loop.time() if sock is not None and sock.bound else 0.0
        out = core.datagrams_to_send(now)
        if out and sock is not None and self.remote_address is not None:
            sock.send_many(out, self.remote_address)
        self.udx.unregister(self, core.final_ack() if err is None else None, now)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for w in (self._read_waiter, self._drain_waiter):
            if w is not None and not w.done():
                w.set_result(None)
        fut = self._remote_changed
        if fut is not None and not fut.done():
            fut.set_exception(StreamStateError("stream closed before the remote change completed"))
            fut.exception()
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    # ------------------------------------------------------------------ io plumbing

    def after_io(self, now: float) -> None:
        """Flush the core, send its datagrams and re-arm the timer (after every input batch)."""
        core = self.core
        out = core.datagrams_to_send(now)
        if out and self.socket is not None and self.remote_address is not None:
            self.socket.send_many(out, self.remote_address)
        if core.closed:
            return
        w = self._drain_waiter
        if w is not None and core.queued_bytes <= self.high_water and not w.done():
            w.set_result(None)
        if self.io_hook is not None:
            self.io_hook()
            if core.closed:
                return
        d = core.next_deadline()
        if d is not None and (self._timer is None or d < self._timer_when):
            if self._timer is not None:
                self._timer.cancel()
            loop = self._loop()
            self._timer_when = d
            self._timer = loop.call_at(d, self._on_timer)

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self.socket is not None and self.socket.bound:
            return self.socket.loop
        return asyncio.get_running_loop()

    def _on_timer(self) -> None:
        self._timer = None
        if self.core.closed:
            return
        now = self._loop().time()
        d = self.core.next_deadline()
        if d is not None and d <= now:
            self.core.handle_timer(now)
        self.after_io(now)

    def schedule_flush(self) -> None:
        """Flush once on the next loop tick (coalesces many writes into one flush)."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop().call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._flush_scheduled = False
        if not self.core.closed and self.socket is not None:
            self.after_io(self._loop().time())

    # ------------------------------------------------------------------ writing

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._error is not None:
            raise self._error
        if not self.core.connected:
            raise StreamStateError("writing while not connected is not supported", code="ENOTCONN")
        self.core.write(data)
        self.schedule_flush()

    @property
    def write_buffer_size(self) -> int:
        """Bytes written and not yet handed to the network."""
        return self.core.queued_bytes

    @property
    def unacked_bytes(self) -> int:
        return self.core.unacked_bytes

    async def drain(self) -> None:
        while not self.core.closed and self.core.queued_bytes > self.high_water:
            self._drain_waiter = self._loop().create_future()
            await self._drain_waiter
            self._drain_waiter = None
        if self._error is not None:
            raise self._error
        if self.core.closed and self.core.queued_bytes:
            raise StreamStateError("stream closed before the data was sent")

    def end(self) -> None:
        """Half-close: END after everything written so far."""
        if self.core.closed:
            return
        if not self.core.connected:
            raise StreamStateError("ending while not connected is not supported", code="ENOTCONN")
        self.core.write_end()
        self.schedule_flush()

    def send(self, message: bytes) -> None:
        """An unreliable, unordered datagram on this stream (delivered to the peer's on_message)."""
        self.core.send_message(message)
        self.after_io(self._loop().time())

    # ------------------------------------------------------------------ reading

    def _take(self, n: int) -> bytes:
        chunks = self._chunks
        if n < 0 or n >= self._buffered:
            data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
            chunks.clear()
        else:
            parts: list[bytes] = []
            need = n
            while need:
                head = chunks[0]
                if len(head) <= need:
                    parts.append(chunks.popleft())
                    need -= len(head)
                else:
                    parts.append(head[:need])
                    chunks[0] = head[need:]
                    need = 0
            data = b"".join(parts)
        self._buffered -= len(data)
        self.core.consume(len(data))
        if self.core.ack_urgent:
            self.schedule_flush()
        return data

    def read_nowait(self, n: int = -1) -> bytes:
        """Up to ``n`` already buffered bytes (all if n < 0); ``b""`` when none are buffered."""
        return self._take(n) if self._buffered else b""

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all buffered if n < 0); ``b""`` at EOF."""
        while not self._buffered:
            if self._eof:
                return b""
            if self._error is not None:
                raise self._error
            if self.core.closed:
                return b""
            self._read_waiter = self._loop().create_future()
            try:
                await self._read_waiter
            finally:
                self._read_waiter = None
        return self._take(n)

    async def readexactly(self, n: int) -> bytes:
        parts: list[bytes] = []
        need = n
        while need:
            chunk = await self.read(need)
            if not chunk:
                raise asyncio.IncompleteReadError(b"".join(parts), n)
            parts.append(chunk)
            need -= len(chunk)
        return b"".join(parts)

    def at_eof(self) -> bool:
        return self._eof and not self._buffered

    # ------------------------------------------------------------------ closing

    def destroy(self) -> None:
        """Reset the stream now (DESTROY to the peer when connected)."""
        self.core.destroy()

    def close(self) -> None:
        self.destroy()

    async def wait_closed(self) -> None:
        """Wait until the stream closed; raise its error if it closed abnormally."""
        if not self.core.closed:
            if self._closed is None:
                self._closed = self._loop().create_future()
            await asyncio.shield(self._closed)
        if self._error is not None:
            raise self._error

    async def aclose(self) -> None:
        """Destroy unless already closed, then wait; never raises the stream's error."""
        if not self.core.closed:
            self.destroy()

    async def __aenter__(self) -> UDXStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

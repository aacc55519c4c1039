"""asyncio Transport view of a UDX stream, for protocols such as the secret-stream adapter.

Invariants:
* ``attach(stream, protocol)`` calls ``protocol.connection_made`` once, then replays what the
  stream received before (its unread bytes, then its END); afterwards every delivered byte goes
  to ``data_received`` in order, the remote END to ``eof_received`` once, datagrams
  (MESSAGE packets) to ``message_received`` when the protocol has it, and the stream's close to
  ``connection_lost`` exactly once (``None`` for a clean close, the UDX error otherwise).
* ``pause_reading`` stops delivery and stops reopening the receive window, so the peer is flow
  controlled by UDX itself; ``pause_writing``/``resume_writing`` follow the stream's unsent bytes
  around ``high_water`` (resume below half of it).
* ``write_eof`` sends END; ``close`` sends END and, once everything including the END is
  acknowledged, destroys the stream if the peer has not ended too (like a TCP close: flush, then
  go); ``abort`` destroys at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from hyperpunch.udx.errors import UDXError
from hyperpunch.udx.stream import UDXStream


class UDXTransport(asyncio.Transport):
    """Drives an ``asyncio.Protocol`` from a connected :class:`UDXStream`."""

    def __init__(self, stream: UDXStream, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self._stream = stream
        self._protocol = protocol
        self._paused_reading = False
        self._pending: deque[bytes] = deque()
        self._eof_pending = False
        self._eof_delivered = False
        self._write_paused = False
        self._closing = False
        self._lost = False
        core = stream.core
        core.on_data = self._on_data
        core.on_end = self._on_end
        core.on_message = self._on_message
        self._stream_on_close = core.on_close
        core.on_close = self._on_close
        stream.io_hook = self._on_io

    # ------------------------------------------------------------------ stream -> protocol

    def _on_data(self, data: bytes) -> None:
        if self._paused_reading or self._pending:
            self._pending.append(data)
            return
        self._stream.core.consume(len(data))
        self._protocol.data_received(data)

    def _on_end(self) -> None:
        if self._pending or self._paused_reading:
            self._eof_pending = True
            return
        self._deliver_eof()

    def _deliver_eof(self) -> None:
        if self._eof_delivered:
            return
        self._eof_delivered = True
        self._protocol.eof_received()

    def _on_message(self, data: bytes) -> None:
        handler = getattr(self._protocol, "message_received", None)
        if handler is not None:
            handler(data)

    def _on_close(self, err: UDXError | None) -> None:
        self._stream_on_close(err)
        if self._lost:
            return
        self._lost = True
        while self._pending and not self._paused_reading:
            self._protocol.data_received(self._pending.popleft())
        if self._eof_pending and not self._pending:
            self._deliver_eof()
        self._protocol.connection_lost(err)

    def _on_io(self) -> None:
        core = self._stream.core
        queued = core.queued_bytes
        hw = self._stream.high_water
        if not self._write_paused and queued > hw:
            self._write_paused = True
            self._protocol.pause_writing()
        elif self._write_paused and queued <= hw // 2:
            self._write_paused = False
            self._protocol.resume_writing()
        if self._closing and core.ended and not core.closed:
            if core.ended_remote:
                return  # the core closes by itself
            self._stream.destroy()

    def replay(self, data: bytes) -> None:
        """Deliver bytes the stream received (and its reader consumed) before this transport."""
        self._protocol.data_received(data)

    def replay_eof(self) -> None:
        """Deliver an END the stream received before this transport."""
        self._on_end()

    # ------------------------------------------------------------------ transport API

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._stream.closed:
            return
        self._stream.write(data)
        if not self._write_paused and self._stream.core.queued_bytes > self._stream.high_water:
            self._write_paused = True
            self._protocol.pause_writing()

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def write_eof(self) -> None:
        if not self._stream.closed:
            self._stream.end()

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._stream.closed:
            return
        if not self._stream.connected:
            self._stream.destroy()
            return
        self._stream.end()

    def abort(self) -> None:
        self._closing = True
        self._stream.destroy()

    def is_closing(self) -> bool:
        return self._closing or self._stream.closed

    def pause_reading(self) -> None:
        self._paused_reading = True

    def resume_reading(self) -> None:
        if not self._paused_reading:
            return
        self._paused_reading = False
        core = self._stream.core
        while self._pending and not self._paused_reading:
            data = self._pending.popleft()
            core.consume(len(data))
            self._protocol.data_received(data)
        if self._eof_pending and not self._pending and not self._paused_reading:
            self._deliver_eof()
        if core.ack_urgent:
            self._stream.schedule_flush()

    def is_reading(self) -> bool:
        return not self._paused_reading

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        if not isinstance(protocol, asyncio.Protocol):
            raise TypeError("a UDX transport drives an asyncio.Protocol (a byte stream)")
        self._protocol = protocol

    def get_write_buffer_size(self) -> int:
        return self._stream.core.queued_bytes

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        stream = self._stream
        if name == "peername":
            return stream.remote_address
        if name == "sockname":
            return stream.socket.address() if stream.socket is not None and stream.socket.bound else default
        if name in ("udx_stream", "stream"):
            return stream
        return default

    async def send(self, data: bytes) -> bool:
        """A datagram on the stream (MESSAGE); False when the stream cannot send."""
        if self._stream.closed or not self._stream.connected:
            return False
        self._stream.send(data)
        return True

    def try_send(self, data: bytes) -> None:
        if not self._stream.closed and self._stream.connected:
            self._stream.send(data)


def attach(stream: UDXStream, protocol: asyncio.Protocol) -> UDXTransport:
    """Wrap a connected stream as a transport and call ``protocol.connection_made``.

    Bytes the stream received before the transport existed (and not yet read) are delivered
    first, then its END if it already came: the remote may send before our side has attached
    (JS secret-stream reads those from the raw stream when it starts).
    """
    early = stream.read_nowait()
    eof = stream.at_eof()
    transport = UDXTransport(stream, protocol)
    protocol.connection_made(transport)
    if early:
        transport.replay(early)
    if eof:
        transport.replay_eof()
    return transport

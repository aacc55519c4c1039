"""asyncio UDP socket multiplexing UDX streams and raw datagrams on one port.

Invariants:
* A datagram is a stream packet only if it is >= 20 bytes, starts 0xFF 0x01 and names a live
  local stream id (libudx ``process_packet``); everything else goes to ``on_message`` (the DHT).
* Packets for a stream arriving on a socket that is not the stream's own (including before
  ``connect``) pass the stream's firewall (given to ``UDX.create_stream``) first; a true return, or
  no firewall, drops them.
* Reads are drained in batches (``recvfrom_into`` into one preallocated buffer) and every stream
  touched by a batch is flushed once afterwards, so ACKs and new data go out together.
* Sends never block: on EAGAIN datagrams queue until the socket is writable again.
* Closed streams linger briefly (``LINGER``) so a retransmitted END is still acknowledged.
* This module sits above ``stream.py``: ``UDXSocket`` satisfies its ``DatagramSender`` and ``UDX``
  its ``StreamRegistry``; streams are driven only through their public port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket as _socket
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from hyperpunch.udx.errors import UDXLocalError
from hyperpunch.udx.packet import FLAG_DATA_OR_END, HEADER_SIZE, MAGIC, VERSION
from hyperpunch.udx.stream import DatagramSender, UDXStream

__all__ = ["UDX", "Firewall", "MessageHandler", "UDXSocket"]

MessageHandler = Callable[[bytes, tuple[str, int]], None]
# firewall(socket, port, host) for a stream's packet arriving on a socket that is not its own
# (including before ``connect``): True drops it.
Firewall = Callable[["UDXSocket", int, str], bool]

READ_BATCH = 512
RECV_BUFFER_SIZE = 4 * 1024 * 1024
SEND_BUFFER_SIZE = 4 * 1024 * 1024
LINGER = 10.0
MAX_SEND_QUEUE = 4096


class UDX:
    """Registry of local stream ids shared by the sockets of one instance (like ``udx_t``)."""

    def __init__(self) -> None:
        self.streams: dict[int, UDXStream] = {}
        self.firewalls: dict[int, Firewall] = {}
        self.lingering: dict[int, tuple[bytes, tuple[str, int], float, DatagramSender]] = {}

    def create_socket(self, *, on_message: MessageHandler | None = None) -> UDXSocket:
        return UDXSocket(self, on_message=on_message)

    def create_stream(
        self,
        stream_id: int,
        *,
        firewall: Firewall | None = None,
        seq: int = 0,
        ack: int = 0,
    ) -> UDXStream:
        stream = UDXStream(self, stream_id, seq=seq, ack=ack)
        if firewall is not None:
            self.firewalls[stream_id] = firewall
        return stream

    def register(self, stream: UDXStream) -> None:
        if stream.id in self.streams:
            raise UDXLocalError(f"stream id {stream.id} is already in use", code="EADDRINUSE")
        self.lingering.pop(stream.id, None)
        self.streams[stream.id] = stream

    def unregister(self, stream: UDXStream, final_ack: bytes | None, now: float) -> None:
        if self.streams.get(stream.id) is stream:
            del self.streams[stream.id]
            self.firewalls.pop(stream.id, None)
        sock = stream.socket
        if final_ack is not None and sock is not None and stream.remote_address is not None:
            self.lingering[stream.id] = (final_ack, stream.remote_address, now + LINGER, sock)
        if len(self.lingering) > 256:
            for sid, (_a, _b, expiry, _s) in list(self.lingering.items()):
                if expiry < now:
                    del self.lingering[sid]


class UDXSocket:
    """One bound UDP socket. Use ``await sock.bind(port, host)``; close with ``aclose()``."""

    def __init__(self, udx: UDX, *, on_message: MessageHandler | None = None) -> None:
        self.udx = udx
        self.on_message: MessageHandler | None = on_message
        self._sock: _socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._buf = bytearray(65536)
        self._view = memoryview(self._buf)
        self._send_queue: deque[tuple[bytes, tuple[str, int]]] = deque()
        self._writing = False
        self.closed = False
        self.family = _socket.AF_INET
        self.packets_rx = 0
        self.packets_tx = 0
        self.dropped_tx = 0

    @property
    def bound(self) -> bool:
        return self._sock is not None

    async def bind(self, port: int = 0, host: str = "127.0.0.1") -> UDXSocket:
        if self.closed:
            raise UDXLocalError("socket is closed")
        if self._sock is not None:
            raise UDXLocalError("socket is already bound")
        self._loop = asyncio.get_running_loop()
        family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
        sock = _socket.socket(family, _socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            for opt, size in ((_socket.SO_RCVBUF, RECV_BUFFER_SIZE), (_socket.SO_SNDBUF, SEND_BUFFER_SIZE)):
                with contextlib.suppress(OSError):
                    sock.setsockopt(_socket.SOL_SOCKET, opt, size)
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise UDXLocalError(f"bind failed: {exc}", code="EADDRINUSE") from exc
        self._sock = sock
        self.family = family
        self._loop.add_reader(sock.fileno(), self._on_readable)
        return self

    def address(self) -> tuple[str, int]:
        if self._sock is None:
            raise UDXLocalError("socket is not bound")
        addr = self._sock.getsockname()
        return str(addr[0]), int(addr[1])

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise UDXLocalError("socket is not bound")
        return self._loop

    # ------------------------------------------------------------------ send

    def send(self, data: bytes, port: int, host: str) -> None:
        """Send one raw datagram (not a stream packet)."""
        if self._sock is None or self.closed:
            raise UDXLocalError("socket is not bound or is closed")
        self.send_one(bytes(data), (host, port))

    def send_one(self, data: bytes, addr: tuple[str, int]) -> None:
        """Send one datagram to ``addr``, queueing it while the socket is not writable."""
        if self._send_queue:
            if len(self._send_queue) < MAX_SEND_QUEUE:
                self._send_queue.append((data, addr))
            else:
                self.dropped_tx += 1
            return
        sock = self._sock
        if sock is None:
            return
        try:
            sock.sendto(data, addr)
            self.packets_tx += 1
        except (BlockingIOError, InterruptedError):
            self._send_queue.append((data, addr))
            self._start_writing()
        except OSError:
            self.dropped_tx += 1

    def send_many(self, datagrams: Sequence[bytes], addr: tuple[str, int]) -> None:
        """The hot path: send a stream's outbox in order, queueing the rest on EAGAIN."""
        sock = self._sock
        if sock is None or self.closed:
            return
        if self._send_queue:
            for d in datagrams:
                self.send_one(d, addr)
            return
        sendto = sock.sendto
        sent = 0
        try:
            for d in datagrams:
                sendto(d, addr)
                sent += 1
        except (BlockingIOError, InterruptedError):
            for d in datagrams[sent:]:
                self._send_queue.append((d, addr))
            self._start_writing()
        except OSError:
            self.dropped_tx += 1
            rest = datagrams[sent + 1 :]
            self.packets_tx += sent
            if rest:
                self.send_many(rest, addr)
            return
        self.packets_tx += sent

    def _start_writing(self) -> None:
        if not self._writing and self._sock is not None and self._loop is not None:
            self._writing = True
            self._loop.add_writer(self._sock.fileno(), self._on_writable)

    def _on_writable(self) -> None:
        sock = self._sock
        q = self._send_queue
        while q and sock is not None:
            data, addr = q[0]
            try:
                sock.sendto(data, addr)
                self.packets_tx += 1
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.dropped_tx += 1
            q.popleft()
        if self._writing and self._sock is not None and self._loop is not None:
            self._loop.remove_writer(self._sock.fileno())
        self._writing = False

    # ------------------------------------------------------------------ receive

    def _on_readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        loop = self.loop
        now = loop.time()
        buf = self._buf
        view = self._view
        recv = sock.recvfrom_into
        streams = self.udx.streams
        touched: list[UDXStream] = []
        count = 0
        while count < READ_BATCH:
            try:
                n, addr = recv(buf)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                count += 1
                continue
            count += 1
            if n >= HEADER_SIZE and buf[0] == MAGIC and buf[1] == VERSION:
                sid = int.from_bytes(buf[4:8], "little")
                stream = streams.get(sid) if streams else None
                if stream is not None:
                    if stream.socket is not self and self._firewall_drop(sid, addr):
                        continue
                    if stream.relaying is not None:
                        stream.relay(view[:n], now)
                        continue
                    stream.core.receive_datagram(view[:n], now)
                    if not stream.touched:
                        stream.touched = True
                        touched.append(stream)
                    continue
                if self.udx.lingering and self._linger_reply(sid, buf, addr, now):
                    continue
            handler = self.on_message
            if handler is not None:
                try:
                    handler(bytes(view[:n]), (str(addr[0]), int(addr[1])))
                except Exception as exc:  # a bad handler must not kill the socket
                    loop.call_exception_handler(
                        {"message": "UDX on_message handler failed", "exception": exc}
                    )
        self.packets_rx += count
        for stream in touched:
            stream.touched = False
            stream.after_io(now)

    def _firewall_drop(self, sid: int, addr: tuple[Any, ...]) -> bool:
        port = int(addr[1])
        if not 0 < port < 65536:
            return True
        fw = self.udx.firewalls.get(sid)
        if fw is None:
            return True
        return bool(fw(self, port, str(addr[0])))

    def _linger_reply(self, sid: int, buf: bytearray, addr: tuple[Any, ...], now: float) -> bool:
        entry = self.udx.lingering.get(sid)
        if entry is None:
            return False
        final_ack, remote, expiry, sock = entry
        if expiry < now:
            del self.udx.lingering[sid]
            return False
        if sock is self and buf[2] & FLAG_DATA_OR_END:
            self.send_one(final_ack, remote)
        return True

    # ------------------------------------------------------------------ close

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        for stream in list(self.udx.streams.values()):
            if stream.socket is self:
                stream.destroy()
        for sid, entry in list(self.udx.lingering.items()):
            if entry[3] is self:
                del self.udx.lingering[sid]
        if self._sock is not None:
            if self._send_queue:
                self._on_writable()
            if self._loop is not None:
                self._loop.remove_reader(self._sock.fileno())
                if self._writing:
                    self._loop.remove_writer(self._sock.fileno())
            self._sock.close()
            self._sock = None
        self._send_queue.clear()
        await asyncio.sleep(0)

    async def __aenter__(self) -> UDXSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

"""asyncio UDP socket multiplexing UDX streams and raw datagrams on one port.

Invariants:
* A datagram is a stream packet only if it is >= 20 bytes, starts 0xFF 0x01 and names a live
  local stream id (libudx ``process_packet``); everything else goes to ``on_message`` (the DHT).
* Packets for a stream arriving on a socket that is not the stream's own (including before
  ``connect``) pass the stream's firewall (given to ``UDX.create_stream``) first; a true return, or
  no firewall, drops them.
* Reads are drained in batches (``recvfrom_into`` into one preallocated buffer, shared by all
  sockets of a ``UDX``: nothing keeps a view of it past the datagram's processing) and every
  stream touched by a batch is flushed once afterwards, so ACKs and new data go out together.
* On Linux, a stream's outbox goes out with UDP GSO (one ``sendmsg`` with a ``UDP_SEGMENT`` cmsg
  per run of equal-sized datagrams; the kernel sends them as separate datagrams, byte for byte the
  same as one ``sendto`` each), and reads ask for UDP GRO, so a GSO burst arrives in one
  ``recvmsg_into`` and is split at the reported segment size. A socket whose GSO send fails falls
  back to one ``sendto`` per datagram for good.
* Sends never block: on EAGAIN datagrams queue until the socket is writable again.
* Closed streams linger briefly (``LINGER``) so a retransmitted END is still acknowledged.
* This module sits above ``stream.py``: ``UDXSocket`` satisfies its ``DatagramSender`` and ``UDX``
  its ``StreamRegistry``; streams are driven only through their public port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket as _socket
import struct
import sys
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

# UDP generic segmentation/receive offload (Linux >= 4.18 / 5.0; the constants are not in Python's
# socket module): one sendmsg carries up to GSO_MAX_SEGMENTS datagrams of one size (the last may be
# shorter), at most GSO_MAX_BYTES in all.
_LINUX = sys.platform.startswith("linux")
_SOL_UDP = getattr(_socket, "SOL_UDP", 17)
UDP_SEGMENT = 103
UDP_GRO = 104
GSO_MAX_SEGMENTS = 64
GSO_MAX_BYTES = 65000
_GRO_CMSG_SPACE = _socket.CMSG_SPACE(4) if _LINUX else 0
_U16 = struct.Struct("=H")


class UDX:
    """Registry of local stream ids shared by the sockets of one instance (like ``udx_t``)."""

    def __init__(self) -> None:
        # One receive buffer for all of this instance's sockets: a read is processed to the end
        # (payloads copied out) before the next one starts, on the one loop the sockets run on.
        self.recv_buffer = bytearray(65536)
        self.recv_view = memoryview(self.recv_buffer)
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
        lingering = self.lingering
        if final_ack is not None and sock is not None and stream.remote_address is not None:
            lingering.pop(stream.id, None)  # re-inserted last: the dict stays in expiry order
            lingering[stream.id] = (final_ack, stream.remote_address, now + LINGER, sock)
        if len(lingering) > 256:
            expired = []
            for sid, (_a, _b, expiry, _s) in lingering.items():
                if expiry >= now:
                    break  # oldest first: the rest expire later
                expired.append(sid)
            for sid in expired:
                del lingering[sid]


class UDXSocket:
    """One bound UDP socket. Use ``await sock.bind(port, host)``; close with ``aclose()``."""

    def __init__(self, udx: UDX, *, on_message: MessageHandler | None = None) -> None:
        self.udx = udx
        self.on_message: MessageHandler | None = on_message
        self._sock: _socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._buf = udx.recv_buffer
        self._view = udx.recv_view
        self.gso = False  # send runs of equal-sized datagrams with one sendmsg (UDP_SEGMENT)
        self.gro = False  # reads may return a GRO burst (segment size in a UDP_GRO cmsg)
        self._gso_cmsgs: dict[int, list[tuple[int, int, bytes]]] = {}
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
        if _LINUX:
            try:
                sock.setsockopt(_SOL_UDP, UDP_SEGMENT, 0)  # probe: 0 = no default segment size
                self.gso = True
            except OSError:
                self.gso = False
            try:
                sock.setsockopt(_SOL_UDP, UDP_GRO, 1)
                self.gro = True
            except OSError:
                self.gro = False
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
        if self.gso and len(datagrams) > 1:
            self._send_gso(sock, datagrams, addr)
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

    def _send_gso(self, sock: _socket.socket, datagrams: Sequence[bytes], addr: tuple[str, int]) -> None:
        """Send ``datagrams`` as runs of equal-sized segments, one ``sendmsg`` per run."""
        n = len(datagrams)
        cmsgs = self._gso_cmsgs
        i = 0
        while i < n:
            first = datagrams[i]
            seg = len(first)
            j = i + 1
            total = seg
            limit = min(n, i + GSO_MAX_SEGMENTS)
            while j < limit:
                size = len(datagrams[j])
                if size > seg or total + size > GSO_MAX_BYTES:
                    break
                total += size
                j += 1
                if size < seg:
                    break  # only the last segment of a run may be shorter
            try:
                if j - i == 1:
                    sock.sendto(first, addr)
                else:
                    cmsg = cmsgs.get(seg)
                    if cmsg is None:
                        cmsg = cmsgs[seg] = [(_SOL_UDP, UDP_SEGMENT, _U16.pack(seg))]
                    sock.sendmsg(datagrams[i:j], cmsg, 0, addr)
            except (BlockingIOError, InterruptedError):
                for d in datagrams[i:]:
                    self._send_queue.append((d, addr))
                self._start_writing()
                return
            except OSError:
                if j - i == 1:
                    self.dropped_tx += 1
                    i = j
                    continue
                # the path or device refuses segmentation offload: plain sends from now on
                self.gso = False
                self.send_many(datagrams[i:], addr)
                return
            self.packets_tx += j - i
            i = j

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
        gro = self.gro
        recv = sock.recvfrom_into
        recvmsg = sock.recvmsg_into
        bufs = [buf]
        cmsg_space = _GRO_CMSG_SPACE
        streams = self.udx.streams
        touched: list[UDXStream] = []
        count = 0
        while count < READ_BATCH:
            try:
                if gro:
                    total, anc, _flags, addr = recvmsg(bufs, cmsg_space)
                    seg = total
                    if anc:
                        for level, kind, data in anc:
                            if level == _SOL_UDP and kind == UDP_GRO and len(data) >= 2:
                                seg = int.from_bytes(data[:4] if len(data) >= 4 else data[:2], sys.byteorder)
                        if seg <= 0:
                            seg = total
                else:
                    total, addr = recv(buf)
                    seg = total
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                count += 1
                continue
            count += 1
            if seg < total:
                count += (total - 1) // seg
            for off in range(0, total, seg) if seg < total else (0,):
                end = off + seg if off + seg < total else total
                n = end - off
                if n >= HEADER_SIZE and buf[off] == MAGIC and buf[off + 1] == VERSION:
                    sid = int.from_bytes(buf[off + 4 : off + 8], "little")
                    stream = streams.get(sid) if streams else None
                    if stream is not None:
                        if stream.socket is not self and self._firewall_drop(sid, addr):
                            continue
                        if stream.relaying is not None:
                            stream.relay(view[off:end], now)
                            continue
                        stream.core.receive_datagram(view[off:end], now)
                        if not stream.touched:
                            stream.touched = True
                            touched.append(stream)
                        continue
                    if self.udx.lingering and self._linger_reply(sid, buf[off + 2], addr, now):
                        continue
                handler = self.on_message
                if handler is not None:
                    try:
                        handler(bytes(view[off:end]), (str(addr[0]), int(addr[1])))
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

    def _linger_reply(self, sid: int, type_: int, addr: tuple[Any, ...], now: float) -> bool:
        entry = self.udx.lingering.get(sid)
        if entry is None:
            return False
        final_ack, remote, expiry, sock = entry
        if expiry < now:
            del self.udx.lingering[sid]
            return False
        if sock is self and type_ & FLAG_DATA_OR_END:
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

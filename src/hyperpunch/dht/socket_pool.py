"""Extra UDX sockets for hole punching (JS ``hyperdht/lib/socket-pool.js``).

Invariants:

* Every pooled socket shares the node's :class:`~hyperpunch.udx.socket.UDX` (so raw streams can
  move onto it). Datagrams longer than one byte are DHT messages and go to the node's dht-rpc core
  (replies to requests sent from this socket); one-byte datagrams are holepunch probes and go to
  the ref's ``on_holepunch_message``.
* A ref is released once; the socket closes when its last ref is gone and no raw stream uses it.
  The pool owns the close tasks (a :class:`~hyperpunch.aio.TaskOwner`); :meth:`SocketPool.aclose`
  closes everything left, and a ref released after that has nothing left to close.
* The pool knows the node only as its dht-rpc node (``dht``, to deliver DHT replies) and its
  :class:`~hyperpunch.udx.socket.UDX`; it imports nothing above it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket as _socket
from collections.abc import Callable, Coroutine
from typing import Any

from hyperpunch.aio import TaskOwner
from hyperpunch.dht_rpc import DHT
from hyperpunch.dht_rpc.transport import UDXDatagramSocket
from hyperpunch.udx.socket import UDX, UDXSocket
from hyperpunch.udx.stream import UDXStream
from hyperpunch.udx.transport import attach

__all__ = ["SocketPool", "SocketRef", "attach_stream", "send_ttl"]

HolepunchHandler = Callable[[bytes, tuple[str, int], "SocketRef"], None]


def send_ttl(sock: UDXSocket, data: bytes, port: int, host: str, ttl: int) -> None:
    """Send one datagram with a given IP TTL (0 = default); never raises."""
    raw: Any = getattr(sock, "_sock", None)
    if raw is None or sock.closed:
        return
    try:
        if ttl and ttl != 64:
            raw.setsockopt(_socket.IPPROTO_IP, _socket.IP_TTL, ttl)
            try:
                sock.send(data, port, host)
            finally:
                raw.setsockopt(_socket.IPPROTO_IP, _socket.IP_TTL, 64)
        else:
            sock.send(data, port, host)
    except Exception:  # UDP semantics: a failed punch is a lost punch
        return


def _noop(_d: bytes, _a: tuple[str, int], _r: SocketRef) -> None:
    return None


class SocketRef:
    """One pooled socket and its reference count."""

    def __init__(self, pool: SocketPool) -> None:
        self.pool = pool
        self.on_holepunch_message: HolepunchHandler = _noop
        self.socket: UDXSocket = pool.udx.create_socket(on_message=self._on_message)
        self.wrapper = UDXDatagramSocket(self.socket)  # the handle dht-rpc sends through
        self.refs = 1
        self.released = False

    def _on_message(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) > 1:
            self.pool.dht.deliver(self.wrapper, data, addr)
        else:
            self.on_holepunch_message(data, addr, self)

    def address(self) -> tuple[str, int]:
        return self.socket.address()

    def active(self) -> None:
        self.refs += 1

    def inactive(self) -> None:
        self.refs -= 1
        self._close_maybe()

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        self.on_holepunch_message = _noop
        self.refs -= 1
        self._close_maybe()

    def _close_maybe(self) -> None:
        if self.refs > 0:
            return
        for stream in list(self.socket.udx.streams.values()):
            if stream.socket is self.socket and not stream.closed:
                # a connection moved onto this socket: close once it is done
                self.pool._close_when_idle(self, stream)
                return
        self.pool._close(self)


class SocketPool:
    """Creates, tracks and closes the holepunch sockets of a node."""

    def __init__(self, dht: DHT, udx: UDX, host: str) -> None:
        self.dht = dht
        self.udx = udx
        self.host = host
        self.sockets: dict[UDXSocket, SocketRef] = {}
        self._tasks = TaskOwner("dht socket pool")
        self._all: set[UDXSocket] = set()
        self.stats = {"sockets_added": 0, "sockets_removed": 0}

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._tasks.closed:  # closed: every socket is closed already
            coro.close()
            return
        self._tasks.spawn(coro)

    async def acquire(self) -> SocketRef:
        ref = SocketRef(self)
        self._all.add(ref.socket)
        try:
            await ref.socket.bind(0, self.host)
        except BaseException:
            self._all.discard(ref.socket)
            await ref.socket.aclose()
            raise
        self.sockets[ref.socket] = ref
        self.stats["sockets_added"] += 1
        return ref

    def lookup(self, sock: object) -> SocketRef | None:
        return self.sockets.get(sock) if isinstance(sock, UDXSocket) else None

    def _close(self, ref: SocketRef) -> None:
        if self.sockets.pop(ref.socket, None) is None:
            return
        self.stats["sockets_removed"] += 1
        self._spawn(self._close_socket(ref.socket))

    async def _close_socket(self, sock: UDXSocket) -> None:
        await sock.aclose()
        self._all.discard(sock)

    def _close_when_idle(self, ref: SocketRef, stream: Any) -> None:
        async def wait() -> None:
            with contextlib.suppress(Exception):
                await stream.wait_closed()
            self._close(ref)

        self._spawn(wait())

    async def aclose(self) -> None:
        await self._tasks.aclose()
        self.sockets.clear()
        for sock in list(self._all):
            with contextlib.suppress(Exception):
                await sock.aclose()
        self._all.clear()


def attach_stream(raw: UDXStream, protocol: asyncio.Protocol) -> None:
    """``hyperpunch.udx.transport.attach``: it also delivers the bytes (and END) the raw stream
    received before the transport existed (the remote may send its secret-stream header before
    our side has chosen its path)."""
    attach(raw, protocol)

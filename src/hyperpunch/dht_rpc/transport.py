"""The datagram transport dht-rpc runs on, and its asyncio UDP implementation.

The interface (any object with these methods works, e.g. a UDX socket through
:func:`udx_socket_factory`):

* ``DatagramSocket.send(data, port, host, ttl=0)``: send one datagram, never block, never raise for
  network errors (JS ``trySend``); ``ttl`` > 0 sets the IP TTL for this datagram only.
* ``DatagramSocket.address() -> (host, port)``: the bound local address.
* ``await DatagramSocket.aclose()``: stop receiving and release the socket; idempotent.
* ``SocketFactory``: ``await factory(host, port, on_message)`` binds a new socket on
  ``host:port`` (port 0: any) and calls ``on_message(data, (host, port))`` for every datagram
  received, in order, from the event loop. Binding a busy port raises :class:`OSError`.

Invariants: ``on_message`` receives ``bytes``; sends to an unreachable or invalid address are
dropped silently (UDP semantics); nothing here parses dht-rpc messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket as _socket
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from hyperpunch.udx.socket import UDX, UDXSocket

__all__ = [
    "AsyncioDatagramSocket",
    "DatagramSocket",
    "MessageHandler",
    "SocketFactory",
    "UDXDatagramSocket",
    "asyncio_socket_factory",
    "udx_socket_factory",
]

MessageHandler = Callable[[bytes, tuple[str, int]], None]

SOCKET_BUFFER_SIZE = 1 << 21  # bursts of queries must not overflow the kernel's default buffers


class DatagramSocket(Protocol):
    def send(self, data: bytes, port: int, host: str, ttl: int = 0) -> None: ...

    def address(self) -> tuple[str, int]: ...

    async def aclose(self) -> None: ...


SocketFactory = Callable[[str, int, MessageHandler], Awaitable[DatagramSocket]]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, on_message: MessageHandler) -> None:
        self.on_message = on_message
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.on_message(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:  # ICMP errors: UDP semantics, ignore
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class AsyncioDatagramSocket:
    """A UDP socket on asyncio's datagram endpoint."""

    def __init__(self, transport: asyncio.DatagramTransport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        sockname = transport.get_extra_info("sockname")
        self._address = (str(sockname[0]), int(sockname[1]))
        self._closed = False

    def send(self, data: bytes, port: int, host: str, ttl: int = 0) -> None:
        if self._closed:
            return
        try:
            if ttl > 0:
                sock = self._transport.get_extra_info("socket")
                old = sock.getsockopt(_socket.IPPROTO_IP, _socket.IP_TTL)
                sock.setsockopt(_socket.IPPROTO_IP, _socket.IP_TTL, ttl)
                try:
                    sock.sendto(data, (host, port))
                finally:
                    sock.setsockopt(_socket.IPPROTO_IP, _socket.IP_TTL, old)
            else:
                self._transport.sendto(data, (host, port))
        except (OSError, ValueError, TypeError, OverflowError):
            return

    def address(self) -> tuple[str, int]:
        return self._address

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._transport.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(self._protocol.closed), 1.0)


async def asyncio_socket_factory(host: str, port: int, on_message: MessageHandler) -> DatagramSocket:
    """Bind an IPv4 UDP socket on ``host:port`` with asyncio."""
    loop = asyncio.get_running_loop()
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        for opt in (_socket.SO_RCVBUF, _socket.SO_SNDBUF):
            with contextlib.suppress(OSError):
                sock.setsockopt(_socket.SOL_SOCKET, opt, SOCKET_BUFFER_SIZE)
        sock.bind((host, port))
        sock.setblocking(False)
        transport, protocol = await loop.create_datagram_endpoint(lambda: _Protocol(on_message), sock=sock)
    except BaseException:
        sock.close()
        raise
    return AsyncioDatagramSocket(transport, protocol)


class UDXDatagramSocket:
    """A :class:`hyperpunch.udx.UDXSocket` seen as a :class:`DatagramSocket`.

    ``udx_socket`` is the underlying socket, for running UDX streams on the DHT's port.
    """

    def __init__(self, sock: UDXSocket) -> None:
        self._sock = sock

    @property
    def udx_socket(self) -> UDXSocket:
        return self._sock

    def send(self, data: bytes, port: int, host: str, ttl: int = 0) -> None:
        try:  # not contextlib.suppress: this runs once per datagram
            self._sock.send(data, port, host)
        except Exception:
            return

    def address(self) -> tuple[str, int]:
        host, port = self._sock.address()
        return (str(host), int(port))

    async def aclose(self) -> None:
        await self._sock.aclose()


def udx_socket_factory(udx: UDX | None = None) -> SocketFactory:
    """A factory binding :class:`hyperpunch.udx.UDXSocket` sockets (non-stream datagrams go to the DHT).

    ``ttl`` is not supported by the UDX socket yet and is ignored.
    """

    async def factory(host: str, port: int, on_message: MessageHandler) -> DatagramSocket:
        u = udx if udx is not None else UDX()
        sock = u.create_socket(on_message=on_message)
        await sock.bind(port, host)
        return UDXDatagramSocket(sock)

    return factory

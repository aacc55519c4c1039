"""An in-process stand-in for HyperDHT (the contract of notes/HYPERDHT-API.md) for swarm tests.

Announcements live in a shared dict per :class:`FakeNetwork`; ``connect`` pairs two real
:class:`SecretStream`s (XX handshake) over an in-memory asyncio transport, so the swarm sees real
encrypted streams with real raw byte counters.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from hyperpunch.crypto import KeyPair, key_pair
from hyperpunch.dht.errors import PeerConnectionFailedError, PeerNotFoundError
from hyperpunch.secretstream import SecretStream


class MemTransport(asyncio.Transport):
    """One end of an in-memory byte pipe speaking the asyncio Transport shape."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.peer: MemTransport | None = None
        self.closed = False
        self.loop = asyncio.get_running_loop()

    def write(self, data: Any) -> None:
        if self.closed or self.peer is None or self.peer.closed:
            return
        self.loop.call_soon(self.peer._deliver, bytes(data))

    def _deliver(self, data: bytes) -> None:
        if not self.closed:
            self.protocol.data_received(data)

    def write_eof(self) -> None:
        if self.peer is not None and not self.peer.closed:
            self.loop.call_soon(self.peer._eof)

    def _eof(self) -> None:
        if not self.closed and not self.protocol.eof_received():
            self.close()

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        for side in (self, self.peer):
            if side is not None and not side.closed:
                side.closed = True
                self.loop.call_soon(side.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def transport_pair(a: asyncio.Protocol, b: asyncio.Protocol) -> tuple[MemTransport, MemTransport]:
    ta, tb = MemTransport(a), MemTransport(b)
    ta.peer, tb.peer = tb, ta
    a.connection_made(ta)
    b.connection_made(tb)
    return ta, tb


@dataclass
class FakeRecord:
    public_key: bytes
    relay_addresses: list[Any] = field(default_factory=list)


@dataclass
class FakeReply:
    peers: list[FakeRecord]


class FakeQuery:
    """An async iterator of one reply, like a finished DHT query stream."""

    def __init__(self, peers: list[FakeRecord], delay: float) -> None:
        self.peers = peers
        self.delay = delay
        self.closest_nodes: list[Any] = []
        self.destroyed = False

    def __aiter__(self) -> AsyncIterator[FakeReply]:
        return self._it()

    async def _it(self) -> AsyncIterator[FakeReply]:
        await asyncio.sleep(self.delay)
        if not self.destroyed:
            yield FakeReply(list(self.peers))

    def destroy(self, err: BaseException | None = None) -> None:
        self.destroyed = True


class FakeNetwork:
    def __init__(self, *, delay: float = 0.001) -> None:
        self.delay = delay
        self.records: dict[bytes, dict[bytes, FakeRecord]] = {}
        self.servers: dict[bytes, FakeServer] = {}
        self.connects: list[tuple[bytes, bytes]] = []  # (client key, server key)
        self.announces = 0
        self.lookups = 0

    def dht(self) -> FakeDHT:
        return FakeDHT(self)


class FakeServer:
    def __init__(
        self,
        dht: FakeDHT,
        firewall: Callable[[bytes, Any, Any], bool] | None,
        on_connection: Callable[[SecretStream], Any] | None,
    ) -> None:
        self.dht = dht
        self.firewall = firewall
        self.on_connection = on_connection
        self.key_pair: KeyPair | None = None
        self.relay_addresses: list[Any] = []
        self.connections: set[SecretStream] = set()
        self.tasks: set[asyncio.Task[Any]] = set()

    @property
    def public_key(self) -> bytes | None:
        return None if self.key_pair is None else self.key_pair.public_key

    async def listen(self, kp: KeyPair | None = None) -> None:
        self.key_pair = kp or self.dht.default_key_pair
        await asyncio.sleep(self.dht.net.delay)
        self.dht.net.servers[self.key_pair.public_key] = self

    async def aclose(self) -> None:
        if self.key_pair is not None and self.dht.net.servers.get(self.key_pair.public_key) is self:
            del self.dht.net.servers[self.key_pair.public_key]
        for t in list(self.tasks):
            t.cancel()

    def accept(self, stream: SecretStream) -> None:
        async def run() -> None:
            try:
                await stream.wait_open()
            except Exception:
                return
            self.connections.add(stream)
            if self.on_connection is not None:
                self.on_connection(stream)
            with contextlib.suppress(Exception):
                await stream.wait_closed()
            self.connections.discard(stream)

        t = asyncio.ensure_future(run())
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)


class FakeDHT:
    def __init__(self, net: FakeNetwork) -> None:
        self.net = net
        self.default_key_pair = key_pair()
        self.online = True
        self.destroyed = False
        self.servers: list[FakeServer] = []
        self.streams: list[SecretStream] = []

    def on(self, event: str, fn: Callable[..., None]) -> None:
        pass

    def off(self, event: str, fn: Callable[..., None]) -> None:
        pass

    def create_server(self, *, firewall: Any = None, on_connection: Any = None, **_: Any) -> FakeServer:
        s = FakeServer(self, firewall, on_connection)
        self.servers.append(s)
        return s

    async def connect(
        self, remote_public_key: bytes, *, key_pair: KeyPair | None = None, **_: Any
    ) -> SecretStream:
        kp = key_pair or self.default_key_pair
        await asyncio.sleep(self.net.delay)
        server = self.net.servers.get(remote_public_key)
        if server is None or server.key_pair is None:
            raise PeerNotFoundError()
        if server.firewall is not None and server.firewall(kp.public_key, None, None):
            raise PeerConnectionFailedError()
        client = SecretStream(True, key_pair=kp, remote_public_key=remote_public_key)
        srv = SecretStream(False, key_pair=server.key_pair)
        transport_pair(client.protocol, srv.protocol)
        self.net.connects.append((kp.public_key, remote_public_key))
        server.accept(srv)
        self.streams.append(client)
        try:
            await client.wait_open()
        except BaseException:
            client.abort()
            raise
        return client

    def _peers(self, topic: bytes) -> list[FakeRecord]:
        return list(self.net.records.get(topic, {}).values())

    def lookup(self, topic: bytes) -> FakeQuery:
        self.net.lookups += 1
        return FakeQuery(self._peers(topic), self.net.delay)

    def announce_query(
        self, topic: bytes, kp: KeyPair, relays: list[Any], *, clear: bool = False
    ) -> FakeQuery:
        self.net.announces += 1
        peers = self._peers(topic)
        self.net.records.setdefault(topic, {})[kp.public_key] = FakeRecord(kp.public_key, list(relays))
        return FakeQuery(peers, self.net.delay)

    def lookup_and_unannounce(self, topic: bytes, kp: KeyPair) -> FakeQuery:
        self.net.records.get(topic, {}).pop(kp.public_key, None)
        return self.lookup(topic)

    async def unannounce(self, topic: bytes, kp: KeyPair) -> None:
        self.net.records.get(topic, {}).pop(kp.public_key, None)

    async def aclose(self) -> None:
        self.destroyed = True
        for s in self.servers:
            await s.aclose()

"""Hyperswarm over the in-process fake DHT: discovery, dedup, limits, firewall, retry, teardown."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fakedht import FakeNetwork, MemTransport

from hyperpunch.crypto import key_pair
from hyperpunch.swarm import Hyperswarm, MissingTopicError, PeerInfo, SwarmDestroyedError

FAST = [0.05, 0.1, 0.2, 1.0]


async def wait_until(
    cond: Callable[[], bool], timeout: float = 10.0, what: str | Callable[[], str] = "condition"
) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        await asyncio.sleep(0.01)


class Peer:
    """A swarm plus what it saw: connections (with PeerInfo) and received messages."""

    def __init__(self, net: FakeNetwork, **opts: Any) -> None:
        self.dht = net.dht()
        self.seen: list[tuple[Any, PeerInfo]] = []
        self.received: list[bytes] = []
        self.swarm = Hyperswarm(dht=self.dht, on_connection=self._on_conn, backoffs=FAST, jitter=0, **opts)
        self.key = self.swarm.key_pair.public_key

    async def _on_conn(self, conn: Any, info: PeerInfo) -> None:
        self.seen.append((conn, info))
        with contextlib.suppress(Exception):
            async for msg in conn:
                self.received.append(msg)

    def remotes(self) -> list[bytes]:
        return sorted(bytes(c.remote_public_key) for c in self.swarm.open_connections)


@contextlib.asynccontextmanager
async def peers(net: FakeNetwork, n: int, **opts: Any) -> AsyncIterator[list[Peer]]:
    ps = [Peer(net, **opts) for _ in range(n)]
    try:
        yield ps
    finally:
        for p in ps:
            await p.swarm.aclose()
            await p.dht.aclose()


def dump(p: Peer) -> str:
    s = p.swarm
    return f"remotes={len(p.remotes())} all={[(t.conn, t.is_initiator, t.destroyed) for t in s._all]} stats={s.stats} peers={[(v.attempts, v.queued, v.waiting, v.banned) for v in s.peers.values()]} timer={len(s._timer)} connecting={s.connecting} queue={len(s._queue)}"


def fully_meshed(ps: list[Peer]) -> bool:
    for p in ps:
        want = sorted(q.key for q in ps if q is not p)
        if p.remotes() != want:
            return False
    return True


async def test_two_peers_connect_once_and_talk() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    async with peers(net, 2) as (a, b):
        ha = a.swarm.join(topic)
        b.swarm.join(topic)
        assert await ha.flushed()
        await a.swarm.flush()
        await b.swarm.flush()
        await wait_until(lambda: fully_meshed([a, b]), what="a <-> b")
        (ca,) = a.swarm.open_connections
        (cb,) = b.swarm.open_connections
        assert ca.handshake_hash == cb.handshake_hash  # the same connection seen from both ends
        ca.write(b"hello from a")
        cb.write(b"hello from b")
        await wait_until(lambda: a.received == [b"hello from b"] and b.received == [b"hello from a"])
        (ia,) = [i for c, i in a.seen if c is ca]
        (ib,) = [i for c, i in b.seen if c is cb]
        assert ia.public_key == b.key and ib.public_key == a.key
        assert ia.client != ib.client  # one side dialled, the other accepted
        client_info = ia if ia.client else ib
        assert client_info.topics == [topic]
        assert a.swarm.status(topic) is not None and a.swarm.status(os.urandom(32)) is None


async def test_mesh_of_six_every_pair_once() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    async with peers(net, 6) as ps:
        for p in ps:
            p.swarm.join(topic)
        await wait_until(lambda: fully_meshed(ps), what="full mesh")
        await asyncio.sleep(0.2)  # let any duplicate that was in flight resolve
        assert fully_meshed(ps)
        hashes: dict[frozenset[bytes], set[bytes | None]] = {}
        for p in ps:
            for c in p.swarm.open_connections:
                pair = frozenset((p.key, bytes(c.remote_public_key)))
                hashes.setdefault(pair, set()).add(c.handshake_hash)
        assert len(hashes) == 15 and all(len(h) == 1 for h in hashes.values())
        for p in ps:
            for c in p.swarm.open_connections:
                c.write(p.key)
        want = {p.key: sorted(q.key for q in ps if q is not p) for p in ps}
        await wait_until(lambda: all(sorted(p.received) == want[p.key] for p in ps), what="all messages")


async def test_simultaneous_dials_converge_on_one_connection() -> None:
    """Both sides find each other and dial at once: the dedup rule keeps one stream per pair."""
    for _ in range(5):
        net = FakeNetwork(delay=0.0)
        topic = os.urandom(32)
        async with peers(net, 2) as (a, b):
            net.records[topic] = {}
            # announce both first, so both lookups see the other and both dial
            ha, hb = a.swarm.join(topic), b.swarm.join(topic)
            await asyncio.gather(ha.flushed(), hb.flushed())
            await asyncio.gather(ha.refresh(), hb.refresh())
            await wait_until(lambda: fully_meshed([a, b]), what=lambda: f"mesh {dump(a)} {dump(b)}")
            await asyncio.sleep(0.1)
            assert fully_meshed([a, b])
            (ca,) = a.swarm.open_connections
            (cb,) = b.swarm.open_connections
            assert ca.handshake_hash == cb.handshake_hash


async def test_client_only_respects_max_peers() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    async with peers(net, 4) as servers:
        for s in servers:
            await s.swarm.join(topic, server=True, client=False).flushed()
        async with peers(net, 1, max_peers=2) as (c,):
            c.swarm.join(topic, server=False, client=True)
            assert await c.swarm.flush()
            await wait_until(lambda: len(c.swarm.open_connections) == 2)
            await asyncio.sleep(0.1)
            assert len(c.swarm.open_connections) == 2
            assert c.swarm.stats["connects"]["client"]["opened"] == 2


async def test_firewall_rejects_and_bans() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    rejected: list[bytes] = []
    bans: list[PeerInfo] = []
    blocked = Peer(net)
    async with peers(net, 1) as (c,):

        def firewall(remote: bytes, _payload: Any) -> bool:
            rejected.append(remote)
            return remote == blocked.key

        guarded = Peer(net, firewall=firewall, on_ban=lambda info, err: bans.append(info))
        try:
            for p in (guarded, blocked, c):
                p.swarm.join(topic)
            await wait_until(lambda: c.key in guarded.remotes() and blocked.key in c.remotes())
            await asyncio.sleep(0.2)
            assert blocked.key not in guarded.remotes()
            assert guarded.key not in blocked.remotes()
            assert [b.public_key for b in bans] == [blocked.key]
            assert guarded.swarm.peers[blocked.key].banned
            assert guarded.swarm.stats["banned_peers"] == 1
            assert guarded.key not in rejected  # our own key never reaches the user firewall
        finally:
            await guarded.swarm.aclose()
            await blocked.swarm.aclose()


async def test_killed_peer_reconnects_after_restart() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    kp = key_pair()
    async with peers(net, 2) as (a, b):
        c = Peer(net, key_pair=kp)
        for p in (a, b, c):
            p.swarm.join(topic)
        await wait_until(lambda: fully_meshed([a, b, c]))
        await c.swarm.destroy(force=True)  # killed: no unannounce
        await wait_until(lambda: c.key not in a.remotes() and c.key not in b.remotes())
        c2 = Peer(net, key_pair=kp)
        try:
            c2.swarm.join(topic)
            await wait_until(
                lambda: kp.public_key in a.remotes() and kp.public_key in b.remotes(), what="reconnect"
            )
            assert len(c2.swarm.open_connections) == 2
        finally:
            await c2.swarm.aclose()


async def test_garbage_on_one_connection_closes_only_that_peer() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    async with peers(net, 3) as (a, b, c):
        for p in (a, b, c):
            p.swarm.join(topic)
        await wait_until(lambda: fully_meshed([a, b, c]))
        (to_b,) = [x for x in a.swarm.open_connections if bytes(x.remote_public_key) == b.key]
        (to_c,) = [x for x in a.swarm.open_connections if bytes(x.remote_public_key) == c.key]
        transport = to_b.transport
        assert isinstance(transport, MemTransport)
        transport.write(b"\x10\x00\x00" + os.urandom(16))  # a frame that fails to decrypt
        await wait_until(lambda: to_b not in a.swarm.open_connections, what="bad connection closed")
        assert to_c in a.swarm.open_connections and to_c.connected
        to_c.write(b"still here")
        await wait_until(lambda: b"still here" in c.received)


async def test_join_peer_without_topic_and_leave() -> None:
    net = FakeNetwork()
    async with peers(net, 2) as (a, b):
        await b.swarm.listen()
        a.swarm.join_peer(b.key)
        await wait_until(lambda: a.remotes() == [b.key] and b.remotes() == [a.key])
        assert a.swarm.peers[b.key].explicit
        a.swarm.leave_peer(b.key)
        assert b.key not in a.swarm.explicit_peers
        a.swarm.join_peer(a.key)  # our own key is ignored
        assert a.key not in a.swarm.peers


async def test_leave_unannounces_and_destroy_cleans_up() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    async with peers(net, 1) as (a,):
        h = a.swarm.join(topic, server=True, client=False)
        await h.flushed()
        assert a.key in net.records[topic]
        await a.swarm.leave(topic)
        assert a.key not in net.records[topic]
        assert a.swarm.status(topic) is None
        h2 = a.swarm.join(topic)
        await h2.flushed()
        assert a.key in net.records[topic]
        await h2.destroy()  # the last session leaves the topic
        assert a.key not in net.records[topic]
        with pytest.raises(MissingTopicError):
            a.swarm.join(b"short")
    swarm = a.swarm
    assert swarm.destroyed and not swarm._tasks and not swarm.open_connections
    with pytest.raises(SwarmDestroyedError):
        swarm.join(topic)


async def test_connections_iterator_ends_on_close() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    a = Hyperswarm(dht=net.dht())
    b = Hyperswarm(dht=net.dht())
    got: list[bytes] = []

    async def consume() -> None:
        async for _conn, info in a.connections():
            got.append(info.public_key)

    task = asyncio.ensure_future(consume())
    a.join(topic)
    b.join(topic)
    await wait_until(lambda: got == [b.key_pair.public_key])
    await a.aclose()
    await asyncio.wait_for(task, 5)
    await b.aclose()


async def test_switching_to_client_only_looks_up_and_unannounces() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    async with peers(net, 1) as (a,):
        h = a.swarm.join(topic)
        await h.flushed()
        assert a.key in net.records[topic]
        assert await h.refresh(server=False, client=True)
        assert a.key not in net.records[topic]
        d = a.swarm.status(topic)
        assert d is not None and d.is_client and not d.is_server


async def test_client_retries_after_its_connection_drops() -> None:
    net = FakeNetwork()
    topic = os.urandom(32)
    async with peers(net, 2) as (server, client):
        await server.swarm.join(topic, server=True, client=False).flushed()
        client.swarm.join(topic, server=False, client=True)
        await wait_until(lambda: client.remotes() == [server.key])
        (first,) = server.swarm.open_connections
        first.abort()  # the server drops it: the client's retry timer dials again
        await wait_until(
            lambda: client.remotes() == [server.key] and first not in server.swarm.open_connections
        )
        await wait_until(lambda: client.swarm.stats["connects"]["client"]["opened"] == 2, what="redial")
        info = client.swarm.peers[server.key]
        assert info.client and info.proven


async def test_dial_cancelled_before_it_started_is_cleaned_up() -> None:
    """A duplicate dial cancelled before its task ran still releases its slot and its key."""
    net = FakeNetwork()
    async with peers(net, 2) as (a, b):
        await b.swarm.listen()
        a.swarm.join_peer(b.key)  # the dial starts synchronously
        tracked = a.swarm._all.get(b.key)
        assert tracked is not None and tracked.conn is None and a.swarm.connecting == 1
        tracked.destroy()
        for _ in range(3):
            await asyncio.sleep(0)
        assert a.swarm._all.get(b.key) is not tracked
        assert a.swarm.stats["connects"]["client"]["closed"] == 1
        await wait_until(lambda: a.remotes() == [b.key], what="the explicit peer is dialled again")
        assert a.swarm.connecting == 0

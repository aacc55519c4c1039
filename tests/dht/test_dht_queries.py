"""hyperpunch.dht.queries against a small Python network of storing nodes on 127.0.0.1.

Each storing node is a dht-rpc ``DHT`` (ephemeral=False) whose ``on_request`` feeds a
:class:`Persistent`; clients are ephemeral ``DHT`` nodes. One test adds a lying storage node to
check that clients verify what they are given.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from hyperpunch.crypto import key_pair
from hyperpunch.dht import queries as q
from hyperpunch.dht.constants import Command, Error
from hyperpunch.dht.errors import DHTLocalError
from hyperpunch.dht.messages import Announce, MutableGetResponse, announce, encode, mutable_get_response
from hyperpunch.dht.messages import Peer as PeerRecord
from hyperpunch.dht.node import wall_clock_ms
from hyperpunch.dht.persistent import Persistent
from hyperpunch.dht.records import sign_announce, sign_mutable
from hyperpunch.dht.router import Router
from hyperpunch.dht_rpc import DHT, INVALID_TOKEN, IncomingRequest
from hyperpunch.encoding import Address

pytestmark = pytest.mark.timeout(60)

HOST = "127.0.0.1"
Handler = Callable[[IncomingRequest], bool]


def h(b: bytes) -> bytes:
    return hashlib.blake2b(b, digest_size=32).digest()


@dataclass
class Net:
    bootstrap: list[str]
    storers: list[DHT]
    persistents: list[Persistent]
    clients: list[DHT]


def storage_handler(node: DHT, p: Persistent) -> Handler:
    loop = asyncio.get_running_loop()
    return lambda req: p.on_request(req, loop.time())


@contextlib.asynccontextmanager
async def py_net(
    storers: int = 5, clients: int = 2, evil: Callable[[DHT], Handler] | None = None
) -> AsyncIterator[Net]:
    made: list[DHT] = []
    try:
        boot = DHT.bootstrapper(0, HOST, bind_host=HOST)
        made.append(boot)
        ps = [Persistent(boot, Router(), wall_clock=wall_clock_ms)]
        boot.on_request = storage_handler(boot, ps[0])
        await boot.ready()
        bs = [f"{HOST}:{boot.server_address().port}"]  # type: ignore[union-attr]
        nodes = []
        for _ in range(storers - 1):
            n = DHT(bootstrap=bs, host=HOST, ephemeral=False, firewalled=False)
            made.append(n)
            p = Persistent(n, Router(), wall_clock=wall_clock_ms)
            n.on_request = storage_handler(n, p)
            nodes.append(n)
            ps.append(p)
        if evil is not None:
            n = DHT(bootstrap=bs, host=HOST, ephemeral=False, firewalled=False)
            made.append(n)
            n.on_request = evil(n)
            nodes.append(n)
        await asyncio.gather(*(n.ready() for n in nodes))
        cs = [DHT(bootstrap=bs, host=HOST) for _ in range(clients)]
        made.extend(cs)
        await asyncio.gather(*(c.ready() for c in cs))
        yield Net(bs, [boot, *nodes], ps, cs)
    finally:
        for n in reversed(made):
            await n.aclose()


async def test_announce_lookup_unannounce() -> None:
    async with py_net() as net:
        a, b = net.clients
        topic = os.urandom(32)
        k1, k2 = key_pair(), key_pair()
        relays = [Address("10.0.0.1", 1000), Address("10.0.0.2", 2000)]
        await q.announce(a, topic, k1, relays)
        await q.announce(b, topic, k2)

        found = [r async for r in q.lookup(b, topic)]
        assert len(found) >= 3
        for r in found:
            assert r.from_.id is not None and r.token is not None
            assert {p.public_key for p in r.peers} == {k1.public_key, k2.public_key}
            assert next(p for p in r.peers if p.public_key == k1.public_key).relay_addresses == relays
        assert sum(len(p.records) for p in net.persistents) >= 2 * len(found)

        await q.unannounce(a, topic, k1)
        found = [r async for r in q.lookup(b, topic)]
        assert found and all([p.public_key for p in r.peers] == [k2.public_key] for r in found)

        # clear=True: unannounce then announce again with new relays
        await q.announce(b, topic, k2, [Address("10.0.0.3", 3)], clear=True)
        found = [r async for r in q.lookup(a, topic)]
        assert found and all(
            [(p.public_key, p.relay_addresses) for p in r.peers]
            == [(k2.public_key, [Address("10.0.0.3", 3)])]
            for r in found
        )


async def test_announce_self_is_routed_and_found_by_find_peer() -> None:
    async with py_net() as net:
        a, b = net.clients
        server = key_pair()
        await q.announce(a, h(server.public_key), server, [Address("10.0.0.9", 9)])
        assert all(len(p.records) == 0 for p in net.persistents)
        routed = [n for n, p in zip(net.storers, net.persistents, strict=False) if len(p.router)]
        assert routed
        client_port = a.address().port  # type: ignore[union-attr]
        for p in net.persistents:
            entry = p.router.get(h(server.public_key))
            if entry is not None:
                assert entry.relay is not None and entry.relay.port == client_port
        found = [r async for r in q.find_peer(b, server.public_key)]
        assert found and all(r.peer.public_key == server.public_key for r in found)
        assert all(r.peer.relay_addresses == [Address("10.0.0.9", 9)] for r in found)
        looked = [r async for r in q.lookup(b, h(server.public_key))]
        assert looked and all([p.public_key for p in r.peers] == [server.public_key] for r in looked)
        await q.unannounce(a, h(server.public_key), server)
        assert [r async for r in q.find_peer(b, server.public_key)] == []


async def test_mutable_put_get_and_seq_rules() -> None:
    async with py_net() as net:
        a, b = net.clients
        kp = key_pair()
        assert await q.mutable_get(b, kp.public_key) is None
        put = await q.mutable_put(a, kp, b"first", seq=1)
        assert put.stored >= 3 and put.errors == [] and put.seq == 1
        assert put.signature == sign_mutable(1, b"first", kp)
        got = await q.mutable_get(b, kp.public_key)
        assert got is not None and (got.seq, got.value, got.signature) == (1, b"first", put.signature)

        reused = await q.mutable_put(a, kp, b"other", seq=1)
        assert reused.stored == 0 and reused.errors and set(reused.errors) == {Error.SEQ_REUSED}
        low = await q.mutable_put(a, kp, b"older", seq=0)
        assert low.stored == 0 and set(low.errors) == {Error.SEQ_TOO_LOW}
        await q.mutable_put(a, kp, b"second", seq=2)
        got = await q.mutable_get(b, kp.public_key, seq=2)
        assert got is not None and (got.seq, got.value) == (2, b"second")
        assert await q.mutable_get(b, kp.public_key, seq=3) is None
        first = await q.mutable_get(b, kp.public_key, latest=False)
        assert first is not None and first.seq == 2
        # an empty value is a value (as in JS)
        await q.mutable_put(a, kp, b"", seq=5)
        got = await q.mutable_get(b, kp.public_key)
        assert got is not None and (got.seq, got.value) == (5, b"")


async def test_mutable_get_refresh_reputs_the_record() -> None:
    async with py_net() as net:
        a, b = net.clients
        kp = key_pair()
        await q.mutable_put(a, kp, b"keep me", seq=7)
        for p in net.persistents:
            p.mutables.clear()
        # a single storer still has it: write it back there by hand
        target = h(kp.public_key)
        rec = encode(mutable_get_response, MutableGetResponse(7, b"keep me", sign_mutable(7, b"keep me", kp)))
        net.persistents[0].mutables.set(target, (7, rec))
        seen: list[int] = []

        def refresh(r: q.MutableGetResult) -> bool:
            seen.append(r.seq)
            return True

        got = await q.mutable_get(b, kp.public_key, refresh=refresh)
        assert got is not None and got.value == b"keep me" and seen == [7]
        assert sum(1 for p in net.persistents if p.mutables.get(target) is not None) >= 3


async def test_immutable_put_get() -> None:
    async with py_net() as net:
        a, b = net.clients
        value = os.urandom(700)
        put = await q.immutable_put(a, value)
        assert put.hash == h(value) and put.stored >= 3
        got = await q.immutable_get(b, put.hash)
        assert got is not None and got.value == value and got.from_.id is not None
        assert await q.immutable_get(b, h(b"never stored")) is None
        big = os.urandom(q.max_immutable_size(a))  # the largest one datagram carries
        put = await q.immutable_put(a, big)
        got = await q.immutable_get(b, put.hash)
        assert got is not None and got.value == big


async def test_oversized_values_are_refused_locally() -> None:
    async with py_net(storers=3, clients=1) as net:
        (a,) = net.clients
        kp = key_pair()
        limit = q.max_mutable_size(a, 300)
        assert limit < q.max_immutable_size(a) < q.MAX_DATAGRAM_SIZE
        with pytest.raises(DHTLocalError) as e1:
            await q.mutable_put(a, kp, b"x" * (limit + 1), seq=300)
        assert e1.value.code == "VALUE_TOO_LARGE"
        with pytest.raises(DHTLocalError):
            await q.immutable_put(a, b"x" * (q.max_immutable_size(a) + 1))
        with pytest.raises(DHTLocalError):
            await q.immutable_put(a, os.urandom(60_000))
        # the largest allowed value goes through, and the node still works
        assert (await q.mutable_put(a, kp, b"y" * limit, seq=300)).stored >= 1
        got = await q.mutable_get(a, kp.public_key)
        assert got is not None and got.value == b"y" * limit
        assert (await q.immutable_put(a, b"small")).stored >= 1


def liar(node: DHT) -> Handler:
    """A storage node that answers every get with a forged record (and swallows writes)."""

    def handler(req: IncomingRequest) -> bool:
        if req.command == Command.MUTABLE_GET:
            forged = key_pair()
            req.reply(
                encode(
                    mutable_get_response,
                    MutableGetResponse(999, b"forged", sign_mutable(999, b"forged", forged)),
                )
            )
            return True
        if req.command == Command.IMMUTABLE_GET:
            req.reply(b"not the value you hashed")
            return True
        if req.command == Command.LOOKUP:
            req.reply(b"\xff\xff\xff")  # undecodable: skipped
            return True
        if req.command in (Command.MUTABLE_PUT, Command.IMMUTABLE_PUT, Command.ANNOUNCE):
            req.reply(None)
            return True
        return False

    return handler


async def test_clients_ignore_forged_records() -> None:
    async with py_net(storers=4, clients=2, evil=liar) as net:
        a, b = net.clients
        kp = key_pair()
        await q.mutable_put(a, kp, b"genuine", seq=3)
        got = await q.mutable_get(b, kp.public_key)
        assert got is not None and (got.seq, got.value) == (3, b"genuine")
        got = await q.mutable_get(b, kp.public_key, latest=False)
        assert got is not None and got.value == b"genuine"
        unknown = key_pair()
        assert await q.mutable_get(b, unknown.public_key) is None  # only the liar answers a value
        put = await q.immutable_put(a, b"genuine immutable")
        got_i = await q.immutable_get(b, put.hash)
        assert got_i is not None and got_i.value == b"genuine immutable"
        assert await q.immutable_get(b, h(b"nothing")) is None
        topic = os.urandom(32)
        await q.announce(a, topic, kp)
        found = [r async for r in q.lookup(b, topic)]
        assert found and all([p.public_key for p in r.peers] == [kp.public_key] for r in found)


async def test_unannounce_reaches_full_replies_and_own_storage() -> None:
    async with py_net(storers=4, clients=1) as net:
        (a,) = net.clients
        topic = os.urandom(32)
        keys = [key_pair() for _ in range(22)]
        await asyncio.gather(*(q.announce(a, topic, k) for k in keys))
        found = [r async for r in q.lookup(a, topic)]
        assert found and all(len(r.peers) == 20 for r in found)  # 22 stored, 20 served
        # a storing node unannouncing also forgets the record in its own storage
        me, mine = net.storers[1], net.persistents[1]
        assert len(mine.records.get(topic)) == 22
        await q.unannounce(me, topic, keys[0], persistent=mine)
        assert keys[0].public_key.hex() not in {r[:32].hex() for r in mine.records.get(topic)}
        for p in net.persistents:
            assert len(p.records.get(topic)) in (0, 21)
        assert sum(len(p.records.get(topic)) == 21 for p in net.persistents) >= 3


async def test_storers_refuse_tokens_they_did_not_hand_out() -> None:
    async with py_net(storers=3, clients=1) as net:
        (a,) = net.clients
        storer = net.storers[1]
        to = storer.server_address()
        assert to is not None and storer.id is not None
        topic = os.urandom(32)
        kp = key_pair()
        made_up = h(b"made-up token")
        ann = Announce(PeerRecord(kp.public_key, []))
        value = encode(announce, Announce(ann.peer, None, sign_announce(topic, made_up, storer.id, ann, kp)))
        res = await a.request(to, Command.ANNOUNCE, target=topic, token=made_up, value=value)
        assert res.error == INVALID_TOKEN
        assert len(net.persistents[1].records) == 0
        # with the token it hands out, the same announce (re-signed for it) is stored
        token = (await a.request(to, Command.LOOKUP, target=topic)).token
        assert token is not None
        value = encode(announce, Announce(ann.peer, None, sign_announce(topic, token, storer.id, ann, kp)))
        res = await a.request(to, Command.ANNOUNCE, target=topic, token=token, value=value)
        assert res.error == 0 and len(net.persistents[1].records) == 1

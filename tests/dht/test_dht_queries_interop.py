"""Record operations across Python and the pinned JS hyperdht 6.34 (interop/scripts/dht-rec-testnet.js).

* Python clients against JS storage nodes, with a JS client reading back (and the reverse),
* a JS client against Python storage nodes,
* a mixed network (JS and Python storage nodes side by side).

These fail (never skip) when node or the reference is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hyperpunch.crypto import key_pair
from hyperpunch.dht import queries as q
from hyperpunch.dht.constants import Command, Error
from hyperpunch.dht.messages import (
    Announce,
    MutablePutRequest,
    announce,
    encode,
    mutable_put_request,
    peer,
)
from hyperpunch.dht.messages import Peer as PeerRecord
from hyperpunch.dht.node import wall_clock_ms
from hyperpunch.dht.persistent import Persistent
from hyperpunch.dht.records import sign_announce, sign_mutable
from hyperpunch.dht.router import Router
from hyperpunch.dht_rpc import DHT, INVALID_TOKEN, RequestTimeoutError
from hyperpunch.encoding import Address
from jsref import NodeProcess, spawn_node

pytestmark = [pytest.mark.interop, pytest.mark.timeout(90)]

HOST = "127.0.0.1"
CLIENT = -1  # the JS script's ephemeral client node


def h(b: bytes) -> bytes:
    return hashlib.blake2b(b, digest_size=32).digest()


class JSNet:
    def __init__(self, proc: NodeProcess, ready: dict[str, Any]) -> None:
        self.proc = proc
        self.bootstrap = [f"{b['host']}:{b['port']}" for b in ready["bootstrap"]]
        self.nodes: list[dict[str, Any]] = ready["nodes"]
        self._ids = itertools.count(1)

    async def call(self, cmd: str, node: int = CLIENT, **kw: Any) -> dict[str, Any]:
        rid = next(self._ids)
        await self.proc.send({"cmd": cmd, "id": rid, "node": node, **kw})
        msg = await self.proc.expect("result", timeout=60)
        assert msg["id"] == rid, msg
        return msg

    async def ok(self, cmd: str, node: int = CLIENT, **kw: Any) -> dict[str, Any]:
        msg = await self.call(cmd, node, **kw)
        assert not isinstance(msg.get("error"), str), msg  # the script reports failures as a string
        return msg


@contextlib.asynccontextmanager
async def js_net(count: int, bootstrap: list[str] | None = None) -> AsyncIterator[JSNet]:
    args = [str(count)] + ([",".join(bootstrap)] if bootstrap else [])
    async with spawn_node("dht-rec-testnet.js", *args) as proc:
        net = JSNet(proc, await proc.expect("ready", timeout=60))
        try:
            yield net
        finally:
            await proc.send({"cmd": "close"})


@contextlib.asynccontextmanager
async def py_nodes(
    bootstrap: list[str] | None, storers: int, clients: int = 1
) -> AsyncIterator[tuple[list[str], list[DHT], list[Persistent], list[DHT]]]:
    """Python storing nodes (a bootstrapper first when ``bootstrap`` is None) and clients."""
    loop = asyncio.get_running_loop()
    made: list[DHT] = []
    ps: list[Persistent] = []

    def storing(n: DHT) -> DHT:
        p = Persistent(n, Router(), wall_clock=wall_clock_ms)
        n.on_request = lambda req: p.on_request(req, loop.time())
        ps.append(p)
        made.append(n)
        return n

    try:
        st: list[DHT] = []
        if bootstrap is None:
            boot = storing(DHT.bootstrapper(0, HOST, bind_host=HOST))
            await boot.ready()
            bootstrap = [f"{HOST}:{boot.server_address().port}"]  # type: ignore[union-attr]
            st.append(boot)
            storers -= 1
        more = [
            storing(DHT(bootstrap=bootstrap, host=HOST, ephemeral=False, firewalled=False))
            for _ in range(storers)
        ]
        await asyncio.gather(*(n.ready() for n in more))
        cs = [DHT(bootstrap=bootstrap, host=HOST) for _ in range(clients)]
        made.extend(cs)
        await asyncio.gather(*(c.ready() for c in cs))
        yield bootstrap, st + more, ps, cs
    finally:
        for n in reversed(made):
            await n.aclose()


def js_peers(result: dict[str, Any]) -> list[tuple[str, list[tuple[str, int]]]]:
    return sorted(
        (p["publicKey"], [(a["host"], a["port"]) for a in p["relayAddresses"]]) for p in result["peers"]
    )


async def test_python_client_with_js_storage_nodes() -> None:
    async with js_net(5) as js, py_nodes(js.bootstrap, storers=0, clients=1) as (_, _, _, (client,)):
        js_ports = {n["port"] for n in js.nodes}
        topic = os.urandom(32)
        py_kp, js_seed = key_pair(os.urandom(32)), os.urandom(32)
        js_kp = key_pair(js_seed)
        relays = [Address("10.0.0.1", 1001), Address("10.0.0.2", 1002)]

        # announce by Python, lookup by JS; announce by JS, lookup by Python
        await q.announce(client, topic, py_kp, relays)
        res = (await js.ok("lookup", target=topic.hex()))["results"]
        assert len(res) >= 3 and all(r["from"]["port"] in js_ports for r in res)
        want = (py_kp.public_key.hex(), [(a.host, a.port) for a in relays])
        assert all(js_peers(r) == [want] for r in res)
        # the JS nodes store exactly our peer record
        stored = (await js.ok("stored", target=topic.hex()))["stored"]
        record = encode(peer, PeerRecord(py_kp.public_key, relays)).hex()
        assert sum(s is not None and s["records"] == [record] for s in stored) >= 3

        await js.ok(
            "announce",
            target=topic.hex(),
            seed=js_seed.hex(),
            relayAddresses=[{"host": "10.0.0.3", "port": 3}],
        )
        found = [r async for r in q.lookup(client, topic)]
        assert len(found) >= 3 and all(r.from_.port in js_ports for r in found)
        for r in found:
            keys = {p.public_key: p.relay_addresses for p in r.peers}
            assert keys == {py_kp.public_key: relays, js_kp.public_key: [Address("10.0.0.3", 3)]}

        # bumps: the highest one not too far ahead of the storer's clock is served with lookups
        bump_topic = os.urandom(32)
        now_ms = int(time.time() * 1000)
        await q.announce(client, bump_topic, py_kp, bump=now_ms - 5000)
        await js.ok("announce", target=bump_topic.hex(), seed=js_seed.hex(), bump=now_ms - 9000)
        res = (await js.ok("lookup", target=bump_topic.hex()))["results"]
        assert res and all(r["bump"] == now_ms - 5000 for r in res)
        await js.ok("announce", target=bump_topic.hex(), seed=js_seed.hex(), bump=now_ms - 1000)
        await q.announce(client, bump_topic, py_kp, bump=now_ms + 3_600_000)  # too far ahead: ignored
        found = [r async for r in q.lookup(client, bump_topic)]
        assert found and all(r.bump == now_ms - 1000 for r in found)

        # unannounce by Python: JS no longer sees our key
        await q.unannounce(client, topic, py_kp)
        res = (await js.ok("lookup", target=topic.hex()))["results"]
        assert res and all([p["publicKey"] for p in r["peers"]] == [js_kp.public_key.hex()] for r in res)

        # announce self by Python -> JS find_peer; by JS -> Python find_peer
        server = key_pair()
        await q.announce(client, h(server.public_key), server, relays[:1])
        fp = (await js.ok("find_peer", publicKey=server.public_key.hex()))["results"]
        assert fp and all(r["peer"]["publicKey"] == server.public_key.hex() for r in fp)
        js_server_seed = os.urandom(32)
        js_server = key_pair(js_server_seed)
        await js.ok("announce", target=h(js_server.public_key).hex(), seed=js_server_seed.hex())
        fpy = [r async for r in q.find_peer(client, js_server.public_key)]
        assert fpy and all(r.peer.public_key == js_server.public_key for r in fpy)

        # mutable: put by Python, get by JS; put by JS, get by Python
        put = await q.mutable_put(client, py_kp, b"from python", seq=4)
        assert put.stored >= 3 and put.errors == []
        got = await js.ok("mutable_get", publicKey=py_kp.public_key.hex())
        assert got["found"] and (got["seq"], got["value"], got["signature"]) == (
            4,
            b"from python".hex(),
            put.signature.hex(),
        )
        js_put = await js.ok("mutable_put", seed=js_seed.hex(), value=b"from js".hex(), seq=9)
        pg = await q.mutable_get(client, js_kp.public_key)
        assert pg is not None and (pg.seq, pg.value, pg.signature.hex()) == (
            9,
            b"from js",
            js_put["signature"],
        )
        # the JS storers enforce the seq rules on a Python writer
        low = await q.mutable_put(client, py_kp, b"older", seq=3)
        assert low.stored == 0 and low.errors and set(low.errors) == {Error.SEQ_TOO_LOW}
        reuse = await q.mutable_put(client, py_kp, b"same seq, other value", seq=4)
        assert reuse.stored == 0 and reuse.errors and set(reuse.errors) == {Error.SEQ_REUSED}

        # immutable both ways
        value = os.urandom(900)
        ip = await q.immutable_put(client, value)
        got = await js.ok("immutable_get", hash=ip.hash.hex())
        assert got["found"] and got["value"] == value.hex()
        js_value = os.urandom(500)
        jp = await js.ok("immutable_put", value=js_value.hex())
        assert jp["hash"] == h(js_value).hex()
        ig = await q.immutable_get(client, h(js_value))
        assert ig is not None and ig.value == js_value and ig.from_.port in js_ports
        # the largest values a JS node can receive (one 2048-byte datagram) are stored by JS
        big = os.urandom(q.max_immutable_size(client))
        ip = await q.immutable_put(client, big)
        assert ip.stored >= 3
        stored = (await js.ok("stored", target=ip.hash.hex()))["stored"]
        assert sum(s is not None and s["immutable"] == big.hex() for s in stored) >= 3
        ig = await q.immutable_get(client, ip.hash)
        assert ig is not None and ig.value == big
        big_kp = key_pair()
        big_m = os.urandom(q.max_mutable_size(client, 1))
        mp = await q.mutable_put(client, big_kp, big_m, seq=1)
        assert mp.stored >= 3 and mp.errors == []
        mg = await q.mutable_get(client, big_kp.public_key)
        assert mg is not None and mg.value == big_m


async def test_js_storage_drops_bad_records_from_python() -> None:
    async with js_net(4) as js, py_nodes(js.bootstrap, storers=0, clients=1) as (_, _, _, (client,)):
        node = js.nodes[1]
        to = (node["host"], node["port"])
        node_id = bytes.fromhex(node["id"])
        topic = os.urandom(32)
        kp = key_pair()
        first = await client.request(to, Command.LOOKUP, target=topic)
        assert first.error == 0 and first.token is not None
        token = first.token

        # a token we were not given: dht-rpc refuses it before the storage sees it
        made_up = h(b"made-up token")
        forged_tok = Announce(
            PeerRecord(kp.public_key, []),
            None,
            sign_announce(topic, made_up, node_id, Announce(PeerRecord(kp.public_key, [])), kp),
        )
        res = await client.request(
            to, Command.ANNOUNCE, target=topic, token=made_up, value=encode(announce, forged_tok)
        )
        assert res.error == INVALID_TOKEN

        # a bad signature, and a signature for another node: dropped, no answer
        rec = PeerRecord(kp.public_key, [])
        ann = Announce(rec)
        sig = sign_announce(topic, token, node_id, ann, kp)
        bad = [
            Announce(ann.peer, None, bytes([sig[0] ^ 1]) + sig[1:]),
            Announce(ann.peer, None, sign_announce(topic, token, h(b"other node"), ann, kp)),
        ]
        for a in bad:
            with pytest.raises(RequestTimeoutError):
                await client.request(
                    to, Command.ANNOUNCE, target=topic, token=token, value=encode(announce, a), retry=False
                )
        forged = MutablePutRequest(kp.public_key, 1, b"v", sign_mutable(1, b"w", kp))
        with pytest.raises(RequestTimeoutError):
            await client.request(
                to,
                Command.MUTABLE_PUT,
                target=h(kp.public_key),
                token=token,
                value=encode(mutable_put_request, forged),
                retry=False,
            )
        with pytest.raises(RequestTimeoutError):
            await client.request(
                to, Command.IMMUTABLE_PUT, target=h(b"x"), token=token, value=b"not x", retry=False
            )
        stored = (await js.ok("stored", target=topic.hex()))["stored"]
        assert all(s is None or s["records"] == [] for s in stored)
        assert not (await js.ok("mutable_get", publicKey=kp.public_key.hex()))["found"]

        # the good one is accepted (same node, same token)
        good = Announce(ann.peer, None, sig)
        res = await client.request(
            to, Command.ANNOUNCE, target=topic, token=token, value=encode(announce, good)
        )
        assert res.error == 0
        stored = (await js.ok("stored", target=topic.hex()))["stored"]
        assert stored[1]["records"] == [encode(peer, rec).hex()]


async def test_js_client_with_python_storage_nodes() -> None:
    async with py_nodes(None, storers=5, clients=1) as (bootstrap, storers, ps, (client,)):
        py_ports = {n.server_address().port for n in storers}  # type: ignore[union-attr]
        async with js_net(0, bootstrap) as js:
            topic = os.urandom(32)
            js_seed = os.urandom(32)
            js_kp = key_pair(js_seed)
            py_kp = key_pair()

            await js.ok(
                "announce",
                target=topic.hex(),
                seed=js_seed.hex(),
                relayAddresses=[{"host": "10.0.0.7", "port": 7}],
            )
            assert sum(len(p.records) for p in ps) >= 3
            found = [r async for r in q.lookup(client, topic)]
            assert len(found) >= 3 and all(r.from_.port in py_ports for r in found)
            assert all(
                [(p.public_key, p.relay_addresses) for p in r.peers]
                == [(js_kp.public_key, [Address("10.0.0.7", 7)])]
                for r in found
            )

            await q.announce(client, topic, py_kp)
            res = (await js.ok("lookup", target=topic.hex()))["results"]
            assert len(res) >= 3 and all(r["from"]["port"] in py_ports for r in res)
            assert all(len(r["peers"]) == 2 for r in res)

            # a JS bump is kept by the Python storers (and one too far ahead is not)
            now_ms = int(time.time() * 1000)
            await js.ok("announce", target=topic.hex(), seed=js_seed.hex(), bump=now_ms - 2000)
            await js.ok("announce", target=topic.hex(), seed=js_seed.hex(), bump=now_ms + 3_600_000)
            found = [r async for r in q.lookup(client, topic)]
            assert found and all(r.bump == now_ms - 2000 for r in found)
            res = (await js.ok("lookup", target=topic.hex()))["results"]
            assert res and all(r["bump"] == now_ms - 2000 for r in res)

            await js.ok("unannounce", target=topic.hex(), seed=js_seed.hex())
            found = [r async for r in q.lookup(client, topic)]
            assert found and all([p.public_key for p in r.peers] == [py_kp.public_key] for r in found)

            # announce self by JS -> Python storers route it; JS and Python find_peer see it
            server_seed = os.urandom(32)
            server = key_pair(server_seed)
            await js.ok("announce", target=h(server.public_key).hex(), seed=server_seed.hex())
            assert any(p.router.get(h(server.public_key)) is not None for p in ps)
            fpy = [r async for r in q.find_peer(client, server.public_key)]
            assert fpy and all(r.peer.public_key == server.public_key for r in fpy)
            fjs = (await js.ok("find_peer", publicKey=server.public_key.hex()))["results"]
            assert fjs and all(r["peer"]["publicKey"] == server.public_key.hex() for r in fjs)

            # mutable both ways; JS writes a lower seq afterwards: JS resolves, Python keeps the higher
            js_put = await js.ok("mutable_put", seed=js_seed.hex(), value=b"js value".hex(), seq=2)
            got = await q.mutable_get(client, js_kp.public_key)
            assert got is not None and (got.seq, got.value, got.signature.hex()) == (
                2,
                b"js value",
                js_put["signature"],
            )
            await js.ok("mutable_put", seed=js_seed.hex(), value=b"js older".hex(), seq=1)
            got = await q.mutable_get(client, js_kp.public_key)
            assert got is not None and (got.seq, got.value) == (2, b"js value")
            put = await q.mutable_put(client, py_kp, b"py value", seq=11)
            jg = await js.ok("mutable_get", publicKey=py_kp.public_key.hex())
            assert jg["found"] and (jg["seq"], jg["value"], jg["signature"]) == (
                11,
                b"py value".hex(),
                put.signature.hex(),
            )
            assert not (await js.ok("mutable_get", publicKey=py_kp.public_key.hex(), seq=12))["found"]

            # immutable both ways
            v = os.urandom(1200)
            jp = await js.ok("immutable_put", value=v.hex())
            ig = await q.immutable_get(client, bytes.fromhex(jp["hash"]))
            assert ig is not None and ig.value == v
            v2 = os.urandom(64)
            await q.immutable_put(client, v2)
            jg = await js.ok("immutable_get", hash=h(v2).hex())
            assert jg["found"] and jg["value"] == v2.hex() and jg["from"]["port"] in py_ports

            # garbage from JS to a Python storer: dropped (JS times out), the node keeps serving
            target_port = storers[1].server_address().port  # type: ignore[union-attr]
            tok = await js.ok(
                "request",
                to={"host": HOST, "port": target_port},
                command=int(Command.LOOKUP),
                target=topic.hex(),
            )
            bad = await js.call(
                "request",
                to={"host": HOST, "port": target_port},
                command=int(Command.ANNOUNCE),
                target=topic.hex(),
                token=tok["token"],
                value="ffffffff",
                retry=False,
            )
            assert bad.get("error") == "REQUEST_TIMEOUT"
            again = await js.ok(
                "request",
                to={"host": HOST, "port": target_port},
                command=int(Command.LOOKUP),
                target=topic.hex(),
            )
            assert again["error"] == 0 and again["value"] is not None


async def test_mixed_network_of_js_and_python_storers() -> None:
    async with js_net(4) as js, py_nodes(js.bootstrap, storers=4, clients=1) as (_, storers, ps, (client,)):
        py_ports = {n.server_address().port for n in storers}  # type: ignore[union-attr]
        js_ports = {n["port"] for n in js.nodes}
        seen_py: set[int] = set()
        seen_js: set[int] = set()
        for _ in range(4):  # several targets so that both kinds end up among the closest
            topic = os.urandom(32)
            py_kp, js_seed = key_pair(), os.urandom(32)
            await q.announce(client, topic, py_kp)
            await js.ok("announce", target=topic.hex(), seed=js_seed.hex())
            want = {py_kp.public_key, key_pair(js_seed).public_key}
            found = [r async for r in q.lookup(client, topic)]
            assert found and all({p.public_key for p in r.peers} == want for r in found)
            res = (await js.ok("lookup", target=topic.hex()))["results"]
            assert res and all({bytes.fromhex(p["publicKey"]) for p in r["peers"]} == want for r in res)
            for r in found:
                (seen_py if r.from_.port in py_ports else seen_js).add(r.from_.port)
            for r in res:
                (seen_py if r["from"]["port"] in py_ports else seen_js).add(r["from"]["port"])
        assert seen_py and seen_js and seen_js <= js_ports

        kp = key_pair(os.urandom(32))
        put = await q.mutable_put(client, kp, b"mixed", seq=1)
        assert put.stored >= 3
        jg = await js.ok("mutable_get", publicKey=kp.public_key.hex())
        assert jg["found"] and jg["value"] == b"mixed".hex()
        assert any(p.mutables.get(h(kp.public_key)) is not None for p in ps)

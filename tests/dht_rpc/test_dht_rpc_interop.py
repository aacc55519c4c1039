"""Mixed Python/JS dht-rpc networks on 127.0.0.1 (JS dht-rpc 6.27 from interop/node_modules).

These fail (never skip) when node or the reference is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hyperpunch.dht_rpc import (
    DHT,
    DOWN_HINT,
    IncomingRequest,
    Peer,
    RequestTimeoutError,
    asyncio_socket_factory,
    peer_id,
    udx_socket_factory,
)
from hyperpunch.encoding import Address, encode, ipv4_address
from jsref import NodeProcess, spawn_node

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]

HOST = "127.0.0.1"


class JSNet:
    def __init__(self, proc: NodeProcess, ready: dict[str, Any]) -> None:
        self.proc = proc
        self.bootstrap = [f"{b['host']}:{b['port']}" for b in ready["bootstrap"]]
        self.nodes: list[dict[str, Any]] = ready["nodes"]
        self._ids = itertools.count(1)

    async def call(self, cmd: str, **kw: Any) -> dict[str, Any]:
        rid = next(self._ids)
        await self.proc.send({"cmd": cmd, "id": rid, **kw})
        msg = await self.proc.expect("result", timeout=60)
        assert msg["id"] == rid, msg
        assert "error" not in msg or isinstance(msg["error"], int), msg
        return msg


@contextlib.asynccontextmanager
async def js_net(count: int, bootstrap: list[str] | None = None) -> AsyncIterator[JSNet]:
    args = [str(count)] + ([",".join(bootstrap)] if bootstrap else [])
    async with spawn_node("dhtrpc-testnet.js", *args) as proc:
        net = JSNet(proc, await proc.expect("ready", timeout=60))
        try:
            yield net
        finally:
            await proc.send({"cmd": "close"})


def xor_closest(target: bytes, ids: list[bytes], k: int = 20) -> list[bytes]:
    t = int.from_bytes(target, "big")
    return sorted(ids, key=lambda i: int.from_bytes(i, "big") ^ t)[:k]


def py_handler(seen: dict[str, int]) -> Any:
    def handler(req: IncomingRequest) -> bool:
        if req.command != 42:
            return False
        seen["requests42"] = seen.get("requests42", 0) + 1
        if req.token is not None:
            seen["tokened42"] = seen.get("tokened42", 0) + 1
        req.reply(b"py:" + (req.value or b""))
        return True

    return handler


async def test_python_joins_js_testnet_and_routes() -> None:
    async with js_net(6) as net:
        seen: dict[str, int] = {}
        async with DHT(
            bootstrap=net.bootstrap, host=HOST, ephemeral=False, on_request=py_handler(seen)
        ) as py:
            await py.ready()
            assert not py.ephemeral and not py.firewalled and py.id is not None
            # the Python node learnt its address from JS replies and got an id for it
            assert py.id == peer_id(HOST, py.server_address().port)
            js_ids = [bytes.fromhex(n["id"]) for n in net.nodes]

            # FIND_NODE from Python finds the true closest JS nodes
            target = os.urandom(32)
            q = py.find_node(target)
            replies = await q.to_list()
            assert replies
            assert [n.id for n in q.closest_nodes] == xor_closest(target, js_ids)

            # JS nodes put the Python node in their routing tables (its id checks out)
            tables = [await net.call("table", node=i) for i in range(len(net.nodes))]
            assert any(n["id"] == py.id.hex() for t in tables for n in t["nodes"])

            # and a JS find_node now finds the Python node among the closest
            res = await net.call("find_node", node=3, target=py.id.hex())
            assert res["closest"][0]["id"] == py.id.hex()
            others = [i for i in js_ids if i != js_ids[3]]  # a query never lists the querying node
            assert [bytes.fromhex(n["id"]) for n in res["closest"]] == xor_closest(py.id, [*others, py.id])

            # user command 42: Python -> JS
            js = net.nodes[2]
            r = await py.request((js["host"], js["port"]), 42, value=b"hello")
            assert r.error == 0 and r.value == b"js:hello" and r.token is not None
            assert r.from_.id == bytes.fromhex(js["id"])
            assert r.to.port == py.address().port
            # unknown user command -> UNKNOWN_COMMAND error code from JS
            r = await py.request((js["host"], js["port"]), 43, value=b"x")
            assert r.error == 1

            # user command 42: JS -> Python, and the token JS got back is accepted by Python
            addr = {"host": HOST, "port": py.server_address().port}
            res = await net.call("request", node=1, to=addr, command=42, value=b"abc".hex())
            assert res["error"] == 0 and bytes.fromhex(res["value"]) == b"py:abc"
            assert res["from"]["id"] == py.id.hex()
            res2 = await net.call("request", node=1, to=addr, command=42, value="", token=res["token"])
            assert res2["error"] == 0 and seen["tokened42"] == 1
            bad = await net.call("request", node=1, to=addr, command=42, value="", token="00" * 32)
            assert bad["error"] == 2  # INVALID_TOKEN
            assert seen["tokened42"] == 1


@pytest.mark.parametrize("transport", ["asyncio", "udx"])
async def test_js_nodes_bootstrap_from_python(transport: str) -> None:
    factory = udx_socket_factory() if transport == "udx" else asyncio_socket_factory
    boot = DHT.bootstrapper(0, HOST, bind_host=HOST, socket_factory=factory)
    async with boot:
        await boot.ready()
        bs = [f"{HOST}:{boot.server_address().port}"]
        seen: dict[str, int] = {}
        pys = [
            DHT(bootstrap=bs, host=HOST, ephemeral=False, on_request=py_handler(seen), socket_factory=factory)
            for _ in range(3)
        ]
        try:
            for p in pys:
                await p.bind()
            for p in pys:
                await p.ready()
            async with js_net(4, bs) as net:
                all_ids = [bytes.fromhex(n["id"]) for n in net.nodes]
                all_ids += [p.id for p in pys if p.id is not None]
                assert boot.id is not None
                all_ids.append(boot.id)
                assert len(all_ids) == 8
                target = os.urandom(32)
                # a JS query routed through the mixed network finds the true closest nodes
                res = await net.call("find_node", node=0, target=target.hex())
                js0 = bytes.fromhex(net.nodes[0]["id"])
                assert [bytes.fromhex(n["id"]) for n in res["closest"]] == xor_closest(
                    target, [i for i in all_ids if i != js0]
                )
                # ... and so does a Python one
                q = pys[0].find_node(target)
                await q.finished()
                assert [n.id for n in q.closest_nodes] == xor_closest(
                    target, [i for i in all_ids if i != pys[0].id]
                )

                # a JS query with commit for user command 42 reaches Python nodes with valid tokens
                res = await net.call(
                    "query", node=1, target=target.hex(), command=42, value=b"q".hex(), commit=True
                )
                values = {bytes.fromhex(v["value"]) for v in res["values"]}
                assert values <= {b"py:q", b"js:q"} and b"py:q" in values
                assert seen.get("tokened42", 0) >= 1

                # a Python query with commit=True reaches JS nodes, whose token checks pass
                q = pys[1].query(target, 42, b"p", commit=True)
                got = {r.value for r in await q.to_list()}
                assert b"js:p" in got
                stats = (await net.call("stats"))["stats"]
                assert sum(s["tokened42"] for s in stats) >= 1
        finally:
            for p in pys:
                await p.aclose()


async def test_ping_both_ways_and_timeout() -> None:
    async with js_net(2) as net, DHT(bootstrap=net.bootstrap, host=HOST) as py:
        await py.ready()
        js = net.nodes[1]
        r = await py.ping((js["host"], js["port"]))
        assert r.from_.id == bytes.fromhex(js["id"]) and r.to.host == HOST
        assert r.to.port == py.address().port  # type: ignore[union-attr]
        r = await py.delayed_ping((js["host"], js["port"]), 0.05)
        assert r.from_.id == bytes.fromhex(js["id"])
        r = await py.ping((js["host"], js["port"]), size=100)
        assert r.error == 0
        res = await net.call("ping", node=0, to={"host": HOST, "port": py.address().port})
        # JS sees the Python node's address; an ephemeral node sends no id
        assert res["from"]["port"] == py.address().port and res["from"]["id"] is None  # type: ignore[union-attr]
        assert res["to"]["host"] == HOST
        # a node that never answers: REQUEST_TIMEOUT after the retries
        with pytest.raises(RequestTimeoutError) as ei:
            await py.request((HOST, 9), 42, retry=False)
        assert ei.value.code == "REQUEST_TIMEOUT"


async def test_mixed_network_queries_from_both_sides() -> None:
    """8 JS + 8 Python nodes joined through one JS bootstrapper; every walk finds every node
    nearest to the target (16 < k, so the answer is exact)."""
    async with js_net(8) as net:
        pys = [DHT(bootstrap=net.bootstrap, host=HOST, ephemeral=False) for _ in range(8)]
        try:
            for p in pys:
                await p.bind()
            for p in pys:
                await p.ready()
            js_ids = [bytes.fromhex(n["id"]) for n in net.nodes]
            py_ids = [p.id for p in pys if p.id is not None]
            assert len(py_ids) == 8
            everyone = js_ids + py_ids
            for i in range(4):
                target = os.urandom(32)
                src = pys[i]
                q = src.find_node(target)
                await q.finished()
                assert [n.id for n in q.closest_nodes] == xor_closest(
                    target, [x for x in everyone if x != src.id]
                )
                res = await net.call("find_node", node=i + 1, target=target.hex())
                js_src = js_ids[i + 1]
                assert [bytes.fromhex(n["id"]) for n in res["closest"]] == xor_closest(
                    target, [x for x in everyone if x != js_src]
                )
        finally:
            for p in pys:
                await p.aclose()


async def test_python_down_hint_makes_js_drop_dead_node() -> None:
    async with (
        js_net(3) as net,
        DHT(bootstrap=net.bootstrap, host=HOST, ephemeral=False) as doomed,
        DHT(bootstrap=net.bootstrap, host=HOST) as hinter,
    ):
        await doomed.ready()
        await hinter.ready()
        assert doomed.id is not None
        doomed_addr = doomed.server_address()
        assert doomed_addr is not None

        async def js_knows_doomed() -> bool:
            t = await net.call("table", node=1)
            return any(n["id"] == doomed.id.hex() for n in t["nodes"])  # type: ignore[union-attr]

        if not await js_knows_doomed():  # make sure JS node 1 has it in its table
            await net.call("ping", node=1, to={"host": HOST, "port": doomed_addr.port})
            await doomed.ping((HOST, net.nodes[1]["port"]))
        assert await js_knows_doomed()
        await doomed.aclose()

        js1 = net.nodes[1]
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        hinter.core.internal_request(
            Peer(js1["host"], js1["port"]),
            DOWN_HINT,
            None,
            encode(ipv4_address, Address(HOST, doomed_addr.port)),
            on_response=lambda res, _req: done.set_result(res),
            on_error=lambda err, _req: done.set_exception(err),
        )
        res = await asyncio.wait_for(done, 10)
        assert res.error == 0  # type: ignore[attr-defined]
        # JS pings the hinted node, gets no answer (4 tries, ~4 s) and drops it
        for _ in range(100):
            if not await js_knows_doomed():
                break
            await asyncio.sleep(0.1)
        assert not await js_knows_doomed()

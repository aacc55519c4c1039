"""Python -> JS: a base written by hyperpunch (the creator, the only indexer, adds a second
Python writer; both append; the creator acks) is joined by a real JS Autobase 7.28.1 over a
secret stream: JS replicates the Python writer cores, linearizes them itself and builds the
same view, all of it indexed by its own linearizer, and takes the Python indexer's checkpoints:
its system core (key, length, tree hash) is the one Python wrote, and the system and view cores'
signed lengths cover everything (signed by the Python indexer alone)."""

from __future__ import annotations

import json
from pathlib import Path

from test_base import make, values

from hyperpunch.autobase import Autobase, Host, ViewStore
from hyperpunch.autobase.apply_state import ApplyNode
from hyperpunch.corestore import Corestore
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.protomux import Protomux
from hyperpunch.secretstream import SecretStream, serve
from jsref import spawn_node

PK = bytes([7]) * 32


async def test_js_autobase_reads_a_python_base(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root.namespace("a"))
        await a.ready()
        b = make(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert a.key is not None and b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": False})
            await a.append({"from": "a", "i": 0})
            await b.update()
            await b.append([{"from": "b", "i": 0}, {"from": "b", "i": 1}])
            await a.append({"from": "a", "i": 1})  # concurrent with b's batch
            await a.update()
            await b.update()
            await a.ack()
            await b.update()
            py_view = await values(a.view)
            assert py_view == await values(b.view) and len(py_view) == 4
            assert len(a.indexed) == 6  # a single indexer makes everything it has seen final

            muxes: list[Protomux] = []

            async def handler(stream: SecretStream) -> None:
                muxes.append(root.replicate(stream))
                await stream.wait_closed()

            server = await serve(handler, "127.0.0.1", 0)
            async with server:
                arg = {"key": a.key.hex(), "port": server.port, "expect": len(py_view), "signed": True}
                async with spawn_node("autobase-peer.js", json.dumps(arg)) as js:
                    got = await js.recv(timeout=60)
                    assert await js.wait() == 0
            assert got["view"] == py_view
            assert got["viewLength"] == len(py_view)
            assert got["indexedLength"] == got["systemLength"] > 0  # JS holds all of it as final
            # the Python indexer's checkpoints: JS verified and committed its signatures
            assert got["signedLength"] == got["viewLength"]
            assert got["baseSignedLength"] == got["systemLength"]
            sys_info = await a.system_core()
            assert (sys_info.key.hex(), sys_info.length, sys_info.tree_hash.hex()) == (
                got["systemKey"],
                got["systemLength"],
                got["systemTreeHash"],
            )
            assert got["indexers"] == [a.key.hex()]
            # the view core Python derives is JS's: same key, length and Merkle tree hash
            info = await a.view_core("view")
            assert (info.key.hex(), info.length, info.tree_hash.hex()) == (
                got["viewKey"],
                got["viewLength"],
                got["viewTreeHash"],
            )
            assert await b.view_core("view") == info
        finally:
            await a.aclose()
            await b.aclose()


async def test_python_autobase_joins_a_js_base(tmp_path: Path) -> None:
    """JS -> Python over the network: a JS base (two JS writers, b added as an indexer, acks)
    served over secret streams; a hyperpunch Autobase joins with the base key, replicates the
    writer cores, follows the indexer change and builds the JS view."""
    async with spawn_node("autobase-host.js", json.dumps({"indexer": True})) as js:
        ready = await js.expect("ready")
        async with Corestore(tmp_path / "py", primary_key=PK, unsafe=True) as root:
            streams = [await SecretStream.connect("127.0.0.1", port) for port in ready["ports"]]
            muxes = [root.replicate(s) for s in streams]
            base = make(root, bytes.fromhex(ready["key"]))
            await base.ready()
            try:
                for _ in range(5):
                    await base.update(wait=True)
                    if await values(base.view) == ready["view"]:
                        break
                assert await values(base.view) == ready["view"]
                assert [k.hex() for k in base.indexers] == ready["indexers"]
                assert base.reboots >= 2
                assert not base.writable
                # the view core Python derives is JS's: same key, length and Merkle tree hash
                info = await base.view_core("view")
                assert (info.key.hex(), info.length, info.tree_hash.hex()) == (
                    ready["viewKey"],
                    ready["signedLength"],
                    ready["viewTreeHash"],
                )
            finally:
                await base.aclose()
                for mux in muxes:
                    await mux.aclose()
        await js.send({"cmd": "exit"})
        await js.expect("closed")
        assert await js.wait() == 0


async def bee_apply(nodes: list[ApplyNode], view: Hyperbee, host: Host) -> None:
    for node in nodes:
        value = node.value
        if "add" in value:
            await host.add_writer(bytes.fromhex(value["add"]), indexer=bool(value.get("indexer")))
        elif "del" in value:
            await view.delete(value["del"])
        else:
            await view.put(value["put"], value["value"])


def open_bee(store: ViewStore) -> Hyperbee:
    return Hyperbee(store.core("view"), key_encoding="utf-8", value_encoding="json", extension=False)


async def test_python_hyperbee_view_of_a_js_base_is_js_s_view_core(tmp_path: Path) -> None:
    """A JS base whose view is a Hyperbee (two JS indexers putting and deleting concurrently):
    a hyperpunch Autobase with the same apply into a hyperpunch Hyperbee builds the same bee, and
    its view core (key, indexed length, Merkle tree hash) is JS's view core."""
    async with spawn_node("autobase-host.js", json.dumps({"indexer": True, "bee": True})) as js:
        ready = await js.expect("ready")
        assert ready["signedLength"] == ready["viewLength"] > 0
        async with Corestore(tmp_path / "py", primary_key=PK, unsafe=True) as root:
            streams = [await SecretStream.connect("127.0.0.1", port) for port in ready["ports"]]
            muxes = [root.replicate(s) for s in streams]
            base = Autobase(
                root,
                bytes.fromhex(ready["key"]),
                open=open_bee,
                apply=bee_apply,
                value_encoding="json",
                ack_interval=0,
            )
            await base.ready()
            try:
                for _ in range(5):
                    await base.update(wait=True)
                    if (await base.view_core("view")).length == ready["viewLength"]:
                        break
                bee: Hyperbee = base.view
                assert [[e.key, e.value] async for e in bee.range()] == ready["view"]
                info = await base.view_core("view")
                assert (info.key.hex(), info.length, info.tree_hash.hex()) == (
                    ready["viewKey"],
                    ready["viewLength"],
                    ready["viewTreeHash"],
                )
            finally:
                await base.aclose()
                for mux in muxes:
                    await mux.aclose()
        await js.send({"cmd": "exit"})
        await js.expect("closed")
        assert await js.wait() == 0


async def test_js_reads_a_python_hyperbee_base_with_the_same_view_core(tmp_path: Path) -> None:
    """Python creates a base with a Hyperbee view and adds a second Python writer (an indexer);
    both put and delete concurrently, then ack. A JS Autobase with the same apply into a JS
    Hyperbee joins over a secret stream and builds the same bee in the same view core (key,
    length, Merkle tree hash)."""

    def make_bee(store: Corestore, bootstrap: bytes | None = None) -> Autobase:
        return Autobase(
            store, bootstrap, open=open_bee, apply=bee_apply, value_encoding="json", ack_interval=0
        )

    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make_bee(root.namespace("a"))
        await a.ready()
        b = make_bee(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert a.key is not None and b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": True})
            await a.append({"put": "k0", "value": {"from": "a"}})
            await b.update()
            await b.append([{"put": "k1", "value": {"from": "b"}}, {"del": "k0"}])
            await a.append([{"put": "k0", "value": "again"}, {"put": "k2", "value": 2}])  # concurrent
            for _ in range(4):
                await a.update()
                await b.update()
                await a.ack()
                await b.update()
                await b.ack()
            await a.update()
            info = await a.view_core("view")
            assert await b.view_core("view") == info
            entries = [[e.key, e.value] async for e in a.view.range()]
            assert entries == [[e.key, e.value] async for e in b.view.range()]
            assert info.length == a.view.core.length > 0  # everything is indexed

            muxes: list[Protomux] = []

            async def handler(stream: SecretStream) -> None:
                muxes.append(root.replicate(stream))
                await stream.wait_closed()

            server = await serve(handler, "127.0.0.1", 0)
            async with server:
                arg = {
                    "key": a.key.hex(),
                    "port": server.port,
                    "expect": info.length,
                    "bee": True,
                    "viewKey": info.key.hex(),
                }
                async with spawn_node("autobase-peer.js", json.dumps(arg)) as js:
                    got = await js.recv(timeout=60)
                    assert await js.wait() == 0
            assert got["view"] == entries
            assert got["indexers"] == [a.key.hex(), b.local.key.hex()]
            assert (got["viewKey"], got["viewLength"], got["viewTreeHash"]) == (
                info.key.hex(),
                info.length,
                info.tree_hash.hex(),
            )
        finally:
            await a.aclose()
            await b.aclose()

"""Writer removal and indexer demotion (JS ``host.removeWriter``; autobase's test/basic.js
"remove" cases, ported where they test behaviour): a removed indexer is demoted once the
removal is indexed (the linearizer reboots with the rest), the removed writer is no
longer writable and what it wrote before stays in the view; the last indexer cannot be removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_base import make, values

from hyperpunch.autobase import Autobase, NotWritableError
from hyperpunch.corestore import Corestore
from hyperpunch.secretstream import SecretStream
from jsref import spawn_node

PK = bytes([4]) * 32


async def sync(*bases: Autobase) -> None:
    for _ in range(2):
        for b in bases:
            await b.update()


async def test_remove_an_indexer(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root.namespace("a"))
        await a.ready()
        b = make(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert a.key is not None and b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": True})
            await b.update()
            await b.append({"from": "b"})
            for _ in range(3):
                await sync(a, b)
                await a.ack()
                await sync(a, b)
                await b.ack()
            await sync(a, b)
            assert a.indexers == b.indexers == [a.key, b.local.key]
            reboots = a.reboots
            await a.append({"remove": b.local.key.hex()})
            for _ in range(3):
                await sync(a, b)
                await a.ack()
                await sync(a, b)
                if b.writable:
                    await b.ack()
            await sync(a, b)
            assert a.indexers == b.indexers == [a.key]
            assert a.reboots > reboots
            assert not b.writable
            with pytest.raises(NotWritableError):
                await b.append({"from": "b", "late": True})
            await a.append({"from": "a"})  # a alone indexes now
            await sync(a, b)
            assert await values(a.view) == await values(b.view) == [{"from": "b"}, {"from": "a"}]
            info = await a.view_core("view")
            assert info == await b.view_core("view") and info.length == 2
            assert b.local.key not in a.members
        finally:
            await a.aclose()
            await b.aclose()


async def test_the_last_indexer_cannot_be_removed(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root)
        await a.ready()
        try:
            assert a.key is not None
            await a.append({"from": "a"})
            with pytest.raises(Exception, match="last indexer"):
                await a.append({"remove": a.key.hex()})
        finally:
            await a.aclose()


async def test_python_follows_a_js_indexer_removal(tmp_path: Path) -> None:
    """A JS base (a, b indexers) where a removes b, acks and appends once more: a hyperpunch
    reader builds the same view, indexes as far as JS signed, and has JS's view core (key,
    length and tree hash, unindexed tail included)."""
    async with spawn_node("autobase-host.js", json.dumps({"indexer": True, "remove": True})) as js:
        ready = await js.expect("ready")
        async with Corestore(tmp_path / "py", primary_key=PK, unsafe=True) as root:
            streams = [await SecretStream.connect("127.0.0.1", port) for port in ready["ports"]]
            muxes = [root.replicate(s) for s in streams]
            base = make(root, bytes.fromhex(ready["key"]))
            await base.ready()
            try:
                for _ in range(5):
                    await base.update(wait=True)
                    if (await base.view_core("view")).length == ready["signedLength"]:
                        break
                assert await values(base.view) == ready["view"]
                # JS reports its tip's system (b already removed there); the removal is not
                # indexed in either (b, demoted in the tip, never acks it): Python's indexed set
                # still holds b, and the view core is the one both indexers sign
                assert ready["indexers"] == [ready["key"]]
                assert len(base.indexers) == 2 and base.indexers[0].hex() == ready["key"]
                assert (await base.view_core("view")).length == ready["signedLength"]
                info = await base.view_core("view", tip=True)
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

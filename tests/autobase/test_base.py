"""The async Autobase sketch over a Corestore: a single writer, then two writers of one base
(two stores in namespaces of one storage, so each reads the other's core without a network)
converging on one view; the blocks Python writes are linearized by JS autobase's own
Linearizer (interop/scripts/autobase-linearize.js) into the order Python computed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hyperpunch.autobase import keys
from hyperpunch.autobase.apply_state import ApplyNode
from hyperpunch.autobase.base import Autobase, Host, MemoryView, ViewStore
from hyperpunch.autobase.errors import NotWritableError
from hyperpunch.autobase.messages import oplog_message
from hyperpunch.corestore import Corestore
from hyperpunch.encoding import decode
from jsref import run_node_json
from refvectors import section

PK = bytes([1]) * 32


def open_view(store: ViewStore) -> MemoryView:
    return store.get("view", value_encoding="json")


async def apply(nodes: list[ApplyNode], view: MemoryView, host: Host) -> None:
    for node in nodes:
        value = node.value
        if isinstance(value, dict) and "add" in value:
            await host.add_writer(bytes.fromhex(value["add"]), indexer=bool(value.get("indexer")))
            continue
        if isinstance(value, dict) and "remove" in value:
            await host.remove_writer(bytes.fromhex(value["remove"]))
            continue
        await view.append(value)


def make(store: Corestore, bootstrap: bytes | None = None) -> Autobase:
    return Autobase(store, bootstrap, open=open_view, apply=apply, value_encoding="json", ack_interval=0)


async def values(view: MemoryView) -> list[Any]:
    return [await view.get(i) for i in range(view.length)]


async def test_single_writer(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as store:
        base = make(store)
        await base.ready()
        try:
            assert base.key == keys.base_identity(PK).key  # JS: the same store makes the same base
            assert base.discovery_key == keys.base_identity(PK).discovery_key
            assert base.writable
            assert await base.append({"n": 1}) == 1
            assert await base.append([{"n": 2}, {"n": 3}]) == 3
            assert await values(base.view) == [{"n": 1}, {"n": 2}, {"n": 3}]
            assert base.local is not None
            blocks = [decode(oplog_message, await base.local.get(i, raw=True)) for i in range(3)]
            assert [b.version for b in blocks] == [2, 2, 2]
            assert [b.node.batch for b in blocks] == [1, 2, 1]
            assert blocks[0].node.heads == []
            assert [(h.key, h.length) for h in blocks[1].node.heads] == [(base.key, 1)]
        finally:
            await base.aclose()
            await base.aclose()  # idempotent


async def test_two_writers_converge_and_js_agrees(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root.namespace("a"))
        await a.ready()
        assert a.key is not None
        b = make(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert b.key == a.key and not b.writable
            with pytest.raises(NotWritableError):
                await b.append({"from": "b"})
            assert b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex()})
            await a.append({"from": "a", "i": 0})
            await b.update()
            assert b.writable
            await b.append({"from": "b", "i": 0})
            await a.append({"from": "a", "i": 1})  # concurrent with b's
            await a.update()
            await b.update()
            await b.append({"from": "b", "i": 1})
            await a.update()
            await a.append({"from": "a", "i": 2})
            await b.update()
            view_a, view_b = await values(a.view), await values(b.view)
            assert view_a == view_b
            assert len(view_a) == 5
            assert a.indexed == b.indexed and len(a.indexed) >= 4, a.indexed

            # JS autobase's Linearizer, fed the cores Python wrote, indexes the same nodes in order
            assert a.local is not None and a.local.key is not None
            writers = []
            for core in (a.local, b.local):
                assert core.key is not None
                writers.append(
                    {
                        "key": core.key.hex(),
                        "blocks": [(await core.get(i, raw=True)).hex() for i in range(core.length)],
                    }
                )
            js = run_node_json(
                "autobase-linearize.js", input_obj={"indexers": [a.key.hex()], "writers": writers}
            )
            assert js["indexed"] == [f"{k.hex()}:{n}" for k, n in a.indexed]
        finally:
            await a.aclose()
            await b.aclose()


async def test_added_indexer_reboots_and_both_converge(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root.namespace("a"))
        await a.ready()
        assert a.key is not None
        b = make(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": True})
            await a.append({"from": "a", "i": 0})
            await b.update()
            await b.append({"from": "b", "i": 0})
            for _ in range(3):
                await a.update()
                await a.ack()
                await b.update()
                await b.ack()
            await a.append({"from": "a", "i": 1})
            await b.append({"from": "b", "i": 1})
            for _ in range(3):
                await a.update()
                await a.ack()
                await b.update()
                await b.ack()
            await a.update()
            view_a, view_b = await values(a.view), await values(b.view)
            assert view_a == view_b and len(view_a) == 4
            assert a.indexers == b.indexers == [a.key, b.local.key]
            assert a.indexed == b.indexed
            assert len(a.indexed) >= 6  # both indexers' values are final
            assert a.reboots == b.reboots >= 2  # the bootstrap's first node, then b's
        finally:
            await a.aclose()
            await b.aclose()


async def test_view_core_like_js_single_writer_run(tmp_path: Path) -> None:
    """The ``single`` run of the JS vectors: before any apply the view is the unsigned bootstrap
    core; the first indexed batch makes the creator the indexer and the view moves to a core it
    signs, prologued by what it held (key, length and tree hash as JS)."""
    run = section("autobase")["runs"]["single"]
    async with Corestore(tmp_path / "s", primary_key=bytes.fromhex(run["primaryKey"]), unsafe=True) as store:
        base = make(store)
        await base.ready()
        try:
            before = await base.view_core("view")
            assert before.key.hex() == run["viewKey"]
            assert before.length == run["viewLength"] == 0
            await base.append("a0")
            after = run["afterAppend"]
            info = await base.view_core("view")
            assert info.key.hex() == after["viewKey"]
            assert info.length == after["viewLength"]
            blocks = [bytes.fromhex(b) for b in after["viewBlocks"]]
            assert info.tree_hash == keys.tree_hash(blocks)
        finally:
            await base.aclose()

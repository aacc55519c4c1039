"""Automatic acks (JS ``ackInterval``/``ackThreshold``; autobase's test/autoack.js, ported where
it tests behaviour): two indexers that never call ``ack()`` index each other's values through
the background acks alone, and then stop acking (no self-acks); a non-indexer never acks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from test_base import apply, open_view, values

from hyperpunch.autobase import Autobase
from hyperpunch.corestore import Corestore

PK = bytes([9]) * 32


def make(store: Corestore, bootstrap: bytes | None = None, **kw: Any) -> Autobase:
    return Autobase(store, bootstrap, open=open_view, apply=apply, value_encoding="json", **kw)


async def until(cond: Any, *bases: Autobase) -> None:
    """Wait until ``cond()`` holds, woken by appends to the bases' local cores (an ack)."""
    woke = asyncio.Event()
    offs = [b.local.on("append", lambda *_: woke.set()) for b in bases if b.local is not None]
    try:
        for _ in range(100):
            woke.clear()  # before looking: an append while we look wakes the next wait
            for b in bases:
                await b.update()
            if await cond():
                return
            await asyncio.wait_for(woke.wait(), 10)
        raise AssertionError("never converged")
    finally:
        for off in offs:
            off()


async def test_two_indexers_converge_by_background_acks(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root.namespace("a"), ack_interval=0.01)
        await a.ready()
        b = make(root.namespace("b"), a.key, ack_interval=0.01)
        await b.ready()
        try:
            assert b.local is not None and b.local.key is not None and a.local is not None
            await a.append({"add": b.local.key.hex(), "indexer": True})
            await b.update()
            await b.append({"from": "b"})
            await a.append({"from": "a"})

            both = [a.key, b.local.key]

            async def converged() -> bool:
                ia, ib = await a.view_core("view"), await b.view_core("view")
                return ia == ib and ia.length == 2 and a.indexers == b.indexers == both

            await until(converged, a, b)
            assert await values(a.view) == await values(b.view)
            # quiescent: with everything acked, another round adds no ack (never a self-ack)
            assert not await a.auto_ack() and not await b.auto_ack()
        finally:
            await a.aclose()
            await b.aclose()


async def test_a_non_indexer_never_acks(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root.namespace("a"), ack_interval=0)
        await a.ready()
        b = make(root.namespace("b"), a.key, ack_interval=0)
        await b.ready()
        try:
            assert b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": False})
            await b.update()
            await a.append({"from": "a"})
            assert b.writable and not b.is_indexer
            assert not await b.auto_ack()
            assert b.local.length == 0
            assert a.is_indexer
        finally:
            await a.aclose()
            await b.aclose()


async def test_an_added_indexer_acks_its_way_in(tmp_path: Path) -> None:
    """JS ``isLocalPendingIndexer``: a writer added as an indexer that has not written yet
    always acks (its first indexed node makes it an indexer), though the linearizer would not
    ask a non-indexer to; once it wrote it is a plain ``shouldAck`` case again."""
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root.namespace("a"), ack_interval=0)
        await a.ready()
        b = make(root.namespace("b"), a.key, ack_interval=0)
        await b.ready()
        try:
            assert a.key is not None and b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": True})
            await b.update()
            assert b.writable and not b.is_indexer
            assert await b.auto_ack()
            assert b.local.length == 1
            assert not await b.auto_ack()  # not pending any more: no self-ack
            await a.update()
            await a.ack()
            await b.update()
            assert a.indexers == b.indexers == [a.key, b.local.key]
        finally:
            await a.aclose()
            await b.aclose()

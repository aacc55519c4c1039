"""Sparse reads of a 40 000-key bee over Hyperswarm download O(log n) blocks, with and without the
hyperbee extension, for a JS reader of a hyperpunch writer and a hyperpunch reader; a JS peer
sending garbage on the extension does not break the connection."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from test_hyperbee_swarm_interop import js_bee

from hypercore_swarm.core_helpers import eventually, local_dht, py_peer
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hyperbee.extension import BeeExtension
from hyperpunch.hypercore import Hypercore

pytestmark = pytest.mark.interop

# 40 000 keys (inserted in a shuffled order) make a 6-level tree, as deep as 100 000 do (measured:
# root to leaf is 6 nodes for 2e4, 4e4 and 1e5 keys), in under a third of the fill time; a sparse
# read stays under MAX_BLOCKS, well under 1% of the 40 000 blocks a full download would fetch.
N = 40_000
MAX_BLOCKS = 250  # 6 levels of T=5 nodes; JS preloads a node's keys and children


def _answered_more(ext: BeeExtension, before: int) -> Callable[[], bool]:
    return lambda: ext.requests_answered > before


def _has_peers(core: Hypercore) -> Callable[[], bool]:
    return lambda: bool(core.peers)


def _key(i: int) -> bytes:
    return b"key-%06d" % i


async def _fill(db: Hyperbee) -> None:
    order = list(range(N))
    random.Random(5).shuffle(order)
    for start in range(0, N, 1000):
        async with db.batch() as b:
            for i in order[start : start + 1000]:
                await b.put(_key(i), b"v%d" % i)


async def test_sparse_get_downloads_log_n_blocks() -> None:
    async with local_dht() as bs, py_peer(bs) as core:
        db = Hyperbee(core, close_core=False)
        await db.ready()
        await _fill(db)
        version = db.version
        assert core.key is not None
        ext = db.extension
        assert ext is not None
        # JS readers, with and without the extension, fetch one key each
        for use_ext in (True, False):
            async with js_bee(bs, core.key, extension=use_ext) as (js, _):
                answered = ext.requests_answered
                await js.call({"cmd": "wait-version", "version": version}, "version", 120)
                res = (await js.call({"cmd": "get", "key": _key(31337).hex()}, "results", 120))["results"][0]
                assert res[1:] == [_key(31337).hex(), b"v31337".hex()]
                stats = await js.call({"cmd": "stats"}, "stats")
                print(f"JS reader, extension={use_ext}: {stats['downloaded']} blocks of {version}")
                assert 0 < stats["downloaded"] <= MAX_BLOCKS, stats
                if use_ext:
                    await eventually(_answered_more(ext, answered), what="an extension answer")
                    # a range on the sparse reader sends iterator requests; the answers are right
                    answered = ext.requests_answered
                    q = {"type": "range", "gte": _key(500).hex(), "limit": 30}
                    got = (
                        await js.call({"cmd": "query", "version": version, "queries": [q]}, "results", 120)
                    )["results"][0]
                    want = [
                        [e.seq, e.key.hex(), e.value.hex()] async for e in db.range(gte=_key(500), limit=30)
                    ]
                    assert got == want
                    await eventually(_answered_more(ext, answered), what="an iterator answer")
                    # garbage on the extension is dropped; the connection keeps working
                    await js.call({"cmd": "ext-raw", "data": "ff" * 7}, "sent")
                    await js.call({"cmd": "ext-raw", "data": ""}, "sent")
                res = (await js.call({"cmd": "get", "key": _key(7).hex()}, "results", 60))["results"][0]
                assert res[1:] == [_key(7).hex(), b"v7".hex()]
        # hyperpunch readers, with and without the extension
        for use_ext in (True, False):
            async with py_peer(bs, key=core.key) as rcore:
                answered = ext.requests_answered
                downloads: list[int] = []

                def on_download(index: int, *_: Any, d: list[int] = downloads) -> None:
                    d.append(index)

                off = rcore.on("download", on_download)
                reader = Hyperbee(rcore, close_core=False, extension=use_ext)
                await reader.ready()
                await eventually(_has_peers(rcore), what="the writer")
                entry = await reader.get(_key(4242))
                assert entry is not None and entry.value == b"v4242"
                assert reader.version == version
                print(f"hyperpunch reader, extension={use_ext}: {len(downloads)} blocks of {version}")
                assert 0 < len(downloads) <= MAX_BLOCKS, len(downloads)
                if use_ext:
                    await eventually(_answered_more(ext, answered), what="an extension answer")
                    answered = ext.requests_answered
                py_got = [(e.seq, e.key, e.value) async for e in reader.range(gte=_key(900), limit=25)]
                py_want = [(e.seq, e.key, e.value) async for e in db.range(gte=_key(900), limit=25)]
                assert py_got == py_want and len(py_got) == 25
                if use_ext:
                    await eventually(_answered_more(ext, answered), what="an iterator answer")
                off()
                await reader.aclose()
        await db.aclose()

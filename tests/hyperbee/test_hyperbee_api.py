"""The Hyperbee API on an in-memory Hypercore: get/put/delete/cas, batches, ranges, peek,
history, diff, subs, checkouts, snapshots, header metadata, encodings, watch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hyperpunch.hyperbee import Entry, Hyperbee, HyperbeeLocalError, Metadata, ReadOnlyError
from hyperpunch.hypercore import Hypercore


def _v(e: Any) -> Any:
    assert e is not None
    return e


async def _bee(**kw: Any) -> Hyperbee:
    db = Hyperbee(Hypercore(None), **kw)
    await db.ready()
    return db


async def test_put_get_delete_and_versions() -> None:
    db = await _bee(key_encoding="utf-8", value_encoding="json")
    assert db.version == 1
    assert await db.get("a") is None
    await db.put("a", {"n": 1})
    assert db.version == 2
    assert await db.get("a") == Entry(1, "a", {"n": 1})
    await db.put("a", {"n": 2})
    assert (await db.get("a")) == Entry(2, "a", {"n": 2})
    await db.delete("a")
    assert await db.get("a") is None
    await db.delete("missing")  # a 404 writes nothing
    assert db.version == 4
    await db.aclose()


async def test_cas() -> None:
    db = await _bee(key_encoding="utf-8", value_encoding="utf-8")
    await db.put("k", "v1")
    await db.put("k", "v2", cas=lambda prev, nxt: prev.value == "nope")
    assert _v(await db.get("k")).value == "v1"

    async def acas(prev: Entry, nxt: Entry) -> bool:
        return bool(prev.value == "v1")

    await db.put("k", "v2", cas=acas)
    assert _v(await db.get("k")).value == "v2"
    await db.delete("k", cas=lambda prev, nxt: False)
    assert await db.get("k") is not None
    await db.aclose()


async def test_batch_atomic_read_your_writes() -> None:
    db = await _bee(key_encoding="utf-8", value_encoding="utf-8")
    await db.put("base", "0")
    length = db.core.length
    b = db.batch()
    for i in range(50):
        await b.put(f"k{i:02}", str(i))
    await b.delete("base")
    assert _v(await b.get("k10")).value == "10"
    assert await b.get("base") is None
    assert db.core.length == length  # nothing appended before flush
    await b.flush()
    assert db.core.length == length + 51
    assert [e.key async for e in db.range(gte="k00", lt="k05")] == ["k00", "k01", "k02", "k03", "k04"]
    async with db.batch() as b2:
        await b2.put("z", "z")
    assert _v(await db.get("z")).value == "z"
    b3 = db.batch()
    await b3.put("dropped", "x")
    await b3.close()
    assert await db.get("dropped") is None
    await db.put("after", "ok")  # the lock was released
    await db.aclose()


async def test_range_peek_reverse_limit() -> None:
    db = await _bee(key_encoding="utf-8", value_encoding="utf-8")
    keys = [f"{i:03}" for i in range(300)]
    async with db.batch() as b:
        for k in reversed(keys):
            await b.put(k, k)
    assert [e.key async for e in db.range()] == keys
    assert [e.key async for e in db.range(reverse=True)] == keys[::-1]
    assert [e.key async for e in db.range(gt="010", lte="015")] == keys[11:16]
    assert [e.key async for e in db.range(gte="010", lt="015", reverse=True)] == keys[10:15][::-1]
    assert [e.key async for e in db.range(limit=3, gt="100")] == ["101", "102", "103"]
    assert _v(await db.peek(gt="2")).key == "200"
    assert _v(await db.peek(reverse=True)).key == "299"
    assert await db.peek(gt="9") is None
    await db.aclose()


async def test_history_and_diff() -> None:
    db = await _bee(key_encoding="utf-8", value_encoding="utf-8")
    await db.put("a", "1")
    await db.put("b", "2")
    v = db.version
    await db.put("a", "3")
    await db.delete("b")
    await db.put("c", "4")
    hist = [(h.type, h.seq, h.key, h.value) async for h in db.history()]
    assert hist == [
        ("put", 1, "a", "1"),
        ("put", 2, "b", "2"),
        ("put", 3, "a", "3"),
        ("del", 4, "b", None),
        ("put", 5, "c", "4"),
    ]
    assert [h.seq async for h in db.history(gte=-2)] == [4, 5]
    assert [h.seq async for h in db.history(reverse=True, limit=2)] == [5, 4]
    diff = [(d.left and d.left.key, d.right and d.right.key) async for d in db.diff(v)]
    assert sorted(diff, key=str) == sorted([("a", "a"), (None, "b"), ("c", None)], key=str)
    await db.aclose()


async def test_sub_checkout_snapshot_header() -> None:
    md = Metadata(content_feed=b"\x01" * 32, user_data=b"hi")
    db = await _bee(key_encoding="utf-8", value_encoding="utf-8", metadata=md)
    s = db.sub("users")
    await s.put("alice", "1")
    await db.put("top", "x")
    await s.sub("nested").put("n", "2")
    assert [e.key async for e in s.range()] == ["alice", "nested\x00n"]  # as JS: nested subs show
    assert _v(await s.get("alice")).value == "1"
    assert [e.key async for e in db.range()] == ["top", "users\x00alice", "users\x00nested\x00n"]
    assert (await db.get_header()) is not None
    assert _v(await db.get_header()).metadata == md
    snap = db.snapshot()
    v = db.version
    await db.put("later", "y")
    assert snap.version == v
    assert await snap.get("later") is None
    with pytest.raises(ReadOnlyError):
        await snap.put("no", "no")
    old = db.checkout(2)
    assert [e.key async for e in old.range()] == ["users\x00alice"]
    await old.aclose()
    await snap.aclose()
    await db.aclose()


async def test_encodings_binary_default() -> None:
    db = await _bee()
    await db.put(b"\x00\xff", b"\x01")
    await db.put("text", "str values are utf-8")
    assert _v(await db.get(b"\x00\xff")).value == b"\x01"
    assert _v(await db.get(b"text")).value == b"str values are utf-8"
    await db.aclose()


async def test_watch_and_get_and_watch() -> None:
    db = await _bee(key_encoding="utf-8", value_encoding="utf-8")
    await db.put("a", "0")
    w = db.watch(gte="a", lt="b")
    it = aiter(w)
    nxt = asyncio.ensure_future(anext(it))
    await db.put("zzz", "outside")  # outside the range: no wake-up result
    await db.put("a", "1")
    cur, prev = await nxt
    assert _v(await cur.get("a")).value == "1"
    assert _v(await prev.get("a")).value == "0"
    await w.aclose()

    with pytest.raises(HyperbeeLocalError):
        db.sub("s").watch()
    with pytest.raises(HyperbeeLocalError):
        await db.sub("s").get_and_watch("k")
    ew = await db.get_and_watch("k")
    assert ew.node is None
    waiter = asyncio.ensure_future(anext(aiter(ew)))
    await db.put("k", "v")
    assert _v(await waiter).value == "v"
    await ew.aclose()
    await db.aclose()


async def test_readonly_and_closed() -> None:
    db = await _bee(readonly=True)
    with pytest.raises(ReadOnlyError):
        await db.put(b"a", b"b")
    await db.aclose()


async def test_range_checkpoint_resumes() -> None:
    from hyperpunch.hyperbee.batch import Batch
    from hyperpunch.hyperbee.iterators import RangeIterator

    db = await _bee(key_encoding="utf-8", value_encoding="utf-8")
    keys = [f"{i:03}" for i in range(200)]
    async with db.batch() as b:
        for k in keys:
            await b.put(k, k)
    for reverse in (False, True):
        it = db.range(gte="050", reverse=reverse)
        first = [_v(await anext(it)).key for _ in range(10)]
        snap = it.snapshot()
        assert snap.version == db.version and not snap.ended
        resumed = RangeIterator(
            Batch(db, db.core, db.key_encoding, db.value_encoding),
            gte=snap.gte,
            reverse=reverse,
            checkpoint=snap.checkpoint,
        )
        await resumed.open()
        rest = []
        while (e := await resumed.next()) is not None:
            rest.append(e.key)
        expect = keys[50:] if not reverse else keys[50:][::-1]
        assert first + rest == expect
    await db.aclose()


async def test_is_hyperbee_and_get_by_seq() -> None:
    db = await _bee(key_encoding="utf-8", value_encoding="utf-8")
    await db.put("a", "1")
    assert await Hyperbee.is_hyperbee(db.core)
    assert await db.get_by_seq(1) == Entry(1, "a", "1")
    other = Hypercore(None)
    await other.ready()
    await other.append(b"not a header")
    assert not await Hyperbee.is_hyperbee(other)
    await other.aclose()
    await db.aclose()

"""Bad input from a writer (JS ``writer.js``): an undecodable block freezes that writer (what it
wrote before stays, nothing after it is loaded), a head past a core's length makes the writer
wait, a head naming the node itself, its own future or a head listed twice neither crashes the
replay nor changes what the other writers index."""

from __future__ import annotations

import json
from pathlib import Path

from test_base import make, values

from hyperpunch.autobase.messages import Checkout, Node, OplogMessage, oplog_message
from hyperpunch.autobase.replay import Replayer
from hyperpunch.corestore import Corestore
from hyperpunch.encoding import encode

A = b"a" * 32
B = b"b" * 32


def block(value: bytes | None, heads: list[tuple[bytes, int]], batch: int = 1) -> bytes:
    return encode(oplog_message, OplogMessage(Node([Checkout(k, n) for k, n in heads], batch, value)))


def indexed(replay: Replayer) -> list[tuple[bytes, int]]:
    return [(n.writer.key, n.length) for n in replay.indexed]


def good_a(replay: Replayer) -> None:
    replay.feed(A, [block(b"a0", []), block(b"a1", [(A, 1)])])


def test_undecodable_block_freezes_the_writer_only() -> None:
    replay = Replayer([A], [B])
    replay.feed(B, [block(b"b0", [])])
    replay.feed(B, [b"\xff\xff\xff garbage", block(b"b2", [(B, 1)])])
    assert replay.frozen == {B: 1}
    good_a(replay)
    replay.run()
    replay.feed(A, [block(b"a2", [(A, 2), (B, 1)])])
    replay.run()
    assert indexed(replay) == [(A, 1), (A, 2), (B, 1), (A, 3)]
    assert len(replay.warnings) == 1
    replay.feed(B, [block(b"b3", [(B, 2)])])  # nothing more is read from a frozen writer
    replay.run()
    assert replay.frozen == {B: 1}


def test_head_past_a_core_length_waits() -> None:
    replay = Replayer([A], [B])
    replay.feed(B, [block(b"b0", [(A, 99)])])
    good_a(replay)
    replay.run()
    assert indexed(replay) == [(A, 1), (A, 2)]  # b0 waits for a99, which never comes
    replay.feed(A, [block(b"a2", [(A, 2)])])
    replay.run()
    assert indexed(replay) == [(A, 1), (A, 2), (A, 3)]


def test_impossible_causal_links_never_load() -> None:
    for bad in (
        [block(b"b0", [(B, 1)])],  # b0 names itself
        [block(b"b0", [(B, 5)])],  # b0 names its own future
        [block(b"b0", []), block(b"b1", [(B, 1), (B, 1)])],  # the same head twice
        [block(b"b0", [(A, 1), (A, 1)])],  # the same head twice, another writer
    ):
        replay = Replayer([A], [B])
        replay.feed(B, bad)
        good_a(replay)
        replay.run()
        replay.feed(A, [block(b"a2", [(A, 2)])])
        replay.run()
        got = indexed(replay)
        assert [k for k in got if k[0] == A] == [(A, 1), (A, 2), (A, 3)], bad


def test_a_value_the_encoding_rejects_freezes_the_writer() -> None:
    """JS decodes the value with the base's valueEncoding when it loads a node; a failure freezes
    the writer there."""
    replay = Replayer([A], [B], check_value=json.loads)
    replay.feed(B, [block(b'{"ok": 1}', []), block(b"{not json", [(B, 1)]), block(b"1", [(B, 2)])])
    assert replay.frozen == {B: 1}
    replay.feed(A, [block(b"1", []), block(b"2", [(A, 1), (B, 1)])])
    replay.run()
    assert indexed(replay) == [(A, 1), (B, 1), (A, 2)]


async def test_autobase_survives_a_writer_appending_garbage(tmp_path: Path) -> None:
    """A member writer appends an undecodable block: the base's update neither raises nor reads
    anything of that writer past the bad block, and the others keep writing and applying."""
    async with Corestore(tmp_path / "s", primary_key=bytes([3]) * 32, unsafe=True) as root:
        a = make(root.namespace("a"))
        await a.ready()
        b = make(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": False})
            await b.update()
            await b.append({"from": "b"})
            await b.local.append([b"\xff\xfe garbage"])
            await a.update()
            await a.append({"from": "a"})
            assert await values(a.view) == [{"from": "b"}, {"from": "a"}]
            assert a.frozen_writers == {b.local.key: 1}
        finally:
            await a.aclose()
            await b.aclose()

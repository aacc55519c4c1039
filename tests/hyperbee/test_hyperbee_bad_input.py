"""Bad blocks give typed errors, never a hang or a crash, and the bee stays usable for keys whose
path is intact: a block that is not a node, an index pointing past the core, cycles of child
pointers (inside one block and across blocks), a node whose child count does not match."""

from __future__ import annotations

import pytest

from hyperpunch.hyperbee import CorruptTreeError, Hyperbee, HyperbeeDecodingError, HyperbeeError
from hyperpunch.hyperbee.messages import (
    Header,
    Level,
    decode_index,
    decode_node,
    encode_header,
    encode_index,
    encode_node,
)
from hyperpunch.hypercore import Hypercore

HEADER = encode_header(Header())


def node(key: bytes, value: bytes | None, *levels: tuple[list[int], list[int]]) -> bytes:
    return encode_node(key, value, encode_index([Level(k, c) for k, c in levels]))


async def _bee_from(blocks: list[bytes]) -> Hyperbee:
    core = Hypercore(None)
    await core.ready()
    await core.append([HEADER, *blocks])
    db = Hyperbee(core)
    await db.ready()
    return db


async def test_block_that_is_not_a_node_only_breaks_its_subtree() -> None:
    good = await _bee_from([])
    keys = [b"k%03d" % i for i in range(200)]
    for k in keys:
        await good.put(k, k)
    blocks = [await good.core.get(i) for i in range(1, good.core.length)]
    await good.aclose()
    root_seq = len(blocks)  # seq of the last block
    # corrupt one block the final root points at (not the root itself)
    root_children = decode_index(decode_node(blocks[-1]).index)[0].children
    victim = next(s for s in root_children[::2] if s != root_seq)
    blocks[victim - 1] = b"\xff\xff not a node"
    db = await _bee_from(blocks)
    ok = bad = 0
    for k in keys:
        try:
            e = await db.get(k)
        except HyperbeeDecodingError:
            bad += 1
            continue
        assert e is not None and e.value == k
        ok += 1
    assert bad > 0 and ok > bad
    with pytest.raises(HyperbeeError):
        async for _ in db.range():
            pass
    # writes that do not cross the bad block still work, and the lock is not left held
    for k in keys:
        try:
            await db.put(k, b"new")
        except HyperbeeDecodingError:
            continue
    assert db.core.length > len(blocks) + 1
    await db.aclose()


async def test_index_pointing_past_the_core() -> None:
    # block 1: key "m", one level: key seq 1, children (1000, 0) and (1, 0)
    db = await _bee_from([node(b"m", b"v", ([1], [1000, 0, 1000, 0]))])
    assert (await db.get(b"m")) is not None  # the block's own key
    with pytest.raises(CorruptTreeError):
        await db.get(b"a")
    with pytest.raises(CorruptTreeError):
        async for _ in db.range():
            pass
    with pytest.raises(CorruptTreeError):
        await db.put(b"a", b"x")
    await db.aclose()


async def test_cycle_inside_one_block() -> None:
    db = await _bee_from([node(b"m", b"v", ([1], [1, 1, 1, 1]), ([1], [1, 0, 1, 0]))])
    with pytest.raises(CorruptTreeError):
        await db.get(b"a")
    await db.aclose()


async def test_cycle_across_blocks_ends() -> None:
    # block 1 points at block 2 which points back at block 1: a walk would never end
    db = await _bee_from(
        [
            node(b"a", b"1", ([1], [2, 0, 2, 0])),
            node(b"b", b"2", ([2], [1, 0, 1, 0])),
        ]
    )
    assert (await db.get(b"b")) is not None
    with pytest.raises(CorruptTreeError):
        await db.get(b"zzz")
    with pytest.raises(CorruptTreeError):
        async for _ in db.range():
            pass
    with pytest.raises(CorruptTreeError):
        async for _ in db.diff(2):
            pass
    await db.aclose()


async def test_child_count_mismatch_and_bad_key_seq() -> None:
    db = await _bee_from([node(b"m", b"v", ([1], [1, 0]))])
    with pytest.raises(CorruptTreeError):
        await db.get(b"a")
    await db.aclose()
    db = await _bee_from([node(b"m", b"v", ([0], []))])
    with pytest.raises(CorruptTreeError):
        await db.get(b"a")
    await db.aclose()


async def test_header_and_garbage_root() -> None:
    db = await _bee_from([b"\x08"])
    with pytest.raises(HyperbeeDecodingError):
        await db.get(b"a")
    await db.aclose()
    core = Hypercore(None)
    await core.ready()
    await core.append(b"\xff")
    db = Hyperbee(core)
    with pytest.raises(HyperbeeDecodingError):
        await db.get_header()
    await db.aclose()


async def test_extension_garbage_is_dropped() -> None:
    import asyncio
    import random

    from hyperpunch.encoding import buffer, encode

    db = await _bee_from([node(b"m", b"v", ([1], []))])
    ext = db.extension
    assert ext is not None
    sent: list[bytes] = []

    class Peer:
        def extension(self, name: str, message: bytes) -> None:
            sent.append(message)

    rng = random.Random(7)
    for _ in range(500):
        raw = rng.randbytes(rng.randint(0, 40))
        ext.handle.receive(raw, Peer())  # through hypercore's extension framing, as from the wire
        ext.handle.receive(encode(buffer, raw), Peer())
    ext.on_message("not bytes", Peer())
    assert (await db.get(b"m")) is not None
    # a well-formed request is still answered afterwards
    from hyperpunch.hyperbee.messages import ExtensionMessage, GetMessage, encode_extension

    await asyncio.gather(*db.tasks.tasks)
    before, n_sent = ext.requests_answered, len(sent)
    ext.handle.receive(encode(buffer, encode_extension(ExtensionMessage(get=GetMessage(2, b"m")))), Peer())
    await asyncio.gather(*db.tasks.tasks)
    assert ext.requests_answered == before + 1
    assert len(sent) == n_sent + 1  # one cache message naming block 1
    await db.aclose()

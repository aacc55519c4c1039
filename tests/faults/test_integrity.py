"""Read-time verification on the in-memory storage (the SQLite stores are covered by the seeded
runs): a damaged node is rebuilt from below, a damaged block is dropped and reported, a damaged
head is refused for a writer and started over for a reader."""

from __future__ import annotations

import pytest
from faults_helpers import block, linked

from hyperpunch import crypto
from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import StorageCorruptError, WriteBatch
from hyperpunch.hypercore.integrity import HeadCorruptError
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.hypercore.storage import MemoryStorage

N = 64


def flipped(node: TreeNode) -> TreeNode:
    return TreeNode(node.index, node.size, bytes([node.hash[0] ^ 1]) + node.hash[1:])


async def _writer(storage: MemoryStorage) -> Hypercore:
    core = Hypercore(storage, key_pair=crypto.key_pair(b"\x09" * 32))
    await core.ready()
    await core.append([block(i) for i in range(N)])
    return core


async def test_a_damaged_node_is_rebuilt_from_below() -> None:
    storage = MemoryStorage()
    core = await _writer(storage)
    await core.aclose()
    again = storage.reopen()
    node = again.get_tree_node(11)  # the node over blocks 4-7
    assert node is not None
    wb = WriteBatch()
    wb.put_tree_node(flipped(node))
    again.write(wb)
    async with Hypercore(again) as c:
        for i in range(N):
            assert await c.get(i, wait=False) == block(i)
        assert [d.where for d in c.core.damage] == ["node"]
        assert c.core.damage[0].repaired_locally
    assert again.get_tree_node(node.index) == node  # written back


async def test_a_damaged_block_is_reported_then_healed() -> None:
    storage = MemoryStorage()
    source = await _writer(storage)
    copy = storage.reopen()
    wb = WriteBatch()
    wb.put_block(7, b"not block 7")
    copy.write(wb)
    async with Hypercore(copy) as c:
        with pytest.raises(StorageCorruptError) as info:
            await c.get(7, wait=False)
        assert (info.value.key, info.value.index) == (c.key, 7)
        assert not await c.has(7)
        assert await c.get(7, wait=False) is None  # dropped: missing, not wrong
        async with linked(source, c):
            assert await c.get(7) == block(7)  # wait=True: a peer sends it again
    await source.aclose()


async def test_a_damaged_head_is_refused_for_a_writer_and_refetched_for_a_reader() -> None:
    storage = MemoryStorage()
    source = await _writer(storage)
    assert source.key is not None
    root = storage.get_tree_node(63)  # the one root of 64 blocks
    assert root is not None

    writer_copy = storage.reopen()
    wb = WriteBatch()
    wb.put_tree_node(flipped(root))
    wb.delete_tree_node(31)  # a child too: the root cannot be rebuilt
    writer_copy.write(wb)
    with pytest.raises(HeadCorruptError):
        await Hypercore(writer_copy).ready()

    reader = Hypercore(None, source.key)
    await reader.ready()
    async with linked(source, reader):
        await reader.download(0, N).done()
    reader_copy = reader.core.storage
    assert isinstance(reader_copy, MemoryStorage)
    await reader.aclose()
    damaged = reader_copy.reopen()
    damaged.write(wb)
    async with Hypercore(damaged, source.key) as r:
        assert r.length == 0 and [d.where for d in r.core.damage] == ["head"]
        async with linked(source, r):
            await r.update()
            await r.download(0, N).done()
        assert r.length == N
        for i in range(N):
            assert await r.get(i, wait=False) == block(i)
    await source.aclose()

"""The indexer bookkeeping (JS ``lib/system.js`` ``add``/``remove``/``_updateIndexer``):
re-adding a member changes its indexer flag (promotion of a writer that already wrote takes
effect at once, an indexer re-added with ``indexer=False`` is demoted) without counting the
member twice; removing a member that is not one does not count it out twice."""

from __future__ import annotations

from hyperpunch.autobase.memory import MemoryWriter
from hyperpunch.autobase.node import DagNode
from hyperpunch.autobase.system import IndexerSystem

A, B, C = bytes([1]) * 32, bytes([2]) * 32, bytes([3]) * 32


def node(key: bytes, length: int) -> DagNode:
    return DagNode(MemoryWriter(key.hex()[:4], key), length, {"v": length}, [], 1, {})


def test_the_bootstrap_becomes_the_first_indexer() -> None:
    s = IndexerSystem(A)
    assert s.pending == [A] and s.indexer_keys == []
    s.add_head(node(A, 1))
    assert s.indexer_keys == [A] and s.members == 1


def test_promote_a_writer_that_wrote() -> None:
    s = IndexerSystem(A)
    s.add_head(node(A, 1))
    assert not s.add(B, indexer=False)  # a plain writer
    s.add_head(node(B, 1))
    assert s.indexer_keys == [A] and s.members == 2
    assert s.add(B, indexer=True)  # it wrote already: an indexer at once
    assert s.indexer_keys == [A, B] and s.members == 2 and s.pending == []


def test_promote_a_writer_that_did_not_write_is_pending() -> None:
    s = IndexerSystem(A)
    s.add_head(node(A, 1))
    s.add(C, indexer=False)
    assert not s.add(C, indexer=True)
    assert s.pending == [C] and s.indexer_keys == [A] and s.members == 2
    assert s.add_head(node(C, 1))
    assert s.indexer_keys == [A, C]


def test_demote_an_indexer() -> None:
    s = IndexerSystem(A)
    s.add_head(node(A, 1))
    s.add(B, indexer=True)
    assert s.add_head(node(B, 1))
    assert s.indexer_keys == [A, B]
    assert s.add(B, indexer=False)
    assert s.indexer_keys == [A] and s.members == 2  # still a writer
    assert not s.add(B, indexer=False)  # no change


def test_remove_counts_a_member_out_once() -> None:
    s = IndexerSystem(A)
    s.add_head(node(A, 1))
    s.add(B, indexer=False)
    assert not s.remove(B)
    assert not s.remove(B)
    assert s.members == 1

"""Core storage: SQLite (WAL) and memory stores behave alike; batches are atomic; a store
reopened after SIGKILL mid-append is consistent (head, tree, blocks, bitfield agree)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hc_storage_writer import KP, MANIFEST, VERIFIER, value

from hyperpunch import crypto
from hyperpunch.crypto import TreeNode
from hyperpunch.encoding import encode
from hyperpunch.hypercore import manifest as man
from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.errors import StorageCorruptError, WriteFailedError
from hyperpunch.hypercore.merkle import MerkleTree, with_block_value
from hyperpunch.hypercore.sqlite_store import MAX_INDEX, StoreDatabase
from hyperpunch.hypercore.storage import (
    CoreAuth,
    CoreHead,
    CoreStorage,
    MemoryStorage,
    SQLiteStorage,
    WriteBatch,
    append_blocks,
    head_of,
    load_bitfield,
    open_tree,
)
from hyperpunch.hypercore.storage_records import AUTH_CODEC, HEAD_CODEC

ROOT = Path(__file__).resolve().parents[2]


def _sign(batch: object) -> bytes:
    return VERIFIER.sign(batch, KP)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "sqlite"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    mems: list[MemoryStorage] = []

    def make() -> CoreStorage:
        if request.param == "memory":
            mems.append(mems[-1].reopen() if mems else MemoryStorage())
            return mems[-1]
        return SQLiteStorage(tmp_path / "core")

    return make


def test_append_reopen_truncate(store_factory) -> None:  # type: ignore[no-untyped-def]
    s = store_factory()
    key = man.manifest_hash(MANIFEST)
    wb = WriteBatch()
    wb.set_auth(CoreAuth(key, crypto.discovery_key(key), MANIFEST, KP, b"e" * 32))
    wb.put_user_data("hello", b"world")
    wb.put_user_data("gone", b"x")
    s.write(wb)
    wb = WriteBatch()
    wb.delete_user_data("gone")
    s.write(wb)
    tree = open_tree(s)
    bits = load_bitfield(s)
    for size in (1, 4, 9, 3):
        append_blocks(s, tree, [value(tree.length + i) for i in range(size)], sign=_sign, bitfield=bits)
    assert tree.length == 17
    expected_hash = tree.hash()
    s.close()

    s = store_factory()
    auth = s.get_auth()
    assert auth is not None and auth.key == key and auth.manifest == MANIFEST and auth.key_pair == KP
    assert auth.encryption_key == b"e" * 32
    assert s.get_user_data("hello") == b"world" and s.get_user_data("gone") is None
    assert list(s.user_data()) == [("hello", b"world")]
    reopened = open_tree(s)
    assert reopened.length == 17 and reopened.hash() == expected_hash
    assert VERIFIER.verify(reopened.batch(), reopened.signature)
    assert [s.get_block(i) for i in range(17)] == [value(i) for i in range(17)]
    assert s.get_block(17) is None
    bits2 = load_bitfield(s)
    assert [bits2.get(i) for i in range(20)] == [i < 17 for i in range(20)]
    # proofs served straight from storage verify
    p = with_block_value(reopened.proof(block=m.RequestBlock(5, 3)), value(5))
    reopened.verify(p)

    # truncate to 10 with a new fork: stale nodes above the cut disappear atomically
    batch = reopened.truncate(10, fork=1)
    batch.signature = _sign(batch)
    wb = WriteBatch()
    batch.commit(wb)
    wb.delete_block_range(10, -1)
    wb.set_head(CoreHead(batch.fork, batch.length, batch.hash(), batch.signature))
    s.write(wb)
    reopened.apply(batch)
    assert open_tree(s).hash() == reopened.hash()
    assert s.get_block(12) is None and s.get_block(9) == value(9)
    assert not s.has_tree_node(20) and s.has_tree_node(18)
    assert head_of(reopened) == s.get_head()
    s.close()


def test_failed_write_changes_nothing(tmp_path: Path) -> None:
    s = SQLiteStorage(tmp_path / "c")
    tree = open_tree(s)
    append_blocks(s, tree, [b"a", b"b"], sign=_sign)
    wb = WriteBatch()
    wb.put_block(2, b"c")
    wb.put_tree_node(TreeNode(4, 2**64, bytes(32)))  # SQLite cannot hold this size: the batch fails
    with pytest.raises(WriteFailedError):
        s.write(wb)
    assert s.get_block(2) is None
    assert open_tree(s).length == 2
    s.close()
    with pytest.raises(WriteFailedError):
        s.write(WriteBatch())


def test_corrupt_head_is_detected(tmp_path: Path) -> None:
    s = SQLiteStorage(tmp_path / "c")
    tree = open_tree(s)
    append_blocks(s, tree, [b"a", b"b", b"c"], sign=_sign)
    wb = WriteBatch()
    wb.set_head(CoreHead(0, 3, bytes(32), None))
    s.write(wb)
    with pytest.raises(StorageCorruptError):
        open_tree(s)
    s.conn.execute("UPDATE meta SET value = x'ff' WHERE name = 'head'")
    with pytest.raises(StorageCorruptError):
        s.get_head()
    s.close()


def _check_consistent(directory: Path) -> int:
    s = SQLiteStorage(directory)
    try:
        tree = open_tree(s)
        assert VERIFIER.verify(tree.batch(), tree.signature)
        bits = load_bitfield(s)
        for i in range(tree.length):
            blk = s.get_block(i)
            assert blk == value(i), i
            leaf = s.get_tree_node(2 * i)
            assert leaf is not None and leaf.hash == crypto.data(blk)
            assert bits.get(i)
        assert s.get_block(tree.length) is None
        assert not bits.get(tree.length)
        assert s.get_hints().contiguous_length == tree.length
        for r in tree.roots:  # every root's subtree is complete
            assert s.get_tree_node(r.index) == r
        return tree.length
    finally:
        s.close()


def test_sigkill_mid_append_reopens_consistent(tmp_path: Path) -> None:
    directory = tmp_path / "core"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests" / "hypercore")]),
    }
    last = 0
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "hypercore" / "hc_storage_writer.py"), str(directory)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        seen = 0
        target = last + 40 + 25 * round_
        while seen < target:
            line = proc.stdout.readline()
            assert line, "writer exited early"
            seen = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        length = _check_consistent(directory)
        assert length >= seen  # every batch reported as committed survived
        last = length


def test_tree_from_memory_matches_sqlite(tmp_path: Path) -> None:
    a, b = MemoryStorage(), SQLiteStorage(tmp_path / "x")
    ta, tb = open_tree(a), open_tree(b)
    for n in (3, 1, 7):
        vals = [value(ta.length + i) for i in range(n)]
        append_blocks(a, ta, vals, sign=_sign)
        append_blocks(b, tb, vals, sign=_sign)
    assert ta.roots == tb.roots and ta.signature == tb.signature
    for i in range(2 * ta.length):
        assert a.get_tree_node(i) == b.get_tree_node(i)
    assert isinstance(MerkleTree.open(b, 11), MerkleTree)
    b.close()


def test_node_cache_never_serves_stale_nodes(tmp_path: Path) -> None:
    s = SQLiteStorage(tmp_path / "c")
    a, b = TreeNode(4, 1, bytes([1]) * 32), TreeNode(4, 2, bytes([2]) * 32)
    wb = WriteBatch()
    wb.put_tree_node(a)
    s.write(wb)
    assert s.get_tree_node(4) == a  # now cached
    wb = WriteBatch()
    wb.put_tree_node(b)
    s.write(wb)
    assert s.get_tree_node(4) == b
    wb = WriteBatch()
    wb.delete_tree_node_range(0, 10)
    s.write(wb)
    assert s.get_tree_node(4) is None
    wb = WriteBatch()
    wb.put_tree_node(a)
    s.write(wb)
    assert s.get_tree_node(4) == a
    wb = WriteBatch()
    wb.delete_tree_node(4)
    s.write(wb)
    assert s.get_tree_node(4) is None
    s.close()


async def test_usable_from_asyncio_threads(tmp_path: Path) -> None:
    """An async Hypercore may run storage calls in worker threads: writes and reads interleave safely."""
    import asyncio

    s = SQLiteStorage(tmp_path / "c")
    tree = open_tree(s)

    def writer() -> None:
        for k in range(20):
            append_blocks(s, tree, [value(tree.length + i) for i in range(k % 4 + 1)], sign=_sign)

    def reader() -> int:
        seen = 0
        for _ in range(200):
            head = s.get_head()
            if head is not None:
                assert s.get_block(head.length - 1) is not None  # a head never precedes its blocks
                seen = max(seen, head.length)
        return seen

    _, seen = await asyncio.gather(asyncio.to_thread(writer), asyncio.to_thread(reader))
    assert seen <= tree.length
    assert open_tree(s).hash() == tree.hash()
    s.close()


def test_store_database_keeps_cores_apart(tmp_path: Path) -> None:
    """Many cores in one database: each reads only its own rows, survives a reopen, and one
    core's deletion or range deletion leaves the others intact."""
    db = StoreDatabase(tmp_path / "store.db")
    names = [bytes([n]) * 32 for n in range(1, 4)]
    trees = {}
    for k, name in enumerate(names):
        s = db.core(name)
        assert s.get_auth() is None and s.get_block(0) is None and list(s.bitfield_pages()) == []
        tree = open_tree(s)
        bits = load_bitfield(s)
        append_blocks(s, tree, [value(100 * k + i) for i in range(5 + k)], sign=_sign, bitfield=bits)
        wb = WriteBatch()
        wb.put_user_data("who", name)
        s.write(wb)
        trees[name] = tree.hash()
    assert db.names() == names
    db.close()

    db = StoreDatabase(tmp_path / "store.db")
    assert not db.has_core(b"\x09" * 32) and db.core(b"\x09" * 32).get_head() is None
    for k, name in enumerate(names):
        s = db.core(name)
        tree = open_tree(s)
        assert tree.length == 5 + k and tree.hash() == trees[name]
        assert [s.get_block(i) for i in range(tree.length + 1)] == [
            *(value(100 * k + i) for i in range(5 + k)),
            None,
        ]
        assert list(s.user_data()) == [("who", name)]
        assert [p for p, _ in s.bitfield_pages()] == [0]
        assert s.get_block(-1) is None and s.get_block(MAX_INDEX) is None
        assert s.get_tree_node(MAX_INDEX + 2) is None and not s.has_tree_node(-2)
    first, second = db.core(names[0]), db.core(names[1])
    wb = WriteBatch()
    wb.delete_block_range(0, -1)
    wb.delete_tree_node_range(0, -1)
    first.write(wb)
    assert first.get_block(0) is None and first.get_tree_node(0) is None
    assert second.get_block(0) == value(100) and second.get_tree_node(0) is not None
    wb = WriteBatch()
    wb.put_block(MAX_INDEX, b"x")  # would alias the next core's rows: refused
    with pytest.raises(WriteFailedError):
        second.write(wb)
    db.delete_core(names[1])
    assert db.names() == [names[0], names[2]]
    assert db.core(names[1]).get_head() is None
    assert open_tree(db.core(names[2])).hash() == trees[names[2]]
    db.close()


def test_version1_core_db_is_migrated(tmp_path: Path) -> None:
    """A ``core.db`` written with schema version 1 (one core, unprefixed keys) opens, migrated."""
    directory = tmp_path / "old"
    directory.mkdir()
    key = man.manifest_hash(MANIFEST)
    mem = MemoryStorage()
    wb = WriteBatch()
    wb.set_auth(CoreAuth(key, crypto.discovery_key(key), MANIFEST, KP))
    wb.put_user_data("u", b"v")
    mem.write(wb)
    tree = open_tree(mem)
    append_blocks(mem, tree, [value(i) for i in range(9)], sign=_sign, bitfield=load_bitfield(mem))
    conn = sqlite3.connect(directory / "core.db", isolation_level=None)
    conn.executescript(
        """
        CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE blocks (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
        CREATE TABLE tree (idx INTEGER PRIMARY KEY, size INTEGER NOT NULL, hash BLOB NOT NULL);
        CREATE TABLE bitfield (page INTEGER PRIMARY KEY, data BLOB NOT NULL);
        CREATE TABLE user_data (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        PRAGMA user_version=1;
        """
    )
    auth, head = mem.get_auth(), mem.get_head()
    assert auth is not None and head is not None
    conn.execute(
        "INSERT INTO meta VALUES ('auth', ?), ('head', ?)",
        (encode(AUTH_CODEC, auth), encode(HEAD_CODEC, head)),
    )
    conn.execute("INSERT INTO user_data VALUES ('u', x'76')")
    conn.executemany("INSERT INTO blocks VALUES (?, ?)", [(i, value(i)) for i in range(9)])
    conn.executemany(
        "INSERT INTO tree VALUES (?, ?, ?)",
        [(n.index, n.size, n.hash) for i in range(18) if (n := mem.get_tree_node(i)) is not None],
    )
    conn.executemany("INSERT INTO bitfield VALUES (?, ?)", list(mem.bitfield_pages()))
    conn.close()

    s = SQLiteStorage(directory)
    assert s.get_auth() == auth and s.get_user_data("u") == b"v"
    reopened = open_tree(s)
    assert reopened.length == 9 and reopened.hash() == tree.hash()
    assert [s.get_block(i) for i in range(9)] == [value(i) for i in range(9)]
    assert [load_bitfield(s).get(i) for i in range(10)] == [i < 9 for i in range(10)]
    append_blocks(s, reopened, [value(9)], sign=_sign)
    s.close()
    s = SQLiteStorage(directory)
    assert open_tree(s).length == 10 and s.get_block(9) == value(9)
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == 2
    s.close()


def test_store_database_with_background_checkpoints_reopens_intact(tmp_path: Path) -> None:
    """Enough writes to ask the shared checkpoint thread for checkpoints (while the writer keeps
    writing) lose nothing: every block and the head are there after a reopen."""
    db = StoreDatabase(tmp_path / "store.db")
    s = db.core(b"big")
    tree = open_tree(s)
    bits = load_bitfield(s)
    chunk = [bytes([i & 0xFF]) * 16384 for i in range(16)]
    for _ in range(12):  # 12 x 256 KiB: several checkpoint requests
        append_blocks(s, tree, chunk, sign=_sign, bitfield=bits)
    expected = tree.hash()
    db.close()
    db = StoreDatabase(tmp_path / "store.db")
    s = db.core(b"big")
    reopened = open_tree(s)
    assert reopened.length == 12 * 16 and reopened.hash() == expected
    assert all(s.get_block(i) == chunk[i % 16] for i in range(reopened.length))
    assert VERIFIER.verify(reopened.batch(), reopened.signature)
    db.close()

"""Core storage: a crash-safe SQLite store (WAL, one ``core.db`` per core directory) and an
in-memory store with the same interface.

Invariants:

* All changes go through a :class:`WriteBatch` applied by :meth:`CoreStorage.write` as **one**
  transaction: blocks, tree nodes, bitfield pages, the head (fork, length, root hash, signature),
  hints and user data land together or not at all. A store reopened after a crash (even SIGKILL
  mid-write) therefore shows the state of the last committed batch, never a mix.
* Reads are synchronous and fast (a B-tree lookup); the interface suits a later asyncio
  Hypercore that calls it inline or through ``asyncio.to_thread`` (calls are serialised by a lock,
  and the SQLite connection may be used from any one thread at a time).
* :func:`open_tree` rebuilds the trusted :class:`MerkleTree` from the stored head and refuses a
  store whose roots do not hash to the stored root hash (:class:`StorageCorruptError`).
* Metadata is stored with compact-encoding codecs defined here (never pickle).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hyperpunch import crypto
from hyperpunch.crypto import KeyPair, TreeNode
from hyperpunch.encoding import (
    Codec,
    DecodeError,
    DecodeState,
    EncodeState,
    buffer,
    decode,
    encode,
    fixed32,
    optional_buffer,
    uint,
)
from hyperpunch.hypercore.bitfield import BITS_PER_PAGE, Bitfield
from hyperpunch.hypercore.errors import BadArgumentError, StorageCorruptError, WriteFailedError
from hyperpunch.hypercore.merkle import MerkleTree, MerkleTreeBatch
from hyperpunch.hypercore.messages import Manifest
from hyperpunch.hypercore.messages import manifest as manifest_codec

__all__ = [
    "CoreAuth",
    "CoreHead",
    "CoreHints",
    "CoreStorage",
    "MemoryStorage",
    "SQLiteStorage",
    "WriteBatch",
    "append_blocks",
    "head_of",
    "load_bitfield",
    "open_tree",
]

DB_NAME = "core.db"
_T = TypeVar("_T")
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class CoreAuth:
    """Who the core is: ``key`` (the manifest hash), its discovery key, manifest and key pair."""

    key: bytes
    discovery_key: bytes
    manifest: Manifest | None = None
    key_pair: KeyPair | None = None
    encryption_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class CoreHead:
    """The signed tree head: ``root_hash`` is ``crypto.tree(roots)`` at ``length``."""

    fork: int
    length: int
    root_hash: bytes
    signature: bytes | None


@dataclass(frozen=True, slots=True)
class CoreHints:
    contiguous_length: int = 0
    remote_contiguous_length: int = 0


_DELETE = None


@dataclass(slots=True)
class WriteBatch:
    """Pending changes, applied atomically by :meth:`CoreStorage.write` (in call order per kind:
    range deletions first, then puts and single deletions in the order they were made)."""

    auth: CoreAuth | None = None
    head: CoreHead | None = None
    head_deleted: bool = False
    hints: CoreHints | None = None
    blocks: dict[int, bytes | None] = field(default_factory=dict)
    block_ranges: list[tuple[int, int]] = field(default_factory=list)
    nodes: dict[int, TreeNode | None] = field(default_factory=dict)
    node_ranges: list[tuple[int, int]] = field(default_factory=list)
    pages: dict[int, bytes | None] = field(default_factory=dict)
    page_ranges: list[tuple[int, int]] = field(default_factory=list)
    user_data: dict[str, bytes | None] = field(default_factory=dict)

    def set_auth(self, auth: CoreAuth) -> None:
        self.auth = auth

    def set_head(self, head: CoreHead) -> None:
        self.head = head
        self.head_deleted = False

    def delete_head(self) -> None:
        self.head = None
        self.head_deleted = True

    def set_hints(self, hints: CoreHints) -> None:
        self.hints = hints

    def put_block(self, index: int, data: bytes) -> None:
        self.blocks[index] = bytes(data)

    def delete_block(self, index: int) -> None:
        self.blocks[index] = _DELETE

    def delete_block_range(self, start: int, end: int) -> None:
        """Delete blocks ``start <= i < end`` (``end == -1``: to the end)."""
        self.block_ranges.append((start, end))
        for i in [i for i in self.blocks if start <= i and (end == -1 or i < end)]:
            del self.blocks[i]

    def put_tree_node(self, node: TreeNode) -> None:
        self.nodes[node.index] = node

    def delete_tree_node(self, index: int) -> None:
        self.nodes[index] = _DELETE

    def delete_tree_node_range(self, start: int, end: int) -> None:
        self.node_ranges.append((start, end))
        for i in [i for i in self.nodes if start <= i and (end == -1 or i < end)]:
            del self.nodes[i]

    def put_bitfield_page(self, index: int, data: bytes) -> None:
        self.pages[index] = bytes(data)

    def delete_bitfield_page(self, index: int) -> None:
        self.pages[index] = _DELETE

    def delete_bitfield_page_range(self, start: int, end: int) -> None:
        self.page_ranges.append((start, end))
        for i in [i for i in self.pages if start <= i and (end == -1 or i < end)]:
            del self.pages[i]

    def put_user_data(self, key: str, value: bytes) -> None:
        self.user_data[key] = bytes(value)

    def delete_user_data(self, key: str) -> None:
        self.user_data[key] = _DELETE


class CoreStorage(Protocol):
    """The storage interface a Hypercore uses (both stores implement it)."""

    def get_auth(self) -> CoreAuth | None: ...

    def get_head(self) -> CoreHead | None: ...

    def get_hints(self) -> CoreHints: ...

    def get_block(self, index: int) -> bytes | None: ...

    def get_tree_node(self, index: int) -> TreeNode | None: ...

    def has_tree_node(self, index: int) -> bool: ...

    def get_bitfield_page(self, index: int) -> bytes | None: ...

    def bitfield_pages(self) -> Iterator[tuple[int, bytes]]: ...

    def get_user_data(self, key: str) -> bytes | None: ...

    def user_data(self) -> Iterator[tuple[str, bytes]]: ...

    def write(self, batch: WriteBatch) -> None: ...

    def close(self) -> None: ...


def open_tree(storage: CoreStorage) -> MerkleTree:
    """The trusted tree at the stored head (empty when there is no head)."""
    head = storage.get_head()
    if head is None:
        return MerkleTree(storage)
    tree = MerkleTree.open(storage, head.length, fork=head.fork, signature=head.signature)
    if tree.hash() != head.root_hash:
        raise StorageCorruptError("stored tree roots do not match the stored root hash")
    return tree


# --- metadata encodings ------------------------------------------------------------------------


class _AuthCodec(Codec[CoreAuth]):
    __slots__ = ()

    def preencode(self, state: EncodeState, a: CoreAuth) -> None:
        state.end += 1 + 64
        if a.manifest is not None:
            manifest_codec.preencode(state, a.manifest)
        if a.key_pair is not None:
            buffer.preencode(state, a.key_pair.public_key)
            buffer.preencode(state, a.key_pair.secret_key)
        if a.encryption_key is not None:
            buffer.preencode(state, a.encryption_key)

    def encode(self, state: EncodeState, a: CoreAuth) -> None:
        flags = (
            (1 if a.manifest is not None else 0)
            | (2 if a.key_pair is not None else 0)
            | (4 if a.encryption_key is not None else 0)
        )
        uint.encode(state, flags)
        fixed32.encode(state, a.key)
        fixed32.encode(state, a.discovery_key)
        if a.manifest is not None:
            manifest_codec.encode(state, a.manifest)
        if a.key_pair is not None:
            buffer.encode(state, a.key_pair.public_key)
            buffer.encode(state, a.key_pair.secret_key)
        if a.encryption_key is not None:
            buffer.encode(state, a.encryption_key)

    def decode(self, state: DecodeState) -> CoreAuth:
        flags = uint.decode(state)
        key = fixed32.decode(state)
        dk = fixed32.decode(state)
        man = manifest_codec.decode(state) if flags & 1 else None
        kp = KeyPair(buffer.decode(state), buffer.decode(state)) if flags & 2 else None
        ek = buffer.decode(state) if flags & 4 else None
        return CoreAuth(key, dk, man, kp, ek)


class _HeadCodec(Codec[CoreHead]):
    __slots__ = ()

    def preencode(self, state: EncodeState, h: CoreHead) -> None:
        uint.preencode(state, h.fork)
        uint.preencode(state, h.length)
        state.end += 32
        optional_buffer.preencode(state, h.signature)

    def encode(self, state: EncodeState, h: CoreHead) -> None:
        uint.encode(state, h.fork)
        uint.encode(state, h.length)
        fixed32.encode(state, h.root_hash)
        optional_buffer.encode(state, h.signature)

    def decode(self, state: DecodeState) -> CoreHead:
        return CoreHead(
            uint.decode(state), uint.decode(state), fixed32.decode(state), optional_buffer.decode(state)
        )


class _HintsCodec(Codec[CoreHints]):
    __slots__ = ()

    def preencode(self, state: EncodeState, h: CoreHints) -> None:
        uint.preencode(state, h.contiguous_length)
        uint.preencode(state, h.remote_contiguous_length)

    def encode(self, state: EncodeState, h: CoreHints) -> None:
        uint.encode(state, h.contiguous_length)
        uint.encode(state, h.remote_contiguous_length)

    def decode(self, state: DecodeState) -> CoreHints:
        return CoreHints(uint.decode(state), uint.decode(state))


_auth = _AuthCodec()
_head = _HeadCodec()
_hints = _HintsCodec()


def _check_batch(batch: WriteBatch) -> None:
    if batch.head is not None and len(batch.head.root_hash) != 32:
        raise BadArgumentError("head root hash must be 32 bytes")
    for n in batch.nodes.values():
        if n is not None and len(n.hash) != 32:
            raise BadArgumentError("tree node hash must be 32 bytes")


# --- memory ------------------------------------------------------------------------------------


class MemoryStorage:
    """A dict-backed :class:`CoreStorage` (tests, ephemeral cores). Writes are atomic in memory."""

    def __init__(self) -> None:
        self._auth: CoreAuth | None = None
        self._head: CoreHead | None = None
        self._hints = CoreHints()
        self._blocks: dict[int, bytes] = {}
        self._nodes: dict[int, TreeNode] = {}
        self._pages: dict[int, bytes] = {}
        self._user: dict[str, bytes] = {}
        self.closed = False

    def get_auth(self) -> CoreAuth | None:
        return self._auth

    def get_head(self) -> CoreHead | None:
        return self._head

    def get_hints(self) -> CoreHints:
        return self._hints

    def get_block(self, index: int) -> bytes | None:
        return self._blocks.get(index)

    def get_tree_node(self, index: int) -> TreeNode | None:
        return self._nodes.get(index)

    def has_tree_node(self, index: int) -> bool:
        return index in self._nodes

    def get_bitfield_page(self, index: int) -> bytes | None:
        return self._pages.get(index)

    def bitfield_pages(self) -> Iterator[tuple[int, bytes]]:
        return iter(sorted(self._pages.items()))

    def get_user_data(self, key: str) -> bytes | None:
        return self._user.get(key)

    def user_data(self) -> Iterator[tuple[str, bytes]]:
        return iter(sorted(self._user.items()))

    def write(self, batch: WriteBatch) -> None:
        if self.closed:
            raise WriteFailedError("storage is closed")
        _check_batch(batch)
        for target, ranges, puts in (
            (self._blocks, batch.block_ranges, batch.blocks),
            (self._nodes, batch.node_ranges, batch.nodes),
            (self._pages, batch.page_ranges, batch.pages),
        ):
            t: dict[int, object] = target  # type: ignore[assignment]
            for start, end in ranges:
                for i in [i for i in t if start <= i and (end == -1 or i < end)]:
                    del t[i]
            for i, v in puts.items():
                if v is None:
                    t.pop(i, None)
                else:
                    t[i] = v
        for k, uv in batch.user_data.items():
            if uv is None:
                self._user.pop(k, None)
            else:
                self._user[k] = uv
        if batch.auth is not None:
            self._auth = batch.auth
        if batch.head_deleted:
            self._head = None
        elif batch.head is not None:
            self._head = batch.head
        if batch.hints is not None:
            self._hints = batch.hints

    def close(self) -> None:
        self.closed = True

    def reopen(self) -> MemoryStorage:
        """A new open store holding this one's state (what reopening a directory gives)."""
        other = MemoryStorage()
        other._auth, other._head, other._hints = self._auth, self._head, self._hints
        other._blocks = dict(self._blocks)
        other._nodes = dict(self._nodes)
        other._pages = dict(self._pages)
        other._user = dict(self._user)
        return other


# --- SQLite ------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tree (idx INTEGER PRIMARY KEY, size INTEGER NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bitfield (page INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS user_data (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""

_MAX_ROW = 2**63 - 1
_NODE_CACHE_MAX = 65536


def _end(end: int) -> int:
    return _MAX_ROW if end == -1 else end


class SQLiteStorage:
    """A :class:`CoreStorage` in ``<directory>/core.db`` (SQLite, WAL journal).

    ``durable=True`` sets ``synchronous=FULL`` (a committed batch survives power loss); the default
    ``NORMAL`` keeps every commit across process crashes and stays consistent after power loss.
    """

    def __init__(self, directory: str | os.PathLike[str], *, durable: bool = False) -> None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        self.path = path / DB_NAME
        self._lock = threading.Lock()
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                conn.close()
                raise StorageCorruptError(f"unknown storage schema version {version}")
            if version < SCHEMA_VERSION:  # a new store: create the tables in one transaction
                conn.executescript(f"BEGIN;{_SCHEMA}PRAGMA user_version={SCHEMA_VERSION};COMMIT;")
        except sqlite3.Error as err:
            raise StorageCorruptError(f"cannot open {self.path}: {err}") from err
        self._conn: sqlite3.Connection | None = conn
        # tree nodes are read far more than written (every proof reads ~log2(length) of them):
        # a bounded cache, updated by committed writes and cleared when a write deletes nodes
        self._node_cache: dict[int, TreeNode] = {}

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise WriteFailedError("storage is closed")
        return self._conn

    def _one(self, sql: str, args: tuple[object, ...]) -> Any:
        with self._lock:
            return self.conn.execute(sql, args).fetchone()

    def _meta(self, name: str) -> bytes | None:
        row = self._one("SELECT value FROM meta WHERE name = ?", (name,))
        return None if row is None else bytes(row[0])

    def _decode_meta(self, name: str, codec: Codec[_T]) -> _T | None:
        raw = self._meta(name)
        if raw is None:
            return None
        try:
            return decode(codec, raw, exact=True)
        except DecodeError as err:
            raise StorageCorruptError(f"stored {name} does not decode: {err}") from err

    def get_auth(self) -> CoreAuth | None:
        return self._decode_meta("auth", _auth)

    def get_head(self) -> CoreHead | None:
        return self._decode_meta("head", _head)

    def get_hints(self) -> CoreHints:
        v = self._decode_meta("hints", _hints)
        return v if v is not None else CoreHints()

    def get_block(self, index: int) -> bytes | None:
        row = self._one("SELECT data FROM blocks WHERE idx = ?", (index,))
        return None if row is None else bytes(row[0])

    def get_tree_node(self, index: int) -> TreeNode | None:
        node = self._node_cache.get(index)
        if node is not None:
            return node
        with self._lock:  # read and cache under the lock, so a concurrent write cannot go stale
            row = self.conn.execute("SELECT size, hash FROM tree WHERE idx = ?", (index,)).fetchone()
            if row is None:
                return None
            node = TreeNode(index, row[0], bytes(row[1]))
            if len(self._node_cache) >= _NODE_CACHE_MAX:
                self._node_cache.clear()
            self._node_cache[index] = node
            return node

    def has_tree_node(self, index: int) -> bool:
        return self._one("SELECT 1 FROM tree WHERE idx = ?", (index,)) is not None

    def get_bitfield_page(self, index: int) -> bytes | None:
        row = self._one("SELECT data FROM bitfield WHERE page = ?", (index,))
        return None if row is None else bytes(row[0])

    def bitfield_pages(self) -> Iterator[tuple[int, bytes]]:
        with self._lock:
            rows = self.conn.execute("SELECT page, data FROM bitfield ORDER BY page").fetchall()
        return iter([(int(p), bytes(d)) for p, d in rows])

    def get_user_data(self, key: str) -> bytes | None:
        row = self._one("SELECT value FROM user_data WHERE key = ?", (key,))
        return None if row is None else bytes(row[0])

    def user_data(self) -> Iterator[tuple[str, bytes]]:
        with self._lock:
            rows = self.conn.execute("SELECT key, value FROM user_data ORDER BY key").fetchall()
        return iter([(str(k), bytes(v)) for k, v in rows])

    def write(self, batch: WriteBatch) -> None:
        """Apply ``batch`` in one transaction (all or nothing)."""
        _check_batch(batch)
        with self._lock:
            c = self.conn
            try:
                c.execute("BEGIN IMMEDIATE")
                for start, end in batch.block_ranges:
                    c.execute("DELETE FROM blocks WHERE idx >= ? AND idx < ?", (start, _end(end)))
                for start, end in batch.node_ranges:
                    c.execute("DELETE FROM tree WHERE idx >= ? AND idx < ?", (start, _end(end)))
                for start, end in batch.page_ranges:
                    c.execute("DELETE FROM bitfield WHERE page >= ? AND page < ?", (start, _end(end)))
                puts = [(i, v) for i, v in batch.blocks.items() if v is not None]
                if puts:
                    c.executemany("INSERT OR REPLACE INTO blocks (idx, data) VALUES (?, ?)", puts)
                dels = [(i,) for i, v in batch.blocks.items() if v is None]
                if dels:
                    c.executemany("DELETE FROM blocks WHERE idx = ?", dels)
                nodes = [(n.index, n.size, n.hash) for n in batch.nodes.values() if n is not None]
                if nodes:
                    c.executemany("INSERT OR REPLACE INTO tree (idx, size, hash) VALUES (?, ?, ?)", nodes)
                dels = [(i,) for i, n in batch.nodes.items() if n is None]
                if dels:
                    c.executemany("DELETE FROM tree WHERE idx = ?", dels)
                for p, d in batch.pages.items():
                    if d is None:
                        c.execute("DELETE FROM bitfield WHERE page = ?", (p,))
                    else:
                        c.execute("INSERT OR REPLACE INTO bitfield (page, data) VALUES (?, ?)", (p, d))
                for k, v in batch.user_data.items():
                    if v is None:
                        c.execute("DELETE FROM user_data WHERE key = ?", (k,))
                    else:
                        c.execute("INSERT OR REPLACE INTO user_data (key, value) VALUES (?, ?)", (k, v))
                meta: list[tuple[str, bytes]] = []
                if batch.auth is not None:
                    meta.append(("auth", encode(_auth, batch.auth)))
                if batch.head is not None:
                    meta.append(("head", encode(_head, batch.head)))
                if batch.hints is not None:
                    meta.append(("hints", encode(_hints, batch.hints)))
                if meta:
                    c.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", meta)
                if batch.head_deleted:
                    c.execute("DELETE FROM meta WHERE name = 'head'")
                c.execute("COMMIT")
            except (sqlite3.Error, OverflowError) as err:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise WriteFailedError(f"write to {self.path} failed: {err}") from err
            finally:
                # whatever happened, the cache may not hold anything the database does not
                cache = self._node_cache
                if batch.node_ranges or any(n is None for n in batch.nodes.values()):
                    cache.clear()
                else:
                    for i in batch.nodes:
                        cache.pop(i, None)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SQLiteStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def head_of(tree: MerkleTree) -> CoreHead:
    """The head record for a tree's current state."""
    return CoreHead(tree.fork, tree.length, crypto.tree(tree.roots), tree.signature)


class _Signer(Protocol):
    def __call__(self, batch: MerkleTreeBatch, /) -> bytes: ...


def append_blocks(
    storage: CoreStorage,
    tree: MerkleTree,
    values: list[bytes],
    *,
    sign: _Signer | None = None,
    bitfield: Bitfield | None = None,
    hints: CoreHints | None = None,
) -> MerkleTreeBatch:
    """Append ``values`` as one atomic write: blocks, new tree nodes, bitfield pages and the new
    signed head commit together; then ``tree`` (and ``bitfield``) move to the new state."""
    start = tree.length
    batch = tree.batch()
    batch.append_many(values)
    if sign is not None:
        batch.signature = sign(batch)
    wb = WriteBatch()
    for i, v in enumerate(values):
        wb.put_block(start + i, v)
    batch.commit(wb)
    wb.set_head(CoreHead(batch.fork, batch.length, batch.hash(), batch.signature))
    if hints is not None:
        wb.set_hints(hints)
    if bitfield is not None and values:
        bitfield.set_range(start, batch.length, True)
        for p in range(start // BITS_PER_PAGE, (batch.length - 1) // BITS_PER_PAGE + 1):
            page = bitfield.get_page(p)
            if page is not None:
                wb.put_bitfield_page(p, page)
    try:
        storage.write(wb)
    except BaseException:
        if bitfield is not None and values:
            bitfield.set_range(start, batch.length, False)
        raise
    tree.apply(batch)
    return batch


def load_bitfield(storage: CoreStorage) -> Bitfield:
    """The in-memory bitfield from the stored pages."""
    pages = list(storage.bitfield_pages())
    if not pages:
        return Bitfield()
    buf = bytearray((pages[-1][0] + 1) * BITS_PER_PAGE // 8)
    for p, data in pages:
        buf[p * BITS_PER_PAGE // 8 : p * BITS_PER_PAGE // 8 + len(data)] = data
    return Bitfield(bytes(buf))

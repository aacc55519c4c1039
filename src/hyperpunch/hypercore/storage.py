"""Core storage: the records and interface (:mod:`.storage_records`), the crash-safe SQLite
stores (:mod:`.sqlite_store`: one database per store, :class:`SQLiteStorage` for a single-core
directory), an in-memory store with the same interface, and the helpers every Hypercore uses.

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
* Metadata is stored with compact-encoding codecs (never pickle).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from hyperpunch import crypto
from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore.bitfield import BITS_PER_PAGE, Bitfield
from hyperpunch.hypercore.errors import StorageCorruptError, WriteFailedError
from hyperpunch.hypercore.merkle import MerkleTree, MerkleTreeBatch
from hyperpunch.hypercore.sqlite_store import (
    DB_NAME,
    SCHEMA_VERSION,
    SQLiteCoreStorage,
    SQLiteStorage,
    StoreDatabase,
)
from hyperpunch.hypercore.storage_records import (
    CoreAuth,
    CoreHead,
    CoreHints,
    CoreStorage,
    WriteBatch,
    check_batch,
)

__all__ = [
    "DB_NAME",
    "SCHEMA_VERSION",
    "CoreAuth",
    "CoreHead",
    "CoreHints",
    "CoreStorage",
    "MemoryStorage",
    "SQLiteCoreStorage",
    "SQLiteStorage",
    "StoreDatabase",
    "WriteBatch",
    "append_blocks",
    "head_of",
    "load_bitfield",
    "open_tree",
]


def open_tree(storage: CoreStorage) -> MerkleTree:
    """The trusted tree at the stored head (empty when there is no head)."""
    head = storage.get_head()
    if head is None:
        return MerkleTree(storage)
    tree = MerkleTree.open(storage, head.length, fork=head.fork, signature=head.signature)
    if tree.hash() != head.root_hash:
        raise StorageCorruptError("stored tree roots do not match the stored root hash")
    return tree


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
        check_batch(batch)
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


# --- helpers -----------------------------------------------------------------------------------


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

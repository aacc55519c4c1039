"""One read or write pass over the tree (JS ``hyperbee/index.js`` ``Batch``).

Invariants:

* A write (``put`` / ``delete``) descends from the root of the current version, marks the path
  changed exactly as JS does, and appends one block per operation: the node's key, value (``None``
  for a delete) and the index of every changed node (:func:`tree.index_changes`). An empty core
  first gets the header block. A :class:`Batch` with ``auto_flush=False`` keeps its blocks in
  memory (reads see them) and appends them all at once on :meth:`Batch.flush`, compacting the
  indexes of all but the last block as JS's ``toBlocks`` does.
* Writes hold the bee's write lock from the first operation until the block is appended (or the
  batch is flushed / closed); an error inside an operation releases it, so the bee stays usable.
* Reads see one version: the root is the block at ``version - 1``; every block reached from it has
  a lower seq, so appends during a read change nothing. Blocks are fetched through the bee's node
  and key caches (valid for the core's current fork), then from the core, waiting for peers when
  ``wait``. A missing block raises :class:`BlockNotAvailableError`, one that is not a node
  :class:`HyperbeeDecodingError`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, Protocol

from hyperpunch.encoding import DecodeError
from hyperpunch.hyperbee.errors import (
    BlockNotAvailableError,
    CorruptTreeError,
    HyperbeeDecodingError,
    ReadOnlyError,
)
from hyperpunch.hyperbee.messages import Header, Metadata, decode_node, encode_header, encode_node
from hyperpunch.hyperbee.tree import (
    BatchEntry,
    BlockEntry,
    Child,
    Entry,
    Key,
    NodeEntry,
    TreeNode,
    check_depth,
    deflate,
    index_changes,
    rebalance,
    set_key_to_nearest_leaf,
)
from hyperpunch.hypercore import Hypercore

__all__ = ["Batch", "BeeState", "Cas", "Codec", "compare"]

Cas = Callable[[Entry, Entry], Any]
"""``cas(prev, next)``: return (or resolve to) true to let the write replace ``prev``."""


class Codec(Protocol):
    def encode(self, value: Any) -> bytes: ...

    def decode(self, block: bytes) -> Any: ...


class BeeState(Protocol):
    """What a batch reads from its bee (the seam toward :class:`hyperpunch.hyperbee.Hyperbee`)."""

    @property
    def core(self) -> Hypercore: ...

    @property
    def readonly(self) -> bool: ...

    @property
    def metadata(self) -> Metadata | None: ...

    @property
    def checkout_version(self) -> int: ...

    @property
    def write_lock(self) -> asyncio.Lock: ...

    def cached_node(self, core: Hypercore, seq: int) -> NodeEntry | None: ...

    def cache_node(self, core: Hypercore, seq: int, entry: NodeEntry) -> None: ...

    def cached_key(self, core: Hypercore, seq: int) -> bytes | None: ...

    def cache_key(self, core: Hypercore, seq: int, key: bytes) -> None: ...

    def on_wait_get(self, version: int, key: bytes) -> None: ...


def compare(a: bytes, b: bytes) -> int:
    return -1 if a < b else (1 if a > b else 0)


async def _resolve(v: Any) -> bool:
    if inspect.isawaitable(v):
        v = await v
    return bool(v)


class Batch:
    """A pass over the tree; ``auto_flush=False`` makes it an explicit, atomic write batch."""

    def __init__(
        self,
        bee: BeeState,
        core: Hypercore,
        key_codec: Codec,
        value_codec: Codec,
        *,
        auto_flush: bool = True,
        cache: bool = True,
        checkout: int = -1,
        wait: bool = True,
        timeout: float | None = None,
        update: bool = True,
        extension: bool = True,
        onseq: Callable[[int], None] | None = None,
        bounded: bool = True,
    ) -> None:
        self.bee = bee
        self.core = core
        self.key_codec = key_codec
        self.value_codec = value_codec
        self.auto_flush = auto_flush
        self.blocks: dict[int, BlockEntry] | None = {} if cache else None
        self.max_blocks_cached = 128
        self.root_seq = 0
        self.root: TreeNode | None = None
        self.length = 0
        self.checkout = checkout
        self.wait = wait
        self.timeout = timeout
        self.should_update = update
        self.extension = extension
        self.onseq = onseq
        self.locked = False
        self.updated = False
        self.op_lock = None if auto_flush else asyncio.Lock()
        self.onwait_key: bytes | None = None
        self.onwait: Callable[[], None] | None = None  # a range's extension hook (see bee.range)
        self.bounded = bounded

    @property
    def version(self) -> int:
        if self.checkout != -1:
            return max(1, self.checkout)
        return max(1, self.bee.checkout_version or self.core.length + self.length)

    # --- blocks ----------------------------------------------------------------------------

    async def get_root(self, ensure_header: bool) -> TreeNode | None:
        core = self.core
        if not core.opened:
            await core.ready()
        if ensure_header and core.length == 0 and core.writable and not self.bee.readonly:
            await core.append([encode_header(Header("hyperbee", self.bee.metadata))])
        if (
            self.bee.checkout_version == 0
            and self.checkout == -1
            and self.should_update
            and not self.updated
            and not core.writable
        ):
            self.updated = True
            await core.update()
        version = self.version
        if version < 2:
            return None
        return (await self.get_block(version - 1)).get_tree_node(0)

    async def get_key(self, seq: int) -> bytes:
        core = self.core
        k = self.bee.cached_key(core, seq)
        if k is not None:
            return k
        key = (await self.get_block(seq)).key
        if seq < core.length:
            self.bee.cache_key(core, seq, key)
        return key

    async def get_block(self, seq: int) -> BlockEntry:
        if self.root_seq == 0:
            self.root_seq = seq
        blocks = self.blocks
        if blocks is not None:
            b = blocks.get(seq)
            if b is not None:
                return b
        if seq < 1 or (self.bounded and seq >= self.version):
            raise CorruptTreeError(f"the tree points at block {seq}, outside version {self.version}")
        if self.onseq is not None:
            self.onseq(seq)
        entry = await self._get_node(seq)
        b = BlockEntry(seq, self, entry)
        if blocks is not None and len(blocks) - self.length < self.max_blocks_cached:
            blocks[seq] = b
        return b

    async def _get_node(self, seq: int) -> NodeEntry:
        bee, core = self.bee, self.core
        cached = bee.cached_node(core, seq)
        if cached is not None:
            return cached
        raw = await core.get(seq, wait=False, raw=False, value_encoding="binary")
        if raw is None and self.wait:
            if self.onwait_key is not None:
                key, self.onwait_key = self.onwait_key, None
                bee.on_wait_get(self.root_seq + 1, key)
            elif self.onwait is not None:
                self.onwait()
            raw = await core.get(seq, wait=True, timeout=self.timeout, value_encoding="binary")
        if raw is None:
            raise BlockNotAvailableError(f"block {seq} is not available")
        try:
            node = decode_node(raw)
        except DecodeError as err:
            raise HyperbeeDecodingError(f"block {seq} is not a hyperbee node: {err}") from err
        entry = NodeEntry(node.key, node.value, node.index)
        bee.cache_node(core, seq, entry)
        return entry

    def final(self, block: BlockEntry) -> Entry:
        return block.final(self.key_codec.decode, self.value_codec.decode)

    # --- reads -----------------------------------------------------------------------------

    async def get_by_seq(self, seq: int) -> Entry:
        return self.final(await self.get_block(seq))

    async def get_entry(self, key: bytes) -> BlockEntry | None:
        """The block holding ``key`` (already encoded) in this version, or None."""
        if self.extension:
            self.onwait_key = key
        node = await self.get_root(False)
        if node is None:
            return None
        depth = 0
        while True:
            depth += 1
            check_depth(depth)
            block = node.block
            assert block is not None
            if block.is_target(key):
                return None if block.is_deletion() else block
            keys = node.keys
            s, e, c = 0, len(keys), 0
            while s < e:
                mid = (s + e) >> 1
                k = keys[mid].value
                if k is None:
                    k = await node.get_key(mid)
                if key == k:
                    return await self.get_block(keys[mid].seq)
                if key < k:
                    e, c = mid, -1
                else:
                    s, c = mid + 1, 1
            if not node.children:
                return None
            node = await node.get_child_node(e if c < 0 else s)

    async def get(self, key: bytes) -> Entry | None:
        block = await self.get_entry(key)
        return None if block is None else self.final(block)

    # --- writes ----------------------------------------------------------------------------

    async def _lock(self) -> None:
        if self.bee.readonly:
            raise ReadOnlyError("Hyperbee is marked as read-only")
        if not self.locked:
            await self.bee.write_lock.acquire()
            self.locked = True

    def _unlock(self) -> None:
        if self.locked:
            self.locked = False
            self.bee.write_lock.release()

    def _unlock_maybe(self) -> None:
        if self.auto_flush:
            self._unlock()

    async def put(self, key: Any, value: Any, *, cas: Cas | None = None) -> None:
        if self.op_lock is not None:
            async with self.op_lock:
                await self._lock()
                await self._put(key, value, cas)
            return
        await self._lock()
        try:
            await self._put(key, value, cas)
        finally:
            self._unlock()

    async def delete(self, key: Any, *, cas: Cas | None = None) -> None:
        if self.op_lock is not None:
            async with self.op_lock:
                await self._lock()
                await self._del(key, cas)
            return
        await self._lock()
        try:
            await self._del(key, cas)
        finally:
            self._unlock()

    async def _put(self, ukey: Any, uvalue: Any, cas: Cas | None) -> None:
        key = self.key_codec.encode(ukey)
        value = None if uvalue is None else self.value_codec.encode(uvalue)
        stack: list[TreeNode] = []
        root = await self.get_root(True)
        if root is None:
            root = TreeNode.create(None)
        node = root
        seq = self.core.length + self.length
        target = Key(seq, key)
        new_entry = Entry(seq, ukey, uvalue)

        async def check(prev: BlockEntry) -> bool:
            assert cas is not None
            return await _resolve(cas(self.final(prev), new_entry))

        while node.children:
            stack.append(node)
            check_depth(len(stack))
            node.changed = True  # changed, but compressible
            keys = node.keys
            s, e, c = 0, len(keys), 0
            while s < e:
                mid = (s + e) >> 1
                k = keys[mid].value
                if k is None:
                    k = await node.get_key(mid)
                if key == k:
                    if cas is not None and not await check(await node.get_key_node(mid)):
                        return self._unlock_maybe()
                    keys[mid] = target
                    node.changed = True
                    return await self._append(root, seq, key, value)
                if key < k:
                    e, c = mid, -1
                else:
                    s, c = mid + 1, 1
            node = await node.get_child_node(e if c < 0 else s)

        needs_split = not await node.insert_key(target, None, None if cas is None else check)
        if not node.changed:
            return self._unlock_maybe()
        while needs_split:
            parent = stack.pop() if stack else None
            median, right = await node.split()
            if parent is not None:
                needs_split = not await parent.insert_key(median, right, None)
                node = parent
            else:
                root = TreeNode.create(node.block)
                root.keys.append(median)
                root.children.append(Child(0, 0, node))
                root.children.append(Child(0, 0, right))
                needs_split = False
        await self._append(root, seq, key, value)

    async def _del(self, ukey: Any, cas: Cas | None) -> None:
        key = self.key_codec.encode(ukey)
        stack: list[TreeNode] = []
        node = await self.get_root(True)
        if node is None:
            return self._unlock_maybe()
        seq = self.core.length + self.length
        del_entry = Entry(seq, ukey, None)
        while True:
            stack.append(node)
            check_depth(len(stack))
            keys = node.keys
            s, e, c = 0, len(keys), 0
            while s < e:
                mid = (s + e) >> 1
                k = keys[mid].value
                if k is None:
                    k = await node.get_key(mid)
                if key == k:
                    if cas is not None:
                        prev = await node.get_key_node(mid)
                        if not await _resolve(cas(self.final(prev), del_entry)):
                            return self._unlock_maybe()
                    if node.children:
                        await set_key_to_nearest_leaf(node, mid, stack)
                    else:
                        node.remove_key(mid)
                    # marked late, so a 404 rewrites nothing
                    for n in stack:
                        n.changed = True
                    return await self._append(await rebalance(stack), seq, key, None)
                if key < k:
                    e, c = mid, -1
                else:
                    s, c = mid + 1, 1
            if not node.children:
                return self._unlock_maybe()
            node = await node.get_child_node(e if c < 0 else s)

    async def _append(self, root: TreeNode, seq: int, key: bytes, value: bytes | None) -> None:
        index = index_changes(root, seq)
        if not self.auto_flush:
            block = BatchEntry(seq, self, key, value, index)
            root.block = block
            self.root = root
            self.length += 1
            assert self.blocks is not None
            self.blocks[seq] = block
            root.update_children(seq, block)
            return
        await self.core.append([encode_node(key, value, deflate(index))])

    def to_blocks(self) -> list[bytes]:
        """The pending blocks, encoded as JS's ``toBlocks`` does."""
        out: list[bytes] = []
        base = self.core.length
        assert self.blocks is not None
        for i in range(self.length):
            seq = base + i
            block = self.blocks[seq]
            assert isinstance(block, BatchEntry)
            pi = block.pending_index
            if i < self.length - 1:
                pi[0] = None
                j = 0
                while j < len(pi):
                    idx = pi[j]
                    if idx is not None and idx.seq == seq:
                        idx.offset = j
                        j += 1
                        continue
                    if j == len(pi) - 1:
                        pi.pop()
                    else:
                        pi[j] = pi.pop()
            out.append(encode_node(block.key, block.value, deflate(pi)))
        return out

    async def flush(self) -> None:
        """Append every pending block atomically and release the write lock."""
        if not self.length:
            return self.close()
        blocks = self.to_blocks()
        self.root = None
        assert self.blocks is not None
        self.blocks.clear()
        self.length = 0
        try:
            await self.core.append(blocks)
        finally:
            self._unlock()

    def close(self) -> None:
        """Drop pending blocks and release the write lock."""
        self.root = None
        if self.blocks is not None:
            self.blocks.clear()
        self.length = 0
        self._unlock()

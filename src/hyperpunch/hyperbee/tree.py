"""The in-memory B-tree of hyperbee (JS ``hyperbee/index.js``: Key, Child, TreeNode, BlockEntry).

Invariants:

* Order ``T = 5``: a node holds at most ``2T - 2 = 8`` keys after a put (it splits when it reaches
  9) and at least ``T - 1 = 4`` after a delete (else it borrows from a sibling or merges), the root
  excepted. Keys compare as raw bytes (``b4a.compare``: Python's ``bytes`` order).
* A tree node is copy-on-write: the nodes an operation touches are marked ``changed`` and written
  (by :func:`index_changes`) into the operation's block, in exactly the order, offsets and with
  exactly the stale ``changed`` flags that JS leaves behind, so the same sequence of operations
  yields byte-identical blocks.
* A :class:`BlockEntry` is one decoded node block; its index is inflated once and checked: key
  and child seqs are >= 1 (JS batches do write child seqs above the block's own seq, pointing
  later into the same batch), a child in the same block names an existing level, a node has no
  children or one more child than keys, and child pointers inside one block form no cycle.
  Walks down the tree stop at :data:`MAX_DEPTH` levels (a cycle across blocks) and the batch
  refuses seqs at or past its version. Anything else raises :class:`CorruptTreeError`, so a walk
  always ends.

This module does no IO: a :class:`BlockEntry` reaches other blocks through its :class:`BlockReader`
(the batch that loaded it), which is the seam toward the core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hyperpunch.hyperbee.errors import CorruptTreeError
from hyperpunch.hyperbee.messages import Level, decode_index, encode_index

__all__ = [
    "MAX_CHILDREN",
    "MAX_DEPTH",
    "MIN_KEYS",
    "BatchEntry",
    "BlockEntry",
    "BlockReader",
    "Child",
    "Entry",
    "Key",
    "NodeEntry",
    "T",
    "TreeNode",
    "check_depth",
    "deflate",
    "index_changes",
    "inflate",
    "rebalance",
    "set_key_to_nearest_leaf",
]

T = 5
MAX_DEPTH = 64  # a T=5 tree this deep would hold more than 5**64 keys: deeper means a cycle
MIN_KEYS = T - 1
MAX_CHILDREN = MIN_KEYS * 2 + 1


@dataclass(frozen=True, slots=True)
class Entry:
    """A bee entry as the user sees it: ``seq`` of the block that wrote it, decoded key and value."""

    seq: int
    key: Any
    value: Any


class Key:
    __slots__ = ("seq", "value")

    def __init__(self, seq: int, value: bytes | None) -> None:
        self.seq = seq
        self.value = value


class Child:
    __slots__ = ("offset", "seq", "value")

    def __init__(self, seq: int, offset: int, value: TreeNode | None) -> None:
        self.seq = seq
        self.offset = offset
        self.value = value


class NodeEntry:
    """A decoded node block as cached by the bee: key, value and the (lazily decoded) index."""

    __slots__ = ("index", "inflated", "key", "value")

    def __init__(self, key: bytes, value: bytes | None, index: bytes) -> None:
        self.key = key
        self.value = value
        self.index: bytes | None = index
        self.inflated: list[Level] | None = None


class BlockReader(Protocol):
    """What a block needs from the batch that loaded it (JS ``Batch``)."""

    async def get_block(self, seq: int) -> BlockEntry: ...

    async def get_key(self, seq: int) -> bytes: ...


def inflate(seq: int, entry: NodeEntry) -> list[Level]:
    """The decoded, checked index levels of block ``seq`` (decoded once per cached entry)."""
    levels = entry.inflated
    if levels is None:
        assert entry.index is not None
        try:
            levels = decode_index(entry.index)
        except Exception as err:
            raise CorruptTreeError(f"block {seq} has an undecodable index: {err}") from err
        _check_levels(seq, levels)
        entry.inflated = levels
        entry.index = None
    return levels


def _check_levels(seq: int, levels: list[Level]) -> None:
    n = len(levels)
    local: list[list[int]] = [[] for _ in range(n)]
    for li, lvl in enumerate(levels):
        for k in lvl.keys:
            if k < 1:
                raise CorruptTreeError(f"block {seq} level {li} has key seq {k}")
        ch = lvl.children
        if len(ch) & 1 or (ch and len(ch) // 2 != len(lvl.keys) + 1):
            raise CorruptTreeError(
                f"block {seq} level {li} has {len(ch) // 2} children for {len(lvl.keys)} keys"
            )
        for i in range(0, len(ch), 2):
            cs, co = ch[i], ch[i + 1]
            if cs < 1:
                raise CorruptTreeError(f"block {seq} level {li} has child seq {cs}")
            if cs == seq:
                if co >= n:
                    raise CorruptTreeError(f"block {seq} level {li} points at missing level {co}")
                local[li].append(co)
    # child pointers inside one block must not form a cycle (other blocks have lower seqs)
    state = [0] * n  # 0 new, 1 on stack, 2 done
    for start in range(n):
        if state[start]:
            continue
        stack = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack[-1]
            if i < len(local[node]):
                stack[-1] = (node, i + 1)
                nxt = local[node][i]
                if state[nxt] == 1:
                    raise CorruptTreeError(f"block {seq} has a cycle of child pointers")
                if state[nxt] == 0:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                stack.pop()


def deflate(index: list[Child | None]) -> bytes:
    levels: list[Level] = []
    for child in index:
        assert child is not None and child.value is not None
        node = child.value
        ch: list[int] = []
        for c in node.children:
            ch.append(c.seq)
            ch.append(c.offset)
        levels.append(Level([k.seq for k in node.keys], ch))
    return encode_index(levels)


class BlockEntry:
    """One node block read through a batch (JS ``BlockEntry``)."""

    __slots__ = ("batch", "entry", "key", "levels", "nodes", "seq", "value")

    def __init__(self, seq: int, batch: BlockReader, entry: NodeEntry) -> None:
        self.seq = seq
        self.batch = batch
        self.entry = entry
        self.levels: list[Level] | None = None
        # per level, the Key/Child lists every TreeNode of that level shares (JS ``Pointers``)
        self.nodes: list[tuple[list[Key], list[Child]] | None] | None = None
        self.key = entry.key
        self.value = entry.value

    def is_target(self, key: bytes) -> bool:
        return self.key == key

    def is_deletion(self) -> bool:
        if self.value is not None:
            return False
        levels = self.levels
        if levels is None:
            levels = self.levels = inflate(self.seq, self.entry)
        seq = self.seq
        return not any(seq in lvl.keys for lvl in levels)

    def final(self, key_decode: Callable[[bytes], Any], value_decode: Callable[[bytes], Any]) -> Entry:
        v = self.value
        return Entry(self.seq, key_decode(self.key), None if v is None else value_decode(v))

    def get_tree_node(self, offset: int) -> TreeNode:
        levels = self.levels
        if levels is None:
            levels = self.levels = inflate(self.seq, self.entry)
            self.nodes = [None] * len(levels)
        if offset >= len(levels):
            raise CorruptTreeError(f"block {self.seq} has no level {offset}")
        nodes = self.nodes
        if nodes is None:
            nodes = self.nodes = [None] * len(levels)
        ptr = nodes[offset]
        if ptr is None:
            lvl = levels[offset]
            ch = lvl.children
            ptr = nodes[offset] = (
                [Key(k, None) for k in lvl.keys],
                [Child(ch[i], ch[i + 1], None) for i in range(0, len(ch), 2)],
            )
        return TreeNode(self, ptr[0], ptr[1], offset)


class BatchEntry(BlockEntry):
    """A block written by an unflushed batch: its nodes are the live in-memory ones."""

    __slots__ = ("pending_index",)

    def __init__(
        self, seq: int, batch: BlockReader, key: bytes, value: bytes | None, index: list[Child | None]
    ) -> None:
        super().__init__(seq, batch, NodeEntry(key, value, b""))
        self.pending_index = index

    def is_target(self, key: bytes) -> bool:
        return False

    def get_tree_node(self, offset: int) -> TreeNode:
        child = self.pending_index[offset]
        assert child is not None and child.value is not None
        return child.value


class TreeNode:
    __slots__ = ("block", "changed", "children", "keys", "offset")

    def __init__(self, block: BlockEntry | None, keys: list[Key], children: list[Child], offset: int) -> None:
        self.block = block
        self.offset = offset
        self.keys = keys
        self.children = children
        self.changed = False

    @staticmethod
    def create(block: BlockEntry | None) -> TreeNode:
        node = TreeNode(block, [], [], 0)
        node.changed = True
        return node

    async def get_key(self, index: int) -> bytes:
        key = self.keys[index]
        if key.value is not None:
            return key.value
        block = self.block
        assert block is not None
        v = block.key if key.seq == block.seq else await block.batch.get_key(key.seq)
        key.value = v
        return v

    async def get_key_node(self, index: int) -> BlockEntry:
        assert self.block is not None
        return await self.block.batch.get_block(self.keys[index].seq)

    async def get_child_node(self, index: int) -> TreeNode:
        child = self.children[index]
        if child.value is not None:
            return child.value
        block = self.block
        assert block is not None
        if child.seq != block.seq:
            block = await block.batch.get_block(child.seq)
        node = block.get_tree_node(child.offset)
        child.value = node
        return node

    async def insert_key(
        self,
        key: Key,
        child: TreeNode | None,
        cas: Callable[[BlockEntry], Awaitable[bool]] | None,
    ) -> bool:
        """Insert ``key`` (replacing an equal one); False when the node now needs a split."""
        keys = self.keys
        s, e, c = 0, len(keys), 0
        target = key.value
        assert target is not None
        while s < e:
            mid = (s + e) >> 1
            k = keys[mid].value
            if k is None:
                k = await self.get_key(mid)
            c = -1 if target < k else (1 if target > k else 0)
            if c == 0:
                if cas is not None:
                    prev = await self.get_key_node(mid)
                    if not await cas(prev):
                        return True
                self.changed = True
                keys[mid] = key
                return True
            if c < 0:
                e = mid
            else:
                s = mid + 1
        i = e if c < 0 else s
        keys.insert(i, key)
        if child is not None:
            self.children.insert(i + 1, Child(0, 0, child))
        self.changed = True
        return len(keys) < MAX_CHILDREN

    def remove_key(self, index: int) -> None:
        del self.keys[index]
        if self.children:
            self.children[index + 1].seq = 0  # mark as freed
            del self.children[index + 1]
        self.changed = True

    async def siblings(self, parent: TreeNode) -> tuple[TreeNode | None, int, TreeNode | None]:
        for i, c in enumerate(parent.children):
            if c.value is self:
                left = await parent.get_child_node(i - 1) if i else None
                right = await parent.get_child_node(i + 1) if i < len(parent.children) - 1 else None
                return left, i, right
        raise CorruptTreeError("bad parent")

    def merge(self, node: TreeNode, median: Key) -> None:
        self.changed = True
        self.keys.append(median)
        self.keys.extend(node.keys)
        self.children.extend(node.children)

    async def split(self) -> tuple[Key, TreeNode]:
        length = len(self.keys) >> 1
        right = TreeNode.create(self.block)
        right.keys = self.keys[len(self.keys) - length :]
        del self.keys[len(self.keys) - length :]
        await self.get_key(len(self.keys) - 1)  # make sure the median is loaded
        median = self.keys.pop()
        if self.children:
            n = length + 1
            right.children = self.children[len(self.children) - n :]
            del self.children[len(self.children) - n :]
        self.changed = True
        return median, right

    def index_changes(self, index: list[Child | None], seq: int) -> int:
        offset = len(index)
        index.append(None)
        self.changed = False
        for child in self.children:
            v = child.value
            if v is None or not v.changed:
                continue
            child.seq = seq
            child.offset = v.index_changes(index, seq)
            index[child.offset] = child
        return offset

    def update_children(self, seq: int, block: BlockEntry) -> None:
        for child in self.children:
            v = child.value
            if v is None or child.seq != seq:
                continue
            v.block = block
            v.update_children(seq, block)


def index_changes(root: TreeNode, seq: int) -> list[Child | None]:
    """The index of the block ``seq`` that writes ``root`` and its changed nodes (JS ``_append``)."""
    index: list[Child | None] = []
    root.index_changes(index, seq)
    index[0] = Child(seq, 0, root)
    return index


def check_depth(depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CorruptTreeError(f"tree deeper than {MAX_DEPTH} levels: a cycle of child pointers")


async def _leaf_size(node: TreeNode, go_left: bool) -> int:
    depth = 0
    while node.children:
        depth += 1
        check_depth(depth)
        node = await node.get_child_node(0 if go_left else len(node.children) - 1)
    return len(node.keys)


async def set_key_to_nearest_leaf(node: TreeNode, index: int, stack: list[TreeNode]) -> None:
    left = await node.get_child_node(index)
    right = await node.get_child_node(index + 1)
    ls = await _leaf_size(left, False)
    rs = await _leaf_size(right, True)
    if ls < rs:
        stack.append(right)
        while right.children:
            nxt = right.children[0].value
            assert nxt is not None
            right = nxt
            stack.append(right)
        node.keys[index] = right.keys.pop(0)
    else:
        stack.append(left)
        while left.children:
            nxt = left.children[-1].value
            assert nxt is not None
            left = nxt
            stack.append(left)
        node.keys[index] = left.keys.pop()


async def rebalance(stack: list[TreeNode]) -> TreeNode:
    root = stack[0]
    while len(stack) > 1:
        node = stack.pop()
        parent = stack[-1]
        if len(node.keys) >= MIN_KEYS:
            return root
        left, index, right = await node.siblings(parent)
        # maybe borrow from left sibling?
        if left is not None and len(left.keys) > MIN_KEYS:
            left.changed = True
            node.keys.insert(0, parent.keys[index - 1])
            if left.children:
                node.children.insert(0, left.children.pop())
            parent.keys[index - 1] = left.keys.pop()
            return root
        # maybe borrow from right sibling?
        if right is not None and len(right.keys) > MIN_KEYS:
            right.changed = True
            node.keys.append(parent.keys[index])
            if right.children:
                node.children.append(right.children.pop(0))
            parent.keys[index] = right.keys.pop(0)
            return root
        # merge node with another sibling
        if left is not None:
            index -= 1
            right = node
        else:
            left = node
        assert right is not None
        left.merge(right, parent.keys[index])
        parent.remove_key(index)
    # check if the tree shrunk
    if not root.keys and root.children:
        return await root.get_child_node(0)
    return root

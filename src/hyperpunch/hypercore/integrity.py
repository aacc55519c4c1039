"""Read-time integrity: every tree node and block read from storage is checked against the
trusted Merkle tree before anyone sees it (sans-IO; the storage calls are synchronous).

Invariants:

* The trust anchor is the tree head held in memory (:class:`MerkleTree` roots, checked at open
  against the stored root hash and the head's signature, see :func:`check_head`). A stored node
  under one of those roots is returned only once it hashes, with its sibling, to its verified
  parent (roots included); verified nodes are kept in a bounded per-core cache, so a sequential
  reader pays about one extra node read and one hash per block.
* Nodes outside the current tree (above its roots, stale ones past a truncation) are returned as
  stored: nothing reads them as part of the tree.
* A block is returned only when it hashes to its verified leaf (:meth:`VerifiedNodes.check_block`).
* Damage is never handed out. A node that does not fit is first rebuilt locally from what is
  below it (its children, or its block for a leaf); if the rebuilt node fits it is written back
  (:attr:`Damage.fixed`). Otherwise the whole subtree under the lowest verified node is dropped
  (:attr:`Damage.nodes` / :attr:`Damage.blocks`), so the stored tree stays consistent and a peer's
  proof for those blocks anchors at a verified node again. The owner (:class:`..core.Core`) applies
  a :class:`Damage` (one atomic write) and keeps a log of it for ``fsck``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from hyperpunch import crypto
from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import flat_tree as flat
from hyperpunch.hypercore.errors import StorageCorruptError
from hyperpunch.hypercore.manifest import SignableBatch
from hyperpunch.hypercore.merkle import MerkleTree, block_node
from hyperpunch.hypercore.storage_records import CoreStorage

__all__ = [
    "VERIFIED_CACHE_MAX",
    "Damage",
    "HeadCorruptError",
    "VerifiedNodes",
    "node_fits",
    "open_verified_tree",
]

VERIFIED_CACHE_MAX = 16384  # verified nodes kept per core (the roots are always trusted)
CHUNK_DEPTH = 4  # a subtree of 2**4 blocks is read (and verified) at once


@runtime_checkable
class RangeReader(Protocol):
    """A storage that reads a range of tree nodes at once (the SQLite stores)."""

    def get_tree_nodes(self, start: int, end: int) -> dict[int, TreeNode]: ...

    def get_tree_nodes_in(self, indices: list[int]) -> dict[int, TreeNode]: ...


@dataclass
class Damage:
    """What a read found damaged and how to put storage right.

    ``fixed``: nodes rebuilt locally (to store); ``nodes``: a tree-node index range ``[start, end)``
    to delete (then ``keep`` is stored again: the verified node above it); ``blocks``: a block
    range ``[start, end)`` to delete and mark missing. ``where`` names the first damaged item.
    """

    where: str
    index: int
    fixed: dict[int, TreeNode] = field(default_factory=dict)
    nodes: tuple[int, int] | None = None
    keep: TreeNode | None = None
    blocks: tuple[int, int] | None = None

    @property
    def repaired_locally(self) -> bool:
        return self.nodes is None and self.blocks is None


def node_fits(parent: TreeNode, left: TreeNode | None, right: TreeNode | None) -> bool:
    """Whether ``left`` and ``right`` are the children ``parent`` was hashed from."""
    if left is None or right is None:
        return False
    if left.size + right.size != parent.size:
        return False
    return crypto.parent(left, right) == parent.hash


class VerifiedNodes:
    """A :class:`..merkle.NodeReader` over ``storage`` that verifies what it returns (see the module
    docstring). ``tree`` is set once the trusted tree is open; ``on_damage`` applies a
    :class:`Damage` (it is called before the read returns)."""

    def __init__(self, storage: CoreStorage) -> None:
        self.storage = storage
        self.tree: MerkleTree | None = None
        self.on_damage: Callable[[Damage], None] | None = None
        self._ok: dict[int, TreeNode] = {}
        self._last = -(1 << 62)  # the last node verified through a path (spots sequential reads)
        self._ranged: RangeReader | None = storage if isinstance(storage, RangeReader) else None
        self._spans_of: list[TreeNode] | None = None
        self._spans: list[tuple[int, int, TreeNode]] = []

    def reset(self) -> None:
        """Forget every verified node (the tree moved to another fork)."""
        self._ok.clear()

    def trust(self, node: TreeNode) -> None:
        ok = self._ok
        if len(ok) >= VERIFIED_CACHE_MAX:
            # keep the upper levels (they shorten every later path), drop the chunk-internal ones
            kept = {i: n for i, n in ok.items() if flat.depth(i) > CHUNK_DEPTH}
            self._ok = ok = kept if len(kept) < VERIFIED_CACHE_MAX // 2 else {}
        ok[node.index] = node

    # --- NodeReader ----------------------------------------------------------------------------

    def get_tree_node(self, index: int) -> TreeNode | None:
        node = self._ok.get(index)
        if node is not None:
            return node
        tree = self.tree
        if tree is None:
            return self.storage.get_tree_node(index)
        root = self._root_over(tree, index)
        if root is None:
            return self.storage.get_tree_node(index)
        if root.index == index:
            return root
        if self._ranged is None and self.storage.get_tree_node(index) is None:
            return None  # (the ranged stores read the node with its path, in one query)
        return self._verify_path(index, root)

    def _root_over(self, tree: MerkleTree, index: int) -> TreeNode | None:
        """The current root whose subtree holds node ``index`` (``None``: outside the tree)."""
        roots = tree.roots
        if self._spans_of is not roots:
            self._spans_of = roots
            self._spans = [(*flat.spans(r.index), r) for r in roots]
        for lo, hi, r in self._spans:
            if lo <= index <= hi:
                return r
        return None

    def _verify_path(self, index: int, root: TreeNode) -> TreeNode | None:
        path = [index]
        anchor = root
        i = index
        top_depth = flat.depth(root.index)
        while True:
            p = flat.parent(i)
            if p == root.index:
                break
            if flat.depth(p) >= top_depth:  # cannot happen for a node under root
                raise AssertionError(f"node {index} is not under root {root.index}")
            known = self._ok.get(p)
            if known is not None:
                anchor = known
                break
            path.append(p)
            i = p
        node: TreeNode | None = anchor
        storage = self._ranged
        chunk: dict[int, TreeNode] | None = None
        if storage is not None:
            sequential = 0 <= index - self._last <= 64
            self._last = index
            if sequential and flat.depth(index) < CHUNK_DEPTH:
                # reading along: verify the whole small subtree now (later reads hit the cache)
                top = index
                while flat.depth(top) < CHUNK_DEPTH and top != root.index:
                    top = flat.parent(top)
                node = self._ok.get(top) if top != root.index else root
                if node is None:
                    node = self._verify_path(top, root)
                if node is None:
                    return None
                self._prefetch(node)
                found = self._ok.get(index)
                if found is not None:
                    return found
                self._last = -(1 << 62)
                return self._verify_path(index, root)
            want = [j for c in path for j in (c, flat.sibling(c))]
            chunk = storage.get_tree_nodes_in(want)
        for child in reversed(path):
            assert node is not None
            node = self._child(node, child, chunk, child == index)
            if node is None:
                return None
        return node

    def _prefetch(self, top: TreeNode) -> dict[int, TreeNode]:
        """Read the stored subtree under verified ``top`` in one range read and trust every node
        of it that fits its verified parent (the next reads of that part are cache hits)."""
        storage = self._ranged
        assert storage is not None
        lo, hi = flat.spans(top.index)
        chunk = storage.get_tree_nodes(lo, hi + 1)
        stack = [top]
        while stack:
            n = stack.pop()
            kids = flat.children(n.index)
            if kids is None:
                continue
            left, right = chunk.get(kids[0]), chunk.get(kids[1])
            if left is not None and right is not None and node_fits(n, left, right):
                self.trust(left)
                self.trust(right)
                if kids[0] % 2 == 1:
                    stack.append(left)
                    stack.append(right)
        return chunk

    def _child(
        self, parent: TreeNode, index: int, chunk: dict[int, TreeNode] | None, final: bool = False
    ) -> TreeNode | None:
        """The verified child ``index`` of verified ``parent`` (``None``: not stored / dropped)."""
        li, ri = flat.children(parent.index) or (index, index)
        ok = self._ok
        left, right = ok.get(li), ok.get(ri)
        if left is not None and right is not None:
            return left if index == li else right
        if chunk is not None:
            left, right = chunk.get(li), chunk.get(ri)
        else:
            get = self.storage.get_tree_node
            left, right = get(li), get(ri)
        if node_fits(parent, left, right):
            assert left is not None and right is not None
            self.trust(left)
            self.trust(right)
            return left if index == li else right
        if left is None and right is None:
            return None  # neither stored: a sparse part of the tree, not damage
        if final and (left if index == li else right) is None:
            return None  # the node asked for is not stored: absent, not damage
        damage = self._repair(parent, index, li, ri, left, right)
        if self.on_damage is not None:
            self.on_damage(damage)
        if damage.repaired_locally:
            fixed_left = damage.fixed.get(li, left)
            fixed_right = damage.fixed.get(ri, right)
            assert fixed_left is not None and fixed_right is not None
            self.trust(fixed_left)
            self.trust(fixed_right)
            return fixed_left if index == li else fixed_right
        return None

    def rebuilt(self, index: int) -> TreeNode | None:
        """Node ``index`` computed from what is stored below it (its block, or its children)."""
        if index % 2 == 0:
            value = self.storage.get_block(index // 2)
            return None if value is None else block_node(index, value)
        kids = flat.children(index)
        if kids is None:
            return None
        a, b = self.storage.get_tree_node(kids[0]), self.storage.get_tree_node(kids[1])
        if a is None or b is None:
            return None
        return TreeNode(index, a.size + b.size, crypto.parent(a, b))

    def _repair(
        self,
        parent: TreeNode,
        index: int,
        li: int,
        ri: int,
        left: TreeNode | None,
        right: TreeNode | None,
    ) -> Damage:
        lefts = [n for n in (left, self.rebuilt(li)) if n is not None]
        rights = [n for n in (right, self.rebuilt(ri)) if n is not None]
        for a in lefts:
            for b in rights:
                if node_fits(parent, a, b):
                    fixed = {n.index: n for n, old in ((a, left), (b, right)) if n != old}
                    where = min(fixed) if fixed else li
                    return Damage("node", where, fixed=fixed)
        lo, hi = flat.spans(parent.index)
        return Damage(
            "node",
            index,
            nodes=(lo, hi + 1),
            keep=parent,
            blocks=(lo // 2, hi // 2 + 1),
        )

    # --- blocks --------------------------------------------------------------------------------

    def check_block(self, index: int, value: bytes) -> Damage | None:
        """``None`` when ``value`` is block ``index`` of the trusted tree, else the damage to apply."""
        tree = self.tree
        if tree is None or index >= tree.length:
            return None
        leaf = self.get_tree_node(2 * index)
        if leaf is not None and leaf.size == len(value) and leaf.hash == crypto.data(value):
            return None
        return Damage("block", index, blocks=(index, index + 1))

    def forget(self, start: int, end: int) -> None:
        """Drop cached nodes with index in ``[start, end)`` (they were deleted)."""
        ok = self._ok
        for i in [i for i in ok if start <= i < end]:
            del ok[i]


# --- opening -------------------------------------------------------------------------------------


class HeadCorruptError(StorageCorruptError):
    """The stored signed head cannot be trusted (its roots or its signature)."""


class _Signed(Protocol):
    def verify(self, batch: SignableBatch, signature: bytes | None, /) -> bool: ...


def open_verified_tree(
    storage: CoreStorage, nodes: VerifiedNodes, verifier: _Signed | None, key: bytes
) -> tuple[MerkleTree, Damage | None]:
    """The trusted tree at the stored head, reading through ``nodes`` from then on.

    The stored roots must hash to the stored root hash; a root that does not is rebuilt from its
    children when they fit (returned as a :class:`Damage` to store). The head's signature must
    verify under the core's manifest. A head that cannot be trusted is a
    :class:`StorageCorruptError` (reported, never replaced).
    """
    head = storage.get_head()
    if head is None:
        tree = MerkleTree(nodes)
        nodes.tree = tree
        return tree, None
    indices = flat.full_roots(2 * head.length)
    stored = [storage.get_tree_node(i) for i in indices]
    roots: list[TreeNode] | None = None
    damage: Damage | None = None
    if (
        all(n is not None for n in stored)
        and crypto.tree([n for n in stored if n is not None]) == head.root_hash
    ):
        roots = [n for n in stored if n is not None]
    else:
        for pos, i in enumerate(indices):  # one damaged root: rebuild it from its children
            candidate = nodes.rebuilt(i)
            if candidate is None or candidate == stored[pos]:
                continue
            trial = list(stored)
            trial[pos] = candidate
            if (
                all(n is not None for n in trial)
                and crypto.tree([n for n in trial if n is not None]) == head.root_hash
            ):
                roots = [n for n in trial if n is not None]
                damage = Damage("node", i, fixed={i: candidate})
                break
    if roots is None:
        raise HeadCorruptError(
            f"core {key.hex()}: the stored tree roots do not match the signed head (length {head.length})",
            key=key,
        )
    tree = MerkleTree(nodes, fork=head.fork, length=head.length, roots=roots, signature=head.signature)
    signed = head.signature
    if (
        verifier is not None
        and head.length > 0
        and signed is not None
        and not verifier.verify(tree.batch(), signed)
    ):
        raise HeadCorruptError(
            f"core {key.hex()}: the stored head's signature does not verify (length {head.length})",
            key=key,
        )
    nodes.tree = tree
    return tree, damage

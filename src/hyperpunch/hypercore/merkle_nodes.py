"""Merkle tree node primitives shared by :mod:`.merkle` and :mod:`.merkle_verify`.

Invariants: nodes are :class:`hyperpunch.crypto.TreeNode` (flat-tree index, byte size, BLAKE2b-256
hash); a parent's size never exceeds 2^64 - 1 (only a peer's made-up sizes could, and they are an
:class:`InvalidProofError`); :class:`NodeQueue` hands out proof nodes strictly in the order the
verifier asks for them, refusing anything else as an invalid proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hyperpunch import crypto
from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import flat_tree as flat
from hyperpunch.hypercore.errors import InvalidOperationError, InvalidProofError
from hyperpunch.hypercore.messages import DataBlock, DataHash, DataSeek, DataUpgrade, Prologue

__all__ = [
    "MAX_WALK_STEPS",
    "NodeQueue",
    "NodeReader",
    "ProofLike",
    "RootSink",
    "TreeView",
    "TreeWriter",
    "block_node",
    "get_or_error",
    "parent_node",
    "total_size",
    "total_span",
    "unpadded_size",
]

_MAX_SIZE = 2**64 - 1
MAX_WALK_STEPS = 1024  # bound on tree walks driven by a peer's numbers


class NodeReader(Protocol):
    """Where trusted tree nodes come from (storage)."""

    def get_tree_node(self, index: int) -> TreeNode | None: ...


class TreeWriter(Protocol):
    """Where a committed batch writes its nodes (a storage write batch)."""

    def put_tree_node(self, node: TreeNode) -> None: ...

    def delete_tree_node(self, index: int) -> None: ...

    def delete_tree_node_range(self, start: int, end: int) -> None: ...


class TreeView(Protocol):
    """The trusted head proof generation reads (a :class:`~.merkle.MerkleTree` satisfies it)."""

    @property
    def fork(self) -> int: ...

    @property
    def length(self) -> int: ...

    @property
    def signature(self) -> bytes | None: ...

    @property
    def prologue(self) -> Prologue | None: ...

    @property
    def reader(self) -> NodeReader: ...

    def byte_offset(self, index: int) -> int: ...


class RootSink(Protocol):
    """What upgrade verification grows (a :class:`~.merkle.MerkleTreeBatch` satisfies it): the
    proven roots are appended, then the batch's fork and signature are set."""

    fork: int
    signature: bytes | None

    @property
    def prologue(self) -> Prologue | None: ...

    @property
    def roots(self) -> Sequence[TreeNode]: ...

    @property
    def length(self) -> int: ...

    def hash(self) -> bytes: ...

    def append_root(self, node: TreeNode, ite: flat.Iterator) -> None: ...


class ProofLike(Protocol):
    """A :class:`Proof` or a ``data`` message."""

    @property
    def fork(self) -> int: ...

    @property
    def block(self) -> DataBlock | None: ...

    @property
    def hash(self) -> DataHash | None: ...

    @property
    def seek(self) -> DataSeek | None: ...

    @property
    def upgrade(self) -> DataUpgrade | None: ...


def block_node(index: int, value: bytes) -> TreeNode:
    return TreeNode(index, len(value), crypto.data(value))


def parent_node(index: int, a: TreeNode, b: TreeNode) -> TreeNode:
    size = a.size + b.size
    if size > _MAX_SIZE:  # only a peer's made-up sizes get here
        raise InvalidProofError(f"tree node {index} is too large ({size} bytes)")
    return TreeNode(index, size, crypto.parent(a, b))


def total_size(nodes: Sequence[TreeNode]) -> int:
    return sum(n.size for n in nodes)


def total_span(nodes: Sequence[TreeNode]) -> int:
    s = 0
    for n in nodes:
        s += 2 * (n.index - s + 1)
    return s


def get_or_error(reader: NodeReader, index: int) -> TreeNode:
    node = reader.get_tree_node(index)
    if node is None:
        raise InvalidOperationError(f"Expected tree node {index} from storage, got (nil)")
    return node


def unpadded_size(node: TreeNode, padding: int, ite: flat.Iterator | None) -> int:
    if padding == 0:
        return node.size
    leaves = ite.count_leaves() if ite is not None else flat.count_leaves(node.index)
    return node.size - padding * leaves


class NodeQueue:
    __slots__ = ("extra", "i", "length", "nodes")

    def __init__(self, nodes: Sequence[TreeNode], extra: TreeNode | None = None) -> None:
        self.i = 0
        self.nodes = nodes
        self.extra = extra
        self.length = len(nodes) + (0 if extra is None else 1)

    def shift(self, index: int) -> TreeNode:
        if self.extra is not None and self.extra.index == index:
            node = self.extra
            self.extra = None
            self.length -= 1
            return node
        if self.i >= len(self.nodes):
            raise InvalidProofError(f"Expected node {index}, got (nil)", code="INVALID_OPERATION")
        node = self.nodes[self.i]
        self.i += 1
        if node.index != index:
            raise InvalidProofError(f"Expected node {index}, got node {node.index}", code="INVALID_OPERATION")
        self.length -= 1
        return node

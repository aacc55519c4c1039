"""The Hypercore Merkle tree (JS ``hypercore/lib/merkle-tree.js``), sans-IO and synchronous.

Invariants:

* A :class:`MerkleTree` is the trusted head of a core (``fork``, ``length``, ``roots``,
  ``byte_length``, ``signature``, optional ``prologue``) plus a :class:`NodeReader` that returns
  stored tree nodes (``None`` when absent). Nothing here does I/O beyond ``reader.get_tree_node``.
* A :class:`MerkleTreeBatch` is a pending change (appends, a verified upgrade, a truncation);
  it never touches storage until :meth:`MerkleTreeBatch.commit` writes its nodes (and deletions
  for a truncation) into a :class:`TreeWriter`. :meth:`MerkleTree.apply` then moves the head.
* Proof generation (:meth:`MerkleTree.proof`, implemented in :mod:`.merkle_proof`) returns
  exactly the nodes JS returns for the same request, in the same order; verification
  (:meth:`MerkleTree.verify`) accepts exactly the proofs JS accepts. Bad proofs raise :class:`InvalidProofError` / :class:`InvalidChecksumError`
  (remote errors); signatures are checked separately by :class:`hyperpunch.hypercore.manifest.Verifier`.
* Block proofs produced here carry ``value=b""``: the caller fills the block from storage.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import Protocol

from hyperpunch import crypto
from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import caps
from hyperpunch.hypercore import flat_tree as flat
from hyperpunch.hypercore.errors import (
    AssertionFailedError,
    BadArgumentError,
    InvalidChecksumError,
    InvalidOperationError,
    InvalidProofError,
    StorageCorruptError,
)
from hyperpunch.hypercore.merkle_nodes import (
    MAX_WALK_STEPS,
    NodeReader,
    ProofLike,
    TreeWriter,
    block_node,
    get_or_error,
    parent_node,
    total_size,
    total_span,
    unpadded_size,
)
from hyperpunch.hypercore.merkle_proof import generate_proof
from hyperpunch.hypercore.merkle_verify import verify_tree, verify_upgrade, with_block_value
from hyperpunch.hypercore.messages import (
    DataUpgrade,
    Prologue,
    Proof,
    RequestBlock,
    RequestSeek,
    RequestUpgrade,
)

_blake2b = hashlib.blake2b
_U64 = struct.Struct("<Q")

__all__ = [
    "ByteSeeker",
    "MerkleTree",
    "MerkleTreeBatch",
    "NodeReader",
    "ProofLike",
    "ReorgBatch",
    "TreeWriter",
    "block_node",
    "parent_node",
    "total_size",
    "total_span",
    "with_block_value",
]


# --- batches ---------------------------------------------------------------------------------------


class MerkleTreeBatch:
    """A copy of the head that can grow (append, verified upgrades) or shrink (truncate)."""

    def __init__(self, tree: MerkleTree) -> None:
        self.tree = tree
        self.fork = tree.fork
        self.roots: list[TreeNode] = list(tree.roots)
        self.length = tree.length
        self.signature = tree.signature
        self.ancestors = tree.length
        self.byte_length = tree.byte_length
        self.prologue = tree.prologue
        self._hash: bytes | None = None
        self.committed = False
        self.truncated = False
        self.tree_length = tree.length
        self.tree_fork = tree.fork
        self.nodes: list[TreeNode] = []
        self.upgraded = False

    def clone(self) -> MerkleTreeBatch:
        b = MerkleTreeBatch(self.tree)
        b.fork = self.fork
        b.roots = list(self.roots)
        b.length = self.length
        b.byte_length = self.byte_length
        b.signature = self.signature
        b.tree_length = self.tree_length
        b.tree_fork = self.tree_fork
        b.nodes = list(self.nodes)
        b.upgraded = self.upgraded
        return b

    def hash(self) -> bytes:
        if self._hash is None:
            self._hash = crypto.tree(self.roots)
        return self._hash

    def signable(self, manifest_hash: bytes) -> bytes:
        return caps.tree_signable(manifest_hash, self.hash(), self.length, self.fork)

    def signable_compat(self, no_header: bool = False) -> bytes:
        return caps.tree_signable_compat(self.hash(), self.length, self.fork, no_header)

    def get(self, index: int) -> TreeNode | None:
        if index >= self.length * 2:
            return None
        for n in self.nodes:
            if n.index == index:
                return n
        return self.tree.reader.get_tree_node(index)

    def append(self, value: bytes) -> None:
        head = self.length * 2
        self.append_root(block_node(head, value), flat.Iterator(head))

    def append_many(self, values: Sequence[bytes]) -> None:
        """``append`` for each value, without per-block iterator objects (the writer's hot path).

        The roots are always the full roots of ``length``, so appending leaf ``n`` merges as many
        times as ``n`` has trailing one bits; the parent of two siblings is their midpoint index.
        """
        if not values:
            return
        self._hash = None
        self.upgraded = True
        roots = self.roots
        nodes = self.nodes
        length = self.length
        byte_length = self.byte_length
        blake2b = _blake2b
        pack = _U64.pack
        for v in values:
            size = len(v)
            h = blake2b(b"\x00" + pack(size), digest_size=32)
            h.update(v)
            node = TreeNode(2 * length, size, h.digest())
            nodes.append(node)
            roots.append(node)
            byte_length += size
            n = length
            length += 1
            while n & 1:
                b = roots.pop()
                a = roots.pop()
                psize = a.size + b.size
                h = blake2b(b"\x01" + pack(psize), digest_size=32)
                h.update(a.hash)
                h.update(b.hash)
                node = TreeNode((a.index + b.index) >> 1, psize, h.digest())
                nodes.append(node)
                roots.append(node)
                n >>= 1
        self.length = length
        self.byte_length = byte_length

    def append_root(self, node: TreeNode, ite: flat.Iterator) -> None:
        self._hash = None
        self.upgraded = True
        self.length += ite.factor >> 1
        self.byte_length += node.size
        roots = self.roots
        roots.append(node)
        self.nodes.append(node)
        while len(roots) > 1:
            a = roots[-1]
            b = roots[-2]
            if ite.sibling() != b.index:
                ite.sibling()  # back, so it points at the last root
                break
            p = parent_node(ite.parent(), a, b)
            self.nodes.append(p)
            roots.pop()
            roots.pop()
            roots.append(p)

    def checkout(self, length: int, additional_roots: Sequence[TreeNode] | None = None) -> None:
        head = 2 * length - 2
        gaps: set[int] = set()
        every: dict[int, TreeNode] = {}
        if additional_roots:
            for n in additional_roots:
                every[n.index] = n
        for n in self.nodes:
            every[n.index] = n
        roots: list[TreeNode] = []
        r = 0
        for index in flat.full_roots(head + 2):
            left = flat.left_span(index)
            if left != 0:
                gaps.add(left - 1)
            if r < len(self.roots) and self.roots[r].index == index:
                roots.append(self.roots[r])
                r += 1
                continue
            found = every.get(index)
            if found is None:
                raise BadArgumentError("root missing for given length")
            roots.append(found)
        self.roots = roots
        self.length = length
        self.byte_length = total_size(roots)
        self._hash = None
        self.signature = None
        self.nodes = [n for n in self.nodes if n.index <= head and n.index not in gaps]

    def prune(self, length: int) -> None:
        if length == 0:
            return
        head = 2 * length - 2
        gaps: set[int] = set()
        for index in flat.full_roots(head + 2):
            left = flat.left_span(index)
            if left != 0:
                gaps.add(left - 1)
        self.nodes = [n for n in self.nodes if n.index > head or n.index in gaps]

    def verify_upgrade(self, proof: ProofLike) -> bool:
        unverified = verify_tree(proof, self.nodes)
        if proof.upgrade is None:
            raise InvalidOperationError("Expected upgrade proof")
        return verify_upgrade(proof.fork, proof.upgrade, unverified, self)

    def add_nodes_unsafe(self, nodes: Sequence[TreeNode]) -> None:
        self.nodes.extend(nodes)

    def commitable(self) -> bool:
        t = self.tree
        if self.tree_fork != t.fork:
            return False
        return self.tree_length == t.length if self.upgraded else self.tree_length <= t.length

    def commit(self, tx: TreeWriter) -> MerkleTreeBatch:
        """Write this batch's nodes (and a truncation's deletions) into ``tx``."""
        if not self.commitable():
            raise InvalidOperationError("Tree was modified during batch, refusing to commit")
        if self.upgraded:
            self._commit_upgrade(tx)
        for n in self.nodes:
            tx.put_tree_node(n)
        self.committed = True
        return self

    def _commit_upgrade(self, tx: TreeWriter) -> None:
        if self.ancestors < self.tree_length:
            tx.delete_tree_node_range(self.ancestors * 2, self.tree_length * 2)
            if self.ancestors > 0:
                head = self.ancestors * 2
                ite = flat.Iterator(head - 2)
                while True:
                    if ite.contains(head) and ite.index < head:
                        tx.delete_tree_node(ite.index)
                    if ite.offset == 0:
                        break
                    ite.parent()
                self.truncated = True

    def byte_offset(self, index: int) -> int:
        if index == 2 * self.length:
            return self.byte_length
        return sum(n.size for n in _byte_offset_nodes(self.roots, index, self.get_or_error))

    def byte_range(self, index: int) -> tuple[int, int]:
        head = 2 * self.length
        if (index if index & 1 == 0 else flat.right_span(index)) >= head:
            raise BadArgumentError("Index is out of bounds")
        return self.byte_offset(index), self.get_or_error(index).size

    def get_or_error(self, index: int) -> TreeNode:
        n = self.get(index)
        if n is None:
            raise InvalidOperationError(f"Expected tree node {index} from storage, got (nil)")
        return n

    def downgrade(self) -> bool:
        """Drop the ``upgraded`` mark when every root is already stored (JS ``downgrade``)."""
        if not self.upgraded:
            return True
        reader = self.tree.reader
        for r in self.roots:
            stored = reader.get_tree_node(r.index)
            if stored is None or stored.hash != r.hash:
                return False
        self.upgraded = False
        return True

    def restore(self, length: int) -> MerkleTreeBatch:
        if length == self.length:
            return self
        roots = self.tree.get_roots(length)
        self.roots = roots
        self.length = length
        self.byte_length = total_size(roots)  # JS adds the root sizes twice here (a bug)
        self.ancestors = length
        self._hash = None
        return self


class _Want:
    __slots__ = ("end", "nodes", "start")

    def __init__(self) -> None:
        self.nodes = 0
        self.start = 0
        self.end = 0


class ReorgBatch(MerkleTreeBatch):
    """A batch that replaces the tree with a remote fork, found by bisecting with proofs."""

    def __init__(self, tree: MerkleTree) -> None:
        super().__init__(tree)
        self.roots = []
        self.length = 0
        self.byte_length = 0
        self.diff: TreeNode | None = None
        self.ancestors = 0
        self.upgraded = True
        self.want: _Want | None = _Want()

    @property
    def finished(self) -> bool:
        return self.want is None

    def update(self, proof: ProofLike) -> bool:
        if self.want is None:
            return True
        nodes: list[TreeNode] = []
        root = verify_tree(proof, nodes)
        if root is None or self.diff is None or root.hash != self.diff.hash:
            return False
        self.nodes.extend(nodes)
        return self._update(nodes)

    def _update(self, nodes: Sequence[TreeNode]) -> bool:
        assert self.diff is not None
        n = {node.index: node for node in nodes}
        diff: TreeNode | None = None
        ite = flat.Iterator(self.diff.index)
        starting = self.diff
        reader = self.tree.reader
        while ite.index & 1:
            left = n.get(ite.left_child())
            if left is None:
                break
            existing = reader.get_tree_node(left.index)
            same = existing is not None and existing.hash == left.hash
            diff = n.get(ite.sibling()) if same else left
        if not self.diff.index & 1:
            return True
        if diff is None:
            return False
        if starting is not self.diff:
            return False
        return self._update_diff_root(diff)

    def _update_diff_root(self, diff: TreeNode) -> bool:
        if self.want is None:
            return True
        s0, s1 = flat.spans(diff.index)
        start = s0 // 2
        end = min(self.tree_length, s1 // 2 + 1)
        self.ancestors = start
        self.diff = diff
        if not diff.index & 1 or self.want.start >= self.tree_length or end - start <= 0:
            self.want = None
            return True
        self.want.start = start
        self.want.end = end
        self.want.nodes = _log2(s1 - s0 + 2) - 1
        return False


def _log2(n: int) -> int:
    res = 1
    x = float(n)
    while x > 2:
        x /= 2
        res += 1
    return res


# --- byte seeking ----------------------------------------------------------------------------------


class ByteSeeker:
    """Find the block holding byte ``bytes`` (JS ``ByteSeeker``). :meth:`update` answers
    ``(block, offset_in_block)`` or ``None`` when more tree nodes are needed (then ``start``/``end``
    is the block range to ask a peer about)."""

    def __init__(self, tree: MerkleTree, bytes_: int, padding: int = 0) -> None:
        self.tree = tree
        self.bytes = bytes_
        self.padding = padding
        size = tree.byte_length - tree.length * padding
        self.start = tree.length if bytes_ >= size else 0
        self.end = tree.length if bytes_ < size else 0

    def _seek(self, bytes_: int) -> tuple[int, int] | None:
        if not bytes_:
            return (0, 0)
        reader = self.tree.reader
        for root in self.tree.roots:
            size = unpadded_size(root, self.padding, None)
            if bytes_ == size:
                return (flat.right_span(root.index) + 2, 0)
            if bytes_ > size:
                bytes_ -= size
                continue
            ite = flat.Iterator(root.index)
            while ite.index & 1:
                left = reader.get_tree_node(ite.left_child())
                if left is not None:
                    size = unpadded_size(left, self.padding, ite)
                    if size == bytes_:
                        return (ite.right_span() + 2, 0)
                    if size > bytes_:
                        continue
                    bytes_ -= size
                    ite.sibling()
                else:
                    ite.parent()
                    return (ite.index, bytes_)
            return (ite.index, bytes_)
        return None

    def update(self) -> tuple[int, int] | None:
        res = self._seek(self.bytes)
        if res is None:
            return None
        if not res[0] & 1:
            return (res[0] // 2, res[1])
        s0, s1 = flat.spans(res[0])
        self.start = s0 // 2
        self.end = s1 // 2 + 1
        return None


# --- the tree --------------------------------------------------------------------------------------


class MerkleTree:
    """The trusted tree head of a core over a node reader."""

    def __init__(
        self,
        reader: NodeReader,
        *,
        fork: int = 0,
        length: int = 0,
        roots: Sequence[TreeNode] = (),
        signature: bytes | None = None,
        prologue: Prologue | None = None,
    ) -> None:
        self.reader = reader
        self.fork = fork
        self.length = length
        self.roots: list[TreeNode] = list(roots)
        self.byte_length = total_size(self.roots)
        self.signature = signature
        self.prologue = prologue
        if len(self.roots) != len(flat.full_roots(2 * length)):
            raise BadArgumentError("roots do not match length")

    @classmethod
    def open(
        cls,
        reader: NodeReader,
        length: int = 0,
        *,
        fork: int = 0,
        signature: bytes | None = None,
        prologue: Prologue | None = None,
    ) -> MerkleTree:
        """A tree whose roots for ``length`` are read from ``reader``."""
        roots = _roots_from(reader, length)
        return cls(reader, fork=fork, length=length, roots=roots, signature=signature, prologue=prologue)

    # head -------------------------------------------------------------------------------------

    def hash(self) -> bytes:
        return crypto.tree(self.roots)

    def signable(self, manifest_hash: bytes) -> bytes:
        return caps.tree_signable(manifest_hash, self.hash(), self.length, self.fork)

    def batch(self) -> MerkleTreeBatch:
        return MerkleTreeBatch(self)

    def apply(self, batch: MerkleTreeBatch) -> None:
        """Move the head to a committed batch's state."""
        self.fork = batch.fork
        self.length = batch.length
        self.roots = list(batch.roots)
        self.byte_length = batch.byte_length
        self.signature = batch.signature

    def get(self, index: int) -> TreeNode | None:
        return self.reader.get_tree_node(index)

    def get_roots(self, length: int) -> list[TreeNode]:
        return _roots_from(self.reader, length)

    def upgradeable(self, length: int) -> bool:
        return all(self.reader.get_tree_node(i) is not None for i in flat.full_roots(2 * length))

    def byte_offset(self, index: int) -> int:
        """The byte offset of tree node ``index`` (``2 * block`` for a block)."""
        if index == 2 * self.length:
            return self.byte_length
        reader = self.reader
        return sum(n.size for n in _byte_offset_nodes(self.roots, index, lambda i: get_or_error(reader, i)))

    def byte_range(self, index: int) -> tuple[int, int]:
        return self.byte_offset(index), get_or_error(self.reader, index).size

    def seek(self, bytes_: int, padding: int = 0) -> ByteSeeker:
        return ByteSeeker(self, bytes_, padding)

    def truncate(
        self, length: int, fork: int | None = None, batch: MerkleTreeBatch | None = None
    ) -> MerkleTreeBatch:
        """A batch that cuts the tree to ``length`` with fork id ``fork`` (JS ``truncate``)."""
        if batch is None:
            batch = self.batch()
        head = length * 2
        full = flat.full_roots(head)
        for i, root in enumerate(full):
            if i < len(batch.roots) and batch.roots[i].index == root:
                continue
            del batch.roots[i:]
            batch.roots.append(get_or_error(self.reader, root))
        del batch.roots[len(full) :]
        batch.fork = batch.fork if fork is None else fork
        batch.length = length
        batch.ancestors = length
        batch.byte_length = total_size(batch.roots)
        batch.upgraded = True
        batch._hash = None
        return batch

    def missing_nodes(self, index: int, length: int) -> int:
        head = 2 * length
        ite = flat.Iterator(index)
        if ite.index + (ite.factor >> 1) - 1 >= head:
            return 0
        cnt = 0
        while not ite.contains(head) and self.reader.get_tree_node(ite.index) is None:
            cnt += 1
            if cnt >= MAX_WALK_STEPS:
                raise AssertionFailedError(f"Bad arguments to missingNodes index={index} at length={length}")
            ite.parent()
        return cnt

    @staticmethod
    def max_missing_nodes(index: int, length: int) -> int:
        head = 2 * length
        ite = flat.Iterator(index)
        if ite.index + (ite.factor >> 1) - 1 >= head:
            return 0
        if index in flat.full_roots(head):
            return 0
        ite.parent()
        cnt = 0
        while not ite.contains(head):
            cnt += 1
            ite.parent()
        return cnt

    @staticmethod
    def upgrade_length(upgrade: DataUpgrade) -> int:
        extra = upgrade.additional_nodes
        if extra:
            return flat.right_span(extra[-1].index) // 2 + 1
        return upgrade.start + upgrade.length

    # verification -----------------------------------------------------------------------------

    def verify(self, proof: ProofLike) -> MerkleTreeBatch:
        """Check a proof's hashes against the trusted tree (JS ``MerkleTree.verify``).

        Returns a batch holding the proven nodes; when the proof has an upgrade the batch is
        ``upgraded`` and its ``signature`` must still be checked by the core's verifier.
        """
        batch = MerkleTreeBatch(self)
        unverified = verify_tree(proof, batch.nodes)
        if proof.upgrade is not None and verify_upgrade(proof.fork, proof.upgrade, unverified, batch):
            unverified = None
        if unverified is not None:
            verified = self.reader.get_tree_node(unverified.index)
            if verified is None:
                raise InvalidProofError(
                    f"Expected tree node {unverified.index} from storage, got (nil)", code="INVALID_OPERATION"
                )
            if verified.hash != unverified.hash:
                raise InvalidChecksumError(f"Invalid checksum at node {unverified.index}")
        return batch

    def verify_fully_remote(self, proof: ProofLike) -> MerkleTreeBatch:
        """Verify a proof against nothing local: the upgrade's roots become the batch's roots."""
        batch = MerkleTreeBatch(self)
        batch.fork = proof.fork
        batch.roots = []
        batch.length = 0
        batch.ancestors = 0
        batch.byte_length = 0
        unverified = verify_tree(proof, batch.nodes)
        if proof.upgrade is not None:
            verify_upgrade(proof.fork, proof.upgrade, unverified, batch)
        return batch

    def reorg(self, proof: ProofLike, batch: ReorgBatch | None = None) -> ReorgBatch:
        """Start (or continue) a reorg onto the fork in ``proof`` (JS ``MerkleTree.reorg``)."""
        if batch is None:
            batch = ReorgBatch(self)
        unverified = None
        if proof.block is not None or proof.hash is not None or proof.seek is not None:
            unverified = verify_tree(proof, batch.nodes)
        if proof.upgrade is None or not verify_upgrade(proof.fork, proof.upgrade, unverified, batch):
            raise InvalidProofError("Fork proof not verifiable")
        for root in batch.roots:
            existing = self.reader.get_tree_node(root.index)
            if existing is not None and existing.hash == root.hash:
                continue
            batch._update_diff_root(root)
            break
        if batch.diff is not None:
            batch._update(batch.nodes)
        else:
            batch.want = None
            batch.ancestors = batch.length
        return batch

    # proof generation -------------------------------------------------------------------------

    def proof(
        self,
        *,
        block: RequestBlock | None = None,
        hash: RequestBlock | None = None,
        seek: RequestSeek | None = None,
        upgrade: RequestUpgrade | None = None,
    ) -> Proof:
        """The proof answering a request (JS ``MerkleTree.proof(...).settle()``)."""
        return generate_proof(self, block, hash, seek, upgrade)


def _roots_from(reader: NodeReader, length: int) -> list[TreeNode]:
    out = []
    for i in flat.full_roots(2 * length):
        n = reader.get_tree_node(i)
        if n is None:
            raise StorageCorruptError(f"tree root {i} for length {length} is missing")
        out.append(n)
    return out


def _byte_offset_nodes(roots: Sequence[TreeNode], index: int, get: _Getter) -> list[TreeNode]:
    if index & 1:
        index = flat.left_span(index)
    head = 0
    cnt = 0
    out: list[TreeNode] = []
    for node in roots:
        head += 2 * (node.index - head + 1)
        if index >= head:
            out.append(node)
            continue
        ite = flat.Iterator(node.index)
        while ite.index != index:
            cnt += 1
            if cnt >= MAX_WALK_STEPS:
                raise AssertionFailedError(f"Bad getByteOffsetSession index={index}")
            if index < ite.index:
                ite.left_child()
            else:
                out.append(get(ite.left_child()))
                ite.sibling()
        return out
    raise AssertionFailedError("Failed to find offset")


class _Getter(Protocol):
    def __call__(self, index: int, /) -> TreeNode: ...

"""Merkle proof verification (JS ``merkle-tree.js`` ``verifyTree`` / ``verifyUpgrade``).

Invariants: verification accepts exactly the proofs JS accepts and never trusts a node it did not
hash itself: ``verify_tree`` rebuilds the path from the block (or hash/seek nodes) to a root,
``verify_upgrade`` appends the proven roots to a :class:`~.merkle_nodes.RootSink` (a ``MerkleTreeBatch``)
(whose tree hash the caller then checks against a signature). Bad proofs raise
:class:`InvalidProofError` (a remote error).
"""

from __future__ import annotations

from dataclasses import replace

from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import flat_tree as flat
from hyperpunch.hypercore.errors import BadArgumentError, InvalidProofError
from hyperpunch.hypercore.merkle_nodes import (
    MAX_WALK_STEPS,
    NodeQueue,
    ProofLike,
    RootSink,
    block_node,
    parent_node,
)
from hyperpunch.hypercore.messages import DataUpgrade, Proof

__all__ = ["verify_tree", "verify_upgrade", "with_block_value"]


def verify_tree(proof: ProofLike, nodes: list[TreeNode]) -> TreeNode | None:
    block = proof.block
    hash_ = proof.hash
    seek = proof.seek
    if block is not None:
        u_index, u_value, u_nodes = 2 * block.index, block.value, block.nodes
    elif hash_ is not None:
        u_index, u_value, u_nodes = hash_.index, None, hash_.nodes
    else:
        if seek is None or not seek.nodes:
            return None
        u_index, u_value, u_nodes = -1, None, []

    root: TreeNode | None = None
    if seek is not None and seek.nodes:
        ite = flat.Iterator(seek.nodes[0].index)
        q = NodeQueue(seek.nodes)
        root = q.shift(ite.index)
        nodes.append(root)
        while q.length > 0:
            n = q.shift(ite.sibling())
            root = parent_node(ite.parent(), root, n)
            nodes.append(n)
            nodes.append(root)

    if u_index < 0:
        return root

    ite = flat.Iterator(u_index)
    q = NodeQueue(u_nodes, root)
    root = block_node(ite.index, u_value) if u_value is not None else q.shift(ite.index)
    nodes.append(root)
    while q.length > 0:
        n = q.shift(ite.sibling())
        root = parent_node(ite.parent(), root, n)
        nodes.append(n)
        nodes.append(root)
    return root


def verify_upgrade(fork: int, upgrade: DataUpgrade, block_root: TreeNode | None, batch: RootSink) -> bool:
    prologue = batch.prologue
    if (
        prologue is not None
        and upgrade.start < prologue.length
        and (upgrade.start != 0 or upgrade.length < prologue.length)
    ):
        raise InvalidProofError("Upgrade does not satisfy prologue")

    q = NodeQueue(upgrade.nodes, block_root)
    grow = len(batch.roots) > 0
    i = 0
    to = 2 * (upgrade.start + upgrade.length)
    ite = flat.Iterator(0)
    while ite.full_root(to):
        if i < len(batch.roots) and batch.roots[i].index == ite.index:
            i += 1
            ite.next_tree()
            continue
        if grow:
            grow = False
            root = ite.index
            if i < len(batch.roots):
                ite.seek(batch.roots[-1].index)
                steps = 0
                while ite.index != root:
                    steps += 1
                    if steps >= MAX_WALK_STEPS:
                        raise InvalidProofError("Upgrade does not connect to the tree")
                    batch.append_root(q.shift(ite.sibling()), ite)
                ite.next_tree()
                continue
        batch.append_root(q.shift(ite.index), ite)
        ite.next_tree()

    if prologue is not None and batch.length == prologue.length and prologue.hash != batch.hash():
        raise InvalidProofError("Invalid hash")

    if not batch.roots:
        raise InvalidProofError("Upgrade proves no roots")

    extra = upgrade.additional_nodes
    ite.seek(batch.roots[-1].index)
    i = 0
    while i < len(extra) and extra[i].index == ite.sibling():
        batch.append_root(extra[i], ite)
        i += 1
    while i < len(extra):
        n = extra[i]
        i += 1
        while n.index != ite.index:
            if ite.factor == 2:
                raise InvalidProofError(f"Unexpected node: {n.index}", code="INVALID_OPERATION")
            ite.left_child()
        batch.append_root(n, ite)
        ite.sibling()

    batch.signature = upgrade.signature
    batch.fork = fork
    return q.extra is None


def with_block_value(proof: Proof, value: bytes) -> Proof:
    """``proof`` with its block's ``value`` filled in."""
    if proof.block is None:
        raise BadArgumentError("proof has no block")
    return replace(proof, block=replace(proof.block, value=value))

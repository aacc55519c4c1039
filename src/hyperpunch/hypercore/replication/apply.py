"""Applying many verified block proofs as one storage write (the replicator's fast path).

Invariants:

* Each proof is verified on its own against the trusted tree (:meth:`MerkleTree.verify`), in
  arrival order, over the stored nodes *plus the nodes proven by the proofs before it in this
  burst* (a request may count on nodes an earlier request to the same peer brings, see
  :meth:`Peer.send_request`); a proof whose base node is missing fails with ``INVALID_OPERATION`` and
  is simply asked again. Only proofs without an upgrade and on the current fork come here
  (upgrades go one at a time through :meth:`Core.verify_and_apply`, which checks the signature).
  The core is reached only through :class:`.seam.ReplicatedCore`.
* Everything that verified is committed in **one** :class:`WriteBatch` (blocks, proven tree nodes,
  bitfield pages, hints), all or nothing; only after the write succeeds do the in-memory bitfield /
  hints move and waiters / ``download`` events fire, exactly as ``verify_and_apply`` does for one.
* A proof that fails verification is reported back (its exception) and contributes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore.merkle import MerkleTree, NodeReader
from hyperpunch.hypercore.messages import Data
from hyperpunch.hypercore.replication.seam import ReplicatedCore
from hyperpunch.hypercore.storage import CoreHints, WriteBatch, load_bitfield

__all__ = ["apply_block_proofs"]


class _Overlay:
    """Stored nodes plus the nodes proven earlier in the same burst."""

    __slots__ = ("base", "nodes")

    def __init__(self, base: NodeReader) -> None:
        self.base = base
        self.nodes: dict[int, TreeNode] = {}

    def get_tree_node(self, index: int) -> TreeNode | None:
        n = self.nodes.get(index)
        return n if n is not None else self.base.get_tree_node(index)


def apply_block_proofs(core: ReplicatedCore, items: Sequence[tuple[Data, Any]]) -> list[bool | BaseException]:
    """Verify ``(data, peer)`` block proofs and store the good ones in one write.

    Returns one entry per item: True (stored), False (nothing new: already stored, other fork) or
    the exception that made the proof invalid.
    """
    trusted = core.tree
    overlay = _Overlay(trusted.reader)
    tree = MerkleTree(
        overlay,
        fork=trusted.fork,
        length=trusted.length,
        roots=trusted.roots,
        signature=trusted.signature,
        prologue=trusted.prologue,
    )
    proven = overlay.nodes
    bits = core.bitfield
    results: list[bool | BaseException] = []
    wb = WriteBatch()
    stored: list[tuple[int, int, Any]] = []  # (index, size, peer)
    seen: set[int] = set()
    padding = core.padding
    for data, peer in items:
        block = data.block
        if data.fork != tree.fork or block is None or data.upgrade is not None:
            results.append(False)
            continue
        try:
            batch = tree.verify(data)
        except Exception as err:  # bad hashes / shape: the peer's fault
            results.append(err)
            continue
        index = block.index
        if bits.get(index) or index in seen:
            results.append(False)
            continue
        seen.add(index)
        for n in batch.nodes:
            proven[n.index] = n
        batch.commit(wb)
        wb.put_block(index, block.value)
        stored.append((index, len(block.value) - padding, peer))
        results.append(True)
    if not stored:
        return results
    indices = sorted(seen)
    hints = core.hints
    # stage bitfield pages: set bits in memory first (like Core._stage_bits), restore on failure
    for index in indices:
        bits.set(index, True)
    for p in sorted({i >> 15 for i in indices}):
        page = bits.get_page(p)
        if page is not None:
            wb.put_bitfield_page(p, page)
    new_hints = None
    if hints.contiguous_length in seen:
        contiguous = bits.first_unset(hints.contiguous_length)
        new_hints = CoreHints(contiguous, hints.remote_contiguous_length)
        wb.set_hints(new_hints)
    try:
        core.storage.write(wb)
    except BaseException:
        core.bitfield = load_bitfield(core.storage)
        raise
    if new_hints is not None:
        core.hints = new_hints
    # wake waiters and emit download events, in index order
    lo, hi = indices[0], indices[-1] + 1
    if hi - lo == len(indices):
        core.on_blocks(lo, hi)
    else:
        for index in indices:
            core.on_blocks(index, index + 1)
    for index, size, peer in stored:
        core.emit("download", index, size, peer)
    return results

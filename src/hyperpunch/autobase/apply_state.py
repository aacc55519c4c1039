"""Applying the linearized order to views, undoing and re-applying on reorder (the sans-IO
core of JS ``lib/apply-state.js`` ``update``/``undo``, without the system view).

The linearizer reports each change as a :class:`~hyperpunch.autobase.topolist.TopoUpdate`: the
first ``shared`` nodes of what was applied before stay, ``undo`` nodes are rolled back, and the
nodes from ``shared`` on (the newly indexed ones, then the tip) are applied. :meth:`ApplyState.plan`
turns an update into an :class:`ApplyPlan` (view lengths to truncate to, then the batches to
apply, each a list of :class:`ApplyNode` as JS passes to ``apply``); the adapter carries it out
and reports each applied batch's resulting view lengths with :meth:`ApplyState.applied`, which
is what a later undo truncates back to.

Invariants: no I/O and no user code run here. Acks (``value is None``) are never passed to
apply. Applied batches are recorded per writer batch (JS ``updates``); undoing ``n`` nodes pops
whole batches until ``n`` nodes are gone. Once nodes are indexed their batches are final and
never undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hyperpunch.autobase.messages import Checkout
from hyperpunch.autobase.node import DagNode
from hyperpunch.autobase.system_state import SysNode
from hyperpunch.autobase.topolist import TopoUpdate

__all__ = ["ApplyBatch", "ApplyNode", "ApplyPlan", "ApplyState", "Settled"]


@dataclass(frozen=True, slots=True)
class ApplyNode:
    """What ``apply`` receives for a node (JS ``{indexed, optimistic, from, length, value, heads}``;
    ``key`` is the writer core's key)."""

    indexed: bool
    optimistic: bool
    key: bytes
    length: int
    value: Any
    heads: list[Checkout]


@dataclass(frozen=True, slots=True)
class ApplyBatch:
    """One writer batch to apply (``nodes`` holds its non-ack nodes; may be empty)."""

    key: bytes
    length: int  # the batch's last node
    size: int  # how many DAG nodes it covers
    indexed: bool
    nodes: list[ApplyNode]
    # the system's view of it (see :mod:`~hyperpunch.autobase.system_view`): per DAG node its
    # causal dependencies (the node first), and whether the writer is removed (no system flush)
    system_nodes: tuple[tuple[SysNode, ...], ...] = ()
    skip_system: bool = False


@dataclass(frozen=True, slots=True)
class ApplyPlan:
    """Truncate the views to ``truncate_to`` (``None``: nothing to undo), then apply ``batches``
    in order, reporting each with :meth:`ApplyState.applied`."""

    truncate_to: tuple[int, ...] | None
    batches: list[ApplyBatch]


@dataclass(frozen=True, slots=True)
class Settled:
    """A batch that became final (indexed) and the views' lengths after it."""

    batch: ApplyBatch
    view_lengths: tuple[int, ...]


_Record = Settled


class ApplyState:
    __slots__ = ("_final_lengths", "_indexed_pending", "_settled", "_tip", "indexed_batches")

    def __init__(self, view_lengths: Sequence[int] = ()) -> None:
        self._final_lengths = tuple(view_lengths)  # the views' lengths after the last indexed batch
        self._tip: list[_Record] = []  # applied, not yet indexed
        self._indexed_pending = 0  # nodes of the current plan that are indexed
        self.indexed_batches = 0
        self._settled: list[Settled] = []

    @property
    def final_lengths(self) -> tuple[int, ...]:
        """The views' lengths after the last indexed (final) batch."""
        return self._final_lengths

    @property
    def applied_nodes(self) -> int:
        """How many tip (reorderable) nodes are applied."""
        return sum(r.batch.size for r in self._tip)

    def plan(self, u: TopoUpdate[DagNode]) -> ApplyPlan:
        truncate_to: tuple[int, ...] | None = None
        popped = u.undo
        if popped:
            while popped > 0:
                popped -= self._tip.pop().batch.size
            truncate_to = self._tip[-1].view_lengths if self._tip else self._final_lengths
        batches: list[ApplyBatch] = []
        pending: list[ApplyNode] = []
        sys_nodes: list[tuple[SysNode, ...]] = []
        size = 0
        for i in range(u.shared, u.length):
            indexed = i < len(u.indexed)
            node = u.indexed[i] if indexed else u.tip[i - len(u.indexed)]
            size += 1
            if node.value is not None and not node.writer.is_removed:
                pending.append(
                    ApplyNode(
                        indexed, False, node.writer.key, node.length, node.value, list(node.actual_heads)
                    )
                )
            sys_nodes.append(_causal_dependencies(node))
            if node.batch > 1:
                continue
            skip = node.writer.is_removed and not node.writer.is_active_indexer
            batches.append(
                ApplyBatch(node.writer.key, node.length, size, indexed, pending, tuple(sys_nodes), skip)
            )
            pending, size, sys_nodes = [], 0, []
        self._indexed_pending = len(u.indexed)
        return ApplyPlan(truncate_to, batches)

    def applied(self, batch: ApplyBatch, view_lengths: Sequence[int]) -> None:
        """``batch`` was applied; the views now have ``view_lengths``."""
        self._tip.append(_Record(batch, tuple(view_lengths)))

    def rebase(self, kept: int) -> tuple[int, ...]:
        """The linearizer rebooted after the first ``kept`` indexed nodes of the last plan: those
        become final, every other applied batch is dropped; returns the view lengths to
        truncate to (what a rebooted JS apply state starts from)."""
        self._indexed_pending = kept
        self.settle()
        self._tip.clear()
        return self._final_lengths

    def settle(self) -> None:
        """After a plan is carried out: its first indexed nodes' batches become final."""
        n = self._indexed_pending
        while n > 0 and self._tip:
            r = self._tip.pop(0)
            n -= r.batch.size
            self._final_lengths = r.view_lengths
            self.indexed_batches += 1
            self._settled.append(r)
        self._indexed_pending = 0

    def take_settled(self) -> list[Settled]:
        """The batches that became final since the last call, in order."""
        out, self._settled = self._settled, []
        return out


def _sys_node(node: DagNode) -> SysNode:
    return SysNode(node.writer.key, node.length, tuple((h.key, h.length) for h in node.actual_heads))


def _causal_dependencies(node: DagNode) -> tuple[SysNode, ...]:
    """JS ``Node.causalDependencies()``: the node, then the dependencies reached through
    removed (non-indexer) writers' nodes, depth first."""
    order = [node]
    stack = [node]
    visited: set[int] = set()
    while stack:
        n = stack.pop()
        for dep in n.dependencies:
            if not dep.writer.is_removed or dep.writer.is_active_indexer:
                continue
            if id(dep) in visited:
                continue
            visited.add(id(dep))
            stack.append(dep)
            order.append(dep)
    return tuple(_sys_node(n) for n in order)

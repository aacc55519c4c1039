"""The linearizer: one deterministic order over every writer's causal DAG (JS
``lib/linearizer.js``).

:meth:`Linearizer.add_head` takes a node whose dependencies are already in (writers feed their
nodes in order); :meth:`Linearizer.update` returns what changed as a
:class:`~hyperpunch.autobase.topolist.TopoUpdate`: the nodes that became final (``indexed``,
in the order :class:`~hyperpunch.autobase.consensus.Consensus` and the topolist give them) and
the reorderable ``tip``, with how much of the previously reported order must be undone.

Invariants: a sans-IO core (no I/O, no clock): the same nodes fed in the same order give the
same updates as JS autobase 7.28.1. After an update, the caller shifts each indexed node's
writer (``writer.shift()``), as autobase's apply state does.
"""

from __future__ import annotations

from collections.abc import Sequence

from hyperpunch.autobase.consensus import Consensus
from hyperpunch.autobase.errors import CorruptedDagError
from hyperpunch.autobase.messages import Checkout
from hyperpunch.autobase.node import DagNode, DagWriter
from hyperpunch.autobase.topolist import Topolist, TopoUpdate, add_sorted, compare

__all__ = ["Linearizer", "tie_break"]


class Linearizer:
    __slots__ = (
        "_initial_heads",
        "consensus",
        "heads",
        "indexers_updated",
        "size",
        "tails",
        "tip",
        "updated",
        "writers",
    )

    def __init__(
        self,
        indexers: Sequence[DagWriter],
        *,
        heads: Sequence[Checkout] = (),
        writers: Sequence[DagWriter] = (),
    ) -> None:
        self.heads: dict[DagNode, None] = {}
        self.tails: dict[DagNode, None] = {}
        self.tip: Topolist[DagNode] = Topolist()
        self.size = 0
        self.updated = False
        self.indexers_updated = False
        self.writers = list(writers)
        self.consensus = Consensus(indexers)
        self._initial_heads = list(heads)
        for h in heads:
            self.consensus.removed.set(h.key, h.length)

    @property
    def indexers(self) -> list[DagWriter]:
        return self.consensus.indexers

    def get_heads(self) -> list[Checkout]:
        """The DAG's heads: what a new local node links to."""
        out = list(self._initial_heads)
        out.extend(Checkout(n.writer.key, n.length) for n in self.heads)
        return out

    def get_bootstrap_writers(self) -> list[DagWriter]:
        return [h.writer for h in self.heads] + list(self.consensus.indexers)

    def add_head(self, node: DagNode) -> DagNode:
        node.active()
        if self._initial_heads:
            self._update_initial_heads(node)
        if node.is_tail():
            self.tails[node] = None
        for head in list(self.heads):
            if node.has_dependency(head):
                del self.heads[head]
        self.tip.add(node)
        if node.writer.is_active_indexer:
            self.consensus.add_head(node)
        self.size += 1
        self.heads[node] = None
        self.updated = True
        return node

    def update(self) -> TopoUpdate[DagNode] | None:
        """What changed since the last update (``None``: nothing was added)."""
        if not self.updated:
            return None
        self.updated = False
        indexed: list[DagNode] = []
        while True:
            nodes = self.consensus.shift()
            if not nodes:
                break
            self._yield(nodes, indexed)
        return self.tip.flush(indexed)

    def _update_initial_heads(self, node: DagNode) -> None:
        for head in node.actual_heads:
            self._initial_heads = [
                h for h in self._initial_heads if not (h.length == head.length and h.key == head.key)
            ]

    # --- acks

    def should_ack(self, writer: DagWriter | None, pending: bool = False) -> bool:
        if writer is None or not writer.is_active_indexer:
            return False
        for w in self.indexers:  # all indexers flushed to the DAG first: a quick debounce
            if w.length != w.available:
                return False
        is_head = False
        for head in self.heads:
            if not head.writer.is_active_indexer:
                return True  # any non-indexer head: ack
            if head.writer is writer:
                is_head = True
        if len(self.heads) == 1 and is_head:
            return False  # never self-ack
        visited: set[DagNode] = set()
        if not any(pending or self._non_null(t, visited) for t in self.tails):
            return False
        if self.consensus.should_ack(writer):
            return True
        return self._should_ack_heads(writer, pending)

    def _non_null(self, target: DagNode, visited: set[DagNode]) -> bool:
        stack = [target]
        while stack:
            node = stack.pop()
            if node in visited:
                continue
            if node.value is not None:
                return True
            visited.add(node)
            stack.extend(node.dependents)
        return False

    def _should_ack_heads(self, writer: DagWriter, pending: bool) -> bool:
        prev = writer.head()
        for head in self.heads:
            if head.writer is writer:
                continue
            stack = [head]
            visited: set[DagNode] = set()
            while stack:
                node = stack.pop()
                if node in visited:
                    continue
                visited.add(node)
                if pending or node.value is not None:
                    acks = self.consensus.acks_from_node(node, head)
                    prev_acks = self.consensus.acks_from_node(node, prev)
                    if len(acks) > len(prev_acks):
                        return True
                    if any(idx not in prev_acks for idx in acks):
                        return True
                    if prev_acks and acks:
                        continue
                stack.extend(node.dependencies)
        return False

    # --- the full DAG

    def _yield(self, nodes: list[DagNode], indexed: list[DagNode]) -> list[DagNode]:
        offset = len(indexed)
        tails: list[DagNode] = []
        while nodes:  # which nodes are yielded
            node = nodes.pop()
            if node.yielding:
                continue
            node.yielding = True
            if node.is_tail():
                tails.append(node)
            nodes.extend(node.dependencies)
        while tails:
            batch = self._remove_batch(tails.pop())
            for node in batch:
                add_sorted(node, indexed, offset)
            for dep in batch[-1].dependents:  # the batch's last node (JS reuses ``tail``)
                if dep.is_tail() and dep.yielding:
                    tails.append(dep)
        return indexed

    def _is_future_tail(self, node: DagNode) -> bool:
        dropped = node.dropped
        for dep in node.dependencies:  # a tail has no unyielded dependencies
            if dep.yielded:
                continue
            if dropped == 0:
                return False
            dropped -= 1
        return True

    def _remove_node(self, node: DagNode) -> DagNode:
        self.tails.pop(node, None)
        self.heads.pop(node, None)
        self.consensus.remove(node)
        for d in node.dependents:  # update the tail set
            if d.yielding and node in d.dependencies:
                d.dropped += 1  # keep the links for the indexed batch
            else:
                d.dependencies.pop(node, None)
            if self._is_future_tail(d):
                self.tails[d] = None
        node.yielded = True
        self.size -= 1
        if not self.heads:  # a single writer's DAG may drain at once
            self._initial_heads.append(Checkout(node.writer.key, node.length))
        return node

    def _remove_batch(self, node: DagNode) -> list[DagNode]:
        batch = [self._remove_node(node)]
        while node.batch != 1:
            if not node.dependents:  # a bad batch node: auto-correct
                nxt = node.writer.get(node.length)
                if nxt is not None and nxt.batch == node.batch - 1:
                    node.dependents[nxt] = None
            if len(node.dependents) != 1:
                raise CorruptedDagError("Batch is linked partially, which is not allowed")
            node = next(iter(node.dependents))
            batch.append(self._remove_node(node))
        return batch


def tie_break(a: DagNode, b: DagNode) -> bool:
    """Whether ``a`` goes before ``b`` (the lowest writer key wins)."""
    return compare(a, b) < 0

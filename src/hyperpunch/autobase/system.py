"""The indexer bookkeeping of the system view (JS ``lib/system.js`` ``add``/``addHead``/
``_updateIndexer``), without the Hyperbee that stores it.

Fed the *indexed* nodes in order (:meth:`IndexerSystem.add_head`) and the writers ``apply`` adds
(:meth:`IndexerSystem.add`), it tracks the indexer set, the pending indexers (added, not yet
written) and the DAG heads, and says when the indexer set changed: a pending indexer becomes an
indexer when its first node is applied, and then JS reboots its linearizer with the new
indexers and these heads.

Invariants: sans-IO; ``indexers`` keep JS's order (the order they became indexers); the heads
follow JS's pop-and-swap list order.
"""

from __future__ import annotations

from hyperpunch.autobase.messages import Checkout
from hyperpunch.autobase.node import DagNode

__all__ = ["IndexerSystem"]


class IndexerSystem:
    __slots__ = ("heads", "indexers", "members", "pending", "seen", "tracked")

    def __init__(self, bootstrap: bytes) -> None:
        self.indexers: list[Checkout] = []
        self.pending: list[bytes] = []
        self.heads: list[Checkout] = []
        self.members = 0
        self.seen: dict[bytes, int] = {}
        self.tracked: set[bytes] = set()  # the members (added, not removed)
        self.add(bootstrap, indexer=True)  # JS ApplyState.bootstrap()

    @property
    def indexer_keys(self) -> list[bytes]:
        return [i.key for i in self.indexers]

    def add(self, key: bytes, *, indexer: bool) -> bool:
        """``host.add_writer(key, indexer=...)`` (JS ``system.add``): a new member (its length
        is what was seen), or a member's indexer flag changed: an indexer added with
        ``indexer=False`` is demoted, a writer that already wrote and is added with
        ``indexer=True`` is promoted at once (one that did not write yet becomes pending).
        Returns whether the indexer set changed."""
        if key not in self.tracked:
            self.tracked.add(key)
            self.members += 1
        if not indexer:
            for k, idx in enumerate(self.indexers):
                if idx.key == key:
                    del self.indexers[k]
                    return True
            return False
        return self._update_indexer(key, self.seen.get(key, 0), 0)

    def remove(self, key: bytes) -> bool:
        """``host.remove_writer(key)`` (JS ``system.remove``): the writer stops being a member;
        returns whether the indexer set changed (it was an indexer: it is demoted)."""
        if key in self.tracked:
            self.tracked.discard(key)
            self.members -= 1
        if key in self.pending:
            self.pending.remove(key)
        for k, idx in enumerate(self.indexers):
            if idx.key == key:
                del self.indexers[k]
                return True
        return False

    def add_head(self, node: DagNode) -> bool:
        """An applied node; returns whether the indexer set changed (JS ``indexerUpdate``)."""
        h = Checkout(node.writer.key, node.length)
        i = 0
        while i < len(self.heads):
            head = self.heads[i]
            if not any(a.key == head.key and a.length == head.length for a in node.actual_heads):
                if node.writer.key != head.key:
                    i += 1
                    continue
                if head.length > h.length:
                    return False  # JS filters heads a since-fixed bug could write
            popped = self.heads.pop()
            if popped is not head:
                self.heads[i] = popped
                continue
            i += 1
        self.heads.append(h)
        self.seen[h.key] = h.length
        for j, key in enumerate(self.pending):
            if key == h.key:
                return self._update_indexer(h.key, h.length, j)
        for k, idx in enumerate(self.indexers):
            if idx.key == h.key:
                self.indexers[k] = h
        return False

    def _update_indexer(self, key: bytes, length: int, i: int) -> bool:
        while i < len(self.pending) and self.pending[i] != key:
            i += 1
        if length == 0:
            if i >= len(self.pending):
                self.pending.append(key)
            return False
        if i < len(self.pending):
            top = self.pending.pop()
            if i < len(self.pending):
                self.pending[i] = top
        for k, idx in enumerate(self.indexers):
            if idx.key == key:
                self.indexers[k] = Checkout(key, length)
                return False
        self.indexers.append(Checkout(key, length))
        return self.members != 0  # the bootstrap is added "silently" only while members == 0

"""Which part of the DAG is final (JS ``lib/consensus.js``).

Only indexer nodes vote. A node is *confirmed* once a majority (``len(indexers) // 2 + 1``) of
indexers have nodes that are strictly newer than it and that have seen a majority of its acks,
as vector clocks show; :meth:`Consensus.shift` returns the next nodes that became final
(indexer tails first, then merges).

Invariants: sans-IO and deterministic: the same nodes (same clocks, same writers' state) give the
same answers as JS; ``removed`` records, per writer, the last length taken out of the DAG.
"""

from __future__ import annotations

from collections.abc import Sequence

from hyperpunch.autobase.clock import Clock
from hyperpunch.autobase.node import DagNode, DagWriter

__all__ = ["ACKED", "NEWER", "UNSEEN", "Consensus"]

UNSEEN = 0
NEWER = 1
ACKED = 2


class Consensus:
    __slots__ = ("indexers", "majority", "merges", "removed", "updated", "writers")

    def __init__(self, indexers: Sequence[DagWriter]) -> None:
        self.merges: dict[DagNode, None] = {}
        self.majority = (len(indexers) >> 1) + 1
        self.indexers = list(indexers)
        self.removed = Clock()
        self.updated = False
        self.writers: dict[bytes, DagWriter] = {idx.key: idx for idx in self.indexers}

    def add_head(self, node: DagNode) -> DagNode | None:
        if not node.writer.is_active_indexer:
            return None
        if self._is_merge(node):
            self.merges[node] = None
        self.updated = True
        return node

    # --- indexer-only DAG methods

    def _tails(self, node: DagNode, tails: dict[DagNode, None]) -> dict[DagNode, None]:
        return {t: None for t in tails if node.clock.includes(t.writer.key, t.length)}

    def _tails_and_merges(self, node: DagNode, tails: dict[DagNode, None]) -> dict[DagNode, None]:
        out = self._tails(node, tails)
        for m in self.merges:
            if m is not node and node.clock.includes(m.writer.key, m.length):
                out[m] = None
        return out

    def _is_merge(self, node: DagNode) -> bool:
        if not node.writer.is_active_indexer:
            return False
        deps: list[DagNode] = []
        for idx in self.indexers:
            seq = node.clock.get(idx.key) - 1
            if idx is node.writer:
                seq -= 1
            head = idx.get(seq)
            if head is None or self.removed.includes(head.writer.key, head.length):
                continue
            is_dep = True
            i = 0
            while i < len(deps):
                d = deps[i]
                if d is head:
                    i += 1
                    continue
                if d.clock.includes(head.writer.key, head.length):
                    is_dep = False
                    break
                if head.clock.includes(d.writer.key, d.length):
                    popped = deps.pop()
                    if d is popped:
                        i += 1
                        continue
                    deps[i] = popped
                    continue  # JS i-- then i++: look at the same slot again
                i += 1
            if is_dep:
                deps.append(head)
        return len(deps) > 1

    def _indexer_tails(self) -> dict[DagNode, None]:
        tails: dict[DagNode, None] = {}
        for idx in self.indexers:
            length = self.removed.get(idx.key) if self.removed.has(idx.key) else idx.indexed
            head = idx.get(length)
            if head is None or self.removed.includes(head.writer.key, head.length):
                continue
            is_tail = True
            for t in list(tails):
                if head.clock.includes(t.writer.key, t.length):
                    is_tail = False
                    break
                if t.clock.includes(head.writer.key, head.length):
                    del tails[t]
            if is_tail:
                tails[head] = None
        return tails

    def _strictly_newer(self, obj: DagNode, parent: DagNode) -> bool:
        """``parent`` is newer than ``obj``: every node in parent's view either sees or is seen
        by ``obj``."""
        if not parent.clock.includes(obj.writer.key, obj.length):
            return False
        for key, latest in parent.clock:
            oldest = self.removed.get(key)
            if latest <= oldest:
                continue  # removed already
            length = obj.clock.get(key)
            if length <= oldest:
                length = oldest
            if latest < length:
                return False
            if latest == length:
                continue  # both have seen it
            writer = self.writers.get(key)
            nxt = writer.get(length if length >= writer.indexed else writer.indexed) if writer else None
            if nxt is None:
                continue  # indexed: both have seen it
            if nxt.clock.includes(obj.writer.key, obj.length):
                continue  # the next node saw obj: newer
            if latest < nxt.length:
                continue  # parent has not seen the next node either
            return False
        return True

    def _acks(self, target: DagNode) -> list[DagNode]:
        acks = [target] if target.writer.is_active_indexer else []
        for idx in self.indexers:
            if idx is target.writer:
                continue
            nxt = target.clock.get(idx.key)
            if nxt < idx.indexed:  # JS idx.nodes.offset
                nxt = idx.indexed
            next_index_node = idx.get(nxt if nxt >= idx.indexed else idx.indexed)
            if next_index_node is None:
                continue
            if not next_index_node.clock.includes(target.writer.key, target.length):
                continue
            if not self._strictly_newer(target, next_index_node):
                continue
            acks.append(next_index_node)
        return acks

    def acks_from_node(self, target: DagNode, view: DagNode | None) -> dict[DagWriter, None]:
        acks: dict[DagWriter, None] = {}
        if view is None or not view.clock.includes(target.writer.key, target.length):
            return acks
        acks[view.writer] = None
        for idx in self.indexers:
            if idx is view.writer:
                continue
            length = view.clock.get(idx.key)
            if not length or target.clock.includes(idx.key, length):
                continue
            head = idx.get(length - 1)
            if head is not None and head.clock.includes(target.writer.key, target.length):
                acks[idx] = None
        return acks

    def _acked_at(self, acks: list[DagNode], parent: DagNode) -> bool:
        seen = 0
        missing = len(acks)
        for node in acks:
            missing -= 1
            if not parent.clock.includes(node.writer.key, node.length):
                if seen + missing < self.majority:
                    return False
                continue
            seen += 1
            if seen >= self.majority:
                return True
        return False

    def confirms(self, indexer: DagWriter, target: DagNode, acks: list[DagNode], length: int) -> int:
        if not length or self.removed.get(indexer.key) >= length:
            return UNSEEN
        jump = True
        newer = True
        i = length - 1
        while i >= 0:
            head = indexer.get(i)
            if head is None:
                return UNSEEN
            seen = 0
            for node in acks:
                if not head.clock.includes(node.writer.key, node.length):
                    continue
                seen += 1
                if seen >= self.majority:
                    break
            if not newer and seen < self.majority:
                break
            if not self._strictly_newer(target, head):
                # all strictly newer nodes are clustered together: bisect to the cluster
                if jump:
                    jump = False
                    t = length - 1
                    b = 0
                    while t > b:
                        mid = (t + b) >> 1
                        probe = indexer.get(mid)
                        if (
                            probe is None
                            or not probe.clock.includes(target.writer.key, target.length)
                            or self._strictly_newer(target, probe)
                        ):
                            b = mid + 1
                        else:
                            t = mid - 1
                    if b + 1 < i:
                        i = b + 2  # +2: off by one and the decrement, only an optimisation
                newer = False
                i -= 1
                continue
            if seen < self.majority:
                return NEWER
            return ACKED
        return UNSEEN

    def _is_confirmed(self, target: DagNode, parent: DagNode | None = None) -> bool:
        acks = self._acks(target)
        confs: dict[DagWriter, None] = {}
        if len(acks) < self.majority:
            return False
        all_newer = True
        for indexer in self.indexers:
            if parent is None:
                length = indexer.length
            elif parent.writer is indexer:
                length = parent.length - 1
            else:
                length = parent.clock.get(indexer.key)
            result = self.confirms(indexer, target, acks, length)
            if result == ACKED:
                confs[indexer] = None
                if len(confs) >= self.majority:
                    return True
            if result == UNSEEN:
                all_newer = False
        if parent is not None:
            return self._is_confirmable_at(target, parent, acks, confs)
        return all_newer

    def _is_confirmable_at(
        self, target: DagNode, parent: DagNode, acks: list[DagNode], confs: dict[DagWriter, None]
    ) -> bool:
        if not self._acked_at(acks, parent):
            return False
        potential = len(confs)
        for indexer in self.indexers:
            if indexer in confs:
                continue
            length = parent.clock.get(indexer.key)
            is_seen = target.clock.includes(indexer.key, length)
            if not is_seen:
                # the next indexer head has to be strictly newer, so the current one too
                head = indexer.get(length - 1)
                if (
                    head is not None
                    and not self.removed.includes(head.writer.key, head.length)
                    and not self._strictly_newer(target, head)
                ):
                    continue
            potential += 1
            if potential >= self.majority:
                return True
        return False

    def remove(self, node: DagNode) -> DagNode:
        """Take ``node`` out (may be called more than once for a node)."""
        self.merges.pop(node, None)
        self.removed.set(node.writer.key, node.length)
        return node

    def shift(self) -> list[DagNode]:
        """The next nodes that became final, or ``[]``."""
        if not self.updated:
            return []
        tails = self._indexer_tails()
        for tail in tails:
            if self._is_confirmed(tail):
                return [self.remove(tail)]
        for merge in list(self.merges):
            if self._is_confirmed(merge):
                return self._yield_next(merge, tails)
        self.updated = False
        return []

    def _yield_next(self, node: DagNode, tails: dict[DagNode, None]) -> list[DagNode]:
        while node not in tails:
            nxt: DagNode | None = None
            for t in self._tails_and_merges(node, tails):  # is one fork confirmed?
                if self._is_confirmed(t, node):
                    nxt = t
                    break
            if nxt is None:
                return [self.remove(t) for t in self._tails(node, tails)]  # else all tails
            node = nxt  # else all tails
        return [self.remove(node)]

    def should_ack(self, writer: DagWriter) -> bool:
        return any(t.writer is not writer and self._should_ack_node(t, writer) for t in self._indexer_tails())

    def _should_ack_node(self, target: DagNode, writer: DagWriter) -> bool:
        head = writer.head()
        nxt = target.clock.get(writer.key)
        next_index_node = writer.get(nxt if nxt >= writer.indexed else writer.indexed)
        if next_index_node is None and writer is not target.writer:
            return True  # no next node and we did not write target: ack
        if next_index_node is not None:
            if not next_index_node.clock.includes(target.writer.key, target.length):
                return head is None or not head.clock.includes(target.writer.key, target.length)
            if not self._strictly_newer(target, next_index_node):
                return False
        acks = self._acks(target)
        if len(acks) >= self.majority:  # enough to double confirm
            return self.confirms(writer, target, acks, writer.length) == UNSEEN
        return False

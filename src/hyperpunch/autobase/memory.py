"""In-memory writers and a DAG driver for the sans-IO linearizer (the memory harness).

:class:`MemoryWriter` holds a writer's nodes as JS ``lib/writer.js`` does once they are loaded (a
node buffer whose start moves as nodes are indexed); :class:`DagDriver` builds a DAG node by node
from named dependencies ("a0", "b1": writer name and 0-based sequence), feeds it to a
:class:`~hyperpunch.autobase.linearizer.Linearizer` after each node, shifts the writers of the
indexed nodes (as the apply state does) and records every update. The JS reference vectors run
the same driver over autobase's own ``Linearizer``.

Invariants: no I/O; a node's ``heads`` are its named dependencies plus its writer's previous node
when that is not indexed and not named (what a real writer links); heads that are already
indexed are dropped, as ``writer.js`` drops them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hyperpunch.autobase.linearizer import Linearizer
from hyperpunch.autobase.messages import Checkout
from hyperpunch.autobase.node import DagNode

__all__ = ["DagDriver", "MemoryWriter", "Step", "writer_key"]


def writer_key(name: str) -> bytes:
    """The 32-byte key the harness gives writer ``name`` (its first character repeated)."""
    return name[0].encode() * 32


class MemoryWriter:
    """A writer whose nodes are all loaded (``length == available``)."""

    __slots__ = ("_nodes", "_offset", "available", "is_active_indexer", "is_removed", "key", "length", "name")

    def __init__(
        self, name: str, key: bytes, *, indexer: bool = False, removed: bool = False, offset: int = 0
    ) -> None:
        self.name = name
        self.key = key
        self.is_active_indexer = indexer
        self.is_removed = removed
        self._nodes: list[DagNode] = []  # nodes from _offset on
        self._offset = offset  # nodes before this are indexed (JS: a writer opened at that length)
        self.length = offset
        self.available = offset

    @property
    def indexed(self) -> int:
        return self._offset

    def _buffered(self, seq: int) -> DagNode | None:
        if seq < self._offset or seq >= self._offset + len(self._nodes):
            return None
        return self._nodes[seq - self._offset]

    def get(self, seq: int) -> DagNode | None:
        return self._buffered(seq) if seq < self.length else None

    def head(self) -> DagNode | None:
        return self._buffered(self.length - 1)

    def append(
        self, value: Any, heads: Sequence[DagNode], batch: int = 1, optimistic: bool = False
    ) -> DagNode:
        """A new node linking ``heads`` (and the previous node), dropping indexed ones."""
        links: list[DagNode] = []
        for h in heads:
            buffered = h.writer.get(h.length - 1) if isinstance(h.writer, MemoryWriter) else None
            if buffered is h and h not in links:
                links.append(h)
        length = self._offset + len(self._nodes) + 1
        prev = self._buffered(length - 2)
        if prev is not None and prev not in links:
            links.append(prev)
        heads_out = [Checkout(n.writer.key, n.length) for n in links]
        return self.push(value, heads_out, dict.fromkeys(links), batch, optimistic)

    def push(
        self,
        value: Any,
        heads: list[Checkout],
        dependencies: dict[DagNode, None],
        batch: int = 1,
        optimistic: bool = False,
    ) -> DagNode:
        """Append a node whose dependencies the caller resolved (JS ``Writer.append``)."""
        node = DagNode(self, self.next_length, value, heads, batch, dependencies, optimistic)
        self._nodes.append(node)
        self.available += 1
        self.length += 1
        return node

    @property
    def next_length(self) -> int:
        """The length the next node will have."""
        return self._offset + len(self._nodes) + 1

    def buffered(self, seq: int) -> DagNode | None:
        """The loaded, not yet indexed node at ``seq``, whatever ``length`` says."""
        return self._buffered(seq)

    def shift(self) -> bool:
        """Drop the oldest loaded nodes once indexed (a whole batch)."""
        if self.length <= self._offset:
            return False
        node = self._shift_and_clear()
        while node.batch > 1:
            node = self._shift_and_clear()
        return True

    def _shift_and_clear(self) -> DagNode:
        node = self._nodes.pop(0)
        self._offset += 1
        return node.clear()


@dataclass(frozen=True, slots=True)
class Step:
    """One linearizer update: JS ``{ shared, undo, length, indexed, tip }`` with node names."""

    shared: int
    undo: int
    length: int
    indexed: list[str]
    tip: list[str]


class DagDriver:
    """Builds a DAG over named writers and records the linearizer's updates (and, after each
    entry, which indexers ``should_ack``)."""

    def __init__(self, writers: Sequence[str], indexers: Sequence[str]) -> None:
        self.writers = {w: MemoryWriter(w, writer_key(w), indexer=w in indexers) for w in writers}
        self.indexer_names = list(indexers)
        self.linearizer = Linearizer([self.writers[w] for w in indexers])
        self.nodes: dict[str, DagNode] = {}
        self.names: dict[DagNode, str] = {}
        self.steps: list[Step] = []
        self.indexed: list[str] = []
        self.acks: list[str] = []

    def add(self, writer: str, deps: Sequence[str] = (), *, batch: int = 1, ack: bool = False) -> list[str]:
        """Append a batch of ``batch`` nodes (acks: value ``None``) to ``writer``, the first one
        linking ``deps``; then update."""
        w = self.writers[writer]
        made = []
        for i in range(batch):
            name = f"{writer}{w.length}"
            node = w.append(None if ack else name, [self.nodes[d] for d in deps] if i == 0 else [], batch - i)
            self.nodes[name] = node
            self.names[node] = name
            self.linearizer.add_head(node)
            made.append(name)
        self.update()
        self.acks.append(
            "".join("1" if self.linearizer.should_ack(self.writers[x]) else "0" for x in self.indexer_names)
        )
        return made

    def update(self) -> None:
        u = self.linearizer.update()
        if u is None:
            return
        indexed = [self.names[n] for n in u.indexed]
        self.steps.append(Step(u.shared, u.undo, u.length, indexed, [self.names[n] for n in u.tip]))
        self.indexed.extend(indexed)
        for n in u.indexed:
            if n.batch == 1:
                w = n.writer
                assert isinstance(w, MemoryWriter)
                w.shift()

    def run(self, spec: Sequence[str]) -> DagDriver:
        """Add the entries of ``spec``: ``"w"``, ``"w*3"`` (a batch of 3), ``"w!"`` (an ack),
        each optionally followed by ``":dep,dep"``, in order."""
        for entry in spec:
            head, _, deps = entry.partition(":")
            writer, batch, ack = head[0], 1, head.endswith("!")
            if "*" in head:
                batch = int(head.split("*", 1)[1])
            self.add(writer, [d for d in deps.split(",") if d], batch=batch, ack=ack)
        return self

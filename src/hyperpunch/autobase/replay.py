"""Linearize writer cores read from storage or the network (the sans-IO half of JS autobase's
``_addRemoteHeads`` and ``Writer._ensureNodeDependencies``).

:class:`Replayer` takes each writer core's raw blocks (``feed``), decodes them as
:data:`~hyperpunch.autobase.messages.oplog_message`, and adds a writer's next node to the
linearizer once every head it names is loaded (whole batches at a time), round-robin over the
writers as JS does; after each round it runs ``update()`` and shifts the writers of the indexed
nodes. :meth:`Replayer.run` returns the updates (all indexed nodes so far are in ``indexed``);
:meth:`Replayer.append_local` adds a local batch linking the DAG's heads and gives its blocks.

Invariants: no I/O; an undecodable block freezes its writer (as JS ``writer.js``: what came
before stays, nothing after is read); a head naming a node that is already indexed is dropped (as ``writer.js``
does); a writer whose next node names a writer or a length not yet loaded waits. Indexer changes
are followed with :class:`~hyperpunch.autobase.system.IndexerSystem` when ``adds`` says which
writers each node's apply adds (the apply semantics are the application's); an indexer change
takes effect at the end of the writer batch it happened in (JS computes ``update.indexers``
after the batch's apply), so a batch is never split by a reboot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from hyperpunch.autobase.linearizer import Linearizer
from hyperpunch.autobase.memory import MemoryWriter
from hyperpunch.autobase.messages import Node, OplogMessage, oplog_message
from hyperpunch.autobase.node import DagNode
from hyperpunch.autobase.system import IndexerSystem
from hyperpunch.autobase.topolist import TopoUpdate
from hyperpunch.encoding import DecodeError, decode
from hyperpunch.hypercore.errors import DecodingError

__all__ = ["Rebooted", "Replayer"]


AddsFn = Callable[[DagNode], Sequence[tuple[bytes, bool]]]
RemovesFn = Callable[[DagNode], Sequence[bytes]]


@dataclass(frozen=True, slots=True)
class Rebooted:
    """The indexer set changed after the first ``kept`` indexed nodes of the last update: those
    are final; everything applied after them must be rolled back (it is linearized again)."""

    kept: int


class Replayer:
    """``indexers``: the initial indexer set (the bootstrap writer). With ``adds`` (a node ->
    the ``(key, indexer)`` writers its apply adds), indexer changes are followed as JS does:
    when an indexed node completes a new indexer, the linearizer is rebuilt from the indexed
    state (new indexers, the system's heads) and everything after is linearized again."""

    def __init__(
        self,
        indexers: Sequence[bytes],
        writers: Sequence[bytes] = (),
        *,
        adds: AddsFn | None = None,
        removes: RemovesFn | None = None,
        check_value: Callable[[bytes], object] | None = None,
    ) -> None:
        keys = list(dict.fromkeys([*indexers, *writers]))
        self.writers = {k: MemoryWriter(k.hex()[:8], k, indexer=k in indexers) for k in keys}
        self.linearizer = Linearizer([self.writers[k] for k in indexers])
        self._pending: dict[bytes, list[OplogMessage]] = {k: [] for k in keys}
        self._messages: dict[bytes, list[OplogMessage]] = {k: [] for k in keys}
        self._indexed_length: dict[bytes, int] = {}
        self._adds = adds
        self._removes = removes
        self.removed: set[bytes] = set()  # writers removed by an indexed node (JS isRemoved)
        self.system = IndexerSystem(indexers[0]) if adds is not None else None
        self.indexed: list[DagNode] = []
        self.reboots = 0
        # writers whose block at that index did not decode (JS freezes such a writer: nothing
        # after it is loaded), and what went wrong, for the adapter's warning events
        self.frozen: dict[bytes, int] = {}
        self.warnings: list[str] = []
        self._check_value = check_value  # a value it raises on freezes the writer too (as JS)

    def feed(self, key: bytes, blocks: Sequence[bytes]) -> None:
        """Queue writer ``key``'s next raw blocks (in core order)."""
        if key not in self.writers:
            self.writers[key] = MemoryWriter(key.hex()[:8], key)
            self._pending[key] = []
            self._messages[key] = []
        if key in self.frozen:
            return
        msgs = []
        for b in blocks:
            try:
                msg = decode(oplog_message, b)
                if msg.node.value is not None and self._check_value is not None:
                    self._check_value(msg.node.value)
                msgs.append(msg)
            except (DecodeError, DecodingError, ValueError) as err:
                self.frozen[key] = len(self._messages[key]) + len(msgs)
                self.warnings.append(f"writer {key.hex()} block {self.frozen[key]}: {err}")
                break
        self._pending[key].extend(msgs)
        self._messages[key].extend(msgs)

    def _reboot(self) -> None:
        """JS ``_reboot``: new writers at their indexed lengths, a new linearizer over the
        system's indexers and heads; the rest of every writer's log is queued again."""
        assert self.system is not None
        indexers = self.system.indexer_keys
        self.writers = {
            k: MemoryWriter(
                k.hex()[:8],
                k,
                indexer=k in indexers,
                removed=k in self.removed,
                offset=self._indexed_length.get(k, 0),
            )
            for k in self._messages
        }
        self._pending = {k: list(m[self._indexed_length.get(k, 0) :]) for k, m in self._messages.items()}
        self.linearizer = Linearizer([self.writers[k] for k in indexers], heads=list(self.system.heads))
        self.reboots += 1

    def _on_indexed(self, u: TopoUpdate[DagNode]) -> int | None:
        """Take ``u``'s indexed nodes in order; returns how many were kept when the indexer set
        changed (then the rest are dropped and the linearizer must reboot), else ``None``."""
        changed = False
        for i, n in enumerate(u.indexed):
            self.indexed.append(n)
            key = n.writer.key
            self._indexed_length[key] = max(self._indexed_length.get(key, 0), n.length)
            if self.system is not None and self._adds is not None:
                changed = self.system.add_head(n) or changed
                for k, indexer in self._adds(n):
                    changed = self.system.add(k, indexer=indexer) or changed
                for k in self._removes(n) if self._removes is not None else ():
                    changed = self.system.remove(k) or changed
                    self.removed.add(k)
                    removed = self.writers.get(k)
                    if isinstance(removed, MemoryWriter):
                        removed.is_removed = True
            if n.batch == 1 and isinstance(n.writer, MemoryWriter):
                n.writer.shift()
            if n.batch != 1:
                continue  # JS sees an indexer update once the whole batch is applied
            if changed:
                return i + 1
        return None

    def _ready(self, writer: MemoryWriter, msg: OplogMessage) -> bool:
        for h in msg.node.heads:
            hw = self.writers.get(h.key)
            if hw is None or (hw is not writer and hw.next_length - 1 < h.length):
                return False
        return True

    def _load(self, writer: MemoryWriter, msg: OplogMessage) -> DagNode:
        heads = list(msg.node.heads)
        deps: dict[DagNode, None] = {}
        i = 0
        while i < len(heads):
            h = heads[i]
            node = self.writers[h.key].buffered(h.length - 1)
            if node is None:  # maybe a stub still among the linearizer's heads
                node = next(
                    (n for n in self.linearizer.heads if n.length == h.length and n.writer.key == h.key), None
                )
            if node is None:  # already yielded
                del heads[i]
                continue
            deps[node] = None
            i += 1
        prev_seq = writer.next_length - 2
        if prev_seq >= writer.indexed:  # always link the previous node if it is not indexed
            prev = writer.buffered(prev_seq)
            if prev is not None:
                deps[prev] = None
        # JS keeps the block's full heads as actualHeads (only node.heads is pruned)
        return writer.push(msg.node.value, list(msg.node.heads), deps, msg.node.batch, bool(msg.optimistic))

    def _advance(self, key: bytes) -> int:
        """Add writer ``key``'s next node (its whole batch) if its heads are loaded."""
        queue = self._pending[key]
        writer = self.writers[key]
        if not queue:
            return 0
        end = 0
        while end < len(queue) and queue[end].node.batch != 1:
            end += 1
        if end >= len(queue):
            return 0  # the batch is not complete yet
        batch = queue[: end + 1]
        if not self._ready(writer, batch[0]):
            return 0
        del queue[: end + 1]
        for msg in batch:
            self.linearizer.add_head(self._load(writer, msg))
        return len(batch)

    def append_local(self, key: bytes, values: Sequence[bytes | None]) -> list[OplogMessage]:
        """Append ``values`` as one batch of writer ``key`` (the local writer), linking the DAG's
        current heads (JS ``_addLocalHeads``); returns the blocks to write to its core."""
        writer = self.writers[key]
        out = []
        for i, value in enumerate(values):
            heads = self.linearizer.get_heads()
            deps = dict.fromkeys(self.linearizer.heads)
            batch = len(values) - i
            self.linearizer.add_head(writer.push(value, heads, deps, batch))
            out.append(OplogMessage(Node(heads, batch, value)))
        self._messages.setdefault(key, []).extend(out)  # a reboot loads them again
        return out

    def steps(self) -> Iterator[TopoUpdate[DagNode] | Rebooted]:
        """Linearize everything loadable, one update at a time. Each update is yielded *before*
        its indexed nodes are taken (so the caller applies it first, and ``adds`` sees what that
        apply did); a :class:`Rebooted` follows an update whose indexed nodes changed the
        indexer set."""
        while True:
            added = sum(self._advance(k) for k in list(self.writers))
            u = self.linearizer.update()
            if u is not None:
                yield u
                kept = self._on_indexed(u)
                if kept is not None:
                    self._reboot()
                    yield Rebooted(kept)
                    continue
            if added == 0:
                return

    def run(self) -> list[TopoUpdate[DagNode]]:
        """All of :meth:`steps`; returns the updates, in order (indexed nodes are in
        :attr:`indexed`)."""
        return [u for u in self.steps() if not isinstance(u, Rebooted)]

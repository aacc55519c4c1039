"""The system view's bookkeeping, sans-IO (JS ``lib/system.js`` without its bee); see
:mod:`~hyperpunch.autobase.system_view` for the core it is written to."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

from hyperpunch.autobase.messages import Checkout, Info, Member, info, member
from hyperpunch.encoding import encode

__all__ = [
    "DEFAULT_AUTOBASE_VERSION",
    "INFO_KEY",
    "MEMBERS_PREFIX",
    "HostOp",
    "Signature",
    "SysNode",
    "SystemBatch",
    "SystemState",
]

DEFAULT_AUTOBASE_VERSION = 1
MEMBERS_PREFIX = b"\x01\x00"  # sub-encoder sub([1])
INFO_KEY = b"\x00\x00info"  # sub-encoder sub([0]) 'info'


@dataclasses.dataclass(frozen=True, slots=True)
class SysNode:
    """A DAG node as the system sees it: its writer key, length and the heads it links."""

    key: bytes
    length: int
    heads: tuple[tuple[bytes, int], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class HostOp:
    """A host call ``apply`` made (JS ``addWriter``/``removeWriter``/``ackWriter``)."""

    kind: Literal["add", "remove", "ack"]
    key: bytes
    indexer: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class SystemBatch:
    """One indexed writer batch: per DAG node its causal dependencies (JS
    ``causalDependencies()``: the node first), the host calls of its apply, and the user views'
    lengths after it. ``skip``: a removed non-indexer writer's batch (JS writes nothing)."""

    key: bytes
    length: int
    skip: bool
    nodes: tuple[tuple[SysNode, ...], ...]
    ops: tuple[HostOp, ...]
    view_lengths: tuple[int, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Signature:
    """An indexer's signature of a view core at ``length``, written at its block ``at``."""

    signature: bytes
    length: int
    at: int


@dataclasses.dataclass(slots=True)
class _Entry:
    """A mutable ``{key, length}`` (JS mutates indexer entries in place)."""

    key: bytes
    length: int


class SystemState:
    """JS ``SystemView``'s in-memory state; the bee's member records are mirrored in
    :attr:`db_members` (what ``db.get`` would read)."""

    def __init__(self) -> None:
        self.version = DEFAULT_AUTOBASE_VERSION
        self.members = 0
        self.pending_indexers: list[bytes] = []
        self.indexers: list[_Entry] = []
        self.heads: list[_Entry] = []
        self.views: list[Checkout] = []
        self.mapped: list[int] = []  # per user view: its index in ``views`` (-1: unmapped)
        self.indexer_update = False
        self.db_members: dict[bytes, Member] = {}
        self._changes: list[tuple[bytes, Member]] = []
        self._clock_updates: dict[bytes, int] = {}
        self._indexer_map: dict[bytes, _Entry] = {}

    @property
    def bootstrapping(self) -> bool:
        return self.members == 0

    @property
    def indexer_keys(self) -> list[bytes]:
        return [i.key for i in self.indexers]

    def _seen_length(self, key: bytes) -> int:
        return self._clock_updates.get(key, 0)

    def _get(self, key: bytes) -> Member | None:
        for k, v in reversed(self._changes):
            if k == key:
                return v
        return self.db_members.get(key)

    def linkable(self, key: bytes, length: int) -> bool:
        seen = self._seen_length(key)
        if seen > 0:
            return length > seen
        prev = self._get(key)
        return length > (prev.length if prev is not None else 0)

    def add_head(self, node: SysNode) -> bool:
        h = _Entry(node.key, node.length)
        i = 0
        while i < len(self.heads):
            head = self.heads[i]
            if (head.key, head.length) not in node.heads:
                if node.key != head.key:
                    i += 1
                    continue
                if head.length > node.length:
                    return False
            popped = self.heads.pop()
            if popped is not head:
                self.heads[i] = popped
                continue  # JS i-- then i++: look at the moved head
            # popped the last one: the loop ends
        self.heads.append(h)
        self._clock_updates[node.key] = node.length
        for j, pending in enumerate(self.pending_indexers):
            if pending == node.key:
                self._update_indexer(node.key, node.length, True, j)
                return True
        idx = self._indexer_map.get(node.key)
        if idx is not None:
            idx.length = node.length
        return False

    def _update_indexer(self, key: bytes, length: int | None, is_indexer: bool, i: int) -> None:
        if not is_indexer:
            existing = self._indexer_map.get(key)
            if existing is not None:
                self.indexer_update = True
                self.indexers.remove(existing)
                del self._indexer_map[key]
            return
        assert length is not None  # only a removal passes no length
        while i < len(self.pending_indexers):
            if self.pending_indexers[i] == key:
                break
            i += 1
        if length == 0:
            if i >= len(self.pending_indexers):
                self.pending_indexers.append(key)
            return
        if i < len(self.pending_indexers):
            top = self.pending_indexers.pop()
            if i < len(self.pending_indexers):
                self.pending_indexers[i] = top
        idx = self._indexer_map.get(key)
        if idx is None:
            new = _Entry(key, length)
            self._indexer_map[key] = new
            self.indexers.append(new)
            if not self.bootstrapping:  # the bootstrap is added "silently"
                self.indexer_update = True
        else:
            idx.length = length

    def ack(self, key: bytes) -> None:
        value = self._get(key)
        length = self._seen_length(key)
        if value is not None and value.length == length:
            return
        self._changes.append(
            (
                key,
                Member(
                    length,
                    value.is_indexer if value else False,
                    value.is_removed if value else True,
                ),
            )
        )

    def add(self, key: bytes, *, is_indexer: bool = False) -> None:
        length = self._seen_length(key)
        value = self._get(key)
        changed = True
        was_tracked = was_indexer = False
        if value is not None:
            was_tracked = not value.is_removed
            was_indexer = value.is_indexer
            length = max(length, value.length)
            if value.length == length and value.is_indexer == is_indexer and not value.is_removed:
                changed = False
        if changed:
            self._changes.append((key, Member(length, is_indexer, False)))
        if not was_tracked:
            self.members += 1
        if was_indexer or is_indexer:
            self._update_indexer(key, length, is_indexer, 0)

    def remove(self, key: bytes) -> bool:
        is_indexer = key in self._indexer_map
        if is_indexer:
            self._update_indexer(key, None, False, 0)
        value = self._get(key)
        changed = value is None or not value.is_removed
        was_tracked = value is not None and not value.is_removed
        if changed:
            self._changes.append((key, Member(value.length if value else 0, False, True)))
        if was_tracked:
            self.members -= 1
        return is_indexer

    def info(self) -> Info:
        return Info(
            self.version,
            self.members,
            list(self.pending_indexers),
            [Checkout(i.key, i.length) for i in self.indexers],
            [Checkout(h.key, h.length) for h in self.heads],
            list(self.views),
            0,
            None,
        )

    def flush(self, view_keys: Sequence[bytes], view_lengths: Sequence[int]) -> list[tuple[bytes, bytes]]:
        """The puts of this flush (JS ``flush(views)``), in order; resets the pending changes."""
        puts: list[tuple[bytes, bytes]] = []
        written: dict[bytes, Member] = {}
        for key, value in self._changes:
            if key in self._clock_updates:
                continue
            puts.append((MEMBERS_PREFIX + key, encode(member, value)))
            written[key] = value
        for key, length in self._clock_updates.items():
            prev = self._get(key)
            value = Member(length, key in self._indexer_map, prev.is_removed if prev else True)
            puts.append((MEMBERS_PREFIX + key, encode(member, value)))
            written[key] = value
        self._clock_updates.clear()
        while len(self.mapped) < len(view_lengths):
            self.mapped.append(-1)
        max_index = max(self.mapped, default=-1)
        del self.views[max_index + 1 :]
        for i, length in enumerate(view_lengths):
            if not length:
                continue
            v = Checkout(view_keys[i], length)
            if self.mapped[i] != -1:
                self.views[self.mapped[i]] = v
            else:
                self.views.append(v)
                self.mapped[i] = len(self.views) - 1
        puts.append((INFO_KEY, encode(info, self.info())))
        self.db_members.update(written)
        # JS system.update(): the state is re-read from the info just written
        self._changes = []
        self.indexer_update = False
        self.indexers = [_Entry(i.key, i.length) for i in self.indexers]
        self.heads = [_Entry(h.key, h.length) for h in self.heads]
        self._indexer_map = {i.key: i for i in self.indexers}
        return puts

"""hyperpunch.hyperbee: Hyperbee 2.27.3, the append-only B-tree on a Hypercore.

Invariants: the blocks written for a sequence of operations are byte-identical to the ones JS
hyperbee writes (header, protobuf nodes, T=5 splits/merges/borrows, copy-on-write path indexes,
batch index compaction), and JS-written bees read back identically.

Layers, bottom up: :mod:`messages` (the protobuf codecs), :mod:`errors`, :mod:`tree` (in-memory
nodes and the split/merge/borrow logic, no IO), :mod:`batch` (one read/write pass over a version,
through the :class:`batch.BeeState` seam), :mod:`iterators` (range, history, diff),
:mod:`extension` (the ``hyperbee`` hypercore extension) and :mod:`bee` (the :class:`Hyperbee`
API).
"""

from __future__ import annotations

from hyperpunch.hyperbee.bee import BeeBatch, EntryWatcher, Hyperbee, Watcher
from hyperpunch.hyperbee.errors import (
    BeeClosedError,
    BlockNotAvailableError,
    CorruptTreeError,
    HyperbeeDecodingError,
    HyperbeeError,
    HyperbeeLocalError,
    HyperbeeRemoteError,
    ReadOnlyError,
)
from hyperpunch.hyperbee.iterators import DiffEntry, HistoryEntry
from hyperpunch.hyperbee.messages import Header, Metadata
from hyperpunch.hyperbee.tree import Entry

__all__ = [
    "BeeBatch",
    "BeeClosedError",
    "BlockNotAvailableError",
    "CorruptTreeError",
    "DiffEntry",
    "Entry",
    "EntryWatcher",
    "Header",
    "HistoryEntry",
    "Hyperbee",
    "HyperbeeDecodingError",
    "HyperbeeError",
    "HyperbeeLocalError",
    "HyperbeeRemoteError",
    "Metadata",
    "ReadOnlyError",
    "Watcher",
]

"""hyperpunch.autobase: multi-writer Autobase 7 (JS ``autobase`` 7.28.1).

Layers, lowest first:

* :mod:`~hyperpunch.autobase.messages`: every autobase encoding (writer-core oplog blocks,
  legacy layouts 0/1 included; checkpoints, digests, traces, wakeup hints, boot records, system
  info/member records, linearizer keys/updates, manifest data), byte-exact with JS.
* :mod:`~hyperpunch.autobase.keys`: base, discovery, system and view core keys (manifests signed
  by the indexers, autobase namespaces, entropy, prologues), equal to JS's.
* The sans-IO linearizer core: :mod:`~hyperpunch.autobase.clock`,
  :mod:`~hyperpunch.autobase.node` (the DAG node and the writer seam),
  :mod:`~hyperpunch.autobase.topolist` (the reorderable tip, ties to the lowest writer key),
  :mod:`~hyperpunch.autobase.consensus` (majority of indexers over vector clocks),
  :mod:`~hyperpunch.autobase.linearizer`; :mod:`~hyperpunch.autobase.system` (indexer
  bookkeeping), :mod:`~hyperpunch.autobase.apply_state` (undo/re-apply plans) and
  :mod:`~hyperpunch.autobase.replay` (writer blocks in, linearizer reboots on indexer changes).
* :mod:`~hyperpunch.autobase.memory`: in-memory writers and a DAG driver (the test harness).
* :mod:`~hyperpunch.autobase.base`: the async :class:`Autobase` over a Corestore (views in
  memory or on a Hypercore for a Hyperbee (:mod:`~hyperpunch.autobase.views`), their JS core
  identity, acks, writer removal);
  :mod:`~hyperpunch.autobase.encryption`: block encryption with ``encryption_key`` (JS's).
"""

from __future__ import annotations

from hyperpunch.autobase.base import Autobase, Host, ViewCoreInfo
from hyperpunch.autobase.errors import (
    AutobaseClosingError,
    AutobaseLocalError,
    AutobaseRemoteError,
    CorruptedDagError,
    EncryptionKeyError,
    NotWritableError,
)
from hyperpunch.autobase.linearizer import Linearizer
from hyperpunch.autobase.replay import Rebooted, Replayer
from hyperpunch.autobase.views import MemoryView, ViewStore

__all__ = [
    "Autobase",
    "AutobaseClosingError",
    "AutobaseLocalError",
    "AutobaseRemoteError",
    "CorruptedDagError",
    "EncryptionKeyError",
    "Host",
    "Linearizer",
    "MemoryView",
    "NotWritableError",
    "Rebooted",
    "Replayer",
    "ViewCoreInfo",
    "ViewStore",
]

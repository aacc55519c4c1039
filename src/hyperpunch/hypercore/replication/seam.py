"""The seams of replication: what the replicator needs of a core, what a peer needs of its
replicator, and the clock and timers the asyncio adapter lends them.

Invariants:

* The replication modules (:mod:`.replicator`, :mod:`.peer`, :mod:`.reorg`, :mod:`.apply`) reach a
  core only through :class:`ReplicatedCore` (satisfied by :class:`..core.Core`), a peer reaches its
  replicator only through :class:`PeerHost` (satisfied by :class:`.replicator.Replicator`), and
  time only through :class:`Scheduler` (satisfied by an asyncio event loop, or by a test's
  virtual clock). None of them imports asyncio or reads a clock of its own.
* Everything here is a declaration: no module of this package is imported by it except the data
  structures below it (tree, bitfield, storage, messages).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from hyperpunch.hypercore.bitfield import Bitfield
from hyperpunch.hypercore.merkle import MerkleTree, ProofLike, ReorgBatch
from hyperpunch.hypercore.messages import Data, Manifest
from hyperpunch.hypercore.storage import CoreHints, CoreStorage

__all__ = ["PeerHost", "ReplicatedCore", "Scheduler"]

P_contra = TypeVar("P_contra", contravariant=True)


class Scheduler(Protocol):
    """The clock and timers of the adapter (an asyncio loop has all three)."""

    def time(self) -> float:
        """Now, in seconds on a monotonic clock."""

    def call_soon(self, callback: Callable[[], None], /) -> object:
        """Run ``callback`` after the input being handled (one corked batch per burst)."""

    def call_later(self, delay: float, callback: Callable[[], None], /) -> object:
        """Run ``callback`` in ``delay`` seconds."""


class ReplicatedCore(Protocol):
    """What the replicator, its peers, reorgs and the burst apply need of a core."""

    key: bytes
    discovery_key: bytes
    manifest: Manifest | None
    tree: MerkleTree
    bitfield: Bitfield
    hints: CoreHints
    storage: CoreStorage

    @property
    def padding(self) -> int: ...

    @property
    def contiguous_length(self) -> int: ...

    def waits_for(self, index: int) -> bool:
        """Whether a ``get`` still waits for block ``index``."""

    def read_block(self, index: int) -> bytes | None:
        """Stored block ``index``, verified against the tree (``StorageCorruptError`` if damaged)."""

    def verify_and_apply(
        self, proof: ProofLike, *, manifest: Manifest | None = None, peer: Any = None
    ) -> bool:
        """Verify a peer's proof and store what it proves (see :meth:`..core.Core.verify_and_apply`)."""

    def start_reorg(self, proof: ProofLike, *, manifest: Manifest | None = None) -> ReorgBatch:
        """Begin moving onto a fork a peer's signed upgrade proof shows."""

    def apply_reorg(self, batch: ReorgBatch) -> bool:
        """Commit a finished reorg (``False``: the tree moved meanwhile)."""

    def on_blocks(self, start: int, end: int) -> None:
        """Blocks ``[start, end)`` were stored: wake their waiters."""

    def on_upload(self, index: int, byte_length: int, peer: Any) -> None: ...

    def on_peer(self, event: str, peer: Any) -> None: ...

    def on_extension(self, name: str, message: bytes, peer: Any) -> None: ...

    def emit(self, event: str, *args: Any) -> None:
        """A session event (``download``, ``verification-error``, ...)."""


class PeerHost(Protocol[P_contra]):
    """What a replication peer needs of its replicator (``P_contra``: the peer type)."""

    @property
    def core(self) -> ReplicatedCore: ...

    @property
    def stats(self) -> dict[str, int]: ...

    def time(self) -> float:
        """Now (stamps a request when it is sent)."""

    def defer(self, callback: Callable[[], None]) -> object:
        """Run ``callback`` after the current input (serving queued requests)."""

    def request_sent(self) -> None:
        """A request went out: make sure the request watchdog is armed."""

    def missing_nodes(self, index: int, length: int, expected: dict[int, int] | None = None) -> int: ...

    def add_peer(self, peer: P_contra) -> None: ...

    def remove_peer(self, peer: P_contra, was_open: bool) -> None: ...

    def on_sync(self, peer: P_contra) -> None: ...

    def on_data(self, peer: P_contra, data: Data) -> None: ...

    def on_no_data(self, peer: P_contra, rid: int) -> None: ...

    def on_remote_has(self, peer: P_contra, start: int) -> None: ...

"""Fork handling of the replicator (JS ``_updateFork``, ``_requestForkProof``, ``_requestForkRange``,
``_onreorgdata``, ``_applyReorg`` and ``core.reorg`` / ``session-state.reorg``).

Invariants:

* A :class:`ReorgTracker` owns every fork being verified (one :class:`ReorgState` per fork: the
  peer asked, the :class:`ReorgBatch` so far and the fork requests in flight). The replicator asks
  it for the next fork request (:meth:`ReorgTracker.next_request`) and hands it the answers
  (:meth:`ReorgTracker.receive`); it touches the core only through
  :class:`.seam.ReplicatedCore` (``start_reorg`` / ``apply_reorg``).
* A peer announcing a higher fork is asked once (per fork) for a fork proof: ``request{fork:
  remote fork, upgrade{start: 0, length: remote length}}``. The proof must verify as a
  :class:`ReorgBatch` *and* its signature must verify with the core's verifier, else the peer is
  treated as malicious (paused, nothing recorded).
* While the batch is not finished (the common ancestor is not found yet) we ask the same peer for
  the hashes it wants (``request{hash{index: 2 * i, nodes}}``), each answer bisecting further.
* A finished batch is applied atomically: blocks ``[ancestors, old length)`` are deleted, the new
  head (fork, length, roots, signature) is written, the tree moves, sessions see ``truncate`` then
  ``append``; peers get a sync with the new fork, and downloads resume on the new fork.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.errors import InvalidProofError, InvalidSignatureError
from hyperpunch.hypercore.merkle import ReorgBatch
from hyperpunch.hypercore.replication.peer import Peer, Req
from hyperpunch.hypercore.replication.seam import ReplicatedCore

__all__ = ["ReorgState", "ReorgTracker", "verify_reorg"]

log = logging.getLogger(__name__)


@dataclass(slots=True, eq=False)
class ReorgState:
    fork: int
    peer: Peer
    batch: ReorgBatch | None = None
    inflight: list[Req] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<Reorg fork={self.fork} finished={self.batch is not None and self.batch.finished}>"


class ReorgTracker:
    """The forks being verified, and their requests in flight (see the module docstring)."""

    __slots__ = ("core", "forks")

    def __init__(self, core: ReplicatedCore) -> None:
        self.core = core
        self.forks: dict[int, ReorgState] = {}

    @property
    def busy(self) -> bool:
        """A fork request is in flight."""
        return any(f.inflight for f in self.forks.values())

    def drop_peer(self, peer: Peer) -> None:
        for f in [f for f in self.forks.values() if f.peer is peer]:
            del self.forks[f.fork]

    def drop_request(self, req: Req) -> None:
        """``req`` failed (no data, timed out): it is no longer in flight."""
        f = self.forks.get(req.fork)
        if f is not None and req in f.inflight:
            f.inflight.remove(req)

    def next_request(self, peer: Peer, next_id: Callable[[], int]) -> Req | None:
        """The fork request to send ``peer`` now (JS ``_updateFork``), recorded as in flight; the
        caller registers and sends it. ``None``: nothing to ask."""
        core = self.core
        fork = peer.remote_fork
        if fork <= core.tree.fork or not peer.active or peer.remote_length == 0 or peer.fork_refused == fork:
            return None
        forks = self.forks
        for other in list(forks):
            if other > fork and forks[other].batch is not None:
                return None  # a newer fork is already being verified
        f = forks.get(fork)
        if f is None:
            f = forks[fork] = ReorgState(fork, peer)
        if f.inflight or (f.peer is not peer and f.batch is not None):
            return None
        f.peer = peer
        if f.batch is None:
            req = Req(
                next_id(),
                peer,
                fork,
                upgrade_start=0,
                upgrade_length=peer.remote_length,
                manifest=core.manifest is None,
                reorg=True,
            )
        else:
            want = f.batch.want
            if want is None:
                return None
            index = _pick_hash_index(peer, want.start, min(want.end, peer.remote_length))
            if index < 0:
                return None
            req = Req(next_id(), peer, fork, hash_index=2 * index, hash_nodes=want.nodes, reorg=True)
        f.inflight.append(req)
        return req

    def receive(self, peer: Peer, req: Req, data: m.Data) -> ReorgBatch | BaseException | None:
        """A fork proof (or bisection hash) arrived for ``req``.

        Returns the batch when the fork was applied to the core (the replicator then tells its
        peers), the error when the peer's proof is invalid, else ``None``.
        """
        forks = self.forks
        f = forks.get(req.fork)
        if f is not None and req in f.inflight:
            f.inflight.remove(req)
        if f is None or data.fork != req.fork:
            peer.fork_refused = req.fork  # it cannot prove the fork it announced: stop asking
            forks.pop(req.fork, None)
            return None
        try:
            if f.batch is None:
                if data.upgrade is None:
                    raise InvalidProofError("fork proof without an upgrade")
                f.batch = verify_reorg(self.core, data)
                for old in [k for k in forks if k < f.fork]:
                    del forks[old]
            elif not f.batch.update(data):
                raise InvalidProofError("fork bisection proof does not match")
        except Exception as err:
            forks.pop(req.fork, None)
            return err
        batch = f.batch
        if batch is None or not batch.finished:
            return None
        forks.pop(f.fork, None)
        try:
            if not self.core.apply_reorg(batch):
                raise InvalidProofError("tree changed while the fork was verified")
        except Exception as err:  # the tree moved under us: start over on the next sync
            log.warning("could not apply reorg to fork %d: %s", f.fork, err)
            return None
        return batch


def _pick_hash_index(peer: Peer, start: int, end: int) -> int:
    for i in range(start, end):
        if peer.has_block(i):
            return i
    return start if start < end else -1


def verify_reorg(core: ReplicatedCore, proof: m.Data) -> ReorgBatch:
    """JS ``core.verifyReorg``: the fork proof's tree, manifest and signature verify
    (:meth:`Core.start_reorg`)."""
    if proof.upgrade is None or proof.upgrade.signature is None:
        raise InvalidSignatureError("Fork proof carries no signature")
    return core.start_reorg(proof, manifest=proof.manifest)

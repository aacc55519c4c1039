"""Fork handling of the replicator (JS ``_updateFork``, ``_requestForkProof``, ``_requestForkRange``,
``_onreorgdata``, ``_applyReorg`` and ``core.reorg`` / ``session-state.reorg``).

Invariants:

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
from typing import TYPE_CHECKING

from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.errors import InvalidProofError, InvalidSignatureError
from hyperpunch.hypercore.merkle import ReorgBatch

if TYPE_CHECKING:
    from hyperpunch.hypercore.core import Core
    from hyperpunch.hypercore.peer import Peer
    from hyperpunch.hypercore.replicator import ReorgState, Replicator, Req

__all__ = ["apply_reorg", "on_reorg_data", "update_fork"]

log = logging.getLogger(__name__)


def update_fork(rep: Replicator, peer: Peer) -> None:
    """Start (or continue) moving to the fork ``peer`` announced."""
    from hyperpunch.hypercore.replicator import ReorgState, Req

    core = rep.core
    fork = peer.remote_fork
    if fork <= core.tree.fork or not peer.active or peer.remote_length == 0 or peer.fork_refused == fork:
        return
    for other in list(rep._reorgs):
        if other > fork and rep._reorgs[other].batch is not None:
            return  # a newer fork is already being verified
    f = rep._reorgs.get(fork)
    if f is None:
        f = rep._reorgs[fork] = ReorgState(fork, peer)
    if f.inflight or (f.peer is not peer and f.batch is not None):
        return
    f.peer = peer
    if f.batch is None:
        req = Req(
            rep._next_request_id(),
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
            return
        index = _pick_hash_index(peer, want.start, min(want.end, peer.remote_length))
        if index < 0:
            return
        req = Req(rep._next_request_id(), peer, fork, hash_index=2 * index, hash_nodes=want.nodes, reorg=True)
    rep._inflight[req.id] = req
    f.inflight.append(req)
    peer.send_request(req)


def _pick_hash_index(peer: Peer, start: int, end: int) -> int:
    for i in range(start, end):
        if peer.has_block(i):
            return i
    return start if start < end else -1


def on_reorg_data(rep: Replicator, peer: Peer, req: Req, data: m.Data) -> None:
    """A fork proof (or bisection hash) arrived for ``req``."""
    f = rep._reorgs.get(req.fork)
    if f is not None and req in f.inflight:
        f.inflight.remove(req)
    if f is None or data.fork != req.fork:
        peer.fork_refused = req.fork  # it cannot prove the fork it announced: stop asking
        rep._reorgs.pop(req.fork, None)
        rep._schedule_update()
        rep._check_upgrade_waiters()
        return
    core = rep.core
    try:
        if f.batch is None:
            if data.upgrade is None:
                raise InvalidProofError("fork proof without an upgrade")
            batch = verify_reorg(core, data)
            f.batch = batch
            for old in [k for k in rep._reorgs if k < f.fork]:
                del rep._reorgs[old]
        elif not f.batch.update(data):
            raise InvalidProofError("fork bisection proof does not match")
    except Exception as err:
        rep._reorgs.pop(req.fork, None)
        rep._on_invalid(peer, req, err)
        return
    if f.batch is not None and f.batch.finished:
        rep._reorgs.pop(f.fork, None)
        try:
            apply_reorg(rep, f.batch)
        except Exception as err:  # the tree moved under us: start over on the next sync
            log.warning("could not apply reorg to fork %d: %s", f.fork, err)
    rep._schedule_update()
    rep._check_upgrade_waiters()


def verify_reorg(core: Core, proof: m.Data) -> ReorgBatch:
    """JS ``core.verifyReorg``: the fork proof's tree, manifest and signature verify
    (:meth:`Core._start_reorg`)."""
    if proof.upgrade is None or proof.upgrade.signature is None:
        raise InvalidSignatureError("Fork proof carries no signature")
    return core._start_reorg(proof, manifest=proof.manifest)


def apply_reorg(rep: Replicator, batch: ReorgBatch) -> None:
    """Move the core onto the verified fork (:meth:`Core._apply_reorg`), then tell the peers."""
    core = rep.core
    if not core._apply_reorg(batch):
        raise InvalidProofError("tree changed while the fork was verified")
    rep.on_truncate(batch.ancestors, batch.fork)


def reorg_state_repr(f: ReorgState) -> str:
    return f"<Reorg fork={f.fork} finished={f.batch is not None and f.batch.finished}>"

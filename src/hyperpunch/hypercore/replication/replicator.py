"""The replicator of one core (JS ``lib/replicator.js`` ``Replicator``): peers, what to fetch, from whom.

Invariants:

* One :class:`Replicator` per :class:`Core` (``core.replicator``), any number of :class:`Peer` s
  (one per protomux stream). It implements the core's :class:`..core.Replicator` hooks: told of
  appends / truncations / clears, asked for blocks (``want_block``), ranges (``want_range``) and
  upgrades (``want_upgrade``).
* Synchronous and sans-IO: every wire event is handled at once; refilling request pipelines and
  serving queued requests run in ``defer`` callbacks (the :class:`.seam.Scheduler`'s
  ``call_soon``, so a burst of frames read in one go is answered with one corked batch). Time comes
  only from the scheduler (``time()`` stamps requests, ``call_later`` drives the request
  watchdog); without a scheduler deferred work runs at once and requests never time out.
* A request id is never reused while its request is in flight; each block is requested from at
  most one peer at a time; a request that fails (noData, bad data, peer gone) puts its block back
  in the pool (every peer's scan cursor rewinds to it).
* Data is stored only through :meth:`Core.verify_and_apply` (hashes, signature, manifest checked);
  a peer whose data fails verification is paused and never asked again on this channel.
* The pipeline per peer adapts: it starts at ``DEFAULT_INFLIGHT[0]`` requests in flight, widens by
  one per block received while full (up to ``DEFAULT_INFLIGHT[1]``) and halves on failures.
* Forks: a peer announcing a higher fork is asked for a fork proof (``upgrade{start: 0}``); once
  the :class:`ReorgBatch` is complete and its signature verifies, the core is truncated to the
  common ancestor and upgraded to the new fork (:class:`.reorg.ReorgTracker` owns that state).
* Plain block proofs received in one burst are verified one by one and stored in one write
  (:mod:`.apply`); proofs carrying an upgrade go through ``verify_and_apply`` alone.

The seams: the core is a :class:`.seam.ReplicatedCore`; this class is the
:class:`.seam.PeerHost` of its :class:`.peer.Peer` s and the :class:`..core.Replicator` of its core.

Not implemented (JS has them): seek requests as a client (we do serve them), push mode
(``allowPush``), hotswaps of slow requests between peers, idle channel closing
(we always announce ``downloading``), the remote-wants gating of range broadcasts (we always send).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hyperpunch.hypercore import flat_tree as flat
from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.errors import HypercoreLocalError
from hyperpunch.hypercore.replication.apply import apply_block_proofs
from hyperpunch.hypercore.replication.peer import Peer, Req
from hyperpunch.hypercore.replication.protocol import PROTOCOL, PROTOCOL_ALIASES, local_capability
from hyperpunch.hypercore.replication.reorg import ReorgTracker
from hyperpunch.hypercore.replication.seam import ReplicatedCore, Scheduler

__all__ = ["RangeWant", "Replicator"]

log = logging.getLogger(__name__)

MAX_PEERS_UPGRADE = 3
STORAGE_RETRY = 1.0  # seconds requests pause after storing data failed here (a full disk)


@dataclass(slots=True, eq=False)
class RangeWant:
    id: int
    start: int
    end: int | None  # None: follow the length (live)


def _immediate(cb: Callable[[], None]) -> None:
    cb()


class Replicator:
    """Replication of one core over any number of peers (see the module docstring)."""

    def __init__(
        self,
        core: ReplicatedCore,
        *,
        scheduler: Scheduler | None = None,
        defer: Callable[[Callable[[], None]], object] | None = None,
        eager_upgrade: bool = True,
        allow_fork: bool = True,
        request_timeout: float = 20.0,
    ) -> None:
        self.core = core
        self.scheduler = scheduler
        if defer is None:
            defer = _immediate if scheduler is None else scheduler.call_soon
        self.defer = defer
        self.request_timeout = request_timeout
        self._watchdog_armed = False
        self.eager_upgrade = eager_upgrade
        self.allow_fork = allow_fork
        self._peers: list[Peer] = []
        self._all_peers: list[Peer] = []
        self._pending_open = 0
        self._next_id = 1
        self._inflight: dict[int, Req] = {}
        self._block_inflight: dict[int, Req] = {}
        self._wanted: dict[int, int] = {}
        self._ranges: dict[int, RangeWant] = {}
        self._next_range = 1
        self._upgrade_inflight: Req | None = None
        self._manifest_inflight: Req | None = None
        self._upgrade_waiters: list[tuple[Callable[[bool], None], int, int]] = []
        self.reorgs = ReorgTracker(core)
        self._pending_data: list[tuple[Peer, Req, m.Data]] = []
        self._node_memo: dict[int, bool] = {}  # tree node present? (valid during one update run)
        self._update_scheduled = False
        self._storage_failed = False  # storing failed here: requests pause (see _on_storage_failure)
        self.closed = False
        self.peer_factory: type[Peer] = Peer
        self.stats = {"invalid_data": 0, "invalid_requests": 0, "downloaded": 0, "uploaded": 0}

    def time(self) -> float:
        """The scheduler's clock (0.0 without one: requests then never time out)."""
        return 0.0 if self.scheduler is None else self.scheduler.time()

    # --- the core's hooks ------------------------------------------------------------------------

    @property
    def peers(self) -> Sequence[Peer]:
        return self._peers

    def on_append(self, start: int, length: int) -> None:
        for peer in self._peers:
            peer.mux.cork()
            try:
                peer.broadcast_range(start, length, False)
                peer.signal_upgrade()
            finally:
                peer.mux.uncork()
        self._check_upgrade_waiters()
        self._schedule_update()

    def on_truncate(self, length: int, fork: int) -> None:
        for req in self._inflight.values():
            if req.expects is not None:
                req.peer.release_expected(req)  # nodes of the old tree: nothing to count on
        for peer in self._peers:
            peer.fully_downloaded_signaled = min(peer.fully_downloaded_signaled, length)
            for rid in list(peer.range_cursors):
                peer.range_cursors[rid] = min(peer.range_cursors[rid], length)
            peer.signal_upgrade()
        self._check_upgrade_waiters()
        self._schedule_update()

    def on_clear(self, start: int, end: int) -> None:
        for peer in self._peers:
            peer.broadcast_range(start, end - start, True)
        self._rewind(start)

    def want_block(self, index: int) -> None:
        self._wanted[index] = self._wanted.get(index, 0) + 1
        self._schedule_update()

    def want_range(self, start: int, end: int | None) -> None:
        rid = self._next_range
        self._next_range += 1
        self._ranges[rid] = RangeWant(rid, start, end)
        self._schedule_update()

    def want_upgrade(self, done: Callable[[bool], None]) -> None:
        """Call ``done(True)`` once a peer upgraded us, ``done(False)`` once no peer can (JS
        ``update()``; the session wraps it in a future)."""
        if self.closed or (not self._peers and self._pending_open == 0):
            done(False)
            return
        tree = self.core.tree
        self._upgrade_waiters.append((done, tree.length, tree.fork))
        self._schedule_update()

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        waiters, self._upgrade_waiters = self._upgrade_waiters, []
        for done, _, _ in waiters:
            done(False)
        for peer in list(self._all_peers):
            peer.close()

    # --- attaching -------------------------------------------------------------------------------

    def attach(
        self,
        mux: Any,
        *,
        is_initiator: bool,
        handshake_hash: bytes,
        remote_public_key: bytes | None = None,
    ) -> Peer | None:
        """Open the ``hypercore/alpha`` channel for this core on ``mux`` (a Protomux or ProtomuxCore)."""
        core = self.core
        if mux.opened(PROTOCOL, core.discovery_key):
            return None
        peer = self.peer_factory(
            self,
            mux,
            is_initiator=is_initiator,
            handshake_hash=handshake_hash,
            remote_public_key=remote_public_key,
        )
        channel = mux.create_channel(
            PROTOCOL,
            id=core.discovery_key,
            aliases=PROTOCOL_ALIASES,
            handshake=m.handshake,
            messages=peer.message_specs(),
            on_open=peer.on_open,
            on_close=peer.on_close,
            on_drain=peer.on_drain,
            user_data=peer,
        )
        if channel is None:
            return None
        peer.attach_channel(channel)
        self._pending_open += 1
        self._all_peers.append(peer)
        channel.open(m.Handshake(local_capability(handshake_hash, is_initiator, core.key), seeks=True))
        return peer

    def add_peer(self, peer: Peer) -> None:
        self._pending_open -= 1
        self._peers.append(peer)
        self.core.on_peer("peer-add", peer)
        self._schedule_update()

    def remove_peer(self, peer: Peer, was_open: bool) -> None:
        if peer in self._all_peers:
            self._all_peers.remove(peer)
        if not was_open:
            self._pending_open -= 1
            self._check_upgrade_waiters()
            return
        if peer in self._peers:
            self._peers.remove(peer)
        for req in [r for r in self._inflight.values() if r.peer is peer]:
            self._clear_request(req)
        self.reorgs.drop_peer(peer)
        self.core.on_peer("peer-remove", peer)
        self._check_upgrade_waiters()
        self._schedule_update()

    # --- scheduling ------------------------------------------------------------------------------

    def _schedule_update(self) -> None:
        if not self._update_scheduled and not self.closed:
            self._update_scheduled = True
            self.defer(self._run_update)

    def _run_update(self) -> None:
        self._update_scheduled = False
        if self.closed or self._storage_failed:
            return
        self._flush_data()
        self._node_memo.clear()
        self._gc_wants()
        for peer in list(self._peers):
            self._update_peer(peer)
        self._check_upgrade_waiters()

    def _gc_wants(self) -> None:
        core = self.core
        bits = core.bitfield
        if self._wanted:
            waits_for = core.waits_for
            for index in [i for i in self._wanted if bits.get(i) or not waits_for(i)]:
                del self._wanted[index]
        if self._ranges:
            length = core.tree.length
            done = [
                r.id
                for r in self._ranges.values()
                if r.end is not None and r.end <= length and bits.first_unset(r.start) >= r.end
            ]
            for rid in done:
                del self._ranges[rid]

    def missing_nodes(self, index: int, length: int, expected: dict[int, int] | None = None) -> int:
        """JS ``MerkleTree.missingNodes``: how many ancestors of tree node ``index`` (up to the
        roots of ``length``) we lack, memoised for the current update run. Nodes in ``expected``
        (brought by proofs already requested from the same peer, which answers in order) count
        as present: their proofs are verified before this one, in the same or an earlier write."""
        head = 2 * length
        ite = flat.Iterator(index)
        if ite.index + (ite.factor >> 1) - 1 >= head:
            return 0
        memo = self._node_memo
        get = self.core.tree.get
        cnt = 0
        while not ite.contains(head):
            i = ite.index
            if expected and i in expected:
                break
            present = memo.get(i)
            if present is None:
                present = memo[i] = get(i) is not None
            if present or cnt >= 64:
                break
            cnt += 1
            ite.parent()
        return cnt

    def _next_request_id(self) -> int:
        rid = self._next_id
        self._next_id = rid + 1 if rid < 0xFFFFFFFF else 1
        while self._next_id in self._inflight:
            self._next_id += 1
        return rid

    def _update_peer(self, peer: Peer) -> None:
        if not peer.active or not peer.remote_synced:
            return
        core = self.core
        tree = core.tree
        mux = peer.mux
        mux.cork()
        try:
            if peer.remote_fork > tree.fork:
                if self.allow_fork:
                    self._update_fork(peer)
                return
            if peer.remote_fork != tree.fork or not peer.remote_uploading:
                return
            wants_upgrade = self.eager_upgrade or bool(self._upgrade_waiters) or bool(self._wanted)
            if self._upgrade_inflight is None and wants_upgrade and self._should_upgrade(peer):
                self._send_upgrade(peer)
            elif (
                core.manifest is None
                and peer.remote_has_manifest
                and self._manifest_inflight is None
                and self._upgrade_inflight is None
                and not peer.manifest_refused
            ):
                self._send_manifest_request(peer)
            if self._wanted:
                self._request_wanted(peer)
            if self._ranges:
                for r in list(self._ranges.values()):
                    if peer.inflight >= peer.max_inflight:
                        break
                    self._fill_range(peer, r)
            peer.saturated = peer.inflight >= peer.max_inflight
        finally:
            mux.uncork()

    def _should_upgrade(self, peer: Peer) -> bool:
        tree = self.core.tree
        return (
            peer.remote_can_upgrade
            and peer.remote_fork == tree.fork
            and peer.remote_length > tree.length
            and peer.length_acked == tree.length
            and peer.upgrade_refused != (peer.remote_fork, peer.remote_length)
        )

    def _can_request(self, peer: Peer, index: int) -> bool:
        tree = self.core.tree
        if peer.remote_length >= tree.length:
            return True
        if index < peer.last_upgradable_length and peer.last_upgradable_fork == tree.fork:
            return True
        return peer.can_upgrade

    def _valid_end(self, peer: Peer, end: int) -> int:
        tree = self.core.tree
        if peer.can_upgrade or peer.remote_length >= tree.length:
            max_local = tree.length
        elif tree.fork == peer.last_upgradable_fork:
            max_local = min(peer.last_upgradable_length, tree.length)
        else:
            max_local = 0
        return min(max_local, end, peer.remote_length)

    def _send_upgrade(self, peer: Peer) -> None:
        core = self.core
        tree = core.tree
        req = Req(
            self._next_request_id(),
            peer,
            peer.remote_fork,
            upgrade_start=tree.length,
            upgrade_length=peer.remote_length - tree.length,
            manifest=core.manifest is None and peer.remote_has_manifest,
        )
        self._inflight[req.id] = req
        self._upgrade_inflight = req
        peer.send_request(req)

    def _send_manifest_request(self, peer: Peer) -> None:
        req = Req(self._next_request_id(), peer, peer.remote_fork, manifest=True)
        self._inflight[req.id] = req
        self._manifest_inflight = req
        peer.send_request(req)

    def _send_block(self, peer: Peer, index: int) -> None:
        req = Req(self._next_request_id(), peer, self.core.tree.fork, index=index)
        self._inflight[req.id] = req
        self._block_inflight[index] = req
        peer.send_request(req)

    def _request_wanted(self, peer: Peer) -> None:
        core = self.core
        bits = core.bitfield
        length = core.tree.length
        inflight = self._block_inflight
        for index in list(self._wanted):
            if peer.inflight >= peer.max_inflight:
                return
            if index in inflight or index >= length or bits.get(index):
                continue
            if index in peer.refused:
                continue
            if not peer.has_block(index) or index >= peer.remote_length:
                peer.maybe_want(index)
                continue
            if not self._can_request(peer, index):
                continue
            self._send_block(peer, index)

    def _fill_range(self, peer: Peer, r: RangeWant) -> None:
        core = self.core
        tree_length = core.tree.length
        end = tree_length if r.end is None else min(r.end, tree_length)
        valid_end = self._valid_end(peer, end)
        cursors = peer.range_cursors
        cur = cursors.get(r.id, r.start)
        if cur < r.start:
            cur = r.start
        bits = core.bitfield
        inflight = self._block_inflight
        refused = peer.refused
        remote_bits = peer.remote_bitfield
        while peer.inflight < peer.max_inflight:
            i = bits.first_unset(cur)
            if i >= valid_end:
                cur = max(cur, min(i, valid_end))
                break
            if i in inflight or i in refused:
                cur = i + 1
                continue
            if i >= peer.remote_contiguous and not remote_bits.get(i):
                peer.maybe_want(i)
                j = remote_bits.first_set(i)
                if j == -1 or j >= valid_end:
                    cur = valid_end
                    break
                cur = j
                continue
            self._send_block(peer, i)
            cur = i + 1
        cursors[r.id] = cur

    def _rewind(self, index: int) -> None:
        """Block ``index`` is wanted again: every peer's range scans must revisit it."""
        for peer in self._peers:
            cursors = peer.range_cursors
            for rid, cur in cursors.items():
                if cur > index:
                    cursors[rid] = index

    # --- request timeouts --------------------------------------------------------------------------

    def request_sent(self) -> None:
        """A peer sent a request: arm the watchdog (every ``request_timeout / 2`` seconds)."""
        if self._watchdog_armed or self.scheduler is None or self.closed:
            return
        self._watchdog_armed = True
        self.scheduler.call_later(self.request_timeout / 2, self._watchdog)

    def _watchdog(self) -> None:
        self._watchdog_armed = False
        if self.closed:
            return
        self.tick(self.time())
        if self._inflight:
            self.request_sent()

    def tick(self, now: float) -> None:
        """Give up on requests unanswered for ``request_timeout`` seconds (sans-IO: the watchdog
        calls this from the scheduler's timer; tests may call it with any ``now``). The block goes
        back to the pool; a peer that keeps stalling is paused."""
        limit = now - self.request_timeout
        stale = [r for r in self._inflight.values() if r.sent <= limit]
        for req in stale:
            peer = req.peer
            self._clear_request(req)
            if peer.channel is not None and not peer.channel.closed:
                peer.send_cancel(req.id)
            peer.stalls += 1
            if peer.stalls >= 8:
                peer.paused = True
            if req.index >= 0:
                peer.refused.add(req.index)
            if req.upgrade_length:
                peer.upgrade_refused = (peer.remote_fork, peer.remote_length)
            if req.manifest and req.index < 0 and not req.upgrade_length:
                peer.manifest_refused = True
            if req.reorg:
                peer.fork_refused = req.fork
                self.reorgs.drop_request(req)
            peer.shrink_window()
        if stale:
            self._schedule_update()
            self._check_upgrade_waiters()

    # --- responses -------------------------------------------------------------------------------

    def _take_request(self, peer: Peer, rid: int) -> Req | None:
        req = self._inflight.get(rid) if rid else None
        if req is None or req.peer is not peer:
            return None
        del self._inflight[rid]
        peer.inflight -= 1
        if req.expects is not None:
            peer.release_expected(req)
        if req.index >= 0 and self._block_inflight.get(req.index) is req:
            del self._block_inflight[req.index]
        if self._upgrade_inflight is req:
            self._upgrade_inflight = None
        if self._manifest_inflight is req:
            self._manifest_inflight = None
        return req

    def _clear_request(self, req: Req) -> None:
        """Forget an inflight request whose answer will never count (peer gone)."""
        if self._inflight.get(req.id) is req:
            del self._inflight[req.id]
            req.peer.inflight -= 1
            if req.expects is not None:
                req.peer.release_expected(req)
        if req.index >= 0 and self._block_inflight.get(req.index) is req:
            del self._block_inflight[req.index]
            self._rewind(req.index)
        if self._upgrade_inflight is req:
            self._upgrade_inflight = None
        if self._manifest_inflight is req:
            self._manifest_inflight = None

    def on_no_data(self, peer: Peer, rid: int) -> None:
        req = self._take_request(peer, rid)
        if req is None:
            self._schedule_update()
            return
        self._on_no_data_req(peer, req)

    def _on_no_data_req(self, peer: Peer, req: Req) -> None:
        if req.manifest and req.index < 0 and not req.upgrade_length:
            peer.manifest_refused = True
        if req.index >= 0:
            peer.refused.add(req.index)
            self._rewind(req.index)
        if req.upgrade_length:
            peer.upgrade_refused = (peer.remote_fork, peer.remote_length)
        if req.reorg:
            peer.fork_refused = req.fork
            self.reorgs.drop_request(req)
        peer.shrink_window()
        self._schedule_update()
        self._check_upgrade_waiters()

    def _on_invalid(self, peer: Peer, req: Req | None, err: BaseException) -> None:
        peer.invalid_data += 1
        self.stats["invalid_data"] += 1
        peer.paused = True
        log.warning("invalid data from %r: %s", peer, err)
        if req is not None and req.index >= 0:
            self._rewind(req.index)
        # everything this peer still holds goes back to the pool
        for other in [r for r in self._inflight.values() if r.peer is peer]:
            self._clear_request(other)
        self.core.emit("verification-error", err, peer)
        self._schedule_update()
        self._check_upgrade_waiters()

    def on_data(self, peer: Peer, data: m.Data) -> None:
        req = self._take_request(peer, data.request)
        if req is None:
            return  # unsolicited (push is not enabled) or someone else's id
        if req.reorg:
            self._flush_data()
            self._on_reorg_data(peer, req, data)
            return
        if not _matches(req, data):
            # JS treats an answer that does not match its request as noData (no penalty)
            self._on_no_data_req(peer, req)
            return
        core = self.core
        tree = core.tree
        if (
            data.upgrade is None
            and data.block is not None
            and data.manifest is None
            and data.fork == tree.fork
            and not peer.paused
        ):
            # plain block proofs are verified and stored together, in one write per burst
            self._pending_data.append((peer, req, data))
            self._schedule_update()
            return
        self._flush_data()
        old_length, old_fork = tree.length, tree.fork
        try:
            ok = core.verify_and_apply(data, manifest=data.manifest, peer=peer)
        except HypercoreLocalError as err:  # our disk (full, failing), not the peer
            self._on_storage_failure(err, [req])
            return
        except Exception as err:  # a remote fault: bad proof / signature / manifest / encoding
            self._on_bad_proof(peer, req, err)
            return
        self._after_block(peer, req, data, ok)
        if tree.length != old_length or tree.fork != old_fork:
            for p in self._peers:
                p.signal_upgrade()
            self._check_upgrade_waiters()
        self._schedule_update()

    def _flush_data(self) -> None:
        """Verify and store the block proofs received since the last run (one write per pass).

        A proof built on a node an earlier request brings (``req.depends``) may arrive first (JS
        answers requests out of order): it is retried after the others of the burst, and kept
        for the next run while that node is still expected from the peer.
        """
        items = self._pending_data
        if not items:
            return
        self._pending_data = []
        core = self.core
        while True:
            try:
                results = apply_block_proofs(core, [(data, peer) for peer, _, data in items])
            except HypercoreLocalError as err:  # our disk (full, failing), not the peer
                self._on_storage_failure(err, [req for _, req, _ in items])
                return
            retry: list[tuple[Peer, Req, m.Data]] = []
            progress = False
            for item, res in zip(items, results, strict=True):
                peer, req, data = item
                if isinstance(res, BaseException):
                    if req.depends >= 0 and getattr(res, "code", None) == "INVALID_OPERATION":
                        retry.append(item)
                    else:
                        self._on_bad_proof(peer, req, res)
                else:
                    progress = progress or res
                    self._after_block(peer, req, data, res)
            if not retry or not progress:
                break
            items = retry
        for item in retry:
            peer, req, _ = item
            if req.depends in peer.expected and peer.active and len(self._pending_data) < 65536:
                self._pending_data.append(item)  # its base is still on the way
            elif req.index >= 0:
                self._rewind(req.index)
                self._schedule_update()

    def _on_storage_failure(self, err: HypercoreLocalError, reqs: list[Req]) -> None:
        """Storing verified data failed here (a full disk): nothing was stored; the blocks are
        wanted again, and requests pause for ``STORAGE_RETRY`` seconds (then try again, so a
        download continues once space is freed). Sessions get a ``storage-error`` event."""
        log.warning("storing replicated data failed: %s", err)
        for req in reqs:
            if req.index >= 0:
                self._rewind(req.index)
        self.core.emit("storage-error", err)
        if self.scheduler is None or self._storage_failed:
            return
        self._storage_failed = True

        def resume() -> None:
            self._storage_failed = False
            self._schedule_update()

        self.scheduler.call_later(STORAGE_RETRY, resume)

    def _on_bad_proof(self, peer: Peer, req: Req, err: BaseException) -> None:
        if getattr(err, "code", None) == "INVALID_OPERATION":
            # the node the proof builds on is not stored: an earlier request it counted on failed,
            # or a clear / truncate raced it. Ask again; a peer doing this a lot is paused.
            peer.stalls += 1
            if peer.stalls >= 64:
                peer.paused = True
            if req.index >= 0:
                self._rewind(req.index)
            self._schedule_update()
            return
        self._on_invalid(peer, req, err)

    def _after_block(self, peer: Peer, req: Req, data: m.Data, ok: bool) -> None:
        block = data.block
        if block is None:
            return
        index = block.index
        if ok:
            self.stats["downloaded"] += 1
            self._wanted.pop(index, None)
            peer.grow_window()
            for p in self._peers:
                p.broadcast_range(index, 1, False)
        elif not self.core.bitfield.get(index):
            self._rewind(index)

    def on_sync(self, peer: Peer) -> None:
        peer.refused.clear()
        if peer.remote_fork > self.core.tree.fork and self.allow_fork:
            self._update_fork(peer)
        self._schedule_update()
        self._check_upgrade_waiters()

    def on_remote_has(self, peer: Peer, start: int) -> None:
        peer.refused.clear()
        cursors = peer.range_cursors
        for rid, cur in cursors.items():
            if cur > start:
                cursors[rid] = start
        self._schedule_update()

    # --- upgrades (update()) ---------------------------------------------------------------------

    def _check_upgrade_waiters(self) -> None:
        waiters = self._upgrade_waiters
        if not waiters:
            return
        tree = self.core.tree
        keep = []
        upgraded = []
        for waiter in waiters:
            _, length, fork = waiter
            if tree.length != length or tree.fork != fork:
                upgraded.append(waiter[0])
            else:
                keep.append(waiter)
        self._upgrade_waiters = keep
        for done in upgraded:
            done(True)
        if not keep or not self._nothing_to_upgrade():
            return
        self._upgrade_waiters = []
        for done, _, _ in keep:
            done(False)

    def _nothing_to_upgrade(self) -> bool:
        """JS ``_checkUpgradeIfAvailable``: no peer will (or may still) give us a longer core."""
        if self._pending_open > 0 and len(self._peers) < MAX_PEERS_UPGRADE:
            return False
        if self._upgrade_inflight is not None or self.reorgs.busy:
            return False
        tree = self.core.tree
        for peer in self._peers[:MAX_PEERS_UPGRADE]:
            if not peer.active:
                continue
            if not peer.remote_synced:
                return False
            if peer.remote_fork > tree.fork and self.allow_fork and peer.fork_refused != peer.remote_fork:
                return False
            if peer.remote_length <= tree.length or peer.remote_fork != tree.fork:
                continue
            if peer.upgrade_refused == (peer.remote_fork, peer.remote_length):
                continue
            if peer.length_acked != tree.length:
                return False
            if peer.remote_can_upgrade:
                return False
        return True

    # --- forks -----------------------------------------------------------------------------------

    def _update_fork(self, peer: Peer) -> None:
        """Start (or continue) moving to the fork ``peer`` announced."""
        req = self.reorgs.next_request(peer, self._next_request_id)
        if req is not None:
            self._inflight[req.id] = req
            peer.send_request(req)

    def _on_reorg_data(self, peer: Peer, req: Req, data: m.Data) -> None:
        out = self.reorgs.receive(peer, req, data)
        if isinstance(out, BaseException):
            self._on_invalid(peer, req, out)
            return
        if out is not None:  # the core moved onto the fork: tell the peers
            self.on_truncate(out.ancestors, out.fork)
        self._schedule_update()
        self._check_upgrade_waiters()


def _matches(req: Req, data: m.Data) -> bool:
    """JS ``_matchingRequest``: the data answers what was asked, nothing else."""
    if data.block is not None and data.block.index != req.index:
        return False
    if data.hash is not None and data.hash.index != req.hash_index:
        return False
    if data.seek is not None:
        return False
    if data.upgrade is not None and not req.upgrade_length:
        return False
    return data.fork == req.fork

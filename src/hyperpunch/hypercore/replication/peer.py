"""One replication peer: the ``hypercore/alpha`` channel state machine (JS ``Peer`` in
``lib/replicator.js``).

Invariants:

* Synchronous and sans-IO: every handler runs to completion on the message it was given; sends go
  through the protomux channel (itself sans-IO); deferred work (serving queued requests, refilling
  the request pipeline) is handed to the replicator's ``defer`` (``loop.call_soon`` under asyncio).
  A peer reaches its replicator only through :class:`.seam.PeerHost`, and the core only through
  :class:`.seam.ReplicatedCore`.
* Nothing a remote says is trusted for storage: claims (sync lengths, ranges, bitfields) only steer
  which requests we send; data is stored only after :meth:`Core.verify_and_apply` accepted it.
  A peer that sends data that does not verify is *paused* (we stop asking it) and every request it
  held goes back to the pool for honest peers. Absurd numbers are clamped or answered with
  ``noData(INVALID_REQUEST)``; 64 invalid requests close the channel (JS ``MAX_INVALID_REQUESTS``).
* The capability check happens in ``on_open`` before anything else is accepted from the remote;
  a wrong capability raises :class:`InvalidCapabilityError`, which destroys the mux (as in JS).
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hyperpunch.hypercore import flat_tree as flat
from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.errors import HypercoreError, InvalidCapabilityError, StorageCorruptError
from hyperpunch.hypercore.manifest import is_compat
from hyperpunch.hypercore.replication.protocol import (
    DEFAULT_INFLIGHT,
    INVALID_REQUEST,
    MAX_BACKOFFS,
    MAX_INVALID_REQUESTS,
    MAX_REMOTE_CLAIM,
    NOT_AVAILABLE,
    WANT_BATCH,
    RemoteBitfield,
    expected_remote_capability,
)
from hyperpunch.hypercore.replication.seam import PeerHost
from hyperpunch.protomux.channel import Channel, MessageSpec

__all__ = ["Peer", "Req"]

log = logging.getLogger(__name__)

_SERVE_BATCH_BYTES = 512 * 1024  # uncork after this many bytes of data replies


@dataclass(slots=True, eq=False)
class Req:
    """One request we sent (the JS request object)."""

    id: int
    peer: Peer
    fork: int
    index: int = -1
    hash_index: int = -1
    hash_nodes: int = 0
    upgrade_start: int = 0
    upgrade_length: int = 0
    manifest: bool = False
    reorg: bool = False
    sent: float = 0.0
    expects: list[int] | None = None  # tree nodes its proof will bring (see Peer.expected)
    depends: int = -1  # the tree node its proof builds on that an earlier request brings


class Peer:
    """Replication state for one remote on one core (see the module docstring)."""

    def __init__(
        self,
        replicator: PeerHost[Peer],
        mux: Any,
        *,
        is_initiator: bool,
        handshake_hash: bytes,
        remote_public_key: bytes | None = None,
    ) -> None:
        self.replicator = replicator
        self.core = replicator.core
        self.mux = mux
        self.is_initiator = is_initiator
        self.handshake_hash = handshake_hash
        self.remote_public_key = remote_public_key
        self.channel: Channel | None = None

        self.remote_opened = False
        self.removed = False
        self.paused = False
        self.remote_supports_seeks = False

        self.remote_fork = 0
        self.remote_length = 0
        self.remote_can_upgrade = False
        self.remote_uploading = True
        self.remote_downloading = True
        self.remote_synced = False
        self.remote_has_manifest = False
        self.remote_allow_push = False

        self.can_upgrade = True
        self.last_upgradable_length = 0
        self.last_upgradable_fork = 0
        self.length_acked = 0

        self.remote_contiguous = 0
        self.remote_bitfield = RemoteBitfield()
        self.fully_downloaded_signaled = 0

        self.inflight = 0
        self.max_inflight = float(DEFAULT_INFLIGHT[0])
        self.saturated = False  # the last refill stopped at max_inflight
        self.range_cursors: dict[int, int] = {}
        self.expected: dict[int, int] = {}  # tree node -> inflight requests whose proofs bring it
        self.wanted_batches: set[int] = set()
        self.refused: set[int] = set()  # blocks this peer answered noData for (until it syncs again)
        self.upgrade_refused: tuple[int, int] = (-1, -1)
        self.manifest_refused = False
        self.fork_refused = (
            -1
        )  # a fork it announced but could not prove  # (fork, length) it could not upgrade us to

        self._queue: deque[m.Request] = deque()
        self._queued_ids: dict[int, m.Request] = {}
        self._serving_scheduled = False

        self.invalid_data = 0
        self.stalls = 0
        self.invalid_requests = 0
        self.backoffs = 0
        self.not_available = 0
        self.last_extension_sent = ""
        self.last_extension_recv = ""

    # --- wiring ----------------------------------------------------------------------------------

    def message_specs(self) -> list[Any]:
        handlers: list[Callable[[Any, Any], object]] = [
            self.on_sync,
            self.on_request,
            self.on_cancel,
            self.on_data,
            self.on_no_data,
            self.on_want,
            self.on_unwant,
            self.on_bitfield,
            self.on_range,
            self.on_extension,
        ]
        return [MessageSpec(codec, on_message=h) for codec, h in zip(m.WIRE_MESSAGES, handlers, strict=True)]

    def attach_channel(self, channel: Channel) -> None:
        self.channel = channel
        msgs = channel.messages
        self._w_sync = msgs[0]
        self._w_request = msgs[1]
        self._w_cancel = msgs[2]
        self._w_data = msgs[3]
        self._w_no_data = msgs[4]
        self._w_want = msgs[5]
        self._w_unwant = msgs[6]
        self._w_bitfield = msgs[7]
        self._w_range = msgs[8]
        self._w_extension = msgs[9]

    @property
    def active(self) -> bool:
        return self.remote_opened and not self.paused and not self.removed

    def has_block(self, index: int) -> bool:
        """The remote claims block ``index`` (JS ``_remoteHasBlock``)."""
        return index < self.remote_contiguous or self.remote_bitfield.get(index)

    @property
    def remote_contiguous_length(self) -> int:
        return self.remote_bitfield.first_unset(self.remote_contiguous)

    def __repr__(self) -> str:
        pk = self.remote_public_key.hex()[:8] if self.remote_public_key else "?"
        return f"<Peer {pk} fork={self.remote_fork} length={self.remote_length} inflight={self.inflight}>"

    # --- channel lifecycle -----------------------------------------------------------------------

    def on_open(self, handshake: m.Handshake, _ch: object) -> None:
        expected = expected_remote_capability(self.handshake_hash, self.is_initiator, self.core.key)
        if handshake is None or handshake.capability != expected:
            raise InvalidCapabilityError("Remote sent an invalid replication capability")
        if self.remote_opened:
            return
        self.remote_opened = True
        self.remote_supports_seeks = handshake.seeks
        self.mux.cork()
        try:
            self.send_sync()
            core = self.core
            contig = core.contiguous_length
            if contig > 0:
                self.broadcast_range(0, contig, False)
            self.replicator.add_peer(self)
        finally:
            self.mux.uncork()

    def on_close(self, is_remote: bool, _ch: object) -> None:
        was_open = self.remote_opened
        self.remote_opened = False
        self.removed = True
        self._queue.clear()
        self._queued_ids.clear()
        self.replicator.remove_peer(self, was_open)

    def on_drain(self, _ch: object) -> None:
        if self._queue:
            self._schedule_serving()

    def close(self) -> None:
        if self.channel is not None and not self.channel.closed:
            self.channel.close()

    # --- sync ------------------------------------------------------------------------------------

    def send_sync(self) -> None:
        tree = self.core.tree
        if tree.fork != self.remote_fork:
            self.can_upgrade = False
        self._w_sync.send(
            m.Sync(
                fork=tree.fork,
                length=tree.length,
                remote_length=self.remote_length if tree.fork == self.remote_fork else 0,
                can_upgrade=self.can_upgrade,
                uploading=True,
                downloading=True,
                has_manifest=_shared_manifest(self.core) is not None,
                allow_push=False,
            )
        )

    def _can_upgrade_to(self, remote_length: int, remote_fork: int) -> bool:
        tree = self.core.tree
        if remote_fork != tree.fork:
            return False
        if remote_length == 0:
            return True
        if remote_length >= tree.length:
            return False
        try:
            return tree.upgradeable(remote_length)
        except Exception:
            return False

    def signal_upgrade(self) -> None:
        """Our length or fork changed: tell the remote (JS ``signalUpgrade``)."""
        tree = self.core.tree
        if tree.fork == self.remote_fork and tree.length > self.remote_length and not self.can_upgrade:
            can = self._can_upgrade_to(self.remote_length, self.remote_fork)
            if can:
                self.can_upgrade = True
                self.last_upgradable_length = self.remote_length
                self.last_upgradable_fork = self.remote_fork
        self.send_sync()

    def on_sync(self, msg: m.Sync, _ch: object) -> None:
        tree = self.core.tree
        length_changed = msg.length != self.remote_length
        same_fork = msg.fork == tree.fork
        self.remote_synced = True
        self.remote_fork = msg.fork
        self.remote_length = msg.length
        self.remote_can_upgrade = msg.can_upgrade
        self.remote_uploading = msg.uploading
        self.remote_downloading = msg.downloading
        self.remote_has_manifest = msg.has_manifest
        self.remote_allow_push = msg.allow_push
        self.length_acked = msg.remote_length if same_fork else 0

        if not length_changed or not same_fork:
            upgrade = self.can_upgrade and same_fork
        else:
            upgrade = self._can_upgrade_to(msg.length, msg.fork)
        if same_fork:
            self.can_upgrade = upgrade
            if upgrade:
                self.last_upgradable_fork = msg.fork
                self.last_upgradable_length = msg.length
        if same_fork and tree.length > self.remote_length:
            self.signal_upgrade()
        self.replicator.on_sync(self)

    # --- serving requests ------------------------------------------------------------------------

    def on_request(self, msg: m.Request, _ch: object) -> None:
        old = self._queued_ids.get(msg.id)
        if old is not None:
            with contextlib.suppress(ValueError):
                self._queue.remove(old)
        self._queued_ids[msg.id] = msg
        self._queue.append(msg)
        self._schedule_serving()

    def on_cancel(self, msg: m.Cancel, _ch: object) -> None:
        req = self._queued_ids.pop(msg.request, None)
        if req is not None:
            with contextlib.suppress(ValueError):
                self._queue.remove(req)

    def _schedule_serving(self) -> None:
        if not self._serving_scheduled:
            self._serving_scheduled = True
            self.replicator.defer(self._serve_queue)

    def _serve_queue(self) -> None:
        self._serving_scheduled = False
        mux = self.mux
        queue = self._queue
        if not queue or self.removed:
            return
        mux.cork()
        try:
            sent = 0
            while queue and not self.removed:
                if not mux.drained:
                    return  # on_drain reschedules
                msg = queue.popleft()
                if self._queued_ids.get(msg.id) is msg:
                    del self._queued_ids[msg.id]
                sent += self._serve(msg)
                if sent >= _SERVE_BATCH_BYTES:
                    mux.uncork()
                    mux.cork()
                    sent = 0
        finally:
            mux.uncork()

    def _serve(self, msg: m.Request) -> int:
        """Answer one request; returns roughly how many bytes were sent."""
        core = self.core
        tree = core.tree
        block_req = msg.block
        if msg.fork != tree.fork or (block_req is not None and not core.bitfield.get(block_req.index)):
            if msg.manifest and (shared := _shared_manifest(core)) is not None:
                self._w_data.send(m.Data(msg.id, tree.fork, manifest=shared))
                return 64
            self.not_available_sent(msg.id)
            return 4
        try:
            proof = tree.proof(block=block_req, hash=msg.hash, seek=msg.seek, upgrade=msg.upgrade)
        except (HypercoreError, ValueError, IndexError, OverflowError) as err:
            self.invalid_requests += 1
            self.replicator.stats["invalid_requests"] += 1
            log.debug("invalid request %r from %r: %s", msg, self, err)
            self._w_no_data.send(m.NoData(msg.id, INVALID_REQUEST))
            if self.invalid_requests >= MAX_INVALID_REQUESTS:
                self.close()
            return 4
        block = proof.block
        size = 0
        if block is not None:
            try:
                value = core.read_block(block.index)
            except StorageCorruptError:  # damaged here: dropped, the peer asks someone else
                value = None
            if value is None:
                self.not_available_sent(msg.id)
                return 4
            block = m.DataBlock(block.index, value, block.nodes)
            size = len(value)
        manifest = _shared_manifest(core) if msg.manifest else None
        self._w_data.send(m.Data(msg.id, msg.fork, block, proof.hash, proof.seek, proof.upgrade, manifest))
        if block is not None:
            self.replicator.stats["uploaded"] += 1
            core.on_upload(block.index, size, self)
        return size + 64

    def not_available_sent(self, rid: int) -> None:
        self._w_no_data.send(m.NoData(rid, NOT_AVAILABLE))

    # --- receiving data --------------------------------------------------------------------------

    def on_data(self, data: m.Data, _ch: object) -> None:
        self.replicator.on_data(self, data)

    def on_no_data(self, msg: m.NoData, _ch: object) -> None:
        if msg.reason == NOT_AVAILABLE:
            self.not_available += 1
            if self.not_available >= MAX_BACKOFFS * 64:
                self.paused = True
        elif msg.reason == INVALID_REQUEST:
            self.backoffs += 1
            if self.backoffs >= MAX_BACKOFFS:
                self.paused = True
        self.replicator.on_no_data(self, msg.request)

    # --- sending requests ------------------------------------------------------------------------

    def send_request(self, req: Req) -> None:
        tree = self.core.tree
        block = None
        if req.index >= 0:
            nodes = 0
            if req.fork == tree.fork:
                leaf = 2 * req.index
                nodes = self.replicator.missing_nodes(leaf, tree.length, self.expected)
                self._expect(req, leaf, nodes)
            block = m.RequestBlock(req.index, nodes)
        hash_ = m.RequestBlock(req.hash_index, req.hash_nodes) if req.hash_index >= 0 else None
        upgrade = m.RequestUpgrade(req.upgrade_start, req.upgrade_length) if req.upgrade_length else None
        self.inflight += 1
        rep = self.replicator
        req.sent = rep.time()
        rep.request_sent()
        self._w_request.send(
            m.Request(req.id, req.fork, block=block, hash=hash_, upgrade=upgrade, manifest=req.manifest)
        )

    def _expect(self, req: Req, leaf: int, nodes: int) -> None:
        """Record the tree nodes ``req``'s proof will bring: the path from ``leaf`` up ``nodes``
        levels and the siblings below its top (what verification stores)."""
        expected = self.expected
        out = [leaf]
        i = leaf
        for _ in range(nodes):
            out.append(flat.sibling(i))
            i = flat.parent(i)
            out.append(i)
        req.depends = i if i in expected else -1
        for n in out:
            expected[n] = expected.get(n, 0) + 1
        req.expects = out

    def release_expected(self, req: Req) -> None:
        expected = self.expected
        for n in req.expects or ():
            c = expected.get(n, 0) - 1
            if c > 0:
                expected[n] = c
            else:
                expected.pop(n, None)
        req.expects = None

    def send_cancel(self, rid: int) -> None:
        self._w_cancel.send(m.Cancel(rid))

    def grow_window(self) -> None:
        """A block arrived: widen the pipeline while we keep it full (slow start: doubles per
        round trip while saturated, up to ``DEFAULT_INFLIGHT[1]``)."""
        if self.saturated and self.max_inflight < DEFAULT_INFLIGHT[1]:
            self.max_inflight = min(float(DEFAULT_INFLIGHT[1]), self.max_inflight + 1.0)

    def shrink_window(self) -> None:
        self.max_inflight = max(float(DEFAULT_INFLIGHT[0]) / 2, self.max_inflight / 2)

    def maybe_want(self, index: int) -> None:
        """Ask the remote which blocks of ``index``'s batch it has (JS ``_maybeWant``)."""
        if index < self.remote_contiguous_length:
            return
        batch = index // WANT_BATCH
        if batch in self.wanted_batches or len(self.wanted_batches) >= 512:
            return
        self.wanted_batches.add(batch)
        self._w_want.send(m.Want(batch * WANT_BATCH, WANT_BATCH))

    # --- presence --------------------------------------------------------------------------------

    def broadcast_range(self, start: int, length: int, drop: bool) -> None:
        """Tell the remote we now have (or dropped) ``[start, start + length)`` (JS ``broadcastRange``)."""
        if not self.remote_opened or self.removed:
            return
        core = self.core
        tree_length = core.tree.length
        force = False
        if not drop and core.contiguous_length == tree_length:
            start = 0
            length = tree_length
            if self.fully_downloaded_signaled < length:
                self.fully_downloaded_signaled = length
                force = True
        if not force and not drop:
            if self.remote_contiguous >= start + length:
                return
            if length == 1:
                if self.remote_bitfield.get(start):
                    return
            elif self.remote_bitfield.first_unset(start) >= start + length:
                return
        if length <= 0:
            return
        self._w_range.send(m.Range(start, length, drop))

    def on_want(self, msg: m.Want, _ch: object) -> None:
        if not self.active:
            return
        core = self.core
        length = core.tree.length
        contig = core.contiguous_length
        start = msg.start
        if start + msg.length < contig or length == contig or (msg.any and start < contig):
            self._w_range.send(m.Range(0, contig, False))
            return
        n = min(msg.length, length - start)
        if n <= 0:
            return
        if msg.any:
            bit = core.bitfield.first_set(start)
            if bit > -1 and bit < start + n:
                self._w_range.send(m.Range(bit, 1, False))
            return
        for w in core.bitfield.want(start, n):
            self._w_bitfield.send(m.Bitfield(w.start, w.words))

    def on_unwant(self, msg: m.Unwant, _ch: object) -> None:
        return None

    def _claim_limit(self) -> int:
        return max(self.remote_length, self.core.tree.length) + MAX_REMOTE_CLAIM

    def on_bitfield(self, msg: m.Bitfield, _ch: object) -> None:
        start = msg.start
        if start & 31 or start >= self._claim_limit():
            return
        words = msg.bitfield
        room = (self._claim_limit() - start) // 32
        if len(words) > room:
            words = words[:room]
        if start < self.remote_contiguous:
            self.remote_contiguous = start
        self.remote_bitfield.insert(start, words)
        self.replicator.on_remote_has(self, start)

    def on_range(self, msg: m.Range, _ch: object) -> None:
        start, length, drop = msg.start, msg.length, msg.drop
        has = not drop
        if drop and start < self.remote_contiguous:
            self.remote_contiguous = start
        if start == 0 and has:
            if length > self.remote_contiguous:
                self.remote_contiguous = length
        elif length == 1:
            if start < self._claim_limit():
                self.remote_bitfield.set(start, has)
        else:
            end = min(start + length, self._claim_limit())
            if start < end:
                self.remote_bitfield.set_range(start, end, has)
        if has:
            self.replicator.on_remote_has(self, start)

    # --- extensions ------------------------------------------------------------------------------

    def extension(self, name: str, message: bytes) -> None:
        """Send a user extension message (used by :class:`..extensions.Extension`)."""
        if self.channel is None or self.channel.closed or not self.remote_opened:
            return
        self._w_extension.send(m.Extension("" if name == self.last_extension_sent else name, message))
        self.last_extension_sent = name

    def on_extension(self, msg: m.Extension, _ch: object) -> None:
        name = msg.name or self.last_extension_recv
        self.last_extension_recv = name
        self.core.on_extension(name, msg.message, self)


def _shared_manifest(core: Any) -> Any:
    """The manifest a peer may ask for: none for a compat core (hypercore 10 keeps it to itself,
    JS ``hasManifest: !!manifest && !compat``; the key alone verifies it)."""
    manifest = core.manifest
    if manifest is None or is_compat(core.key, manifest):
        return None
    return manifest

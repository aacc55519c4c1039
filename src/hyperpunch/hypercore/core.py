"""The shared state of one open Hypercore (JS ``lib/core.js`` + the default ``session-state``).

Invariants:

* One :class:`Core` per open storage, shared by every session (:class:`..session.Hypercore`)
  made from it. It owns the trusted :class:`MerkleTree`, the in-memory :class:`Bitfield`, the
  hints (contiguous length) and the optional block encryption.
* Every mutation (append, truncate, clear, applying a verified proof) is synchronous: it builds
  one :class:`WriteBatch`, commits it (all or nothing), and only then moves the in-memory state
  and notifies (sessions' events, block waiters, the replicator). There is no ``await`` inside a
  mutation, so on one event loop mutations never interleave and need no lock.
* Blocks are stored as they travel on the wire and are hashed into the tree: for an encrypted
  core that is ``padding || ciphertext`` (see :mod:`.encryption`).
* Replication attaches through :attr:`Core.replicator` (:class:`Replicator`): it is told of local
  appends / truncates / clears, asked for missing blocks and upgrades, and feeds verified data
  back with :meth:`Core.verify_and_apply` (the seam :class:`..replication.seam.ReplicatedCore`).
* No IO and no event loop: the sessions are :class:`CoreListener` s (told of appends, truncations
  and events), and a block waiter is a callback (:meth:`Core.wait_for`) that the asyncio session
  wraps in a future.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from hyperpunch import crypto
from hyperpunch.crypto import KeyPair
from hyperpunch.hypercore import manifest as man
from hyperpunch.hypercore.bitfield import BITS_PER_PAGE, Bitfield
from hyperpunch.hypercore.encryption import PADDING, DefaultEncryption
from hyperpunch.hypercore.errors import (
    BadArgumentError,
    BlockNotAvailableError,
    InvalidOperationError,
    InvalidProofError,
    InvalidSignatureError,
    RequestCancelledError,
    RequestTimeoutError,
    SessionClosedError,
    SessionNotWritableError,
    SnapshotNotAvailableError,
    StorageConflictError,
    StorageCorruptError,
    StorageEmptyError,
)
from hyperpunch.hypercore.integrity import Damage, HeadCorruptError, VerifiedNodes, open_verified_tree
from hyperpunch.hypercore.merkle import (
    MerkleTree,
    MerkleTreeBatch,
    ProofLike,
    ReorgBatch,
    with_block_value,
)
from hyperpunch.hypercore.messages import (
    Manifest,
    Proof,
    RequestBlock,
    RequestSeek,
    RequestUpgrade,
)
from hyperpunch.hypercore.storage import (
    CoreAuth,
    CoreHead,
    CoreHints,
    CoreStorage,
    WriteBatch,
    append_blocks,
    load_bitfield,
)

__all__ = [
    "MAX_SUGGESTED_BLOCK_SIZE",
    "BlockWaiter",
    "Core",
    "CoreListener",
    "Replicator",
    "RequestCancelledError",
    "RequestTimeoutError",
    "SessionClosedError",
    "SessionNotWritableError",
    "SnapshotNotAvailableError",
]

log = logging.getLogger(__name__)

MAX_SUGGESTED_BLOCK_SIZE = 15 * 1024 * 1024

# core directories open in this process: a second Core over the same files would diverge
_open_directories: set[str] = set()


def claim_directory(path: str) -> None:
    if path in _open_directories:
        raise StorageConflictError(f"{path} is already open in this process (use core.session())")
    _open_directories.add(path)


def release_directory(path: str) -> None:
    _open_directories.discard(path)


# called once: with None when the block is stored, with the error when the core closes first
BlockWaiter = Callable[[BaseException | None], None]


class CoreListener(Protocol):
    """What a :class:`Core` tells each session made from it (a :class:`..session.Hypercore`)."""

    def on_append(self) -> None:
        """The core grew (a local append, a verified upgrade, the new head of a reorg)."""

    def on_truncate(self, ancestors: int, fork: int) -> None:
        """The core was cut to ``ancestors`` blocks and moved to ``fork``."""

    def emit(self, event: str, *args: Any) -> None:
        """Deliver a session event (``download``, ``upload``, ``peer-add``, ``manifest``, ...)."""

    def on_extension(self, name: str, message: bytes, peer: Any) -> None:
        """A peer sent user extension message ``name``."""


class Replicator(Protocol):
    """What a replicator attached to a :class:`Core` provides (the hooks the core calls).

    The replicator fetches what the core asks for and hands verified data back through
    :meth:`Core.verify_and_apply`, which wakes the waiting ``get`` / ``download`` calls.
    """

    @property
    def peers(self) -> Sequence[Any]: ...

    def on_append(self, start: int, length: int) -> None: ...

    def on_truncate(self, length: int, fork: int) -> None: ...

    def on_clear(self, start: int, end: int) -> None: ...

    def want_block(self, index: int) -> None: ...

    def want_range(self, start: int, end: int | None) -> None: ...

    def want_upgrade(self, done: Callable[[bool], None]) -> None:
        """Call ``done(True)`` once a peer upgraded us, ``done(False)`` once no peer can."""

    async def aclose(self) -> None: ...


class Core:
    """One open core: trusted tree, bitfield, hints, identity, encryption, waiters."""

    def __init__(self, storage: CoreStorage, auth: CoreAuth, *, owns_storage: bool) -> None:
        self.storage = storage
        self.owns_storage = owns_storage
        self.auth = auth
        self.key = auth.key
        self.discovery_key = auth.discovery_key
        self.manifest: Manifest | None = auth.manifest
        # Verifier(key, ...) rather than from_manifest: a compat core's key is its signer's key
        self.verifier = man.Verifier(auth.key, auth.manifest) if auth.manifest else None
        self.key_pair: KeyPair | None = auth.key_pair
        _check_auth(auth)
        self.replicator: Replicator | None = None
        # damage found (and put right or dropped) by read-time verification, oldest first
        self.damage: list[Damage] = []
        # True: damage is only recorded (a read-only check), storage and bitfield stay as they are
        self.check_only = False
        self.nodes = VerifiedNodes(storage)
        self.tree: MerkleTree
        try:
            self.tree, opened = open_verified_tree(storage, self.nodes, self.verifier, self.key)
        except HeadCorruptError as err:
            if auth.key_pair is not None and auth.key_pair.secret_key:
                raise  # a writer's head is its own record: reported, never replaced
            # a reader's head is a writer's signed head: start over, peers send it again
            head = storage.get_head()
            _forget_everything(storage)
            self.damage.append(Damage("head", 0, blocks=(0, head.length if head is not None else 0)))
            log.warning("%s; the stored copy is dropped, peers send it again", err)
            self.tree, opened = open_verified_tree(storage, self.nodes, self.verifier, self.key)
        self.bitfield: Bitfield = load_bitfield(storage)
        self.hints: CoreHints = storage.get_hints()
        if opened is not None:
            self.apply_damage(opened)
        self.nodes.on_damage = self.apply_damage
        self.encryption: DefaultEncryption | None = None
        self.listeners: list[CoreListener] = []
        self.closed = False
        self.directory: str | None = None
        self._waiters: dict[int, list[BlockWaiter]] = {}
        # download() ranges asked for before any replicator existed
        self.pending_ranges: list[tuple[int, int]] = []

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        storage: CoreStorage,
        *,
        key: bytes | None,
        key_pair: KeyPair | None,
        manifest: Manifest | None,
        owns_storage: bool,
        create_if_missing: bool = True,
    ) -> Core:
        auth = storage.get_auth()
        if auth is None:
            if not create_if_missing:
                raise StorageEmptyError("No Hypercore is stored here")
            auth = _new_auth(key, key_pair, manifest)
            wb = WriteBatch()
            wb.set_auth(auth)
            storage.write(wb)
        else:
            _check_auth(auth, key)
            if key is not None and key != auth.key:
                raise StorageConflictError("Another Hypercore is stored here")
            if manifest is not None and key is None and not man.is_valid_manifest(auth.key, manifest):
                raise StorageConflictError("Manifest does not hash to provided key")
            if key_pair is not None and auth.key_pair is None:
                auth = _adopt_key_pair(storage, auth, key_pair, manifest)
            if manifest is not None and auth.manifest is None:
                auth = CoreAuth(auth.key, auth.discovery_key, manifest, auth.key_pair)
                wb = WriteBatch()
                wb.set_auth(auth)
                storage.write(wb)
        return cls(storage, auth, owns_storage=owns_storage)

    def set_encryption(self, encryption_key: bytes | None, *, block: bool = False) -> None:
        self.encryption = (
            None if encryption_key is None else DefaultEncryption(encryption_key, self.key, block=block)
        )

    @property
    def padding(self) -> int:
        return PADDING if self.encryption is not None else 0

    @property
    def contiguous_length(self) -> int:
        return min(self.tree.length, self.hints.contiguous_length)

    def signer(self, key_pair: KeyPair | None) -> KeyPair | None:
        kp = key_pair if key_pair is not None else self.key_pair
        if kp is None or not kp.secret_key:
            return None
        return kp

    # --- mutations -------------------------------------------------------------------------

    def append(
        self, blocks: list[bytes], *, key_pair: KeyPair | None = None, signature: bytes | None = None
    ) -> tuple[int, int]:
        """Store ``blocks`` (already value-encoded, unencrypted) as one signed batch."""
        tree = self.tree
        if not blocks:
            return tree.length, tree.byte_length
        start = tree.length
        enc = self.encryption
        if enc is not None:
            fork = tree.fork
            blocks = [enc.encrypt(start + i, b, fork) for i, b in enumerate(blocks)]
        hints = self.hints
        new_hints = None
        if start == hints.contiguous_length:
            new_hints = CoreHints(start + len(blocks), hints.remote_contiguous_length)
        kp = self.signer(key_pair)
        verifier = self.verifier
        if signature is not None:
            sign = _fixed_signature(self, signature)
        elif kp is not None and verifier is not None:
            sign = _key_pair_signer(verifier, kp)
        else:
            raise SessionNotWritableError("cannot append to a readonly core")
        append_blocks(self.storage, tree, blocks, sign=sign, bitfield=self.bitfield, hints=new_hints)
        if new_hints is not None:
            self.hints = new_hints
        self.on_blocks(start, tree.length)
        for s in list(self.listeners):
            s.on_append()
        if self.replicator is not None:
            self.replicator.on_append(start, len(blocks))
        return tree.length, tree.byte_length

    def truncate(self, length: int, fork: int, *, key_pair: KeyPair | None = None) -> None:
        tree = self.tree
        if length > tree.length:
            raise InvalidOperationError(f"Not a truncation, {length} must be less or equal to {tree.length}")
        prologue = self.manifest.prologue if self.manifest is not None else None
        if prologue is not None and length < prologue.length:
            raise InvalidOperationError("Truncation breaks prologue")
        batch = tree.truncate(length, fork)
        kp = self.signer(key_pair)
        if kp is not None and self.verifier is not None:
            batch.signature = self.verifier.sign(batch, kp)
        else:
            batch.signature = None
        self._commit_fork_change(batch)
        for s in list(self.listeners):
            s.on_truncate(length, batch.fork)
        if self.replicator is not None:
            self.replicator.on_truncate(length, batch.fork)

    def _commit_fork_change(self, batch: MerkleTreeBatch) -> None:
        """Atomically drop blocks past ``batch.ancestors`` and move to the batch's new head.

        Shared by a local truncate and a reorg onto a remote fork; on a failed write the in-memory
        bitfield is reloaded from storage, so nothing half-applied stays visible.
        """
        wb = WriteBatch()
        wb.delete_block_range(batch.ancestors, batch.tree_length)
        wb.set_head(CoreHead(batch.fork, batch.length, batch.hash(), batch.signature))
        batch.commit(wb)
        hints = self.hints
        if batch.ancestors < hints.contiguous_length:
            wb.set_hints(CoreHints(batch.ancestors, min(batch.length, hints.remote_contiguous_length)))
        self._stage_bits(wb, batch.ancestors, batch.tree_length, False)
        try:
            self.storage.write(wb)
        except BaseException:
            self.bitfield = load_bitfield(self.storage)
            raise
        if wb.hints is not None:
            self.hints = wb.hints
        self.tree.apply(batch)
        self.nodes.reset()

    def clear(self, start: int, end: int) -> None:
        end = min(end, self.tree.length)
        if start >= end:
            return
        wb = WriteBatch()
        if end - start == 1:
            wb.delete_block(start)
        else:
            wb.delete_block_range(start, end)
        if start < self.hints.contiguous_length:
            wb.set_hints(CoreHints(start, self.hints.remote_contiguous_length))
        self._stage_bits(wb, start, end, False)
        try:
            self.storage.write(wb)
        except BaseException:
            self.bitfield = load_bitfield(self.storage)
            raise
        if wb.hints is not None:
            self.hints = wb.hints
        if self.replicator is not None:
            self.replicator.on_clear(start, end)

    def _stage_bits(self, wb: WriteBatch, start: int, end: int, value: bool) -> None:
        """Set bits ``[start, end)`` in memory and stage the touched pages into ``wb``."""
        if start >= end:
            return
        bits = self.bitfield
        bits.set_range(start, end, value)
        for p in range(start // BITS_PER_PAGE, (end - 1) // BITS_PER_PAGE + 1):
            page = bits.get_page(p)
            if page is not None:
                wb.put_bitfield_page(p, page)

    # --- replication hooks -----------------------------------------------------------------

    def verify_and_apply(
        self, proof: ProofLike, *, manifest: Manifest | None = None, peer: Any = None
    ) -> bool:
        """Verify a proof from a peer and store what it proves (blocks, nodes, a new signed head).

        Returns ``False`` when the proof is for another fork (the replicator must reorg first) or
        brings nothing new. Raises :class:`InvalidProofError` / :class:`InvalidSignatureError`
        (remote errors) when the proof does not verify.
        """
        if manifest is not None and self.manifest is None:
            if not _fits_key(self.key, manifest):
                raise InvalidProofError("Manifest does not hash to the core key")
            self._set_manifest(manifest)
        tree = self.tree
        if proof.fork != tree.fork:
            return False
        batch = tree.verify(proof)
        old_length = tree.length
        upgraded = batch.upgraded and batch.length > tree.length
        if batch.upgraded and not upgraded:
            batch.upgraded = False
        if upgraded:
            if self.verifier is None:
                # a compat core (hypercore 10 / corestore 6): the peer sends no manifest, the key
                # is the signer's (JS _verifyBatchUpgrade); kept once a signature verifies
                compat = man.default_signer_manifest(self.key)
                if not man.Verifier(self.key, compat).verify(batch, batch.signature):
                    raise InvalidSignatureError("core has no manifest to verify an upgrade with")
                self._set_manifest(compat)
            elif not self.verifier.verify(batch, batch.signature):
                raise InvalidSignatureError("Proof contains an invalid signature")
        block = proof.block
        wb = WriteBatch()
        stored: int | None = None
        if block is not None and not self.bitfield.get(block.index):
            wb.put_block(block.index, block.value)
            stored = block.index
        if not upgraded and stored is None and not batch.nodes:
            return False
        batch.commit(wb)
        if upgraded:
            wb.set_head(CoreHead(batch.fork, batch.length, batch.hash(), batch.signature))
        if stored is not None:
            self._stage_bits(wb, stored, stored + 1, True)
            hints = self.hints
            if stored == hints.contiguous_length:
                contiguous = self.bitfield.first_unset(stored)
                wb.set_hints(CoreHints(contiguous, hints.remote_contiguous_length))
        try:
            self.storage.write(wb)
        except BaseException:
            self.bitfield = load_bitfield(self.storage)
            raise
        if wb.hints is not None:
            self.hints = wb.hints
        if upgraded:
            tree.apply(batch)
            for s in list(self.listeners):
                s.on_append()
        if stored is not None and block is not None:
            self.on_blocks(stored, stored + 1)
            self.emit("download", stored, len(block.value) - self.padding, peer)
        return upgraded or stored is not None or tree.length != old_length

    def start_reorg(self, proof: ProofLike, *, manifest: Manifest | None = None) -> ReorgBatch:
        """Begin moving onto the fork a peer's upgrade proof shows (signature checked).

        Feed the batch ``batch.update(hash_proof)`` for its ``want`` ranges until
        ``batch.finished``, then :meth:`apply_reorg` it.
        """
        if manifest is not None and self.manifest is None:
            if not _fits_key(self.key, manifest):
                raise InvalidProofError("Manifest does not hash to the core key")
            self._set_manifest(manifest)
        batch = self.tree.reorg(proof)
        if self.verifier is None or not self.verifier.verify(batch, batch.signature):
            raise InvalidSignatureError("Proof contains an invalid signature")
        return batch

    def apply_reorg(self, batch: ReorgBatch) -> bool:
        """Commit a finished reorg: drop blocks past the common ancestors, move to the new head."""
        if not batch.finished or not batch.commitable():
            return False
        self._commit_fork_change(batch)
        for s in list(self.listeners):
            s.on_truncate(batch.ancestors, batch.fork)
            if batch.length > batch.ancestors:
                s.on_append()
        return True

    def proof(
        self,
        *,
        block: RequestBlock | None = None,
        hash: RequestBlock | None = None,
        seek: RequestSeek | None = None,
        upgrade: RequestUpgrade | None = None,
    ) -> Proof:
        """The proof answering a peer's request, with the stored block value filled in."""
        p = self.tree.proof(block=block, hash=hash, seek=seek, upgrade=upgrade)
        if p.block is not None:
            value = self.read_block(p.block.index)
            if value is None:
                raise BlockNotAvailableError(f"block {p.block.index} is not stored")
            p = with_block_value(p, value)
        return p

    # --- verified reads and damage ------------------------------------------------------------

    def read_block(self, index: int) -> bytes | None:
        """Stored block ``index`` once it hashes to its verified leaf; ``None`` when not stored.

        A damaged block (or one whose tree path is damaged beyond local repair) is dropped from
        storage and the bitfield, so a peer can send it again, and raises
        :class:`StorageCorruptError` naming the core and the block.
        """
        try:
            value = self.storage.get_block(index)
        except StorageCorruptError:
            if not self.bitfield.get(index):
                raise
            value = b""  # an unreadable row: checked below, fails, dropped
        if value is None:
            if not self.bitfield.get(index):
                return None
            damage: Damage | None = Damage("block", index, blocks=(index, index + 1))  # lost
        else:
            damage = self.nodes.check_block(index, value)
            if damage is None:
                return value
        assert damage is not None
        self.apply_damage(damage)
        raise StorageCorruptError(
            f"core {self.key.hex()}: block {index} is damaged in storage (dropped; a peer can send it again)",
            key=self.key,
            index=index,
        )

    def check_stored(self) -> list[int]:
        """Verify every block the bitfield says is stored (and the tree nodes above it); returns
        the damaged blocks, which are dropped (missing again, for peers to send)."""
        bad: list[int] = []
        i = self.bitfield.first_set(0) if self.tree.length else -1
        length = self.tree.length
        while 0 <= i < length:
            try:
                self.read_block(i)
            except StorageCorruptError:
                bad.append(i)
            i = self.bitfield.first_set(i + 1)
        return bad

    def apply_damage(self, damage: Damage) -> None:
        """Store what a verification put right and drop what it could not (one atomic write);
        the dropped blocks become missing (the replicator is told, so they are fetched again)."""
        self.damage.append(damage)
        if self.check_only:
            return
        wb = WriteBatch()
        if damage.nodes is not None:
            lo, hi = damage.nodes
            wb.delete_tree_node_range(lo, hi)
            self.nodes.forget(lo, hi)
            if damage.keep is not None:
                wb.put_tree_node(damage.keep)
        for n in damage.fixed.values():
            wb.put_tree_node(n)
        dropped: tuple[int, int] | None = None
        if damage.blocks is not None:
            start, end = damage.blocks[0], min(damage.blocks[1], self.tree.length)
            if start < end:
                dropped = (start, end)
                wb.delete_block_range(start, end)
                self._stage_bits(wb, start, end, False)
                if start < self.hints.contiguous_length:
                    wb.set_hints(CoreHints(start, self.hints.remote_contiguous_length))
        try:
            self.storage.write(wb)
        except BaseException:
            self.bitfield = load_bitfield(self.storage)
            raise
        if wb.hints is not None:
            self.hints = wb.hints
        if dropped is not None and self.replicator is not None:
            self.replicator.on_clear(*dropped)
        if dropped is not None:
            self.emit("storage-damage", dropped[0], dropped[1])

    def emit(self, event: str, *args: Any) -> None:
        """Deliver a session event to every session of this core."""
        listeners = self.listeners
        if listeners:
            for s in list(listeners):
                s.emit(event, *args)

    def on_upload(self, index: int, byte_length: int, peer: Any) -> None:
        """Called by the replicator after sending block ``index`` to ``peer``."""
        self.emit("upload", index, byte_length - self.padding, peer)

    def on_peer(self, event: str, peer: Any) -> None:
        """Called by the replicator with ``"peer-add"`` / ``"peer-remove"``."""
        if event not in ("peer-add", "peer-remove"):
            raise BadArgumentError(f"not a peer event: {event}")
        self.emit(event, peer)

    def on_extension(self, name: str, message: bytes, peer: Any) -> None:
        """Called by a replication peer with a user extension message."""
        for s in list(self.listeners):
            s.on_extension(name, message, peer)

    def _set_manifest(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.verifier = man.Verifier(self.key, manifest)
        a = self.auth
        self.auth = CoreAuth(a.key, a.discovery_key, manifest, a.key_pair, a.encryption_key)
        wb = WriteBatch()
        wb.set_auth(self.auth)
        self.storage.write(wb)
        self.emit("manifest")

    # --- waiting for blocks ----------------------------------------------------------------

    def take_pending_ranges(self) -> list[tuple[int, int]]:
        """The ``download()`` ranges asked for before a replicator attached (and forget them)."""
        ranges, self.pending_ranges = self.pending_ranges, []
        return ranges

    def waiting_blocks(self) -> list[int]:
        """Indices some ``get(wait=True)`` is still waiting for (a new replicator fetches them)."""
        return list(self._waiters)

    def waits_for(self, index: int) -> bool:
        """Whether anyone still waits for block ``index`` (the replicator drops unwanted ones)."""
        return index in self._waiters

    def wait_for(self, index: int, waiter: BlockWaiter) -> None:
        """Call ``waiter(None)`` once block ``index`` is stored (asks the replicator for it), or
        ``waiter(err)`` if the core closes first. Each waiter is called at most once."""
        self._waiters.setdefault(index, []).append(waiter)
        if self.replicator is not None:
            self.replicator.want_block(index)

    def forget(self, index: int, waiter: BlockWaiter) -> None:
        waiters = self._waiters.get(index)
        if waiters is not None:
            with contextlib.suppress(ValueError):
                waiters.remove(waiter)
            if not waiters:
                del self._waiters[index]

    def on_blocks(self, start: int, end: int) -> None:
        """Blocks ``[start, end)`` are stored: call their waiters."""
        waiters = self._waiters
        if not waiters:
            return
        if end - start < len(waiters):
            hit = [i for i in range(start, end) if i in waiters]
        else:
            hit = [i for i in waiters if start <= i < end]
        for i in hit:
            for waiter in waiters.pop(i):
                waiter(None)

    # --- closing ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        waiters = [w for ws in self._waiters.values() for w in ws]
        self._waiters.clear()
        for waiter in waiters:
            waiter(SessionClosedError("core closed"))
        if self.replicator is not None:
            rep, self.replicator = self.replicator, None
            await rep.aclose()
        if self.owns_storage:
            self.storage.close()
        if self.directory is not None:
            release_directory(self.directory)


def _forget_everything(storage: CoreStorage) -> None:
    """Drop a reader's head, tree, blocks and bitfield (one write), keeping its identity."""
    wb = WriteBatch()
    wb.delete_head()
    wb.delete_tree_node_range(0, -1)
    wb.delete_block_range(0, -1)
    wb.delete_bitfield_page_range(0, -1)
    wb.set_hints(CoreHints(0, 0))
    storage.write(wb)


def _fits_key(key: bytes, manifest: Manifest) -> bool:
    """``manifest`` hashes to ``key``, or is the compat manifest of ``key`` (JS 10 / corestore 6)."""
    return man.is_valid_manifest(key, manifest) or man.is_compat(key, manifest)


def _check_auth(auth: CoreAuth, wanted: bytes | None = None) -> None:
    """A stored identity that does not hold together is damage (reported, never replaced); the
    error names the core asked for (``wanted``) when there is one, else the stored key."""
    key = wanted if wanted is not None else auth.key
    where = f"core {key.hex()}"
    if len(auth.key) != 32 or crypto.discovery_key(auth.key) != auth.discovery_key:
        raise StorageCorruptError(f"{where}: the stored key and discovery key do not match", key=key)
    if auth.manifest is not None and not _fits_key(auth.key, auth.manifest):
        raise StorageCorruptError(f"{where}: the stored manifest does not hash to the key", key=key)
    kp = auth.key_pair
    if kp is not None and kp.secret_key and not _key_pair_holds(kp):
        raise StorageCorruptError(f"{where}: the stored key pair does not hold together", key=key)


def _key_pair_holds(kp: KeyPair) -> bool:
    sk = kp.secret_key
    return len(sk) == 64 and crypto.key_pair(sk[:32]) == kp


def _new_auth(key: bytes | None, key_pair: KeyPair | None, manifest: Manifest | None) -> CoreAuth:
    if manifest is not None and key is not None and man.is_compat(key, manifest):
        core_key = key  # a compat core: its key is its only signer's public key (hypercore 10)
    elif manifest is not None:
        core_key = man.manifest_hash(manifest)
        if key is not None and key != core_key:
            raise BadArgumentError("manifest does not hash to the given key")
    elif key_pair is not None or key is None:
        if key_pair is None:
            key_pair = crypto.key_pair()
        manifest = man.default_signer_manifest(key_pair.public_key)
        core_key = man.manifest_hash(manifest)
        if key is not None and key != core_key:
            raise BadArgumentError("key does not match the key pair's core key")
    else:
        core_key = key
    if len(core_key) != 32:
        raise BadArgumentError("core key must be 32 bytes")
    return CoreAuth(core_key, crypto.discovery_key(core_key), manifest, key_pair)


def _adopt_key_pair(
    storage: CoreStorage, auth: CoreAuth, key_pair: KeyPair, manifest: Manifest | None
) -> CoreAuth:
    """Remember the key pair a stored read-only core is reopened with, if it may sign for it."""
    known = auth.manifest if auth.manifest is not None else manifest
    if known is None:
        known = man.default_signer_manifest(key_pair.public_key)
        if man.manifest_hash(known) != auth.key:
            raise StorageConflictError("key pair does not match the stored core")
    elif all(s.public_key != key_pair.public_key for s in known.signers):
        raise StorageConflictError("key pair is not a signer of the stored core")
    auth = CoreAuth(auth.key, auth.discovery_key, known, key_pair if key_pair.secret_key else None)
    wb = WriteBatch()
    wb.set_auth(auth)
    storage.write(wb)
    return auth


def _key_pair_signer(verifier: man.Verifier, kp: KeyPair) -> Any:
    def sign(batch: MerkleTreeBatch) -> bytes:
        return verifier.sign(batch, kp)

    return sign


def _fixed_signature(core: Core, signature: bytes) -> Any:
    def sign(batch: MerkleTreeBatch) -> bytes:
        if core.verifier is None or not core.verifier.verify(batch, signature):
            raise InvalidSignatureError("signature does not verify the appended batch")
        return signature

    return sign

"""The async Autobase adapter over a Corestore (a sketch of JS ``Autobase``'s surface).

``Autobase(store, bootstrap=None, open=..., apply=...)``: ``ready()`` opens the local writer core
(corestore core ``'local'``; with no bootstrap its key is the base key), ``append(value)`` writes
oplog blocks (:data:`~hyperpunch.autobase.messages.oplog_message`, version 2) linking the DAG's
heads and applies, ``update()`` reads the other writers' cores from the store, linearizes and
applies; ``view`` is what ``open`` returned; ``apply(nodes, view, host)`` may call
``host.add_writer(key)`` and ``host.remove_writer(key)``.

Indexer changes follow JS (:class:`~hyperpunch.autobase.system.IndexerSystem`: an added indexer
counts once its first node is indexed, a removed one once its removal is indexed; the change
takes effect at the end of that writer batch, then the linearizer reboots and the views roll
back to the indexed state and re-apply). Views: ``open`` gets a :class:`ViewStore`:
``get(name)`` gives an in-memory :class:`MemoryView`, ``core(name)`` an in-memory Hypercore to
open a Hyperbee on. :meth:`Autobase.view_core` gives the key, length and tree hash JS's view
core has (the views move to a core signed by the indexers, prologued by their indexed content,
at every indexer change, the bootstrap's first batch included, as JS ``_generateNextViews``).

The system view is JS's ``_system`` Hyperbee (members, indexers, heads, digest), written by
Python indexers with checkpoints and digests in their oplog blocks, so a JS peer's signed length
grows from a Python indexer's signatures (:attr:`Autobase.signed_length` is the same figure).
With ``encryption_key`` (32 bytes, JS ``encryptionKey``) every writer core is block-encrypted
and the view and system cores' keys and tree hashes are those of JS's encrypted cores (see
:mod:`~hyperpunch.autobase.encryption`); a writer block that does not decode once decrypted
raises :class:`~hyperpunch.autobase.errors.EncryptionKeyError`, as does an encrypted base opened
without its key. As JS ``boot``: the key is kept in the local core's user data (a reopen needs no
key, and a kept key wins over a given one), ``encrypt=True`` with no key derives one from the
store, ``encrypted=True`` refuses to open with none. What is *not* JS autobase yet: optimistic
apply, fast-forward, wakeup hints, key rotation (JS's manifest-v2 ``_encryption`` view).

Acks: with ``ack_interval`` (seconds, default 10 as JS; 0 disables) a background task owned by
a :class:`~hyperpunch.aio.TaskOwner` runs :meth:`Autobase.auto_ack` every ``ack_interval`` to
``2 * ack_interval`` (JS ``Timer``), and sooner once an update read ``ack_threshold`` x
indexers (randomised to twice that) remote blocks since the local writer last appended.

Invariants: the linearization and the blocks' node layout are JS's (the sans-IO core); every
public coroutine runs on the caller's task, and one at a time with the ack task (a lock);
``aclose`` is idempotent and ends the ack task.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hyperpunch import crypto
from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.autobase import keys
from hyperpunch.autobase.apply_state import ApplyNode, ApplyState
from hyperpunch.autobase.encryption import KEY_BYTES, BaseEncryption, writer_blocks
from hyperpunch.autobase.errors import AutobaseClosingError, AutobaseLocalError, NotWritableError
from hyperpunch.autobase.messages import (
    Checkpoint,
    Checkpointer,
    Digest,
    IndexCheckpoint,
    OplogMessage,
    oplog_message,
)
from hyperpunch.autobase.node import DagNode
from hyperpunch.autobase.replay import Rebooted, Replayer
from hyperpunch.autobase.system_state import HostOp, Signature, SystemBatch
from hyperpunch.autobase.system_view import SystemCore
from hyperpunch.autobase.views import MemoryView, ViewStore
from hyperpunch.corestore import Corestore
from hyperpunch.encoding import DecodeError, decode, encode
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore, caps
from hyperpunch.hypercore.encodings import ValueEncoding, resolve_encoding
from hyperpunch.hypercore.errors import BlockNotAvailableError, BlockRequestTimeoutError
from hyperpunch.hypercore.messages import Prologue

__all__ = [
    "DEFAULT_ACK_INTERVAL",
    "DEFAULT_ACK_THRESHOLD",
    "PEER_TIMEOUT",
    "Autobase",
    "Host",
    "MemoryView",
    "ViewCoreInfo",
    "ViewStore",
]

ENCRYPTION_USER_DATA = "autobase/encryption"  # the local core's user data key of the key (JS)
DEFAULT_ACK_INTERVAL = 10.0  # seconds (JS 10 000 ms)
DEFAULT_ACK_THRESHOLD = 4
PEER_TIMEOUT = 30.0  # seconds update(wait=True) waits for a writer core's peer or block


@dataclasses.dataclass(frozen=True, slots=True)
class ViewCoreInfo:
    """A view's core as JS derives it: its key (manifest signed by the indexers, prologued by
    its content when the indexer set last changed), its indexed length and the Merkle tree hash
    of its first ``length`` blocks (hypercore ``treeHash``)."""

    key: bytes
    length: int
    tree_hash: bytes


def _random2over1(n: float) -> float:
    """JS ``random2over1``: uniformly between ``n`` and ``2n``."""
    return n + random.random() * n


class Host:
    """The host calls ``apply`` may make (JS ``lib/apply-calls.js``)."""

    def __init__(self, base: Autobase) -> None:
        self._base = base
        self.calls: list[tuple[bytes, bool]] = []  # add_writer calls of the batch being applied
        self.removes: list[bytes] = []  # remove_writer calls of the batch being applied
        self.ops: list[HostOp] = []  # every host call of the batch being applied, in order

    async def add_writer(self, key: bytes, *, indexer: bool = True) -> None:
        """Add a writer (an indexer by default, as in JS): it becomes one once its first node is
        indexed, and the linearizer then reboots with the new indexer set."""
        self.calls.append((bytes(key), indexer))
        self.ops.append(HostOp("add", bytes(key), indexer))
        self._base.note_member(bytes(key))

    async def ack_writer(self, key: bytes) -> None:
        self.ops.append(HostOp("ack", bytes(key)))

    async def remove_writer(self, key: bytes) -> None:
        """Remove a writer (JS ``host.removeWriter``): once the removal is indexed the writer is
        no member (its later nodes are linearized but not applied, its core is still read); an
        indexer is demoted and the linearizer reboots with the rest. The last indexer cannot be
        removed (JS ``removeable``)."""
        key = bytes(key)
        if self._base.indexers == [key]:
            raise AutobaseLocalError("Not allowed to remove the last indexer")
        self.removes.append(key)
        self.ops.append(HostOp("remove", key))


OpenFn = Callable[[ViewStore], Any]
ApplyFn = Callable[[list[ApplyNode], Any, Host], Awaitable[None]]


class Autobase:
    def __init__(
        self,
        store: Corestore,
        bootstrap: bytes | None = None,
        *,
        open: OpenFn,
        apply: ApplyFn,
        value_encoding: str | ValueEncoding = "binary",
        ack_interval: float = DEFAULT_ACK_INTERVAL,
        ack_threshold: int = DEFAULT_ACK_THRESHOLD,
        encryption_key: bytes | None = None,
        encrypt: bool = False,
        encrypted: bool = False,
    ) -> None:
        if encryption_key is not None and len(encryption_key) != KEY_BYTES:
            raise AutobaseLocalError("encryption key must be 32 bytes")
        self.store = store
        self._encryption_key = None if encryption_key is None else bytes(encryption_key)
        self._encrypt = encrypt  # JS ``encrypt``: no key given, derive one from the store
        self._encrypted = encrypted or encryption_key is not None  # JS ``encrypted``: a key is a must
        self._crypt: BaseEncryption | None = None
        self.ack_interval = ack_interval  # seconds; 0: no automatic acks
        self.ack_threshold = ack_threshold  # 0: no early acks
        self._ack_tick = 0
        self._ack_tick_threshold = _random2over1(ack_threshold)
        self._ack_now = asyncio.Event()
        self._lock = asyncio.Lock()  # public calls and the background ack run one at a time
        self._tasks = TaskOwner("autobase")
        self.bootstrap = None if bootstrap is None else bytes(bootstrap)
        self._open = open
        self._apply = apply
        self._encoding = resolve_encoding(value_encoding)
        self.local: Hypercore | None = None
        self.key: bytes | None = None
        self.discovery_key: bytes | None = None
        self.view: Any = None
        self._views = ViewStore()
        self._host = Host(self)
        self._cores: dict[bytes, Hypercore] = {}
        self._fed: dict[bytes, int] = {}
        self._wanted: dict[bytes, int] = {}  # how far each writer core's download was asked for
        self._members: dict[bytes, None] = {}
        self._writers: dict[bytes, None] = {}  # every writer ever added (members or removed)
        self._replay: Replayer | None = None
        self._host_calls: dict[tuple[bytes, int], list[tuple[bytes, bool]]] = {}
        self._host_removes: dict[tuple[bytes, int], list[bytes]] = {}
        self._host_ops: dict[tuple[bytes, int], list[HostOp]] = {}
        self._sys: SystemCore | None = None  # the _system view, as JS writes it (indexed part)
        # the local writer's checkpoint state (JS CheckpointCore of the local core)
        self._sig_system: Signature | None = None
        self._sig_encryption: Signature | None = None
        self._sig_user: list[Signature | None] = []
        self._digest: tuple[bytes, int] | None = None
        self._signed_length = 0
        self._state = ApplyState([])
        self._close = CloseOnce(self._aclose)
        self.opened = False
        # the views' cores as JS derives them: the indexers' signing keys (none until the first
        # indexed batch) and each view's prologue at the last indexer change
        self._signers: list[bytes] = []
        self._prologues: dict[str, Prologue | None] = {}

    # --- lifecycle

    async def ready(self) -> None:
        if self.opened:
            return
        local = self.local = await self.store.get(name="local")
        assert local.key is not None
        ek = self._encryption_key = await self._boot_encryption(local)
        self.key = self.bootstrap or local.key
        if ek is not None:
            self._crypt = BaseEncryption(self.key, ek)
            self._views.cipher = self._crypt.encrypt_view_block
        boot = local if self.key == local.key else await self.store.get(key=self.key, encryption_key=ek)
        self.discovery_key = boot.discovery_key
        self._cores[self.key] = boot
        self._members[self.key] = None
        self._replay = Replayer(
            [self.key],
            [local.key] if local.key != self.key else [],
            adds=self._adds_of,
            removes=self._removes_of,
            check_value=self._encoding.decode,
        )
        self.view = self._open(self._views)
        await self._views.ready()
        self._sys = SystemCore(
            self.key,
            self._signer_of,
            self._user_tree_hash,
            block_encryption_key=ek,
            cipher=self._views.cipher,
        )
        await self._sys.ready(list(self._views.views))
        self._state = ApplyState(self._views.lengths)
        if local.length:  # reopened from storage: the local writer's own blocks count again
            stored = [await local.get(i, raw=True) for i in range(local.length)]
            self._replay.feed(local.key, self._plain(local.key, 0, stored))
            self._fed[local.key] = local.length
        self.opened = True
        if local.length:
            await self._drain()
        if self.ack_interval > 0:
            self._tasks.spawn(self._ack_loop())

    async def _boot_encryption(self, local: Hypercore) -> bytes | None:
        """JS ``boot``: a key kept in the local core's user data wins over the one given (a base
        reopens encrypted without it); else the given one (or, with ``encrypt``, one derived
        from the store) is kept there. The local core encrypts with it from now on."""
        ek = await local.get_user_data(ENCRYPTION_USER_DATA)
        if ek is None:
            ek = self._encryption_key
            if ek is None and self._encrypt:
                ek = (await self.store.create_key_pair(ENCRYPTION_USER_DATA)).secret_key[:KEY_BYTES]
            if ek is not None:
                await local.set_user_data(ENCRYPTION_USER_DATA, ek)
        if ek is None:
            if self._encrypted:
                raise AutobaseLocalError("Encryption key is expected")
            return None
        await local.set_encryption_key(ek)
        return bytes(ek)

    async def aclose(self) -> None:
        await self._close()

    async def _aclose(self) -> None:
        await self._tasks.aclose()
        await self._views.aclose()
        if self._sys is not None:
            await self._sys.aclose()
        seen: set[int] = set()
        for core in [*self._cores.values(), *([self.local] if self.local else [])]:
            if id(core) not in seen:
                seen.add(id(core))
                await core.aclose()

    # --- state

    @property
    def encryption_key(self) -> bytes | None:
        """The block encryption key (JS ``base.encryptionKey``), or None: not encrypted."""
        return self._encryption_key

    def _plain(self, key: bytes, start: int, stored: list[bytes]) -> list[bytes]:
        assert self.key is not None
        return writer_blocks(self._crypt, self.key, key, start, stored)

    @property
    def writable(self) -> bool:
        """A member whose removal (if any) is not indexed yet (until then a removed indexer
        still acks, so the removal can be indexed)."""
        if self.local is None or self.local.key not in self._members:
            return False
        return self._replay is None or self.local.key not in self._replay.removed

    @property
    def members(self) -> list[bytes]:
        """The writers added and not removed (a removal counts once indexed)."""
        removed = self._replay.removed if self._replay is not None else set()
        return [k for k in self._members if k not in removed]

    @property
    def reboots(self) -> int:
        """How many times the indexer set changed (JS linearizer reboots)."""
        assert self._replay is not None
        return self._replay.reboots

    @property
    def indexers(self) -> list[bytes]:
        """The current indexer keys (JS ``system.indexers``)."""
        assert self._replay is not None and self._replay.system is not None
        return self._replay.system.indexer_keys

    @property
    def indexed(self) -> list[tuple[bytes, int]]:
        """The indexed nodes so far as ``(writer key, length)``, in order."""
        assert self._replay is not None
        return [(n.writer.key, n.length) for n in self._replay.indexed]

    @property
    def frozen_writers(self) -> dict[bytes, int]:
        """Writers whose block at that index did not decode: nothing after it is read (JS)."""
        assert self._replay is not None
        return dict(self._replay.frozen)

    def note_member(self, key: bytes) -> None:
        """A writer was added by ``apply`` (see :class:`Host`)."""
        self._members[key] = None
        self._writers[key] = None

    async def view_core(self, name: str, *, tip: bool = False) -> ViewCoreInfo:
        """View ``name``'s core as JS derives it (key, indexed length, tree hash). ``tip=True``:
        the length and tree hash of everything applied, unindexed nodes included (JS's view
        session ``length``/``treeHash()``)."""
        assert self.key is not None
        index = list(self._views.views).index(name)
        length = self._views.lengths[index] if tip else self._state.final_lengths[index]
        key = keys.view_key(
            self.key,
            self._signers,
            name,
            prologue=self._prologues.get(name),
            encryption_key=self._encryption_key,
        )
        return ViewCoreInfo(key, length, await self._views.tree_hash(name, length))

    def _signer_of(self, key: bytes) -> bytes:
        core = self.local if self.local is not None and self.local.key == key else self._cores.get(key)
        manifest = None if core is None else core.manifest
        if manifest is None or not manifest.signers:
            raise AutobaseLocalError(f"no manifest for indexer {key.hex()}")
        return manifest.signers[0].public_key

    async def _migrate(self, indexers: Sequence[bytes], lengths: Sequence[int]) -> None:
        """The indexer set is now ``indexers``: every view moves to a core they sign, prologued
        by its content at ``lengths`` (JS ``_generateNextViews``)."""
        self._signers = [self._signer_of(k) for k in indexers]
        for name, length in zip(list(self._views.views), lengths, strict=False):
            if length:
                self._prologues[name] = Prologue(await self._views.tree_hash(name, length), length)
            else:
                self._prologues[name] = None

    # --- writing and reading

    @property
    def is_indexer(self) -> bool:
        """Whether the local writer is one of the current indexers."""
        return self.local is not None and self._replay is not None and self.local.key in self.indexers

    async def append(self, value: Any | Sequence[Any]) -> int:
        """Append one value (or a list, as one batch); returns the local core's length."""
        self._check()
        async with self._lock:
            return await self._append(value)

    async def _append(self, value: Any | Sequence[Any]) -> int:
        if not self.writable:
            raise NotWritableError("Not writable")
        self._ack_tick = 0  # JS _resetAckTick: an own node acks what came before
        self._ack_tick_threshold = _random2over1(max(1, len(self.indexers)) * self.ack_threshold)
        assert self.local is not None and self._replay is not None and self.local.key is not None
        values: list[Any] = list(value) if isinstance(value, list) else [value]
        raw = [None if v is None else self._encoding.encode(v) for v in values]
        blocks = self._replay.append_local(self.local.key, raw)
        await self._drain()  # JS applies, then writes the local nodes with their checkpoints
        blocks = await self._checkpoint_blocks(blocks)
        await self.local.append([encode(oplog_message, b) for b in blocks])
        self._fed[self.local.key] = self.local.length
        await self._update_signed_length()
        return self.local.length

    async def ack(self) -> int:
        """Append an ack (a node with no value: it only links the DAG's heads)."""
        return await self.append(None)

    async def update(self, *, wait: bool = False) -> None:
        """Read what the writers' cores hold, linearize and apply. ``wait=True``: first ask the
        peers of each writer core for its latest length (waiting for one to connect, up to
        ``PEER_TIMEOUT`` seconds) and wait for the blocks."""
        self._check()
        async with self._lock:
            await self._drain(wait)
        if self.ack_threshold and self._ack_tick >= self._ack_tick_threshold:
            self._ack_now.set()  # JS: enough remote nodes since the last ack, ack soon

    # --- automatic acks (JS ``ackInterval``/``ackThreshold``, ``_backgroundAck``)

    async def _ack_loop(self) -> None:
        while not self._close.started:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ack_now.wait(), _random2over1(self.ack_interval))
            self._ack_now.clear()
            await self.auto_ack()

    async def auto_ack(self) -> bool:
        """What the ack timer does: update, then append an ack if the local writer is an
        indexer and the linearizer says one is needed (JS ``shouldAck``: never a self-ack).
        Returns whether it acked."""
        self._check()
        async with self._lock:
            await self._drain()
            assert self._replay is not None and self.local is not None and self.local.key is not None
            writer = self._replay.writers.get(self.local.key)
            if self._is_pending_indexer():
                await self._append(None)  # JS: an added indexer always acks its first node
                return True
            if not self.is_indexer or not self._replay.linearizer.should_ack(
                writer, self._pending_indexers()
            ):
                return False
            await self._append(None)
            return True

    def _is_pending_indexer(self) -> bool:
        """JS ``isLocalPendingIndexer``: the local writer was added as an indexer and has not
        written yet (it becomes an indexer once its first node is indexed, so it must ack)."""
        assert self._replay is not None and self.local is not None
        system = self._replay.system
        return (
            system is not None
            and self.local.key in system.pending
            and self.local.key != self.key
            and self.local.length == 0
        )

    def _pending_indexers(self) -> bool:
        """JS ``hasPendingIndexers`` (the applied system has more indexers than the
        linearizer): a pending indexer has nodes that are linearized but not indexed yet."""
        assert self._replay is not None
        system = self._replay.system
        if system is None:
            return False
        return any((w := self._replay.writers.get(k)) is not None and w.length > 0 for k in system.pending)

    def _check(self) -> None:
        if not self.opened:
            raise AutobaseLocalError("call ready() first")
        if self._close.started:
            raise AutobaseClosingError("Autobase is closing")

    async def _sync(self, core: Hypercore) -> None:
        """Wait for a peer of ``core`` (its ``peer-add``), then for its newest length."""
        if not core.peers:
            added: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def on_peer(*_: Any) -> None:
                if not added.done():
                    added.set_result(None)

            off = core.on("peer-add", on_peer)
            try:
                if not core.peers:
                    await asyncio.wait_for(added, PEER_TIMEOUT)
            finally:
                off()
        await core.update(wait=True)

    async def _feed(self, wait: bool = False) -> bool:
        assert self._replay is not None and self.local is not None
        fed_any = False
        for key in list(dict.fromkeys([*self._members, *self._writers])):
            if key == self.local.key:
                continue
            core = self._cores.get(key)
            if core is None:
                core = self._cores[key] = await self.store.get(key=key, encryption_key=self._encryption_key)
            if wait:
                await self._sync(core)
            start = self._fed.get(key, 0)
            if wait:
                stored = [
                    await core.get(i, raw=True, timeout=PEER_TIMEOUT) for i in range(start, core.length)
                ]
            else:
                stored = await self._stored_blocks(key, core, start)
            blocks = self._plain(key, start, stored)
            if blocks:
                self._ack_tick += len(blocks)
                self._replay.feed(key, blocks)
                # what was read: the core may have grown while its blocks were read
                self._fed[key] = start + len(blocks)
                fed_any = True
        return fed_any

    async def _stored_blocks(self, key: bytes, core: Hypercore, start: int) -> list[bytes]:
        """The blocks from ``start`` the store holds or a connected peer claims, up to the
        first one nobody reachable has (JS ``Writer`` reads what it can get; a peer that
        announced a length may be gone before it sent the blocks, so never wait on a block no
        connected peer has). What is missing is downloaded (JS autobase downloads every
        writer core) for a later update to read."""
        blocks: list[bytes] = []
        for i in range(start, core.length):
            block: bytes | None = None
            if await core.has(i) or _reachable(core, i):
                # the claiming peer may leave (or its link drop) before it answers
                with contextlib.suppress(BlockRequestTimeoutError, BlockNotAvailableError):
                    block = await core.get(i, raw=True, timeout=PEER_TIMEOUT)
            if block is None:
                if self._wanted.get(key, 0) < core.length:
                    self._wanted[key] = core.length
                    core.download(i, core.length)
                break
            blocks.append(block)
        return blocks

    def _adds_of(self, node: DagNode) -> list[tuple[bytes, bool]]:
        """The writers ``apply`` added for the batch ending at ``node`` (what the system sees)."""
        return self._host_calls.get((node.writer.key, node.length), [])

    def _removes_of(self, node: DagNode) -> list[bytes]:
        """The writers ``apply`` removed for the batch ending at ``node``."""
        return self._host_removes.get((node.writer.key, node.length), [])

    async def _drain(self, wait: bool = False) -> None:
        assert self._replay is not None
        while True:
            members = len(self._members)
            await self._feed(wait)
            unsettled = False
            for step in self._replay.steps():
                if isinstance(step, Rebooted):  # the indexer set changed: roll back, re-apply
                    lengths = self._state.rebase(step.kept)
                    await self._write_system()
                    assert self._replay.system is not None
                    await self._migrate(self._replay.system.indexer_keys, lengths)
                    await self._views.truncate(lengths)
                    unsettled = False
                    continue
                if unsettled:
                    self._state.settle()
                    await self._write_system()
                plan = self._state.plan(step)
                if plan.truncate_to is not None:
                    await self._views.truncate(plan.truncate_to)
                for batch in plan.batches:
                    nodes = [
                        dataclasses.replace(n, value=self._encoding.decode(n.value)) for n in batch.nodes
                    ]
                    self._host.calls = []
                    self._host.removes = []
                    self._host.ops = []
                    if nodes:
                        await self._apply(nodes, self.view, self._host)
                    self._host_calls[(batch.key, batch.length)] = self._host.calls
                    self._host_removes[(batch.key, batch.length)] = self._host.removes
                    self._host_ops[(batch.key, batch.length)] = self._host.ops
                    self._state.applied(batch, self._views.lengths)
                unsettled = True
            if unsettled:
                self._state.settle()
                await self._write_system()
            if len(self._members) == members:
                await self._update_signed_length()
                return

    # --- the system view and checkpoints (JS lib/system.js, CheckpointCore, _appendLocalNodes)

    async def _user_tree_hash(self, index: int, length: int) -> bytes:
        return await self._views.tree_hash(list(self._views.views)[index], length)

    async def _write_system(self) -> None:
        """Write the system flushes of the batches that became final (indexed)."""
        assert self._sys is not None
        for r in self._state.take_settled():
            b = r.batch
            ops = self._host_ops.get((b.key, b.length), [])
            await self._sys.apply(
                SystemBatch(b.key, b.length, b.skip_system, b.system_nodes, tuple(ops), r.view_lengths),
                list(self._views.views),
            )

    @property
    def system_bee(self) -> Hyperbee:
        """The ``_system`` Hyperbee as written so far (its indexed part; binary keys/values:
        ``01 00 || writer key`` -> member records, ``00 00 'info'`` -> the info record)."""
        assert self._sys is not None
        return self._sys.bee

    async def system_core(self) -> ViewCoreInfo:
        """The system view core as JS has it: its key, indexed length and tree hash."""
        assert self._sys is not None
        return ViewCoreInfo(self._sys.key, self._sys.length, await self._sys.tree_hash())

    @property
    def signed_length(self) -> int:
        """How much of the system core a quorum of the indexers signed (JS ``signedLength``):
        read from each indexer's latest checkpoint, each signature verified against the
        system core Python wrote."""
        return self._signed_length

    async def _indexer_checkpoint(self, key: bytes) -> tuple[bytes, IndexCheckpoint] | None:
        """An indexer's latest (digest key, system signature), as JS ``CheckpointCore``."""
        assert self.local is not None
        core = self.local if key == self.local.key else self._cores.get(key)
        if core is None:
            return None
        length = core.length if core is self.local else self._fed.get(key, 0)

        async def block(i: int) -> OplogMessage | None:
            if not 0 <= i < length:
                return None
            raw = await core.get(i, raw=True, wait=False)
            if raw is None:
                return None
            if self._crypt is not None:
                raw = self._crypt.decrypt_writer_block(key, i, raw)
            try:
                msg: OplogMessage = decode(oplog_message, raw)
            except DecodeError:
                return None
            return msg

        last = await block(length - 1)
        if last is None or last.digest is None or last.checkpoint is None:
            return None
        dig: Digest | None = last.digest
        if dig is not None and dig.key is None:
            prev = await block(length - 1 - dig.pointer) if dig.pointer else None
            dig = prev.digest if prev is not None else None
        system = last.checkpoint.system
        if dig is None or dig.key is None or system is None:
            return None
        sig = system.checkpoint
        if sig is None and system.checkpointer:
            prev = await block(length - 1 - system.checkpointer)
            chk = prev.checkpoint if prev is not None else None
            sig = chk.system.checkpoint if chk is not None and chk.system is not None else None
        return None if sig is None else (dig.key, sig)

    async def _update_signed_length(self) -> None:
        """JS ``maybeSigned``: the quorum-th largest system signature of the indexers that agree
        on the system core key (signatures past the indexed system or not verifying count 0)."""
        assert self._sys is not None
        indexers = self._sys.indexer_keys
        if not indexers:
            return
        quorum = len(indexers) // 2 + 1
        lengths: list[int] = []
        for key in indexers:
            got = await self._indexer_checkpoint(key)
            n = 0
            if got is not None and got[0] == self._sys.key and 0 < got[1].length <= self._sys.length:
                signable = caps.tree_signable(
                    self._sys.key, await self._sys.tree_hash(got[1].length), got[1].length, 0
                )
                if crypto.verify(signable, got[1].signature, self._signer_of(key)):
                    n = got[1].length
            lengths.append(n)
        lengths.sort(reverse=True)
        # a migrated core's prologue counts as signed (hypercore copyPrologue)
        self._signed_length = max(self._signed_length, self._sys.prologue_length, lengths[quorum - 1])

    async def system_tree_hash(self, length: int) -> bytes:
        """The tree hash of the system core's first ``length`` (indexed) blocks."""
        assert self._sys is not None
        return await self._sys.tree_hash(length)

    def _make_digest(self, length: int, key: bytes) -> Digest:
        if self._digest is not None and self._digest[0] == key:
            return Digest(length - self._digest[1], None)
        self._digest = (key, length)
        return Digest(0, key)

    async def _checkpoint_blocks(self, blocks: list[OplogMessage]) -> list[OplogMessage]:
        """Add JS's checkpoint (an indexer's signatures of the indexed system, encryption and
        user view cores) and digest (the system core key) to the local writer's new blocks."""
        assert self._sys is not None and self.local is not None and self.local.key is not None
        start = self.local.length
        key = self._sys.key
        out: list[OplogMessage] = []
        if self.local.key not in self._sys.indexer_keys:
            for i, b in enumerate(blocks):
                out.append(dataclasses.replace(b, digest=self._make_digest(start + i + 1, key)))
            return out
        signed = self._sig_system.length if self._sig_system is not None else 0
        signed_at = 0
        sigs = None
        if self._sys.length > signed:
            kp = self.local.key_pair
            assert kp is not None
            sigs = await self._sys.sign(kp.secret_key)
            signed_at = start + len(blocks)
        for i, b in enumerate(blocks):
            length = start + i + 1
            if length == signed_at and sigs is not None:
                (ss, sl), (es, el), user = sigs
                self._sig_system = Signature(ss, sl, length)
                self._sig_encryption = Signature(es, el, length)
                prev = self._sig_user
                self._sig_user = [
                    Signature(u[0], u[1], length) if u is not None else (prev[j] if j < len(prev) else None)
                    for j, u in enumerate(user)
                ]
            chk = Checkpoint(
                _checkpointer(length, self._sig_system),
                _checkpointer(length, self._sig_encryption),
                [c for c in (_checkpointer(length, u) for u in self._sig_user) if c is not None]
                if self._sig_user
                else None,
            )
            out.append(dataclasses.replace(b, checkpoint=chk, digest=self._make_digest(length, key)))
        return out


def _checkpointer(length: int, sig: Signature | None) -> Checkpointer | None:
    """JS ``makeCheckpoint``: the signature here, or how many blocks back it is."""
    if sig is None:
        return None
    back = length - sig.at
    return Checkpointer(back, IndexCheckpoint(sig.signature, sig.length) if back == 0 else None)


def _reachable(core: Hypercore, index: int) -> bool:
    """Whether a connected peer of ``core`` claims block ``index``."""
    return any(peer.has_block(index) for peer in core.peers)

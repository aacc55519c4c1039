"""Corestore (JS ``corestore`` 7.12.5): many Hypercores under one directory and one primary key,
replicated together over one connection per peer.

Invariants:

* One open core per discovery key, shared by every session any store view hands out: the store
  keeps one internal *anchor* session per open core, and ``get`` returns ``anchor.session()``.
  A core closes when its last user session is closed and no open replication channel uses it
  (or, a core opened for a remote, when its streams end); it closes with the root store anyway.
* Layout of a directory store: ``<dir>/primary-key`` (see :mod:`.primary_key`) and one SQLite
  database for every core, ``<dir>/corestore.db`` (a :class:`StoreDatabase`: one file, one
  connection, one writer; each core is named by its discovery key), opened by :meth:`ready` and
  closed with the root store. A core stored by an older version in its own directory,
  ``<dir>/cores/<discovery key hex>/core.db``, is still opened from there (it is not moved).
  ``Corestore(None)`` keeps everything in memory (cores survive closing and reopening within the
  store's lifetime).
* Named cores derive from the primary key exactly as in JS (:mod:`.keys`); ``namespace(name)`` and
  ``session()`` return views sharing the root's cores, streams and primary key; closing a view
  closes only the sessions it handed out; closing the root closes every view and core.
* ``replicate(stream)`` puts every open core on the stream's Protomux (one ``hypercore/alpha``
  channel per core), attaches cores opened later to every live stream, and answers a remote's
  OPEN for a core it does not have open by opening it when it is in storage (JS ``_attachMaybe``);
  otherwise protomux rejects the channel. The store never learns a key from a discovery key: the
  core must already be stored.
* Every task the store starts (handshake waits, stream watchers, core closes) is owned and ended
  by :meth:`Corestore.aclose`. Streams passed to ``replicate`` belong to the caller and are not
  closed by the store (their channels for our cores are).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperpunch import crypto
from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.corestore.errors import (
    CorestoreClosedError,
    CorestoreLocalError,
    InvalidCoreOptionsError,
    PrimaryKeyMismatchError,
    StorageEmptyError,
    UnsafePrimaryKeyError,
)
from hyperpunch.corestore.keys import DEFAULT_NAMESPACE, create_key_pair, default_manifest, generate_namespace
from hyperpunch.corestore.primary_key import load_or_create_primary_key
from hyperpunch.crypto import KeyPair
from hyperpunch.hypercore import manifest as man
from hyperpunch.hypercore.errors import HypercoreError
from hyperpunch.hypercore.messages import Manifest
from hyperpunch.hypercore.replication import attach_replicator, replicate
from hyperpunch.hypercore.replication.protocol import PROTOCOL
from hyperpunch.hypercore.session import EncodingArg, Hypercore
from hyperpunch.hypercore.storage import DB_NAME, MemoryStorage, StoreDatabase
from hyperpunch.protomux import Protomux, ProtomuxCore

__all__ = ["Corestore"]

log = logging.getLogger(__name__)

CORES_DIR = "cores"
STORE_DB = "corestore.db"


def _key_bytes(key: bytes | str, what: str) -> bytes:
    if isinstance(key, str):
        try:
            raw = bytes.fromhex(key)
        except ValueError as err:
            raise InvalidCoreOptionsError(f"{what} must be 32 bytes or 64 hex characters") from err
    elif isinstance(key, bytes | bytearray | memoryview):
        raw = bytes(key)
    else:
        raise InvalidCoreOptionsError(f"{what} must be bytes or a hex string")
    if len(raw) != 32:
        raise InvalidCoreOptionsError(f"{what} must be 32 bytes")
    return raw


@dataclass(eq=False)
class _Entry:
    """One open core: its anchor session and how many user sessions use it."""

    id: str
    discovery_key: bytes
    anchor: Hypercore
    refs: int = 0


@dataclass(eq=False)
class _StreamRecord:
    mux: Any
    is_initiator: bool
    handshake_hash: bytes


@dataclass(eq=False)
class _Root:
    """What a store and all its views share."""

    directory: Path | None
    durable: bool
    primary_key: bytes | None = None
    entries: dict[str, _Entry] = field(default_factory=dict)
    opening: dict[str, asyncio.Future[_Entry]] = field(default_factory=dict)
    closing: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    memory: dict[str, MemoryStorage] = field(default_factory=dict)
    db: StoreDatabase | None = None
    older_layout: bool = False  # <dir>/cores/ exists (checked when the store opens)
    open_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    streams: dict[int, _StreamRecord] = field(default_factory=dict)
    tasks: TaskOwner = field(default_factory=lambda: TaskOwner("corestore"))
    views: set[Corestore] = field(default_factory=set)
    closed: bool = False


class Corestore:
    """A store of Hypercores (see the module docstring); use ``async with Corestore(dir) as store``."""

    def __init__(
        self,
        storage: str | os.PathLike[str] | None,
        *,
        primary_key: bytes | None = None,
        unsafe: bool = False,
        namespace: bytes | None = None,
        manifest_version: int = 1,
        writable: bool = True,
        durable: bool = False,
        compat: bool = False,
        _root: _Root | None = None,
    ) -> None:
        if primary_key is not None and _root is None and not unsafe:
            raise UnsafePrimaryKeyError(
                "Passing the primary key is unsafe unless you know what you are doing. "
                "Set unsafe=True to acknowledge that"
            )
        if primary_key is not None and len(primary_key) != 32:
            raise CorestoreLocalError("primary key must be 32 bytes", code="BAD_ARGUMENT")
        if namespace is not None and len(namespace) != 32:
            raise CorestoreLocalError("namespace must be 32 bytes", code="BAD_ARGUMENT")
        self._is_root = _root is None
        self._root = _root or _Root(None if storage is None else Path(storage), durable)
        self._explicit_primary_key = None if primary_key is None else bytes(primary_key)
        self.ns = DEFAULT_NAMESPACE if namespace is None else bytes(namespace)
        self.manifest_version = manifest_version or 1
        # compat (JS corestore 6's default): a core made from a key pair is keyed by its public key
        self.compat = compat
        self.writable = writable
        self._sessions: set[Hypercore] = set()
        self.opened = False
        self.closed = False
        self._close_once = CloseOnce(self._close)
        if not self._is_root:
            self._root.views.add(self)

    # --- lifecycle -------------------------------------------------------------------------------

    async def ready(self) -> None:
        """Open the store: load (or create) the primary key, open the store database (in a worker
        thread: creating it waits for the disk). Idempotent."""
        if self.opened:
            return
        self._check_open()
        root = self._root
        if root.primary_key is None:
            if not self._is_root:
                raise CorestoreClosedError("the root store is not open: await root.ready() first")
            async with root.open_lock:
                if root.primary_key is None:
                    await self._open_root()
        self.opened = True

    async def _open_root(self) -> None:
        root = self._root
        if root.directory is None:
            stored = self._explicit_primary_key or crypto.random_bytes(32)
        else:
            stored = load_or_create_primary_key(root.directory, self._explicit_primary_key)
        if self._explicit_primary_key is not None and stored != self._explicit_primary_key:
            raise PrimaryKeyMismatchError("Another corestore is stored here")
        if root.directory is not None:
            root.older_layout = (root.directory / CORES_DIR).is_dir()
            db = await asyncio.to_thread(StoreDatabase, root.directory / STORE_DB, durable=root.durable)
            if root.closed:
                await asyncio.to_thread(db.close)
                raise CorestoreClosedError("Corestore is closed")
            root.db = db
        root.primary_key = stored

    async def __aenter__(self) -> Corestore:
        await self.ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close this view's sessions; the root also closes every view, core and task. Every call
        waits for the one close."""
        self.closed = True
        await self._close_once()

    async def _close(self) -> None:
        root = self._root
        await asyncio.gather(*(s.aclose() for s in list(self._sessions)), return_exceptions=True)
        self._sessions.clear()
        if not self._is_root:
            root.views.discard(self)
            return
        root.closed = True
        await asyncio.gather(*(v.aclose() for v in list(root.views)), return_exceptions=True)
        for rec in root.streams.values():
            with contextlib.suppress(Exception):
                rec.mux.unpair(PROTOCOL)
        root.streams.clear()
        opening = list(root.opening.values())
        if opening:
            await asyncio.wait(opening)  # never cancels them: their openers see root.closed
        entries = list(root.entries.values())
        root.entries.clear()
        await asyncio.gather(*(e.anchor.aclose() for e in entries), return_exceptions=True)
        closing = list(root.closing.values())
        if closing:  # core closes already under way finish (they are not cancelled)
            await asyncio.wait(closing)
        await root.tasks.aclose()
        root.closing.clear()
        if root.db is not None:  # closing checkpoints the log (fsync): not on the loop
            await asyncio.to_thread(root.db.close)

    close = aclose

    def _check_open(self) -> None:
        if self.closed or self._root.closed:
            raise CorestoreClosedError("Corestore is closed")

    # --- views -----------------------------------------------------------------------------------

    @property
    def primary_key(self) -> bytes:
        pk = self._root.primary_key
        if pk is None:
            raise CorestoreClosedError("the store is not open: await ready() first")
        return pk

    @property
    def directory(self) -> Path | None:
        return self._root.directory

    def session(self, *, writable: bool | None = None, manifest_version: int | None = None) -> Corestore:
        """A view on the same cores in the same namespace; closing it closes only its sessions."""
        self._check_open()
        view = Corestore(
            None,
            namespace=self.ns,
            manifest_version=self.manifest_version if manifest_version is None else manifest_version,
            writable=self.writable if writable is None else writable,
            compat=self.compat,
            _root=self._root,
        )
        view.opened = self._root.primary_key is not None
        return view

    def namespace(self, name: str | bytes, *, writable: bool | None = None) -> Corestore:
        """A view whose named cores live in child namespace ``name`` (JS ``store.namespace``)."""
        self._check_open()
        view = self.session(writable=writable)
        view.ns = generate_namespace(self.ns, name)
        return view

    async def create_key_pair(self, name: str | bytes, ns: bytes | None = None) -> KeyPair:
        """The key pair of core ``name`` in this view's namespace (JS ``createKeyPair``)."""
        await self.ready()
        return create_key_pair(self.primary_key, self.ns if ns is None else ns, name)

    # --- storage ---------------------------------------------------------------------------------

    def _core_dir(self, dk_hex: str) -> Path:
        assert self._root.directory is not None
        return self._root.directory / CORES_DIR / dk_hex

    def _older_core_dir(self, dk_hex: str) -> Path | None:
        """The directory an older version stored this core in, if there is one."""
        root = self._root
        if root.directory is None or not root.older_layout:
            return None
        path = self._core_dir(dk_hex)
        return path if (path / DB_NAME).is_file() else None

    def has_core(self, discovery_key: bytes) -> bool:
        """Whether a core with this discovery key is open or stored here."""
        dk_hex = bytes(discovery_key).hex()
        root = self._root
        if dk_hex in root.entries:
            return True
        if root.directory is None:
            return dk_hex in root.memory
        if root.db is not None and root.db.has_core(bytes(discovery_key)):
            return True
        return self._older_core_dir(dk_hex) is not None

    def list(self) -> list[bytes]:
        """Discovery keys of every core in storage (open or not), sorted."""
        root = self._root
        if root.directory is None:
            ids = set(root.memory)
        else:
            base = root.directory / CORES_DIR
            ids = set()
            if root.db is not None:
                ids.update(n.hex() for n in root.db.names() if len(n) == 32)
            if base.is_dir():
                for child in base.iterdir():
                    if len(child.name) == 64 and (child / DB_NAME).is_file():
                        ids.add(child.name)
        ids.update(root.entries)
        return [bytes.fromhex(i) for i in sorted(ids)]

    def opened_cores(self) -> Iterator[Hypercore]:
        """The anchor session of every open core (read-only use: do not close them)."""
        return iter([e.anchor for e in self._root.entries.values()])

    # --- getting cores ---------------------------------------------------------------------------

    async def get(
        self,
        key: bytes | str | None = None,
        *,
        name: str | bytes | None = None,
        key_pair: KeyPair | None = None,
        manifest: Manifest | None = None,
        discovery_key: bytes | str | None = None,
        value_encoding: EncodingArg = None,
        writable: bool | None = None,
        wait: bool = True,
        timeout: float | None = None,
        create_if_missing: bool = True,
        encryption_key: bytes | None = None,
    ) -> Hypercore:
        """A new session on the core given by ``name`` (derived in this namespace), ``key``,
        ``key_pair``, ``manifest`` or (stored cores only) ``discovery_key``. Close it when done."""
        self._check_open()
        await self.ready()
        if name is not None and len(name) == 0:
            name = None  # JS treats an empty name as no name
        kp: KeyPair | None = None
        if name is not None:
            kp = create_key_pair(self.primary_key, self.ns, name)
        elif key_pair is not None:
            kp = key_pair
        core_key = None if key is None else _key_bytes(key, "key")
        dk = None if discovery_key is None else _key_bytes(discovery_key, "discovery key")
        if self.compat and kp is not None and manifest is None and core_key is None and dk is None:
            core_key = kp.public_key  # a compat core (hypercore 10 / corestore 6)
        if manifest is None and kp is not None and (dk is None or core_key is not None):
            manifest = default_manifest(kp.public_key, self.manifest_version)
        if core_key is None and manifest is not None:
            core_key = man.manifest_hash(manifest)
        if core_key is not None:
            derived = crypto.discovery_key(core_key)
            if dk is not None and dk != derived:
                raise InvalidCoreOptionsError("discovery key does not match the key")
            dk = derived
        if dk is None:
            raise InvalidCoreOptionsError("Could not derive discovery from input")
        if core_key is None and not self.has_core(dk):
            raise StorageEmptyError("No Hypercore is stored here")
        entry = await self._open_entry(
            dk,
            key=core_key,
            key_pair=kp,
            manifest=manifest,
            create_if_missing=create_if_missing,
            encryption_key=encryption_key,
        )
        self._check_open()
        can_write = self.writable if writable is None else writable
        session = entry.anchor.session(
            value_encoding=value_encoding, writable=can_write, wait=wait, timeout=timeout
        )
        entry.refs += 1
        self._sessions.add(session)
        session.once("close", lambda: self._on_session_close(entry, session))
        return session

    async def _open_entry(
        self,
        dk: bytes,
        *,
        key: bytes | None,
        key_pair: KeyPair | None,
        manifest: Manifest | None,
        create_if_missing: bool,
        encryption_key: bytes | None,
    ) -> _Entry:
        root = self._root
        dk_hex = dk.hex()
        while True:
            entry = root.entries.get(dk_hex)
            if entry is not None:
                if key_pair is not None and entry.anchor.key_pair is None:
                    # a core opened read-only (e.g. for a remote) that we now hold the keys of
                    await self._close_entry(entry)
                    continue
                return entry
            pending = root.opening.get(dk_hex)
            if pending is not None:
                await asyncio.shield(pending)
                continue
            closing = root.closing.get(dk_hex)
            if closing is not None:
                await asyncio.shield(closing)
                continue
            break
        fut: asyncio.Future[_Entry] = asyncio.get_running_loop().create_future()
        root.opening[dk_hex] = fut
        try:
            entry = await self._create_entry(dk, key, key_pair, manifest, create_if_missing, encryption_key)
        except BaseException as err:
            if not fut.done():
                fut.set_exception(err)
                fut.exception()  # retrieved: waiters re-check the state instead
            raise
        finally:
            del root.opening[dk_hex]
        if root.closed:
            closed = CorestoreClosedError("Corestore is closed")
            if not fut.done():
                fut.set_exception(closed)
                fut.exception()
            await entry.anchor.aclose()
            raise closed
        root.entries[dk_hex] = entry
        if not fut.done():
            fut.set_result(entry)
        self._attach_everywhere(entry)
        return entry

    async def _create_entry(
        self,
        dk: bytes,
        key: bytes | None,
        key_pair: KeyPair | None,
        manifest: Manifest | None,
        create_if_missing: bool,
        encryption_key: bytes | None,
    ) -> _Entry:
        root = self._root
        dk_hex = dk.hex()
        storage: Any
        fresh = False
        if root.directory is None:
            storage = root.memory.get(dk_hex)
            if storage is None:
                if not create_if_missing:
                    raise StorageEmptyError("No Hypercore is stored here")
                storage = MemoryStorage()
        elif (older := self._older_core_dir(dk_hex)) is not None:
            storage = older  # stored by an older version: its own directory
        else:
            if root.db is None:
                raise CorestoreClosedError("the store is not open: await ready() first")
            storage = root.db.core(dk)
            if not storage.stored:
                if not create_if_missing:
                    raise StorageEmptyError("No Hypercore is stored here")
                fresh = True
        anchor = Hypercore(
            storage,
            key,
            key_pair=key_pair,
            manifest=manifest,
            encryption_key=encryption_key,
            create_if_missing=create_if_missing,
            durable=root.durable,
        )
        try:
            await anchor.ready()
        except BaseException:
            await anchor.aclose()
            if fresh and root.db is not None and not root.db.closed:
                root.db.delete_core(dk)
            raise
        if anchor.discovery_key != dk:
            await anchor.aclose()
            raise CorestoreLocalError(
                "the stored core does not match its discovery key", code="STORAGE_CONFLICT"
            )
        if root.directory is None:
            root.memory[dk_hex] = storage
        core = anchor.core
        if core.replicator is None:
            # every store core has its replicator from the start (as in JS), so blocks wanted
            # before any stream exists are asked for as soon as one does
            attach_replicator(core)
        return _Entry(dk_hex, dk, anchor)

    def _on_session_close(self, entry: _Entry, session: Hypercore) -> None:
        self._sessions.discard(session)
        entry.refs -= 1
        if entry.refs <= 0:
            self._gc_maybe(entry)

    def _gc_maybe(self, entry: _Entry) -> None:
        root = self._root
        if root.closed or entry.refs > 0 or root.entries.get(entry.id) is not entry:
            return
        core = entry.anchor.core_or_none
        if core is not None and any(s is not entry.anchor for s in core.listeners):
            return  # a session the caller derived with session.session() still uses it
        if core is not None and root.streams and core.replicator is not None and core.replicator.peers:
            return  # still replicating: closed when its streams end
        del root.entries[entry.id]
        task = self._root.tasks.spawn(entry.anchor.aclose())
        root.closing[entry.id] = task

        def done(_: asyncio.Task[None]) -> None:
            if root.closing.get(entry.id) is task:
                del root.closing[entry.id]

        task.add_done_callback(done)

    async def _close_entry(self, entry: _Entry) -> None:
        root = self._root
        if root.entries.get(entry.id) is entry:
            del root.entries[entry.id]
        await entry.anchor.aclose()

    # --- replication -----------------------------------------------------------------------------

    def replicate(
        self,
        stream: Any,
        *,
        is_initiator: bool | None = None,
        handshake_hash: bytes | None = None,
    ) -> Any:
        """Replicate every core over ``stream`` (a SecretStream, or a Protomux over one); returns
        the Protomux. Cores opened later join; a remote may open any core stored here."""
        self._check_open()
        if isinstance(stream, Protomux | ProtomuxCore):
            mux: Any = stream
            raw = getattr(stream, "stream", None)
        else:
            mux = Protomux.from_stream(stream)
            raw = stream
        if is_initiator is None:
            if raw is None:
                raise CorestoreLocalError("pass is_initiator= for a bare protomux", code="BAD_ARGUMENT")
            is_initiator = bool(raw.is_initiator)
        hh = handshake_hash if handshake_hash is not None else getattr(raw, "handshake_hash", None)
        if hh is not None:
            self._start_stream(mux, is_initiator, hh)
        elif raw is not None and hasattr(raw, "wait_open"):
            self._root.tasks.spawn(self._start_after_handshake(mux, raw, is_initiator))
        else:
            raise CorestoreLocalError(
                "the stream has no handshake hash: pass handshake_hash=", code="BAD_ARGUMENT"
            )
        return mux

    async def _start_after_handshake(self, mux: Any, raw: Any, is_initiator: bool) -> None:
        try:
            await raw.wait_open()
        except Exception:
            return
        if not self._root.closed and raw.handshake_hash is not None:
            self._start_stream(mux, is_initiator, raw.handshake_hash)

    def _start_stream(self, mux: Any, is_initiator: bool, handshake_hash: bytes) -> None:
        root = self._root
        if root.closed or id(mux) in root.streams:
            return
        rec = _StreamRecord(mux, is_initiator, handshake_hash)
        root.streams[id(mux)] = rec

        def on_discovery_key(dk: bytes | None) -> Any:
            if dk is None or len(dk) != 32:
                raise CorestoreLocalError("Invalid discovery key", code="BAD_ARGUMENT")
            if root.closed:
                return None
            return self._attach_maybe(rec, bytes(dk))

        mux.pair(PROTOCOL, on_discovery_key)
        if root.entries:
            mux.cork()
            try:
                for entry in list(root.entries.values()):
                    self._attach(entry, rec)
            finally:
                mux.uncork()
        self._root.tasks.spawn(self._watch_stream(rec))

    async def _watch_stream(self, rec: _StreamRecord) -> None:
        wait_closed = getattr(rec.mux, "wait_closed", None)
        if wait_closed is None:
            return
        await wait_closed()
        root = self._root
        if root.streams.get(id(rec.mux)) is rec:
            del root.streams[id(rec.mux)]
        await asyncio.sleep(0)  # let the channels' close callbacks run first
        for entry in list(root.entries.values()):
            self._gc_maybe(entry)

    def _attach(self, entry: _Entry, rec: _StreamRecord) -> None:
        core = entry.anchor.core_or_none
        if core is None or core.closed or rec.mux.destroyed:
            return
        if rec.mux.opened(PROTOCOL, entry.discovery_key):
            return
        try:
            replicate(core, rec.mux, is_initiator=rec.is_initiator, handshake_hash=rec.handshake_hash)
        except HypercoreError as err:
            log.warning("could not attach core %s: %s", entry.id, err)

    def _attach_everywhere(self, entry: _Entry) -> None:
        for rec in list(self._root.streams.values()):
            self._attach(entry, rec)

    async def _attach_maybe(self, rec: _StreamRecord, dk: bytes) -> None:
        """A remote opened a channel for ``dk``: join it if we have (or store) that core."""
        root = self._root
        if root.closed or not self.has_core(dk):
            return
        try:
            entry = await self._open_entry(
                dk, key=None, key_pair=None, manifest=None, create_if_missing=False, encryption_key=None
            )
        except (HypercoreError, CorestoreLocalError) as err:
            log.debug("not opening %s for a remote: %s", dk.hex(), err)
            return
        if root.streams.get(id(rec.mux)) is rec:
            self._attach(entry, rec)

"""The public Hypercore API (JS ``hypercore/index.js``): a session over a shared :class:`Core`.

Invariants:

* ``Hypercore(storage, key, ...)`` opens (or creates) the core in ``storage``: a directory path
  (SQLite, :class:`SQLiteStorage`), a :class:`CoreStorage` object, or ``None`` (in memory).
  It is an async context manager; every session made from it with :meth:`Hypercore.session` /
  :meth:`Hypercore.snapshot` shares the same :class:`Core`, and the core (and storage it opened)
  closes when its last session closes.
* A closed session raises ``SESSION_CLOSED``; a session without a signing key pair raises
  ``SESSION_NOT_WRITABLE`` on append/truncate; ``get(wait=False)`` of a missing block returns
  ``None``; ``get(wait=True)`` waits (asking the replicator) until the block is stored, the
  ``timeout`` (seconds) passes (``REQUEST_TIMEOUT``) or the session closes (``SESSION_CLOSED``).
* Every block read is verified against the signed tree (:mod:`.integrity`): a damaged block is
  dropped (a ``storage-damage(start, end)`` event), ``get(wait=False)`` raises ``STORAGE_CORRUPT``
  naming the core and index, ``get(wait=True)`` waits for a peer to send it again, as for a
  missing block. A wrong block is never returned.
* A snapshot is frozen at the length it was made at; blocks it can no longer see because the core
  was truncated below them raise ``SNAPSHOT_NOT_AVAILABLE``.
* ``byte_length`` excludes encryption padding (as JS's getter); ``append`` returns JS's
  ``{length, byteLength}`` whose byte length is the raw tree byte length (padding included).
* Events are delivered synchronously to listeners registered with :meth:`Hypercore.on`:
  ``append()``, ``truncate(ancestors, fork)``, ``download(index, byte_length, peer)``,
  ``upload(index, byte_length, peer)``, ``peer-add(peer)``, ``peer-remove(peer)``,
  ``manifest()``, ``verification-error(err, peer)``, ``invalid-request(err, peer)`` (emitted by
  the replicator), ``ready()``, ``close()``. A listener that raises is logged, not propagated.
* Storage calls run inline on the event loop (SQLite commits take tens of microseconds); one
  directory is open at most once per process (open more sessions with :meth:`Hypercore.session`).
* This is the asyncio face of the sans-IO :class:`Core`: a session is a :class:`CoreListener` of its
  core (``on_append``, ``on_truncate``, ``emit``, ``on_extension``), and wraps the core's block and
  upgrade callbacks in futures.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypedDict

from hyperpunch import crypto
from hyperpunch.aio import CloseOnce
from hyperpunch.crypto import KeyPair
from hyperpunch.encoding import Codec, buffer
from hyperpunch.hypercore.core import MAX_SUGGESTED_BLOCK_SIZE, Core, claim_directory, release_directory
from hyperpunch.hypercore.encodings import ValueEncoding, resolve_encoding
from hyperpunch.hypercore.errors import (
    BadArgumentError,
    BlockRequestTimeoutError,
    SessionClosedError,
    SessionNotWritableError,
    SnapshotNotAvailableError,
    StorageCorruptError,
)
from hyperpunch.hypercore.extensions import Extension
from hyperpunch.hypercore.messages import Manifest
from hyperpunch.hypercore.replication import replicate
from hyperpunch.hypercore.storage import CoreStorage, MemoryStorage, SQLiteStorage, WriteBatch
from hyperpunch.hypercore.streams import ByteStream, Download, ReadStream

__all__ = ["AppendResult", "EventName", "Hypercore", "Info"]

log = logging.getLogger(__name__)

EventName = Literal[
    "append",
    "truncate",
    "download",
    "upload",
    "peer-add",
    "peer-remove",
    "manifest",
    "verification-error",
    "invalid-request",
    "storage-damage",
    "storage-error",
    "ready",
    "close",
]
Listener = Callable[..., object]


class AppendResult(TypedDict):
    length: int
    byte_length: int


class Info(TypedDict):
    key: str
    discovery_key: str
    length: int
    contiguous_length: int
    byte_length: int
    fork: int
    padding: int
    writable: bool


EncodingArg = str | Codec[Any] | ValueEncoding | None


def _key_bytes(key: bytes | str | None) -> bytes | None:
    if key is None or isinstance(key, bytes):
        return key
    try:
        raw = bytes.fromhex(key)
    except ValueError as err:
        raise BadArgumentError("key must be 32 bytes or 64 hex characters") from err
    if len(raw) != 32:
        raise BadArgumentError("key must be 32 bytes")
    return raw


class Hypercore:
    """A Hypercore session (see the module docstring for the contract)."""

    def __init__(
        self,
        storage: str | os.PathLike[str] | CoreStorage | None = None,
        key: bytes | str | None = None,
        *,
        key_pair: KeyPair | None = None,
        manifest: Manifest | None = None,
        value_encoding: EncodingArg = None,
        encryption_key: bytes | None = None,
        is_block_key: bool = False,
        writable: bool = True,
        wait: bool = True,
        timeout: float | None = None,
        create_if_missing: bool = True,
        durable: bool = False,
        _parent: Hypercore | None = None,
        _snapshot: bool = False,
    ) -> None:
        self._storage_arg = storage
        self._key_arg = _key_bytes(key)
        self._key_pair_arg = key_pair
        self._manifest_arg = manifest
        self._encryption_arg = (encryption_key, is_block_key)
        self._create_if_missing = create_if_missing
        self._durable = durable
        self.value_encoding = resolve_encoding(value_encoding)
        self.wait = wait
        self.timeout = timeout
        self._readonly = not writable
        self._parent = _parent
        self._is_snapshot = _snapshot
        self._core: Core | None = None
        self._opening: asyncio.Task[None] | None = None
        self.opened = False
        self.closed = False
        self._close_once = CloseOnce(self._close)
        self._listeners: dict[str, list[Listener]] = {}
        self._pending: set[asyncio.Future[None]] = set()
        self.extensions: dict[str, Extension] = {}
        # snapshot state
        self._snap_length = 0
        self._snap_byte_length = 0
        self._snap_fork = 0
        self._snap_compat_length = 0

    # --- lifecycle -------------------------------------------------------------------------

    async def ready(self) -> None:
        """Open the core (idempotent)."""
        if self.opened:
            return
        if self.closed:
            raise SessionClosedError("cannot open a closed session")
        if self._parent is not None and not self._parent.opened:
            await self._parent.ready()
            if self.opened:
                return
        self._open()

    def _open(self) -> None:
        if self._parent is not None:
            core = self._parent._core
            if core is None or core.closed:
                raise SessionClosedError("parent session is not open")
        else:
            storage = self._storage_arg
            owns = False
            directory: str | None = None
            if storage is None:
                storage, owns = MemoryStorage(), True
            elif isinstance(storage, str | os.PathLike):
                directory = os.path.realpath(storage)
                claim_directory(directory)
                try:
                    storage, owns = SQLiteStorage(storage, durable=self._durable), True
                except BaseException:
                    release_directory(directory)
                    raise
            try:
                core = Core.open(
                    storage,
                    key=self._key_arg,
                    key_pair=self._key_pair_arg,
                    manifest=self._manifest_arg,
                    owns_storage=owns,
                    create_if_missing=self._create_if_missing,
                )
            except BaseException:
                if owns:
                    storage.close()
                if directory is not None:
                    release_directory(directory)
                raise
            core.directory = directory
            ek, block = self._encryption_arg
            if ek is not None:
                core.set_encryption(ek, block=block)
        self._core = core
        core.listeners.append(self)
        if self._is_snapshot:
            src = self._parent if self._parent is not None and self._parent._is_snapshot else None
            if src is not None:
                self._snap_length = src._snap_length
                self._snap_byte_length = src._snap_byte_length
                self._snap_fork = src._snap_fork
                self._snap_compat_length = src._snap_compat_length
            else:
                self._snap_length = core.tree.length
                self._snap_byte_length = core.tree.byte_length
                self._snap_fork = core.tree.fork
                self._snap_compat_length = core.tree.length
        self.opened = True
        self.emit("ready")

    async def aclose(self) -> None:
        """Close this session; the core closes with its last session. Every call waits for the
        one close."""
        if not self.closed:
            self.closed = True
            for fut in list(self._pending):
                if not fut.done():
                    fut.set_exception(SessionClosedError("session closed"))
            self._pending.clear()
            core = self._core
            if core is not None and self in core.listeners:
                core.listeners.remove(self)
        await self._close_once()

    async def _close(self) -> None:
        core = self._core
        if core is not None and not core.listeners:
            await core.aclose()
        self.emit("close")

    close = aclose

    async def __aenter__(self) -> Hypercore:
        await self.ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _live(self) -> Core:
        if self.closed:
            raise SessionClosedError("session is closed")
        core = self._core
        if core is None:
            raise SessionClosedError("session is not ready: await ready() first")
        return core

    async def _ready_core(self) -> Core:
        if not self.opened and not self.closed:
            await self.ready()
        return self._live()

    # --- properties ------------------------------------------------------------------------

    @property
    def core(self) -> Core:
        """The shared core (for the replicator and tests)."""
        return self._live()

    @property
    def core_or_none(self) -> Core | None:
        """The shared core once opened, even after this session closed (``None`` before)."""
        return self._core

    @property
    def key(self) -> bytes | None:
        return self._core.key if self._core is not None else self._key_arg

    @property
    def discovery_key(self) -> bytes | None:
        k = self.key
        if self._core is not None:
            return self._core.discovery_key
        return None if k is None else crypto.discovery_key(k)

    @property
    def manifest(self) -> Manifest | None:
        return self._core.manifest if self._core is not None else None

    @property
    def key_pair(self) -> KeyPair | None:
        return self._core.key_pair if self._core is not None else None

    @property
    def length(self) -> int:
        if self._core is None:
            return 0
        return self._snap_length if self._is_snapshot else self._core.tree.length

    @property
    def fork(self) -> int:
        if self._core is None:
            return 0
        return self._snap_fork if self._is_snapshot else self._core.tree.fork

    @property
    def padding(self) -> int:
        return self._core.padding if self._core is not None else 0

    @property
    def byte_length(self) -> int:
        core = self._core
        if core is None:
            return 0
        raw = self._snap_byte_length if self._is_snapshot else core.tree.byte_length
        return raw - self.length * core.padding

    @property
    def contiguous_length(self) -> int:
        return self._core.contiguous_length if self._core is not None else 0

    @property
    def signed_length(self) -> int:
        return self.length

    @property
    def writable(self) -> bool:
        core = self._core
        if core is None or self.closed or self._readonly or self._is_snapshot:
            return False
        return core.signer(None) is not None and core.verifier is not None

    @property
    def readable(self) -> bool:
        return self.opened and not self.closed

    @property
    def snapshotted(self) -> bool:
        return self._is_snapshot

    @property
    def peers(self) -> Sequence[Any]:
        core = self._core
        if core is None or core.replicator is None:
            return []
        return core.replicator.peers

    # --- events ----------------------------------------------------------------------------

    def on(self, event: EventName, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on ``event``; returns a function that removes it."""
        self._listeners.setdefault(event, []).append(listener)
        return lambda: self.off(event, listener)

    def once(self, event: EventName, listener: Listener) -> Callable[[], None]:
        def wrapper(*args: Any) -> None:
            self.off(event, wrapper)
            listener(*args)

        return self.on(event, wrapper)

    def off(self, event: EventName, listener: Listener) -> None:
        ls = self._listeners.get(event)
        if ls and listener in ls:
            ls.remove(listener)

    def emit(self, event: str, *args: Any) -> None:
        """Call ``event``'s listeners with ``args`` (the core's :class:`CoreListener` hook)."""
        ls = self._listeners.get(event)
        if not ls:
            return
        for fn in list(ls):
            try:
                fn(*args)
            except Exception:  # a listener's bug must not break the core's state machine
                log.exception("hypercore %s listener failed", event)

    def on_append(self) -> None:
        if not self._is_snapshot:
            self.emit("append")

    def on_truncate(self, ancestors: int, fork: int) -> None:
        if self._is_snapshot:
            self._snap_compat_length = min(self._snap_compat_length, ancestors)
            return
        self.emit("truncate", ancestors, fork)

    def on_extension(self, name: str, message: bytes, peer: Any) -> None:
        ext = self.extensions.get(name)
        if ext is not None:
            ext.receive(message, peer)

    # --- writing ---------------------------------------------------------------------------

    def _encode(self, value: Any, enc: ValueEncoding) -> bytes:
        if isinstance(value, bytes):
            return value
        return enc.encode(value)

    async def append(
        self,
        blocks: Any,
        *,
        key_pair: KeyPair | None = None,
        signature: bytes | None = None,
    ) -> AppendResult:
        """Append one block or a list of blocks atomically; returns the new length/byte length."""
        core = await self._ready_core()
        if self._readonly or self._is_snapshot:
            raise SessionNotWritableError("cannot append to a readonly session")
        values = blocks if isinstance(blocks, list | tuple) else [blocks]
        enc = self.value_encoding
        bufs = [self._encode(v, enc) for v in values]
        for b in bufs:
            if len(b) > MAX_SUGGESTED_BLOCK_SIZE:
                raise BadArgumentError("Appended block exceeds the maximum suggested block size")
        length, byte_length = core.append(bufs, key_pair=key_pair, signature=signature)
        return {"length": length, "byte_length": byte_length}

    async def truncate(
        self, length: int = 0, fork: int | None = None, *, key_pair: KeyPair | None = None
    ) -> None:
        """Cut the core to ``length`` blocks, moving to fork ``fork`` (default: current + 1)."""
        core = await self._ready_core()
        if self._readonly or self._is_snapshot or core.signer(key_pair) is None:
            raise SessionNotWritableError("cannot truncate a non-writable core")
        if length < 0:
            raise BadArgumentError("length must be >= 0")
        core.truncate(length, core.tree.fork + 1 if fork is None else fork, key_pair=key_pair)

    async def clear(self, start: int, end: int | None = None) -> None:
        """Delete the local copies of blocks ``[start, end)`` (the tree and length stay)."""
        core = await self._ready_core()
        _check_index(start)
        end = start + 1 if end is None else end
        _check_index(end)
        core.clear(start, end)

    async def set_user_data(self, key: str, value: bytes | None) -> None:
        core = await self._ready_core()
        wb = WriteBatch()
        if value is None:
            wb.delete_user_data(key)
        else:
            wb.put_user_data(key, value)
        core.storage.write(wb)

    async def get_user_data(self, key: str) -> bytes | None:
        core = await self._ready_core()
        return core.storage.get_user_data(key)

    async def set_encryption_key(self, encryption_key: bytes | None, *, block: bool = False) -> None:
        """JS ``setEncryptionKey``: the core's block cipher from now on, for every session of
        it (``block=True``: the key is the block key itself; None: no encryption)."""
        core = await self._ready_core()
        core.set_encryption(encryption_key, block=block)

    # --- reading ---------------------------------------------------------------------------

    async def has(self, start: int, end: int | None = None) -> bool:
        """Whether every block in ``[start, end)`` (default: just ``start``) is stored locally."""
        core = await self._ready_core()
        _check_index(start)
        if end is None:
            return core.bitfield.get(start)
        _check_index(end)
        if end <= start:
            return True
        i = core.bitfield.first_unset(start)
        return i == -1 or i >= end

    async def get(
        self,
        index: int,
        *,
        wait: bool | None = None,
        timeout: float | None = None,
        value_encoding: EncodingArg = None,
        raw: bool = False,
        decrypt: bool = True,
    ) -> Any:
        """Block ``index`` decoded with the session's (or the given) value encoding.

        ``raw=True`` gives the stored bytes (encrypted, with padding, if the core is encrypted).
        """
        core = await self._ready_core()
        _check_index(index)
        block = await self._get_stored(core, index, wait, timeout)
        if block is None or raw:
            return block
        if core.encryption is not None and decrypt:
            block = core.encryption.decrypt(index, block)
        enc = self.value_encoding if value_encoding is None else resolve_encoding(value_encoding)
        return enc.decode(block)

    def _check_snapshot(self, index: int) -> None:
        if self._is_snapshot and index >= self._snap_compat_length:
            raise SnapshotNotAvailableError(
                f"snapshot at index {index} not available (max compat length {self._snap_compat_length})"
            )

    async def _get_stored(
        self, core: Core, index: int, wait: bool | None, timeout: float | None
    ) -> bytes | None:
        self._check_snapshot(index)
        waiting = self.wait if wait is None else wait
        try:
            block = core.read_block(index)
        except StorageCorruptError:
            if not waiting:
                raise
            block = None  # dropped (a "storage-damage" event): wait for a peer to send it again
        if block is not None:
            return block
        if not waiting:
            return None
        await self.wait_block(core, index, self.timeout if timeout is None else timeout)
        self._check_snapshot(index)
        return core.read_block(index)

    async def wait_block(
        self,
        core: Core,
        index: int,
        timeout: float | None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        """Wait until block ``index`` is stored (asking the replicator), ``cancelled()`` turns
        true when woken (:meth:`wake_waiters`), ``timeout`` passes or the session closes."""
        while not core.bitfield.get(index):
            if cancelled is not None and cancelled():
                return
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def waiter(err: BaseException | None, fut: asyncio.Future[None] = fut) -> None:
                if not fut.done():
                    if err is None:
                        fut.set_result(None)
                    else:
                        fut.set_exception(err)

            core.wait_for(index, waiter)
            self._pending.add(fut)
            try:
                if timeout is None:
                    await fut
                else:
                    try:
                        await asyncio.wait_for(asyncio.shield(fut), timeout)
                    except TimeoutError:
                        raise BlockRequestTimeoutError(f"timed out waiting for block {index}") from None
            finally:
                self._pending.discard(fut)
                core.forget(index, waiter)
            if self.closed:
                raise SessionClosedError("session closed")

    def wake_waiters(self) -> None:
        """Wake every block wait of this session, so each checks its ``cancelled()`` again."""
        for fut in list(self._pending):
            if not fut.done():
                fut.set_result(None)

    async def update(self, *, wait: bool | None = None, force: bool = False) -> bool:
        """Ask peers for a newer length; ``False`` when nothing changed (always, without peers)."""
        core = await self._ready_core()
        if self._is_snapshot:
            return False
        if self.writable and not force:
            return False
        if core.replicator is None or wait is False:
            return False
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def done(upgraded: bool) -> None:
            if not fut.done():
                fut.set_result(upgraded)

        core.replicator.want_upgrade(done)
        return await fut

    async def seek(self, byte_offset: int, *, wait: bool | None = None) -> tuple[int, int] | None:
        """``(block index, offset inside it)`` holding byte ``byte_offset`` (of unpadded data),
        or ``None`` if it is not known locally."""
        core = await self._ready_core()
        _check_index(byte_offset)
        return core.tree.seek(byte_offset, core.padding).update()

    def download(self, start: int = 0, end: int | None = None) -> Download:
        """A handle resolving (``await handle.done()``) once blocks ``[start, end)`` are stored.

        ``end=None`` means the current length. The attached replicator fetches them; without one
        only local appends can fill the range.
        """
        core = self._live()
        _check_index(start)
        if end is not None:
            _check_index(end)
        return Download(self, core, start, end)

    def read_stream(
        self,
        start: int = 0,
        end: int | None = None,
        *,
        live: bool = False,
        wait: bool | None = None,
        timeout: float | None = None,
    ) -> ReadStream:
        """An async iterator over blocks ``[start, end)`` (decoded); ``live`` follows appends."""
        self._live()
        return ReadStream(self, start, end, live=live, wait=wait, timeout=timeout)

    def byte_stream(self, byte_offset: int = 0, byte_length: int | None = None) -> ByteStream:
        """An async iterator over the raw block bytes from ``byte_offset`` (``byte_length`` in all)."""
        self._live()
        _check_index(byte_offset)
        return ByteStream(self, byte_offset, byte_length)

    async def tree_hash(self, length: int | None = None) -> bytes:
        core = await self._ready_core()
        length = self.length if length is None else length
        return crypto.tree(core.tree.get_roots(length))

    @property
    def signature(self) -> bytes | None:
        """The signature of the current head (``None`` before the first signed append)."""
        return self._core.tree.signature if self._core is not None else None

    async def info(self) -> Info:
        """A JSON-serialisable summary (JS ``core.info()``; keys hex-encoded)."""
        core = await self._ready_core()
        return {
            "key": core.key.hex(),
            "discovery_key": core.discovery_key.hex(),
            "length": self.length,
            "contiguous_length": self.contiguous_length,
            "byte_length": self.byte_length,
            "fork": self.fork,
            "padding": self.padding,
            "writable": self.writable,
        }

    # --- sessions --------------------------------------------------------------------------

    def session(
        self,
        *,
        value_encoding: EncodingArg = None,
        writable: bool | None = None,
        wait: bool | None = None,
        timeout: float | None = None,
        snapshot: bool = False,
    ) -> Hypercore:
        """A new session on the same core (open at once if this one is); close it on its own."""
        if self.closed:
            raise SessionClosedError("Cannot make sessions on a closing core")
        s = Hypercore(
            None,
            self.key,
            value_encoding=self.value_encoding if value_encoding is None else value_encoding,
            writable=(not self._readonly) if writable is None else writable,
            wait=self.wait if wait is None else wait,
            timeout=self.timeout if timeout is None else timeout,
            _parent=self,
            _snapshot=snapshot,
        )
        if self.opened:
            s._open()  # otherwise it opens with its own ready(), after this one's
        return s

    def snapshot(self, *, value_encoding: EncodingArg = None) -> Hypercore:
        """A read-only session frozen at the current length."""
        return self.session(value_encoding=value_encoding, snapshot=True)

    # --- extensions ------------------------------------------------------------------------

    def replicate(self, stream: Any, *, is_initiator: bool | None = None, **options: Any) -> Any:
        """Replicate this core over ``stream`` (a SecretStream, a Protomux or a ProtomuxCore).

        Many cores can share one stream: each gets its own ``hypercore/alpha`` channel on the
        stream's Protomux. Returns the Protomux. See :func:`hyperpunch.hypercore.replicate`.
        """
        return replicate(self, stream, is_initiator=is_initiator, **options)

    def register_extension(
        self,
        name: str,
        *,
        encoding: EncodingArg = None,
        on_message: Callable[[Any, Any], object] | None = None,
    ) -> Extension:
        """Register (or update) the user extension ``name`` on this session.

        Without ``encoding`` each message is framed as JS frames it (compact-encoding ``buffer``:
        a length, then the bytes; ``None`` for an empty message); a named encoding (``"binary"``,
        ``"utf-8"``, ``"json"``) sends the bare encoded value and a ``Codec`` its own encoding,
        as JS ``c.from(encoding)`` does."""
        resolved = resolve_encoding(buffer if encoding is None else encoding)
        ext = self.extensions.get(name)
        if ext is not None:
            ext.encoding = resolved
            ext.on_message = on_message
            return ext
        ext = Extension(self, name, resolved, on_message)
        self.extensions[name] = ext
        return ext

    def __repr__(self) -> str:
        k = self.key.hex() if self.key else None
        return f"Hypercore(key={k}, length={self.length}, fork={self.fork}, writable={self.writable})"


def _check_index(i: int) -> None:
    if not isinstance(i, int) or i < 0:
        raise BadArgumentError(f"invalid index {i!r}")

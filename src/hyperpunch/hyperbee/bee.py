"""The public Hyperbee API (JS ``hyperbee`` 2.27): an ordered key/value store on one Hypercore.

Invariants:

* ``Hyperbee(core, key_encoding=, value_encoding=)`` is an async context manager; it writes what
  JS hyperbee writes for the same operations (block 0: the ``hyperbee`` header, then one node
  block per put/delete, a batch's blocks in one append).
* Reads (``get``, ``range``, ``peek``, ``history``, ``diff``) see one version each: the core length
  when the read starts, after asking peers for a newer length when the core is not writable
  (``update=False`` skips that); ``checkout(v)`` / ``snapshot()`` give read-only views pinned to a
  version; ``sub(prefix)`` a view whose keys carry ``prefix + sep``.
* ``put`` / ``delete`` / ``batch().flush()`` serialise on one write lock shared by a bee and all its
  views; an error during a write releases it. Errors from bad blocks are typed
  (:mod:`hyperpunch.hyperbee.errors`) and leave the bee usable for keys whose path is intact.
* ``watch`` / ``get_and_watch`` work on the main bee only (as JS); its core's ``append`` and
  ``truncate`` events wake them.
* Every task (the extension's replies) is owned by the root bee's :class:`TaskOwner`; closing the
  root bee closes its watchers, extension and core session (``close_core=True``, the default).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.encoding import DecodeError
from hyperpunch.hyperbee.batch import Batch, Cas, Codec
from hyperpunch.hyperbee.errors import (
    BeeClosedError,
    BlockNotAvailableError,
    HyperbeeDecodingError,
    HyperbeeLocalError,
)
from hyperpunch.hyperbee.extension import BATCH_SIZE as EXT_BATCH_SIZE
from hyperpunch.hyperbee.extension import BeeExtension
from hyperpunch.hyperbee.iterators import DiffIterator, HistoryIterator, RangeIterator
from hyperpunch.hyperbee.messages import Header, IteratorMessage, Metadata, decode_header
from hyperpunch.hyperbee.tree import Entry, NodeEntry
from hyperpunch.hypercore import Hypercore
from hyperpunch.hypercore.encodings import resolve_encoding

__all__ = ["BeeBatch", "Hyperbee", "PrefixCodec", "Watcher"]

SEP = b"\x00"
_CACHE_MAX = 1 << 16


class PrefixCodec:
    """A sub's key codec: ``prefix + key`` (bytes keys are not re-encoded, as in JS)."""

    def __init__(self, prefix: bytes, inner: Codec) -> None:
        self.prefix = prefix
        self.inner = inner

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bytes | bytearray | memoryview):
            return self.prefix + bytes(value)
        return self.prefix + self.inner.encode(value)

    def decode(self, block: bytes) -> Any:
        return self.inner.decode(block[len(self.prefix) :])


class _Shared:
    """State shared by a bee and all its views: caches, write lock, tasks, extension."""

    def __init__(self, core: Hypercore) -> None:
        self.fork = -1
        self.nodes: dict[int, NodeEntry] = {}
        self.keys: dict[int, bytes] = {}
        self.lock = asyncio.Lock()
        self.tasks = TaskOwner("hyperbee")
        self.extension: Any = None
        self.root_core = core

    def check_fork(self, core: Hypercore) -> bool:
        fork = core.fork
        if fork == self.fork:
            return True
        if core is self.root_core or self.fork == -1:
            self.nodes.clear()
            self.keys.clear()
            self.fork = fork
            return True
        return False

    def clear(self) -> None:
        self.nodes.clear()
        self.keys.clear()
        self.fork = -1


class Hyperbee:
    """An ordered key/value store on a Hypercore (see the module docstring for the contract)."""

    def __init__(
        self,
        core: Hypercore,
        *,
        key_encoding: Any = None,
        value_encoding: Any = None,
        metadata: Metadata | None = None,
        readonly: bool = False,
        extension: bool = True,
        sep: bytes = SEP,
        close_core: bool = True,
        _prefix: bytes | None = None,
        _checkout: int = 0,
        _shared: _Shared | None = None,
        _view: bool = False,
    ) -> None:
        self._core = core
        self.key_encoding = resolve_encoding(key_encoding)
        self.value_encoding = resolve_encoding(value_encoding)
        self._metadata = metadata
        self._readonly = readonly or _checkout != 0
        self.sep = sep
        self.prefix = _prefix
        self._key_codec: Codec = (
            self.key_encoding if _prefix is None else PrefixCodec(_prefix, self.key_encoding)
        )
        self._checkout = _checkout
        self._view = _view
        self._shared = _Shared(core) if _shared is None else _shared
        self._use_extension = extension
        self._close_core = close_core
        self._watchers: list[Watcher] = []
        self._unlisten: list[Callable[[], None]] = []
        self._close_once = CloseOnce(self._close)
        self.opened = False
        self.closed = False

    # --- lifecycle ---------------------------------------------------------------------------

    async def ready(self) -> None:
        if self.opened:
            return
        if self.closed:
            raise BeeClosedError("Bee closed")
        await self._core.ready()
        if self._checkout == -1:
            self._checkout = max(1, self._core.length)
        if not self._view:
            self._unlisten.append(self._core.on("append", self._on_append))
            self._unlisten.append(self._core.on("truncate", self._on_truncate))
            if self._use_extension and self._shared.extension is None:
                self._shared.extension = BeeExtension(self)
        self.opened = True

    async def aclose(self) -> None:
        self.closed = True
        await self._close_once()

    close = aclose

    async def _close(self) -> None:
        for off in self._unlisten:
            off()
        self._unlisten.clear()
        for w in list(self._watchers):
            await w.aclose()
        if not self._view:
            ext = self._shared.extension
            if ext is not None:
                ext.destroy()
                self._shared.extension = None
            await self._shared.tasks.aclose()
            self._shared.clear()
        if self._close_core:
            await self._core.aclose()

    async def __aenter__(self) -> Hyperbee:
        await self.ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- properties --------------------------------------------------------------------------

    @property
    def core(self) -> Hypercore:
        return self._core

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def metadata(self) -> Metadata | None:
        return self._metadata

    @property
    def checkout_version(self) -> int:
        return self._checkout

    @property
    def write_lock(self) -> asyncio.Lock:
        return self._shared.lock

    @property
    def tasks(self) -> TaskOwner:
        return self._shared.tasks

    @property
    def version(self) -> int:
        return max(1, self._checkout or self._core.length)

    @property
    def extension(self) -> BeeExtension | None:
        """The ``hyperbee`` extension of this bee's core (None when disabled or not open)."""
        ext: BeeExtension | None = self._shared.extension
        return ext

    @property
    def key(self) -> bytes | None:
        return self._core.key

    @property
    def discovery_key(self) -> bytes | None:
        return self._core.discovery_key

    @property
    def writable(self) -> bool:
        return self._core.writable and not self._readonly

    @property
    def readable(self) -> bool:
        return self._core.readable

    # --- caches (the BeeState seam of Batch) -----------------------------------------------

    def cached_node(self, core: Hypercore, seq: int) -> NodeEntry | None:
        sh = self._shared
        return sh.nodes.get(seq) if sh.check_fork(core) else None

    def cache_node(self, core: Hypercore, seq: int, entry: NodeEntry) -> None:
        sh = self._shared
        if seq < core.length and sh.check_fork(core):
            if len(sh.nodes) >= _CACHE_MAX:
                sh.nodes.clear()
            sh.nodes[seq] = entry

    def cached_key(self, core: Hypercore, seq: int) -> bytes | None:
        sh = self._shared
        return sh.keys.get(seq) if sh.check_fork(core) else None

    def cache_key(self, core: Hypercore, seq: int, key: bytes) -> None:
        sh = self._shared
        if sh.check_fork(core):
            if len(sh.keys) >= _CACHE_MAX:
                sh.keys.clear()
            sh.keys[seq] = key

    def on_wait_get(self, version: int, key: bytes) -> None:
        ext = self._shared.extension
        if ext is not None:
            ext.get(version, key)

    def _on_append(self) -> None:
        for w in self._watchers:
            w.wake()

    def _on_truncate(self, ancestors: int, fork: int) -> None:
        self._shared.clear()
        for w in self._watchers:
            w.wake()

    # --- reads -------------------------------------------------------------------------------

    def _batch(self, **opts: Any) -> Batch:
        if self.closed:
            raise BeeClosedError("Bee closed")
        key_enc = opts.pop("key_encoding", None)
        value_enc = opts.pop("value_encoding", None)
        kc: Codec = self._key_codec
        if key_enc is not None:
            inner = resolve_encoding(key_enc)
            kc = inner if self.prefix is None else PrefixCodec(self.prefix, inner)
        vc: Codec = self.value_encoding if value_enc is None else resolve_encoding(value_enc)
        if self._use_extension is False or self._shared.extension is None:
            opts["extension"] = False
        return Batch(self, self._core, kc, vc, **opts)

    async def get(
        self,
        key: Any,
        *,
        wait: bool = True,
        timeout: float | None = None,
        update: bool = True,
        extension: bool = True,
        key_encoding: Any = None,
        value_encoding: Any = None,
    ) -> Entry | None:
        """The entry of ``key`` (``seq``, ``key``, ``value``), or None."""
        await self.ready()
        b = self._batch(
            wait=wait,
            timeout=timeout,
            update=update,
            extension=extension,
            key_encoding=key_encoding,
            value_encoding=value_encoding,
        )
        return await b.get(b.key_codec.encode(key))

    async def get_by_seq(self, seq: int, *, wait: bool = True, timeout: float | None = None) -> Entry:
        await self.ready()
        return await self._batch(wait=wait, timeout=timeout).get_by_seq(seq)

    async def put(self, key: Any, value: Any = None, *, cas: Cas | None = None) -> None:
        await self.ready()
        await self._batch().put(key, value, cas=cas)

    async def delete(self, key: Any, *, cas: Cas | None = None) -> None:
        await self.ready()
        await self._batch().delete(key, cas=cas)

    def batch(self) -> BeeBatch:
        """An atomic write batch: reads see its writes; ``flush()`` appends them all at once."""
        return BeeBatch(self)

    def _enc_range(
        self, kc: Codec, gt: Any, gte: Any, lt: Any, lte: Any
    ) -> tuple[bytes | None, bytes | None, bytes | None, bytes | None]:
        egt = None if gt is None else kc.encode(gt)
        egte = None if gte is None else kc.encode(gte)
        elt = None if lt is None else kc.encode(lt)
        elte = None if lte is None else kc.encode(lte)
        if self.prefix is not None:
            if egt is None and egte is None:
                egt = kc.encode(SEP)
            if elt is None and elte is None:
                p = bytearray(kc.encode(b""))
                p[-1] = (p[-1] + 1) & 0xFF
                elt = bytes(p)
        return egt, egte, elt, elte

    def range(
        self,
        *,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        reverse: bool = False,
        limit: int = -1,
        wait: bool = True,
        timeout: float | None = None,
        update: bool = True,
        key_encoding: Any = None,
        value_encoding: Any = None,
    ) -> RangeIterator:
        """An async iterator over the entries in the range, in key order."""
        b = self._batch(
            wait=wait,
            timeout=timeout,
            update=update,
            key_encoding=key_encoding,
            value_encoding=value_encoding,
        )
        egt, egte, elt, elte = self._enc_range(b.key_codec, gt, gte, lt, lte)
        it = _OpeningRange(self, b, gt=egt, gte=egte, lt=elt, lte=elte, reverse=reverse, limit=limit)
        ext = self._shared.extension
        if ext is not None and b.extension and limit != 0:
            _hook_range_extension(b, it, ext)
        return it

    async def peek(self, **range_opts: Any) -> Entry | None:
        """The first entry of the range (``reverse=True``: the last), or None."""
        range_opts["limit"] = 1
        async for entry in self.range(**range_opts):
            return entry
        return None

    def history(
        self,
        *,
        gt: int | None = None,
        gte: int | None = None,
        lt: int | None = None,
        lte: int | None = None,
        reverse: bool = False,
        limit: int = -1,
        live: bool = False,
        wait: bool = True,
        timeout: float | None = None,
    ) -> AsyncIterator[Any]:
        """Every put/del block in ``[gte, lt)`` of the log (JS ``createHistoryStream``)."""
        b = self._batch(wait=wait, timeout=timeout, bounded=not live)
        it = HistoryIterator(b, gt=gt, gte=gte, lt=lt, lte=lte, reverse=reverse, limit=limit, live=live)
        return _ReadyIter(self, it)

    def diff(
        self,
        other: int | Hyperbee,
        *,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        limit: int = -1,
    ) -> AsyncIterator[Any]:
        """The entries that differ between this version (left) and ``other`` (right)."""
        right = self.checkout(max(1, other)) if isinstance(other, int) else other
        left_b = self._batch()
        right_b = right._batch()
        if right.version > self.version:
            left_b.checkout = self.version
        egt, egte, elt, elte = self._enc_range(self._key_codec, gt, gte, lt, lte)
        close = right.aclose if isinstance(other, int) else None
        it = DiffIterator(left_b, right_b, gt=egt, gte=egte, lt=elt, lte=elte, limit=limit, on_close=close)
        return _ReadyIter(self, it)

    # --- extension replays (the ReplayView seam) -------------------------------------------

    def replay_view(self, version: int) -> Hyperbee:
        return self.checkout(version)

    async def replay_get(self, key: bytes, onseq: Callable[[int], None]) -> None:
        await self.ready()
        b = Batch(
            self,
            self._core,
            self._key_codec,
            self.value_encoding,
            wait=False,
            update=False,
            extension=False,
            onseq=onseq,
        )
        await b.get_entry(key)

    async def replay_iterator(
        self, m: IteratorMessage, onseq: Callable[[int], None], more: Callable[[], bool]
    ) -> None:
        await self.ready()
        b = Batch(
            self,
            self._core,
            self._key_codec,
            self.value_encoding,
            wait=False,
            update=False,
            extension=False,
            onseq=onseq,
        )
        it = RangeIterator(
            b,
            gt=m.gt,
            gte=m.gte,
            lt=m.lt,
            lte=m.lte,
            reverse=m.reverse,
            limit=-1 if m.limit == 0 else m.limit,
            checkpoint=m.checkpoint,
        )
        await it.open()
        while more():
            if await it.next_block() is None:
                break

    # --- views -------------------------------------------------------------------------------

    def checkout(self, version: int, *, key_encoding: Any = None, value_encoding: Any = None) -> Hyperbee:
        """A read-only view of the bee at ``version`` (close it when done)."""
        if version == 0:
            version = 1
        core = self._core
        if version == -1 and core.opened:
            version = max(1, core.length)
        snap = (
            core.snapshot() if (not core.opened or version <= core.length or version <= 1) else core.session()
        )
        return Hyperbee(
            snap,
            key_encoding=key_encoding or self.key_encoding,
            value_encoding=value_encoding or self.value_encoding,
            extension=self._use_extension,
            sep=self.sep,
            _prefix=self.prefix,
            _checkout=version,
            _shared=self._shared,
            _view=True,
        )

    def snapshot(self) -> Hyperbee:
        """A read-only view pinned to the current version."""
        return self.checkout(-1 if not self._core.opened or self._checkout <= 0 else self.version)

    def sub(
        self, prefix: Any, *, sep: bytes | None = None, key_encoding: Any = None, value_encoding: Any = None
    ) -> Hyperbee:
        """A view whose keys live under ``prefix + sep`` (nested subs concatenate)."""
        s = self.sep if sep is None else sep
        p = prefix.encode() if isinstance(prefix, str) else bytes(prefix)
        return Hyperbee(
            self._core,
            key_encoding=key_encoding or self.key_encoding,
            value_encoding=value_encoding or self.value_encoding,
            metadata=self._metadata,
            readonly=self._readonly,
            extension=self._use_extension,
            sep=self.sep,
            close_core=False,
            _prefix=(self.prefix or b"") + p + s,
            _checkout=self._checkout,
            _shared=self._shared,
            _view=True,
        )

    async def get_header(self, *, wait: bool = True, timeout: float | None = None) -> Header | None:
        await self.ready()
        blk = await self._core.get(0, wait=wait, timeout=timeout, value_encoding="binary")
        if blk is None:
            return None
        try:
            return decode_header(blk)
        except DecodeError as err:
            raise HyperbeeDecodingError(f"block 0 is not a hyperbee header: {err}") from err

    @staticmethod
    async def is_hyperbee(core: Hypercore, *, wait: bool = True, timeout: float | None = None) -> bool:
        """Whether block 0 of ``core`` is a hyperbee header (JS ``Hyperbee.isHyperbee``)."""
        await core.ready()
        blk = await core.get(0, wait=wait, timeout=timeout, value_encoding="binary")
        if blk is None:
            raise BlockNotAvailableError("block 0 is not available")
        try:
            return decode_header(blk).protocol == "hyperbee"
        except DecodeError:
            return False

    # --- watching ----------------------------------------------------------------------------

    def watch(self, **range_opts: Any) -> Watcher:
        """Async iterator of ``(current, previous)`` snapshots each time the range changes."""
        if self._view:
            raise HyperbeeLocalError("Can only watch the main bee instance")
        w = Watcher(self, range_opts)
        self._root_watchers().append(w)
        return w

    async def get_and_watch(self, key: Any) -> EntryWatcher:
        """An :class:`EntryWatcher` whose ``node`` is the current entry of ``key``."""
        if self._view:
            raise HyperbeeLocalError("Can only watch the main bee instance")
        await self.ready()
        w = EntryWatcher(self, key)
        await w.update()
        self._root_watchers().append(w)
        return w

    def _root_watchers(self) -> list[Any]:
        return self._watchers

    def __repr__(self) -> str:
        k = self.key.hex() if self.key else None
        return f"Hyperbee(key={k}, version={self.version})"


def _hook_range_extension(b: Batch, it: RangeIterator, ext: BeeExtension) -> None:
    """As JS: the first block a range waits for (and every BATCH_SIZE blocks after) broadcasts the
    iterator's position, so peers push the blocks ahead of it."""
    state = [0, 0]  # version (root seq + 1), blocks left before asking again

    def onseq(seq: int) -> None:
        if not state[0]:
            state[0] = seq + 1
        if state[1]:
            state[1] -= 1

    def onwait() -> None:
        if state[1]:
            return
        state[1] = EXT_BATCH_SIZE
        snap = it.snapshot(state[0] or None)
        if snap.ended or snap.limit == 0:
            return
        ext.iterator(
            IteratorMessage(
                snap.version,
                snap.gte,
                snap.gt,
                snap.lte,
                snap.lt,
                0 if snap.limit == -1 else snap.limit,
                snap.reverse,
                snap.checkpoint,
            )
        )

    b.onseq = onseq
    b.onwait = onwait


class _OpeningRange(RangeIterator):
    def __init__(self, bee: Hyperbee, batch: Batch, **kw: Any) -> None:
        super().__init__(batch, **kw)
        self.bee = bee

    async def open(self) -> None:
        await self.bee.ready()
        await super().open()


class _ReadyIter:
    def __init__(self, bee: Hyperbee, it: Any) -> None:
        self.bee = bee
        self.it = it

    def __aiter__(self) -> _ReadyIter:
        return self

    async def __anext__(self) -> Any:
        if not self.it.opened:
            await self.bee.ready()
        return await self.it.__anext__()

    async def aclose(self) -> None:
        await self.it.aclose()


class BeeBatch:
    """An explicit write batch (JS ``db.batch()``); an async context manager that flushes on success."""

    def __init__(self, bee: Hyperbee) -> None:
        self.bee = bee
        self._b: Batch | None = None

    async def _batch(self) -> Batch:
        if self._b is None:
            await self.bee.ready()
            self._b = self.bee._batch(auto_flush=False)
        return self._b

    @property
    def version(self) -> int:
        return self.bee.version if self._b is None else self._b.version

    async def put(self, key: Any, value: Any = None, *, cas: Cas | None = None) -> None:
        await (await self._batch()).put(key, value, cas=cas)

    async def delete(self, key: Any, *, cas: Cas | None = None) -> None:
        await (await self._batch()).delete(key, cas=cas)

    async def get(self, key: Any) -> Entry | None:
        b = await self._batch()
        return await b.get(b.key_codec.encode(key))

    async def flush(self) -> None:
        b = await self._batch()
        await b.flush()

    async def close(self) -> None:
        if self._b is not None:
            self._b.close()

    async def __aenter__(self) -> BeeBatch:
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            await self.flush()
        else:
            await self.close()


class Watcher:
    """Yields ``(current, previous)`` snapshots each time the watched range changes."""

    def __init__(self, bee: Hyperbee, range_opts: dict[str, Any]) -> None:
        self.bee = bee
        self.range_opts = range_opts
        self.current: Hyperbee | None = None
        self.previous: Hyperbee | None = None
        self._event = asyncio.Event()
        self.closed = False
        if bee.opened:  # the point from which to watch (JS takes it when the watcher opens)
            self.current = bee.snapshot()

    def wake(self) -> None:
        self._event.set()

    def __aiter__(self) -> Watcher:
        return self

    async def __anext__(self) -> tuple[Hyperbee, Hyperbee]:
        if self.current is None:
            await self.bee.ready()
            self.current = self.bee.snapshot()
        while True:
            if self.closed:
                raise StopAsyncIteration
            assert self.current is not None
            if self.current.version >= self.bee.version:
                self._event.clear()
                await self._event.wait()
                continue
            if self.previous is not None:
                await self.previous.aclose()
            self.previous = self.current
            self.current = self.bee.snapshot()
            changed = False
            async for _ in self.current.diff(
                self.previous.checkout(self.previous.version), **self.range_opts
            ):
                changed = True
                break
            if changed or self.current.core.fork != self.previous.core.fork:
                return self.current, self.previous

    async def aclose(self) -> None:
        self.closed = True
        self._event.set()
        if self in self.bee._root_watchers():
            self.bee._root_watchers().remove(self)
        for snap in (self.current, self.previous):
            if snap is not None:
                await snap.aclose()


class EntryWatcher:
    """Tracks one key: ``node`` is its current entry; iterate to wait for each change."""

    def __init__(self, bee: Hyperbee, key: Any) -> None:
        self.bee = bee
        self.key = key
        self.node: Entry | None = None
        self._event = asyncio.Event()
        self.closed = False

    def wake(self) -> None:
        self._event.set()

    async def update(self) -> bool:
        node = await self.bee.get(self.key)
        changed = (node.seq if node else None) != (self.node.seq if self.node else None)
        self.node = node
        return changed

    def __aiter__(self) -> EntryWatcher:
        return self

    async def __anext__(self) -> Entry | None:
        while not self.closed:
            self._event.clear()
            if await self.update():
                return self.node
            await self._event.wait()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed = True
        self._event.set()
        if self in self.bee._root_watchers():
            self.bee._root_watchers().remove(self)

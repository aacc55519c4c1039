"""One todo list: an Autobase whose view is the Hyperbee ``todo``, shared over Hyperswarm.

``async with TodoList(store, key, swarm=swarm) as todos:`` opens the list on a Corestore (a new
list when ``key`` is None: the local writer's key is the list key; else it joins the list
``key``), replicates the store on every swarm connection (the topic is the list's discovery
key) and runs the writer exchange of the contract on each connection: a Protomux channel
``hyperpunch/todo-writers`` (id = discovery key, handshake = ``c.fixed32`` our local writer
key); a writable peer appends ``{type: 'addWriter', key, indexer: false}`` once for every key it
receives that is not a writer yet.

The apply is :func:`hyperpunch.todo.ops.parse_op`'s: a node that is not a valid op is skipped
(the view does not change), so a hostile writer cannot stop the list. A background task brings
the view up to date whenever a writer core grows, and wakes :meth:`TodoList.changes`.

Invariants: every task is owned and ends on ``aclose`` (idempotent); the caller owns the store
and the swarm (``aclose`` leaves the topic, it does not close them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from bson import ObjectId

from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.autobase import Autobase, Host, ViewStore
from hyperpunch.corestore import Corestore
from hyperpunch.encoding import fixed32
from hyperpunch.errors import HyperpunchError
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore
from hyperpunch.swarm import Hyperswarm
from hyperpunch.todo import ops
from hyperpunch.todo.errors import TodoLocalError, ambiguous, not_found, not_writable
from hyperpunch.todo.ops import PREFIX, Todo

__all__ = ["PROTOCOL", "TodoList", "open_view"]

PROTOCOL = "hyperpunch/todo-writers"
DEFAULT_ACK_INTERVAL = 2.0  # seconds: the indexer acks soon, so other writers' nodes get indexed

LAG_RETRY = 1.0  # seconds between looks at a writer core a peer has more of than we do

log = logging.getLogger(__name__)


def open_view(store: ViewStore) -> Hyperbee:
    """JS ``new Hyperbee(store.get('todo'), {extension: false, keyEncoding: 'binary', valueEncoding: 'binary'})``."""
    return Hyperbee(store.core("todo"), key_encoding="binary", value_encoding="binary", extension=False)


async def apply(nodes: list[Any], view: Hyperbee, host: Host) -> None:
    """The contract's apply: node by node, invalid ones skipped."""
    for node in nodes:
        op = ops.parse_op(node.value)
        if op is None:
            continue
        if isinstance(op, ops.AddWriter):
            await host.add_writer(op.key, indexer=False)
        elif isinstance(op, ops.Put):
            await view.put(op.key, op.value)
        else:
            await view.delete(op.key)


def _has_all(peer: Any, length: int) -> bool:
    contiguous = getattr(peer, "remote_contiguous_length", 0)
    return isinstance(contiguous, int) and contiguous >= length


class TodoList:
    """See the module docstring. ``key``: 32 bytes or 64 hex characters."""

    def __init__(
        self,
        store: Corestore,
        key: bytes | str | None = None,
        *,
        swarm: Hyperswarm | None = None,
        ack_interval: float = DEFAULT_ACK_INTERVAL,
    ) -> None:
        if isinstance(key, str):
            key = bytes.fromhex(key)
        if key is not None and len(key) != 32:
            raise TodoLocalError("a list key is 32 bytes", code="BAD_KEY")
        self.store = store
        self.swarm = swarm
        self.base = Autobase(store, key, open=open_view, apply=apply, ack_interval=ack_interval)
        self._tasks = TaskOwner("todo-list")
        self._close = CloseOnce(self._aclose)
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._version = 0
        self._watched: dict[bytes, Hypercore] = {}
        self._offs: list[Callable[[], None]] = []
        self._asked: set[bytes] = set()  # writer keys we appended an addWriter for, or saw added
        self._pending: dict[bytes, None] = {}  # keys to add once we are writable
        self._muxes: set[Any] = set()
        self._connected = asyncio.Event()
        self._asking: set[int] = set()  # cores we asked for an upgrade (ids)
        self._signature: tuple[Any, ...] = ()
        self._discovery: Any = None
        self.opened = False

    # --- lifecycle

    async def __aenter__(self) -> TodoList:
        await self.ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def ready(self) -> None:
        if self.opened:
            return
        await self.base.ready()
        await self._refresh()
        self.opened = True
        self._tasks.spawn(self._update_loop())
        if self.swarm is not None:
            self.swarm.on_connection = self._on_connection
            self._discovery = self.swarm.join(self.discovery_key, server=True, client=True)

    async def announced(self) -> None:
        """Until the swarm announced the list's topic and looked it up once (JS ``flushed``)."""
        if self._discovery is not None:
            await self._discovery.flushed()

    async def aclose(self) -> None:
        await self._close()

    async def _aclose(self) -> None:
        if self.swarm is not None and self.opened:
            with contextlib.suppress(Exception):
                await self.swarm.leave(self.discovery_key)
        await self._tasks.aclose()
        for off in self._offs:
            off()
        for core in self._watched.values():
            await core.aclose()
        await self.base.aclose()

    # --- identity

    @property
    def key(self) -> bytes:
        assert self.base.key is not None, "call ready() first"
        return self.base.key

    @property
    def discovery_key(self) -> bytes:
        assert self.base.discovery_key is not None, "call ready() first"
        return self.base.discovery_key

    @property
    def local_key(self) -> bytes:
        assert self.base.local is not None and self.base.local.key is not None, "call ready() first"
        return self.base.local.key

    @property
    def writable(self) -> bool:
        return self.base.writable

    @property
    def peers(self) -> int:
        """How many connections the list replicates over now."""
        return len(self._muxes)

    # --- replication and the writer exchange

    def _on_connection(self, conn: Any, _info: Any) -> None:
        self.attach(conn)

    def attach(self, stream: Any) -> Any:
        """Replicate over ``stream`` (a secret stream) and open the writer-exchange channel on it;
        returns the Protomux."""
        mux = self.store.replicate(stream)
        channel = mux.create_channel(
            PROTOCOL,
            id=self.discovery_key,
            handshake=fixed32,
            on_open=self._on_writer_key,
            unique=True,
        )
        if channel is not None:
            channel.open(self.local_key)
        if mux not in self._muxes:
            self._muxes.add(mux)
            self._connected.set()
            self._tasks.spawn(self._watch_mux(mux))
        return mux

    async def _watch_mux(self, mux: Any) -> None:
        try:
            await mux.wait_closed()
        finally:
            self._muxes.discard(mux)
            if not self._muxes:
                self._connected.clear()

    def _on_writer_key(self, key: Any, _channel: Any) -> None:
        key = bytes(key)
        if key in self._asked or key in self.base.members:
            return
        self._pending[key] = None
        self._wake.set()

    async def _add_pending(self) -> None:
        if not self.base.writable:
            return
        members = set(self.base.members)
        keys = [k for k in self._pending if k not in members and k not in self._asked]
        self._pending.clear()
        if keys:
            self._asked.update(keys)
            await self.base.append([ops.writer_op(k) for k in keys])

    async def wait_peer(self) -> None:
        """Until the list replicates over at least one connection."""
        await self._connected.wait()

    async def sync(self) -> None:
        """Ask the peers for the newest length of every writer core (waiting for a peer of each,
        up to the autobase's peer timeout) and apply what they have."""
        await self.base.update(wait=True)
        await self._refresh()

    # --- the update loop

    async def _update_loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._refresh()
            except (HyperpunchError, TimeoutError) as err:  # a peer went away mid-download: next time
                log.debug("todo update: %s", err)
            # a peer may have more of a writer core than the upgrade we got, and no event says
            # so (a sync message): look every LAG_RETRY seconds and ask for the upgrade
            while not self._wake.is_set():
                for core in self._lagging():
                    if id(core) not in self._asking:
                        self._asking.add(id(core))
                        self._tasks.spawn(self._ask_upgrade(core))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), LAG_RETRY)

    def _lagging(self) -> list[Hypercore]:
        return [
            core
            for core in self._watched.values()
            if any(getattr(p, "remote_length", 0) > core.length for p in core.peers)
        ]

    async def _ask_upgrade(self, core: Hypercore) -> None:
        try:
            with contextlib.suppress(HyperpunchError, TimeoutError):
                if await asyncio.wait_for(core.update(wait=True), LAG_RETRY * 10):
                    self._wake.set()
        finally:
            self._asking.discard(id(core))

    def _poke(self, *_: Any) -> None:
        self._wake.set()

    async def _refresh(self) -> None:
        await self.base.update()
        await self._add_pending()
        # after _add_pending: a writer it added is a member now, and its core must be watched
        # from here on (else its first append, with nothing else changing, is never read)
        await self._watch_members()
        await self._notify()

    async def _watch_members(self) -> None:
        for key in self.base.members:
            if key not in self._watched and key != self.local_key:
                core = self._watched[key] = await self.store.get(key=key)
                self._offs.append(core.on("append", self._poke))
                if core.length:
                    self._wake.set()

    async def _notify(self) -> None:
        snapshot = await self.todos()
        signature = (snapshot, self.base.writable, len(self.base.indexed), len(self.base.members))
        if signature != self._signature:
            self._signature = signature
            async with self._changed:
                self._version += 1
                self._changed.notify_all()

    # --- reading

    async def todos(self) -> list[Todo]:
        """Every todo, sorted by id (ObjectIds start with their time)."""
        view: Hyperbee = self.base.view
        out = []
        async for e in view.range(gt=PREFIX, lt=PREFIX[:-1] + b"\x01"):
            todo = ops.todo_of(bytes(e.key), bytes(e.value))
            if todo is not None:
                out.append(todo)
        return out

    async def get(self, todo_id: str) -> Todo:
        """The todo ``todo_id`` (24 hex, or a prefix matching exactly one todo)."""
        todo_id = todo_id.strip().lower()
        found = [t for t in await self.todos() if t.id.startswith(todo_id)] if todo_id else []
        exact = [t for t in found if t.id == todo_id]
        if exact:
            return exact[0]
        if not found:
            raise not_found(todo_id)
        if len(found) > 1:
            raise ambiguous(todo_id)
        return found[0]

    async def changes(self) -> AsyncIterator[list[Todo]]:
        """The todos now, then again every time the list changes (its todos, ``writable``,
        the writers or the indexed length)."""
        seen = -1
        while True:
            async with self._changed:
                await self._changed.wait_for(self._moved_since(seen))
                seen = self._version
            yield await self.todos()

    def _moved_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self._version != seen

    async def wait_writable(self) -> None:
        """Until this peer has been added as a writer."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.base.writable)

    # --- writing

    async def _write(self, values: list[bytes]) -> None:
        if not self.base.writable:
            raise not_writable()
        await self.base.append(values)
        await self._notify()

    async def add(self, text: str) -> str:
        """Add a todo; returns its id (24 hex)."""
        text = ops.validate_text(text)
        if not self.base.writable:
            raise not_writable()
        oid = ObjectId().binary
        await self._write([ops.put_op(oid, text, False)])
        return oid.hex()

    async def edit(self, todo_id: str, text: str) -> None:
        text = ops.validate_text(text)
        todo = await self.get(todo_id)
        await self._write([ops.put_op(bytes.fromhex(todo.id), text, todo.done)])

    async def set_done(self, todo_id: str, done: bool) -> None:
        todo = await self.get(todo_id)
        await self._write([ops.put_op(bytes.fromhex(todo.id), todo.text, done)])

    async def remove(self, todo_id: str) -> None:
        todo = await self.get(todo_id)
        await self._write([ops.del_op(bytes.fromhex(todo.id))])

    async def clear_completed(self) -> int:
        """Delete every done todo (one batch); returns how many."""
        done = [t for t in await self.todos() if t.done]
        if done:
            await self._write([ops.del_op(bytes.fromhex(t.id)) for t in done])
        return len(done)

    async def append_raw(self, value: bytes) -> None:
        """Append ``value`` as a node as it is, valid op or not (tests: what a hostile writer does)."""
        await self._write([value])

    async def flushed(self) -> None:
        """Until a connected peer has every block of our writer core: it downloaded the last
        one from us, or its bitfield says it has them all (a peer's *length* is not enough: it
        grows with an upgrade proof, before any block)."""
        local = self.base.local
        assert local is not None
        target = local.length
        if target == 0:
            return
        done = asyncio.Event()

        def check(*_: Any) -> None:
            if any(_has_all(p, target) for p in local.peers):
                done.set()

        def on_upload(index: int, *_: Any) -> None:
            if index >= target - 1:
                done.set()
            check()

        offs = [local.on("upload", on_upload), local.on("peer-add", check)]
        try:
            check()
            await done.wait()
        finally:
            for off in offs:
                off()

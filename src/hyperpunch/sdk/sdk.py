"""The one object an app starts from (hyper-sdk 4.5.1 ``index.js``, in Python).

``async with SDK(storage=None, auto_join=False, dht=relayed) as sdk`` opens a Corestore and a
Hyperswarm keyed by the store's ``noise`` key pair; ``await sdk.get(x)`` opens the core ``x``
names (see :mod:`.keys`), ``sdk.join_core(core)`` replicates it with everyone on its discovery key.

Invariants:

* Cores are *compat* cores, as hyper-sdk's corestore 6 / hypercore 10 make them: a named core's key
  is its Ed25519 public key (not a manifest hash), so names, keys and URLs match hyper-sdk's.
* ``get`` caches by name and by hex key: the same name or key twice gives the same session.
  ``auto_join`` joins a new core's discovery key (announce and look up). A 32-byte topic given to
  ``get`` is a key like any other: an empty read-only *rendezvous* core whose replication channels
  carry extension messages and ``peer-add`` / ``peer-remove`` events.
* Every swarm connection is replicated with the whole store and reported to :meth:`SDK.events`
  as ``peer-add`` (and ``peer-remove`` when it closes); :func:`core_events` reports one core's.
* :meth:`SDK.aclose` (once) leaves every topic, closes every core the SDK opened, the store and the
  swarm (not a DHT passed in: the caller owns it), and ends every task the SDK started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.corestore import Corestore
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore
from hyperpunch.sdk.dns import TXTResolver, doh_txt_resolver
from hyperpunch.sdk.errors import DNSLinkError, SDKClosedError, StorageLockedError
from hyperpunch.sdk.keys import (
    DNSLINK_TXT_PREFIX,
    core_url,
    parse_dnslink,
    parse_target,
    string_to_key,
    topic_key,
)
from hyperpunch.swarm import Hyperswarm
from hyperpunch.swarm.discovery import PeerDiscoverySession
from hyperpunch.swarm.peer_info import PeerInfo

__all__ = ["DEFAULT_STORAGE", "SDK", "PeerEvent", "core_events", "url"]

DEFAULT_STORAGE = "hyper-sdk"
PeerEventKind = Literal["peer-add", "peer-remove"]


@dataclass(frozen=True, slots=True)
class PeerEvent:
    """A peer came (``peer-add``) or went (``peer-remove``); ``peer`` is a swarm
    :class:`PeerInfo` for :meth:`SDK.events`, a replication peer for :func:`core_events`."""

    kind: PeerEventKind
    peer: Any


class _Events:
    """An async iterator of :class:`PeerEvent` fed by callbacks; ``aclose`` unsubscribes."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[PeerEvent | None] = asyncio.Queue()
        self.unsubscribe: list[Any] = []
        self.ended = False

    def push(self, event: PeerEvent) -> None:
        if not self.ended:
            self.queue.put_nowait(event)

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(None)
            for off in self.unsubscribe:
                off()
            self.unsubscribe.clear()

    def __aiter__(self) -> _Events:
        return self

    async def __anext__(self) -> PeerEvent:
        item = await self.queue.get()
        if item is None:
            self.queue.put_nowait(None)
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        self.end()

    async def __aenter__(self) -> _Events:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.end()


def core_events(core: Hypercore) -> _Events:
    """``peer-add`` / ``peer-remove`` of one core (a replication channel opened or closed for it)
    as an async iterator (also an async context manager); it ends when the core closes."""
    events = _Events()
    events.unsubscribe.append(core.on("peer-add", lambda peer: events.push(PeerEvent("peer-add", peer))))
    events.unsubscribe.append(
        core.on("peer-remove", lambda peer: events.push(PeerEvent("peer-remove", peer)))
    )
    events.unsubscribe.append(core.on("close", lambda *_: events.end()))
    return events


def url(obj: Hypercore | Hyperbee) -> str:
    """``hyper://<z32 key>/`` of a core or bee (hyper-sdk's ``url`` getters)."""
    core = obj.core if isinstance(obj, Hyperbee) else obj
    key = core.key
    if key is None:
        raise SDKClosedError("the core is not open")
    return core_url(key)


def _user_data_dir(app: str) -> Path:
    """Per-user data directory of ``app`` as env-paths (random-access-application) picks it, with
    the suffix ``-python`` where JS adds ``-nodejs`` (the two store layouts differ)."""
    name = f"{app}-python"
    home = Path(os.path.expanduser("~"))
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / name
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / name / "Data"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / name


def storage_path(storage: str | os.PathLike[str] | None) -> str | os.PathLike[str] | None:
    """hyper-sdk's rule: a string that is neither relative (``.``) nor absolute is an app name
    (per-user storage); ``None`` is memory; anything else is a directory."""
    if isinstance(storage, str) and not (storage.startswith(".") or os.path.isabs(storage)):
        return _user_data_dir(storage)
    return storage


LOCK_FILE = "sdk.lock"


class _DirLock:
    """An exclusive advisory lock on ``<dir>/sdk.lock`` (``flock``: also between two SDKs of one
    process, as corestore 6 locks its primary key file); a no-op where ``fcntl`` is missing."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self.fd: int | None = None

    def acquire(self) -> None:
        if sys.platform == "win32":
            return
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            raise StorageLockedError(f"{self.path.parent} is in use by another SDK") from err
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None


class SDK:
    """See the module docstring. Every argument is optional::

    SDK(storage="hyper-sdk" | DIR | None, auto_join=True, replicate=True, dht=None,
        bootstrap=None, host="0.0.0.0", port=0, resolver=None, dnslink_prefix="dnslink=/hyper/",
        primary_key=None)
    """

    def __init__(
        self,
        storage: str | os.PathLike[str] | None = DEFAULT_STORAGE,
        *,
        auto_join: bool = True,
        replicate: bool = True,
        dht: Any = None,
        bootstrap: list[Any] | None = None,
        host: str = "0.0.0.0",
        port: int = 0,
        resolver: TXTResolver | None = None,
        dnslink_prefix: str = DNSLINK_TXT_PREFIX,
        primary_key: bytes | None = None,
    ) -> None:
        path = storage_path(storage)
        self._lock = None if path is None else _DirLock(Path(path))
        self.corestore = Corestore(path, primary_key=primary_key, unsafe=primary_key is not None, compat=True)
        self.auto_join = auto_join
        self.do_replicate = replicate
        self.resolver: TXTResolver = resolver or doh_txt_resolver()
        self.dnslink_prefix = dnslink_prefix
        self._dht = dht
        self._bootstrap = bootstrap
        self._host = host
        self._port = port
        self._swarm: Hyperswarm | None = None
        self._cores: dict[str, Hypercore] = {}  # by name and by hex key
        self._bees: dict[str, Hyperbee] = {}  # by url
        self._pending: dict[str, asyncio.Future[Hypercore]] = {}  # gets in progress, by name/key
        self._discovery: dict[bytes, PeerDiscoverySession] = {}  # core discovery key -> join
        self._subscribers: set[_Events] = set()
        self._tasks = TaskOwner("sdk")
        self._opening: asyncio.Task[None] | None = None
        self._close_once = CloseOnce(self._close)
        self.closed = False

    # --- lifecycle -------------------------------------------------------------------------------

    async def ready(self) -> None:
        """Open the store and the swarm, and listen (JS ``create`` / ``sdk.ready``). Idempotent."""
        self._check_open()
        if self._opening is None:
            self._opening = self._tasks.spawn(self._open())
        await asyncio.shield(self._opening)

    async def _open(self) -> None:
        if self._lock is not None:
            self._lock.acquire()
        await self.corestore.ready()
        key_pair = await self.corestore.create_key_pair("noise")
        swarm = Hyperswarm(
            key_pair=key_pair,
            dht=self._dht,
            bootstrap=self._bootstrap,
            host=self._host,
            port=self._port,
            on_connection=self._on_connection if self.do_replicate else None,
        )
        self._swarm = swarm
        await swarm.listen()

    async def __aenter__(self) -> SDK:
        try:
            await self.ready()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Leave the swarm and close every core, the store and the swarm (once; every call waits)."""
        await self._close_once()

    close = aclose

    async def _close(self) -> None:
        self.closed = True
        for events in list(self._subscribers):
            events.end()
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
            with contextlib.suppress(BaseException):
                await self._opening
        for bee in list(self._bees.values()):
            with contextlib.suppress(Exception):
                await bee.aclose()
        self._bees.clear()
        cores = {id(c): c for c in self._cores.values()}
        self._cores.clear()
        for core in cores.values():
            with contextlib.suppress(Exception):
                await core.aclose()
        try:
            if self._swarm is not None:
                await self._swarm.aclose()
        finally:
            try:
                await self.corestore.aclose()
                await self._tasks.aclose()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def _check_open(self) -> None:
        if self.closed:
            raise SDKClosedError("the SDK is closed")

    @property
    def swarm(self) -> Hyperswarm:
        if self._swarm is None:
            raise SDKClosedError("the SDK is not open: use `async with SDK(...)` or await ready()")
        return self._swarm

    @property
    def public_key(self) -> bytes:
        """The swarm's public key (the store's ``noise`` key pair)."""
        return self.swarm.key_pair.public_key

    @property
    def connections(self) -> list[Any]:
        """The open swarm connections."""
        return list(self.swarm.open_connections)

    @property
    def peers(self) -> dict[bytes, PeerInfo]:
        """Every peer the swarm knows, by public key."""
        return self.swarm.peers

    # --- connections -----------------------------------------------------------------------------

    def _on_connection(self, conn: Any, info: PeerInfo) -> None:
        self._emit(PeerEvent("peer-add", info))
        self.corestore.replicate(conn)
        self._tasks.spawn(self._watch(conn, info))

    async def _watch(self, conn: Any, info: PeerInfo) -> None:
        with contextlib.suppress(Exception):
            await conn.wait_closed()
        self._emit(PeerEvent("peer-remove", info))

    def _emit(self, event: PeerEvent) -> None:
        for events in list(self._subscribers):
            events.push(event)

    def events(self) -> _Events:
        """Swarm-wide ``peer-add`` / ``peer-remove`` (:class:`PeerEvent` with a :class:`PeerInfo`)
        from now on, as an async iterator; it ends when the SDK closes or it is closed."""
        self._check_open()
        events = _Events()
        self._subscribers.add(events)
        events.unsubscribe.append(lambda: self._subscribers.discard(events))
        return events

    # --- cores -----------------------------------------------------------------------------------

    async def resolve_dns_to_key(self, domain: str) -> str:
        """The key text a domain's ``_dnslink`` TXT record names (JS ``resolveDNSToKey``)."""
        records = await self.resolver(f"_dnslink.{domain}")
        found = parse_dnslink(records, self.dnslink_prefix)
        if found is None:
            raise DNSLinkError(
                f"Unable to resolve DNSLink domain for {domain}. If you are the site operator, please "
                f"add a TXT record pointing at _dnslink.{domain} with the value "
                "dnslink=/hyper/YOUR_KEY_IN_Z32_HERE"
            )
        return found

    async def _resolve(self, x: object) -> tuple[bytes | None, str | None]:
        target = parse_target(x)
        if target.domain is not None:
            text = await self.resolve_dns_to_key(target.domain)
            key = string_to_key(text)
            if key is None:
                raise DNSLinkError(f"the DNSLink record of {target.domain} is not a hyper key: {text!r}")
            return key, None
        return target.key, target.name

    async def get(self, x: object, *, auto_join: bool | None = None, value_encoding: Any = None) -> Hypercore:
        """The core ``x`` names: 32 key bytes (or a 32-byte topic), a 64-hex or 52-char z-base-32
        key, a ``hyper://`` URL (key or DNSLink domain) or a name (a writable core of this store).
        The same name or key twice gives the same session; ``auto_join`` (default: the SDK's)
        joins its discovery key."""
        await self.ready()
        key, name = await self._resolve(x)
        cached = self._cores.get(name) if name is not None else None
        if cached is None and key is not None:
            cached = self._cores.get(key.hex())
        join = self.auto_join if auto_join is None else auto_join
        if cached is not None and not cached.closed:
            return cached
        slot = f"name:{name}" if name is not None else f"key:{key.hex() if key else ''}"
        pending = self._pending.get(slot)
        if pending is not None:  # a get of the same core is opening it: share its session
            core = await asyncio.shield(pending)
            if join:
                await self.join_core(core)
            return core
        fut: asyncio.Future[Hypercore] = asyncio.get_running_loop().create_future()
        self._pending[slot] = fut
        try:
            core = await self._open_core(key, name, value_encoding)
        except BaseException as err:
            fut.set_exception(err)
            fut.exception()  # retrieved: waiters get it from their own await
            raise
        else:
            fut.set_result(core)
        finally:
            del self._pending[slot]
        if join:
            await self.join_core(core)
        return core

    async def _open_core(self, key: bytes | None, name: str | None, value_encoding: Any) -> Hypercore:
        if name is not None:
            core = await self.corestore.get(name=name, value_encoding=value_encoding)
        else:
            core = await self.corestore.get(key=key, value_encoding=value_encoding)
        if self.closed:
            await core.aclose()
            raise SDKClosedError("the SDK is closed")
        assert core.key is not None
        hex_key = core.key.hex()
        self._cores[hex_key] = core
        if name is not None:
            self._cores[name] = core

        def forget(*_: object) -> None:
            for k in (hex_key, name):
                if k is not None and self._cores.get(k) is core:
                    del self._cores[k]

        core.once("close", forget)
        return core

    async def get_bee(self, x: object, *, auto_join: bool | None = None, **bee_opts: Any) -> Hyperbee:
        """A Hyperbee over ``get(x)``, cached by URL (``bee_opts`` go to :class:`Hyperbee`)."""
        core = await self.get(x, auto_join=auto_join)
        key = url(core)
        bee = self._bees.get(key)
        if bee is not None:
            return bee
        bee = Hyperbee(core, **bee_opts)
        self._bees[key] = bee
        core.once("close", lambda *_: self._bees.pop(key, None))
        await bee.ready()
        return bee

    def namespace(self, name: str | bytes) -> Corestore:
        """The store's namespace ``name`` (not auto-joined; its cores are compat cores too)."""
        self._check_open()
        return self.corestore.namespace(name)

    async def join_core(self, core: Hypercore) -> None:
        """Join ``core``'s discovery key; a writable core waits until announced, an empty
        read-only one until the first peers were tried and asked for its length."""
        await self.ready()
        dk = core.discovery_key
        if dk is None:
            raise SDKClosedError("the core is not open")
        if dk in self._discovery:
            return
        session = self.join(dk)
        self._discovery[dk] = session

        def leave(*_: object) -> None:
            if self._discovery.get(dk) is session:
                del self._discovery[dk]
                if not self.closed:
                    self._tasks.spawn(session.destroy())

        core.once("close", leave)
        if core.writable:
            await session.flushed()
        elif core.length == 0:
            await self.swarm.flush()
            await core.update()

    async def leave_core(self, core: Hypercore) -> None:
        """Stop announcing and looking up ``core`` (hyper-sdk has no ``leaveCore``)."""
        dk = core.discovery_key
        session = self._discovery.pop(dk, None) if dk is not None else None
        if session is not None:
            await session.destroy()

    def join(self, topic: str | bytes, *, server: bool = True, client: bool = True) -> PeerDiscoverySession:
        """Join a swarm topic (a string is hashed as hyper-sdk's ``makeTopicKey``)."""
        self._check_open()
        return self.swarm.join(topic_key(topic), server=server, client=client)

    async def leave(self, topic: str | bytes) -> None:
        """Leave a topic joined with :meth:`join` (a string is hashed the same way)."""
        await self.swarm.leave(topic_key(topic))

    def join_peer(self, public_key: bytes) -> None:
        """Keep a connection to the peer with this swarm public key."""
        self.swarm.join_peer(public_key)

    def leave_peer(self, public_key: bytes) -> None:
        self.swarm.leave_peer(public_key)

    @staticmethod
    def make_topic_key(name: str) -> bytes:
        return topic_key(name)

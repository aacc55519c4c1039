"""Hyperswarm 4.17.2 for Python: find and keep connections to peers on topics (JS ``hyperswarm``).

Invariants:

* The policy is JS's, composed from the sans-IO parts: :class:`PeerInfo` priorities,
  :class:`RetryTimer` backoff, :class:`ShuffledPriorityQueue`, :class:`ConnectionSet` and
  :func:`keep_new_connection` (the duplicate rule, applied to inbound connections only; an
  outbound connect is never started while any connection to that key exists). So a mixed
  JS/Python swarm keeps exactly one connection per pair.
* At most one tracked connection (open or being dialled) per remote key; at most ``max_parallel``
  dials at once; no new dial once ``factor * connections >= max_peers``.
* The firewall rejects our own key, banned peers and what the user ``firewall`` rejects (that
  peer is then banned).
* Every task (dials, connection watchers, refreshes, the retry timer, callbacks) belongs to the
  swarm's :class:`~hyperpunch.aio.TaskOwner`; :meth:`Hyperswarm.aclose` (once, via
  :class:`~hyperpunch.aio.CloseOnce`) leaves every topic (unannouncing), closes the server, every
  connection and, when the swarm created it, the DHT, then ends the tasks still running.
* Topic discovery sees the swarm only through the public
  :class:`~hyperpunch.swarm.discovery.DiscoveryHost` seam (``dht_ops``, ``spawn``, ``listen``,
  ``wait_listened``, ``relay_addresses``, ``leave``); the DHT through :class:`SwarmDHT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.crypto import KeyPair
from hyperpunch.crypto import key_pair as _key_pair
from hyperpunch.dht import HyperDHT
from hyperpunch.secretstream import SecretStream
from hyperpunch.swarm.connection_set import ConnectionSet, keep_new_connection
from hyperpunch.swarm.dht_ops import DHTOps, SwarmDHT, SwarmServer
from hyperpunch.swarm.discovery import DiscoveryDHT, PeerDiscovery, PeerDiscoverySession
from hyperpunch.swarm.errors import FirewalledPeerError, MissingTopicError, SwarmDestroyedError
from hyperpunch.swarm.peer_info import PeerInfo
from hyperpunch.swarm.queue import ShuffledPriorityQueue
from hyperpunch.swarm.retry_timer import RetryTimer

__all__ = ["MAX_PARALLEL", "MAX_PEERS", "Hyperswarm", "SwarmDHT", "SwarmServer"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_PEERS = 64
MAX_PARALLEL = 3

FORCE_RELAY_CODES = frozenset(
    {"HOLEPUNCH_ABORTED", "HOLEPUNCH_DOUBLE_RANDOMIZED_NATS", "CANNOT_HOLEPUNCH", "REMOTE_NOT_HOLEPUNCHABLE"}
)

Conn = SecretStream  # what HyperDHT's connect and server hand out
FirewallFn = Callable[[bytes, Any], bool]
ConnectionCallback = Callable[[Conn, PeerInfo], "Awaitable[None] | None"]


@dataclass(eq=False)
class _Tracked:
    """One connection the swarm tracks: dialling (``conn`` None) or open."""

    remote_public_key: bytes
    is_initiator: bool
    conn: Conn | None = None
    task: asyncio.Task[None] | None = None
    destroyed: bool = False
    finished: bool = False  # the swarm's close bookkeeping ran
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def raw_bytes(self) -> tuple[int, int]:
        if self.conn is None:
            return (0, 0)
        core = self.conn.core
        return (core.raw_bytes_read, core.raw_bytes_written)

    def send_keep_alive(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.send_keep_alive()

    def destroy(self) -> None:
        self.destroyed = True
        if self.conn is not None:
            self.conn.abort()
        elif self.task is not None:
            self.task.cancel()


@dataclass
class _Flush:
    future: asyncio.Future[bool]
    missing: int
    tick: int


class Hyperswarm:
    """``async with Hyperswarm(bootstrap=[...]) as swarm: swarm.join(topic); async for conn, info in swarm.connections(): ...``"""

    def __init__(
        self,
        *,
        key_pair: KeyPair | None = None,
        seed: bytes | None = None,
        dht: SwarmDHT | None = None,
        bootstrap: list[Any] | None = None,
        host: str = "0.0.0.0",
        port: int = 0,
        max_peers: int = MAX_PEERS,
        max_parallel: int = MAX_PARALLEL,
        max_client_connections: float = float("inf"),
        max_server_connections: float = float("inf"),
        firewall: FirewallFn | None = None,
        relay_through: bytes | None = None,
        on_connection: ConnectionCallback | None = None,
        on_update: Callable[[], None] | None = None,
        on_ban: Callable[[PeerInfo, BaseException], None] | None = None,
        backoffs: list[float] | None = None,
        jitter: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.key_pair = key_pair or _key_pair(seed)
        self._owns_dht = dht is None
        if dht is None:
            dht = HyperDHT(bootstrap=bootstrap, host=host, port=port)
        self.dht: Any = dht  # the HyperDHT (or test double) given, with all its own API
        self._dht: SwarmDHT = dht
        self._dht_ops = DHTOps(dht)
        self.rng = rng or random.Random()
        self.server = dht.create_server(
            firewall=self._server_firewall, on_connection=self._handle_server_connection
        )
        self.destroyed = False
        self.suspended = False
        self.max_peers = max_peers
        self.max_parallel = max_parallel
        self.max_client_connections = max_client_connections
        self.max_server_connections = max_server_connections
        self.relay_through = relay_through
        self.on_connection = on_connection
        self.on_update = on_update
        self.on_ban = on_ban
        self.connecting = 0
        self.open_connections: set[Conn] = set()  # JS swarm.connections
        self.peers: dict[bytes, PeerInfo] = {}
        self.explicit_peers: dict[bytes, PeerInfo] = {}
        self.stats: dict[str, Any] = {
            "updates": 0,
            "connects": {
                "client": {"opened": 0, "closed": 0, "attempted": 0},
                "server": {"opened": 0, "closed": 0},
            },
            "banned_peers": 0,
        }
        self._firewall = firewall
        self._discovery: dict[bytes, PeerDiscovery] = {}
        timer_opts: dict[str, Any] = {"backoffs": backoffs, "rng": self.rng}
        if jitter is not None:
            timer_opts["jitter"] = jitter
        self._timer = RetryTimer(**timer_opts)
        self._queue: ShuffledPriorityQueue[PeerInfo] = ShuffledPriorityQueue(self.rng)
        self._all: ConnectionSet[_Tracked] = ConnectionSet()
        self._tracked_by_conn: dict[int, _Tracked] = {}
        self._pending_flushes: list[_Flush] = []
        self._flush_tick = 0
        self._draining_queue = False
        self._client_connections = 0
        self._server_connections = 0
        self._online = True
        self._listening: asyncio.Task[None] | None = None
        self._tasks = TaskOwner("hyperswarm")
        self._timer_task: asyncio.Task[None] | None = None
        self._timer_wake: asyncio.Event | None = None
        self._conn_queue: asyncio.Queue[tuple[Conn, PeerInfo] | None] = asyncio.Queue()
        self._iterating = False
        self._close_once = CloseOnce(self._destroy)
        self._force_destroy = False
        on = getattr(dht, "on", None)
        if on is not None:
            on("network-change", self._on_network_change)
            on("network-update", self._on_network_update)

    # -- plumbing ----------------------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def spawn(self, coro: Coroutine[Any, Any, T] | Awaitable[T]) -> asyncio.Task[T]:
        """Start a task the swarm owns: :meth:`aclose` stops it (a failure is logged)."""
        return self._tasks.spawn(coro)

    @property
    def dht_ops(self) -> DiscoveryDHT:
        """The announce/lookup calls of :attr:`dht` that topic discovery makes."""
        return self._dht_ops

    async def wait_listened(self) -> None:
        """Wait until a :meth:`listen` in progress has ended (never raises)."""
        if self._listening is not None:
            await asyncio.wait({self._listening})

    def _emit_update(self) -> None:
        self.stats["updates"] += 1
        if self.on_update is not None:
            try:
                self.on_update()
            except Exception:
                _log.exception("on_update callback failed")

    def _emit_connection(self, conn: Conn, info: PeerInfo) -> None:
        # queued for connections() once someone iterates, or while no callback takes them
        if self._iterating or self.on_connection is None:
            self._conn_queue.put_nowait((conn, info))
        cb = self.on_connection
        if cb is None:
            return
        try:
            res = cb(conn, info)
        except Exception:
            _log.exception("on_connection callback failed")
            return
        if inspect.isawaitable(res):
            self.spawn(res)

    def _ensure_timer(self) -> None:
        if self._timer_task is None and not self.destroyed:
            self._timer_wake = asyncio.Event()
            self._timer_task = self.spawn(self._run_timer())
        elif self._timer_wake is not None:
            self._timer_wake.set()

    async def _run_timer(self) -> None:
        wake = self._timer_wake
        assert wake is not None
        while not self.destroyed:
            deadline = self._timer.next_deadline()
            wake.clear()
            timeout = None if deadline is None else max(0.0, deadline - self._now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)
            for batch in self._timer.poll(self._now()):
                self._requeue(batch)

    def relay_addresses(self) -> list[Any]:
        """The relays our server can be reached through (announced with each topic)."""
        return list(getattr(self.server, "relay_addresses", None) or [])

    # -- queueing (JS _enqueue/_requeue/_attemptClientConnections) -----------------------------------

    def _enqueue(self, peer: PeerInfo) -> None:
        if peer.queued:
            return
        peer.queued = True
        peer.flush_tick = self._flush_tick
        self._queue.add(peer)
        self._attempt_client_connections()

    def _requeue(self, batch: Iterable[PeerInfo]) -> None:
        if self.suspended:
            return
        for peer in batch:
            peer.waiting = False
            if not peer.update_priority() or self._all.has(peer.public_key) or peer.queued:
                continue
            peer.queued = True
            peer.flush_tick = self._flush_tick
            self._queue.add(peer)
        self._attempt_client_connections()

    def _flush_maybe(self, peer: PeerInfo) -> None:
        for flush in list(self._pending_flushes):
            if peer.flush_tick > flush.tick:
                continue
            flush.missing -= 1
            if flush.missing > 0:
                continue
            if not flush.future.done():
                flush.future.set_result(True)
            self._pending_flushes.remove(flush)

    def _within_max_peers(self) -> bool:
        e = len(self.explicit_peers)
        factor = 1 if e == 0 else 2 if e < 2 else 3 if e < 4 else 4
        return factor * len(self._all) < self.max_peers

    def _flush_all_maybe(self) -> bool:
        if self.connecting > 0 or (
            self._within_max_peers() and self._client_connections < self.max_client_connections
        ):
            return False
        while self._pending_flushes:
            flush = self._pending_flushes.pop()
            if not flush.future.done():
                flush.future.set_result(True)
        return True

    def _should_connect_explicit(self) -> bool:
        return not self.destroyed and not self.suspended and self.connecting < self.max_parallel

    def _should_connect(self) -> bool:
        return (
            not self.destroyed
            and not self.suspended
            and self.connecting < self.max_parallel
            and self._within_max_peers()
            and self._client_connections < self.max_client_connections
        )

    def _should_requeue(self, peer: PeerInfo) -> bool:
        if self.suspended:
            return False
        if peer.explicit:
            return True
        return not self.destroyed and any(t in self._discovery for t in peer.topics)

    def _attempt_client_connections(self) -> None:
        if self._draining_queue or self.suspended:
            return
        self._draining_queue = True
        try:
            now = self._now()
            for peer in list(self.explicit_peers.values()):
                if not self._should_connect_explicit():
                    break
                if peer.attempts >= 5 or now - peer.disconnected_time < peer.attempts:
                    continue
                self._connect(peer, False)
            while len(self._queue) and self._should_connect():
                head = self._queue.shift()
                assert head is not None
                head.queued = False
                self._connect(head, True)
        finally:
            self._draining_queue = False
        if self.connecting == 0:
            self._flush_all_maybe()

    # -- client connections --------------------------------------------------------------------------

    def _connect(self, peer: PeerInfo, queued: bool) -> None:
        if peer.banned or self._all.has(peer.public_key):
            if queued:
                self._flush_maybe(peer)
            return
        if self._handle_firewall(peer.public_key, None):
            if queued:
                self._flush_maybe(peer)
            return
        tracked = _Tracked(peer.public_key, True)
        self._all.add(tracked)
        self.stats["connects"]["client"]["attempted"] += 1
        self.connecting += 1
        self._client_connections += 1
        tracked.task = self.spawn(self._run_client(peer, tracked, queued))
        # a task cancelled before its first step never runs its body (nor its finally)
        tracked.task.add_done_callback(lambda _t: self._client_closed(peer, tracked, queued, False))
        self._emit_update()

    async def _run_client(self, peer: PeerInfo, tracked: _Tracked, queued: bool) -> None:
        opened = False
        try:
            relay = self.relay_through if (self.relay_through and peer.force_relaying) else None
            opts: dict[str, Any] = {"key_pair": self.key_pair, "relay_addresses": peer.relay_addresses}
            if relay is not None:
                opts["relay_through"] = relay
            try:
                conn = await self._dht.connect(peer.public_key, **opts)
            except asyncio.CancelledError:
                if self.destroyed or not tracked.destroyed:
                    raise
                return  # dropped as a duplicate
            except Exception as err:
                if self.relay_through and getattr(err, "code", None) in FORCE_RELAY_CODES:
                    peer.force_relaying = True
                    peer.attempts = 0
                _log.debug("connect to %s failed: %r", peer.public_key.hex()[:16], err)
                return
            if tracked.destroyed or self.destroyed:
                conn.abort()
                return
            tracked.conn = conn
            self._tracked_by_conn[id(conn)] = tracked
            opened = True
            self.stats["connects"]["client"]["opened"] += 1
            self._connect_done()
            self.open_connections.add(conn)
            peer.connected(self._now())
            peer.client = True
            self._emit_connection(conn, peer)
            if queued:
                self._flush_maybe(peer)
            self._emit_update()
            await _wait_closed(conn)
        finally:
            self._client_closed(peer, tracked, queued, opened)

    def _client_closed(self, peer: PeerInfo, tracked: _Tracked, queued: bool, opened: bool) -> None:
        if tracked.finished:
            return
        tracked.finished = True
        if not opened:
            self._connect_done()
        self.stats["connects"]["client"]["closed"] += 1
        if tracked.conn is not None:
            self.open_connections.discard(tracked.conn)
            self._tracked_by_conn.pop(id(tracked.conn), None)
        self._all.delete(tracked)
        self._client_connections -= 1
        peer.disconnected(self._now())
        peer.waiting = self._should_requeue(peer) and self._timer.add(peer, self._now())
        if peer.waiting:
            self._ensure_timer()
        self._maybe_delete_peer(peer)
        if not opened and queued:
            self._flush_maybe(peer)
        self._run_on_close(tracked)
        if not self.destroyed:
            self._attempt_client_connections()
        self._emit_update()

    def _connect_done(self) -> None:
        self.connecting -= 1
        if self.destroyed:
            return
        if self.connecting < self.max_parallel:
            self._attempt_client_connections()
        if self.connecting == 0:
            self._flush_all_maybe()

    def _run_on_close(self, tracked: _Tracked) -> None:
        callbacks, tracked.on_close = tracked.on_close, []
        for cb in callbacks:
            cb()

    # -- firewall and server connections ---------------------------------------------------------

    def _server_firewall(self, remote_public_key: bytes, payload: Any, _address: Any = None) -> bool:
        return self._handle_firewall(remote_public_key, payload)

    def _handle_firewall(self, remote_public_key: bytes, payload: Any) -> bool:
        remote_public_key = bytes(remote_public_key)
        if remote_public_key == self.key_pair.public_key:
            return True
        peer = self.peers.get(remote_public_key)
        if peer is not None and peer.banned:
            return True
        firewalled = False
        if self._firewall is not None:
            try:
                firewalled = bool(self._firewall(remote_public_key, payload))
            except Exception:
                _log.exception("firewall callback failed; rejecting")
                firewalled = True
        if firewalled:
            if peer is None:
                peer = self._upsert_peer(remote_public_key, None)
            if peer is not None:
                self._ban_peer(peer, FirewalledPeerError())
        return firewalled

    def _handle_server_connection(self, conn: Conn) -> None:
        if self.destroyed or self.suspended:
            conn.abort()
            return
        remote = _key(conn.remote_public_key)
        existing = self._all.get(remote)
        if existing is not None:
            read, written = existing.raw_bytes()
            keep_new = keep_new_connection(
                existing_bytes_read=read,
                existing_bytes_written=written,
                local_public_key=_key(conn.public_key),
                remote_public_key=remote,
                new_is_initiator=bool(conn.is_initiator),
            )
            if not keep_new:
                existing.send_keep_alive()
                conn.abort()
                return

            def swap() -> None:
                if _is_open(conn) and not self.destroyed:
                    self._handle_server_connection(conn)
                elif not self.destroyed:
                    conn.abort()

            existing.on_close.append(swap)
            existing.destroy()
            return
        self.stats["connects"]["server"]["opened"] += 1
        peer = self._upsert_peer(remote, None)
        assert peer is not None  # our own key never passes the firewall
        tracked = _Tracked(remote, False, conn)
        self._tracked_by_conn[id(conn)] = tracked
        self.open_connections.add(conn)
        self._all.add(tracked)
        self._server_connections += 1
        peer.client = False
        tracked.task = self.spawn(self._run_server(peer, tracked, conn))
        tracked.task.add_done_callback(lambda _t: self._server_closed(peer, tracked))
        self._emit_connection(conn, peer)
        self._emit_update()

    async def _run_server(self, peer: PeerInfo, tracked: _Tracked, conn: Conn) -> None:
        try:
            await _wait_closed(conn)
        finally:
            self._server_closed(peer, tracked)

    def _server_closed(self, peer: PeerInfo, tracked: _Tracked) -> None:
        if tracked.finished:
            return
        tracked.finished = True
        self.open_connections.discard(tracked.conn)
        self._tracked_by_conn.pop(id(tracked.conn), None)
        self._all.delete(tracked)
        self._server_connections -= 1
        self.stats["connects"]["server"]["closed"] += 1
        self._maybe_delete_peer(peer)
        self._run_on_close(tracked)
        if not self.destroyed:
            self._attempt_client_connections()
        self._emit_update()

    # -- peers -------------------------------------------------------------------------------------

    def _upsert_peer(self, public_key: bytes, relay_addresses: list[Any] | None) -> PeerInfo | None:
        public_key = bytes(public_key)
        if public_key == self.key_pair.public_key:
            return None
        peer = self.peers.get(public_key)
        if peer is not None:
            peer.relay_addresses = relay_addresses  # new is always better
            return peer
        peer = PeerInfo(public_key, relay_addresses)
        self.peers[public_key] = peer
        return peer

    def _maybe_delete_peer(self, peer: PeerInfo) -> None:
        if not peer.should_gc() or self._all.has(peer.public_key):
            return
        self.peers.pop(peer.public_key, None)

    def _handle_peer(self, record: Any, topic: bytes) -> None:
        """A lookup found ``record`` (``.public_key``, ``.relay_addresses``) under ``topic``."""
        public_key = bytes(record.public_key)
        peer = self._upsert_peer(public_key, list(getattr(record, "relay_addresses", None) or []) or None)
        if peer is not None:
            peer.add_topic(topic)
        if peer is None or self._all.has(public_key):
            return
        if not peer.prioritized or peer.server:
            peer.reset()
        if peer.update_priority():
            self._enqueue(peer)

    def _ban_peer(self, peer: PeerInfo, err: BaseException) -> None:
        peer.ban(True)
        self.stats["banned_peers"] += 1
        if self.on_ban is not None:
            try:
                self.on_ban(peer, err)
            except Exception:
                _log.exception("on_ban callback failed")

    def _on_network_update(self, *_: Any) -> None:
        online = bool(getattr(self.dht, "online", True))
        came_online = online and not self._online
        self._online = online
        if came_online:
            self._on_network_change()

    def _on_network_change(self, *_: Any) -> None:
        if self.suspended or self.destroyed:
            return
        for tracked in self._all:
            tracked.send_keep_alive()
        for d in list(self._discovery.values()):
            if not d.destroyed:
                d.start_refresh()

    # -- public API --------------------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        return self._listening is not None

    def connections(self) -> AsyncIterator[tuple[Conn, PeerInfo]]:
        """Every new connection with its :class:`PeerInfo`, until the swarm closes.

        Connections made while no ``on_connection`` callback is set are kept for this iterator
        (so none is missed between ``join`` and the loop); with a callback set, only those made
        after the first call are. Several iterators share one queue (each connection goes to one).
        """
        self._iterating = True
        return self._iter_connections(self._conn_queue)

    async def _iter_connections(
        self, queue: asyncio.Queue[tuple[Conn, PeerInfo] | None]
    ) -> AsyncIterator[tuple[Conn, PeerInfo]]:
        while True:
            item = await queue.get()
            if item is None:
                queue.put_nowait(None)  # let other iterators end too
                return
            yield item

    def status(self, topic: bytes) -> PeerDiscovery | None:
        return self._discovery.get(bytes(topic))

    def topics(self) -> list[PeerDiscovery]:
        return list(self._discovery.values())

    async def listen(self) -> None:
        if self._listening is None:
            if self.destroyed:
                raise SwarmDestroyedError("Swarm destroyed")
            self._listening = self.spawn(self.server.listen(self.key_pair))
        await asyncio.shield(self._listening)

    def join(
        self, topic: bytes, *, server: bool = True, client: bool = True, limit: float = float("inf")
    ) -> PeerDiscoverySession:
        """Announce (``server``) and/or look up (``client``) ``topic`` (32 bytes, the DHT target)."""
        if self.destroyed:
            raise SwarmDestroyedError("Swarm destroyed")
        if not isinstance(topic, (bytes, bytearray, memoryview)) or len(bytes(topic)) != 32:
            raise MissingTopicError()
        topic = bytes(topic)
        discovery = self._discovery.get(topic)
        if discovery is not None and not discovery.destroyed:
            return discovery.session(server=server, client=client, limit=limit)
        discovery = PeerDiscovery(
            self,
            topic,
            wait=discovery.destroy() if discovery is not None else None,
            suspended=self.suspended,
            on_peer=lambda peer: self._handle_peer(peer, topic),
            rng=self.rng,
        )
        self._discovery[topic] = discovery
        return discovery.session(server=server, client=client, limit=limit)

    async def leave(self, topic: bytes) -> None:
        if not isinstance(topic, (bytes, bytearray, memoryview)):
            raise MissingTopicError()
        topic = bytes(topic)
        discovery = self._discovery.get(topic)
        if discovery is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.shield(discovery.destroy())
        if self._discovery.get(topic) is discovery:
            del self._discovery[topic]

    def join_peer(self, public_key: bytes) -> None:
        """Keep connecting to ``public_key`` (retrying, up to X backoff) until :meth:`leave_peer`."""
        peer = self._upsert_peer(public_key, None)
        if peer is None:
            return
        if peer.public_key not in self.explicit_peers:
            peer.explicit = True
            self.explicit_peers[peer.public_key] = peer
        if self._all.has(peer.public_key):
            return
        if peer.update_priority():
            self._enqueue(peer)

    def leave_peer(self, public_key: bytes) -> None:
        peer = self.peers.get(bytes(public_key))
        if peer is None:
            return
        peer.explicit = False
        self.explicit_peers.pop(peer.public_key, None)
        self._maybe_delete_peer(peer)

    async def flush(self) -> bool:
        """Wait for every topic's announce/lookup, then for every peer queued now to be tried."""
        await asyncio.gather(*(d.flushed() for d in list(self._discovery.values())))
        if self._flush_all_maybe():
            return True
        pending = len(self._all) - len(self.open_connections)
        if not len(self._queue) and not pending:
            return True
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending_flushes.append(_Flush(fut, len(self._queue) + pending, self._flush_tick))
        self._flush_tick += 1
        return await fut

    async def clear(self) -> None:
        discoveries = list(self._discovery.values())
        self._discovery.clear()
        tasks = [d.destroy() for d in discoveries]
        if tasks:
            await asyncio.wait(tasks)

    async def destroy(self, *, force: bool = False) -> None:
        """Close the swarm once (``force``: without leaving the topics first); every call waits."""
        if not self._close_once.started:
            self._force_destroy = force
        await self._close_once()

    async def aclose(self) -> None:
        await self.destroy()

    async def __aenter__(self) -> Hyperswarm:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _destroy(self) -> None:
        force = self._force_destroy
        self.destroyed = True
        self._timer.destroy()
        if self._timer_task is not None:
            self._timer_task.cancel()
        if not force:
            with contextlib.suppress(Exception):
                await self.clear()
        if self._listening is not None and not self._listening.done():
            self._listening.cancel()
        # connections first: hyperpunch.dht's Server.aclose waits for its open connections' raw streams
        for tracked in list(self._all):
            tracked.destroy()
        for conn in list(self.open_connections):
            conn.abort()
        for conn in list(getattr(self.server, "connections", ())):  # accepted, never handed to us
            with contextlib.suppress(Exception):
                conn.abort()
        with contextlib.suppress(Exception):
            await self.server.aclose()
        while self._pending_flushes:
            flush = self._pending_flushes.pop()
            if not flush.future.done():
                flush.future.set_result(False)
        # every owned task ends: connection watchers see their stream close, the rest is cancelled
        pending = [t for t in self._tasks.tasks if t is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=2.0)
        await self._tasks.aclose()
        self._conn_queue.put_nowait(None)
        off = getattr(self.dht, "off", None)
        if off is not None:
            off("network-change", self._on_network_change)
            off("network-update", self._on_network_update)
        if self._owns_dht:
            await self._dht.aclose()


def _key(key: bytes | None) -> bytes:
    """A connection's key: known once its (preset) handshake ran, as for every connection we get."""
    if key is None:
        raise TypeError("a connection without its key")
    return bytes(key)


def _is_open(conn: Conn) -> bool:
    """Not closed and not failed (the handshake may still be finishing)."""
    return conn.error is None and not conn.closed


async def _wait_closed(conn: Conn) -> None:
    with contextlib.suppress(Exception):
        await conn.wait_closed()

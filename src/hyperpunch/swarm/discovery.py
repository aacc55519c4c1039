"""Per-topic discovery: announce and/or look up a topic, refreshed every 10 min + jitter (JS
``hyperswarm/lib/peer-discovery.js``).

Invariants:

* :class:`RefreshSchedule` is the sans-IO timer policy: the next refresh is due
  ``REFRESH_INTERVAL + jitter`` after a refresh ends (``jitter`` alone when eager); a timer found
  overdue by more than ``DELAY_GRACE_PERIOD`` (the machine slept) reschedules eagerly instead of
  refreshing.
* :class:`PeerDiscovery` is shared by every :class:`PeerDiscoverySession` (``join`` handle) of one
  topic; it is a server while any session is, a client while any session is. The topic itself is
  the DHT target. The first announce clears a stale record of ours (``clear=True``); a discovery
  that stopped announcing looks up with unannounce until one such lookup succeeded.
* Only the newest refresh may act on its results (``clock``); a change of role destroys the query
  in flight. Every task and timer is owned and stopped by :meth:`PeerDiscovery.destroy`, which
  also unannounces when we announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from hyperpunch.crypto import KeyPair
from hyperpunch.swarm.errors import SwarmLocalError

__all__ = [
    "DELAY_GRACE_PERIOD",
    "RANDOM_JITTER",
    "REFRESH_INTERVAL",
    "DiscoveryDHT",
    "DiscoveryHost",
    "PeerDiscovery",
    "PeerDiscoverySession",
    "RefreshSchedule",
    "TopicQuery",
]

T = TypeVar("T")

_log = logging.getLogger(__name__)

REFRESH_INTERVAL = 60.0 * 10
RANDOM_JITTER = 60.0 * 2
DELAY_GRACE_PERIOD = 30.0


class TopicQuery(Protocol):
    """A running announce or lookup: iterate it for replies (``.peers``), ``destroy()`` to stop."""

    def __aiter__(self) -> AsyncIterator[Any]: ...

    def destroy(self) -> None: ...


class DiscoveryDHT(Protocol):
    """The DHT calls discovery makes (the swarm adapts a HyperDHT, or a test double, to this)."""

    def announce(self, topic: bytes, key_pair: KeyPair, relays: list[Any], *, clear: bool) -> TopicQuery: ...

    def lookup_and_unannounce(self, topic: bytes, key_pair: KeyPair) -> TopicQuery: ...

    def lookup(self, topic: bytes) -> TopicQuery: ...

    async def unannounce(self, topic: bytes, key_pair: KeyPair) -> None: ...


class DiscoveryHost(Protocol):
    """What a topic's discovery needs from its swarm (the seam: :class:`Hyperswarm` satisfies it)."""

    @property
    def key_pair(self) -> KeyPair: ...

    @property
    def dht_ops(self) -> DiscoveryDHT: ...

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start a task the swarm owns (and stops when it closes)."""
        ...

    async def listen(self) -> None: ...

    async def wait_listened(self) -> None:
        """Wait until a ``listen()`` in progress has ended (never raises)."""
        ...

    def relay_addresses(self) -> list[Any]: ...

    async def leave(self, topic: bytes) -> None: ...


class RefreshSchedule:
    """When the next refresh of one topic is due (times in seconds, ``now`` passed in)."""

    def __init__(
        self,
        rng: random.Random | None = None,
        *,
        interval: float = REFRESH_INTERVAL,
        jitter: float = RANDOM_JITTER,
        grace: float = DELAY_GRACE_PERIOD,
    ) -> None:
        self.rng = rng or random.Random()
        self.interval = interval
        self.jitter = jitter
        self.grace = grace
        self.start: float | None = None
        self.delay = 0.0

    @property
    def deadline(self) -> float | None:
        return None if self.start is None else self.start + self.delay

    def schedule(self, now: float, *, eager: bool = False) -> float:
        """Arm the timer (replacing any armed one); returns the deadline."""
        jitter = round(self.rng.random() * self.jitter * 1000) / 1000
        self.delay = jitter if eager else self.interval + jitter
        self.start = now
        return now + self.delay

    def cancel(self) -> None:
        self.start = None

    def fire(self, now: float) -> bool:
        """The timer went off at ``now``: True means refresh now; False means it was overdue and has
        been rescheduled eagerly (see :attr:`deadline`)."""
        if self.start is None:
            return False
        overdue = now - self.start > self.delay + self.grace
        if overdue:
            self.schedule(now, eager=True)
            return False
        self.start = None
        return True


class PeerDiscoverySession:
    """What :meth:`Hyperswarm.join` returns: one user's interest in a topic."""

    def __init__(self, discovery: PeerDiscovery) -> None:
        self.discovery = discovery
        self.is_client = False
        self.is_server = False
        self.destroyed = False

    @property
    def topic(self) -> bytes:
        return self.discovery.topic

    @property
    def swarm(self) -> DiscoveryHost:
        return self.discovery.swarm

    def _set_roles(self, *, client: bool, server: bool, limit: float) -> asyncio.Task[bool] | None:
        if self.destroyed:
            raise SwarmLocalError("PeerDiscovery is destroyed")
        if not client and not server:
            raise SwarmLocalError("Cannot refresh with neither client nor server option")
        if client != self.is_client:
            self.is_client = client
            self.discovery.client_sessions += 1 if client else -1
        if server != self.is_server:
            self.is_server = server
            self.discovery.server_sessions += 1 if server else -1
        self.discovery.limit = limit
        return self.discovery.start_refresh()

    async def refresh(
        self, *, client: bool | None = None, server: bool | None = None, limit: float = float("inf")
    ) -> bool:
        """Re-announce / look up now (optionally changing roles); False if that refresh failed."""
        task = self._set_roles(
            client=self.is_client if client is None else client,
            server=self.is_server if server is None else server,
            limit=limit,
        )
        return await _outcome(task)

    async def flushed(self) -> bool:
        """Wait until the current announce/lookup of this topic finished (False if it failed)."""
        return await self.discovery.flushed()

    async def destroy(self) -> None:
        """Stop this interest; the last one leaves the topic (unannouncing)."""
        if self.destroyed:
            return
        self.destroyed = True
        d = self.discovery
        if self.is_client:
            d.client_sessions -= 1
        if self.is_server:
            d.server_sessions -= 1
        with contextlib.suppress(ValueError):
            d.sessions.remove(self)
        await d.destroy_maybe()


async def _outcome(task: Awaitable[bool] | None) -> bool:
    """Wait for a refresh ``task`` without cancelling it; True when it succeeded."""
    if task is None:
        return True
    fut = asyncio.ensure_future(task)
    await asyncio.wait({fut})
    return not fut.cancelled() and fut.exception() is None and fut.result()


class PeerDiscovery:
    """Announce/lookup state of one topic (owned by a swarm, seen through :class:`DiscoveryHost`)."""

    def __init__(
        self,
        swarm: DiscoveryHost,
        topic: bytes,
        *,
        wait: Awaitable[Any] | None = None,
        suspended: bool = False,
        on_peer: Callable[[Any], None],
        rng: random.Random | None = None,
    ) -> None:
        self.swarm = swarm
        self.topic = bytes(topic)
        self.limit = float("inf")
        self.is_client = False
        self.is_server = False
        self.destroyed = False
        self.suspended = suspended
        self.destroying: asyncio.Task[None] | None = None
        self.sessions: list[PeerDiscoverySession] = []
        self.client_sessions = 0
        self.server_sessions = 0
        self.refreshes = 0
        self.schedule = RefreshSchedule(rng)
        self._on_peer = on_peer
        self._active_query: TopicQuery | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._current_refresh: asyncio.Task[bool] | None = None
        self._closest_nodes: Any = None
        self._first_announce = True
        self._needs_unannounce = False
        self._wait = wait

    def __repr__(self) -> str:
        return (
            f"<PeerDiscovery {self.topic.hex()[:16]} server={self.is_server} client={self.is_client}"
            f" refreshes={self.refreshes}{' destroyed' if self.destroyed else ''}>"
        )

    # -- sessions ----------------------------------------------------------------------------------

    def session(
        self, *, server: bool = True, client: bool = True, limit: float = float("inf")
    ) -> PeerDiscoverySession:
        if self.destroyed:
            raise SwarmLocalError("PeerDiscovery is destroyed")
        s = PeerDiscoverySession(self)
        self.sessions.append(s)
        s._set_roles(client=client, server=server, limit=limit)
        return s

    # -- refresh -----------------------------------------------------------------------------------

    def _is_active(self) -> bool:
        return not self.destroyed and not self.suspended

    def _refresh_later(self, eager: bool) -> None:
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            self._timer.cancel()
        deadline = self.schedule.schedule(loop.time(), eager=eager)
        self._timer = loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if not self._is_active():
            return
        loop = asyncio.get_running_loop()
        if self.schedule.fire(loop.time()):
            self.start_refresh()
        else:
            deadline = self.schedule.deadline
            assert deadline is not None
            self._timer = loop.call_at(deadline, self._on_timer)

    def start_refresh(self) -> asyncio.Task[bool] | None:
        """JS ``refresh()`` up to its first await: returns the refresh task (None when suspended)."""
        if self.destroyed:
            raise SwarmLocalError("PeerDiscovery is destroyed")
        server = self.server_sessions > 0
        client = self.client_sessions > 0
        if self.suspended:
            return None
        if server == self.is_server and client == self.is_client:
            if self._current_refresh is not None:
                return self._current_refresh
        else:
            if self._active_query is not None:
                self._active_query.destroy()
            self.is_server = server
            self.is_client = client
        task = self.swarm.spawn(self._refresh())
        self._current_refresh = task

        def done(t: asyncio.Task[bool]) -> None:
            if self._current_refresh is t:
                self._current_refresh = None

        task.add_done_callback(done)
        return task

    async def refresh(self) -> bool:
        return await _outcome(self.start_refresh())

    async def _refresh(self) -> bool:
        """One refresh; False when it failed (the failure is this task's result, not an error)."""
        try:
            await self._refresh_once()
        except Exception as err:
            _log.debug("refresh of %s failed: %r", self.topic.hex(), err)
            return False
        return True

    async def _refresh_once(self) -> None:
        if self.suspended:
            return
        self.refreshes += 1
        clock = self.refreshes
        if self._wait is not None:
            with contextlib.suppress(Exception):
                await self._wait
            self._wait = None
            if clock != self.refreshes or not self._is_active():
                return
        clear = self.is_server and self._first_announce
        if clear:
            self._first_announce = False
        if self.is_server:
            await self.swarm.listen()
            if clock != self.refreshes or not self._is_active():
                return
            self._needs_unannounce = True
        limit = self.limit
        announcing = self.is_server
        ops = self.swarm.dht_ops
        if announcing:
            query = ops.announce(self.topic, self.swarm.key_pair, self.swarm.relay_addresses(), clear=clear)
        elif self._needs_unannounce:
            query = ops.lookup_and_unannounce(self.topic, self.swarm.key_pair)
        else:
            query = ops.lookup(self.topic)
        self._active_query = query
        try:
            async for data in query:
                if not self.is_client or not self._is_active():
                    continue
                for peer in getattr(data, "peers", ()):
                    if limit < float("inf"):
                        # JS compares hex ids with a Set of connections, so every peer counts
                        if limit <= 0:
                            continue
                        limit -= 1
                    self._on_peer(peer)
        except Exception:
            if self._is_active() and self._active_query is query:
                raise
        finally:
            if self._active_query is query:
                self._active_query = None
                if self._is_active():
                    self._refresh_later(False)
        self._closest_nodes = getattr(query, "closest_nodes", None)
        if clock != self.refreshes:
            return
        if not announcing:
            self._needs_unannounce = False

    async def flushed(self) -> bool:
        await self.swarm.wait_listened()
        return await _outcome(self._current_refresh)

    # -- teardown ----------------------------------------------------------------------------------

    async def destroy_maybe(self) -> None:
        if self.destroyed:
            return
        try:
            if not self.sessions:
                await self.swarm.leave(self.topic)
            elif self.server_sessions == 0 and self._needs_unannounce:
                await self.refresh()
        except Exception as err:  # tearing down: network failures do not matter
            _log.debug("leaving %s: %r", self.topic.hex(), err)

    def destroy(self) -> asyncio.Task[None]:
        if self.destroying is None:
            self.destroyed = True
            self.destroying = self.swarm.spawn(self._abort())
        return self.destroying

    async def _abort(self) -> None:
        if self._wait is not None:
            with contextlib.suppress(Exception):
                await self._wait
        if self._active_query is not None:
            q, self._active_query = self._active_query, None
            q.destroy()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.schedule.cancel()
        if self._current_refresh is not None:
            await asyncio.wait({self._current_refresh})
        if self._is_active():
            return
        if self._needs_unannounce:
            with contextlib.suppress(Exception):
                await self.swarm.dht_ops.unannounce(self.topic, self.swarm.key_pair)
            self._needs_unannounce = False

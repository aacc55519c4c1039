"""The dht-rpc node logic (JS dht-rpc 6.27 ``index.js``), sans-IO.

Invariants:

* :class:`DHTCore` never touches sockets, clocks or tasks. Datagrams go out through the injected
  ``send(socket, data, port, host, ttl)`` (or, without one, wait for
  :meth:`DHTCore.datagrams_to_send`); they come in through :meth:`DHTCore.receive_datagram`; time
  advances only through ``now`` arguments and :meth:`DHTCore.handle_timer` (``core.timers``,
  next due at :meth:`DHTCore.next_deadline`). Per-request outcomes are callbacks; node outcomes
  are the typed events of :mod:`.events` (``Listening``, ``Ready``, ``Persistent``, ``NatUpdate``,
  ``AddNode``, ``Close``, ...), returned by ``receive_datagram``/``handle_timer`` and, after a
  command, by :meth:`DHTCore.take_events`.
* Only nodes whose id checks out (id == H(source ip:port)) enter the routing table; a node that
  times out is removed; a full row pings its least recently pinged node and swaps it out if the
  ping fails (at most 3 such pings at once).
* A node starts ephemeral and firewalled. PING_NAT probes (5 nodes, >= 3 consistent replies on the
  server socket) clear ``firewalled``; ``ephemeral=False`` or the adaptive timer (240 stable ticks)
  makes it persistent: its id becomes H(public ip:port) and the table is rebuilt around it. The
  decision is :class:`~hyperpunch.dht_rpc.network_state.NetworkState`'s, which owns the NAT
  sampler; the core satisfies its ``Prober`` seam.
* Ticks are every 5 s; a gap of more than 15 s between ticks counts as a wake-up from sleep.
"""

from __future__ import annotations

import hashlib
import os
import random as _random
from collections.abc import Callable, Iterator
from typing import Any

from hyperpunch.dht_rpc.errors import UNKNOWN_COMMAND, DHTRPCError, DHTRPCLocalError, NodeDestroyedError
from hyperpunch.dht_rpc.events import (
    AddNode,
    Close,
    DHTEvent,
    Ephemeral,
    Listening,
    NetworkUpdate,
    Ready,
    RemoveNode,
    Resume,
    Suspend,
    Wakeup,
)
from hyperpunch.dht_rpc.health import NetworkHealth
from hyperpunch.dht_rpc.messages import DELAYED_PING, DOWN_HINT, FIND_NODE, PING, PING_NAT, peer_id
from hyperpunch.dht_rpc.network_state import NetworkState
from hyperpunch.dht_rpc.query import CommitFn, Query
from hyperpunch.dht_rpc.requests import (
    IO,
    IncomingRequest,
    OutgoingRequest,
    Peer,
    Response,
    SendFn,
    Session,
)
from hyperpunch.dht_rpc.routing_table import Node, NodeSet, RoutingTable, Row
from hyperpunch.dht_rpc.timers import Timer, Timers
from hyperpunch.encoding import Address

__all__ = ["DEFAULT_CONCURRENCY", "DHTCore", "RequestHandler"]

TICK_INTERVAL = 5.0
SLEEPING_INTERVAL = 3 * TICK_INTERVAL
REFRESH_TICKS = 60
RECENT_NODE = 12
OLD_NODE = 360
DEFAULT_CONCURRENCY = 10
DEFAULT_MAX_PING_DELAY = 10.0

# Called for each non-internal request; return False to answer UNKNOWN_COMMAND.
RequestHandler = Callable[[IncomingRequest], bool]
ResponseCb = Callable[[Response, OutgoingRequest], None]
ErrorCb = Callable[[DHTRPCError, OutgoingRequest], None]


def _noop(*_: object) -> None:
    return None


class DHTCore:
    """One dht-rpc node's state machine. Call :meth:`bind` once the two sockets exist."""

    def __init__(
        self,
        send: SendFn | None = None,
        *,
        now: float = 0.0,
        bootstrap: list[tuple[str, int]] | None = None,
        ephemeral: bool | None = None,
        adaptive: bool = True,
        firewalled: bool = True,
        quick_firewall: bool = True,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_window: int = 80,
        max_ping_delay: float = DEFAULT_MAX_PING_DELAY,
        send_down_hints: bool = True,
        down_hints_rate_limit: int = 50,
        filter_node: Callable[[Peer], bool] | None = None,
        nodes: list[tuple[str, int]] | None = None,
        on_request: RequestHandler | None = None,
        rng: _random.Random | None = None,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.rng = rng or _random.Random()
        # without a send callable, outgoing datagrams queue here: (socket, data, port, host, ttl)
        self.outbox: list[tuple[object, bytes, int, str, int]] = []
        self.random_bytes = random_bytes
        self.timers = Timers(now)
        self.bootstrap_nodes: list[tuple[str, int]] = list(bootstrap or [])
        self.table = RoutingTable(random_bytes(32), rng=self.rng)
        self.table.on_full = self._on_full_row
        self.nodes = NodeSet()
        self.io = IO(
            self.table,
            self.timers,
            send or self._enqueue,
            max_window=max_window,
            firewalled=firewalled,
            on_request=self._on_request,
            on_response=self._on_response,
            on_timeout=self._on_timeout,
            random_bytes=random_bytes,
            tid=self.rng.randrange(65536),
        )
        self.concurrency = concurrency
        self.max_ping_delay = max_ping_delay
        self.bootstrapped = False
        self.ephemeral = True
        self.firewalled = self.io.firewalled
        self.adaptive = ephemeral is None and adaptive
        self.destroyed = False
        self.suspended = False
        self.filter_node = filter_node
        self.on_request: RequestHandler | None = on_request
        self.stats_queries = {"active": 0, "total": 0}
        self.online = True
        self.degraded = False
        self._health_state = "online"  # what the health window says; see _publish_health
        self.health = NetworkHealth(self.io.stats_requests, self._on_health)
        self.down_hints_rate_limit = down_hints_rate_limit
        self.down_hints_sent_per_tick = 0
        self.server_port = 0
        self._events: list[DHTEvent] = []
        self.network = NetworkState(self, adaptive=self.adaptive)
        self._quick_firewall = quick_firewall
        self._force_persistent = ephemeral is False
        self._send_down_hints = send_down_hints
        self._repinging = 0
        self._checks = 0
        self._tick = self._random_offset(100)
        self._refresh_ticks = self._random_offset(REFRESH_TICKS)
        self._tick_timer: Timer | None = None
        self._last_tick = now
        self._pending_timers: set[Timer] = set()
        self._bootstrap_first = False
        self._bootstrap_test_nat = False
        for host, port in reversed(nodes or []):
            self.add_node(host, port)

    def _enqueue(self, socket: object, data: bytes, port: int, host: str, ttl: int) -> None:
        self.outbox.append((socket, data, port, host, ttl))

    def datagrams_to_send(self) -> list[tuple[object, bytes, int, str, int]]:
        """The datagrams queued since the last call, as ``(socket, data, port, host, ttl)``
        (only used when no ``send`` was given)."""
        out, self.outbox = self.outbox, []
        return out

    def emit(self, event: DHTEvent) -> None:
        """Queue an event for the adapter (drained by the next input or :meth:`take_events`)."""
        self._events.append(event)

    def take_events(self) -> list[DHTEvent]:
        """The events that happened since the last drain, in order (call after a command)."""
        events = self._events
        if not events:
            return []
        self._events = []
        return events

    # -- properties ----------------------------------------------------------------------------

    @property
    def id(self) -> bytes | None:
        return None if self.ephemeral else self.table.id

    @property
    def host(self) -> str | None:
        return self.network.nat.host

    @property
    def port(self) -> int:
        return self.network.nat.port

    @property
    def randomized(self) -> bool:
        return self.network.nat.host is not None and self.network.nat.port == 0

    @property
    def table_id(self) -> bytes:
        return self.table.id

    @property
    def now(self) -> float:
        return self.timers.now

    def remote_address(self) -> Address | None:
        if not self.host or not self.port or self.firewalled or self.io.server_socket is None:
            return None
        if self.server_port != self.port:
            return None
        return Address(self.host, self.port)

    def seed_nat(self, host: str, port: int) -> None:
        """Record our own public address (JS ``bootstrapper``'s ``_nat.add(host, port)``)."""
        self.network.nat.add(host, port)

    # -- entry points for the adapter ----------------------------------------------------------

    def bind(
        self, server_socket: object, client_socket: object, server_port: int, *, bootstrap: bool = True
    ) -> None:
        """Attach socket handles, start ticking and (unless ``bootstrap=False``) bootstrapping."""
        self.server_port = server_port
        self.io.bind(server_socket, client_socket)
        self._last_tick = self.now
        self._tick_timer = self.timers.call_later(TICK_INTERVAL, self._on_tick)
        self.emit(Listening())
        if bootstrap:
            self.start_bootstrap()

    def receive_datagram(
        self, data: bytes, addr: tuple[str, int], now: float, *, socket: object
    ) -> list[DHTEvent]:
        """A datagram from ``addr`` arrived on ``socket`` at ``now``. Bad bytes are dropped silently.

        The datagram is handled before the timers due by ``now`` run: it arrived no later than
        ``now`` (it sat in the socket while the loop was busy), so a response must settle its
        request before that request's timeout fires -- otherwise a busy loop resends requests
        whose answers it already holds (measured: a third of a 50-peer swarm's handshakes).
        """
        self.timers.set_clock(now)  # new timers count from now; the due ones run after the datagram
        if len(data) > 1:
            host, port = addr
            if socket is self.io.server_socket and self.network.server_listeners:
                self.network.on_server_datagram(host, port)
            self.io.on_message(socket, data, host, port)
        self.timers.advance(now)
        return self.take_events()

    def handle_timer(self, now: float) -> list[DHTEvent]:
        """Run everything due by ``now`` (ticks, request timeouts, the congestion window)."""
        self.timers.advance(now)
        return self.take_events()

    def next_deadline(self) -> float | None:
        return self.timers.next_deadline()

    # -- public operations ---------------------------------------------------------------------

    def add_node(self, host: str, port: int) -> None:
        self._add_node(Node(peer_id(host, port), host, port))

    def to_array(self, limit: int | None = None) -> list[Address]:
        if limit == 0:
            return []
        return [n.address for n in self.nodes.to_array(limit=limit, reverse=True)]

    def find_node(self, target: bytes, **opts: Any) -> Query:
        if self.destroyed:
            raise NodeDestroyedError()
        self._refresh_ticks = REFRESH_TICKS
        return Query(self, target, True, FIND_NODE, None, **opts)

    def query(
        self,
        target: bytes,
        command: int,
        value: bytes | None = None,
        *,
        commit: bool | CommitFn | None = None,
        **opts: Any,
    ) -> Query:
        if self.destroyed:
            raise NodeDestroyedError()
        self._refresh_ticks = REFRESH_TICKS
        return Query(self, target, False, command, value, commit=commit, **opts)

    def request(
        self,
        token: bytes | None,
        command: int,
        target: bytes | None,
        value: bytes | None,
        to: tuple[str, int],
        *,
        on_response: ResponseCb,
        on_error: ErrorCb,
        internal: bool = False,
        session: Session | None = None,
        ttl: int = 0,
        retry: bool = True,
        timeout: float = 0.0,
        socket: object | None = None,
    ) -> OutgoingRequest | None:
        """Send one request; exactly one of the callbacks runs later.

        ``socket`` overrides the socket handle it leaves from (JS ``opts.socket``).
        """
        req = self.io.create_request(
            Peer(to[0], to[1]), token, internal, command, target, value, session, ttl
        )
        if req is None:
            on_error(NodeDestroyedError(), None)  # type: ignore[arg-type]
            return None
        if socket is not None:
            req.socket = socket
        if not retry:
            req.retries = 0
        if timeout:
            req.timeout = timeout
        req.on_response = on_response
        req.on_error = on_error
        req.send()
        return req

    def ping(
        self, to: tuple[str, int], *, on_response: ResponseCb, on_error: ErrorCb, size: int = 0, **kw: Any
    ) -> OutgoingRequest | None:
        value = bytes(size) if size > 0 else None
        return self.request(
            None, PING, None, value, to, on_response=on_response, on_error=on_error, internal=True, **kw
        )

    def delayed_ping(
        self, to: tuple[str, int], delay: float, *, on_response: ResponseCb, on_error: ErrorCb, **kw: Any
    ) -> OutgoingRequest | None:
        if delay > self.max_ping_delay:
            raise DHTRPCLocalError(f"Delay exceeds max delay: {int(self.max_ping_delay * 1000)}ms")
        value = int(delay * 1000).to_bytes(4, "little")
        return self.request(
            None,
            DELAYED_PING,
            None,
            value,
            to,
            on_response=on_response,
            on_error=on_error,
            internal=True,
            timeout=delay + 1.0,
            **kw,
        )

    def make_request(
        self,
        to: Peer,
        force: bool,
        internal: bool,
        command: int,
        target: bytes | None,
        value: bytes | None,
        session: Session | None,
        on_response: ResponseCb,
        on_error: ErrorCb,
    ) -> OutgoingRequest | None:
        """JS ``_request``: create and send (``None`` when destroyed or down hints are off)."""
        if internal and not self._send_down_hints and command == DOWN_HINT:
            return None
        req = self.io.create_request(to, None, internal, command, target, value, session)
        if req is None:
            return None
        req.on_response = on_response
        req.on_error = on_error
        req.send(force)
        return req

    def internal_request(
        self,
        to: Peer,
        command: int,
        target: bytes | None,
        value: bytes | None,
        *,
        session: Session | None = None,
        on_response: ResponseCb = _noop,
        on_error: ErrorCb = _noop,
    ) -> OutgoingRequest | None:
        return self.make_request(to, False, True, command, target, value, session, on_response, on_error)

    def refresh(self) -> None:
        node = self.table.random()
        self._background_query(node.id if node is not None else self.table.id).start()

    def destroy(self) -> None:
        emit_close = not self.destroyed
        self.destroyed = True
        if self._tick_timer is not None:
            self._tick_timer.cancel()
        for t in self._pending_timers:
            t.cancel()
        self._pending_timers.clear()
        self.io.destroy()
        self.timers.clear()
        if emit_close:
            self.emit(Close())

    def suspend(self) -> None:
        """Stop ticking and fail requests in flight with ``IO_SUSPENDED`` (JS ``suspend``).

        Unlike JS the sockets stay bound; datagrams are ignored until :meth:`resume`.
        """
        if self.suspended or self.destroyed:
            return
        self.suspended = True
        if self._tick_timer is not None:
            self._tick_timer.cancel()
            self._tick_timer = None
        self.io.suspended = True
        self.io.clear(True)
        self.io.congestion.clear()
        self.emit(Suspend())

    def resume(self) -> None:
        """Resume after :meth:`suspend`: everything looks old, so nodes get re-pinged and refreshed."""
        if not self.suspended or self.destroyed:
            return
        self.suspended = False
        self.io.suspended = False
        self._last_tick = self.now
        self._tick_timer = self.timers.call_later(TICK_INTERVAL, self._on_tick)
        self.io.restart_drain()
        self._on_wakeup()
        self.refresh()
        self.emit(Resume())

    @property
    def stats(self) -> dict[str, object]:
        return {
            "queries": dict(self.stats_queries),
            "requests": dict(self.io.stats_requests),
            "commands": {
                "ping": dict(self.io.stats_commands[PING]),
                "pingNat": dict(self.io.stats_commands[PING_NAT]),
                "findNode": dict(self.io.stats_commands[FIND_NODE]),
                "downHint": dict(self.io.stats_commands[DOWN_HINT]),
            },
        }

    # -- bootstrap -----------------------------------------------------------------------------

    def start_bootstrap(self) -> None:
        """Walk towards our own id, then check firewall / persistence (JS ``_bootstrap``)."""
        self._bootstrap_first = self.firewalled and self._quick_firewall and not self._force_persistent
        self._bootstrap_test_nat = False
        self._bootstrap_round(0)

    def _bootstrap_round(self, i: int) -> None:
        if self.destroyed:
            return
        q = self._background_query(self.table.id)
        prev = q.on_data

        def ondata(data: Response) -> None:
            prev(data)
            self._bootstrap_ondata(data)

        q.on_data = ondata
        q.on_close = lambda _err: self._bootstrap_after_query(i)
        q.start()

    def _bootstrap_after_query(self, i: int) -> None:
        if self.destroyed:
            return
        if self.bootstrapped or (not self._bootstrap_test_nat and not self._force_persistent):
            self._bootstrap_done()
            return

        def after(ok: bool) -> None:
            if ok and i == 0:
                self._bootstrap_round(1)
            else:
                self._bootstrap_done()

        self._update_network_state(not self._force_persistent, after)

    def _bootstrap_done(self) -> None:
        if self.bootstrapped or self.destroyed:
            return
        self.bootstrapped = True
        self.emit(Ready())
        self._publish_health()

    def _bootstrap_ondata(self, data: Response) -> None:
        if not self._bootstrap_first:
            return
        self._bootstrap_first = False
        value = self.server_port.to_bytes(2, "little")

        def ok(_res: Response, _req: OutgoingRequest) -> None:
            self._bootstrap_test_nat = True

        self.make_request(data.from_, False, True, PING_NAT, None, value, None, ok, _noop)

    # -- routing table maintenance -------------------------------------------------------------

    def _add_node_from_network(self, sample: bool, from_: Peer, to: Address) -> None:
        if self.filter_node is not None and not self.filter_node(from_):
            return
        if from_.id is None:
            self.network.sample_bootstrap(from_, to)
            return
        old = self.table.get(from_.id)
        if old is not None:
            if sample and (old.sampled == 0 or self._tick - old.sampled >= OLD_NODE):
                old.to = to
                old.sampled = self._tick
                self.network.add_sample(to.host, to.port)
            old.pinged = old.seen = self._tick
            self.nodes.add(old)
            return
        self._add_node(Node(from_.id, from_.host, from_.port, to=to))

    def _add_node(self, node: Node) -> None:
        if self.nodes.has(node) or node.id == self.table.id:
            return
        node.added = node.pinged = node.seen = self._tick
        if not self.table.add(node):
            return
        self.nodes.add(node)
        if node.to is not None and node.sampled == 0:
            node.sampled = self._tick
            self.network.add_sample(node.to.host, node.to.port)
        self.emit(AddNode(node))
        if len(self.nodes) == 1:
            self._publish_health()

    def _remove_stale_node(self, node: Node, last_seen: int) -> None:
        if node.seen <= last_seen:
            self._remove_node(node)

    def _remove_node(self, node: Node) -> None:
        if not self.nodes.has(node):
            return
        self.table.remove(node.id)
        self.nodes.remove(node)
        self.emit(RemoveNode(node))
        if not self.nodes:
            self._publish_health()

    def _on_wakeup(self) -> None:
        self._tick += 2 * OLD_NODE
        self._tick += 8 - (self._tick & 7) - 2
        self.network.on_wakeup()
        self._refresh_ticks = 1
        self.health.reset()
        if self.adaptive and not self.ephemeral:
            self.ephemeral = self.io.ephemeral = True
            self.emit(Ephemeral())
        self.emit(Wakeup())

    def _on_full_row(self, new_node: Node, row: Row) -> None:
        if not self.bootstrapped or self._repinging >= 3:
            return
        oldest: Node | None = None
        for node in row.nodes:
            if node.pinged == self._tick:
                continue
            if (
                oldest is None
                or oldest.pinged > node.pinged
                or (oldest.pinged == node.pinged and oldest.added > node.added)
            ):
                oldest = node
        if oldest is None:
            return
        if self._tick - oldest.pinged < RECENT_NODE and self._tick - oldest.added > OLD_NODE:
            return
        self._reping_and_swap(new_node, oldest)

    def _reping_and_swap(self, new_node: Node, old_node: Node) -> None:
        last_seen = old_node.seen
        old_node.pinged = self._tick
        self._repinging += 1

        def onswap(*_: object) -> None:
            self._repinging -= 1
            self._remove_node(old_node)
            self._add_node(new_node)

        def onsuccess(_m: Response, _req: OutgoingRequest) -> None:
            if old_node.seen <= last_seen:
                onswap()
                return
            self._repinging -= 1

        self.internal_request(
            Peer(old_node.host, old_node.port), PING, None, None, on_response=onsuccess, on_error=onswap
        )

    # -- incoming requests / responses ---------------------------------------------------------

    def _on_request(self, req: IncomingRequest, external: bool) -> None:
        if req.from_.id is not None:
            self._add_node_from_network(not external, req.from_, req.to)
        if req.internal:
            cmd = req.command
            if cmd == PING:
                req.send_reply(0, None, False, False)
                return
            if cmd == DELAYED_PING:
                self._on_delayed_ping(req)
                return
            if cmd == PING_NAT:
                if req.value is None or len(req.value) < 2:
                    return
                port = req.value[0] | req.value[1] << 8
                if port == 0:
                    return
                req.from_ = Peer(req.from_.host, port, req.from_.id)
                req.send_reply(0, None, False, False)
                return
            if cmd == FIND_NODE:
                if req.target is None:
                    return
                req.send_reply(0, None, False, True)
                return
            if cmd == DOWN_HINT:
                if req.value is None or len(req.value) < 6:
                    return
                if self._checks < 10:
                    node = self.table.get(_blake(req.value[:6]))
                    if node is not None and (node.pinged < self._tick or node.down_hints == 0):
                        node.down_hints += 1
                        self._check(node)
                req.send_reply(0, None, False, False)
                return
            req.send_reply(UNKNOWN_COMMAND, None, False, req.target is not None)
            return
        handler = self.on_request
        if handler is None or handler(req) is False:
            req.send_reply(UNKNOWN_COMMAND, None, False, req.target is not None)

    def _on_delayed_ping(self, req: IncomingRequest) -> None:
        if req.value is None or len(req.value) < 4:
            return
        delay_ms = int.from_bytes(req.value[:4], "little")
        if delay_ms > self.max_ping_delay * 1000:
            return
        timer: Timer | None = None

        def fire() -> None:
            if self.destroyed:
                return
            if timer is not None:
                self._pending_timers.discard(timer)
            req.send_reply(0, None, False, False)

        timer = self.timers.call_later(delay_ms / 1000, fire)
        self._pending_timers.add(timer)

    def _on_response(self, res: Response, external: bool) -> None:
        self._add_node_from_network(not external, res.from_, res.to)

    def _on_timeout(self, req: OutgoingRequest) -> None:
        if req.to.id is None:
            return
        node = self.table.get(req.to.id)
        if node is not None:
            self._remove_node(node)

    # -- ticks ---------------------------------------------------------------------------------

    def _ping_some(self) -> None:
        cnt = 3 if len(self.io.inflight) > 2 else 5
        oldest = self.nodes.oldest
        if oldest is None:
            self.refresh()
            return
        if self._tick - oldest.pinged < RECENT_NODE:
            cnt = 2
        for node in self.nodes.oldest_first():
            # JS stays on a node pinged this tick until the count runs out: stop there
            if cnt <= 0 or self._tick == node.pinged:
                break
            cnt -= 1
            self._check(node)

    def _check(self, node: Node) -> None:
        node.pinged = self._tick
        last_seen = node.seen

        def onresponse(_r: Response, _q: OutgoingRequest) -> None:
            self._checks -= 1
            self._remove_stale_node(node, last_seen)

        def onerror(_e: DHTRPCError, _q: OutgoingRequest) -> None:
            self._checks -= 1
            self._remove_node(node)

        self._checks += 1
        self.internal_request(
            Peer(node.host, node.port), PING, None, None, on_response=onresponse, on_error=onerror
        )

    def _on_tick(self) -> None:
        self._tick_timer = None
        if self.destroyed:
            return
        self._tick_timer = self.timers.call_later(TICK_INTERVAL, self._on_tick)
        now = self.now
        if now - self._last_tick > SLEEPING_INTERVAL and not self.suspended:
            self._on_wakeup()
        else:
            self._tick += 1
        self._last_tick = now
        if not self.bootstrapped or self.suspended:
            return
        if self.adaptive and self.ephemeral:
            self.network.tick()
        if (self._tick & 7) == 0:
            self._ping_some()
        if not self.nodes and self.bootstrap_nodes:
            # No node answered yet (or every node was lost): ask the bootstrap nodes again each tick
            # instead of waiting for the slow refresh, so a node started before its network exists
            # joins once it appears (JS waits for the 64-tick refresh).
            self.refresh()
        elif (self._tick & 63) == 0 and len(self.nodes) < self.table.k:
            self.refresh()
        else:
            self._refresh_ticks -= 1
            if self._refresh_ticks <= 0:
                self.refresh()
        self.down_hints_sent_per_tick = 0
        self.health.update()

    def _on_health(self, state: str) -> None:
        self._health_state = state
        self._publish_health()

    def _publish_health(self) -> None:
        """``online``/``degraded`` from the health window, and offline while a bootstrapped node that
        has bootstrap nodes has an empty routing table: an idle node's health never changes, so without this a node whose
        bootstrap nodes did not answer (or that lost every node) would never see the rising edge
        that makes its users re-announce (JS has no such rule and waits for its periodic refresh)."""
        state = self._health_state
        if self.bootstrapped and not self.nodes and self.bootstrap_nodes:
            state = "offline"
        online, degraded = state != "offline", state == "degraded"
        if (online, degraded) == (self.online, self.degraded):
            return
        self.online, self.degraded = online, degraded
        self.emit(NetworkUpdate())

    # -- network state (firewall / persistence) -------------------------------------------------

    def _update_network_state(self, only_firewall: bool, cb: Callable[[bool], None]) -> None:
        self.network.update(only_firewall, cb)

    # the Prober seam of NetworkState

    def recent_nodes(self) -> Iterator[Node]:
        return self.nodes.latest_first()

    def ping_nat(self, to: Peer, on_response: ResponseCb, on_error: ErrorCb) -> OutgoingRequest | None:
        value = self.server_port.to_bytes(2, "little")
        return self.make_request(to, False, True, PING_NAT, None, value, None, on_response, on_error)

    def set_reachable(self) -> None:
        self.firewalled = self.io.firewalled = False

    def set_persistent(self) -> None:
        self.ephemeral = self.io.ephemeral = False

    def rebuild_table(self, new_id: bytes) -> None:
        old_nodes = self.table.to_array()
        self.table = self.io.table = RoutingTable(new_id, rng=self.rng)
        self.table.on_full = self._on_full_row
        for node in old_nodes:
            if node.id == new_id:
                continue
            if not self.table.add(node):
                self.nodes.remove(node)
        if self.bootstrapped:
            self.refresh()

    def _background_query(self, target: bytes) -> Query:
        self._refresh_ticks = REFRESH_TICKS
        background = min(self.concurrency, max(2, self.concurrency // 8))
        q = Query(self, target, True, FIND_NODE, None, concurrency=background)

        def ondata(_data: object) -> None:
            q.concurrency = self.concurrency if len(self.io.inflight) < 3 else background

        q.on_data = ondata
        return q

    def _random_offset(self, n: int) -> int:
        return n - int(self.rng.random() * 0.5 * n)


def _blake(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()

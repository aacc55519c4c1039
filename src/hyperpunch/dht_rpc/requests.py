"""The request/response layer of dht-rpc (JS ``lib/io.js``; named for what it holds, as it does no IO).

Invariants:

* Nothing here touches a socket or a clock: datagrams leave through the injected ``send``
  callable ``send(socket, data, port, host, ttl)`` and arrive through :meth:`IO.on_message`;
  time comes from the shared :class:`~hyperpunch.dht_rpc.timers.Timers`. Sockets are opaque
  handles (``server_socket``/``client_socket``) chosen by the adapter.
* An outgoing request is matched to a response by ``tid`` only (not by source: relayed requests
  are answered by a third node). Each attempt waits ``timeout`` (default 1 s); after
  ``retries`` (3) resends it fails with ``REQUEST_TIMEOUT``. Every request in flight ends exactly
  once: ``on_response`` or ``on_error``.
* The congestion window has 4 slots of 750 ms: at most ``max_window`` (80) sends per slot and
  twice that in total; further requests wait in FIFO order (``force`` skips the queue).
* Tokens are ``BLAKE2b-256(host, key=secret)``; two secrets rotate every 10 drain ticks (7.5 s),
  the retired one re-hashed in place. A request whose token matches neither gets INVALID_TOKEN.
* Requests carry our id only when we are persistent and send from the server socket.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hyperpunch.dht_rpc.errors import (
    INVALID_TOKEN,
    DHTRPCError,
    IOSuspendedError,
    RequestDestroyedError,
    RequestTimeoutError,
)
from hyperpunch.dht_rpc.messages import (
    REQUEST_ID,
    RESPONSE_ID,
    RequestMessage,
    ResponseMessage,
    encode_request,
    encode_response,
    request,
    response,
)
from hyperpunch.dht_rpc.peer_ids import MAX_ENTRIES, checked_id
from hyperpunch.dht_rpc.routing_table import RoutingTable
from hyperpunch.dht_rpc.timers import Timer, Timers
from hyperpunch.encoding import Address, DecodeError, decode

__all__ = [
    "IO",
    "CongestionWindow",
    "IncomingRequest",
    "OutgoingRequest",
    "Peer",
    "Response",
    "SendFn",
]

MAX_WINDOW = 80
DRAIN_INTERVAL = 0.75
DEFAULT_TIMEOUT = 1.0

SendFn = Callable[[object, bytes, int, str, int], None]


def _noop(*_: object) -> None:
    return None


@dataclass(slots=True, eq=False)
class Peer:
    """A remote node: address plus its verified id (``None`` for ephemeral nodes)."""

    host: str
    port: int
    id: bytes | None = None

    @property
    def address(self) -> Address:
        return Address(self.host, self.port)


@dataclass(slots=True, eq=False)
class Response:
    """A decoded response to one of our requests. ``error`` 0 is success."""

    tid: int
    from_: Peer
    to: Address
    token: bytes | None = None
    closer_nodes: list[Address] | None = None
    error: int = 0
    value: bytes | None = None
    rtt: float = 0.0


class CongestionWindow:
    """4 slots rotated every drain; at most ``max_window`` sends per slot, ``2*max_window`` total."""

    __slots__ = ("_i", "_total", "_window", "max_window")

    def __init__(self, max_window: int = MAX_WINDOW) -> None:
        self.max_window = max_window
        self._i = 0
        self._total = 0
        self._window = [0, 0, 0, 0]

    def clear(self) -> None:
        self._i = 0
        self._total = 0
        self._window = [0, 0, 0, 0]

    def is_full(self) -> bool:
        return self._total >= 2 * self.max_window or self._window[self._i] >= self.max_window

    def recv(self) -> None:
        if self._window[self._i] > 0:
            self._window[self._i] -= 1
            self._total -= 1

    def send(self) -> None:
        self._total += 1
        self._window[self._i] += 1

    def drain(self) -> None:
        self._i = (self._i + 1) & 3
        self._total -= self._window[self._i]
        self._window[self._i] = 0


class OutgoingRequest:
    """One of our requests in flight. Set ``on_response``/``on_error`` then call :meth:`send`."""

    __slots__ = (
        "_buffer",
        "_io",
        "_timer",
        "_timestamp",
        "command",
        "destroyed",
        "internal",
        "on_cycle",
        "on_error",
        "on_response",
        "retries",
        "sent",
        "session",
        "socket",
        "target",
        "tid",
        "timeout",
        "to",
        "token",
        "ttl",
        "value",
    )

    def __init__(
        self,
        io: IO,
        socket: object | None,
        tid: int,
        to: Peer,
        token: bytes | None,
        internal: bool,
        command: int,
        target: bytes | None,
        value: bytes | None,
        session: Session | None,
        ttl: int,
    ) -> None:
        self._io = io
        self.socket = socket
        self.tid = tid
        self.to = to
        self.token = token
        self.internal = internal
        self.command = command
        self.target = target
        self.value = value
        self.session = session
        self.ttl = ttl
        self.sent = 0
        self.retries = 3
        self.destroyed = False
        self.timeout = 0.0  # 0: the default per-attempt timeout
        self.on_cycle: Callable[[OutgoingRequest], None] = _noop
        self.on_error: Callable[[DHTRPCError, OutgoingRequest], None] = _noop
        self.on_response: Callable[[Response, OutgoingRequest], None] = _noop
        self._buffer: bytes | None = None
        self._timer: Timer | None = None
        self._timestamp = io.timers.now

    def send(self, force: bool = False) -> None:
        if self.destroyed or self.socket is None:
            return
        io = self._io
        if self._buffer is None:
            self._buffer = io.encode_request(self, self.token, self.value, self.to, self.socket)
        if not force and io.congestion.is_full():
            io.pending.append(self)
            return
        self._send_now()

    def _send_now(self) -> None:
        if self.destroyed or self._buffer is None:
            return
        io = self._io
        self.sent += 1
        io.congestion.send()
        io.send(self.socket, self._buffer, self.to.port, self.to.host, self.ttl)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = io.timers.call_later(self.timeout or DEFAULT_TIMEOUT, self._oncycle)

    def _oncycle(self) -> None:
        self._timer = None
        self.on_cycle(self)
        io = self._io
        if self.sent > self.retries:
            io.stats_requests["timeouts"] += 1
            self.destroy(RequestTimeoutError())
            io.on_timeout(self)
        else:
            io.stats_requests["retries"] += 1
            self.send()

    def destroy(self, err: DHTRPCError | None = None) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        io = self._io
        if io.inflight.get(self.tid) is not self:
            return
        del io.inflight[self.tid]
        if self.session is not None:
            self.session.detach(self)
        io.stats_requests["active"] -= 1
        io.congestion.recv()
        self.on_error(err or RequestDestroyedError(), self)


class IncomingRequest:
    """A request a peer sent us. Answer with :meth:`reply` / :meth:`error`, or :meth:`relay` it."""

    __slots__ = (
        "_io",
        "command",
        "from_",
        "internal",
        "socket",
        "target",
        "tid",
        "to",
        "token",
        "ttl",
        "value",
    )

    def __init__(self, io: IO, socket: object, from_: Peer, m: RequestMessage) -> None:
        self._io = io
        self.socket = socket
        self.from_ = from_
        self.tid = m.tid
        self.to = m.to
        self.token = m.token
        self.internal = m.internal
        self.command = m.command
        self.target = m.target
        self.value = m.value
        self.ttl = 0

    def reply(
        self,
        value: bytes | None = None,
        *,
        token: bool = True,
        closer_nodes: bool = True,
        to: Peer | Address | None = None,
        socket: object | None = None,
    ) -> None:
        """Answer with ``value`` (plus a token and our closest nodes to the target by default)."""
        self._send_reply(0, value, token, closer_nodes, to or self.from_, socket or self.socket)

    def error(
        self,
        code: int,
        *,
        token: bool = False,
        closer_nodes: bool = True,
        to: Peer | Address | None = None,
        socket: object | None = None,
    ) -> None:
        """Answer with a non-zero error code."""
        self._send_reply(code, None, token, closer_nodes, to or self.from_, socket or self.socket)

    def relay(self, value: bytes | None, to: Peer | Address, *, socket: object | None = None) -> None:
        """Forward this request (same tid, command, target; no token; new value) to ``to``."""
        sock = socket or self.socket
        io = self._io
        data = encode_request(
            RequestMessage(
                self.tid,
                Address(to[0], to[1]) if isinstance(to, tuple) else to.address,
                self.command,
                self.internal,
                io.table.id if (not io.ephemeral and sock is io.server_socket) else None,
                None,
                self.target,
                value,
            )
        )
        host, port = (to[0], to[1]) if isinstance(to, tuple) else (to.host, to.port)
        io.send(sock, data, port, host, self.ttl)

    def send_reply(self, error: int, value: bytes | None, token: bool, has_closer_nodes: bool) -> None:
        self._send_reply(error, value, token, has_closer_nodes, self.from_, self.socket)

    def _send_reply(
        self,
        error: int,
        value: bytes | None,
        token: bool,
        has_closer_nodes: bool,
        to: Peer | Address,
        socket: object,
    ) -> None:
        if socket is None:
            return
        io = self._io
        host, port = (to[0], to[1]) if isinstance(to, tuple) else (to.host, to.port)
        closer = (
            [n.address for n in io.table.closest(self.target)]
            if self.target is not None and has_closer_nodes
            else None
        )
        data = encode_response(
            ResponseMessage(
                self.tid,
                Address(host, port),
                io.table.id if (not io.ephemeral and socket is io.server_socket) else None,
                io.token(host, 1) if token else None,
                closer or None,
                error,
                value,
            )
        )
        io.send(socket, data, port, host, self.ttl)


class Session:
    """A group of requests that can be destroyed together (JS ``lib/session.js``)."""

    __slots__ = ("inflight", "io")

    def __init__(self, io: IO) -> None:
        self.io = io
        self.inflight: list[OutgoingRequest] = []

    def attach(self, req: OutgoingRequest) -> None:
        self.inflight.append(req)

    def detach(self, req: OutgoingRequest) -> None:
        with contextlib.suppress(ValueError):
            self.inflight.remove(req)

    def destroy(self, err: DHTRPCError | None = None) -> None:
        while self.inflight:
            req = self.inflight[0]
            self.io.congestion.recv()
            req.destroy(err)
            if self.inflight and self.inflight[0] is req:  # not in flight any more
                self.inflight.pop(0)


class IO:
    """Requests in flight, the congestion window and tokens for one node."""

    def __init__(
        self,
        table: RoutingTable,
        timers: Timers,
        send: SendFn,
        *,
        max_window: int = MAX_WINDOW,
        firewalled: bool = True,
        on_request: Callable[[IncomingRequest, bool], None] = _noop,
        on_response: Callable[[Response, bool], None] = _noop,
        on_timeout: Callable[[OutgoingRequest], None] = _noop,
        random_bytes: Callable[[int], bytes] = os.urandom,
        tid: int | None = None,
    ) -> None:
        self.table = table
        self.timers = timers
        self.send = send
        self.firewalled = firewalled
        self.ephemeral = True
        self.suspended = False
        self.destroyed = False
        self.congestion = CongestionWindow(max_window)
        self.inflight: dict[int, OutgoingRequest] = {}
        self.pending: deque[OutgoingRequest] = deque()
        self.server_socket: object | None = None
        self.client_socket: object | None = None
        self.on_request = on_request
        self.on_response = on_response
        self.on_timeout = on_timeout
        self.stats_requests = {"active": 0, "total": 0, "responses": 0, "timeouts": 0, "retries": 0}
        self.stats_commands = [{"tx": 0, "rx": 0} for _ in range(4)]
        self._random_bytes = random_bytes
        self._tid = tid if tid is not None else int.from_bytes(random_bytes(2), "little")
        self._secrets: list[bytearray] | None = None
        self._rotate_secrets = 10
        # token(host, i) memo per secret; rotated with the secrets, bounded like peer_ids
        self._tokens: list[dict[str, bytes]] = [{}, {}]
        self._drain_timer: Timer | None = None

    # -- sockets -------------------------------------------------------------------------------

    def bind(self, server_socket: object, client_socket: object) -> None:
        """Attach the two socket handles; requests made before binding are sent now."""
        self.server_socket = server_socket
        self.client_socket = client_socket
        if self._drain_timer is None and not self.destroyed:
            self._drain_timer = self.timers.call_later(DRAIN_INTERVAL, self._drain)
        for req in list(self.inflight.values()):
            if req.socket is None:
                req.socket = self.client_socket if self.firewalled else self.server_socket
            req.sent = 0
            req.send(False)

    def restart_drain(self) -> None:
        if self._drain_timer is None and not self.destroyed and self.server_socket is not None:
            self._drain_timer = self.timers.call_later(DRAIN_INTERVAL, self._drain)

    @property
    def socket(self) -> object | None:
        """The socket requests go out on: client while firewalled, server otherwise."""
        return self.client_socket if self.firewalled else self.server_socket

    # -- incoming ------------------------------------------------------------------------------

    def on_message(self, socket: object, data: bytes, host: str, port: int) -> None:
        """Handle one datagram that arrived on ``socket`` from ``host:port``. Never raises for bad bytes."""
        if len(data) < 2 or not 0 < port < 65536 or self.suspended or self.destroyed:
            return
        kind = data[0]
        external = socket is not (self.client_socket if self.firewalled else self.server_socket)
        if kind == REQUEST_ID:
            try:
                m = decode(request, data)
            except DecodeError:
                return
            from_ = Peer(host, port, checked_id(m.id, host, port))
            req = IncomingRequest(self, socket, from_, m)
            if m.token is not None and m.token != self.token(host, 1) and m.token != self.token(host, 0):
                req.error(INVALID_TOKEN, token=True)
                return
            self.on_request(req, external)
        elif kind == RESPONSE_ID:
            try:
                r = decode(response, data)
            except DecodeError:
                return
            out = self.inflight.pop(r.tid, None)
            if out is None:
                return
            res = Response(
                r.tid,
                Peer(host, port, checked_id(r.id, host, port)),
                r.to,
                r.token,
                r.closer_nodes,
                r.error,
                r.value,
                self.timers.now - out._timestamp,
            )
            if out.session is not None:
                out.session.detach(out)
            if out._timer is not None:
                out._timer.cancel()
                out._timer = None
            self.congestion.recv()
            if out.internal and out.command < len(self.stats_commands):
                self.stats_commands[out.command]["rx"] += 1
            self.stats_requests["active"] -= 1
            self.stats_requests["responses"] += 1
            self.on_response(res, external)
            out.on_response(res, out)

    # -- tokens --------------------------------------------------------------------------------

    def token(self, host: str, i: int) -> bytes:
        memo = self._tokens[i]
        found = memo.get(host)
        if found is not None:
            return found
        if self._secrets is None:
            self._secrets = [bytearray(self._random_bytes(32)), bytearray(self._random_bytes(32))]
        found = hashlib.blake2b(host.encode(), key=bytes(self._secrets[i]), digest_size=32).digest()
        if len(memo) >= MAX_ENTRIES:
            memo.clear()
        memo[host] = found
        return found

    def _drain(self) -> None:
        self._drain_timer = None
        if self.destroyed:
            return
        self._drain_timer = self.timers.call_later(DRAIN_INTERVAL, self._drain)
        if self._secrets is not None:
            self._rotate_secrets -= 1
            if self._rotate_secrets == 0:
                self._rotate_secrets = 10
                old, new = self._secrets
                self._secrets = [new, old]
                old[:] = hashlib.blake2b(bytes(old), digest_size=32).digest()
                self._tokens = [self._tokens[1], {}]
        self.congestion.drain()
        while not self.congestion.is_full() and self.pending:
            self.pending.popleft()._send_now()

    # -- outgoing ------------------------------------------------------------------------------

    def create_request(
        self,
        to: Peer,
        token: bytes | None,
        internal: bool,
        command: int,
        target: bytes | None,
        value: bytes | None,
        session: Session | None = None,
        ttl: int = 0,
    ) -> OutgoingRequest | None:
        if self.destroyed:
            return None
        if self._tid >= 65536:
            self._tid = 0
        tid = self._tid
        self._tid += 1
        old = self.inflight.get(tid)
        if old is not None:  # 65536 requests later and still waiting: give up on the old one
            old.destroy(RequestTimeoutError())
        req = OutgoingRequest(
            self, self.socket, tid, to, token, internal, command, target, value, session, ttl
        )
        self.inflight[tid] = req
        if session is not None:
            session.attach(req)
        if internal and command < len(self.stats_commands):
            self.stats_commands[command]["tx"] += 1
        self.stats_requests["active"] += 1
        self.stats_requests["total"] += 1
        return req

    def encode_request(
        self, req: OutgoingRequest, token: bytes | None, value: bytes | None, to: Peer, socket: object
    ) -> bytes:
        return encode_request(
            RequestMessage(
                req.tid,
                Address(to.host, to.port),
                req.command,
                req.internal,
                self.table.id if (not self.ephemeral and socket is self.server_socket) else None,
                token,
                req.target,
                value,
            )
        )

    # -- teardown ------------------------------------------------------------------------------

    def clear(self, suspended: bool = False) -> None:
        """Fail every request in flight (``REQUEST_DESTROYED`` or ``IO_SUSPENDED``)."""
        if self._drain_timer is not None:
            self._drain_timer.cancel()
            self._drain_timer = None
        while self.inflight:
            _, req = self.inflight.popitem()
            if req._timer is not None:
                req._timer.cancel()
                req._timer = None
            req.destroyed = True
            if req.session is not None:
                req.session.detach(req)
            self.congestion.recv()
            self.stats_requests["active"] -= 1
            req.on_error(IOSuspendedError() if suspended else RequestDestroyedError(), req)
        self.pending.clear()

    def destroy(self) -> None:
        self.destroyed = True
        self.clear(False)

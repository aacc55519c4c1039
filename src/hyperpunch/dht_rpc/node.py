"""The asyncio dht-rpc node: sockets, one deadline timer and awaitables around :class:`DHTCore`.

Invariants:

* All protocol state lives in the sans-IO :class:`~hyperpunch.dht_rpc.core.DHTCore`; this class
  only binds the two sockets (server and client), feeds datagrams and ``loop.time()`` into the
  core, dispatches the core's events (to ``on(name, fn)`` listeners, by JS event name) and turns
  callbacks into futures / async iterators.
* One :class:`~hyperpunch.aio.DeadlineTimer` stays armed at the core's ``next_deadline()`` (the
  core's timer heap re-arms it when a deadline moves earlier). Every task (commit and handler
  tasks) is owned by ``tasks``, a :class:`~hyperpunch.aio.TaskOwner`. :meth:`aclose` (idempotent,
  or leaving ``async with``) destroys the core (failing every request in flight with
  ``REQUEST_DESTROYED``), cancels and awaits the tasks and closes both sockets.
* Cancelling an awaiting ``request()``/``ping()`` destroys that request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket as _socket
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

from hyperpunch.aio import CloseOnce, DeadlineTimer, TaskOwner
from hyperpunch.dht_rpc.core import DHTCore, RequestHandler
from hyperpunch.dht_rpc.errors import DHTRPCError, DHTRPCLocalError, NodeDestroyedError
from hyperpunch.dht_rpc.events import DHTEvent, Ready
from hyperpunch.dht_rpc.query import CommitDone, Query, QueryHost
from hyperpunch.dht_rpc.requests import IncomingRequest, OutgoingRequest, Peer, Response, Session
from hyperpunch.dht_rpc.transport import DatagramSocket, SocketFactory, asyncio_socket_factory
from hyperpunch.encoding import Address

__all__ = ["DHT", "AsyncCommit", "QueryStream", "parse_node"]

_log = logging.getLogger("hyperpunch.dht_rpc")

AsyncCommit = Callable[[Response, "DHT", "QueryStream"], Awaitable[Any]]


def parse_node(node: str | int | tuple[str, int] | dict[str, Any]) -> tuple[str, int]:
    """JS ``parseNode``: ``"host:port"``, a port number (127.0.0.1), ``(host, port)`` or a dict."""
    if isinstance(node, int):
        return ("127.0.0.1", node)
    if isinstance(node, dict):
        return (str(node["host"]), int(node["port"]))
    if isinstance(node, tuple):
        return (node[0], int(node[1]))
    host, _, port = node.rpartition(":")
    if not host or not port:
        raise DHTRPCLocalError("Bootstrap node format is host:port")
    return (host, int(port))


def _is_ipv4(host: str) -> bool:
    try:
        _socket.inet_pton(_socket.AF_INET, host)
    except OSError:
        return False
    return True


class _GuardedClock:
    """The core's timer side for :class:`DeadlineTimer`: a failing callback is logged, and the
    node's clock keeps running (the timer re-arms after it)."""

    __slots__ = ("core",)

    def __init__(self, core: DHTCore) -> None:
        self.core = core

    def next_deadline(self) -> float | None:
        return None if self.core.destroyed else self.core.next_deadline()

    def handle_timer(self, now: float) -> list[DHTEvent]:
        try:
            return self.core.handle_timer(now)
        except Exception:  # a callback bug must not stop the node's clock
            _log.exception("dht-rpc timer callback failed")
            return self.core.take_events()


class QueryStream:
    """An async iterator over a query's replies; ``await q.finished()`` waits for the end.

    Python's ``async for`` does not close its iterator on ``break``; to stop a walk early use
    ``async with node.find_node(t) as q: async for r in q: ...`` or call :meth:`aclose`.
    """

    def __init__(self, dht: DHT, query: Query) -> None:
        self.dht = dht
        self.query = query
        self._items: deque[Any] = deque()
        self._event = asyncio.Event()
        self._closed = False
        self._error: BaseException | None = None
        query.on_data = self._on_data
        query.on_close = self._on_close

    def _on_data(self, data: Any) -> None:
        self._items.append(data)
        self._event.set()

    def _on_close(self, err: BaseException | None) -> None:
        self._closed = True
        self._error = err
        self._event.set()

    @property
    def closest_replies(self) -> list[Response]:
        return self.query.closest_replies

    @property
    def closest_nodes(self) -> list[Peer]:
        return self.query.closest_nodes

    @property
    def successes(self) -> int:
        return self.query.successes

    @property
    def errors(self) -> int:
        return self.query.errors

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        try:
            while True:
                if self._items:
                    yield self._items.popleft()
                    continue
                if self._closed:
                    if self._error is not None:
                        raise self._error
                    return
                self._event.clear()
                await self._event.wait()
        finally:
            if not self._closed:  # the consumer stopped early: stop the walk (JS destroys the stream)
                self.query.destroy()

    async def finished(self) -> None:
        """Wait for the end (discarding replies not yet read); raise the query's error."""
        while not self._closed:
            self._event.clear()
            await self._event.wait()
        self._items.clear()
        if self._error is not None:
            raise self._error

    async def to_list(self) -> list[Any]:
        return [x async for x in self]

    def destroy(self, err: BaseException | None = None) -> None:
        self.query.destroy(err)

    async def aclose(self) -> None:
        """Stop the walk if it is still running (requests in flight are destroyed)."""
        if not self._closed:
            self.query.destroy()

    async def __aenter__(self) -> QueryStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class DHT:
    """A dht-rpc node. ``async with DHT(bootstrap=[...]) as node: await node.ready()``."""

    def __init__(
        self,
        *,
        bootstrap: list[Any] | None = None,
        host: str = "0.0.0.0",
        port: int = 0,
        any_port: bool = True,
        ephemeral: bool | None = None,
        adaptive: bool = True,
        firewalled: bool = True,
        quick_firewall: bool = True,
        concurrency: int = 10,
        max_window: int = 80,
        send_down_hints: bool = True,
        down_hints_rate_limit: int = 50,
        filter_node: Callable[[Peer], bool] | None = None,
        nodes: list[Any] | None = None,
        on_request: RequestHandler | None = None,
        socket_factory: SocketFactory | None = None,
    ) -> None:
        self._bootstrap_spec = [parse_node(n) for n in (bootstrap or [])]
        self._host = host
        self._port = port
        self._any_port = any_port
        self._socket_factory = socket_factory or asyncio_socket_factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: dict[str, list[Callable[..., None]]] = {}
        self.on_request: RequestHandler | None = on_request
        self.core = DHTCore(
            self._send,
            bootstrap=[],
            ephemeral=ephemeral,
            adaptive=adaptive,
            firewalled=firewalled,
            quick_firewall=quick_firewall,
            concurrency=concurrency,
            max_window=max_window,
            send_down_hints=send_down_hints,
            down_hints_rate_limit=down_hints_rate_limit,
            filter_node=filter_node,
            nodes=[parse_node(n) for n in (nodes or [])],
            on_request=self._handle_request,
        )
        self.core.take_events()  # the initial nodes' AddNode: nobody can listen yet
        self.server_socket: DatagramSocket | None = None
        self.client_socket: DatagramSocket | None = None
        self._seed_nat: str | None = None
        self._binding: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._timer: DeadlineTimer[DHTEvent] | None = None
        self.tasks = TaskOwner("dht-rpc")
        self._close_once = CloseOnce(self._aclose)

    # -- construction helpers ------------------------------------------------------------------

    @classmethod
    def bootstrapper(cls, port: int, host: str, *, bind_host: str = "0.0.0.0", **opts: Any) -> DHT:
        """A persistent, non-firewalled node on ``port`` whose public address is ``host:port``.

        ``bind_host`` is the local address to bind (JS ``opts.host``). Unlike JS, ``port=0`` is
        accepted: the public port is then the bound port.
        """
        if port is None:
            raise DHTRPCLocalError("Port is required")
        if not host:
            raise DHTRPCLocalError("Host is required")
        if host in ("0.0.0.0", "::"):
            raise DHTRPCLocalError("Invalid host")
        if not _is_ipv4(host):
            raise DHTRPCLocalError("Host must be a IPv4 address")
        kw: dict[str, Any] = {
            "ephemeral": False,
            "firewalled": False,
            "any_port": False,
            "bootstrap": [],
            "host": bind_host,
        }
        kw.update(opts)
        dht = cls(port=port, **kw)
        dht._seed_nat = host
        if port:
            dht.core.seed_nat(host, port)
        return dht

    # -- properties ----------------------------------------------------------------------------

    @property
    def id(self) -> bytes | None:
        return self.core.id

    @property
    def ephemeral(self) -> bool:
        return self.core.ephemeral

    @property
    def firewalled(self) -> bool:
        return self.core.firewalled

    @property
    def bootstrapped(self) -> bool:
        return self.core.bootstrapped

    @property
    def destroyed(self) -> bool:
        return self.core.destroyed

    @property
    def host(self) -> str | None:
        return self.core.host

    @property
    def port(self) -> int:
        return self.core.port

    @property
    def bootstrap_nodes(self) -> list[tuple[str, int]]:
        return self.core.bootstrap_nodes

    def address(self) -> Address | None:
        """The local address of the socket requests leave from (client while firewalled)."""
        sock = self.client_socket if self.core.firewalled else self.server_socket
        if sock is None:
            return None
        return Address(*sock.address())

    @property
    def socket(self) -> DatagramSocket | None:
        """The socket requests leave from: the client socket while firewalled, else the server one."""
        return self.client_socket if self.core.firewalled else self.server_socket

    def server_address(self) -> Address | None:
        return None if self.server_socket is None else Address(*self.server_socket.address())

    def remote_address(self) -> Address | None:
        return self.core.remote_address()

    def to_array(self, limit: int | None = None) -> list[Address]:
        return self.core.to_array(limit)

    def add_node(self, host: str, port: int) -> None:
        self.core.add_node(host, port)
        self._drain_events()

    # -- events --------------------------------------------------------------------------------

    def on(self, event: str, fn: Callable[..., None]) -> None:
        self._listeners.setdefault(event, []).append(fn)

    def off(self, event: str, fn: Callable[..., None]) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._listeners[event].remove(fn)

    def _dispatch(self, events: list[DHTEvent]) -> None:
        for event in events:
            if isinstance(event, Ready) and self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
            listeners = self._listeners.get(event.name)
            if not listeners:
                continue
            args = event.args()
            for fn in list(listeners):
                try:
                    fn(*args)
                except Exception:
                    _log.exception("dht-rpc %r listener failed", event.name)

    def _drain_events(self) -> None:
        """Dispatch what the core reported during a command (not an input)."""
        self._dispatch(self.core.take_events())

    def _handle_request(self, req: IncomingRequest) -> bool:
        handler = self.on_request
        if handler is None:
            return False
        try:
            return handler(req) is not False
        except Exception:
            _log.exception("dht-rpc request handler failed (command %d)", req.command)
            return True

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> DHT:
        await self.bind()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def bind(self) -> None:
        """Bind both sockets and start bootstrapping (idempotent)."""
        if self._binding is None:
            self._loop = asyncio.get_running_loop()
            self._ready = self._loop.create_future()
            self._binding = asyncio.ensure_future(self._bind())
        await asyncio.shield(self._binding)

    async def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        server = await self._bind_server()
        try:
            client = await self._socket_factory(self._host, 0, self._on_client_message)
        except BaseException:
            await server.aclose()
            raise
        self.server_socket, self.client_socket = server, client
        if self.core.destroyed:  # closed while binding: aclose() closes the sockets
            raise NodeDestroyedError()
        if self._seed_nat is not None and not self._port:
            self.core.seed_nat(self._seed_nat, server.address()[1])
        timer = self._timer = DeadlineTimer(loop, _GuardedClock(self.core), self._dispatch)
        self.core.timers.on_reschedule = lambda _d: timer.rearm()
        self._dispatch(self.core.handle_timer(loop.time()))
        self.core.bind(server, client, server.address()[1], bootstrap=False)
        self._drain_events()
        timer.rearm()
        self.core.bootstrap_nodes[:] = await self._resolve_bootstrap()
        if not self.core.destroyed:
            self._now()
            self.core.start_bootstrap()
            self._drain_events()

    async def _bind_server(self) -> DatagramSocket:
        ports = [0] if not self._port else [*range(self._port, self._port + 5)]
        last: OSError | None = None
        for p in ports:
            try:
                return await self._socket_factory(self._host, p, self._on_server_message)
            except OSError as err:
                last = err
                if not self._any_port:
                    raise
        if self._any_port:
            return await self._socket_factory(self._host, 0, self._on_server_message)
        assert last is not None
        raise last

    async def _resolve_bootstrap(self) -> list[tuple[str, int]]:
        """JS ``_resolveBootstrapNodes``: ``"suggestedIP@dnsName"`` pings the IP, else resolves the name."""
        loop = asyncio.get_running_loop()
        out: list[tuple[str, int]] = []
        for host, port in self._bootstrap_spec:
            if "@" in host:
                suggested, fallback = host.split("@", 1)
                try:
                    await self.ping((suggested, port))
                    host = suggested
                except DHTRPCError:
                    host = fallback
            if not _is_ipv4(host):
                try:
                    infos = await loop.getaddrinfo(
                        host, port, family=_socket.AF_INET, type=_socket.SOCK_DGRAM
                    )
                except OSError:
                    continue
                host = str(infos[0][4][0])
            out.append((host, port))
        return out

    async def ready(self) -> None:
        """Bind if needed and wait until the bootstrap walk is over (JS ``fullyBootstrapped``)."""
        await self.bind()
        assert self._ready is not None
        await asyncio.shield(self._ready)

    async def aclose(self) -> None:
        """Destroy the node, end its tasks and close its sockets (idempotent)."""
        await self._close_once()

    async def _aclose(self) -> None:
        self.core.destroy()  # first: fails bootstrap-resolution pings, so binding ends promptly
        self._drain_events()
        if self._binding is not None:
            with contextlib.suppress(Exception):
                await self._binding
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(NodeDestroyedError())
            self._ready.exception()
        if self._timer is not None:
            self._timer.cancel()
        await self.tasks.aclose()
        for sock in (self.server_socket, self.client_socket):
            if sock is not None:
                await sock.aclose()

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task owned by this node: cancelled and awaited by :meth:`aclose`."""
        return self.tasks.spawn(coro)

    # -- datagrams -----------------------------------------------------------------------------

    def _send(self, socket: object, data: bytes, port: int, host: str, ttl: int) -> None:
        cast(DatagramSocket, socket).send(data, port, host, ttl)

    def _on_server_message(self, data: bytes, addr: tuple[str, int]) -> None:
        self.deliver(self.server_socket, data, addr)

    def _on_client_message(self, data: bytes, addr: tuple[str, int]) -> None:
        self.deliver(self.client_socket, data, addr)

    def deliver(self, sock: object, data: bytes, addr: tuple[str, int]) -> None:
        """Feed a datagram that arrived on ``sock`` (one of this node's socket handles, or a
        pooled one requests were sent from) into the core."""
        core = self.core
        if core.destroyed or sock is None or self._loop is None:
            return
        try:
            self._dispatch(core.receive_datagram(data, addr, self._loop.time(), socket=sock))
        except Exception:
            _log.exception("dht-rpc failed handling a datagram from %s:%d", addr[0], addr[1])

    def _now(self) -> None:
        if self._loop is not None:
            self._dispatch(self.core.handle_timer(self._loop.time()))

    # -- requests ------------------------------------------------------------------------------

    async def _await_request(self, start: Callable[..., OutgoingRequest | None]) -> Response:
        if self.core.destroyed:
            raise NodeDestroyedError()
        self._now()
        fut: asyncio.Future[Response] = asyncio.get_running_loop().create_future()

        def ok(res: Response, _req: OutgoingRequest) -> None:
            if not fut.done():
                fut.set_result(res)

        def fail(err: DHTRPCError, _req: OutgoingRequest | None) -> None:
            if not fut.done():
                fut.set_exception(err)

        req = start(ok, fail)
        try:
            return await fut
        except asyncio.CancelledError:
            if req is not None:
                req.destroy()
            raise

    async def request(
        self,
        to: tuple[str, int],
        command: int,
        *,
        target: bytes | None = None,
        value: bytes | None = None,
        token: bytes | None = None,
        retry: bool = True,
        session: Session | None = None,
        ttl: int = 0,
        socket: DatagramSocket | None = None,
    ) -> Response:
        """Send a user command to ``to`` and wait for the response (``res.error`` may be non-zero).

        ``socket`` (one of this node's two sockets) overrides the socket it leaves from.
        """
        return await self._await_request(
            lambda ok, fail: self.core.request(
                token,
                command,
                target,
                value,
                to,
                on_response=ok,
                on_error=fail,
                session=session,
                ttl=ttl,
                retry=retry,
                socket=socket,
            )
        )

    async def ping(
        self,
        to: tuple[str, int],
        *,
        size: int = 0,
        retry: bool = True,
        ttl: int = 0,
        socket: DatagramSocket | None = None,
        session: Session | None = None,
    ) -> Response:
        """PING ``to``; ``socket`` (a socket of this node's UDX, e.g. a holepunch one) and
        ``session`` as for :meth:`request`."""
        return await self._await_request(
            lambda ok, fail: self.core.ping(
                to,
                on_response=ok,
                on_error=fail,
                size=size,
                retry=retry,
                ttl=ttl,
                socket=socket,
                session=session,
            )
        )

    async def delayed_ping(self, to: tuple[str, int], delay: float) -> Response:
        return await self._await_request(
            lambda ok, fail: self.core.delayed_ping(to, delay, on_response=ok, on_error=fail)
        )

    def session(self) -> Session:
        return Session(self.core.io)

    # -- queries -------------------------------------------------------------------------------

    def query(
        self,
        target: bytes,
        command: int,
        value: bytes | None = None,
        *,
        commit: bool | AsyncCommit | None = None,
        **opts: Any,
    ) -> QueryStream:
        """Start a query for ``command`` towards ``target``; iterate it for the replies.

        ``commit=True`` re-sends the command with each closest node's token; an async
        ``commit(reply, dht, query)`` runs once per closest reply instead.
        """
        if self.core.destroyed:
            raise NodeDestroyedError()
        self._now()
        stream_box: list[QueryStream] = []
        core_commit: Any = commit
        if callable(commit):
            user_commit = commit

            def core_commit(reply: Response, _host: QueryHost, _q: Query, done: CommitDone) -> None:
                async def run() -> None:
                    try:
                        await user_commit(reply, self, stream_box[0])
                    except Exception as err:
                        done(err)
                    else:
                        done(None)

                self.spawn(run())

        q = self.core.query(target, command, value, commit=core_commit, **opts)
        stream = QueryStream(self, q)
        stream_box.append(stream)
        q.start()
        self._drain_events()
        return stream

    def find_node(self, target: bytes, **opts: Any) -> QueryStream:
        if self.core.destroyed:
            raise NodeDestroyedError()
        self._now()
        q = self.core.find_node(target, **opts)
        stream = QueryStream(self, q)
        q.start()
        self._drain_events()
        return stream

    def refresh(self) -> None:
        self.core.refresh()
        self._drain_events()

    def suspend(self) -> None:
        """Pause: requests in flight fail with ``IO_SUSPENDED``; nothing is sent until :meth:`resume`."""
        self._now()
        self.core.suspend()
        self._drain_events()

    def resume(self) -> None:
        self._now()
        self.core.resume()
        self._drain_events()

    @property
    def online(self) -> bool:
        return self.core.online

    @property
    def degraded(self) -> bool:
        return self.core.degraded

    @property
    def stats(self) -> dict[str, object]:
        return self.core.stats

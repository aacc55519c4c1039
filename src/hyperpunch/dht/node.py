"""The HyperDHT node (JS ``hyperdht/index.js``): dht-rpc on UDX sockets plus connect/listen.

Invariants:

* A :class:`HyperDHT` *has* a dht-rpc node (:attr:`HyperDHT.rpc`, a
  :class:`~hyperpunch.dht_rpc.DHT`) and forwards its public surface (``ready``, ``bootstrap_nodes``,
  ``host``/``port``, ``query``, ``request``, ``on`` …); it satisfies
  :class:`~hyperpunch.dht.context.NodeContext`, the seam its helpers (connect, server, announcer,
  holepuncher, router, relay) see it through.
* One :class:`~hyperpunch.udx.socket.UDX` per node: the two dht-rpc sockets, the holepunch socket
  pool and every raw stream share it, so a connection's raw stream can receive on any of them.
* Requests are dispatched as JS ``onrequest``: PEER_HANDSHAKE / PEER_HOLEPUNCH to the router,
  storage commands to :class:`~hyperpunch.dht.persistent.Persistent` (which answers only once
  this node has an id, and gets the wall clock from here); anything else is UNKNOWN_COMMAND.
* Every task the node starts (server hooks, connects, announcers) is owned by the dht-rpc node
  (:meth:`spawn`); :meth:`aclose` runs once (:class:`~hyperpunch.aio.CloseOnce`): it closes the
  servers, destroys raw streams, closes the socket pool and then the dht-rpc node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from hyperpunch.aio import CloseOnce
from hyperpunch.crypto import KeyPair
from hyperpunch.crypto import hash as _hash
from hyperpunch.crypto import key_pair as _key_pair
from hyperpunch.dht import queries
from hyperpunch.dht.connect import connect
from hyperpunch.dht.constants import BOOTSTRAP_NODES, RANDOM_PUNCH_INTERVAL, Command
from hyperpunch.dht.context import Listener, RawFirewall
from hyperpunch.dht.handshake import CreateHandshake, CreateStream
from hyperpunch.dht.holepuncher import RandomPunchThrottle
from hyperpunch.dht.nat import NatAnalysis
from hyperpunch.dht.paths import FirewallFn, HolepunchFn, udx_of
from hyperpunch.dht.persistent import Persistent
from hyperpunch.dht.relay import RelayAddressCache
from hyperpunch.dht.router import Router
from hyperpunch.dht.server import Server
from hyperpunch.dht.socket_pool import SocketPool, SocketRef
from hyperpunch.dht_rpc import DHT, DHTCore, IncomingRequest, QueryStream, Response, Session
from hyperpunch.dht_rpc.node import AsyncCommit
from hyperpunch.dht_rpc.transport import DatagramSocket, udx_socket_factory
from hyperpunch.encoding import Address
from hyperpunch.secretstream import SecretStream
from hyperpunch.udx.socket import UDX, UDXSocket
from hyperpunch.udx.stream import UDXStream

__all__ = ["FirewallFn", "HyperDHT", "wall_clock_ms"]

_log = logging.getLogger(__name__)


def wall_clock_ms() -> float:
    """Milliseconds since the epoch (the wall clock :class:`Persistent` checks announce bumps with)."""
    return time.time() * 1000.0


class HyperDHT:
    """A HyperDHT node. ``async with HyperDHT(bootstrap=[...]) as dht: await dht.ready()``.

    ``public_host`` makes it a bootstrapper (see :meth:`bootstrapper`); other keyword options go to
    the dht-rpc node (:class:`~hyperpunch.dht_rpc.DHT`).
    """

    def __init__(
        self,
        *,
        bootstrap: list[Any] | None = None,
        host: str = "0.0.0.0",
        port: int = 0,
        key_pair: KeyPair | None = None,
        seed: bytes | None = None,
        ephemeral: bool | None = None,
        firewalled: bool = True,
        connection_keep_alive: float = 5.0,
        random_punch_interval: float = RANDOM_PUNCH_INTERVAL / 1000,
        public_host: str | None = None,
        **opts: Any,
    ) -> None:
        self.udx = UDX()
        opts.setdefault("socket_factory", udx_socket_factory(self.udx))
        rpc_opts: dict[str, Any] = {
            "bootstrap": list(BOOTSTRAP_NODES) if bootstrap is None else bootstrap,
            "ephemeral": ephemeral,
            "firewalled": firewalled,
            "on_request": self._on_request,
            **opts,
        }
        self.rpc: DHT = (
            DHT(host=host, port=port, **rpc_opts)
            if public_host is None
            else DHT.bootstrapper(port, public_host, bind_host=host, **rpc_opts)
        )
        self.default_key_pair = key_pair or _key_pair(seed)
        self.connection_keep_alive = connection_keep_alive
        self.listening: set[Listener] = set()
        self.router = Router(dht=self)
        self.persistent = Persistent(self, self.router, wall_clock=wall_clock_ms)
        self.raw_streams: set[UDXStream] = set()
        self.socket_pool = SocketPool(self.rpc, self.udx, host)
        self.relay_addresses_cache = RelayAddressCache()
        self.punch_throttle = RandomPunchThrottle(random_punch_interval)
        self.stats_punches = {"consistent": 0, "random": 0, "open": 0, "try_later": 0}
        self.stats_relaying = {"attempts": 0, "successes": 0, "aborts": 0}
        self.stats_connects = {"direct": 0, "lan": 0, "holepunched": 0, "relayed": 0, "failed": 0}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._close = CloseOnce(self._aclose)
        # how holepunch sockets analyse their NAT (a seam: tests swap in forced verdicts)
        self.nat_factory: Callable[[bool], NatAnalysis] = NatAnalysis
        self.rpc.on("network-update", self._on_network_update)

    @classmethod
    def bootstrapper(cls, port: int, host: str, *, bind_host: str = "0.0.0.0", **opts: Any) -> HyperDHT:
        """A persistent, non-firewalled node on ``port`` whose public address is ``host:port``
        (:meth:`hyperpunch.dht_rpc.DHT.bootstrapper`)."""
        kw: dict[str, Any] = {"ephemeral": False, "firewalled": False, "any_port": False, "bootstrap": []}
        kw.update(opts)
        return cls(port=port, host=bind_host, public_host=host, **kw)

    # -- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def key_pair(seed: bytes | None = None) -> KeyPair:
        return _key_pair(seed)

    @staticmethod
    def hash(data: bytes) -> bytes:
        return _hash(data)

    def loop_time(self) -> float:
        """The event loop's clock once bound (0.0 before): the ``now`` every helper is fed."""
        loop = self._loop
        return loop.time() if loop is not None else 0.0

    def stats(self) -> dict[str, object]:
        base = dict(self.rpc.stats)
        base["punches"] = dict(self.stats_punches)
        base["relaying"] = dict(self.stats_relaying)
        base["connects"] = dict(self.stats_connects)
        base["socket_pool"] = dict(self.socket_pool.stats)
        return base

    @property
    def server_udx_socket(self) -> UDXSocket | None:
        return udx_of(self.rpc.server_socket)

    @property
    def udx_socket(self) -> UDXSocket | None:
        """The UDX socket requests leave from (JS ``dht.socket``)."""
        return udx_of(self.rpc.socket)

    def wrapper_for(self, sock: UDXSocket) -> object:
        """The dht-rpc socket handle for a UDX socket (to reply/request from it)."""
        for w in (self.rpc.server_socket, self.rpc.client_socket):
            if w is not None and udx_of(w) is sock:
                return w
        ref = self.socket_pool.lookup(sock)
        return ref.wrapper if ref is not None else self.rpc.socket

    async def ping_from(self, to: tuple[str, int], ref: SocketRef, session: Session | None) -> Response:
        """PING ``to`` from a pooled socket (no retry): how a holepuncher samples its NAT."""
        return await self.rpc.ping(to, retry=False, socket=ref.wrapper, session=session)

    def create_raw_stream(self, firewall: RawFirewall | None = None) -> UDXStream:
        streams = self.udx.streams
        while True:
            sid = random.getrandbits(32)
            if sid and sid not in streams and sid not in self.udx.lingering:
                break
        stream = self.udx.create_stream(sid, firewall=firewall)
        self.raw_streams.add(stream)
        return stream

    def release_raw_stream(self, stream: UDXStream) -> None:
        """Stop tracking ``stream`` (it ended, or its connection owns it now)."""
        self.raw_streams.discard(stream)

    # -- requests ----------------------------------------------------------------------------------

    def _on_request(self, req: IncomingRequest) -> bool:
        cmd = req.command
        if cmd == Command.PEER_HANDSHAKE:
            self.router.on_peer_handshake(req)
            return True
        if cmd == Command.PEER_HOLEPUNCH:
            self.router.on_peer_holepunch(req)
            return True
        return self.persistent.on_request(req, self.loop_time())

    def _on_network_update(self, *_: Any) -> None:
        # JS re-announces on 'network-change' and wakes its announcers on 'network-update' when
        # online; our announcer re-announces from refresh(), so coming online refreshes it
        if self.rpc.online:
            for server in list(self.listening):
                server.refresh()

    # -- servers and connections -------------------------------------------------------------------

    def create_server(
        self,
        *,
        firewall: FirewallFn | None = None,
        on_connection: Callable[[SecretStream], Awaitable[None] | None] | None = None,
        share_local_address: bool = True,
        holepunch: HolepunchFn | bool | None = None,
        relay_through: bytes | Callable[[], bytes | None] | None = None,
        create_handshake: CreateHandshake | None = None,
        create_stream: CreateStream | None = None,
    ) -> Server:
        return Server(
            self,
            firewall=firewall,
            on_connection=on_connection,
            share_local_address=share_local_address,
            holepunch=holepunch,
            relay_through=relay_through,
            create_handshake=create_handshake,
            create_stream=create_stream,
        )

    async def connect(
        self,
        remote_public_key: bytes,
        *,
        key_pair: KeyPair | None = None,
        relay_through: bytes | None = None,
        relay_addresses: list[Address] | None = None,
        local_connection: bool = True,
        fast_open: bool = True,
        holepunch: HolepunchFn | None = None,
        timeout: float | None = None,
        create_handshake: CreateHandshake | None = None,
        create_stream: CreateStream | None = None,
    ) -> SecretStream:
        """Connect to the server listening on ``remote_public_key``; returns once the stream is open."""
        coro = connect(
            self,
            remote_public_key,
            key_pair=key_pair,
            relay_through=relay_through,
            relay_addresses=relay_addresses,
            local_connection=local_connection,
            fast_open=fast_open,
            holepunch=holepunch,
            create_handshake=create_handshake,
            create_stream=create_stream,
        )
        task: asyncio.Task[SecretStream] = self.spawn(coro)
        try:
            if timeout is None:
                return await asyncio.shield(task)
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except BaseException:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise

    def find_peer(self, public_key: bytes, *, hash: bool = True, **opts: Any) -> QueryStream:
        """FIND_PEER toward ``H(public_key)`` (``hash=False``: ``public_key`` is the target)."""
        return queries.find_peer(self, public_key, hash=hash, **opts)

    # -- record operations (dht/queries.py) --------------------------------------------------------

    def lookup(self, target: bytes, **opts: Any) -> QueryStream:
        return queries.lookup(self, target, **opts)

    async def announce(
        self,
        target: bytes,
        key_pair: KeyPair,
        relay_addresses: list[Address] | None = None,
        *,
        clear: bool = False,
        bump: int = 0,
    ) -> None:
        await queries.announce(
            self, target, key_pair, relay_addresses, clear=clear, bump=bump, persistent=self.persistent
        )

    async def unannounce(self, target: bytes, key_pair: KeyPair) -> None:
        await queries.unannounce(self, target, key_pair, persistent=self.persistent)

    async def mutable_put(
        self, key_pair: KeyPair, value: bytes, *, seq: int = 0, **opts: Any
    ) -> queries.MutablePutResult:
        return await queries.mutable_put(self, key_pair, value, seq=seq, **opts)

    async def mutable_get(self, public_key: bytes, **opts: Any) -> queries.MutableGetResult | None:
        return await queries.mutable_get(self, public_key, **opts)

    async def immutable_put(self, value: bytes, **opts: Any) -> queries.ImmutablePutResult:
        return await queries.immutable_put(self, value, **opts)

    async def immutable_get(self, hash: bytes, **opts: Any) -> queries.ImmutableGetResult | None:
        return await queries.immutable_get(self, hash, **opts)

    # -- the dht-rpc node (forwarded) --------------------------------------------------------------

    @property
    def core(self) -> DHTCore:
        return self.rpc.core

    @property
    def id(self) -> bytes | None:
        return self.rpc.id

    @property
    def ephemeral(self) -> bool:
        return self.rpc.ephemeral

    @property
    def firewalled(self) -> bool:
        return self.rpc.firewalled

    @property
    def bootstrapped(self) -> bool:
        return self.rpc.bootstrapped

    @property
    def destroyed(self) -> bool:
        return self.rpc.destroyed

    @property
    def online(self) -> bool:
        return self.rpc.online

    @property
    def degraded(self) -> bool:
        return self.rpc.degraded

    @property
    def host(self) -> str | None:
        return self.rpc.host

    @property
    def port(self) -> int:
        return self.rpc.port

    @property
    def bootstrap_nodes(self) -> list[tuple[str, int]]:
        return self.rpc.bootstrap_nodes

    @property
    def socket(self) -> DatagramSocket | None:
        """The dht-rpc socket requests leave from (client while firewalled, else server)."""
        return self.rpc.socket

    @property
    def server_socket(self) -> DatagramSocket | None:
        return self.rpc.server_socket

    @property
    def client_socket(self) -> DatagramSocket | None:
        return self.rpc.client_socket

    def address(self) -> Address | None:
        return self.rpc.address()

    def server_address(self) -> Address | None:
        return self.rpc.server_address()

    def remote_address(self) -> Address | None:
        return self.rpc.remote_address()

    def to_array(self, limit: int | None = None) -> list[Address]:
        return self.rpc.to_array(limit)

    def add_node(self, host: str, port: int) -> None:
        self.rpc.add_node(host, port)

    def on(self, event: str, fn: Callable[..., None]) -> None:
        self.rpc.on(event, fn)

    def off(self, event: str, fn: Callable[..., None]) -> None:
        self.rpc.off(event, fn)

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task owned by this node: cancelled and awaited by :meth:`aclose`."""
        return self.rpc.spawn(coro)

    def session(self) -> Session:
        return self.rpc.session()

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
        return await self.rpc.request(
            to,
            command,
            target=target,
            value=value,
            token=token,
            retry=retry,
            session=session,
            ttl=ttl,
            socket=socket,
        )

    async def ping(self, to: tuple[str, int], *, size: int = 0, retry: bool = True, ttl: int = 0) -> Response:
        return await self.rpc.ping(to, size=size, retry=retry, ttl=ttl)

    async def delayed_ping(self, to: tuple[str, int], delay: float) -> Response:
        return await self.rpc.delayed_ping(to, delay)

    def query(
        self,
        target: bytes,
        command: int,
        value: bytes | None = None,
        *,
        commit: bool | AsyncCommit | None = None,
        **opts: Any,
    ) -> QueryStream:
        return self.rpc.query(target, command, value, commit=commit, **opts)

    def find_node(self, target: bytes, **opts: Any) -> QueryStream:
        return self.rpc.find_node(target, **opts)

    def refresh(self) -> None:
        self.rpc.refresh()

    def suspend(self) -> None:
        self.rpc.suspend()

    def resume(self) -> None:
        self.rpc.resume()

    # -- lifecycle ---------------------------------------------------------------------------------

    async def bind(self) -> None:
        """Bind the dht-rpc sockets and start bootstrapping (idempotent)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        await self.rpc.bind()

    async def ready(self) -> None:
        """Bind if needed and wait until the bootstrap walk is over (JS ``fullyBootstrapped``)."""
        await self.bind()
        await self.rpc.ready()

    fully_bootstrapped = ready

    async def __aenter__(self) -> HyperDHT:
        await self.bind()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._close()

    async def _aclose(self) -> None:
        for server in list(self.listening):
            with contextlib.suppress(Exception):
                await server.aclose()
        for stream in list(self.raw_streams):
            stream.destroy()
        self.raw_streams.clear()
        await self.socket_pool.aclose()
        await self.rpc.aclose()

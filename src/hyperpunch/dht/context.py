"""The seam between the HyperDHT node and its helpers: :class:`NodeContext`.

Invariants:

* :class:`~hyperpunch.dht.node.HyperDHT` satisfies :class:`NodeContext` structurally; the
  helpers (:mod:`.connect`, :mod:`.server`, :mod:`.announcer`) type against it and never import
  the node. The lower helpers declare narrower seams of their own, which this one extends:
  :class:`~hyperpunch.dht.holepuncher.PunchHost`, :class:`~hyperpunch.dht.relay.RelayDialer`,
  :class:`~hyperpunch.dht.router.RouterHost` and :class:`~hyperpunch.dht.peer_rpc.Requester`.
* Imports run one way: the node imports the helpers, the helpers import this module, and this
  module imports only modules below them.
* Everything here is public: a helper calls no underscore name of the node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from hyperpunch.crypto import KeyPair
from hyperpunch.dht.holepuncher import PunchHost
from hyperpunch.dht.peer_rpc import Requester
from hyperpunch.dht.relay import RelayAddressCache, RelayDialer
from hyperpunch.dht.router import Router, RouterHost
from hyperpunch.dht_rpc import QueryStream, Response, Session
from hyperpunch.dht_rpc.transport import DatagramSocket
from hyperpunch.encoding import Address
from hyperpunch.secretstream import SecretStream
from hyperpunch.udx.socket import UDX, UDXSocket
from hyperpunch.udx.stream import UDXStream

__all__ = ["Listener", "NodeContext", "RawFirewall"]

# a raw stream's firewall: (socket, port, host) of its first packet -> True drops it
RawFirewall = Callable[[UDXSocket, int, str], bool]


class Listener(Protocol):
    """A listening server as the node tracks it (:attr:`NodeContext.listening`)."""

    @property
    def public_key(self) -> bytes | None: ...

    def refresh(self) -> None:
        """Announce again now (the node came back online)."""

    async def aclose(self) -> None: ...


class NodeContext(PunchHost, RelayDialer, RouterHost, Requester, Protocol):
    """What connect, server and announcer need of their HyperDHT node."""

    # -- state the node owns ------------------------------------------------------------------

    @property
    def udx(self) -> UDX: ...

    @property
    def router(self) -> Router: ...

    @property
    def listening(self) -> set[Listener]: ...

    @property
    def relay_addresses_cache(self) -> RelayAddressCache: ...

    @property
    def default_key_pair(self) -> KeyPair: ...

    @property
    def connection_keep_alive(self) -> float: ...

    @property
    def stats_relaying(self) -> dict[str, int]: ...

    @property
    def stats_connects(self) -> dict[str, int]: ...

    # -- the dht-rpc node ---------------------------------------------------------------------

    @property
    def destroyed(self) -> bool: ...

    @property
    def host(self) -> str | None: ...

    @property
    def port(self) -> int: ...

    @property
    def socket(self) -> DatagramSocket | None: ...

    @property
    def server_udx_socket(self) -> UDXSocket | None: ...

    @property
    def udx_socket(self) -> UDXSocket | None: ...

    def remote_address(self) -> Address | None: ...

    def session(self) -> Session: ...

    async def bind(self) -> None: ...

    async def ready(self) -> None: ...

    async def ping(self, to: tuple[str, int]) -> Response: ...

    def find_peer(self, public_key: bytes, *, hash: bool = True, **opts: Any) -> QueryStream: ...

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]: ...

    async def request(
        self,
        to: tuple[str, int],
        command: int,
        *,
        target: bytes | None = None,
        value: bytes | None = None,
        token: bytes | None = None,
        socket: DatagramSocket | None = None,
        session: Session | None = None,
    ) -> Response: ...

    # -- raw streams and connections ----------------------------------------------------------

    def create_raw_stream(self, firewall: RawFirewall | None = None) -> UDXStream: ...

    def release_raw_stream(self, stream: UDXStream) -> None: ...

    async def connect(self, remote_public_key: bytes, *, timeout: float | None = None) -> SecretStream: ...

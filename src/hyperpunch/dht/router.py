"""The HyperDHT router: the forwarding table for servers reachable through this node (JS lib/router.js).

Invariants:

* An entry exists for ``target = hash(server_public_key)`` when a server announced *itself* to this
  node (ANNOUNCE with ``hash(peer.public_key) == target``: ``relay`` is the server's address as we
  saw it) or when a server listens on this very node (``relay`` is None, ``server`` is set).
* ``record`` is the encoded ``peer`` record of that announce (``messages.peer``), served to
  FIND_PEER and added to LOOKUP replies when there is room.
* Entries expire like the JS xache (20 min) unless refreshed; the owner passes ``now``.

The persistent record handlers (``dht/persistent.py``) only use ``get``/``set``/``delete``; the
server-side handshake/holepunch relaying on top of the table lives here too (incoming
PEER_HANDSHAKE, PEER_HOLEPUNCH). The client side of those RPCs is :mod:`~hyperpunch.dht.peer_rpc`.
The node is reached only through the :class:`RouterHost` seam (``spawn``, ``loop_time``).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from hyperpunch.dht.constants import HandshakeMode
from hyperpunch.dht.messages import Handshake, Holepunch, handshake, holepunch
from hyperpunch.dht_rpc import IncomingRequest
from hyperpunch.encoding import Address, DecodeError, decode, encode

__all__ = [
    "ROUTER_TTL",
    "ForwardEntry",
    "Router",
    "RouterHost",
    "ServerHooks",
    "decode_or_none",
]

_log = logging.getLogger(__name__)

ROUTER_TTL = 20 * 60.0  # seconds, as the JS xache maxAge for router entries
ROUTER_MAX_SIZE = 65536


class ServerHooks(Protocol):
    """What a listening server gives the router (JS ``onpeerhandshake`` / ``onpeerholepunch``).

    Each returns ``(reply_bytes, socket_handle_or_None)`` or None to stay silent.
    """

    async def on_peer_handshake(
        self, noise: bytes, peer_address: Address | None, req: IncomingRequest
    ) -> tuple[bytes, object | None] | None: ...

    async def on_peer_holepunch(
        self, id: int, payload: bytes, peer_address: Address, req: IncomingRequest
    ) -> tuple[bytes, object | None] | None: ...


class RouterHost(Protocol):
    """What the router needs of its node: owned tasks for server hooks, and the clock."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> Any: ...

    def loop_time(self) -> float: ...


@dataclass
class ForwardEntry:
    """How to reach a server: through ``relay`` (its address), or ``server`` when it is local."""

    relay: Address | None
    record: bytes
    server: object | None = None
    inserted: float = 0.0


def decode_or_none(codec: Any, value: bytes | None) -> Any:
    """``decode(codec, value)``, or None for an empty or undecodable value (peer bytes never raise)."""
    if not value:
        return None
    try:
        return decode(codec, value)
    except (DecodeError, ValueError, TypeError):
        return None


class Router:
    """The forwarding table (target -> entry), bounded and expiring, plus the relaying logic.

    ``dht`` is needed only to run server hooks as owned tasks and for the clock; the table alone
    works without it.
    """

    def __init__(
        self, *, ttl: float = ROUTER_TTL, max_size: int = ROUTER_MAX_SIZE, dht: RouterHost | None = None
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self.dht = dht
        self._entries: dict[bytes, ForwardEntry] = {}

    def get(self, target: bytes, now: float | None = None) -> ForwardEntry | None:
        entry = self._entries.get(target)
        if entry is None:
            return None
        if now is not None and entry.server is None and now - entry.inserted > self.ttl:
            del self._entries[target]
            return None
        return entry

    def set(self, target: bytes, entry: ForwardEntry) -> None:
        if target not in self._entries and len(self._entries) >= self.max_size:
            for key, old in self._entries.items():  # drop the oldest entry that is not a local server
                if old.server is None:
                    del self._entries[key]
                    break
        self._entries.pop(target, None)
        self._entries[target] = entry

    def delete(self, target: bytes) -> None:
        self._entries.pop(target, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _now(self) -> float | None:
        return None if self.dht is None else self.dht.loop_time()

    # -- relaying / server side -------------------------------------------------------------------

    def _spawn_hook(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self.dht is None:
            coro.close()
            return
        self.dht.spawn(coro)

    def on_peer_handshake(self, req: IncomingRequest) -> None:
        """Handle a PEER_HANDSHAKE request; never raises for peer bytes (bad ones are ignored)."""
        hs = decode_or_none(handshake, req.value)
        if not isinstance(hs, Handshake):
            return
        entry = self.get(req.target, self._now()) if req.target is not None else None
        server = entry.server if entry is not None else None
        relay = entry.relay if entry is not None else None
        mode, noise, peer_address, relay_address = hs.mode, hs.noise, hs.peer_address, hs.relay_address
        if server is not None:
            if noise:
                self._spawn_hook(self._server_handshake(server, hs, req))
            return
        if mode == HandshakeMode.FROM_CLIENT:
            if not noise:
                return
            if relay is None and relay_address is None:
                req.reply(None, token=False, closer_nodes=True)  # help the client route
                return
            dest = relay_address or relay
            assert dest is not None
            req.relay(
                encode(handshake, Handshake(HandshakeMode.FROM_RELAY, noise, req.from_.address, None)), dest
            )
        elif mode == HandshakeMode.FROM_RELAY:
            if relay is None or not noise:
                return
            req.relay(
                encode(
                    handshake,
                    Handshake(HandshakeMode.FROM_SECOND_RELAY, noise, peer_address, req.from_.address),
                ),
                relay,
            )
        elif mode == HandshakeMode.FROM_SERVER:
            if peer_address is None or not noise:
                return
            req.reply(
                encode(handshake, Handshake(HandshakeMode.REPLY, noise, req.from_.address, None)),
                to=peer_address,
                token=False,
                closer_nodes=False,
            )

    async def _server_handshake(self, server: Any, hs: Handshake, req: IncomingRequest) -> None:
        try:
            reply = await server.on_peer_handshake(hs.noise, hs.peer_address, req)
        except Exception:
            _log.exception("server handshake hook failed")
            return
        if reply is None:
            return
        noise, sock = reply
        if hs.mode == HandshakeMode.FROM_CLIENT:
            req.reply(
                encode(handshake, Handshake(HandshakeMode.REPLY, noise, None, None)),
                token=False,
                closer_nodes=False,
                socket=sock,
            )
        elif hs.mode == HandshakeMode.FROM_RELAY:
            req.relay(
                encode(handshake, Handshake(HandshakeMode.FROM_SERVER, noise, hs.peer_address, None)),
                req.from_,
                socket=sock,
            )
        elif hs.mode == HandshakeMode.FROM_SECOND_RELAY:
            if hs.relay_address is None:
                return
            req.relay(
                encode(handshake, Handshake(HandshakeMode.FROM_SERVER, noise, hs.peer_address, None)),
                hs.relay_address,
                socket=sock,
            )

    def on_peer_holepunch(self, req: IncomingRequest) -> None:
        """Handle a PEER_HOLEPUNCH request; never raises for peer bytes."""
        hp = decode_or_none(holepunch, req.value)
        if not isinstance(hp, Holepunch):
            return
        entry = self.get(req.target, self._now()) if req.target is not None else None
        server = entry.server if entry is not None else None
        relay = entry.relay if entry is not None else None
        if hp.mode == HandshakeMode.FROM_CLIENT:
            dest = hp.peer_address or relay
            if dest is None:
                return
            req.relay(
                encode(holepunch, Holepunch(HandshakeMode.FROM_RELAY, hp.id, hp.payload, req.from_.address)),
                dest,
            )
        elif hp.mode == HandshakeMode.FROM_RELAY:
            if server is None or hp.peer_address is None:
                return
            self._spawn_hook(self._server_holepunch(server, hp, req))
        elif hp.mode == HandshakeMode.FROM_SERVER:
            if hp.peer_address is None:
                return
            req.reply(
                encode(holepunch, Holepunch(HandshakeMode.REPLY, hp.id, hp.payload, req.from_.address)),
                to=hp.peer_address,
                token=False,
                closer_nodes=False,
            )

    async def _server_holepunch(self, server: Any, hp: Holepunch, req: IncomingRequest) -> None:
        assert hp.peer_address is not None
        try:
            reply = await server.on_peer_holepunch(hp.id, hp.payload, hp.peer_address, req)
        except Exception:
            _log.exception("server holepunch hook failed")
            return
        if reply is None:
            return
        payload, sock = reply
        req.relay(
            encode(holepunch, Holepunch(HandshakeMode.FROM_SERVER, 0, payload, hp.peer_address)),
            req.from_,
            socket=sock,
        )

"""The client side of PEER_HANDSHAKE and PEER_HOLEPUNCH (JS ``lib/router.js`` ``peerHandshake``,
``peerHolepunch``), over any node with a dht-rpc ``request``.

Invariants:

* Each call sends one FROM_CLIENT request to ``to`` and checks the reply before believing it: it
  must decode, be a REPLY, and come from the address asked (else ``BAD_HANDSHAKE_REPLY`` /
  ``BAD_HOLEPUNCH_REPLY``). The node is reached only through the :class:`Requester` seam.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hyperpunch.dht.constants import Command, HandshakeMode
from hyperpunch.dht.errors import BadHandshakeReplyError, BadHolepunchReplyError
from hyperpunch.dht.messages import Handshake, Holepunch, handshake, holepunch
from hyperpunch.dht.router import decode_or_none
from hyperpunch.dht_rpc import Response, Session
from hyperpunch.dht_rpc.transport import DatagramSocket
from hyperpunch.encoding import Address, encode

__all__ = ["HandshakeReply", "HolepunchReply", "Requester", "peer_handshake", "peer_holepunch"]


class Requester(Protocol):
    """A node that sends a dht-rpc user command and awaits the response."""

    async def request(
        self,
        to: tuple[str, int],
        command: int,
        *,
        target: bytes | None = None,
        value: bytes | None = None,
        socket: DatagramSocket | None = None,
        session: Session | None = None,
    ) -> Response: ...


@dataclass(frozen=True, slots=True)
class HandshakeReply:
    noise: bytes
    relayed: bool
    server_address: Address
    client_address: Address


@dataclass(frozen=True, slots=True)
class HolepunchReply:
    from_: Address
    to: Address
    payload: bytes
    peer_address: Address


def _from(res: Response, to: Address) -> bool:
    """The reply came from the address we asked (a relayed reply from elsewhere is refused)."""
    return to[0] == res.from_.host and to[1] == res.from_.port


async def peer_handshake(
    node: Requester,
    target: bytes,
    noise: bytes,
    to: Address,
    *,
    peer_address: Address | None = None,
    relay_address: Address | None = None,
    socket: DatagramSocket | None = None,
    session: Session | None = None,
) -> HandshakeReply:
    value = encode(handshake, Handshake(HandshakeMode.FROM_CLIENT, noise, peer_address, relay_address))
    res = await node.request(
        to, Command.PEER_HANDSHAKE, target=target, value=value, socket=socket, session=session
    )
    hs = decode_or_none(handshake, res.value)
    if not isinstance(hs, Handshake) or hs.mode != HandshakeMode.REPLY or not _from(res, to) or not hs.noise:
        raise BadHandshakeReplyError()
    return HandshakeReply(
        hs.noise, hs.peer_address is not None, hs.peer_address or Address(to[0], to[1]), res.to
    )


async def peer_holepunch(
    node: Requester,
    target: bytes,
    id: int,
    payload: bytes,
    peer_address: Address | None,
    to: Address,
    *,
    socket: DatagramSocket | None = None,
    session: Session | None = None,
) -> HolepunchReply:
    value = encode(holepunch, Holepunch(HandshakeMode.FROM_CLIENT, id, payload, peer_address))
    res = await node.request(
        to, Command.PEER_HOLEPUNCH, target=target, value=value, socket=socket, session=session
    )
    hp = decode_or_none(holepunch, res.value)
    if not isinstance(hp, Holepunch) or hp.mode != HandshakeMode.REPLY or not _from(res, to):
        raise BadHolepunchReplyError()
    return HolepunchReply(res.from_.address, res.to, hp.payload, hp.peer_address or Address(to[0], to[1]))

"""Non-custodial announce and unannounce on the relay: the client signs (JS ``lib/signee-proxy.js``).

Invariants:

* The queries are hyperdht's (a LOOKUP whose commit writes a signed ANNOUNCE to each closest node;
  a LOOKUP that sends a signed UNANNOUNCE to every node that lists the key), but every signature
  comes from a :class:`Signer`, i.e. the client, through ``signAnnounce`` / ``signUnannounce`` →
  ``signature``. The relay never holds the secret key.
* The record signed is ``peer{publicKey, relayAddresses: []}`` with no refresh token: the bytes
  JS ``lib/signee.js`` signs, equal to hyperdht's ``annSignable`` (APP-LAYER §1.6). This is what
  the published JS relay fails to send (it passes hyperdht's whole peer object, Bug B).
* A failed or refused signature fails only that node's write, as a failed request does in hyperdht.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Protocol

from hyperpunch.dht import HyperDHT
from hyperpunch.dht.constants import Command
from hyperpunch.dht.messages import Announce as AnnounceRecord
from hyperpunch.dht.messages import Peer as PeerRecord
from hyperpunch.dht.messages import announce as announce_codec
from hyperpunch.dht.queries import LookupResult, map_lookup
from hyperpunch.dht_rpc import DHT, QueryStream
from hyperpunch.dht_rpc.requests import Response
from hyperpunch.encoding import encode

__all__ = ["Signer", "signed_announce", "signed_unannounce"]

_REPLY_LIMIT = 20  # a full lookup reply may hide our record (hyperdht lookupAndUnannounce)


class Signer(Protocol):
    """Asks the client to sign (the seam: :class:`~hyperpunch.relay.session.RelaySession`)."""

    def request_signature(self, unannounce: bool, token: bytes, peer_id: bytes) -> Awaitable[bytes]: ...

    def spawn(self, coro: Any) -> asyncio.Task[Any]: ...


async def _write(
    dht: HyperDHT | DHT, signer: Signer, command: int, topic: bytes, public_key: bytes, reply: Response
) -> Response | None:
    token, node_id = reply.token, reply.from_.id
    if token is None or node_id is None:
        return None
    signature = await signer.request_signature(command == Command.UNANNOUNCE, token, node_id)
    value = encode(announce_codec, AnnounceRecord(PeerRecord(public_key, []), None, signature))
    return await dht.request(reply.from_.address, command, target=topic, value=value, token=token)


def signed_announce(dht: HyperDHT, signer: Signer, topic: bytes, public_key: bytes) -> QueryStream:
    """hyperdht ``announce(topic, {publicKey})`` with the client's signatures."""

    async def commit(reply: Response, rpc: DHT, _q: QueryStream) -> Response | None:
        return await _write(rpc, signer, Command.ANNOUNCE, topic, public_key, reply)

    return dht.query(topic, Command.LOOKUP, None, map=map_lookup, commit=commit)


def signed_unannounce(dht: HyperDHT, signer: Signer, topic: bytes, public_key: bytes) -> QueryStream:
    """hyperdht ``lookupAndUnannounce(topic, {publicKey})`` with the client's signatures."""
    dht.persistent.unannounce(topic, public_key)
    pending: list[asyncio.Task[Any]] = []

    def mapper(res: Response) -> LookupResult | None:
        data = map_lookup(res)
        if data is None or data.token is None or data.from_.id is None:
            return data
        if len(data.peers) >= _REPLY_LIMIT or any(p.public_key == public_key for p in data.peers):
            pending.append(
                signer.spawn(_quiet(_write(dht, signer, Command.UNANNOUNCE, topic, public_key, res)))
            )
        return data

    async def commit(_reply: Response, _rpc: DHT, _q: QueryStream) -> None:
        if pending:
            await asyncio.gather(*pending)

    return dht.query(topic, Command.LOOKUP, None, map=mapper, commit=commit)


async def _quiet(aw: Awaitable[Any]) -> None:
    try:
        await aw
    except Exception:  # a failed unannounce is not the query's failure (hyperdht safetyCatch)
        return

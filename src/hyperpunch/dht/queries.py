"""Client-side HyperDHT record operations (JS ``hyperdht/index.js``): lookup, announce,
unannounce, findPeer, mutable/immutable put and get, over any :class:`QueryNode` (a
:class:`hyperpunch.dht_rpc.DHT` or the HyperDHT node, which forwards to its own).

Invariants (as JS 6.34):

* Every operation is a dht-rpc query towards the record's target (LOOKUP, FIND_PEER,
  MUTABLE_GET, IMMUTABLE_GET); writes are the query's *commit*: once the walk is over, each of
  the (up to 20) closest replies gets the write with the token that node handed out, signed for
  that node's id where the record is signed (announce / unannounce).
* A write succeeds when at least one commit request got a response (JS semantics: a response
  carrying an error code, e.g. SEQ_TOO_LOW, still counts; we report those codes in the result);
  it fails with the query's error otherwise (``Too few nodes responded`` when nobody answered).
* Replies are checked before they are believed: a reply that does not decode is skipped, a
  mutable value whose signature does not verify for the requested key (or whose seq is below the
  requested one) is ignored, an immutable value whose hash is not the target is ignored.
* A write must fit in one datagram a JS node can receive (udx-native reads 2048 bytes at most):
  ``mutable_put`` / ``immutable_put`` refuse larger values up front with ``VALUE_TOO_LARGE``
  (JS sends them anyway and never gets an answer). Python storers accept larger datagrams.
* Nothing here keeps state between calls; background unannounce requests of
  :func:`lookup_and_unannounce` are tasks owned by the node (``node.spawn``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hyperpunch.crypto import KeyPair
from hyperpunch.dht.constants import Command
from hyperpunch.dht.errors import DHTLocalError
from hyperpunch.dht.messages import (
    Announce,
    MutablePutRequest,
    lookup_raw_reply,
    mutable_get_response,
    mutable_put_request,
    peer,
)
from hyperpunch.dht.messages import Peer as PeerRecord
from hyperpunch.dht.messages import announce as announce_codec
from hyperpunch.dht.persistent import Persistent
from hyperpunch.dht.records import sign_announce, sign_mutable, sign_unannounce, verify_mutable
from hyperpunch.dht_rpc import DHT, QueryStream
from hyperpunch.dht_rpc.errors import QueryError
from hyperpunch.dht_rpc.node import AsyncCommit
from hyperpunch.dht_rpc.requests import Peer as NodePeer
from hyperpunch.dht_rpc.requests import Response
from hyperpunch.encoding import Address, DecodeError, decode, encode, uint
from hyperpunch.encoding.numbers import uint_size

__all__ = [
    "MAX_DATAGRAM_SIZE",
    "FindPeerResult",
    "ImmutableGetResult",
    "ImmutablePutResult",
    "LookupResult",
    "MutableGetResult",
    "MutablePutResult",
    "QueryNode",
    "announce",
    "announce_query",
    "find_peer",
    "immutable_get",
    "immutable_put",
    "lookup",
    "lookup_and_unannounce",
    "map_find_peer",
    "map_immutable",
    "map_lookup",
    "map_mutable",
    "max_immutable_size",
    "max_mutable_size",
    "mutable_get",
    "mutable_put",
    "request_announce",
    "request_unannounce",
    "unannounce",
]

# JS udx-native receives datagrams into a 2048-byte buffer: a longer dht-rpc message never reaches
# a JS node (the request just times out). Measured with the pinned reference: the largest
# immutablePut a JS ephemeral client gets through is 1970 bytes = 2048 - 78 bytes of headers.
MAX_DATAGRAM_SIZE = 2048


class QueryNode(Protocol):
    """What the record operations need of a node: dht-rpc queries, requests and owned tasks."""

    @property
    def ephemeral(self) -> bool: ...

    @property
    def firewalled(self) -> bool: ...

    def query(
        self,
        target: bytes,
        command: int,
        value: bytes | None = None,
        *,
        commit: bool | AsyncCommit | None = None,
        **opts: Any,
    ) -> QueryStream: ...

    async def request(
        self,
        to: tuple[str, int],
        command: int,
        *,
        target: bytes | None = None,
        value: bytes | None = None,
        token: bytes | None = None,
    ) -> Response: ...

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]: ...


def _request_overhead(node: QueryNode, value_len: int) -> int:
    """Bytes of a dht-rpc request around a ``value_len``-byte value (with token and target).

    type 1 · flags 1 · tid 2 · to (IPv4) 6 · [id 32] · token 32 · command 1 · target 32 ·
    value length prefix. The id is sent by a persistent node that is not firewalled.
    """
    with_id = not node.ephemeral and not node.firewalled
    return 1 + 1 + 2 + 6 + (32 if with_id else 0) + 32 + 1 + 32 + uint_size(value_len)


def max_immutable_size(node: QueryNode) -> int:
    """The largest value :func:`immutable_put` sends from ``node`` (one JS-receivable datagram)."""
    n = MAX_DATAGRAM_SIZE - _request_overhead(node, MAX_DATAGRAM_SIZE)
    return n


def max_mutable_size(node: QueryNode, seq: int = 0) -> int:
    """The largest value :func:`mutable_put` sends from ``node`` at ``seq``."""
    # mutablePutRequest: publicKey 32 · uint seq · buffer value (3-byte length here) · signature 64
    return max_immutable_size(node) - (32 + uint_size(seq) + 3 + 64)


_ANNOUNCE_REPLY_LIMIT = 20  # lookupAndUnannounce: a full reply (20 peers) may hide our record


def _h(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


# -- mapped replies ----------------------------------------------------------------------------


@dataclass(slots=True)
class LookupResult:
    """One LOOKUP reply: the peers stored at ``from_`` for the target, and the target's bump."""

    token: bytes | None
    from_: NodePeer
    to: Address
    peers: list[PeerRecord]
    bump: int = 0


@dataclass(slots=True)
class FindPeerResult:
    """One FIND_PEER reply: the announced record of the peer as ``from_`` routes to it."""

    token: bytes | None
    from_: NodePeer
    to: Address
    peer: PeerRecord


@dataclass(slots=True)
class MutableGetResult:
    token: bytes | None
    from_: NodePeer
    to: Address
    seq: int
    value: bytes
    signature: bytes


@dataclass(slots=True)
class ImmutableGetResult:
    token: bytes | None
    from_: NodePeer
    to: Address
    value: bytes


@dataclass(slots=True)
class MutablePutResult:
    """``stored``: commits answered without error; ``errors``: error codes other nodes answered."""

    public_key: bytes
    seq: int
    signature: bytes
    closest_nodes: list[NodePeer] = field(default_factory=list)
    stored: int = 0
    errors: list[int] = field(default_factory=list)


@dataclass(slots=True)
class ImmutablePutResult:
    hash: bytes
    closest_nodes: list[NodePeer] = field(default_factory=list)
    stored: int = 0


def map_lookup(res: Response) -> LookupResult | None:
    """JS ``mapLookup``: ``None`` (skipped) for an empty or undecodable reply."""
    if res.value is None:
        return None
    try:
        r = decode(lookup_raw_reply, res.value)
    except DecodeError:
        return None
    return LookupResult(res.token, res.from_, res.to, r.peers, r.bump)


def map_find_peer(res: Response) -> FindPeerResult | None:
    if res.value is None:
        return None
    try:
        p = decode(peer, res.value)
    except DecodeError:
        return None
    return FindPeerResult(res.token, res.from_, res.to, p)


def map_immutable(res: Response) -> ImmutableGetResult | None:
    if res.value is None:
        return None
    return ImmutableGetResult(res.token, res.from_, res.to, bytes(res.value))


def map_mutable(res: Response) -> MutableGetResult | None:
    if res.value is None:
        return None
    try:
        r = decode(mutable_get_response, res.value)
    except DecodeError:
        return None
    return MutableGetResult(res.token, res.from_, res.to, r.seq, bytes(r.value), r.signature)


# -- lookup / find_peer ------------------------------------------------------------------------


def lookup(node: QueryNode, target: bytes, **opts: Any) -> QueryStream:
    """LOOKUP query towards ``target``; iterate it for :class:`LookupResult` items."""
    return node.query(target, Command.LOOKUP, None, map=map_lookup, **opts)


def find_peer(node: QueryNode, public_key: bytes, *, hash: bool = True, **opts: Any) -> QueryStream:
    """FIND_PEER query towards ``H(public_key)`` (or ``public_key`` itself with ``hash=False``)."""
    target = _h(public_key) if hash else public_key
    return node.query(target, Command.FIND_PEER, None, map=map_find_peer, **opts)


# -- announce / unannounce ---------------------------------------------------------------------


def _need_token(token: bytes | None, from_: NodePeer) -> tuple[bytes, bytes]:
    if token is None or from_.id is None:
        raise QueryError("No token received for closest node")
    return token, from_.id


async def request_announce(
    node: QueryNode,
    key_pair: KeyPair,
    target: bytes,
    token: bytes | None,
    from_: NodePeer,
    relay_addresses: list[Address] | None = None,
    bump: int = 0,
) -> Response:
    """JS ``_requestAnnounce``: a signed ANNOUNCE of ``key_pair`` to one storing node."""
    tok, node_id = _need_token(token, from_)
    ann = Announce(PeerRecord(key_pair.public_key, list(relay_addresses or [])), None, None, bump)
    sig = sign_announce(target, tok, node_id, ann, key_pair)
    value = encode(announce_codec, Announce(ann.peer, None, sig, bump))
    return await node.request(from_.address, Command.ANNOUNCE, target=target, value=value, token=tok)


async def request_unannounce(
    node: QueryNode, key_pair: KeyPair, target: bytes, token: bytes | None, from_: NodePeer
) -> Response:
    """JS ``_requestUnannounce``: a signed UNANNOUNCE of ``key_pair`` to one storing node."""
    tok, node_id = _need_token(token, from_)
    unann = Announce(PeerRecord(key_pair.public_key, []))
    sig = sign_unannounce(target, tok, node_id, unann, key_pair)
    value = encode(announce_codec, Announce(unann.peer, None, sig))
    return await node.request(from_.address, Command.UNANNOUNCE, target=target, value=value, token=tok)


UserCommit = Callable[[Response, DHT, QueryStream], Awaitable[Any]]


def lookup_and_unannounce(
    node: QueryNode,
    target: bytes,
    key_pair: KeyPair,
    *,
    persistent: Persistent | None = None,
    commit: UserCommit | None = None,
    **opts: Any,
) -> QueryStream:
    """JS ``lookupAndUnannounce``: a LOOKUP that unannounces ``key_pair`` from every replying node
    that lists it (or whose reply is full), then runs ``commit`` per closest reply once those
    unannounces settled. ``persistent`` (our own storage; by default ``node.persistent`` when the
    node has one) forgets the record first."""
    if persistent is None:
        own = getattr(node, "persistent", None)
        persistent = own if isinstance(own, Persistent) else None
    if persistent is not None:
        persistent.unannounce(target, key_pair.public_key)
    pending: list[asyncio.Task[Any]] = []
    pk = key_pair.public_key

    def mapper(res: Response) -> LookupResult | None:
        data = map_lookup(res)
        if data is None or data.token is None:
            return data
        found = len(data.peers) >= _ANNOUNCE_REPLY_LIMIT or any(p.public_key == pk for p in data.peers)
        if not found or data.from_.id is None:
            return data
        pending.append(node.spawn(_quiet(request_unannounce(node, key_pair, target, data.token, data.from_))))
        return data

    async def run_commit(reply: Response, dht: DHT, q: QueryStream) -> Any:
        if pending:
            await asyncio.gather(*pending)
        if commit is not None:
            return await commit(reply, dht, q)
        return None

    return node.query(target, Command.LOOKUP, None, map=mapper, commit=run_commit, **opts)


async def _quiet(aw: Awaitable[Any]) -> None:
    try:
        await aw
    except Exception:  # JS safetyCatch: a failed unannounce is not the query's failure
        return


async def unannounce(
    node: QueryNode, target: bytes, key_pair: KeyPair, *, persistent: Persistent | None = None
) -> None:
    """JS ``unannounce``: :func:`lookup_and_unannounce` to the end."""
    await lookup_and_unannounce(node, target, key_pair, persistent=persistent).finished()


def announce_query(
    node: QueryNode,
    target: bytes,
    key_pair: KeyPair,
    relay_addresses: list[Address] | None = None,
    *,
    clear: bool = False,
    bump: int = 0,
    persistent: Persistent | None = None,
    **opts: Any,
) -> QueryStream:
    """JS ``announce``: LOOKUP (or lookupAndUnannounce with ``clear``) committing a signed ANNOUNCE
    to each closest node. Iterate it for the :class:`LookupResult` items, or await ``finished()``."""
    relays = list(relay_addresses or [])

    async def commit(reply: Response, dht: DHT, _q: QueryStream) -> Response:
        return await request_announce(dht, key_pair, target, reply.token, reply.from_, relays, bump)

    if clear:
        return lookup_and_unannounce(node, target, key_pair, persistent=persistent, commit=commit, **opts)
    return node.query(target, Command.LOOKUP, None, map=map_lookup, commit=commit, **opts)


async def announce(
    node: QueryNode,
    target: bytes,
    key_pair: KeyPair,
    relay_addresses: list[Address] | None = None,
    *,
    clear: bool = False,
    bump: int = 0,
    persistent: Persistent | None = None,
) -> None:
    """Announce ``key_pair`` under ``target`` on the closest nodes (see :func:`announce_query`)."""
    q = announce_query(node, target, key_pair, relay_addresses, clear=clear, bump=bump, persistent=persistent)
    await q.finished()


# -- immutable ---------------------------------------------------------------------------------


async def immutable_get(node: QueryNode, target: bytes, **opts: Any) -> ImmutableGetResult | None:
    """The first reply whose value hashes to ``target`` (the walk stops there), else ``None``."""
    async with node.query(target, Command.IMMUTABLE_GET, None, map=map_immutable, **opts) as q:
        async for item in q:
            found: ImmutableGetResult = item
            if _h(found.value) == target:
                return found
    return None


def _check_size(value: bytes, limit: int) -> None:
    if len(value) > limit:
        raise DHTLocalError(
            f"a value of {len(value)} bytes does not fit in one datagram a JS node accepts (max {limit})",
            code="VALUE_TOO_LARGE",
        )


async def immutable_put(node: QueryNode, value: bytes, **opts: Any) -> ImmutablePutResult:
    """Store ``value`` under ``H(value)`` on the closest nodes."""
    value = bytes(value)
    _check_size(value, max_immutable_size(node))
    target = _h(value)
    result = ImmutablePutResult(target)

    async def commit(reply: Response, dht: DHT, _q: QueryStream) -> None:
        res = await dht.request(
            reply.from_.address, Command.IMMUTABLE_PUT, target=target, value=value, token=reply.token
        )
        if res.error == 0:
            result.stored += 1

    q = node.query(target, Command.IMMUTABLE_GET, None, map=map_immutable, commit=commit, **opts)
    await q.finished()
    result.closest_nodes = q.closest_nodes
    return result


# -- mutable -----------------------------------------------------------------------------------


async def mutable_get(
    node: QueryNode,
    public_key: bytes,
    *,
    seq: int = 0,
    latest: bool = True,
    refresh: Callable[[MutableGetResult], bool] | None = None,
    **opts: Any,
) -> MutableGetResult | None:
    """JS ``mutableGet``: the verified record of ``public_key`` with the highest seq (>= ``seq``);
    with ``latest=False`` the first verified one. ``refresh(result)`` returning True re-puts the
    found record to the closest nodes (JS ``opts.refresh``)."""
    target = _h(public_key)
    result: MutableGetResult | None = None
    signed: list[bytes] = []
    refresh_fn = refresh

    async def commit(reply: Response, dht: DHT, _q: QueryStream) -> Response | None:
        nonlocal refresh_fn
        if not signed and result is not None and refresh_fn is not None:
            if refresh_fn(result):
                signed.append(
                    encode(
                        mutable_put_request,
                        MutablePutRequest(public_key, result.seq, result.value, result.signature),
                    )
                )
            else:
                refresh_fn = None
        if not signed:
            return None
        return await dht.request(
            reply.from_.address, Command.MUTABLE_PUT, target=target, value=signed[0], token=reply.token
        )

    q = node.query(
        target,
        Command.MUTABLE_GET,
        encode(uint, seq),
        map=map_mutable,
        commit=commit if refresh is not None else None,
        **opts,
    )
    async with q:
        async for item in q:
            node_result: MutableGetResult = item
            if result is not None and node_result.seq <= result.seq:
                continue
            if node_result.seq < seq or not verify_mutable(
                node_result.signature, node_result.seq, node_result.value, public_key
            ):
                continue
            if not latest:
                return node_result
            result = node_result
    return result


async def mutable_put(
    node: QueryNode, key_pair: KeyPair, value: bytes, *, seq: int = 0, **opts: Any
) -> MutablePutResult:
    """JS ``mutablePut``: sign ``(seq, value)`` and store it under ``H(public_key)`` on the closest nodes."""
    value = bytes(value)
    _check_size(value, max_mutable_size(node, seq))
    target = _h(key_pair.public_key)
    signature = sign_mutable(seq, value, key_pair)
    signed = encode(mutable_put_request, MutablePutRequest(key_pair.public_key, seq, value, signature))
    result = MutablePutResult(key_pair.public_key, seq, signature)

    async def commit(reply: Response, dht: DHT, _q: QueryStream) -> None:
        res = await dht.request(
            reply.from_.address, Command.MUTABLE_PUT, target=target, value=signed, token=reply.token
        )
        if res.error == 0:
            result.stored += 1
        else:
            result.errors.append(res.error)

    q = node.query(target, Command.MUTABLE_GET, encode(uint, 0), map=map_mutable, commit=commit, **opts)
    await q.finished()
    result.closest_nodes = q.closest_nodes
    return result

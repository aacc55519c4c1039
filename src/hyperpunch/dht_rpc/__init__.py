"""hyperpunch.dht_rpc: Kademlia RPC over UDP, wire-compatible with JS dht-rpc 6.27.

Invariants: messages are byte-exact with JS (:mod:`.messages`); the protocol logic is sans-IO
(:class:`DHTCore`, driven by datagrams and ``now``, reporting the typed events of
:mod:`.events`); :class:`DHT` is the thin asyncio node on the datagram transport interface of
:mod:`.transport`; errors are :class:`DHTRPCError` subclasses with the JS codes.

Usage::

    async with DHT(bootstrap=["127.0.0.1:49737"], host="127.0.0.1") as node:
        await node.ready()
        async for reply in node.find_node(target):
            ...
        res = await node.request(("127.0.0.1", 49737), 42, value=b"hi")
"""

from __future__ import annotations

from hyperpunch.dht_rpc.core import DHTCore
from hyperpunch.dht_rpc.errors import (
    INVALID_TOKEN,
    OK,
    UNKNOWN_COMMAND,
    DHTRPCError,
    DHTRPCLocalError,
    DHTRPCRemoteError,
    IOSuspendedError,
    NodeDestroyedError,
    QueryError,
    RequestDestroyedError,
    RequestTimeoutError,
)
from hyperpunch.dht_rpc.events import (
    AddNode,
    Close,
    DHTEvent,
    Ephemeral,
    Listening,
    NatUpdate,
    NetworkUpdate,
    Persistent,
    Ready,
    RemoveNode,
    Resume,
    Suspend,
    Wakeup,
)
from hyperpunch.dht_rpc.messages import (
    DELAYED_PING,
    DOWN_HINT,
    FIND_NODE,
    PING,
    PING_NAT,
    RequestMessage,
    ResponseMessage,
    decode_message,
    encode_request,
    encode_response,
    peer_id,
)
from hyperpunch.dht_rpc.nat_sampler import NatSampler
from hyperpunch.dht_rpc.node import DHT, QueryStream
from hyperpunch.dht_rpc.query import Query
from hyperpunch.dht_rpc.requests import IncomingRequest, OutgoingRequest, Peer, Response, Session
from hyperpunch.dht_rpc.routing_table import Node, RoutingTable
from hyperpunch.dht_rpc.transport import (
    DatagramSocket,
    SocketFactory,
    asyncio_socket_factory,
    udx_socket_factory,
)

__all__ = [
    "DELAYED_PING",
    "DHT",
    "DOWN_HINT",
    "FIND_NODE",
    "INVALID_TOKEN",
    "OK",
    "PING",
    "PING_NAT",
    "UNKNOWN_COMMAND",
    "AddNode",
    "Close",
    "DHTCore",
    "DHTEvent",
    "DHTRPCError",
    "DHTRPCLocalError",
    "DHTRPCRemoteError",
    "DatagramSocket",
    "Ephemeral",
    "IOSuspendedError",
    "IncomingRequest",
    "Listening",
    "NatSampler",
    "NatUpdate",
    "NetworkUpdate",
    "Node",
    "NodeDestroyedError",
    "OutgoingRequest",
    "Peer",
    "Persistent",
    "Query",
    "QueryError",
    "QueryStream",
    "Ready",
    "RemoveNode",
    "RequestDestroyedError",
    "RequestMessage",
    "RequestTimeoutError",
    "Response",
    "ResponseMessage",
    "Resume",
    "RoutingTable",
    "Session",
    "SocketFactory",
    "Suspend",
    "Wakeup",
    "asyncio_socket_factory",
    "decode_message",
    "encode_request",
    "encode_response",
    "peer_id",
    "udx_socket_factory",
]

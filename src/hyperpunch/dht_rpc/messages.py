"""dht-rpc wire messages (JS dht-rpc 6.27 ``lib/io.js`` / ``lib/peer.js``) as compact-encoding codecs.

Invariants:

* A datagram is one message. Byte 0 is the type: :data:`REQUEST_ID` (0x03) or
  :data:`RESPONSE_ID` (0x13). Then ``uint flags · uint16 tid · ipv4Address to`` and the optional
  fields in flag-bit order. Requests: id(1) token(2) internal(4) · uint command · target(8)
  value(16). Responses: id(1) token(2) closerNodes(4) error(8) value(16).
* Encoding writes exactly JS's bytes: flags are a single byte, an optional field is present iff
  it is not ``None`` (an empty ``value`` is present, as an empty JS Buffer is truthy), except
  ``closer_nodes``, present iff non-empty, and ``error``, present iff > 0 (JS
  ``m.closerNodes && m.closerNodes.length``, ``m.error > 0``). Both codecs are
  :func:`~hyperpunch.encoding.schema` declarations.
* Decoding raises :class:`~hyperpunch.encoding.DecodeError` for anything JS's decoder would
  reject (JS then drops the datagram); trailing bytes are ignored, as in JS.
* A node id is ``BLAKE2b-256(ipv4(4) || uint16le port)`` (:func:`peer_id`); a received ``id``
  counts only if it equals the id of the datagram's source address (:func:`validate_id`).
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass

from hyperpunch.encoding import (
    Address,
    Codec,
    DecodeError,
    buffer,
    decode,
    field,
    fixed32,
    flag,
    ipv4_address,
    optional,
    pack_ipv4,
    schema,
    uint,
    uint16,
)
from hyperpunch.encoding import array as _array
from hyperpunch.encoding import encode as _encode

__all__ = [
    "DELAYED_PING",
    "DOWN_HINT",
    "FIND_NODE",
    "PING",
    "PING_NAT",
    "REQUEST_ID",
    "RESPONSE_ID",
    "Message",
    "RequestMessage",
    "ResponseMessage",
    "decode_message",
    "encode_request",
    "encode_response",
    "ipv4_address_array",
    "peer_id",
    "request",
    "response",
    "validate_id",
]

VERSION = 0b11
REQUEST_ID = (0b0000 << 4) | VERSION
RESPONSE_ID = (0b0001 << 4) | VERSION

# internal commands (lib/commands.js)
PING = 0
PING_NAT = 1
FIND_NODE = 2
DOWN_HINT = 3
DELAYED_PING = 4

_blake2b = hashlib.blake2b
_inet_aton = socket.inet_aton

ipv4_address_array: Codec[list[Address]] = _array(ipv4_address)


def peer_id(host: str, port: int) -> bytes:
    """The 32-byte DHT id of ``host:port`` (JS ``peer.id``)."""
    try:
        raw = _inet_aton(host) if host.count(".") == 3 else pack_ipv4(host)
    except OSError:
        raw = pack_ipv4(host)
    return _blake2b(raw + (port & 0xFFFF).to_bytes(2, "little"), digest_size=32).digest()


def validate_id(id: bytes | None, host: str, port: int) -> bytes | None:
    """``id`` if it is the id of ``host:port``, else ``None`` (JS ``validateId``)."""
    if id is None:
        return None
    try:
        expected = peer_id(host, port)
    except Exception:  # a non-IPv4 source can never carry a valid id
        return None
    return expected if expected == id else None


@dataclass(slots=True)
class RequestMessage:
    """A REQUEST datagram. ``to`` is the recipient's address as the sender sees it."""

    tid: int
    to: Address
    command: int
    internal: bool = False
    id: bytes | None = None
    token: bytes | None = None
    target: bytes | None = None
    value: bytes | None = None


@dataclass(slots=True)
class ResponseMessage:
    """A RESPONSE datagram. ``error`` 0 means success."""

    tid: int
    to: Address
    id: bytes | None = None
    token: bytes | None = None
    closer_nodes: list[Address] | None = None
    error: int = 0
    value: bytes | None = None


Message = RequestMessage | ResponseMessage


request: Codec[RequestMessage] = schema(
    RequestMessage,
    field("tid", uint16),
    field("to", ipv4_address),
    optional("id", fixed32),
    optional("token", fixed32),
    flag("internal"),
    field("command", uint),
    optional("target", fixed32),
    optional("value", buffer),
    prefix=bytes([REQUEST_ID]),
    prefix_error="not a dht-rpc request",
)
"""The whole REQUEST datagram, type byte included."""

response: Codec[ResponseMessage] = schema(
    ResponseMessage,
    field("tid", uint16),
    field("to", ipv4_address),
    optional("id", fixed32),
    optional("token", fixed32),
    optional("closer_nodes", ipv4_address_array, truthy=True),
    optional("error", uint, positive=True, default=0),
    optional("value", buffer),
    prefix=bytes([RESPONSE_ID]),
    prefix_error="not a dht-rpc response",
)
"""The whole RESPONSE datagram, type byte included."""


def encode_request(m: RequestMessage) -> bytes:
    return _encode(request, m)


def encode_response(m: ResponseMessage) -> bytes:
    return _encode(response, m)


def decode_message(data: bytes) -> Message:
    """Decode one datagram as a request or a response; :class:`DecodeError` if it is neither."""
    if len(data) < 2:
        raise DecodeError("datagram too short for a dht-rpc message")
    kind = data[0]
    if kind == REQUEST_ID:
        return decode(request, data)
    if kind == RESPONSE_ID:
        return decode(response, data)
    raise DecodeError(f"unknown dht-rpc message type 0x{kind:02x}")

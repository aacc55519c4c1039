"""dht-rpc wire messages (JS dht-rpc 6.27 ``lib/io.js`` / ``lib/peer.js``) as compact-encoding codecs.

Invariants:

* A datagram is one message. Byte 0 is the type: :data:`REQUEST_ID` (0x03) or
  :data:`RESPONSE_ID` (0x13). Then ``uint flags · uint16 tid · ipv4Address to`` and the optional
  fields in flag-bit order. Requests: id(1) token(2) internal(4) · uint command · target(8)
  value(16). Responses: id(1) token(2) closerNodes(4) error(8) value(16).
* Encoding writes exactly JS's bytes: flags are a single byte, an optional field is present iff
  it is not ``None`` (an empty ``value`` is present, as an empty JS Buffer is truthy).
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
    DecodeState,
    EncodeError,
    EncodeState,
    decode,
    ipv4_address,
    pack_ipv4,
    uint,
    uint16,
)
from hyperpunch.encoding import array as _array
from hyperpunch.encoding import buffer as _buffer
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


def _fixed32(state: DecodeState) -> bytes:
    s = state.start
    if state.end - s < 32:
        raise DecodeError("Out of bounds")
    state.start = s + 32
    return state.buffer[s : s + 32]


def _put32(state: EncodeState, b: bytes, what: str) -> None:
    if len(b) != 32:
        raise EncodeError(f"{what} must be 32 bytes (got {len(b)})")
    s = state.start
    state.buffer[s : s + 32] = b
    state.start = s + 32


class _Request(Codec[RequestMessage]):
    """The whole REQUEST datagram, type byte included."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: RequestMessage) -> None:
        state.end += 1 + 1 + 2 + 6
        if m.id is not None:
            state.end += 32
        if m.token is not None:
            state.end += 32
        uint.preencode(state, m.command)
        if m.target is not None:
            state.end += 32
        if m.value is not None:
            _buffer.preencode(state, m.value)

    def encode(self, state: EncodeState, m: RequestMessage) -> None:
        buf = state.buffer
        s = state.start
        buf[s] = REQUEST_ID
        buf[s + 1] = (
            (1 if m.id is not None else 0)
            | (2 if m.token is not None else 0)
            | (4 if m.internal else 0)
            | (8 if m.target is not None else 0)
            | (16 if m.value is not None else 0)
        )
        state.start = s + 2
        uint16.encode(state, m.tid)
        ipv4_address.encode(state, m.to)
        if m.id is not None:
            _put32(state, m.id, "id")
        if m.token is not None:
            _put32(state, m.token, "token")
        uint.encode(state, m.command)
        if m.target is not None:
            _put32(state, m.target, "target")
        if m.value is not None:
            _buffer.encode(state, m.value)

    def decode(self, state: DecodeState) -> RequestMessage:
        if state.start >= state.end or state.buffer[state.start] != REQUEST_ID:
            raise DecodeError("not a dht-rpc request")
        state.start += 1
        return _decode_request_body(state)


def _decode_request_body(state: DecodeState) -> RequestMessage:
    flags = uint.decode(state)
    tid = uint16.decode(state)
    to = ipv4_address.decode(state)
    id = _fixed32(state) if flags & 1 else None
    token = _fixed32(state) if flags & 2 else None
    command = uint.decode(state)
    target = _fixed32(state) if flags & 8 else None
    value = _buffer.decode(state) if flags & 16 else None
    return RequestMessage(tid, to, command, (flags & 4) != 0, id, token, target, value)


class _Response(Codec[ResponseMessage]):
    """The whole RESPONSE datagram, type byte included."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: ResponseMessage) -> None:
        state.end += 1 + 1 + 2 + 6
        if m.id is not None:
            state.end += 32
        if m.token is not None:
            state.end += 32
        if m.closer_nodes:
            ipv4_address_array.preencode(state, m.closer_nodes)
        if m.error > 0:
            uint.preencode(state, m.error)
        if m.value is not None:
            _buffer.preencode(state, m.value)

    def encode(self, state: EncodeState, m: ResponseMessage) -> None:
        buf = state.buffer
        s = state.start
        buf[s] = RESPONSE_ID
        buf[s + 1] = (
            (1 if m.id is not None else 0)
            | (2 if m.token is not None else 0)
            | (4 if m.closer_nodes else 0)
            | (8 if m.error > 0 else 0)
            | (16 if m.value is not None else 0)
        )
        state.start = s + 2
        uint16.encode(state, m.tid)
        ipv4_address.encode(state, m.to)
        if m.id is not None:
            _put32(state, m.id, "id")
        if m.token is not None:
            _put32(state, m.token, "token")
        if m.closer_nodes:
            ipv4_address_array.encode(state, m.closer_nodes)
        if m.error > 0:
            uint.encode(state, m.error)
        if m.value is not None:
            _buffer.encode(state, m.value)

    def decode(self, state: DecodeState) -> ResponseMessage:
        if state.start >= state.end or state.buffer[state.start] != RESPONSE_ID:
            raise DecodeError("not a dht-rpc response")
        state.start += 1
        return _decode_response_body(state)


def _decode_response_body(state: DecodeState) -> ResponseMessage:
    flags = uint.decode(state)
    tid = uint16.decode(state)
    to = ipv4_address.decode(state)
    id = _fixed32(state) if flags & 1 else None
    token = _fixed32(state) if flags & 2 else None
    closer = ipv4_address_array.decode(state) if flags & 4 else None
    error = uint.decode(state) if flags & 8 else 0
    value = _buffer.decode(state) if flags & 16 else None
    return ResponseMessage(tid, to, id, token, closer, error, value)


request: Codec[RequestMessage] = _Request()
response: Codec[ResponseMessage] = _Response()


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

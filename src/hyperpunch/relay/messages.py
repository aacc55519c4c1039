"""The 28 messages of the ``@hyperswarm/dht-relay`` 0.4.3 channel (JS ``lib/messages.js``).

Invariants:

* :data:`MESSAGES` lists one codec per message type, in Protomux type order (the type number is
  the index, JS ``lib/protocol.js``); every codec writes the bytes JS writes for the same value.
* Ids and aliases are compact ``uint32`` (fixed 4 bytes, little-endian), keys ``fixed32`` /
  ``fixed64``, ``buffer`` decodes a null (length 0) as ``b""`` (JS ``lib/codecs.js``).
* A flags byte is one raw byte (JS writes ``state.buffer[s] = flags``), read back as one raw byte;
  the fields it gates follow the JS conditions exactly. Unknown flag bits are ignored.
* Decoding any bytes raises only :class:`~hyperpunch.encoding.DecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hyperpunch.encoding import (
    Address,
    Codec,
    DecodeError,
    DecodeState,
    EncodeError,
    EncodeState,
    array,
    buffer,
    field,
    fixed32,
    fixed64,
    ipv4_address,
    optional_buffer,
    schema,
    string,
    uint32,
)

__all__ = [
    "ANNOUNCERS",
    "MESSAGES",
    "Accept",
    "Announce",
    "AnnouncerNode",
    "AnnouncerPeer",
    "Announcers",
    "Close",
    "Closed",
    "Connect",
    "Connected",
    "Connection",
    "Data",
    "Deny",
    "Destroy",
    "End",
    "Finished",
    "Handshake",
    "Incoming",
    "Listen",
    "Listening",
    "Lookup",
    "MessageType",
    "NoiseReceive",
    "NoiseReply",
    "NoiseSend",
    "Open",
    "Ping",
    "Pong",
    "Result",
    "SignAnnounce",
    "SignUnannounce",
    "Signature",
    "Unannounce",
]

T = TypeVar("T")


class MessageType:
    """Protomux message type numbers of the relay channel."""

    HANDSHAKE = 0
    PING = 1
    PONG = 2
    CONNECT = 3
    CONNECTION = 4
    CONNECTED = 5
    INCOMING = 6
    DENY = 7
    ACCEPT = 8
    DESTROY = 9
    LISTEN = 10
    LISTENING = 11
    CLOSE = 12
    CLOSED = 13
    OPEN = 14
    END = 15
    DATA = 16
    RESULT = 17
    FINISHED = 18
    LOOKUP = 19
    ANNOUNCE = 20
    UNANNOUNCE = 21
    SIGN_ANNOUNCE = 22
    SIGN_UNANNOUNCE = 23
    SIGNATURE = 24
    NOISE_SEND = 25
    NOISE_RECEIVE = 26
    NOISE_REPLY = 27


# -- a flags-byte message codec ----------------------------------------------------------------------

# (field name, codec, present(flags) or None = always)
_Spec = tuple[str, Codec[Any], "Callable[[int], bool] | None"]


class _Flagged(Codec[T], Generic[T]):
    """A JS relay message: an optional leading raw flags byte, then fields gated by it.

    ``bits`` maps value attributes to flag bits (set when the attribute is truthy); an attribute
    that is not also a field decodes as a bool.
    """

    __slots__ = ("_bits", "_cls", "_flag_only", "_specs")

    def __init__(
        self, cls: Callable[..., T], bits: Sequence[tuple[str, int]], specs: Sequence[_Spec]
    ) -> None:
        self._cls = cls
        self._bits = tuple(bits)
        self._specs = tuple(specs)
        names = {s[0] for s in specs}
        self._flag_only = tuple((n, b) for n, b in bits if n not in names)

    def _flags(self, value: T) -> int:
        f = 0
        for name, bit in self._bits:
            if getattr(value, name):
                f |= bit
        return f

    def preencode(self, state: EncodeState, value: T) -> None:
        f = self._flags(value)
        if self._bits:
            state.end += 1
        for name, codec, present in self._specs:
            if present is None or present(f):
                v = getattr(value, name)
                if v is None and codec is not optional_buffer:
                    raise EncodeError(f"relay message field {name!r} is missing")
                codec.preencode(state, v)

    def encode(self, state: EncodeState, value: T) -> None:
        f = self._flags(value)
        if self._bits:
            state.buffer[state.start] = f
            state.start += 1
        for name, codec, present in self._specs:
            if present is None or present(f):
                codec.encode(state, getattr(value, name))

    def decode(self, state: DecodeState) -> T:
        f = 0
        if self._bits:
            if state.start >= state.end:
                raise DecodeError("Out of bounds")
            f = state.buffer[state.start]
            state.start += 1
        kw: dict[str, Any] = {name: bool(f & bit) for name, bit in self._flag_only}
        for name, codec, present in self._specs:
            kw[name] = codec.decode(state) if present is None or present(f) else None
        return self._cls(**kw)


class _Empty(Codec[None]):
    """JS ``c.none``: nothing on the wire."""

    __slots__ = ()

    def preencode(self, state: EncodeState, value: None) -> None:
        return None

    def encode(self, state: EncodeState, value: None) -> None:
        return None

    def decode(self, state: DecodeState) -> None:
        return None


def _set(bit: int) -> Callable[[int], bool]:
    return lambda f: bool(f & bit)


def _unset(bit: int) -> Callable[[int], bool]:
    return lambda f: not f & bit


# -- values ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handshake:
    custodial: bool
    public_key: bytes
    secret_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Pong:
    pass


@dataclass(frozen=True, slots=True)
class Connect:
    custodial: bool
    alias: int
    public_key: bytes
    remote_public_key: bytes
    secret_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class Connection:
    custodial: bool
    alias: int
    server_alias: int
    remote_public_key: bytes
    handshake_hash: bytes | None = None
    handshake_id: int | None = None


@dataclass(frozen=True, slots=True)
class Connected:
    alias: int
    remote_alias: int


@dataclass(frozen=True, slots=True)
class Incoming:
    id: int
    server_alias: int
    remote_public_key: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class Deny:
    id: int


@dataclass(frozen=True, slots=True)
class Accept:
    id: int


@dataclass(frozen=True, slots=True)
class Destroy:
    """``paired``: ``alias`` is the sender's own alias, else the receiver's (JS ``remoteAlias``)."""

    paired: bool
    alias: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Listen:
    custodial: bool
    alias: int
    public_key: bytes
    secret_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class Listening:
    alias: int
    remote_alias: int
    address: Address


@dataclass(frozen=True, slots=True)
class Close:
    alias: int


@dataclass(frozen=True, slots=True)
class Closed:
    alias: int


@dataclass(frozen=True, slots=True)
class Open:
    custodial: bool
    alias: int
    remote_alias: int
    handshake_hash: bytes | None = None
    handshake_id: int | None = None


@dataclass(frozen=True, slots=True)
class End:
    alias: int


@dataclass(frozen=True, slots=True)
class Data:
    alias: int
    data: list[bytes]


@dataclass(frozen=True, slots=True)
class Result:
    id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Finished:
    id: int


@dataclass(frozen=True, slots=True)
class Lookup:
    id: int
    topic: bytes


@dataclass(frozen=True, slots=True)
class Announce:
    custodial: bool
    id: int
    topic: bytes
    public_key: bytes
    secret_key: bytes | None = None


Unannounce = Announce


@dataclass(frozen=True, slots=True)
class SignAnnounce:
    id: int
    signee: int
    token: bytes
    peer_id: bytes | None
    relay_addresses: list[Address]


SignUnannounce = SignAnnounce


@dataclass(frozen=True, slots=True)
class Signature:
    id: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class NoiseSend:
    is_initiator: bool
    id: int
    payload: bytes
    remote_stream_alias: int | None = None


@dataclass(frozen=True, slots=True)
class NoiseReceive:
    is_initiator: bool
    id: int
    payload: bytes
    server_alias: int | None = None


@dataclass(frozen=True, slots=True)
class NoiseReply:
    is_initiator: bool
    complete: bool
    id: int
    payload: bytes
    remote_public_key: bytes | None = None
    remote_id: bytes | None = None
    holepunch_secret: bytes | None = None


# -- "announcers" (JS lib/codecs.js), the data of a ``result`` ---------------------------------------


@dataclass(frozen=True, slots=True)
class AnnouncerNode:
    id: bytes | None
    address: Address


@dataclass(frozen=True, slots=True)
class AnnouncerPeer:
    public_key: bytes
    relay_addresses: list[Address]


@dataclass(frozen=True, slots=True)
class Announcers:
    token: bytes
    from_: AnnouncerNode
    to: AnnouncerNode
    peers: list[AnnouncerPeer]


_RELAY_ADDRESSES = array(ipv4_address)
_NODE = schema(AnnouncerNode, field("id", optional_buffer), field("address", ipv4_address))
_PEER = schema(AnnouncerPeer, field("public_key", fixed32), field("relay_addresses", _RELAY_ADDRESSES))
ANNOUNCERS = schema(
    Announcers,
    field("token", fixed32),
    field("from_", _NODE),
    field("to", _NODE),
    field("peers", array(_PEER)),
)


# -- the codecs, in type order ---------------------------------------------------------------------

_C = 1  # custodial
_I = 1  # isInitiator / paired
_COMPLETE = 2
_ERROR = 2
_none = _Empty()

MESSAGES: tuple[Codec[Any], ...] = (
    _Flagged(
        Handshake,
        [("custodial", _C)],
        [("public_key", fixed32, None), ("secret_key", fixed64, _set(_C))],
    ),
    _none,  # ping
    _none,  # pong
    _Flagged(
        Connect,
        [("custodial", _C)],
        [
            ("alias", uint32, None),
            ("public_key", fixed32, None),
            ("secret_key", fixed64, _set(_C)),
            ("remote_public_key", fixed32, None),
        ],
    ),
    _Flagged(
        Connection,
        [("custodial", _C)],
        [
            ("alias", uint32, None),
            ("server_alias", uint32, None),
            ("remote_public_key", fixed32, None),
            ("handshake_hash", fixed64, _set(_C)),
            ("handshake_id", uint32, _unset(_C)),
        ],
    ),
    schema(Connected, field("alias", uint32), field("remote_alias", uint32)),
    schema(
        Incoming,
        field("id", uint32),
        field("server_alias", uint32),
        field("remote_public_key", fixed32),
        field("payload", buffer),
    ),
    schema(Deny, field("id", uint32)),
    schema(Accept, field("id", uint32)),
    _Flagged(
        Destroy,
        [("paired", _I), ("error", _ERROR)],
        [("alias", uint32, None), ("error", string, _set(_ERROR))],
    ),
    _Flagged(
        Listen,
        [("custodial", _C)],
        [("alias", uint32, None), ("public_key", fixed32, None), ("secret_key", fixed64, _set(_C))],
    ),
    schema(Listening, field("alias", uint32), field("remote_alias", uint32), field("address", ipv4_address)),
    schema(Close, field("alias", uint32)),
    schema(Closed, field("alias", uint32)),
    _Flagged(
        Open,
        [("custodial", _C)],
        [
            ("alias", uint32, None),
            ("remote_alias", uint32, None),
            ("handshake_hash", fixed64, _set(_C)),
            ("handshake_id", uint32, _unset(_C)),
        ],
    ),
    schema(End, field("alias", uint32)),
    schema(Data, field("alias", uint32), field("data", array(buffer))),
    schema(Result, field("id", uint32), field("data", buffer)),
    schema(Finished, field("id", uint32)),
    schema(Lookup, field("id", uint32), field("topic", fixed32)),
    _Flagged(
        Announce,
        [("custodial", _C)],
        [
            ("id", uint32, None),
            ("topic", fixed32, None),
            ("public_key", fixed32, None),
            ("secret_key", fixed64, _set(_C)),
        ],
    ),
    _Flagged(
        Announce,
        [("custodial", _C)],
        [
            ("id", uint32, None),
            ("topic", fixed32, None),
            ("public_key", fixed32, None),
            ("secret_key", fixed64, _set(_C)),
        ],
    ),
    schema(
        SignAnnounce,
        field("id", uint32),
        field("signee", uint32),
        field("token", fixed32),
        field("peer_id", optional_buffer),
        field("relay_addresses", _RELAY_ADDRESSES),
    ),
    schema(
        SignAnnounce,
        field("id", uint32),
        field("signee", uint32),
        field("token", fixed32),
        field("peer_id", optional_buffer),
        field("relay_addresses", _RELAY_ADDRESSES),
    ),
    schema(Signature, field("id", uint32), field("signature", buffer)),
    _Flagged(
        NoiseSend,
        [("is_initiator", _I)],
        [("id", uint32, None), ("remote_stream_alias", uint32, _set(_I)), ("payload", buffer, None)],
    ),
    _Flagged(
        NoiseReceive,
        [("is_initiator", _I)],
        [("id", uint32, None), ("server_alias", uint32, _unset(_I)), ("payload", buffer, None)],
    ),
    _Flagged(
        NoiseReply,
        [("is_initiator", _I), ("complete", _COMPLETE)],
        [
            ("id", uint32, None),
            ("payload", buffer, None),
            ("remote_public_key", fixed32, lambda f: not f & (_I | _COMPLETE)),
            ("remote_id", fixed32, _set(_COMPLETE)),
            ("holepunch_secret", fixed32, _set(_COMPLETE)),
        ],
    ),
)

assert len(MESSAGES) == 28

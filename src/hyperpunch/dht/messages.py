"""HyperDHT 6.34 wire messages (JS ``hyperdht/lib/messages.js``) as compact-encoding codecs,
declared with :func:`~hyperpunch.encoding.schema` (only ``noise_payload`` wraps its schema by hand).

Invariants:

* Every codec writes the bytes JS writes for the same value and decodes what JS decodes; decoders
  raise only :class:`~hyperpunch.encoding.DecodeError`. Codecs are module-level singletons named
  after JS in snake_case (``noisePayload`` is ``noise_payload``, ...); values are frozen
  dataclasses with snake_case fields; an absent optional part is ``None``.
* Flags follow JS truthiness exactly: an *empty* ``addresses4``/``addresses6`` list is left out
  (and decodes as ``[]``), but an empty ``relay_addresses`` (noise payload) or ``addresses``
  (holepunch payload) list is present (flag set, count 0) -- only ``None`` leaves them out; an
  announce ``bump`` of 0 is left out; a plugin ``value`` of ``b""`` is present.
* Version fields are written as JS writes them (noise payload, udx and secret-stream info always
  ``1``, relay-through flags always ``0``) whatever the value holds; decoding keeps what was read.
  A noise payload whose version is not 1 decodes to that version with every other field at its
  default, without reading further (the caller answers SERVER_INCOMPATIBLE / VERSION_MISMATCH).
* Small counters (flags, modes, error, firewall) are sized with ``uint`` here; JS assumes one
  byte for them, so for the values JS can actually encode (< 0xfd) the bytes are the same.
* ``lookup_raw_reply`` encodes ``Peer`` values; a storing node that keeps already-encoded peer
  records uses :func:`encode_lookup_raw_reply` (JS ``array(raw)``): the bytes are identical.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from hyperpunch.encoding import (
    Address,
    Codec,
    DecodeState,
    EncodeState,
    Schema,
    State,
    array,
    buffer,
    field,
    fixed32,
    fixed64,
    flag,
    flags,
    ipv4_address,
    ipv6_address,
    optional,
    schema,
    string,
    trailing,
    uint,
)
from hyperpunch.encoding import decode as decode
from hyperpunch.encoding import encode as encode

__all__ = [
    "Announce",
    "Handshake",
    "Holepunch",
    "HolepunchInfo",
    "HolepunchPayload",
    "LookupReply",
    "MutableGetResponse",
    "MutablePutRequest",
    "MutableSignable",
    "NoisePayload",
    "Peer",
    "PluginRequest",
    "RelayInfo",
    "RelayThroughInfo",
    "SecretStreamInfo",
    "UdxInfo",
    "announce",
    "decode",
    "encode",
    "encode_lookup_raw_reply",
    "handshake",
    "holepunch",
    "holepunch_info",
    "holepunch_payload",
    "ipv4",
    "ipv4_array",
    "ipv6",
    "ipv6_array",
    "lookup_raw_reply",
    "mutable_get_response",
    "mutable_put_request",
    "mutable_signable",
    "noise_payload",
    "peer",
    "peers",
    "plugin_request",
    "relay_info",
    "relay_info_array",
    "relay_through_info",
    "secret_stream_info",
    "udx_info",
]

_u_pre = uint.preencode
_u_enc = uint.encode

ipv4: Codec[Address] = ipv4_address
ipv6: Codec[Address] = ipv6_address
ipv4_array = array(ipv4_address)
ipv6_array = array(ipv6_address)


# --- handshake / holepunch (dht-rpc request values) ------------------------------------------


@dataclass(frozen=True, slots=True)
class Handshake:
    """PEER_HANDSHAKE value: ``mode`` is a :class:`~hyperpunch.dht.constants.HandshakeMode`."""

    mode: int
    noise: bytes
    peer_address: Address | None = None
    relay_address: Address | None = None


handshake: Codec[Handshake] = schema(
    Handshake,
    field("mode", uint),
    field("noise", buffer),
    optional("peer_address", ipv4_address),
    optional("relay_address", ipv4_address),
)


@dataclass(frozen=True, slots=True)
class Holepunch:
    """PEER_HOLEPUNCH value: ``payload`` is an encrypted :class:`HolepunchPayload`."""

    mode: int
    id: int
    payload: bytes
    peer_address: Address | None = None


holepunch: Codec[Holepunch] = schema(
    Holepunch,
    field("mode", uint),
    field("id", uint),
    field("payload", buffer),
    optional("peer_address", ipv4_address),
)


# --- noise payload and its parts ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelayInfo:
    """One announce relay of a server: the DHT node and the server's address as that node sees it."""

    relay_address: Address
    peer_address: Address


relay_info: Codec[RelayInfo] = schema(
    RelayInfo, field("relay_address", ipv4_address), field("peer_address", ipv4_address)
)
relay_info_array = array(relay_info)


@dataclass(frozen=True, slots=True)
class HolepunchInfo:
    """``id`` is the server's holepunch slot; ``relays`` where to send PEER_HOLEPUNCH."""

    id: int
    relays: list[RelayInfo] = dataclasses.field(default_factory=list)


holepunch_info: Codec[HolepunchInfo] = schema(
    HolepunchInfo, field("id", uint), field("relays", relay_info_array)
)


@dataclass(frozen=True, slots=True)
class UdxInfo:
    """The udx raw stream to connect to: ``id`` (its local stream id) and ``seq``."""

    id: int
    seq: int = 0
    reusable_socket: bool = False
    version: int = 1  # always written as 1


udx_info: Codec[UdxInfo] = schema(
    UdxInfo,
    field("version", uint, written=1),
    flags(),  # features
    field("id", uint),
    field("seq", uint),
    flag("reusable_socket"),
)


@dataclass(frozen=True, slots=True)
class SecretStreamInfo:
    version: int = 1  # always written as 1


secret_stream_info: Codec[SecretStreamInfo] = schema(SecretStreamInfo, field("version", uint, written=1))


@dataclass(frozen=True, slots=True)
class RelayThroughInfo:
    """Blind-relay fallback: the relay's public key and the pairing token."""

    public_key: bytes
    token: bytes
    version: int = 1  # always written as 1 (then flags 0)


relay_through_info: Codec[RelayThroughInfo] = schema(
    RelayThroughInfo,
    field("version", uint, written=1),
    flags(),  # always 0
    field("public_key", fixed32),
    field("token", fixed32),
)


@dataclass(frozen=True, slots=True)
class NoisePayload:
    """The payload inside the two IK handshake messages of a connection attempt."""

    version: int = 1  # always written as 1
    error: int = 0
    firewall: int = 0
    holepunch: HolepunchInfo | None = None
    addresses4: list[Address] = dataclasses.field(default_factory=list)
    addresses6: list[Address] = dataclasses.field(default_factory=list)
    udx: UdxInfo | None = None
    secret_stream: SecretStreamInfo | None = None
    relay_through: RelayThroughInfo | None = None
    relay_addresses: list[Address] | None = None


_noise_payload_v1: Schema[NoisePayload] = schema(
    NoisePayload,
    field("version", uint, written=1),
    flags(),
    field("error", uint),
    field("firewall", uint),
    optional("holepunch", holepunch_info),
    optional("addresses4", ipv4_array, truthy=True, default_factory=list),
    optional("addresses6", ipv6_array, truthy=True, default_factory=list),
    optional("udx", udx_info),
    optional("secret_stream", secret_stream_info),
    optional("relay_through", relay_through_info),
    optional("relay_addresses", ipv4_array),
)


class _NoisePayload(Codec[NoisePayload]):
    """Hand-written around the schema only because a version other than 1 ends the decoding."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: NoisePayload) -> None:
        _noise_payload_v1.preencode(state, m)

    def encode(self, state: EncodeState, m: NoisePayload) -> None:
        _noise_payload_v1.encode(state, m)

    def decode(self, state: DecodeState) -> NoisePayload:
        start = state.start
        version = uint.decode(state)
        if version != 1:
            return NoisePayload(version)  # not ours to read: the caller reports the mismatch
        state.start = start
        return _noise_payload_v1.decode(state)


noise_payload: Codec[NoisePayload] = _NoisePayload()


# --- the holepunch payload (encrypted with the holepunch secret, see secure_payload) ------------


@dataclass(frozen=True, slots=True)
class HolepunchPayload:
    error: int = 0
    firewall: int = 0
    round: int = 0
    connected: bool = False
    punching: bool = False
    addresses: list[Address] | None = None
    remote_address: Address | None = None
    token: bytes | None = None
    remote_token: bytes | None = None


holepunch_payload: Codec[HolepunchPayload] = schema(
    HolepunchPayload,
    field("error", uint),
    field("firewall", uint),
    field("round", uint),
    flag("connected"),
    flag("punching"),
    optional("addresses", ipv4_array),
    optional("remote_address", ipv4_address),
    optional("token", fixed32),
    optional("remote_token", fixed32),
)


# --- peer records and storage ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peer:
    """An announced peer record: its public key and up to 3 relay (DHT node) addresses."""

    public_key: bytes
    relay_addresses: list[Address] = dataclasses.field(default_factory=list)


peer: Codec[Peer] = schema(Peer, field("public_key", fixed32), field("relay_addresses", ipv4_array))
peers = array(peer)


@dataclass(frozen=True, slots=True)
class LookupReply:
    """LOOKUP reply value: up to 20 peer records and the target's ``bump`` (0 when absent)."""

    peers: list[Peer] = dataclasses.field(default_factory=list)
    bump: int = 0


lookup_raw_reply: Codec[LookupReply] = schema(
    LookupReply, field("peers", peers), trailing("bump", uint, default=0)
)


def encode_lookup_raw_reply(records: Sequence[bytes], bump: int = 0) -> bytes:
    """A LOOKUP reply from already-encoded ``peer`` records (JS ``array(raw)`` then ``uint bump``)."""
    state: EncodeState = State(0, 0, bytearray())
    _u_pre(state, len(records))
    for r in records:
        state.end += len(r)
    _u_pre(state, bump)
    state.buffer = bytearray(state.end)
    _u_enc(state, len(records))
    buf = state.buffer
    for r in records:
        s = state.start
        buf[s : s + len(r)] = r
        state.start = s + len(r)
    _u_enc(state, bump)
    return bytes(buf)


@dataclass(frozen=True, slots=True)
class Announce:
    """ANNOUNCE / UNANNOUNCE value. ``bump`` 0 is not written."""

    peer: Peer | None = None
    refresh: bytes | None = None
    signature: bytes | None = None
    bump: int = 0


announce: Codec[Announce] = schema(
    Announce,
    optional("peer", peer),
    optional("refresh", fixed32),
    optional("signature", fixed64),
    optional("bump", uint, truthy=True, default=0),
)


@dataclass(frozen=True, slots=True)
class MutableSignable:
    seq: int
    value: bytes


mutable_signable: Codec[MutableSignable] = schema(MutableSignable, field("seq", uint), field("value", buffer))


@dataclass(frozen=True, slots=True)
class MutablePutRequest:
    public_key: bytes
    seq: int
    value: bytes
    signature: bytes


mutable_put_request: Codec[MutablePutRequest] = schema(
    MutablePutRequest,
    field("public_key", fixed32),
    field("seq", uint),
    field("value", buffer),
    field("signature", fixed64),
)


@dataclass(frozen=True, slots=True)
class MutableGetResponse:
    seq: int
    value: bytes
    signature: bytes


mutable_get_response: Codec[MutableGetResponse] = schema(
    MutableGetResponse, field("seq", uint), field("value", buffer), field("signature", fixed64)
)


@dataclass(frozen=True, slots=True)
class PluginRequest:
    plugin: str
    version: int
    command: int
    value: bytes | None = None


plugin_request: Codec[PluginRequest] = schema(
    PluginRequest,
    field("plugin", string),
    field("version", uint),
    field("command", uint),
    flags(),
    optional("value", buffer),
)

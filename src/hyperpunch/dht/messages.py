"""HyperDHT 6.34 wire messages (JS ``hyperdht/lib/messages.js``) as compact-encoding codecs.

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

from collections.abc import Sequence
from dataclasses import dataclass, field

from hyperpunch.encoding import (
    Address,
    Codec,
    DecodeState,
    EncodeState,
    State,
    array,
    buffer,
    fixed32,
    fixed64,
    ipv4_address,
    ipv6_address,
    string,
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
_u_dec = uint.decode
_b_pre = buffer.preencode
_b_enc = buffer.encode
_b_dec = buffer.decode
_f32_enc = fixed32.encode
_f32_dec = fixed32.decode
_f64_enc = fixed64.encode
_f64_dec = fixed64.decode

ipv4: Codec[Address] = ipv4_address
ipv6: Codec[Address] = ipv6_address
ipv4_array = array(ipv4_address)
ipv6_array = array(ipv6_address)
_ip4_enc = ipv4_address.encode
_ip4_dec = ipv4_address.decode


def _check32(value: bytes, what: str) -> None:
    if len(value) != 32:  # fixed32 would refuse too, but only in encode (after sizing)
        raise TypeError(f"{what} must be 32 bytes, got {len(value)}")


# --- handshake / holepunch (dht-rpc request values) ------------------------------------------


@dataclass(frozen=True, slots=True)
class Handshake:
    """PEER_HANDSHAKE value: ``mode`` is a :class:`~hyperpunch.dht.constants.HandshakeMode`."""

    mode: int
    noise: bytes
    peer_address: Address | None = None
    relay_address: Address | None = None


class _Handshake(Codec[Handshake]):
    """``uint flags(1=peerAddress, 2=relayAddress) · uint mode · buffer noise · [ipv4] · [ipv4]``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: Handshake) -> None:
        state.end += 1  # flags < 4
        _u_pre(state, m.mode)
        _b_pre(state, m.noise)
        if m.peer_address is not None:
            state.end += 6
        if m.relay_address is not None:
            state.end += 6

    def encode(self, state: EncodeState, m: Handshake) -> None:
        _u_enc(state, (1 if m.peer_address is not None else 0) | (2 if m.relay_address is not None else 0))
        _u_enc(state, m.mode)
        _b_enc(state, m.noise)
        if m.peer_address is not None:
            _ip4_enc(state, m.peer_address)
        if m.relay_address is not None:
            _ip4_enc(state, m.relay_address)

    def decode(self, state: DecodeState) -> Handshake:
        flags = _u_dec(state)
        mode = _u_dec(state)
        noise = _b_dec(state)
        peer_address = _ip4_dec(state) if flags & 1 else None
        relay_address = _ip4_dec(state) if flags & 2 else None
        return Handshake(mode, noise, peer_address, relay_address)


@dataclass(frozen=True, slots=True)
class Holepunch:
    """PEER_HOLEPUNCH value: ``payload`` is an encrypted :class:`HolepunchPayload`."""

    mode: int
    id: int
    payload: bytes
    peer_address: Address | None = None


class _Holepunch(Codec[Holepunch]):
    """``uint flags(1=peerAddress) · uint mode · uint id · buffer payload · [ipv4 peerAddress]``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: Holepunch) -> None:
        state.end += 1  # flags < 2
        _u_pre(state, m.mode)
        _u_pre(state, m.id)
        _b_pre(state, m.payload)
        if m.peer_address is not None:
            state.end += 6

    def encode(self, state: EncodeState, m: Holepunch) -> None:
        _u_enc(state, 1 if m.peer_address is not None else 0)
        _u_enc(state, m.mode)
        _u_enc(state, m.id)
        _b_enc(state, m.payload)
        if m.peer_address is not None:
            _ip4_enc(state, m.peer_address)

    def decode(self, state: DecodeState) -> Holepunch:
        flags = _u_dec(state)
        mode = _u_dec(state)
        id_ = _u_dec(state)
        payload = _b_dec(state)
        return Holepunch(mode, id_, payload, _ip4_dec(state) if flags & 1 else None)


# --- noise payload and its parts ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelayInfo:
    """One announce relay of a server: the DHT node and the server's address as that node sees it."""

    relay_address: Address
    peer_address: Address


class _RelayInfo(Codec[RelayInfo]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: RelayInfo) -> None:
        state.end += 12

    def encode(self, state: EncodeState, m: RelayInfo) -> None:
        _ip4_enc(state, m.relay_address)
        _ip4_enc(state, m.peer_address)

    def decode(self, state: DecodeState) -> RelayInfo:
        relay_address = _ip4_dec(state)
        return RelayInfo(relay_address, _ip4_dec(state))


relay_info: Codec[RelayInfo] = _RelayInfo()
relay_info_array = array(relay_info)


@dataclass(frozen=True, slots=True)
class HolepunchInfo:
    """``id`` is the server's holepunch slot; ``relays`` where to send PEER_HOLEPUNCH."""

    id: int
    relays: list[RelayInfo] = field(default_factory=list)


class _HolepunchInfo(Codec[HolepunchInfo]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: HolepunchInfo) -> None:
        _u_pre(state, m.id)
        relay_info_array.preencode(state, m.relays)

    def encode(self, state: EncodeState, m: HolepunchInfo) -> None:
        _u_enc(state, m.id)
        relay_info_array.encode(state, m.relays)

    def decode(self, state: DecodeState) -> HolepunchInfo:
        id_ = _u_dec(state)
        return HolepunchInfo(id_, relay_info_array.decode(state))


holepunch_info: Codec[HolepunchInfo] = _HolepunchInfo()


@dataclass(frozen=True, slots=True)
class UdxInfo:
    """The udx raw stream to connect to: ``id`` (its local stream id) and ``seq``."""

    id: int
    seq: int = 0
    reusable_socket: bool = False
    version: int = 1  # always written as 1


class _UdxInfo(Codec[UdxInfo]):
    """``uint version(=1) · uint features(1=reusableSocket) · uint id · uint seq``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: UdxInfo) -> None:
        state.end += 2
        _u_pre(state, m.id)
        _u_pre(state, m.seq)

    def encode(self, state: EncodeState, m: UdxInfo) -> None:
        _u_enc(state, 1)
        _u_enc(state, 1 if m.reusable_socket else 0)
        _u_enc(state, m.id)
        _u_enc(state, m.seq)

    def decode(self, state: DecodeState) -> UdxInfo:
        version = _u_dec(state)
        features = _u_dec(state)
        id_ = _u_dec(state)
        return UdxInfo(id_, _u_dec(state), (features & 1) != 0, version)


udx_info: Codec[UdxInfo] = _UdxInfo()


@dataclass(frozen=True, slots=True)
class SecretStreamInfo:
    version: int = 1  # always written as 1


class _SecretStreamInfo(Codec[SecretStreamInfo]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: SecretStreamInfo) -> None:
        state.end += 1

    def encode(self, state: EncodeState, m: SecretStreamInfo) -> None:
        _u_enc(state, 1)

    def decode(self, state: DecodeState) -> SecretStreamInfo:
        return SecretStreamInfo(_u_dec(state))


secret_stream_info: Codec[SecretStreamInfo] = _SecretStreamInfo()


@dataclass(frozen=True, slots=True)
class RelayThroughInfo:
    """Blind-relay fallback: the relay's public key and the pairing token."""

    public_key: bytes
    token: bytes
    version: int = 1  # always written as 1 (then flags 0)


class _RelayThroughInfo(Codec[RelayThroughInfo]):
    """``uint version(=1) · uint flags(=0) · fixed32 publicKey · fixed32 token``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: RelayThroughInfo) -> None:
        _check32(m.public_key, "relayThrough public_key")
        _check32(m.token, "relayThrough token")
        state.end += 2 + 64

    def encode(self, state: EncodeState, m: RelayThroughInfo) -> None:
        _u_enc(state, 1)
        _u_enc(state, 0)
        _f32_enc(state, m.public_key)
        _f32_enc(state, m.token)

    def decode(self, state: DecodeState) -> RelayThroughInfo:
        version = _u_dec(state)
        _u_dec(state)  # flags, unused
        public_key = _f32_dec(state)
        return RelayThroughInfo(public_key, _f32_dec(state), version)


relay_through_info: Codec[RelayThroughInfo] = _RelayThroughInfo()


@dataclass(frozen=True, slots=True)
class NoisePayload:
    """The payload inside the two IK handshake messages of a connection attempt."""

    version: int = 1  # always written as 1
    error: int = 0
    firewall: int = 0
    holepunch: HolepunchInfo | None = None
    addresses4: list[Address] = field(default_factory=list)
    addresses6: list[Address] = field(default_factory=list)
    udx: UdxInfo | None = None
    secret_stream: SecretStreamInfo | None = None
    relay_through: RelayThroughInfo | None = None
    relay_addresses: list[Address] | None = None


class _NoisePayload(Codec[NoisePayload]):
    """``uint version · uint flags · uint error · uint firewall`` then the flagged parts in bit order:
    1 holepunch, 2 addresses4, 4 addresses6, 8 udx, 16 secretStream, 32 relayThrough, 64 relayAddresses.
    """

    __slots__ = ()

    def preencode(self, state: EncodeState, m: NoisePayload) -> None:
        state.end += 2  # version + flags (< 128)
        _u_pre(state, m.error)
        _u_pre(state, m.firewall)
        if m.holepunch is not None:
            holepunch_info.preencode(state, m.holepunch)
        if m.addresses4:
            ipv4_array.preencode(state, m.addresses4)
        if m.addresses6:
            ipv6_array.preencode(state, m.addresses6)
        if m.udx is not None:
            udx_info.preencode(state, m.udx)
        if m.secret_stream is not None:
            state.end += 1
        if m.relay_through is not None:
            relay_through_info.preencode(state, m.relay_through)
        if m.relay_addresses is not None:
            ipv4_array.preencode(state, m.relay_addresses)

    def encode(self, state: EncodeState, m: NoisePayload) -> None:
        flags = 0
        if m.holepunch is not None:
            flags |= 1
        if m.addresses4:
            flags |= 2
        if m.addresses6:
            flags |= 4
        if m.udx is not None:
            flags |= 8
        if m.secret_stream is not None:
            flags |= 16
        if m.relay_through is not None:
            flags |= 32
        if m.relay_addresses is not None:
            flags |= 64
        _u_enc(state, 1)
        _u_enc(state, flags)
        _u_enc(state, m.error)
        _u_enc(state, m.firewall)
        if m.holepunch is not None:
            holepunch_info.encode(state, m.holepunch)
        if m.addresses4:
            ipv4_array.encode(state, m.addresses4)
        if m.addresses6:
            ipv6_array.encode(state, m.addresses6)
        if m.udx is not None:
            udx_info.encode(state, m.udx)
        if m.secret_stream is not None:
            _u_enc(state, 1)
        if m.relay_through is not None:
            relay_through_info.encode(state, m.relay_through)
        if m.relay_addresses is not None:
            ipv4_array.encode(state, m.relay_addresses)

    def decode(self, state: DecodeState) -> NoisePayload:
        version = _u_dec(state)
        if version != 1:
            return NoisePayload(version)  # not ours to read: the caller reports the mismatch
        flags = _u_dec(state)
        error = _u_dec(state)
        firewall = _u_dec(state)
        return NoisePayload(
            version,
            error,
            firewall,
            holepunch_info.decode(state) if flags & 1 else None,
            ipv4_array.decode(state) if flags & 2 else [],
            ipv6_array.decode(state) if flags & 4 else [],
            udx_info.decode(state) if flags & 8 else None,
            secret_stream_info.decode(state) if flags & 16 else None,
            relay_through_info.decode(state) if flags & 32 else None,
            ipv4_array.decode(state) if flags & 64 else None,
        )


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


class _HolepunchPayload(Codec[HolepunchPayload]):
    """``uint flags(1=connected, 2=punching, 4=addresses, 8=remoteAddress, 16=token, 32=remoteToken)
    · uint error · uint firewall · uint round · [array(ipv4)] · [ipv4] · [fixed32] · [fixed32]``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: HolepunchPayload) -> None:
        state.end += 1  # flags < 64
        _u_pre(state, m.error)
        _u_pre(state, m.firewall)
        _u_pre(state, m.round)
        if m.addresses is not None:
            ipv4_array.preencode(state, m.addresses)
        if m.remote_address is not None:
            state.end += 6
        if m.token is not None:
            _check32(m.token, "token")
            state.end += 32
        if m.remote_token is not None:
            _check32(m.remote_token, "remote_token")
            state.end += 32

    def encode(self, state: EncodeState, m: HolepunchPayload) -> None:
        flags = (
            (1 if m.connected else 0)
            | (2 if m.punching else 0)
            | (4 if m.addresses is not None else 0)
            | (8 if m.remote_address is not None else 0)
            | (16 if m.token is not None else 0)
            | (32 if m.remote_token is not None else 0)
        )
        _u_enc(state, flags)
        _u_enc(state, m.error)
        _u_enc(state, m.firewall)
        _u_enc(state, m.round)
        if m.addresses is not None:
            ipv4_array.encode(state, m.addresses)
        if m.remote_address is not None:
            _ip4_enc(state, m.remote_address)
        if m.token is not None:
            _f32_enc(state, m.token)
        if m.remote_token is not None:
            _f32_enc(state, m.remote_token)

    def decode(self, state: DecodeState) -> HolepunchPayload:
        flags = _u_dec(state)
        error = _u_dec(state)
        firewall = _u_dec(state)
        round_ = _u_dec(state)
        return HolepunchPayload(
            error,
            firewall,
            round_,
            (flags & 1) != 0,
            (flags & 2) != 0,
            ipv4_array.decode(state) if flags & 4 else None,
            _ip4_dec(state) if flags & 8 else None,
            _f32_dec(state) if flags & 16 else None,
            _f32_dec(state) if flags & 32 else None,
        )


# --- peer records and storage ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peer:
    """An announced peer record: its public key and up to 3 relay (DHT node) addresses."""

    public_key: bytes
    relay_addresses: list[Address] = field(default_factory=list)


class _Peer(Codec[Peer]):
    """``fixed32 publicKey · array(ipv4) relayAddresses``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: Peer) -> None:
        _check32(m.public_key, "peer public_key")
        state.end += 32
        ipv4_array.preencode(state, m.relay_addresses)

    def encode(self, state: EncodeState, m: Peer) -> None:
        _f32_enc(state, m.public_key)
        ipv4_array.encode(state, m.relay_addresses)

    def decode(self, state: DecodeState) -> Peer:
        public_key = _f32_dec(state)
        return Peer(public_key, ipv4_array.decode(state))


peer: Codec[Peer] = _Peer()
peers = array(peer)


@dataclass(frozen=True, slots=True)
class LookupReply:
    """LOOKUP reply value: up to 20 peer records and the target's ``bump`` (0 when absent)."""

    peers: list[Peer] = field(default_factory=list)
    bump: int = 0


class _LookupRawReply(Codec[LookupReply]):
    """``array(peer) · uint bump``; the decoder reads the bump only when bytes are left."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: LookupReply) -> None:
        peers.preencode(state, m.peers)
        _u_pre(state, m.bump)

    def encode(self, state: EncodeState, m: LookupReply) -> None:
        peers.encode(state, m.peers)
        _u_enc(state, m.bump)

    def decode(self, state: DecodeState) -> LookupReply:
        ps = peers.decode(state)
        return LookupReply(ps, _u_dec(state) if state.start < state.end else 0)


lookup_raw_reply: Codec[LookupReply] = _LookupRawReply()


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


class _Announce(Codec[Announce]):
    """``uint flags(1=peer, 2=refresh, 4=signature, 8=bump) · [peer] · [fixed32] · [fixed64] · [uint]``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: Announce) -> None:
        state.end += 1
        if m.peer is not None:
            peer.preencode(state, m.peer)
        if m.refresh is not None:
            _check32(m.refresh, "refresh")
            state.end += 32
        if m.signature is not None:
            if len(m.signature) != 64:
                raise TypeError(f"signature must be 64 bytes, got {len(m.signature)}")
            state.end += 64
        if m.bump:
            _u_pre(state, m.bump)

    def encode(self, state: EncodeState, m: Announce) -> None:
        flags = (
            (1 if m.peer is not None else 0)
            | (2 if m.refresh is not None else 0)
            | (4 if m.signature is not None else 0)
            | (8 if m.bump else 0)
        )
        _u_enc(state, flags)
        if m.peer is not None:
            peer.encode(state, m.peer)
        if m.refresh is not None:
            _f32_enc(state, m.refresh)
        if m.signature is not None:
            _f64_enc(state, m.signature)
        if m.bump:
            _u_enc(state, m.bump)

    def decode(self, state: DecodeState) -> Announce:
        flags = _u_dec(state)
        p = peer.decode(state) if flags & 1 else None
        refresh = _f32_dec(state) if flags & 2 else None
        signature = _f64_dec(state) if flags & 4 else None
        return Announce(p, refresh, signature, _u_dec(state) if flags & 8 else 0)


announce: Codec[Announce] = _Announce()


@dataclass(frozen=True, slots=True)
class MutableSignable:
    seq: int
    value: bytes


class _MutableSignable(Codec[MutableSignable]):
    """``uint seq · buffer value`` (hashed, then signed, by mutable put)."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: MutableSignable) -> None:
        _u_pre(state, m.seq)
        _b_pre(state, m.value)

    def encode(self, state: EncodeState, m: MutableSignable) -> None:
        _u_enc(state, m.seq)
        _b_enc(state, m.value)

    def decode(self, state: DecodeState) -> MutableSignable:
        seq = _u_dec(state)
        return MutableSignable(seq, _b_dec(state))


mutable_signable: Codec[MutableSignable] = _MutableSignable()


@dataclass(frozen=True, slots=True)
class MutablePutRequest:
    public_key: bytes
    seq: int
    value: bytes
    signature: bytes


class _MutablePutRequest(Codec[MutablePutRequest]):
    """``fixed32 publicKey · uint seq · buffer value · fixed64 signature``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: MutablePutRequest) -> None:
        fixed32.preencode(state, m.public_key)
        _u_pre(state, m.seq)
        _b_pre(state, m.value)
        fixed64.preencode(state, m.signature)

    def encode(self, state: EncodeState, m: MutablePutRequest) -> None:
        _f32_enc(state, m.public_key)
        _u_enc(state, m.seq)
        _b_enc(state, m.value)
        _f64_enc(state, m.signature)

    def decode(self, state: DecodeState) -> MutablePutRequest:
        public_key = _f32_dec(state)
        seq = _u_dec(state)
        value = _b_dec(state)
        return MutablePutRequest(public_key, seq, value, _f64_dec(state))


mutable_put_request: Codec[MutablePutRequest] = _MutablePutRequest()


@dataclass(frozen=True, slots=True)
class MutableGetResponse:
    seq: int
    value: bytes
    signature: bytes


class _MutableGetResponse(Codec[MutableGetResponse]):
    """``uint seq · buffer value · fixed64 signature``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: MutableGetResponse) -> None:
        _u_pre(state, m.seq)
        _b_pre(state, m.value)
        fixed64.preencode(state, m.signature)

    def encode(self, state: EncodeState, m: MutableGetResponse) -> None:
        _u_enc(state, m.seq)
        _b_enc(state, m.value)
        _f64_enc(state, m.signature)

    def decode(self, state: DecodeState) -> MutableGetResponse:
        seq = _u_dec(state)
        value = _b_dec(state)
        return MutableGetResponse(seq, value, _f64_dec(state))


mutable_get_response: Codec[MutableGetResponse] = _MutableGetResponse()


@dataclass(frozen=True, slots=True)
class PluginRequest:
    plugin: str
    version: int
    command: int
    value: bytes | None = None


class _PluginRequest(Codec[PluginRequest]):
    """``string plugin · uint version · uint command · uint flags(1=value) · [buffer value]``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: PluginRequest) -> None:
        string.preencode(state, m.plugin)
        _u_pre(state, m.version)
        _u_pre(state, m.command)
        state.end += 1
        if m.value is not None:
            _b_pre(state, m.value)

    def encode(self, state: EncodeState, m: PluginRequest) -> None:
        string.encode(state, m.plugin)
        _u_enc(state, m.version)
        _u_enc(state, m.command)
        _u_enc(state, 1 if m.value is not None else 0)
        if m.value is not None:
            _b_enc(state, m.value)

    def decode(self, state: DecodeState) -> PluginRequest:
        plugin = string.decode(state)
        version = _u_dec(state)
        command = _u_dec(state)
        flags = _u_dec(state)
        return PluginRequest(plugin, version, command, _b_dec(state) if flags & 1 else None)


handshake: Codec[Handshake] = _Handshake()
holepunch: Codec[Holepunch] = _Holepunch()
noise_payload: Codec[NoisePayload] = _NoisePayload()
holepunch_payload: Codec[HolepunchPayload] = _HolepunchPayload()
plugin_request: Codec[PluginRequest] = _PluginRequest()

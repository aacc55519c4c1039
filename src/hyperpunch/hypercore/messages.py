"""Hypercore 11 replication wire messages (JS ``hypercore/lib/messages.js`` ``wire.*``) as
compact-encoding codecs; tree nodes, manifests and multisig containers come from
:mod:`hyperpunch.hypercore.structs` and are re-exported here.

Invariants: every codec writes the bytes JS writes for the same value and decodes what JS decodes
(including JS's optional trailing flags on ``no_data``/``want``/``unwant`` and the implicit
``length == 1`` form of ``range``); decoders raise only :class:`DecodeError`. Values are frozen
dataclasses with snake_case fields (``from`` is ``from_``); absent optional parts are ``None``.
Codecs are module-level singletons named after JS (``wire.request`` is ``request``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperpunch.crypto import TreeNode
from hyperpunch.encoding import (
    Codec,
    DecodeState,
    EncodeState,
    buffer,
    fixed32,
    optional_buffer,
    raw,
    string,
    uint,
    uint32array,
)
from hyperpunch.encoding import decode as _decode
from hyperpunch.encoding import encode as _encode
from hyperpunch.hypercore.structs import (
    Manifest,
    MultisigInput,
    MultisigInputV0,
    MultiSignature,
    MultiSignatureV0,
    PatchV0,
    Prologue,
    Signer,
    manifest,
    multi_signature,
    multi_signature_v0,
    node,
    node_array,
)

__all__ = [
    "PROTOCOL",
    "WIRE_MESSAGES",
    "Bitfield",
    "Cancel",
    "Data",
    "DataBlock",
    "DataHash",
    "DataSeek",
    "DataUpgrade",
    "Extension",
    "Handshake",
    "Manifest",
    "MultiSignature",
    "MultiSignatureV0",
    "MultisigInput",
    "MultisigInputV0",
    "NoData",
    "PatchV0",
    "Prologue",
    "Proof",
    "Range",
    "ReorgHint",
    "Request",
    "RequestBlock",
    "RequestSeek",
    "RequestUpgrade",
    "Signer",
    "Sync",
    "Unwant",
    "Want",
    "bitfield",
    "cancel",
    "data",
    "decode",
    "encode",
    "extension",
    "handshake",
    "manifest",
    "multi_signature",
    "multi_signature_v0",
    "no_data",
    "node",
    "node_array",
    "range_",
    "reorg_hint",
    "request",
    "sync",
    "unwant",
    "want",
]

encode = _encode
decode = _decode

_u_pre = uint.preencode
_u_enc = uint.encode
_u_dec = uint.decode
_f32_pre = fixed32.preencode
_f32_enc = fixed32.encode
_f32_dec = fixed32.decode


# --- wire: handshake, sync -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handshake:
    capability: bytes
    seeks: bool = False


class _Handshake(Codec[Handshake]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Handshake) -> None:
        state.end += 33

    def encode(self, state: EncodeState, m: Handshake) -> None:
        _u_enc(state, 1 if m.seeks else 0)
        _f32_enc(state, m.capability)

    def decode(self, state: DecodeState) -> Handshake:
        flags = _u_dec(state)
        return Handshake(capability=_f32_dec(state), seeks=bool(flags & 1))


handshake = _Handshake()


@dataclass(frozen=True, slots=True)
class Sync:
    fork: int
    length: int
    remote_length: int
    can_upgrade: bool = False
    uploading: bool = False
    downloading: bool = False
    has_manifest: bool = False
    allow_push: bool = False


class _Sync(Codec[Sync]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Sync) -> None:
        state.end += 1
        _u_pre(state, m.fork)
        _u_pre(state, m.length)
        _u_pre(state, m.remote_length)

    def encode(self, state: EncodeState, m: Sync) -> None:
        _u_enc(
            state,
            (1 if m.can_upgrade else 0)
            | (2 if m.uploading else 0)
            | (4 if m.downloading else 0)
            | (8 if m.has_manifest else 0)
            | (16 if m.allow_push else 0),
        )
        _u_enc(state, m.fork)
        _u_enc(state, m.length)
        _u_enc(state, m.remote_length)

    def decode(self, state: DecodeState) -> Sync:
        f = _u_dec(state)
        return Sync(
            _u_dec(state),
            _u_dec(state),
            _u_dec(state),
            can_upgrade=bool(f & 1),
            uploading=bool(f & 2),
            downloading=bool(f & 4),
            has_manifest=bool(f & 8),
            allow_push=bool(f & 16),
        )


sync = _Sync()


# --- wire: request / cancel ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestBlock:
    """A block (``index`` is the block number) or hash (``index`` is a tree index) request;
    ``nodes`` is how many proof nodes the requester already has (JS ``nodes``)."""

    index: int
    nodes: int


@dataclass(frozen=True, slots=True)
class RequestSeek:
    bytes: int
    padding: int = 0


@dataclass(frozen=True, slots=True)
class RequestUpgrade:
    start: int
    length: int


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    fork: int
    block: RequestBlock | None = None
    hash: RequestBlock | None = None
    seek: RequestSeek | None = None
    upgrade: RequestUpgrade | None = None
    manifest: bool = False
    priority: int = 0


def _pair_pre(state: EncodeState, a: int, b: int) -> None:
    _u_pre(state, a)
    _u_pre(state, b)


def _pair_enc(state: EncodeState, a: int, b: int) -> None:
    _u_enc(state, a)
    _u_enc(state, b)


class _Request(Codec[Request]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Request) -> None:
        state.end += 1
        _u_pre(state, m.id)
        _u_pre(state, m.fork)
        if m.block is not None:
            _pair_pre(state, m.block.index, m.block.nodes)
        if m.hash is not None:
            _pair_pre(state, m.hash.index, m.hash.nodes)
        if m.seek is not None:
            _pair_pre(state, m.seek.bytes, m.seek.padding)
        if m.upgrade is not None:
            _pair_pre(state, m.upgrade.start, m.upgrade.length)
        if m.priority:
            _u_pre(state, m.priority)

    def encode(self, state: EncodeState, m: Request) -> None:
        _u_enc(
            state,
            (1 if m.block is not None else 0)
            | (2 if m.hash is not None else 0)
            | (4 if m.seek is not None else 0)
            | (8 if m.upgrade is not None else 0)
            | (16 if m.manifest else 0)
            | (32 if m.priority else 0),
        )
        _u_enc(state, m.id)
        _u_enc(state, m.fork)
        if m.block is not None:
            _pair_enc(state, m.block.index, m.block.nodes)
        if m.hash is not None:
            _pair_enc(state, m.hash.index, m.hash.nodes)
        if m.seek is not None:
            _pair_enc(state, m.seek.bytes, m.seek.padding)
        if m.upgrade is not None:
            _pair_enc(state, m.upgrade.start, m.upgrade.length)
        if m.priority:
            _u_enc(state, m.priority)

    def decode(self, state: DecodeState) -> Request:
        f = _u_dec(state)
        rid = _u_dec(state)
        fork = _u_dec(state)
        block = RequestBlock(_u_dec(state), _u_dec(state)) if f & 1 else None
        hash_ = RequestBlock(_u_dec(state), _u_dec(state)) if f & 2 else None
        seek = RequestSeek(_u_dec(state), _u_dec(state)) if f & 4 else None
        upgrade = RequestUpgrade(_u_dec(state), _u_dec(state)) if f & 8 else None
        priority = _u_dec(state) if f & 32 else 0
        return Request(rid, fork, block, hash_, seek, upgrade, bool(f & 16), priority)


request = _Request()


@dataclass(frozen=True, slots=True)
class Cancel:
    request: int


class _Cancel(Codec[Cancel]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Cancel) -> None:
        _u_pre(state, m.request)

    def encode(self, state: EncodeState, m: Cancel) -> None:
        _u_enc(state, m.request)

    def decode(self, state: DecodeState) -> Cancel:
        return Cancel(_u_dec(state))


cancel = _Cancel()


# --- wire: data (proofs) -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataBlock:
    """A block proof: the block ``value`` and the ``nodes`` up to a root the receiver trusts."""

    index: int
    value: bytes
    nodes: list[TreeNode]


@dataclass(frozen=True, slots=True)
class DataHash:
    index: int
    nodes: list[TreeNode]


@dataclass(frozen=True, slots=True)
class DataSeek:
    bytes: int
    nodes: list[TreeNode]


@dataclass(frozen=True, slots=True)
class DataUpgrade:
    start: int
    length: int
    nodes: list[TreeNode]
    additional_nodes: list[TreeNode]
    signature: bytes | None


@dataclass(frozen=True, slots=True)
class Proof:
    """A Merkle proof (JS ``TreeProof.settle()`` result): what a ``data`` message carries."""

    fork: int
    block: DataBlock | None = None
    hash: DataHash | None = None
    seek: DataSeek | None = None
    upgrade: DataUpgrade | None = None
    manifest: Manifest | None = None


@dataclass(frozen=True, slots=True)
class Data:
    request: int
    fork: int
    block: DataBlock | None = None
    hash: DataHash | None = None
    seek: DataSeek | None = None
    upgrade: DataUpgrade | None = None
    manifest: Manifest | None = None

    @classmethod
    def from_proof(cls, request: int, proof: Proof) -> Data:
        return cls(request, proof.fork, proof.block, proof.hash, proof.seek, proof.upgrade, proof.manifest)

    def proof(self) -> Proof:
        return Proof(self.fork, self.block, self.hash, self.seek, self.upgrade, self.manifest)


class _Data(Codec[Data]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Data) -> None:
        state.end += 1
        _u_pre(state, m.request)
        _u_pre(state, m.fork)
        if m.block is not None:
            _u_pre(state, m.block.index)
            buffer.preencode(state, m.block.value)
            node_array.preencode(state, m.block.nodes)
        if m.hash is not None:
            _u_pre(state, m.hash.index)
            node_array.preencode(state, m.hash.nodes)
        if m.seek is not None:
            _u_pre(state, m.seek.bytes)
            node_array.preencode(state, m.seek.nodes)
        if (u := m.upgrade) is not None:
            _u_pre(state, u.start)
            _u_pre(state, u.length)
            node_array.preencode(state, u.nodes)
            node_array.preencode(state, u.additional_nodes)
            optional_buffer.preencode(state, u.signature)
        if m.manifest is not None:
            manifest.preencode(state, m.manifest)

    def encode(self, state: EncodeState, m: Data) -> None:
        _u_enc(
            state,
            (1 if m.block is not None else 0)
            | (2 if m.hash is not None else 0)
            | (4 if m.seek is not None else 0)
            | (8 if m.upgrade is not None else 0)
            | (16 if m.manifest is not None else 0),
        )
        _u_enc(state, m.request)
        _u_enc(state, m.fork)
        if m.block is not None:
            _u_enc(state, m.block.index)
            buffer.encode(state, m.block.value)
            node_array.encode(state, m.block.nodes)
        if m.hash is not None:
            _u_enc(state, m.hash.index)
            node_array.encode(state, m.hash.nodes)
        if m.seek is not None:
            _u_enc(state, m.seek.bytes)
            node_array.encode(state, m.seek.nodes)
        if (u := m.upgrade) is not None:
            _u_enc(state, u.start)
            _u_enc(state, u.length)
            node_array.encode(state, u.nodes)
            node_array.encode(state, u.additional_nodes)
            optional_buffer.encode(state, u.signature)
        if m.manifest is not None:
            manifest.encode(state, m.manifest)

    def decode(self, state: DecodeState) -> Data:
        f = _u_dec(state)
        rid = _u_dec(state)
        fork = _u_dec(state)
        block = hash_ = seek = upgrade = None
        if f & 1:
            block = DataBlock(_u_dec(state), buffer.decode(state), node_array.decode(state))
        if f & 2:
            hash_ = DataHash(_u_dec(state), node_array.decode(state))
        if f & 4:
            seek = DataSeek(_u_dec(state), node_array.decode(state))
        if f & 8:
            upgrade = DataUpgrade(
                _u_dec(state),
                _u_dec(state),
                node_array.decode(state),
                node_array.decode(state),
                optional_buffer.decode(state),
            )
        man = manifest.decode(state) if f & 16 else None
        return Data(rid, fork, block, hash_, seek, upgrade, man)


data = _Data()


@dataclass(frozen=True, slots=True)
class NoData:
    request: int
    reason: int = 0


class _NoData(Codec[NoData]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: NoData) -> None:
        _u_pre(state, m.request)
        if m.reason:
            state.end += 1
            _u_pre(state, m.reason)
        else:
            state.end += 1

    def encode(self, state: EncodeState, m: NoData) -> None:
        _u_enc(state, m.request)
        _u_enc(state, 1 if m.reason else 0)
        if m.reason:
            _u_enc(state, m.reason)

    def decode(self, state: DecodeState) -> NoData:
        rid = _u_dec(state)
        flags = _u_dec(state) if state.start < state.end else 0
        return NoData(rid, _u_dec(state) if flags & 1 else 0)


no_data = _NoData()


# --- wire: want / unwant / range / bitfield --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Want:
    start: int
    length: int
    any: bool = False


@dataclass(frozen=True, slots=True)
class Unwant:
    start: int
    length: int
    any: bool = False


class _Want(Codec[Want]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Want) -> None:
        _u_pre(state, m.start)
        _u_pre(state, m.length)
        if m.any:
            state.end += 1

    def encode(self, state: EncodeState, m: Want) -> None:
        _u_enc(state, m.start)
        _u_enc(state, m.length)
        if m.any:
            _u_enc(state, 1)

    def decode(self, state: DecodeState) -> Want:
        start = _u_dec(state)
        length = _u_dec(state)
        flags = _u_dec(state) if state.start < state.end else 0
        return Want(start, length, bool(flags & 1))


class _Unwant(Codec[Unwant]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Unwant) -> None:
        _want.preencode(state, Want(m.start, m.length, m.any))

    def encode(self, state: EncodeState, m: Unwant) -> None:
        _want.encode(state, Want(m.start, m.length, m.any))

    def decode(self, state: DecodeState) -> Unwant:
        w = _want.decode(state)
        return Unwant(w.start, w.length, w.any)


_want = _Want()
want = _want
unwant = _Unwant()


@dataclass(frozen=True, slots=True)
class Range:
    start: int
    length: int
    drop: bool = False


class _Range(Codec[Range]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Range) -> None:
        state.end += 1
        _u_pre(state, m.start)
        if m.length != 1:
            _u_pre(state, m.length)

    def encode(self, state: EncodeState, m: Range) -> None:
        _u_enc(state, (1 if m.drop else 0) | (2 if m.length == 1 else 0))
        _u_enc(state, m.start)
        if m.length != 1:
            _u_enc(state, m.length)

    def decode(self, state: DecodeState) -> Range:
        f = _u_dec(state)
        start = _u_dec(state)
        length = 1 if f & 2 else _u_dec(state)
        return Range(start, length, bool(f & 1))


range_ = _Range()


@dataclass(frozen=True, slots=True)
class Bitfield:
    """A bitfield message: ``bitfield`` is a list of uint32 words starting at block ``start``."""

    start: int
    bitfield: list[int]


class _BitfieldMsg(Codec[Bitfield]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Bitfield) -> None:
        _u_pre(state, m.start)
        uint32array.preencode(state, m.bitfield)

    def encode(self, state: EncodeState, m: Bitfield) -> None:
        _u_enc(state, m.start)
        uint32array.encode(state, m.bitfield)

    def decode(self, state: DecodeState) -> Bitfield:
        return Bitfield(_u_dec(state), uint32array.decode(state))


bitfield = _BitfieldMsg()


@dataclass(frozen=True, slots=True)
class ReorgHint:
    from_: int
    to: int
    ancestors: int


class _ReorgHint(Codec[ReorgHint]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: ReorgHint) -> None:
        _u_pre(state, m.from_)
        _u_pre(state, m.to)
        _u_pre(state, m.ancestors)

    def encode(self, state: EncodeState, m: ReorgHint) -> None:
        _u_enc(state, m.from_)
        _u_enc(state, m.to)
        _u_enc(state, m.ancestors)

    def decode(self, state: DecodeState) -> ReorgHint:
        return ReorgHint(_u_dec(state), _u_dec(state), _u_dec(state))


reorg_hint = _ReorgHint()


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    message: bytes


class _Extension(Codec[Extension]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Extension) -> None:
        string.preencode(state, m.name)
        raw.preencode(state, m.message)

    def encode(self, state: EncodeState, m: Extension) -> None:
        string.encode(state, m.name)
        raw.encode(state, m.message)

    def decode(self, state: DecodeState) -> Extension:
        return Extension(string.decode(state), raw.decode(state))


extension = _Extension()


# The replication channel ("hypercore/alpha", id = discovery key, handshake = ``handshake``) carries
# these messages in this order of protomux message type ids (JS replicator.js).
PROTOCOL = "hypercore/alpha"
WIRE_MESSAGES: tuple[Codec[Any], ...] = (
    sync,
    request,
    cancel,
    data,
    no_data,
    want,
    unwant,
    bitfield,
    range_,
    extension,
)

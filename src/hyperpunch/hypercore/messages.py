"""Hypercore 11 replication wire messages (JS ``hypercore/lib/messages.js`` ``wire.*``) as
compact-encoding codecs; tree nodes, manifests and multisig containers come from
:mod:`hyperpunch.hypercore.structs` and are re-exported here.

Invariants: every codec writes the bytes JS writes for the same value and decodes what JS decodes
(including JS's optional trailing flags on ``no_data``/``want``/``unwant`` and the implicit
``length == 1`` form of ``range``); decoders raise only :class:`DecodeError`. Values are frozen
dataclasses with snake_case fields (``from`` is ``from_``); absent optional parts are ``None``.
Codecs are module-level singletons named after JS (``wire.request`` is ``request``, ...), declared
with :func:`~hyperpunch.encoding.schema`; only ``range_`` is hand-written.
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
    field,
    fixed32,
    flag,
    flags,
    optional,
    optional_buffer,
    raw,
    schema,
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


# --- wire: handshake, sync -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handshake:
    capability: bytes
    seeks: bool = False


handshake = schema(Handshake, flag("seeks"), field("capability", fixed32))


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


sync = schema(
    Sync,
    field("fork", uint),
    field("length", uint),
    field("remote_length", uint),
    flag("can_upgrade"),
    flag("uploading"),
    flag("downloading"),
    flag("has_manifest"),
    flag("allow_push"),
)


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


_request_block = schema(RequestBlock, field("index", uint), field("nodes", uint))
request = schema(
    Request,
    field("id", uint),
    field("fork", uint),
    optional("block", _request_block),
    optional("hash", _request_block),
    optional("seek", schema(RequestSeek, field("bytes", uint), field("padding", uint))),
    optional("upgrade", schema(RequestUpgrade, field("start", uint), field("length", uint))),
    flag("manifest"),
    optional("priority", uint, truthy=True, default=0),
)


@dataclass(frozen=True, slots=True)
class Cancel:
    request: int


cancel = schema(Cancel, field("request", uint))


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


data = schema(
    Data,
    field("request", uint),
    field("fork", uint),
    optional(
        "block", schema(DataBlock, field("index", uint), field("value", buffer), field("nodes", node_array))
    ),
    optional("hash", schema(DataHash, field("index", uint), field("nodes", node_array))),
    optional("seek", schema(DataSeek, field("bytes", uint), field("nodes", node_array))),
    optional(
        "upgrade",
        schema(
            DataUpgrade,
            field("start", uint),
            field("length", uint),
            field("nodes", node_array),
            field("additional_nodes", node_array),
            field("signature", optional_buffer),
        ),
    ),
    optional("manifest", manifest),
)


@dataclass(frozen=True, slots=True)
class NoData:
    request: int
    reason: int = 0


no_data = schema(
    NoData, field("request", uint), flags(trailing=True), optional("reason", uint, truthy=True, default=0)
)


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


want = schema(
    Want, field("start", uint), field("length", uint), flags(trailing=True, omit_zero=True), flag("any")
)
unwant = schema(
    Unwant, field("start", uint), field("length", uint), flags(trailing=True, omit_zero=True), flag("any")
)


@dataclass(frozen=True, slots=True)
class Range:
    start: int
    length: int
    drop: bool = False


class _Range(Codec[Range]):
    """Hand-written: its flag bit 2 announces the *absence* of ``length`` (then 1)."""

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


bitfield = schema(Bitfield, field("start", uint), field("bitfield", uint32array))


@dataclass(frozen=True, slots=True)
class ReorgHint:
    from_: int
    to: int
    ancestors: int


reorg_hint = schema(ReorgHint, field("from_", uint), field("to", uint), field("ancestors", uint))


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    message: bytes


extension = schema(Extension, field("name", string), field("message", raw))


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

"""Hypercore 11 tree nodes, manifests and multisig signature containers (JS ``lib/messages.js``:
``node``, ``manifest`` with its v0 forms, ``multiSignature`` / ``multiSignaturev0``).

The codecs are :func:`~hyperpunch.encoding.schema` declarations; only ``manifest`` is wrapped by
hand (its version 0 is a union of legacy forms).

Invariants: the codecs write the bytes JS writes and decode what JS decodes; decoders raise only
:class:`DecodeError` (unknown hash / signature / manifest version included). Values are frozen
dataclasses; :mod:`hyperpunch.hypercore.messages` re-exports everything here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hyperpunch.crypto import TreeNode
from hyperpunch.encoding import (
    Codec,
    DecodeError,
    DecodeState,
    EncodeState,
    Schema,
    array,
    buffer,
    enum,
    field,
    fixed32,
    fixed64,
    flag,
    flags,
    optional,
    schema,
    uint,
)

__all__ = [
    "MANIFEST_LINKED",
    "MANIFEST_PATCH",
    "MANIFEST_PROLOGUE",
    "MANIFEST_USER_DATA",
    "Manifest",
    "MultiSignature",
    "MultiSignatureV0",
    "MultisigInput",
    "MultisigInputV0",
    "PatchV0",
    "Prologue",
    "Signer",
    "manifest",
    "multi_signature",
    "multi_signature_v0",
    "node",
    "node_array",
]

_u_pre = uint.preencode
_u_enc = uint.encode
_u_dec = uint.decode
_f32_enc = fixed32.encode
_f32_dec = fixed32.decode


# --- tree nodes --------------------------------------------------------------------------------


node: Schema[TreeNode] = schema(TreeNode, field("index", uint), field("size", uint), field("hash", fixed32))
node_array = array(node)
_uint_array = array(uint)
_fixed32_array = array(fixed32)


# --- manifests ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signer:
    """One declared signer: ``signature`` is always ``"ed25519"`` in Hypercore 11."""

    public_key: bytes
    namespace: bytes
    signature: str = "ed25519"


@dataclass(frozen=True, slots=True)
class Prologue:
    """A fixed start of the core: the tree ``hash`` at ``length``."""

    hash: bytes
    length: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """A core's manifest (what the core key is the hash of)."""

    version: int
    quorum: int
    signers: list[Signer]
    allow_patch: bool = False
    prologue: Prologue | None = None
    linked: list[bytes] | None = None
    user_data: bytes | None = None
    hash: str = "blake2b"


_hashes = enum("hash", ("blake2b",))
_signatures = enum("signature", ("ed25519",))


_signer = schema(
    Signer, field("signature", _signatures), field("namespace", fixed32), field("public_key", fixed32)
)
_signer_array = array(_signer)
_prologue = schema(Prologue, field("hash", fixed32), field("length", uint))

MANIFEST_PATCH = 0b0001
MANIFEST_PROLOGUE = 0b0010
MANIFEST_LINKED = 0b0100
MANIFEST_USER_DATA = 0b1000


_manifest_v1 = schema(  # versions 1..3
    Manifest,
    field("version", uint),
    flags(),
    field("hash", _hashes),
    field("quorum", uint),
    field("signers", _signer_array),
    flag("allow_patch", bit=0),  # MANIFEST_PATCH
    optional("prologue", _prologue, bit=1),  # MANIFEST_PROLOGUE
    optional("linked", _fixed32_array, bit=2),  # MANIFEST_LINKED
    optional("user_data", buffer, bit=3),  # MANIFEST_USER_DATA
)


class _Manifest(Codec[Manifest]):
    """Hand-written around the v1..3 schema because version 0 is a union of legacy compact forms
    (prologue-only, a single signer, or a signer list) chosen by a type number."""

    __slots__ = ()

    @staticmethod
    def _v0_single(m: Manifest) -> bool:
        return m.quorum == 1 and len(m.signers) == 1 and not m.allow_patch

    def preencode(self, state: EncodeState, m: Manifest) -> None:
        if m.version != 0:
            _manifest_v1.preencode(state, m)
            return
        state.end += 3  # version, hash, type
        if m.prologue is not None and not m.signers:
            state.end += 32
        elif self._v0_single(m):
            state.end += 65
        else:
            state.end += 1  # flags
            _u_pre(state, m.quorum)
            _signer_array.preencode(state, m.signers)

    def encode(self, state: EncodeState, m: Manifest) -> None:
        if m.version != 0:
            _manifest_v1.encode(state, m)
            return
        _u_enc(state, 0)
        _hashes.encode(state, m.hash)
        if m.prologue is not None and not m.signers:
            _u_enc(state, 0)
            _f32_enc(state, m.prologue.hash)
        elif self._v0_single(m):
            _u_enc(state, 1)
            _signer.encode(state, m.signers[0])
        else:
            _u_enc(state, 2)
            _u_enc(state, 1 if m.allow_patch else 0)
            _u_enc(state, m.quorum)
            _signer_array.encode(state, m.signers)

    def decode(self, state: DecodeState) -> Manifest:
        start = state.start
        version = _u_dec(state)
        if version > 3:
            raise DecodeError(f"Unknown version: {version}")
        if version != 0:
            state.start = start
            return _manifest_v1.decode(state)
        h = _hashes.decode(state)
        kind = _u_dec(state)
        if kind > 2:
            raise DecodeError(f"Unknown type: {kind}")
        if kind == 0:
            return Manifest(0, 0, [], prologue=Prologue(_f32_dec(state), 0), hash=h)
        if kind == 1:
            return Manifest(0, 1, [_signer.decode(state)], hash=h)
        flags_ = _u_dec(state)
        quorum = _u_dec(state)
        return Manifest(0, quorum, _signer_array.decode(state), allow_patch=bool(flags_ & 1), hash=h)


manifest = _Manifest()


# --- multisig signatures -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MultisigInput:
    signer: int
    signature: bytes
    patch: int = 0


@dataclass(frozen=True, slots=True)
class MultiSignature:
    """The v1+ signature container: one input per signer plus the shared patch nodes."""

    proofs: list[MultisigInput]
    patch: list[TreeNode] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PatchV0:
    start: int
    length: int
    nodes: list[int]


@dataclass(frozen=True, slots=True)
class MultisigInputV0:
    signer: int
    signature: bytes
    patch: PatchV0 | None = None


@dataclass(frozen=True, slots=True)
class MultiSignatureV0:
    proofs: list[MultisigInputV0]
    patch: list[TreeNode] = dataclasses.field(default_factory=list)


_multisig_input = schema(
    MultisigInput, field("signer", uint), field("signature", fixed64), field("patch", uint)
)
_patch_v0 = schema(PatchV0, field("start", uint), field("length", uint), field("nodes", _uint_array))
_multisig_input_v0 = schema(
    MultisigInputV0, field("signer", uint), field("signature", fixed64), optional("patch", _patch_v0)
)
_multisig_inputs = array(_multisig_input)
_multisig_inputs_v0 = array(_multisig_input_v0)


multi_signature: Schema[MultiSignature] = schema(
    MultiSignature, field("proofs", _multisig_inputs), field("patch", node_array)
)
multi_signature_v0: Schema[MultiSignatureV0] = schema(
    MultiSignatureV0, field("proofs", _multisig_inputs_v0), field("patch", node_array)
)

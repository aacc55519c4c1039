"""Hypercore 11 tree nodes, manifests and multisig signature containers (JS ``lib/messages.js``:
``node``, ``manifest`` with its v0 forms, ``multiSignature`` / ``multiSignaturev0``).

Invariants: the codecs write the bytes JS writes and decode what JS decodes; decoders raise only
:class:`DecodeError` (unknown hash / signature / manifest version included). Values are frozen
dataclasses; :mod:`hyperpunch.hypercore.messages` re-exports everything here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperpunch.crypto import TreeNode
from hyperpunch.encoding import (
    Codec,
    DecodeError,
    DecodeState,
    EncodeError,
    EncodeState,
    array,
    buffer,
    fixed32,
    fixed64,
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


class _Node(Codec[TreeNode]):
    """``uint index, uint size, fixed32 hash`` (JS ``node`` / ``compactNode``)."""

    __slots__ = ()

    def preencode(self, state: EncodeState, n: TreeNode) -> None:
        _u_pre(state, n.index)
        _u_pre(state, n.size)
        state.end += 32

    def encode(self, state: EncodeState, n: TreeNode) -> None:
        _u_enc(state, n.index)
        _u_enc(state, n.size)
        _f32_enc(state, n.hash)

    def decode(self, state: DecodeState) -> TreeNode:
        return TreeNode(_u_dec(state), _u_dec(state), _f32_dec(state))


node = _Node()
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


class _SmallEnum(Codec[str]):
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value

    def preencode(self, state: EncodeState, m: str) -> None:
        state.end += 1

    def encode(self, state: EncodeState, m: str) -> None:
        if m != self.value:
            raise EncodeError(f"Unknown {self.name}: {m}")
        _u_enc(state, 0)

    def decode(self, state: DecodeState) -> str:
        n = _u_dec(state)
        if n != 0:
            raise DecodeError(f"Unknown {self.name} id: {n}")
        return self.value


_hashes = _SmallEnum("hash", "blake2b")
_signatures = _SmallEnum("signature", "ed25519")


class _Signer(Codec[Signer]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Signer) -> None:
        state.end += 65

    def encode(self, state: EncodeState, m: Signer) -> None:
        _signatures.encode(state, m.signature)
        _f32_enc(state, m.namespace)
        _f32_enc(state, m.public_key)

    def decode(self, state: DecodeState) -> Signer:
        sig = _signatures.decode(state)
        ns = _f32_dec(state)
        return Signer(public_key=_f32_dec(state), namespace=ns, signature=sig)


_signer = _Signer()
_signer_array = array(_signer)

MANIFEST_PATCH = 0b0001
MANIFEST_PROLOGUE = 0b0010
MANIFEST_LINKED = 0b0100
MANIFEST_USER_DATA = 0b1000


class _Manifest(Codec[Manifest]):
    """Versions 0 (legacy compact forms) and 1..3 (flags, hash, quorum, signers, extras)."""

    __slots__ = ()

    @staticmethod
    def _v0_single(m: Manifest) -> bool:
        return m.quorum == 1 and len(m.signers) == 1 and not m.allow_patch

    def preencode(self, state: EncodeState, m: Manifest) -> None:
        state.end += 1  # version
        if m.version == 0:
            state.end += 2  # hash, type
            if m.prologue is not None and not m.signers:
                state.end += 32
                return
            if self._v0_single(m):
                state.end += 65
            else:
                state.end += 1  # flags
                _u_pre(state, m.quorum)
                _signer_array.preencode(state, m.signers)
            return
        state.end += 2  # flags, hash
        _u_pre(state, m.quorum)
        _signer_array.preencode(state, m.signers)
        if m.prologue is not None:
            state.end += 32
            _u_pre(state, m.prologue.length)
        if m.linked is not None:
            _fixed32_array.preencode(state, m.linked)
        if m.user_data is not None:
            buffer.preencode(state, m.user_data)

    def encode(self, state: EncodeState, m: Manifest) -> None:
        _u_enc(state, m.version)
        if m.version == 0:
            _hashes.encode(state, m.hash)
            if m.prologue is not None and not m.signers:
                _u_enc(state, 0)
                _f32_enc(state, m.prologue.hash)
                return
            if self._v0_single(m):
                _u_enc(state, 1)
                _signer.encode(state, m.signers[0])
            else:
                _u_enc(state, 2)
                _u_enc(state, 1 if m.allow_patch else 0)
                _u_enc(state, m.quorum)
                _signer_array.encode(state, m.signers)
            return
        flags = 0
        if m.allow_patch:
            flags |= MANIFEST_PATCH
        if m.prologue is not None:
            flags |= MANIFEST_PROLOGUE
        if m.linked is not None:
            flags |= MANIFEST_LINKED
        if m.user_data is not None:
            flags |= MANIFEST_USER_DATA
        _u_enc(state, flags)
        _hashes.encode(state, m.hash)
        _u_enc(state, m.quorum)
        _signer_array.encode(state, m.signers)
        if m.prologue is not None:
            _f32_enc(state, m.prologue.hash)
            _u_enc(state, m.prologue.length)
        if m.linked is not None:
            _fixed32_array.encode(state, m.linked)
        if m.user_data is not None:
            buffer.encode(state, m.user_data)

    def decode(self, state: DecodeState) -> Manifest:
        version = _u_dec(state)
        if version == 0:
            h = _hashes.decode(state)
            kind = _u_dec(state)
            if kind > 2:
                raise DecodeError(f"Unknown type: {kind}")
            if kind == 0:
                return Manifest(0, 0, [], prologue=Prologue(_f32_dec(state), 0), hash=h)
            if kind == 1:
                return Manifest(0, 1, [_signer.decode(state)], hash=h)
            flags = _u_dec(state)
            quorum = _u_dec(state)
            return Manifest(0, quorum, _signer_array.decode(state), allow_patch=bool(flags & 1), hash=h)
        if version > 3:
            raise DecodeError(f"Unknown version: {version}")
        flags = _u_dec(state)
        h = _hashes.decode(state)
        quorum = _u_dec(state)
        signers = _signer_array.decode(state)
        prologue = Prologue(_f32_dec(state), _u_dec(state)) if flags & MANIFEST_PROLOGUE else None
        linked = _fixed32_array.decode(state) if flags & MANIFEST_LINKED else None
        user_data = buffer.decode(state) if flags & MANIFEST_USER_DATA else None
        return Manifest(
            version,
            quorum,
            signers,
            allow_patch=bool(flags & MANIFEST_PATCH),
            prologue=prologue,
            linked=linked,
            user_data=user_data,
            hash=h,
        )


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
    patch: list[TreeNode] = field(default_factory=list)


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
    patch: list[TreeNode] = field(default_factory=list)


class _MultisigInput(Codec[MultisigInput]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: MultisigInput) -> None:
        _u_pre(state, m.signer)
        state.end += 64
        _u_pre(state, m.patch)

    def encode(self, state: EncodeState, m: MultisigInput) -> None:
        _u_enc(state, m.signer)
        fixed64.encode(state, m.signature)
        _u_enc(state, m.patch)

    def decode(self, state: DecodeState) -> MultisigInput:
        return MultisigInput(_u_dec(state), fixed64.decode(state), _u_dec(state))


class _PatchV0(Codec[PatchV0]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: PatchV0) -> None:
        _u_pre(state, m.start)
        _u_pre(state, m.length)
        _uint_array.preencode(state, m.nodes)

    def encode(self, state: EncodeState, m: PatchV0) -> None:
        _u_enc(state, m.start)
        _u_enc(state, m.length)
        _uint_array.encode(state, m.nodes)

    def decode(self, state: DecodeState) -> PatchV0:
        return PatchV0(_u_dec(state), _u_dec(state), _uint_array.decode(state))


_patch_v0 = _PatchV0()


class _MultisigInputV0(Codec[MultisigInputV0]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: MultisigInputV0) -> None:
        state.end += 1
        _u_pre(state, m.signer)
        state.end += 64
        if m.patch is not None:
            _patch_v0.preencode(state, m.patch)

    def encode(self, state: EncodeState, m: MultisigInputV0) -> None:
        _u_enc(state, 1 if m.patch is not None else 0)
        _u_enc(state, m.signer)
        fixed64.encode(state, m.signature)
        if m.patch is not None:
            _patch_v0.encode(state, m.patch)

    def decode(self, state: DecodeState) -> MultisigInputV0:
        flags = _u_dec(state)
        signer = _u_dec(state)
        sig = fixed64.decode(state)
        return MultisigInputV0(signer, sig, _patch_v0.decode(state) if flags & 1 else None)


_multisig_inputs = array(_MultisigInput())
_multisig_inputs_v0 = array(_MultisigInputV0())


class _MultiSignature(Codec[MultiSignature]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: MultiSignature) -> None:
        _multisig_inputs.preencode(state, m.proofs)
        node_array.preencode(state, m.patch)

    def encode(self, state: EncodeState, m: MultiSignature) -> None:
        _multisig_inputs.encode(state, m.proofs)
        node_array.encode(state, m.patch)

    def decode(self, state: DecodeState) -> MultiSignature:
        return MultiSignature(_multisig_inputs.decode(state), node_array.decode(state))


class _MultiSignatureV0(Codec[MultiSignatureV0]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: MultiSignatureV0) -> None:
        _multisig_inputs_v0.preencode(state, m.proofs)
        node_array.preencode(state, m.patch)

    def encode(self, state: EncodeState, m: MultiSignatureV0) -> None:
        _multisig_inputs_v0.encode(state, m.proofs)
        node_array.encode(state, m.patch)

    def decode(self, state: DecodeState) -> MultiSignatureV0:
        return MultiSignatureV0(_multisig_inputs_v0.decode(state), node_array.decode(state))


multi_signature = _MultiSignature()
multi_signature_v0 = _MultiSignatureV0()

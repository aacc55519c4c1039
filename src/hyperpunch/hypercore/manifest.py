"""Hypercore manifests, core keys and signature verification (JS ``lib/verifier.js`` and
``lib/multisig.js``).

Invariants:

* The core key of a manifest is ``H(MANIFEST || encode(manifest))`` (:func:`manifest_hash`);
  :func:`default_signer_manifest` is the v1 single-ed25519-signer manifest JS makes for a new
  writable core, so ``manifest_hash(default_signer_manifest(pk))`` is that core's key.
* For manifest version >= 1 the wire signature is a multisig container (68 bytes for one signer:
  ``01 | signer 00 | 64-byte signature | patch 00 | 00`` nodes), for v0 / compat a bare 64 bytes.
  :meth:`Verifier.sign` produces, and :meth:`Verifier.verify` accepts, exactly what JS does.
* ``Verifier.verify`` never raises for remote bytes: a bad or malformed signature is ``False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hyperpunch import crypto
from hyperpunch.crypto import KeyPair, TreeNode
from hyperpunch.encoding import DecodeError, EncodeError, decode, encode
from hyperpunch.hypercore import caps
from hyperpunch.hypercore import flat_tree as flat
from hyperpunch.hypercore.errors import BadArgumentError, HypercoreError
from hyperpunch.hypercore.messages import (
    DataUpgrade,
    Manifest,
    MultisigInput,
    MultisigInputV0,
    MultiSignature,
    MultiSignatureV0,
    PatchV0,
    Prologue,
    Proof,
    Signer,
    multi_signature,
    multi_signature_v0,
)
from hyperpunch.hypercore.messages import (
    manifest as manifest_codec,
)

__all__ = [
    "SignableBatch",
    "SignatureInput",
    "Verifier",
    "assemble",
    "assemble_v0",
    "create_manifest",
    "decode_manifest",
    "default_signer_manifest",
    "encode_manifest",
    "is_compat",
    "is_valid_manifest",
    "manifest_hash",
]


class SignableBatch(Protocol):
    """What a verifier signs: a tree batch (``MerkleTreeBatch``)."""

    @property
    def length(self) -> int: ...

    @property
    def fork(self) -> int: ...

    def hash(self) -> bytes: ...

    def signable(self, manifest_hash: bytes) -> bytes: ...

    def signable_compat(self, no_header: bool = False) -> bytes: ...

    def clone(self) -> SignableBatch: ...

    def verify_upgrade(self, proof: Proof) -> bool: ...


@dataclass(frozen=True, slots=True)
class SignatureInput:
    """One signer's part for :func:`assemble` (JS ``{ signer, signature, patch, nodes }``)."""

    signer: int
    signature: bytes
    patch: int = 0
    nodes: list[TreeNode] | None = None


def encode_manifest(m: Manifest) -> bytes:
    return encode(manifest_codec, m)


def decode_manifest(data: bytes) -> Manifest:
    return decode(manifest_codec, data)


def manifest_hash(m: Manifest) -> bytes:
    """The core key: ``BLAKE2b-256(MANIFEST || encode(manifest))``."""
    return crypto.hash(caps.MANIFEST + encode_manifest(m))


def default_signer_manifest(public_key: bytes) -> Manifest:
    return Manifest(
        version=1,
        quorum=1,
        signers=[Signer(public_key=bytes(public_key), namespace=caps.DEFAULT_NAMESPACE)],
    )


def _default_quorum(quorum: int | None, signers: Sequence[Signer]) -> int:
    if quorum is not None:
        return quorum
    if not signers:
        return 0
    return (len(signers) >> 1) + 1


def create_manifest(
    signers: Sequence[Signer | bytes],
    *,
    version: int | None = None,
    quorum: int | None = None,
    allow_patch: bool = False,
    prologue: Prologue | None = None,
    linked: Sequence[bytes] | None = None,
    user_data: bytes | None = None,
) -> Manifest:
    """Validate and normalise manifest options like JS ``Verifier.createManifest``.

    ``signers`` may be ``Signer`` values or bare public keys (default namespace).
    """
    if quorum is not None and quorum < 0:
        raise BadArgumentError("Quorum cannot be negative")
    if quorum and quorum > len(signers):
        raise BadArgumentError("Quorum should not be higher than the number of signers")
    if version is None:
        version = 2 if linked or user_data else 1
    parsed: list[Signer] = []
    for s in signers:
        if isinstance(s, Signer):
            if s.signature != "ed25519":
                raise BadArgumentError("Only Ed25519 signatures are supported")
            pk, ns = s.public_key, s.namespace
        else:
            pk, ns = s, caps.DEFAULT_NAMESPACE
        if not pk:
            raise BadArgumentError("Signer missing public key")
        if len(pk) != 32 or len(ns) != 32:
            raise BadArgumentError("Signer keys must be 32 bytes")
        parsed.append(Signer(public_key=bytes(pk), namespace=bytes(ns)))
    if prologue is not None and (len(prologue.hash) != 32 or prologue.length < 0):
        raise BadArgumentError("Invalid prologue")
    if user_data is not None and version < 2:
        raise BadArgumentError("Invalid field: userData")
    linked_out: list[bytes] | None = None
    if linked:
        if version < 2:
            raise BadArgumentError("Invalid field: linked")
        for key in linked:
            if len(key) != 32:
                raise BadArgumentError("Invalid key")
        linked_out = [bytes(k) for k in linked]
    return Manifest(
        version=version,
        quorum=_default_quorum(quorum, parsed),
        signers=parsed,
        allow_patch=allow_patch,
        prologue=prologue,
        linked=linked_out,
        user_data=user_data,
    )


def is_valid_manifest(key: bytes, m: Manifest) -> bool:
    return bytes(key) == manifest_hash(m)


def is_compat(key: bytes, m: Manifest | None) -> bool:
    return m is not None and len(m.signers) == 1 and bytes(key) == m.signers[0].public_key


def assemble(inputs: Sequence[SignatureInput]) -> bytes:
    """The v1+ multisig container (JS ``multisig.assemble``)."""
    proofs: list[MultisigInput] = []
    patch: list[TreeNode] = []
    seen: set[int] = set()
    for u in inputs:
        if u.nodes:
            for n in u.nodes:
                if n.index in seen:
                    continue
                seen.add(n.index)
                patch.append(n)
        proofs.append(MultisigInput(u.signer, u.signature, u.patch))
    return encode(multi_signature, MultiSignature(proofs, patch))


def assemble_v0(inputs: Sequence[SignatureInput]) -> bytes:
    """The v0 multisig container (JS ``multisig.assemblev0``)."""
    proofs: list[MultisigInputV0] = []
    patch: list[TreeNode] = []
    for u in inputs:
        p = None
        if u.patch and u.nodes:
            idxs: list[int] = []
            for n in u.nodes:
                for i, existing in enumerate(patch):
                    if existing == n:
                        idxs.append(i)
                        break
                else:
                    patch.append(n)
                    idxs.append(len(patch) - 1)
            p = PatchV0(flat.right_span(u.nodes[-1].index) // 2 + 1, u.patch, idxs)
        proofs.append(MultisigInputV0(u.signer, u.signature, p))
    return encode(multi_signature_v0, MultiSignatureV0(proofs, patch))


class _SignerCtx:
    __slots__ = ("compat", "index", "legacy", "manifest_hash", "namespace", "public_key", "version")

    def __init__(
        self,
        manifest_hash: bytes | None,
        version: int,
        index: int,
        signer: Signer,
        compat: bool,
        legacy: bool,
    ) -> None:
        self.manifest_hash = manifest_hash
        self.version = version
        self.index = index
        self.public_key = signer.public_key
        self.namespace = signer.namespace
        self.compat = compat
        self.legacy = legacy

    def _signable(self, batch: SignableBatch) -> bytes:
        if self.compat:
            return batch.signable_compat(self.legacy)
        if self.version == 0:
            return batch.signable(self.namespace)
        assert self.manifest_hash is not None
        return batch.signable(self.manifest_hash)

    def verify(self, batch: SignableBatch, signature: bytes) -> bool:
        return crypto.verify(self._signable(batch), signature, self.public_key)

    def sign(self, batch: SignableBatch, kp: KeyPair) -> bytes:
        return crypto.sign(self._signable(batch), kp.secret_key)


class Verifier:
    """Checks (and makes) tree signatures for one core's manifest (JS ``Verifier``)."""

    def __init__(
        self,
        manifest_hash: bytes,
        manifest: Manifest | None,
        *,
        compat: bool | None = None,
        legacy: bool = False,
    ) -> None:
        if compat is None:
            compat = is_compat(manifest_hash, manifest)
        self.manifest_hash = bytes(manifest_hash)
        self.compat = compat or manifest is None
        self.manifest = manifest
        self.version = 0 if self.compat or manifest is None else manifest.version
        self.allow_patch = not self.compat and manifest is not None and manifest.allow_patch
        self.quorum = 1 if self.compat or manifest is None else manifest.quorum
        signers = manifest.signers if manifest is not None else []
        self.signers = [
            _SignerCtx(None if self.compat else self.manifest_hash, self.version, i, s, self.compat, legacy)
            for i, s in enumerate(signers)
        ]
        self.prologue = None if self.compat or manifest is None else manifest.prologue

    @classmethod
    def from_manifest(cls, manifest: Manifest, *, legacy: bool = False) -> Verifier:
        return cls(manifest_hash(manifest), manifest, legacy=legacy)

    def verify(self, batch: SignableBatch, signature: bytes | None) -> bool:
        """True when ``signature`` signs ``batch`` under this manifest; never raises for bad bytes."""
        try:
            if self.version == 0:
                return self._verify_compat(batch, signature)
            if self.prologue is not None and batch.length <= self.prologue.length:
                return batch.length == self.prologue.length and batch.hash() == self.prologue.hash
            return self._verify_multi(batch, signature)
        except (DecodeError, HypercoreError, EncodeError):
            return False

    def _verify_compat(self, batch: SignableBatch, signature: bytes | None) -> bool:
        if not signature or not self.signers:
            return False
        if self.compat or (not self.allow_patch and len(self.signers) == 1):
            return self.signers[0].verify(batch, signature)
        return self._verify_multi(batch, signature)

    def _inflate(self, signature: bytes) -> tuple[list[MultisigInput], list[TreeNode]]:
        if self.version >= 1:
            m = decode(multi_signature, signature)
            return m.proofs, m.patch
        m0 = decode(multi_signature_v0, signature)
        proofs = [
            MultisigInput(p.signer, p.signature, p.patch.length if p.patch is not None else 0)
            for p in m0.proofs
        ]
        return proofs, m0.patch

    def _verify_multi(self, batch: SignableBatch, signature: bytes | None) -> bool:
        if not signature or self.quorum == 0:
            return False
        proofs, patch = self._inflate(signature)
        if len(proofs) < self.quorum:
            return False
        tried = [False] * len(self.signers)
        nodes = {n.index: n for n in patch} if self.allow_patch and patch else None
        for i in range(self.quorum):
            inp = proofs[i]
            tree = batch
            if inp.patch and self.allow_patch:
                tree = batch.clone()
                upgrade = _generate_upgrade(nodes or {}, batch.length, inp.patch)
                if upgrade is None:
                    return False
                try:
                    if not tree.verify_upgrade(Proof(tree.fork, upgrade=upgrade)):
                        return False
                except HypercoreError:
                    return False
            if inp.signer >= len(self.signers) or tried[inp.signer]:
                return False
            tried[inp.signer] = True
            if not self.signers[inp.signer].verify(tree, inp.signature):
                return False
        return True

    def sign(self, batch: SignableBatch, key_pair: KeyPair) -> bytes:
        """Sign ``batch``: bare 64 bytes for v0/compat, else the multisig container."""
        if key_pair is None or not key_pair.secret_key:
            raise BadArgumentError("No key pair was passed")
        for s in self.signers:
            if s.public_key == bytes(key_pair.public_key):
                sig = s.sign(batch, key_pair)
                if len(self.signers) != 1 or self.version == 0:
                    return sig
                # one signer, no patch: what ``assemble([SignatureInput(0, sig)])`` encodes
                # (proof count 1, signer 0, signature, patch 0, no patch nodes)
                return b"\x01\x00" + sig + b"\x00\x00"
        raise BadArgumentError("Public key is not a declared signer")

    def assemble(self, inputs: Sequence[SignatureInput]) -> bytes:
        return assemble_v0(inputs) if self.version == 0 else assemble(inputs)


def _generate_upgrade(patch: dict[int, TreeNode], start: int, length: int) -> DataUpgrade | None:
    nodes: list[TreeNode] | None = None
    from_ = start * 2
    to = from_ + length * 2
    ite = flat.Iterator(0)

    def get(index: int) -> TreeNode:
        n = patch.get(index)
        if n is None:
            raise _MissingPatch
        return n

    try:
        while ite.full_root(to):
            if ite.index + (ite.factor >> 1) < from_:
                ite.next_tree()
                continue
            if nodes is None and ite.contains(from_ - 2):
                nodes = []
                root = ite.index
                target = from_ - 2
                ite.seek(target)
                steps = 0
                while ite.index != root:
                    steps += 1
                    if steps > 1024:
                        return None
                    ite.sibling()
                    if ite.index > target:
                        nodes.append(get(ite.index))
                    ite.parent()
                ite.next_tree()
                continue
            if nodes is None:
                nodes = []
            nodes.append(get(ite.index))
            ite.next_tree()
    except _MissingPatch:
        return None  # JS would pass `undefined` nodes and fail verification
    return DataUpgrade(start, length, nodes or [], [], None)


class _MissingPatch(Exception):
    pass

"""Capabilities, manifests, core keys and the signature verifier against the JS reference."""

from __future__ import annotations

from typing import Any

import pytest
from hc_helpers import hb, manifest

from hyperpunch import crypto
from hyperpunch.hypercore import caps
from hyperpunch.hypercore import manifest as man
from hyperpunch.hypercore.errors import BadArgumentError
from hyperpunch.hypercore.messages import Manifest, Signer
from refvectors import section

V: dict[str, Any] = section("hypercore")


def test_constants() -> None:
    for name, value in V["caps"]["constants"].items():
        assert getattr(caps, name).hex() == value


def test_tree_signable() -> None:
    for v in V["caps"]["treeSignable"]:
        got = caps.tree_signable(hb(v["manifestHash"]), hb(v["treeHash"]), v["length"], v["fork"])
        assert got.hex() == v["signable"]
    for v in V["caps"]["treeSignableCompat"]:
        got = caps.tree_signable_compat(hb(v["treeHash"]), v["length"], v["fork"], v["noHeader"])
        assert got.hex() == v["signable"]
    with pytest.raises(BadArgumentError):
        caps.tree_signable(b"x", bytes(32), 0, 0)


def test_replicate_capability() -> None:
    for v in V["caps"]["replicate"]:
        got = caps.replicate(v["isInitiator"], hb(v["key"]), hb(v["handshakeHash"]))
        assert got.hex() == v["capability"]


def test_manifest_hashes() -> None:
    for v in V["manifests"]["manifests"]:
        assert man.manifest_hash(manifest(v["manifest"])).hex() == v["hash"]


def test_create_manifest_matches_js() -> None:
    for v in V["manifests"]["created"]:
        inp = v["input"]
        signers: list[Signer | bytes] = [
            Signer(hb(s["publicKey"]), hb(s["namespace"])) if s["namespace"] else hb(s["publicKey"])
            for s in inp["signers"]
        ]
        got = man.create_manifest(
            signers,
            version=inp["version"],
            quorum=inp["quorum"],
            user_data=hb(inp["userData"]) if inp["userData"] else None,
            linked=[hb(k) for k in inp["linked"]] if inp["linked"] else None,
        )
        assert got == manifest(v["manifest"])
        assert man.manifest_hash(got).hex() == v["hash"]


def test_create_manifest_refuses_bad_input() -> None:
    pk = crypto.key_pair(bytes(32)).public_key
    with pytest.raises(BadArgumentError):
        man.create_manifest([pk], quorum=2)
    with pytest.raises(BadArgumentError):
        man.create_manifest([pk], quorum=-1)
    with pytest.raises(BadArgumentError):
        man.create_manifest([pk], version=1, user_data=b"x")
    with pytest.raises(BadArgumentError):
        man.create_manifest([pk], version=1, linked=[bytes(32)])


def test_core_key_is_default_manifest_hash() -> None:
    core = V["core"]
    kp = crypto.key_pair(hb(core["seed"]))
    assert kp.public_key.hex() == core["publicKey"]
    m = man.default_signer_manifest(kp.public_key)
    assert m == manifest(core["manifest"])
    assert man.encode_manifest(m).hex() == core["manifestEncoded"]
    assert man.manifest_hash(m).hex() == core["key"]
    assert crypto.discovery_key(man.manifest_hash(m)).hex() == core["discoveryKey"]


class _FakeBatch:
    def __init__(self, tree_hash: bytes, length: int, fork: int) -> None:
        self._hash = tree_hash
        self.length = length
        self.fork = fork

    def hash(self) -> bytes:
        return self._hash

    def signable(self, manifest_hash: bytes) -> bytes:
        return caps.tree_signable(manifest_hash, self._hash, self.length, self.fork)

    def signable_compat(self, no_header: bool = False) -> bytes:
        return caps.tree_signable_compat(self._hash, self.length, self.fork, no_header)

    def clone(self) -> _FakeBatch:
        return self

    def verify_upgrade(self, proof: Any) -> bool:
        raise AssertionError("not used")


def test_signatures_match_js_checkpoints() -> None:
    """The JS core's signature at each length is what Verifier.sign makes (ed25519 is deterministic)."""
    core = V["core"]
    kp = crypto.key_pair(hb(core["seed"]))
    verifier = man.Verifier.from_manifest(man.default_signer_manifest(kp.public_key))
    assert verifier.version == 1 and not verifier.compat
    for cp in core["checkpoints"]:
        batch = _FakeBatch(hb(cp["treeHash"]), cp["length"], cp["fork"])
        sig = verifier.sign(batch, kp)
        assert len(sig) == 68
        assert sig.hex() == cp["signature"]
        assert verifier.verify(batch, sig)
        # tampering
        bad = bytearray(sig)
        bad[10] ^= 1
        assert not verifier.verify(batch, bytes(bad))
        assert not verifier.verify(_FakeBatch(hb(cp["treeHash"]), cp["length"] + 1, cp["fork"]), sig)
        assert not verifier.verify(batch, sig[:67])
        assert not verifier.verify(batch, None)
        assert not verifier.verify(batch, b"")


def test_compat_and_v0_verifiers_use_bare_signatures() -> None:
    kp = crypto.key_pair(bytes([5]) * 32)
    batch = _FakeBatch(bytes(32), 3, 0)
    compat = man.Verifier(kp.public_key, man.default_signer_manifest(kp.public_key))
    assert compat.compat
    sig = compat.sign(batch, kp)
    assert len(sig) == 64 and crypto.verify(batch.signable_compat(), sig, kp.public_key)
    assert compat.verify(batch, sig)
    v0m = Manifest(0, 1, [Signer(kp.public_key, caps.DEFAULT_NAMESPACE)])
    v0 = man.Verifier.from_manifest(v0m)
    sig0 = v0.sign(batch, kp)
    assert len(sig0) == 64 and crypto.verify(batch.signable(caps.DEFAULT_NAMESPACE), sig0, kp.public_key)
    assert v0.verify(batch, sig0)
    with pytest.raises(BadArgumentError):
        v0.sign(batch, crypto.key_pair(bytes([6]) * 32))


def test_multi_signer_quorum() -> None:
    kps = [crypto.key_pair(bytes([i]) * 32) for i in (1, 2, 3)]
    m = man.create_manifest([k.public_key for k in kps])
    assert m.quorum == 2
    v = man.Verifier.from_manifest(m)
    batch = _FakeBatch(bytes([9]) * 32, 10, 0)
    sigs = [v.sign(batch, k) for k in kps]  # 64 bytes each: more than one signer
    assert all(len(s) == 64 for s in sigs)
    good = v.assemble([man.SignatureInput(0, sigs[0]), man.SignatureInput(2, sigs[2])])
    assert v.verify(batch, good)
    one = v.assemble([man.SignatureInput(0, sigs[0])])
    assert not v.verify(batch, one)
    dup = v.assemble([man.SignatureInput(0, sigs[0]), man.SignatureInput(0, sigs[0])])
    assert not v.verify(batch, dup)
    wrong = v.assemble([man.SignatureInput(0, sigs[1]), man.SignatureInput(2, sigs[2])])
    assert not v.verify(batch, wrong)
    assert not v.verify(batch, b"\xff\xff\xff")


def test_assemble_matches_js() -> None:
    from hc_helpers import nodes

    a = V["messages"]["assembled"]
    inputs = [
        man.SignatureInput(
            i["signer"], hb(i["signature"]), i["patch"], nodes(i["nodes"]) if i["nodes"] else None
        )
        for i in a["inputs"]
    ]
    assert man.assemble(inputs).hex() == a["v1"]
    assert man.assemble_v0(inputs).hex() == a["v0"]


def test_verifier_without_manifest_refuses() -> None:
    v = man.Verifier(bytes(32), None)
    assert v.compat and not v.verify(_FakeBatch(bytes(32), 1, 0), bytes(64))

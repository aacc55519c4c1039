"""Autobase key derivation against the JS reference (section ``autobase`` of
tests/vectors/reference.json): manifests and keys of views derived by autobase's own AutoStore
methods, and the keys of real JS Autobase runs under fixed Corestore primary keys."""

from __future__ import annotations

from typing import Any

import pytest

from hyperpunch import crypto
from hyperpunch.autobase import keys
from hyperpunch.hypercore import manifest_hash
from hyperpunch.hypercore.manifest import encode_manifest
from hyperpunch.hypercore.messages import Prologue
from refvectors import section

V = section("autobase")


def _b(h: str | None) -> bytes | None:
    return None if h is None else bytes.fromhex(h)


def test_view_and_system_manifests_like_js() -> None:
    assert len(V["derivations"]) == 200
    for vec in V["derivations"]:
        base = bytes.fromhex(vec["baseKey"])
        signers = [keys.indexer_signer(bytes.fromhex(k)) for k in vec["indexers"]]
        common: dict[str, Any] = {
            "entropy": _b(vec["entropy"]),
            "version": vec["version"],
            "manifest_data": _b(vec["manifestData"]),
            "encryption_key": _b(vec["encryptionKey"]),
        }
        if vec["name"] == "_system" and vec["linked"] is None:
            m = keys.system_manifest(base, signers, **common)
        else:
            linked = [bytes.fromhex(k) for k in vec["linked"] or []]
            m = keys.view_manifest(base, signers, vec["name"], linked=linked, **common)
        assert encode_manifest(m).hex() == vec["manifest"], vec
        assert manifest_hash(m).hex() == vec["key"], vec


def _prologue(info: dict[str, Any]) -> Prologue | None:
    p = info["prologue"]
    return None if p is None else Prologue(bytes.fromhex(p["hash"]), p["length"])


def test_single_writer_base_keys_like_js() -> None:
    run = V["runs"]["single"]
    ident = keys.base_identity(bytes.fromhex(run["primaryKey"]))
    assert ident.key.hex() == run["key"] == run["local"]
    assert ident.discovery_key.hex() == run["discoveryKey"]
    # before the first apply the system has no indexer: the views are the bootstrap (prologue) cores
    assert run["indexers"] == []
    assert keys.view_key(ident.key, [], "_system").hex() == run["systemKey"]
    assert keys.view_key(ident.key, [], "view").hex() == run["viewKey"]
    # the first apply makes the creator the indexer: both views move to cores it signs, the user
    # view prologued by what it held (computed here from its blocks)
    after = run["afterAppend"]
    assert [bytes.fromhex(k) for k in after["indexers"]] == [ident.local_key]
    signers = [ident.local_public_key]
    assert (
        after["viewManifest"]["signers"]
        == after["systemManifest"]["signers"]
        == [ident.local_public_key.hex()]
    )
    blocks = [bytes.fromhex(b) for b in after["viewBlocks"]]
    prologue = Prologue(keys.tree_hash(blocks), len(blocks))
    assert _prologue(after["viewManifest"]) == prologue
    assert keys.view_key(ident.key, signers, "view", prologue=prologue).hex() == after["viewKey"]
    system = keys.view_key(ident.key, signers, "_system", prologue=_prologue(after["systemManifest"]))
    assert system.hex() == after["systemKey"]


@pytest.mark.parametrize("peer", ["a", "b"])
def test_two_indexer_base_keys_like_js(peer: str) -> None:
    run = V["runs"]["two"]
    a = keys.base_identity(bytes.fromhex(run["primaryKeys"][0]))
    b = keys.local_writer(bytes.fromhex(run["primaryKeys"][1]))
    state = run[peer]
    assert state["key"] == a.key.hex()
    assert state["discoveryKey"] == a.discovery_key.hex()
    assert state["local"] == (a if peer == "a" else b).local_key.hex()
    assert [bytes.fromhex(k) for k in state["indexers"]] == [a.local_key, b.local_key]
    signers = [a.local_public_key, b.local_public_key]
    assert state["viewManifest"]["signers"] == [k.hex() for k in signers]
    blocks = [bytes.fromhex(x) for x in run["viewPrologueBlocks"]]
    prologue = Prologue(keys.tree_hash(blocks), len(blocks))
    assert _prologue(state["viewManifest"]) == prologue
    assert keys.view_key(a.key, signers, "view", prologue=prologue).hex() == state["viewKey"]
    system = keys.view_key(a.key, signers, "_system", prologue=_prologue(state["systemManifest"]))
    assert system.hex() == state["systemKey"]


def test_tree_hash_matches_hypercore_checkpoints() -> None:
    core = section("hypercore")["core"]
    blocks = [bytes.fromhex(b) for b in core["blocks"]]
    assert len(core["checkpoints"]) > 3
    for chk in core["checkpoints"]:
        if chk["fork"] == 0:
            assert keys.tree_hash(blocks[: chk["length"]]).hex() == chk["treeHash"]
    assert keys.tree_hash([]) == crypto.tree([])

"""Proofs made by hyperpunch, verified by the JS hypercore algorithm (core.core.verify in a live
node process): upgrades with a manifest, blocks, hashes; tampered proofs are refused by JS."""

from __future__ import annotations

import dataclasses

import pytest
from test_hypercore_merkle import BLOCKS, FULL_TREE, MANIFEST, C

from hyperpunch.encoding import encode
from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.merkle import MerkleTree, with_block_value
from jsref import run_node_json

pytestmark = pytest.mark.interop


def _enc(p: m.Proof) -> str:
    return encode(m.data, m.Data.from_proof(1, p)).hex()


def test_js_accepts_python_proofs() -> None:
    proofs: list[str] = []
    # 1. upgrade 0 -> 10 carrying block 3 and the manifest (the reader only knows the key)
    p = FULL_TREE.proof(block=m.RequestBlock(3, 0), upgrade=m.RequestUpgrade(0, 10))
    proofs.append(_enc(dataclasses.replace(with_block_value(p, BLOCKS[3]), manifest=MANIFEST)))
    # 2. a tampered block (JS must refuse)
    bad = with_block_value(
        FULL_TREE.proof(block=m.RequestBlock(4, MerkleTree.max_missing_nodes(8, 10))), b"nope"
    )
    # (proof against length 37 although JS is at 10: index 4 < 10 so nodes go to a root JS has)
    proofs.append(_enc(bad))
    # 3. upgrade 10 -> 37 with block 20
    p = FULL_TREE.proof(block=m.RequestBlock(20, 0), upgrade=m.RequestUpgrade(10, 27))
    proofs.append(_enc(with_block_value(p, BLOCKS[20])))
    # 4. every other block, proven up to a root of the 37-block tree
    for i in range(37):
        if i in (3, 20):
            continue
        p = FULL_TREE.proof(block=m.RequestBlock(i, MerkleTree.max_missing_nodes(2 * i, 37)))
        proofs.append(_enc(with_block_value(p, BLOCKS[i])))
    # 5. a block with a flipped proof node
    p = with_block_value(FULL_TREE.proof(block=m.RequestBlock(0, 5)), BLOCKS[0])
    assert p.block is not None
    ns = list(p.block.nodes)
    ns[2] = dataclasses.replace(ns[2], hash=bytes(32))
    proofs.append(_enc(dataclasses.replace(p, block=dataclasses.replace(p.block, nodes=ns))))

    out = run_node_json("hypercore-verify.js", input_obj={"key": C["key"], "proofs": proofs})
    results = out["results"]
    assert results[0] is True
    assert results[1] is not True  # tampered block
    assert results[2] is True
    assert all(r is True for r in results[3:-1]), results
    assert results[-1] is not True
    assert out["length"] == 37 and out["fork"] == 0
    assert out["treeHash"] == FULL_TREE.hash().hex()
    assert FULL_TREE.signature is not None and out["signature"] == FULL_TREE.signature.hex()
    assert out["blocks"] == [b.hex() for b in BLOCKS]


def test_js_refuses_bad_signature_upgrade() -> None:
    p = FULL_TREE.proof(upgrade=m.RequestUpgrade(0, 37))
    assert p.upgrade is not None and p.upgrade.signature is not None
    sig = bytearray(p.upgrade.signature)
    sig[3] ^= 1
    bad = dataclasses.replace(
        p, upgrade=dataclasses.replace(p.upgrade, signature=bytes(sig)), manifest=MANIFEST
    )
    good = dataclasses.replace(p, manifest=MANIFEST)
    out = run_node_json("hypercore-verify.js", input_obj={"key": C["key"], "proofs": [_enc(bad), _enc(good)]})
    assert out["results"][0] == "INVALID_SIGNATURE"
    assert out["results"][1] is True
    assert out["length"] == 37

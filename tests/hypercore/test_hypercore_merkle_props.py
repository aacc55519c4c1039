"""Merkle tree behaviour beyond the JS vectors: reorgs onto a fork, prologues, multisig patches,
and robustness: arbitrarily mangled proofs raise only HypercoreError."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hc_helpers import DictReader, hb
from hypothesis import given, settings
from hypothesis import strategies as st
from test_hypercore_merkle import (
    BLOCKS,
    FULL_READER,
    FULL_TREE,
    KP,
    VERIFIER,
    C,
    _append,
    _js_proof,
    build,
    prefix_tree,
)

from hyperpunch import crypto
from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import flat_tree
from hyperpunch.hypercore import manifest as man
from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.errors import HypercoreError, InvalidProofError
from hyperpunch.hypercore.merkle import MerkleTree, with_block_value
from refvectors import section

C_ALL = section("hypercore")


def _forked() -> tuple[DictReader, MerkleTree]:
    reader, tree = build()
    batch = tree.truncate(30, fork=1)
    batch.signature = VERIFIER.sign(batch, KP)
    batch.commit(reader)
    tree.apply(batch)
    _append(reader, tree, [hb(b) for b in C["forkBlocks"]])
    return reader, tree


def test_reorg_onto_a_fork() -> None:
    writer_reader, writer = _forked()
    assert writer.hash().hex() == C["checkpoints"][-1]["treeHash"]
    local_reader, local = build()
    proof = writer.proof(upgrade=m.RequestUpgrade(0, 34))
    rb = local.reorg(proof)
    assert VERIFIER.verify(rb, rb.signature)
    steps = 0
    while not rb.finished:
        assert rb.want is not None
        p = writer.proof(hash=m.RequestBlock(2 * rb.want.start, rb.want.nodes))
        rb.update(p)
        steps += 1
        assert steps < 20
    assert rb.ancestors == 30
    rb.commit(local_reader)
    local.apply(rb)
    assert (local.fork, local.length, local.hash()) == (1, 34, writer.hash())
    # the ancestors' nodes are kept, the replaced blocks' leaves are gone until re-downloaded
    for i in range(30):
        assert local_reader.get_tree_node(2 * i) == writer_reader.get_tree_node(2 * i)
    forked = [hb(b) for b in C["forkBlocks"]]
    for i in range(30, 34):
        missing = local.missing_nodes(2 * i, 34)
        p = with_block_value(writer.proof(block=m.RequestBlock(i, missing)), forked[i - 30])
        b = local.verify(p)
        b.commit(local_reader)


def test_reorg_refuses_unverifiable_fork() -> None:
    _, writer = _forked()
    _, local = build()
    proof = writer.proof(upgrade=m.RequestUpgrade(0, 34))
    assert proof.upgrade is not None
    bad = dataclasses.replace(
        proof, upgrade=dataclasses.replace(proof.upgrade, nodes=proof.upgrade.nodes[:1])
    )
    with pytest.raises(HypercoreError):
        local.reorg(bad)


def test_prologue() -> None:
    _, t10 = build(10)
    prologue = m.Prologue(t10.hash(), 10)
    manifest = man.create_manifest([KP.public_key], prologue=prologue)
    verifier = man.Verifier.from_manifest(manifest)
    # the prologue itself needs no signature
    b = t10.batch()
    assert verifier.verify(b, None)
    _, t9 = build(9)
    assert not verifier.verify(t9.batch(), None)
    # a proof for a core with a prologue always upgrades from 0 through the prologue
    _reader, tree = build()
    tree.prologue = prologue
    p = tree.proof(upgrade=m.RequestUpgrade(5, 20))
    assert p.upgrade is not None and (p.upgrade.start, p.upgrade.length) == (0, 10)
    empty = MerkleTree(DictReader(), prologue=prologue)
    batch = empty.verify(p)
    assert batch.length == 37 and batch.hash() == tree.hash()
    plain = FULL_TREE.proof(upgrade=m.RequestUpgrade(0, 5))
    with pytest.raises(InvalidProofError):
        empty.verify(plain)
    wrong = MerkleTree(DictReader(), prologue=m.Prologue(bytes(32), 10))
    with pytest.raises(InvalidProofError):
        wrong.verify(p)


def test_multisig_with_patch() -> None:
    """Quorum 2 of 2 with allowPatch: signer 1 signed a later length (37); its patch nodes prove the
    verified batch (length 30) is a prefix of what it signed."""
    kps = [crypto.key_pair(bytes([i]) * 32) for i in (40, 41)]
    manifest = man.create_manifest([k.public_key for k in kps], quorum=2, allow_patch=True)
    verifier = man.Verifier.from_manifest(manifest)
    _, t30 = build(30)
    at30 = t30.batch()
    at37 = FULL_TREE.batch()
    sig0 = verifier.sign(at30, kps[0])
    sig1 = verifier.sign(at37, kps[1])
    up = FULL_TREE.proof(upgrade=m.RequestUpgrade(30, 7))
    assert up.upgrade is not None
    inputs = [man.SignatureInput(0, sig0), man.SignatureInput(1, sig1, patch=7, nodes=up.upgrade.nodes)]
    good = verifier.assemble(inputs)
    assert verifier.verify(at30, good)
    # the same signatures without the patch do not verify length 30
    assert not verifier.verify(
        at30, verifier.assemble([man.SignatureInput(0, sig0), man.SignatureInput(1, sig1)])
    )
    # a wrong patch node breaks it
    bad_nodes = [dataclasses.replace(n, hash=bytes(32)) for n in up.upgrade.nodes]
    bad = verifier.assemble([inputs[0], man.SignatureInput(1, sig1, patch=7, nodes=bad_nodes)])
    assert not verifier.verify(at30, bad)
    # v0 containers carry the same information
    v0 = man.Verifier.from_manifest(dataclasses.replace(manifest, version=0))
    s0 = [v0.sign(at30, kps[0]), v0.sign(at37, kps[1])]
    assert v0.verify(
        at30,
        v0.assemble(
            [man.SignatureInput(0, s0[0]), man.SignatureInput(1, s0[1], patch=7, nodes=up.upgrade.nodes)]
        ),
    )


# --- robustness ---------------------------------------------------------------------------------

GOOD = [i for i, p in enumerate(C["proofs"]) if "error" not in p]
u53 = st.integers(min_value=0, max_value=2**53 - 1)
small = st.integers(min_value=0, max_value=200)


@st.composite
def mangled(draw: st.DrawFn) -> m.Data:
    d = _js_proof(C["proofs"][draw(st.sampled_from(GOOD))])
    for _ in range(draw(st.integers(1, 3))):
        part = draw(st.sampled_from(["block", "hash", "seek", "upgrade", "fork"]))
        if part == "fork":
            d = dataclasses.replace(d, fork=draw(small))
            continue
        val = getattr(d, part)
        if val is None:
            continue
        field = "additional_nodes" if part == "upgrade" and draw(st.booleans()) else "nodes"
        nodes = list(getattr(val, field))
        op = draw(st.sampled_from(["index", "size", "drop", "dup", "swap", "head"]))
        if nodes and op in ("index", "size", "drop", "dup"):
            k = draw(st.integers(0, len(nodes) - 1))
            n = nodes[k]
            if op == "index":
                nodes[k] = TreeNode(draw(st.one_of(small, u53)), n.size, n.hash)
            elif op == "size":
                nodes[k] = TreeNode(n.index, draw(st.one_of(small, u53)), n.hash)
            elif op == "drop":
                del nodes[k]
            else:
                nodes.insert(k, n)
        elif op == "swap" and len(nodes) > 1:
            nodes.reverse()
        elif op == "head":
            if part == "upgrade":
                val = dataclasses.replace(
                    val, start=draw(st.one_of(small, u53)), length=draw(st.one_of(small, u53))
                )
            elif part in ("block", "hash"):
                val = dataclasses.replace(val, index=draw(st.one_of(small, u53)))
            else:
                val = dataclasses.replace(val, bytes=draw(st.one_of(small, u53)))
        val = dataclasses.replace(val, **{field: nodes})
        d = dataclasses.replace(d, **{part: val})
    return d


@settings(max_examples=300, deadline=None)
@given(mangled(), st.sampled_from([0, 1, 10, 37]))
def test_mangled_proofs_raise_only_hypercore_errors(d: m.Data, start: int) -> None:
    _, peer = prefix_tree(FULL_READER, start) if start != 37 else (FULL_READER, FULL_TREE)
    try:
        batch = peer.verify(d)
    except HypercoreError:
        return
    if batch.upgraded and not VERIFIER.verify(batch, batch.signature):
        return
    # accepted: then every node it proved is true
    for n in batch.nodes:
        assert FULL_READER.get_tree_node(n.index) == n
    with contextlib.suppress(HypercoreError):
        peer.reorg(d)


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(st.none(), st.builds(m.RequestBlock, small, small)),
    st.one_of(st.none(), st.builds(m.RequestBlock, small, small)),
    st.one_of(st.none(), st.builds(m.RequestSeek, st.integers(0, 2000), st.integers(0, 3))),
    st.one_of(st.none(), st.builds(m.RequestUpgrade, small, small)),
)
def test_arbitrary_requests_raise_only_hypercore_errors(
    block: m.RequestBlock | None,
    hash_: m.RequestBlock | None,
    seek: m.RequestSeek | None,
    upgrade: m.RequestUpgrade | None,
) -> None:
    try:
        p = FULL_TREE.proof(block=block, hash=hash_, seek=seek, upgrade=upgrade)
    except HypercoreError:
        return
    if p.block is not None:
        if p.block.index >= len(BLOCKS):
            return  # like JS, the tree does not check the block exists: the caller's bitfield does
        p = with_block_value(p, BLOCKS[p.block.index])
    # whatever we serve verifies for a peer holding what the request implies it holds
    if upgrade is not None:
        _, peer = prefix_tree(FULL_READER, upgrade.start)
    else:
        peer = FULL_TREE
    # requests whose node counts claim more than the peer really has can fail; never crash
    with contextlib.suppress(HypercoreError):
        peer.verify(p)


def test_reorg_matches_js() -> None:
    """The JS reorg of a fork-0 core onto the fork-1 core: same want ranges, ancestors, diffs, nodes."""
    r = C["reorg"]
    _, local = build()
    steps = r["steps"]
    rb = local.reorg(_decode_data(steps[0]["encoded"]))
    _check_step(rb, steps[0])
    for step in steps[1:]:
        rb.update(_decode_data(step["encoded"]))
        _check_step(rb, step)
    assert rb.finished
    assert (rb.length, rb.fork, rb.hash().hex()) == (r["finalLength"], r["finalFork"], r["treeHash"])
    assert rb.nodes == [TreeNode(n["index"], n["size"], hb(n["hash"])) for n in r["nodes"]]
    assert VERIFIER.verify(rb, rb.signature)


def _decode_data(h: str) -> m.Data:
    from hyperpunch.encoding import decode

    return decode(m.data, hb(h), exact=True)


def _check_step(rb: object, step: dict[str, object]) -> None:
    from hyperpunch.hypercore.merkle import ReorgBatch

    assert isinstance(rb, ReorgBatch)
    want = None if rb.want is None else {"start": rb.want.start, "end": rb.want.end, "nodes": rb.want.nodes}
    assert want == step["want"]
    assert rb.ancestors == step["ancestors"]
    diff = (
        None
        if rb.diff is None
        else {"index": rb.diff.index, "size": rb.diff.size, "hash": rb.diff.hash.hex()}
    )
    assert diff == step["diff"]


def test_prologue_core_matches_js() -> None:
    """A JS core whose manifest has a prologue (its first 10 blocks): key, signature and proofs."""
    from hc_helpers import request_parts

    from hyperpunch.encoding import encode

    v = C_ALL["prologue"]
    kp = crypto.key_pair(hb(v["seed"]))
    blocks = [hb(b) for b in v["blocks"]]
    prologue = m.Prologue(hb(v["prologueHash"]), 10)
    manifest = man.create_manifest([kp.public_key], prologue=prologue)
    assert man.encode_manifest(manifest).hex() == v["manifestEncoded"]
    assert man.manifest_hash(manifest).hex() == v["key"]
    verifier = man.Verifier.from_manifest(manifest)
    reader = DictReader()
    tree = MerkleTree(reader, prologue=prologue)
    for chunk in (blocks[:10], blocks[10:]):
        batch = tree.batch()
        for blk in chunk:
            batch.append(blk)
        if batch.length == 10:
            assert batch.hash() == prologue.hash and verifier.verify(batch, None)
        batch.signature = verifier.sign(batch, kp)
        batch.commit(reader)
        tree.apply(batch)
    assert tree.hash().hex() == v["treeHash"]
    assert tree.signature is not None and tree.signature.hex() == v["signature"]
    for p in v["proofs"]:
        proof = tree.proof(**request_parts(p["request"]))
        if proof.block is not None:
            proof = with_block_value(proof, blocks[proof.block.index])
        assert encode(m.data, m.Data.from_proof(1, proof)).hex() == p["encoded"]
        js = _decode_data(p["encoded"])
        assert js.upgrade is not None
        peer_reader = DictReader()
        for n in reader.nodes.values():
            if flat_tree.right_span(n.index) < 2 * js.upgrade.start:
                peer_reader.put_tree_node(n)
        peer = MerkleTree.open(peer_reader, js.upgrade.start, prologue=prologue)
        batch = peer.verify(js)
        assert batch.length == 20 and verifier.verify(batch, batch.signature)

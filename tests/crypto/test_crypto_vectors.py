"""hyperpunch.crypto against hypercore-crypto 3.7 vectors (tests/vectors/reference.json, section "crypto")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hyperpunch import crypto
from hyperpunch.crypto import BoxKeyPair, KeyPair, TreeNode
from refvectors import section

V: Any = section("crypto")
SHARED = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "shared" / "vectors.json").read_text())
h = bytes.fromhex


def test_key_pairs() -> None:
    assert len(V["keyPairs"]) >= 6
    for case in V["keyPairs"]:
        kp = crypto.key_pair(h(case["seed"]))
        assert kp.public_key == h(case["publicKey"])
        assert kp.secret_key == h(case["secretKey"])
        assert crypto.validate_key_pair(kp)


def test_key_pair_accepts_bytearray_seed() -> None:
    case = V["keyPairs"][1]
    assert crypto.key_pair(bytearray(h(case["seed"]))).public_key == h(case["publicKey"])


def test_shared_key_pair_vector() -> None:
    assert crypto.key_pair(b"\x01" * 32).public_key.hex() == SHARED["keyPair_seed01"]["publicKey"]


def test_signatures() -> None:
    for case in V["signatures"]:
        kp = crypto.key_pair(h(case["seed"]))
        message = h(case["message"])
        sig = crypto.sign(message, kp.secret_key)
        assert sig == h(case["signature"])
        assert crypto.verify(message, sig, kp.public_key)
        assert not crypto.verify(message + b"x", sig, kp.public_key)


def test_verify_cases_match_js() -> None:
    for case in V["verifyCases"]:
        got = crypto.verify(h(case["message"]), h(case["signature"]), h(case["publicKey"]))
        assert got is case["valid"], case


def test_validate_key_pair_cases_match_js() -> None:
    for case in V["validateCases"]:
        kp = KeyPair(h(case["publicKey"]), h(case["secretKey"]))
        assert crypto.validate_key_pair(kp) is case["valid"]


def test_validate_key_pair_wrong_length_is_false() -> None:
    kp = crypto.key_pair(b"\x01" * 32)
    assert not crypto.validate_key_pair(KeyPair(kp.public_key, kp.secret_key[:63]))
    assert not crypto.validate_key_pair(KeyPair(kp.public_key[:31], kp.secret_key))


def test_discovery_keys() -> None:
    for case in V["discoveryKeys"]:
        assert crypto.discovery_key(h(case["key"])) == h(case["discoveryKey"])


def test_discovery_key_requires_32_bytes() -> None:
    with pytest.raises(crypto.InvalidKeyError):
        crypto.discovery_key(b"\x00" * 31)


def test_hashes() -> None:
    for case in V["hashes"]:
        assert crypto.hash(h(case["data"])) == h(case["hash"])
    batch = V["hashBatch"]
    assert crypto.hash([h(p) for p in batch["parts"]]) == h(batch["hash"])


def test_namespaces() -> None:
    ns = V["namespaces"]
    assert [x.hex() for x in crypto.namespace("hypercore", 6)] == ns["hypercore"]
    assert [x.hex() for x in crypto.namespace("hyperswarm/secret-stream", 3)] == ns[
        "hyperswarm/secret-stream"
    ]
    assert [x.hex() for x in crypto.namespace("hyperswarm/dht", [4, 5, 6, 0, 1, 10])] == ns["hyperswarm/dht"]
    assert [x.hex() for x in crypto.namespace("corestore", 1)] == ns["corestore"]
    assert [x.hex() for x in crypto.namespace("autobase", 4)] == ns["autobase"]
    assert [x.hex() for x in crypto.namespace(h("0102ff"), 2)] == ns["bufferName"]
    assert [x.hex() for x in crypto.namespace("wrap", [255, 256, 257])] == ns["wrapIds"]
    assert crypto.namespace("empty", 0) == [] == ns["empty"]


def test_namespaces_match_shared_vectors() -> None:
    assert [x.hex() for x in crypto.namespace("hypercore", 6)] == SHARED["ns_hypercore"]
    assert [x.hex() for x in crypto.namespace("hyperswarm/secret-stream", 3)] == SHARED["ns_secretstream"]
    assert [x.hex() for x in crypto.namespace("hyperswarm/dht", [4, 5, 6, 0, 1, 10])] == SHARED["ns_dht"]
    assert [x.hex() for x in crypto.namespace("corestore", 1)] == SHARED["ns_corestore"]
    assert [x.hex() for x in crypto.namespace("autobase", 4)] == SHARED["ns_autobase"]


def test_namespace_rejects_bad_ids() -> None:
    with pytest.raises(crypto.InvalidArgumentError):
        crypto.namespace("x", -1)
    with pytest.raises(crypto.InvalidArgumentError):
        crypto.namespace("x", ["a"])  # type: ignore[list-item]


def _node(d: dict[str, Any]) -> TreeNode:
    return TreeNode(d["index"], d["size"], h(d["hash"]))


def test_merkle_leaves_parents_trees() -> None:
    m = V["merkle"]
    blocks = [h(b) for b in m["blocks"]]
    leaves = [_node(x) for x in m["leaves"]]
    for block, leaf in zip(blocks, leaves, strict=True):
        assert crypto.data(block) == leaf.hash
        assert crypto.tree_leaf(block) == leaf.hash
        assert leaf.size == len(block)
    nodes = {n.index: n for n in leaves}
    nodes.update({n.index: n for n in map(_node, m["parents"])})
    # parentPairs: (first argument, second argument, result) flat-tree indices, as JS called parent()
    for a, b, out in m["parentPairs"]:
        assert crypto.parent(nodes[a], nodes[b]) == nodes[out].hash
        assert crypto.parent(nodes[b], nodes[a]) == nodes[out].hash  # order does not matter
    for case in m["trees"]:
        assert crypto.tree([_node(r) for r in case["roots"]]) == h(case["hash"])
    big = m["bigSize"]
    assert crypto.parent(_node(big["left"]), _node(big["right"])) == h(big["hash"])


def test_merkle_shared_vectors() -> None:
    a = TreeNode(0, 5, crypto.data(b"hello"))
    b = TreeNode(2, 5, crypto.data(b"world"))
    assert a.hash.hex() == SHARED["leaf_hello"]
    p = crypto.parent(b, a)
    assert p.hex() == SHARED["parent_hello_world"]
    assert crypto.tree([TreeNode(1, 10, p)]).hex() == SHARED["tree_root_len2"]


def test_tree_rejects_negative_size() -> None:
    with pytest.raises(crypto.InvalidArgumentError):
        crypto.tree([TreeNode(0, -1, b"\x00" * 32)])
    with pytest.raises(crypto.InvalidArgumentError):
        crypto.parent(TreeNode(0, -5, b"\x00" * 32), TreeNode(2, 1, b"\x00" * 32))


def test_box_key_pairs_and_local_round_trip() -> None:
    for case in V["boxKeyPairs"]:
        kp = crypto.encryption_key_pair(h(case["seed"]))
        assert kp.public_key == h(case["publicKey"])
        assert kp.secret_key == h(case["secretKey"])
    kp = crypto.encryption_key_pair(h(V["boxKeyPairs"][0]["seed"]))
    other = crypto.encryption_key_pair(h(V["boxKeyPairs"][1]["seed"]))
    for message in (b"", b"secret message"):
        ct = crypto.encrypt(message, kp.public_key)
        assert len(ct) == len(message) + crypto.SEAL_BYTES
        assert crypto.decrypt(ct, kp) == message
        assert crypto.decrypt(ct, other) is None
        assert crypto.decrypt(ct[:-1], kp) is None
        assert crypto.decrypt(ct[:10], kp) is None


def test_errors_are_local() -> None:
    from hyperpunch.errors import LocalError

    with pytest.raises(LocalError):
        crypto.key_pair(b"short")
    with pytest.raises(LocalError):
        crypto.sign(b"m", b"\x00" * 32)
    with pytest.raises(LocalError):
        crypto.encrypt(b"m", b"\x00" * 31)
    with pytest.raises(LocalError):
        crypto.decrypt(b"\x00" * 60, BoxKeyPair(b"\x00" * 31, b"\x00" * 32))


def test_random_bytes_and_random_key_pairs() -> None:
    assert len(crypto.random_bytes(0)) == 0
    assert len(crypto.random_bytes(33)) == 33
    assert crypto.random_bytes(32) != crypto.random_bytes(32)
    kp = crypto.key_pair()
    assert crypto.validate_key_pair(kp) and len(kp.secret_key) == 64
    assert kp.secret_key[32:] == kp.public_key
    assert crypto.key_pair(kp.secret_key[:32]) == kp
    assert "secret_key" not in repr(kp)


def test_value_types_are_hashable() -> None:
    # the module-level crypto.hash must not leak into the dataclasses' generated __hash__
    kp = crypto.key_pair(b"\x01" * 32)
    assert len({kp, crypto.key_pair(b"\x01" * 32)}) == 1
    assert len({TreeNode(0, 1, b"a"), TreeNode(0, 1, b"a"), TreeNode(2, 1, b"a")}) == 2
    assert len({BoxKeyPair(b"a", b"b")}) == 1


def test_hash_rejects_non_bytes() -> None:
    with pytest.raises(crypto.InvalidArgumentError):
        crypto.hash("text")  # type: ignore[arg-type]
    with pytest.raises(crypto.InvalidArgumentError):
        crypto.hash([b"a", 1])  # type: ignore[list-item]

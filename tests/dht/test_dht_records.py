"""hyperpunch.dht.records against hyperdht lib/persistent.js: mutable and (un)announce
signatures, put request bytes and targets from fixed seeds."""

from __future__ import annotations

import pytest
from dht_helpers import announce_from_js

from hyperpunch.crypto import key_pair
from hyperpunch.dht import messages as m
from hyperpunch.dht import records as r
from hyperpunch.dht.errors import DHTLocalError
from hyperpunch.encoding import decode, encode
from refvectors import section

V = section("dht")["records"]
KP = key_pair(bytes.fromhex(V["seed"]))
TOKEN = bytes.fromhex(V["token"])
NODE_ID = bytes.fromhex(V["nodeId"])
TARGET = bytes.fromhex(V["mutableTarget"])


def test_key_pair_and_target() -> None:
    assert KP.public_key.hex() == V["publicKey"]
    assert KP.secret_key.hex() == V["secretKey"]
    assert r.mutable_target(KP.public_key) == TARGET


@pytest.mark.parametrize("case", V["mutable"], ids=lambda c: str(c["seq"]))
def test_mutable_signatures_match_js(case: dict[str, object]) -> None:
    seq = int(case["seq"])  # type: ignore[call-overload]
    value = bytes.fromhex(str(case["value"]))
    sig = r.sign_mutable(seq, value, KP)
    assert sig.hex() == case["signature"]
    assert encode(m.mutable_put_request, r.mutable_put_value(KP, value, seq)).hex() == case["putRequest"]
    assert r.verify_mutable(sig, seq, value, KP.public_key) is case["verifies"] is True
    assert r.verify_mutable(sig, seq + 1, value, KP.public_key) is case["verifiesOtherSeq"] is False
    put = decode(m.mutable_put_request, bytes.fromhex(str(case["putRequest"])), exact=True)
    assert r.verify_mutable(put.signature, put.seq, put.value, put.public_key)


def test_verify_mutable_never_raises_on_junk() -> None:
    assert not r.verify_mutable(b"\x00" * 3, 0, b"", KP.public_key)
    assert not r.verify_mutable(b"\x00" * 64, 0, b"", b"\x01")
    assert not r.verify_mutable(r.sign_mutable(0, b"a", KP), 0, b"b", KP.public_key)


@pytest.mark.parametrize("case", V["announces"], ids=lambda c: str(len(c["ann"])))
def test_announce_signatures_match_js(case: dict[str, object]) -> None:
    ann = announce_from_js(case["ann"])  # type: ignore[arg-type]
    sig_a = r.sign_announce(TARGET, TOKEN, NODE_ID, ann, KP)
    sig_u = r.sign_unannounce(TARGET, TOKEN, NODE_ID, ann, KP)
    assert sig_a.hex() == case["announceSignature"]
    assert sig_u.hex() == case["unannounceSignature"]
    signed = m.Announce(ann.peer, ann.refresh, sig_a)
    assert encode(m.announce, signed).hex() == case["announceValue"]
    got = decode(m.announce, bytes.fromhex(str(case["announceValue"])), exact=True)
    assert r.verify_announce(TARGET, TOKEN, NODE_ID, got)
    assert not r.verify_unannounce(TARGET, TOKEN, NODE_ID, got)
    assert r.verify_unannounce(TARGET, TOKEN, NODE_ID, m.Announce(ann.peer, ann.refresh, sig_u))
    assert not r.verify_announce(TARGET, TOKEN, b"\x00" * 32, got)  # another storing node
    assert not r.verify_announce(TARGET, b"\x00" * 32, NODE_ID, got)  # another token


def test_announce_without_peer_or_signature() -> None:
    assert not r.verify_announce(TARGET, TOKEN, NODE_ID, m.Announce(signature=b"\x00" * 64))
    assert not r.verify_announce(TARGET, TOKEN, NODE_ID, m.Announce(peer=m.Peer(KP.public_key)))
    with pytest.raises(DHTLocalError):
        r.sign_announce(TARGET, TOKEN, NODE_ID, m.Announce(), KP)


@pytest.mark.parametrize("case", V["immutable"], ids=lambda c: str(len(c["value"])))
def test_immutable_target_matches_js(case: dict[str, str]) -> None:
    assert r.immutable_target(bytes.fromhex(case["value"])).hex() == case["target"]

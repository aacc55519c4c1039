"""hyperpunch.noise against noise-handshake 4.2 + noise-curve-ed 2.1 transcripts (section "noise")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hyperpunch.crypto import key_pair
from hyperpunch.errors import LocalError, RemoteError
from hyperpunch.noise import (
    HandshakeInvalidError,
    NoiseArgumentError,
    NoiseState,
    NoiseStateError,
)
from refvectors import section

V: Any = section("noise")
SHARED = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "shared" / "noise-vectors.json").read_text()
)
h = bytes.fromhex


def _pair(t: dict[str, Any]) -> tuple[NoiseState, NoiseState]:
    si = key_pair(h(t["initiatorStaticSeed"]))
    sr = key_pair(h(t["responderStaticSeed"]))
    assert si.public_key == h(t["initiatorStaticPublicKey"])
    assert sr.public_key == h(t["responderStaticPublicKey"])
    prologue = h(t["prologue"])
    a = NoiseState(
        t["pattern"],
        True,
        si,
        prologue=prologue,
        remote_static=sr.public_key if t["pattern"] == "IK" else None,
        ephemeral_key_pair=key_pair(h(t["initiatorEphemeralSeed"])),
    )
    b = NoiseState(
        t["pattern"],
        False,
        sr,
        prologue=prologue,
        ephemeral_key_pair=key_pair(h(t["responderEphemeralSeed"])),
    )
    return a, b


@pytest.mark.parametrize("index", range(6))
def test_transcripts_byte_for_byte(index: int) -> None:
    t = V["transcripts"][index]
    a, b = _pair(t)
    for i, (payload, message, received) in enumerate(
        zip(t["payloads"], t["messages"], t["received"], strict=True)
    ):
        sender, receiver = (a, b) if i % 2 == 0 else (b, a)
        assert not sender.complete and not receiver.complete
        m = sender.send(h(payload))
        assert m == h(message), f"message {i}"
        assert receiver.recv(m) == h(received) == h(payload)
    for state, side in ((a, t["initiator"]), (b, t["responder"])):
        assert state.complete is side["complete"] is True
        assert state.tx == h(side["tx"])
        assert state.rx == h(side["rx"])
        assert state.hash == h(side["hash"])
        assert state.hash is not None and len(state.hash) == 64
        assert state.remote_static == h(side["remoteStatic"])
    assert t["protocol"] == f"Noise_{t['pattern']}_Ed25519_ChaChaPoly_BLAKE2b"


def test_transcript_set_covers_the_brief() -> None:
    ts = V["transcripts"]
    assert {t["pattern"] for t in ts} == {"XX", "IK"}
    assert any(t["prologue"] for t in ts if t["pattern"] == "XX")
    assert any(t["prologue"] for t in ts if t["pattern"] == "IK")
    assert any(all(p == "" for p in t["payloads"]) for t in ts)
    assert any(all(p != "" for p in t["payloads"]) for t in ts)


def test_shared_xx_vectors() -> None:
    X = SHARED["XX"]
    si, sr = key_pair(b"\x11" * 32), key_pair(b"\x22" * 32)
    assert si.public_key.hex() == SHARED["initiatorStaticPub"]
    assert sr.public_key.hex() == SHARED["responderStaticPub"]
    a = NoiseState("XX", True, si, ephemeral_key_pair=key_pair(b"\xaa" * 32))
    b = NoiseState("XX", False, sr, ephemeral_key_pair=key_pair(b"\xbb" * 32))
    m1 = a.send()
    assert m1.hex() == X["m1"]
    assert b.recv(m1) == b""
    m2 = b.send()
    assert m2.hex() == X["m2"]
    assert a.recv(m2) == b""
    m3 = a.send()
    assert m3.hex() == X["m3"]
    assert b.recv(m3) == b""
    assert a.hash is not None and a.hash.hex() == X["handshakeHash"] and b.hash == a.hash
    assert a.tx is not None and a.tx.hex() == X["initiatorTx"] and b.rx == a.tx
    assert a.rx is not None and a.rx.hex() == X["initiatorRx"] and b.tx == a.rx


def test_shared_ik_vectors() -> None:
    K = SHARED["IK"]
    si, sr = key_pair(b"\x11" * 32), key_pair(b"\x22" * 32)
    prologue = h(K["prologue"])
    a = NoiseState(
        "IK",
        True,
        si,
        prologue=prologue,
        remote_static=sr.public_key,
        ephemeral_key_pair=key_pair(b"\xaa" * 32),
    )
    m1 = a.send(h(K["payloadEncoded"]))
    assert m1.hex() == K["m1"]
    b = NoiseState("IK", False, sr, prologue=prologue, ephemeral_key_pair=key_pair(b"\xbb" * 32))
    assert b.recv(m1) == h(K["payloadEncoded"])
    assert b.remote_static == si.public_key
    # the responder's payload is not in the shared file: recover it by authenticating m2
    reply = a.recv(h(K["m2"]))
    assert b.send(reply).hex() == K["m2"]
    assert a.hash is not None and a.hash.hex() == K["handshakeHash"] and b.hash == a.hash
    assert a.tx is not None and a.tx.hex() == K["initiatorTx"] and b.rx == a.tx
    assert a.rx is not None and a.rx.hex() == K["initiatorRx"] and b.tx == a.rx


@pytest.mark.parametrize("index", range(16))
def test_refusals_match_js(index: int) -> None:
    r = V["refusals"][index]
    assert r["jsThrows"] is True  # every case in the generator is one JS refuses
    pattern, step = r["pattern"], r["step"]
    si, sr = key_pair(b"\x11" * 32), key_pair(b"\x22" * 32)
    a = NoiseState(
        pattern,
        True,
        si,
        remote_static=sr.public_key if pattern == "IK" else None,
        ephemeral_key_pair=key_pair(b"\xaa" * 32),
    )
    b = NoiseState(pattern, False, sr, ephemeral_key_pair=key_pair(b"\xbb" * 32))
    sides = [a, b]
    for i in range(step):
        sides[(i + 1) % 2].recv(sides[i % 2].send())
    sides[step % 2].send()
    receiver = sides[(step + 1) % 2]
    with pytest.raises(HandshakeInvalidError) as info:
        receiver.recv(h(r["message"]))
    assert isinstance(info.value, RemoteError)
    assert info.value.code == "HANDSHAKE_INVALID"
    # a failed state is dead
    with pytest.raises(NoiseStateError):
        receiver.send()


def _xx() -> tuple[NoiseState, NoiseState]:
    return (
        NoiseState("XX", True, key_pair(b"\x11" * 32)),
        NoiseState("XX", False, key_pair(b"\x22" * 32)),
    )


def test_wrong_order_is_a_local_error() -> None:
    a, b = _xx()
    with pytest.raises(NoiseStateError):
        b.send()
    with pytest.raises(NoiseStateError):
        a.recv(b"\x00" * 32)
    m1 = a.send(b"hi")
    with pytest.raises(NoiseStateError):
        a.send()
    assert b.recv(m1) == b"hi"
    with pytest.raises(NoiseStateError):
        b.recv(m1)
    a.recv(b.send())
    b.recv(a.send())
    assert a.complete and b.complete
    for state in (a, b):
        with pytest.raises(NoiseStateError) as info:
            state.send()
        assert isinstance(info.value, LocalError)
        with pytest.raises(NoiseStateError):
            state.recv(b"")


def test_ik_needs_remote_static_and_valid_arguments() -> None:
    s = key_pair(b"\x11" * 32)
    with pytest.raises(NoiseArgumentError):
        NoiseState("IK", True, s)
    with pytest.raises(NoiseArgumentError):
        NoiseState("IK", True, s, remote_static=b"\x00" * 31)
    with pytest.raises(NoiseArgumentError):
        NoiseState("NN", True, s)  # type: ignore[arg-type]
    from hyperpunch.crypto import KeyPair

    with pytest.raises(NoiseArgumentError):
        NoiseState("XX", True, KeyPair(s.public_key, s.secret_key[:32]))


def test_wrong_responder_key_in_ik_is_refused() -> None:
    si, sr, other = (key_pair(bytes([n]) * 32) for n in (0x11, 0x22, 0x33))
    a = NoiseState("IK", True, si, remote_static=other.public_key)
    b = NoiseState("IK", False, sr)
    with pytest.raises(HandshakeInvalidError):
        b.recv(a.send(b"payload"))


def test_payload_size_limit() -> None:
    a, b = _xx()
    # the first XX message is not encrypted: JS has no limit there
    big = b"\x01" * 70000
    assert b.recv(a.send(big)) == big
    with pytest.raises(NoiseArgumentError):
        b.send(b"\x00" * (65535 - 16 + 1))
    # refused before any state change: a smaller payload still works
    m2 = b.send(b"\x00" * (65535 - 16))
    assert len(m2) == 32 + 48 + 65535
    assert a.recv(m2) == b"\x00" * (65535 - 16)
    b.recv(a.send())
    assert a.complete and b.complete and a.tx == b.rx


def test_oversized_ciphertext_is_refused_on_recv() -> None:
    a, b = _xx()
    b.recv(a.send())
    m2 = b.send()
    with pytest.raises(HandshakeInvalidError):
        a.recv(m2 + b"\x00" * 65535)


@pytest.mark.parametrize("bad", [b"\x00" * 32, b"\x01" + b"\x00" * 31, b"\xff" * 32])
def test_ik_initiator_refuses_an_invalid_remote_static_key(bad: bytes) -> None:
    # JS would throw on its first send() (libsodium refuses the point); here the constructor does
    with pytest.raises(NoiseArgumentError):
        NoiseState("IK", True, key_pair(b"\x11" * 32), remote_static=bad)

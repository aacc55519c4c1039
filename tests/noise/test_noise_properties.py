"""Hypothesis properties of hyperpunch.noise: agreement, tamper detection, fuzzed input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hyperpunch.crypto import key_pair
from hyperpunch.errors import RemoteError
from hyperpunch.noise import HandshakeInvalidError, NoiseError, NoiseState

seeds = st.binary(min_size=32, max_size=32)
payloads = st.binary(max_size=200)
patterns = st.sampled_from(["XX", "IK"])


def _pair(pattern: str, si_seed: bytes, sr_seed: bytes, prologue: bytes) -> tuple[NoiseState, NoiseState]:
    si, sr = key_pair(si_seed), key_pair(sr_seed)
    a = NoiseState(
        pattern,  # type: ignore[arg-type]
        True,
        si,
        prologue=prologue,
        remote_static=sr.public_key if pattern == "IK" else None,
    )
    b = NoiseState(pattern, False, sr, prologue=prologue)  # type: ignore[arg-type]
    return a, b


def _count(pattern: str) -> int:
    return 3 if pattern == "XX" else 2


@settings(max_examples=40, deadline=None)
@given(patterns, seeds, seeds, st.binary(max_size=64), st.lists(payloads, min_size=3, max_size=3))
def test_both_sides_agree(pattern: str, si: bytes, sr: bytes, prologue: bytes, pls: list[bytes]) -> None:
    a, b = _pair(pattern, si, sr, prologue)
    for i in range(_count(pattern)):
        sender, receiver = (a, b) if i % 2 == 0 else (b, a)
        assert receiver.recv(sender.send(pls[i])) == pls[i]
    assert a.complete and b.complete
    assert a.tx == b.rx and a.rx == b.tx and a.tx != a.rx
    assert a.tx is not None and len(a.tx) == 32
    assert a.hash == b.hash and a.hash is not None and len(a.hash) == 64
    assert a.remote_static == key_pair(sr).public_key
    assert b.remote_static == key_pair(si).public_key


@settings(max_examples=150, deadline=None)
@given(patterns, st.integers(0, 2), st.integers(0, 10_000), st.integers(1, 255), payloads)
def test_tampering_any_byte_is_a_remote_error(
    pattern: str, which: int, position: int, xor: int, payload: bytes
) -> None:
    n = _count(pattern)
    which %= n
    a, b = _pair(pattern, b"\x11" * 32, b"\x22" * 32, b"")
    completed = 0
    failure: BaseException | None = None
    for i in range(n):
        sender, receiver = (a, b) if i % 2 == 0 else (b, a)
        try:
            m = bytearray(sender.send(payload))
            if i == which:
                m[position % len(m)] ^= xor
            receiver.recv(bytes(m))
            completed += 1
        except Exception as err:
            failure = err
            break
    assert completed < n, "a tampered handshake completed"
    assert isinstance(failure, HandshakeInvalidError) and isinstance(failure, RemoteError)


@settings(max_examples=200, deadline=None)
@given(patterns, st.integers(0, 2), st.binary(max_size=300))
def test_random_bytes_to_recv_only_raise_layer_errors(pattern: str, step: int, garbage: bytes) -> None:
    n = _count(pattern)
    step %= n
    a, b = _pair(pattern, b"\x11" * 32, b"\x22" * 32, b"ctx")
    sides = [a, b]
    for i in range(step):
        sides[(i + 1) % 2].recv(sides[i % 2].send())
    receiver = sides[(step + 1) % 2]
    try:
        receiver.recv(garbage)
    except NoiseError as err:
        assert isinstance(err, HandshakeInvalidError)
        return
    # only a cleartext first XX message (any 32+ bytes) can be accepted
    assert pattern == "XX" and step == 0 and len(garbage) >= 32


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(max_size=100))
def test_random_first_xx_message_then_handshake_fails_cleanly(point: bytes, payload: bytes) -> None:
    # a random "ephemeral key" is rarely a valid point; either way only layer errors appear
    a, b = _pair("XX", b"\x11" * 32, b"\x22" * 32, b"")
    a.send()
    try:
        b.recv(point + payload)
        m2 = b.send()
        a.recv(m2)
    except NoiseError as err:
        assert isinstance(err, HandshakeInvalidError)
        return
    raise AssertionError("the initiator accepted a reply to a message it did not send")

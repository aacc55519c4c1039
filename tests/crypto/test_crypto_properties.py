"""Property tests for hyperpunch.crypto: sign/verify round trips and verify never raising."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hyperpunch import crypto

seeds = st.binary(min_size=32, max_size=32)


@settings(max_examples=60, deadline=None)
@given(seeds, st.binary(max_size=300))
def test_sign_verify_round_trip(seed: bytes, message: bytes) -> None:
    kp = crypto.key_pair(seed)
    sig = crypto.sign(message, kp.secret_key)
    assert crypto.verify(message, sig, kp.public_key)
    assert not crypto.verify(message + b"\x00", sig, kp.public_key)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=100), st.binary(max_size=80), st.binary(max_size=40))
def test_verify_never_raises(message: bytes, signature: bytes, public_key: bytes) -> None:
    assert crypto.verify(message, signature, public_key) in (True, False)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=120))
def test_decrypt_never_raises_on_garbage(ciphertext: bytes) -> None:
    kp = crypto.encryption_key_pair(b"\x07" * 32)
    assert crypto.decrypt(ciphertext, kp) is None


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_hash_of_parts_equals_hash_of_concatenation(data: bytes) -> None:
    cut = len(data) // 3
    assert crypto.hash([data[:cut], data[cut:]]) == crypto.hash(data)

"""hyperpunch.dht.secure_payload against hyperdht lib/secure-payload.js: fixed-nonce vectors,
refusals, tokens, and a round trip with the real JS class (random nonces both ways)."""

from __future__ import annotations

import pytest
from dht_helpers import holepunch_payload_from_js, to_js

from hyperpunch.dht import SecurePayload
from hyperpunch.dht.errors import DHTLocalError
from hyperpunch.dht.messages import HolepunchPayload
from hyperpunch.encoding import Address
from jsref import run_node_json
from refvectors import section

V = section("dht")["securePayload"]
SECRET = bytes.fromhex(V["secret"])


def _sp() -> SecurePayload:
    return SecurePayload(SECRET, local_secret=bytes.fromhex(V["localSecret"]))


@pytest.mark.parametrize("case", V["encrypted"], ids=lambda c: c["nonce"][:2])
def test_encrypt_with_fixed_nonce_matches_js(case: dict[str, object]) -> None:
    payload = holepunch_payload_from_js(case["payload"])  # type: ignore[arg-type]
    out = _sp().encrypt(payload, nonce=bytes.fromhex(str(case["nonce"])))
    assert out.hex() == case["hex"]
    assert to_js(_sp().decrypt(bytes.fromhex(str(case["hex"])))) == case["decrypted"]


@pytest.mark.parametrize("case", V["refusals"], ids=lambda c: c["case"])
def test_refusals_like_js(case: dict[str, str]) -> None:
    assert case["result"] is None
    secret = bytes.fromhex(case["secret"]) if "secret" in case else SECRET
    assert SecurePayload(secret).decrypt(bytes.fromhex(case["hex"])) is None


def test_tokens_match_js() -> None:
    sp = _sp()
    for t in V["tokens"]:
        assert sp.token(Address(t["host"], 1)).hex() == t["token"]
        assert sp.token(t["host"]).hex() == t["token"]


def test_random_local_secrets_differ() -> None:
    assert SecurePayload(SECRET).token("1.2.3.4") != SecurePayload(SECRET).token("1.2.3.4")


def test_bad_keys_are_local_errors() -> None:
    with pytest.raises(DHTLocalError):
        SecurePayload(b"short")
    with pytest.raises(DHTLocalError):
        _sp().encrypt(HolepunchPayload(), nonce=b"\x00" * 23)


@pytest.mark.interop
def test_round_trip_with_js() -> None:
    payloads = [
        HolepunchPayload(firewall=2, round=1, addresses=[Address("1.2.3.4", 5)], token=b"\x07" * 32),
        HolepunchPayload(
            connected=True, punching=True, remote_address=Address("9.9.9.9", 9), remote_token=b"\x01" * 32
        ),
        HolepunchPayload(error=3, addresses=[]),
    ]
    sp = SecurePayload(SECRET)
    ours = [sp.encrypt(p) for p in payloads]
    assert ours[0][:24] != sp.encrypt(payloads[0])[:24]  # random nonce
    out = run_node_json(
        "dht-securepayload.js",
        input_obj={
            "secret": SECRET.hex(),
            "ciphertexts": [c.hex() for c in ours],
            "payloads": [to_js(p) for p in payloads],
        },
    )
    assert out["decrypted"] == [to_js(p) for p in payloads]
    assert len(out["encrypted"]) == len(payloads)
    for hex_, p in zip(out["encrypted"], payloads, strict=True):
        assert sp.decrypt(bytes.fromhex(hex_)) == p
    assert SecurePayload(b"\x00" * 32).decrypt(bytes.fromhex(out["encrypted"][0])) is None

"""hyperpunch.dht.noise_wrap against hyperdht lib/noise-wrap.js: the IK transcript with fixed
static and ephemeral keys, the decoded payloads, and final() on both sides."""

from __future__ import annotations

from typing import Any

import pytest
from dht_helpers import noise_payload_from_js, to_js

from hyperpunch.crypto import key_pair
from hyperpunch.dht import NoiseWrap
from hyperpunch.dht.errors import HandshakeUnfinishedError
from hyperpunch.dht.messages import NoisePayload, UdxInfo
from hyperpunch.encoding import DecodeError
from hyperpunch.errors import LocalError, RemoteError
from hyperpunch.noise import HandshakeInvalidError
from hyperpunch.secretstream import PresetHandshake
from refvectors import section

V = section("dht")["noiseWrap"]


def _pair() -> tuple[NoiseWrap, NoiseWrap]:
    client = key_pair(bytes.fromhex(V["clientSeed"]))
    server = key_pair(bytes.fromhex(V["serverSeed"]))
    assert client.public_key.hex() == V["clientPublicKey"]
    assert server.public_key.hex() == V["serverPublicKey"]
    initiator = NoiseWrap(
        client, server.public_key, ephemeral_key_pair=key_pair(bytes.fromhex(V["clientEphemeralSeed"]))
    )
    responder = NoiseWrap(server, ephemeral_key_pair=key_pair(bytes.fromhex(V["serverEphemeralSeed"])))
    return initiator, responder


def _final_js(w: NoiseWrap) -> dict[str, Any]:
    f = w.final()
    return {
        "isInitiator": f.is_initiator,
        "publicKey": f.public_key.hex(),
        "remotePublicKey": f.remote_public_key.hex(),
        "remoteId": f.remote_id.hex(),
        "holepunchSecret": f.holepunch_secret.hex(),
        "hash": f.hash.hex(),
        "rx": f.rx.hex(),
        "tx": f.tx.hex(),
    }


def test_transcript_matches_js() -> None:
    initiator, responder = _pair()
    assert initiator.is_initiator and not responder.is_initiator
    m1 = initiator.send(noise_payload_from_js(V["clientPayload"]))
    assert m1.hex() == V["message1"]
    got1 = responder.recv(m1)
    assert to_js(got1) == V["serverReceived"]
    assert responder.remote_public_key is not None
    assert responder.remote_public_key.hex() == V["clientPublicKey"]
    m2 = responder.send(noise_payload_from_js(V["serverPayload"]))
    assert m2.hex() == V["message2"]
    assert to_js(initiator.recv(m2)) == V["clientReceived"]
    assert _final_js(initiator) == V["initiator"]
    assert _final_js(responder) == V["responder"]


def test_python_decodes_js_messages_as_responder_and_initiator() -> None:
    # feed JS's own messages: the responder side accepts JS m1, the initiator accepts JS m2
    initiator, responder = _pair()
    assert to_js(responder.recv(bytes.fromhex(V["message1"]))) == V["serverReceived"]
    initiator.send(noise_payload_from_js(V["clientPayload"]))
    assert to_js(initiator.recv(bytes.fromhex(V["message2"]))) == V["clientReceived"]


def test_preset_handshake_pairs_up() -> None:
    initiator, responder = _pair()
    responder.recv(initiator.send(NoisePayload(udx=UdxInfo(1))))
    initiator.recv(responder.send(NoisePayload(udx=UdxInfo(2))))
    a = initiator.final().preset_handshake()
    b = responder.final().preset_handshake()
    assert isinstance(a, PresetHandshake)
    assert a.tx == b.rx and a.rx == b.tx and a.hash == b.hash
    assert a.remote_public_key == b.public_key and b.remote_public_key == a.public_key
    assert initiator.final().holepunch_secret == responder.final().holepunch_secret


def test_final_before_complete_is_local_error_with_js_code() -> None:
    initiator, responder = _pair()
    with pytest.raises(HandshakeUnfinishedError) as info:
        initiator.final()
    assert info.value.code == V["unfinishedError"] == "HANDSHAKE_UNFINISHED"
    assert isinstance(info.value, LocalError)
    responder.recv(initiator.send(NoisePayload()))
    with pytest.raises(HandshakeUnfinishedError):
        responder.final()


def test_tampered_message_is_remote_error() -> None:
    _, responder = _pair()
    bad = bytearray.fromhex(V["message1"])
    bad[-1] ^= 1
    with pytest.raises(HandshakeInvalidError) as info:
        responder.recv(bytes(bad))
    assert isinstance(info.value, RemoteError)


def test_undecodable_payload_is_decode_error() -> None:
    initiator, responder = _pair()
    # a well-formed Noise message whose payload is not a noisePayload (truncated uint)
    m1 = initiator.handshake.send(b"\xfd")
    with pytest.raises(DecodeError):
        responder.recv(m1)

"""Byte-for-byte comparison with transcripts made by @hyperswarm/secret-stream 6.9.2 (interop/vectors/secretstream.js)."""

from __future__ import annotations

from typing import Any

import pytest
from secretstream_helpers import Side, connect, send

from hyperpunch.crypto import key_pair
from hyperpunch.secretstream import (
    NS_INITIATOR,
    NS_RESPONDER,
    NS_SEND,
    PresetHandshake,
    SecretStreamCore,
    SendBox,
    replication_capability,
    send_keys,
    stream_id,
)
from refvectors import section

H = bytes.fromhex


def vec(name: str) -> Any:
    return section("secretstream")[name]


def test_namespaces() -> None:
    assert [NS_INITIATOR.hex(), NS_RESPONDER.hex(), NS_SEND.hex()] == vec("namespaces")


def handshake_pair(v: dict[str, Any]) -> tuple[Side, Side]:
    ik = v["pattern"] == "IK"
    a = SecretStreamCore(
        True,
        key_pair=key_pair(H(v["initiatorSeed"])),
        ephemeral_key_pair=key_pair(H(v["initiatorEphemeralSeed"])),
        push_header=H(v["initiatorPushHeader"]),
        pattern=v["pattern"],
        remote_public_key=H(v["responderPublicKey"]) if ik else None,
    )
    b = SecretStreamCore(
        False,
        key_pair=key_pair(H(v["responderSeed"])),
        ephemeral_key_pair=key_pair(H(v["responderEphemeralSeed"])),
        push_header=H(v["responderPushHeader"]),
        pattern=v["pattern"],
    )
    return connect(a, b)


def exchange(a: Side, b: Side, v: dict[str, Any], chunk: int | None = None) -> None:
    for m in v["messagesFromInitiator"]:
        send(a, b, H(m), chunk=chunk)
    for m in v["messagesFromResponder"]:
        send(b, a, H(m), chunk=chunk)
    assert a.wire.hex() == v["i2r"]
    assert b.wire.hex() == v["r2i"]
    assert [m.hex() for m in b.messages] == v["receivedByResponder"]
    assert [m.hex() for m in a.messages] == v["receivedByInitiator"]
    assert not a.closed and not b.closed


@pytest.mark.parametrize("name", ["xx", "ik"])
def test_handshake_transcript(name: str) -> None:
    v = vec(name)
    a, b = handshake_pair(v)
    exchange(a, b, v)
    assert a.core.handshake_hash == b.core.handshake_hash == H(v["handshakeHash"])
    assert a.core.public_key == H(v["initiatorPublicKey"])
    assert a.core.remote_public_key == H(v["initiatorSeesRemote"])
    assert b.core.remote_public_key == H(v["responderSeesRemote"])
    (ha,) = a.handshakes
    (hb,) = b.handshakes
    assert ha.remote_public_key == H(v["responderPublicKey"])
    assert hb.remote_public_key == H(v["initiatorPublicKey"])
    assert ha.handshake_hash == hb.handshake_hash == H(v["handshakeHash"])


@pytest.mark.parametrize("name", ["xx", "ik"])
def test_stream_ids_send_keys_and_capability(name: str) -> None:
    v = vec(name)
    h = H(v["handshakeHash"])
    assert stream_id(h, True).hex() == v["initiatorId"]
    assert stream_id(h, False).hex() == v["responderId"]
    assert send_keys(h, True)[0].hex() == v["initiatorSendKey"]
    assert send_keys(h, False)[0].hex() == v["responderSendKey"]
    assert send_keys(h, True)[1].hex() == v["responderSendKey"]
    core_key = H(v["capabilityCoreKey"])
    assert replication_capability(h, True, core_key).hex() == v["capabilityInitiator"]
    assert replication_capability(h, False, core_key).hex() == v["capabilityResponder"]


@pytest.mark.parametrize("name", ["xx", "ik"])
def test_unordered_send_boxes(name: str) -> None:
    v = vec(name)
    h = H(v["handshakeHash"])
    box_i = SendBox(h, True, H(v["initiatorSendCounter"]))
    box_r = SendBox(h, False, H(v["responderSendCounter"]))
    datagram = H(v["datagram"])
    assert [box_i.box(datagram).hex() for _ in v["initiatorBoxes"]] == v["initiatorBoxes"]
    assert [box_r.box(datagram).hex() for _ in v["responderBoxes"]] == v["responderBoxes"]
    opened = [box_r.open(H(x)) for x in v["initiatorBoxes"]]
    assert [o.hex() for o in opened if o is not None] == v["responderOpened"]
    assert box_i.open(H(v["responderBoxes"][0])) == datagram
    # a box that does not authenticate is dropped (None), as JS does silently
    bad = bytearray(H(v["initiatorBoxes"][0]))
    bad[-1] ^= 1
    assert box_r.open(bytes(bad)) is None
    assert box_r.open(b"short") is None


def test_core_send_box_uses_handshake_hash() -> None:
    v = vec("xx")
    a, b = handshake_pair(v)
    assert a.core.send_box is not None and b.core.send_box is not None
    assert a.core.send_box.encrypt_key.hex() == v["initiatorSendKey"]
    assert b.core.send_box.encrypt_key.hex() == v["responderSendKey"]
    assert b.core.send_box.open(a.core.send_box.box(b"ping")) == b"ping"


@pytest.mark.parametrize("chunk", [None, 1, 7, 64])
def test_preset_transcript(chunk: int | None) -> None:
    v = vec("preset")
    tx, rx, h = H(v["initiatorTx"]), H(v["initiatorRx"]), H(v["handshakeHash"])
    pk_i, pk_r = H(v["initiatorPublicKey"]), H(v["responderPublicKey"])
    a = SecretStreamCore(
        True, handshake=PresetHandshake(tx, rx, h, pk_i, pk_r), push_header=H(v["initiatorPushHeader"])
    )
    b = SecretStreamCore(
        False, handshake=PresetHandshake(rx, tx, h, pk_r, pk_i), push_header=H(v["responderPushHeader"])
    )
    sa, sb = connect(a, b)
    assert len(sa.handshakes) == len(sb.handshakes) == 1
    exchange(sa, sb, v, chunk)
    assert sa.core.remote_public_key == pk_r and sb.core.remote_public_key == pk_i


def test_xx_transcript_fed_byte_by_byte() -> None:
    v = vec("xx")
    a = SecretStreamCore(
        True,
        key_pair=key_pair(H(v["initiatorSeed"])),
        ephemeral_key_pair=key_pair(H(v["initiatorEphemeralSeed"])),
        push_header=H(v["initiatorPushHeader"]),
    )
    b = SecretStreamCore(
        False,
        key_pair=key_pair(H(v["responderSeed"])),
        ephemeral_key_pair=key_pair(H(v["responderEphemeralSeed"])),
        push_header=H(v["responderPushHeader"]),
    )
    # the responder receives the JS initiator's whole transcript one byte at a time
    rb = Side(b)
    rb.events += b.start()
    for byte in H(v["i2r"]):
        rb.events += b.receive_data(bytes([byte]))
        rb.wire += b.data_to_send()
    assert [m.hex() for m in rb.messages] == v["receivedByResponder"]
    assert rb.wire.hex() == v["r2i"][: len(rb.wire) * 2]
    # and the initiator the JS responder's
    ra = Side(a)
    ra.events += a.start()
    ra.wire += a.data_to_send()
    for byte in H(v["r2i"]):
        ra.events += a.receive_data(bytes([byte]))
        ra.wire += a.data_to_send()
    assert [m.hex() for m in ra.messages] == v["receivedByInitiator"]
    assert v["i2r"].startswith(ra.wire.hex())

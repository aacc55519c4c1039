"""hyperpunch.dht.messages against hyperdht 6.34 lib/messages.js: JS bytes <-> Python both ways,
JS decode results (including bytes JS only decodes or refuses), and properties."""

from __future__ import annotations

from typing import Any

import pytest
from dht_helpers import CODECS, build, to_js

from hyperpunch.dht import messages as m
from hyperpunch.encoding import Address, DecodeError, EncodeError, decode, encode
from refvectors import section

VEC = section("dht")
CODEC_CASES = [(name, i, case) for name, cases in VEC["codecs"].items() for i, case in enumerate(cases)]
DECODE_ONLY = [(name, i, case) for name, cases in VEC["decodeOnly"].items() for i, case in enumerate(cases)]


def test_every_js_codec_has_vectors() -> None:
    assert set(VEC["codecs"]) == set(CODECS)


def _value(name: str, case: dict[str, Any]) -> Any:
    if name == "lookupRawReply":
        records = [bytes.fromhex(r) for r in case["input"]["records"]]
        return m.LookupReply([decode(m.peer, r, exact=True) for r in records], case["input"]["bump"])
    return build(name, case["input"])


@pytest.mark.parametrize(("name", "i", "case"), CODEC_CASES, ids=[f"{n}-{i}" for n, i, _ in CODEC_CASES])
def test_encode_matches_js(name: str, i: int, case: dict[str, Any]) -> None:
    assert encode(CODECS[name], _value(name, case)).hex() == case["hex"]


@pytest.mark.parametrize(("name", "i", "case"), CODEC_CASES, ids=[f"{n}-{i}" for n, i, _ in CODEC_CASES])
def test_decode_js_bytes(name: str, i: int, case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["hex"])
    value = decode(CODECS[name], data, exact=True)
    assert to_js(value) == case["decoded"]
    assert encode(CODECS[name], value) == data


@pytest.mark.parametrize(("name", "i", "case"), DECODE_ONLY, ids=[f"{n}-{i}" for n, i, _ in DECODE_ONLY])
def test_decode_only_inputs_like_js(name: str, i: int, case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["hex"])
    if case["ok"]:
        assert to_js(decode(CODECS[name], data)) == case["value"]
    else:
        with pytest.raises(DecodeError):
            decode(CODECS[name], data)


def test_lookup_raw_reply_from_records_matches_js() -> None:
    for case in VEC["codecs"]["lookupRawReply"]:
        records = [bytes.fromhex(r) for r in case["input"]["records"]]
        assert m.encode_lookup_raw_reply(records, case["input"]["bump"]).hex() == case["hex"]


def test_noise_payload_other_version_is_reported_not_read() -> None:
    p = decode(m.noise_payload, bytes.fromhex("02ffffff"))
    assert p.version == 2
    assert p == m.NoisePayload(version=2)


def test_empty_lists_follow_js_truthiness() -> None:
    # empty addresses4 is left out; empty relay_addresses / holepunch addresses are present
    assert encode(m.noise_payload, m.NoisePayload(addresses4=[])) == encode(m.noise_payload, m.NoisePayload())
    assert encode(m.noise_payload, m.NoisePayload(relay_addresses=[])).hex() == "0140000000"
    assert encode(m.holepunch_payload, m.HolepunchPayload(addresses=[])).hex() == "0400000000"


@pytest.mark.parametrize(
    ("codec", "value"),
    [
        (m.peer, m.Peer(b"\x01" * 31)),
        (m.announce, m.Announce(refresh=b"\x00" * 31)),
        (m.announce, m.Announce(signature=b"\x00" * 63)),
        (m.holepunch_payload, m.HolepunchPayload(token=b"\x00" * 33)),
        (m.noise_payload, m.NoisePayload(relay_through=m.RelayThroughInfo(b"\x00" * 32, b"\x00"))),
        (m.mutable_get_response, m.MutableGetResponse(0, b"", b"\x00" * 10)),
        (m.handshake, m.Handshake(0, b"", peer_address=Address("not-an-ip", 1))),
        (m.handshake, m.Handshake(-1, b"")),
    ],
)
def test_bad_values_raise_encode_error(codec: Any, value: Any) -> None:
    with pytest.raises(EncodeError):
        encode(codec, value)

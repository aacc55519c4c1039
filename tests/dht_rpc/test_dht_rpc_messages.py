"""dht-rpc wire messages, ids, tokens: byte-exact against JS dht-rpc's own encoders."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperpunch.dht_rpc import (
    RequestMessage,
    ResponseMessage,
    decode_message,
    encode_request,
    encode_response,
    peer_id,
)
from hyperpunch.dht_rpc.messages import validate_id
from hyperpunch.dht_rpc.requests import IO
from hyperpunch.dht_rpc.routing_table import RoutingTable
from hyperpunch.dht_rpc.timers import Timers
from hyperpunch.encoding import Address, DecodeError, EncodeError
from refvectors import section

V = section("dht_rpc")


def _b(h: str | None) -> bytes | None:
    return None if h is None else bytes.fromhex(h)


@pytest.mark.parametrize("v", V["requests"], ids=lambda v: v["name"])
def test_request_vectors(v: dict) -> None:
    m = RequestMessage(
        tid=v["tid"],
        to=Address(v["to"]["host"], v["to"]["port"]),
        command=v["command"],
        internal=v["internal"],
        id=_b(v["id"]),
        token=_b(v["token"]),
        target=_b(v["target"]),
        value=_b(v["value"]),
    )
    assert encode_request(m).hex() == v["bytes"]
    assert decode_message(bytes.fromhex(v["bytes"])) == m


@pytest.mark.parametrize("v", V["responses"], ids=lambda v: v["name"])
def test_response_vectors(v: dict) -> None:
    closer = None if v["closer_nodes"] is None else [Address(h, p) for h, p in v["closer_nodes"]]
    m = ResponseMessage(
        tid=v["tid"],
        to=Address(v["to"]["host"], v["to"]["port"]),
        id=_b(v["id"]),
        token=_b(v["token"]),
        closer_nodes=closer,
        error=v["error"],
        value=_b(v["value"]),
    )
    assert encode_response(m).hex() == v["bytes"]
    assert decode_message(bytes.fromhex(v["bytes"])) == m


def test_ids() -> None:
    for v in V["ids"]:
        assert peer_id(v["host"], v["port"]).hex() == v["id"]
        assert validate_id(bytes.fromhex(v["id"]), v["host"], v["port"]) == bytes.fromhex(v["id"])
        assert validate_id(bytes.fromhex(v["id"]), v["host"], (v["port"] + 1) & 0xFFFF) is None
    assert validate_id(None, "127.0.0.1", 1) is None


def _io_with_secrets(secrets: list[str]) -> IO:
    table = RoutingTable(bytes(32))
    io = IO(table, Timers(), lambda *a: None, random_bytes=lambda n: bytes(n))
    io._secrets = [bytearray(bytes.fromhex(s)) for s in secrets]
    return io


def test_tokens_and_rotation() -> None:
    t = V["tokens"]
    io = _io_with_secrets(t["secrets"])
    for host, (t0, t1) in zip(t["hosts"], t["before"], strict=True):
        assert io.token(host, 0).hex() == t0
        assert io.token(host, 1).hex() == t1
    io._rotate_secrets = 10
    for _i in range(10):
        io._drain()
    for host, (t0, t1) in zip(t["hosts"], t["after"], strict=True):
        assert (io.token(host, 0).hex(), io.token(host, 1).hex()) == (t0, t1)
    for _ in range(10):
        io._drain()
    for host, (t0, t1) in zip(t["hosts"], t["after2"], strict=True):
        assert (io.token(host, 0).hex(), io.token(host, 1).hex()) == (t0, t1)


def test_relay_vectors() -> None:
    """req.relay keeps tid/command/target, drops the token, adds our id only on the server socket."""
    r = V["relays"]
    sent: list[tuple[object, bytes, int, str]] = []
    table = RoutingTable(bytes.fromhex(r["table_id"]))
    io = IO(table, Timers(), lambda s, d, p, h, ttl: sent.append((s, d, p, h)))
    io.ephemeral = False
    io.bind("server", "client")
    from hyperpunch.dht_rpc.requests import IncomingRequest, Peer

    m = RequestMessage(
        r["tid"],
        Address("1.1.1.1", 1),
        r["command"],
        False,
        None,
        b"\x04" * 32,
        bytes.fromhex(r["target"]),
        b"orig",
    )
    req = IncomingRequest(io, "server", Peer("127.0.0.1", 7), m)
    req.relay(b"relayed", Address("10.0.0.2", 3456))
    req.socket = "client"
    req.relay(None, ("10.0.0.3", 3457))
    assert sent[0][1].hex() == r["server"]["hex"] and sent[0][2:] == (3456, "10.0.0.2")
    assert sent[1][1].hex() == r["client"]["hex"] and sent[1][0] == "client"


def test_encode_rejects_bad_fields() -> None:
    with pytest.raises(EncodeError):
        encode_request(RequestMessage(1, Address("1.2.3.4", 1), 0, id=b"short"))
    with pytest.raises(EncodeError):
        encode_request(RequestMessage(1, Address("not-an-ip", 1), 0))


@st.composite
def requests(draw: st.DrawFn) -> RequestMessage:
    b32 = st.none() | st.binary(min_size=32, max_size=32)
    return RequestMessage(
        tid=draw(st.integers(0, 65535)),
        to=Address(draw(st.ip_addresses(v=4).map(str)), draw(st.integers(0, 65535))),
        command=draw(st.integers(0, 2**40)),
        internal=draw(st.booleans()),
        id=draw(b32),
        token=draw(b32),
        target=draw(b32),
        value=draw(st.none() | st.binary(max_size=400)),
    )


@st.composite
def responses(draw: st.DrawFn) -> ResponseMessage:
    b32 = st.none() | st.binary(min_size=32, max_size=32)
    addr = st.builds(Address, st.ip_addresses(v=4).map(str), st.integers(0, 65535))
    return ResponseMessage(
        tid=draw(st.integers(0, 65535)),
        to=draw(addr),
        id=draw(b32),
        token=draw(b32),
        closer_nodes=draw(st.none() | st.lists(addr, min_size=1, max_size=25)),
        error=draw(st.integers(0, 2**33)),
        value=draw(st.none() | st.binary(max_size=400)),
    )


@given(requests())
def test_request_round_trip(m: RequestMessage) -> None:
    assert decode_message(encode_request(m)) == m


@given(responses())
def test_response_round_trip(m: ResponseMessage) -> None:
    assert decode_message(encode_response(m)) == m


@settings(max_examples=500)
@given(st.binary(max_size=200))
def test_random_bytes_decode_error_only(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_message(data)


@settings(max_examples=300)
@given(requests(), st.data())
def test_truncated_or_flipped_never_crashes(m: RequestMessage, data: st.DataObject) -> None:
    raw = bytearray(encode_request(m))
    cut = data.draw(st.integers(0, len(raw)))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    for blob in (bytes(raw[:cut]), bytes(raw)):
        with contextlib.suppress(DecodeError):
            decode_message(blob)


def test_peer_id_is_blake2b_of_ipv4_address() -> None:
    expected = hashlib.blake2b(bytes([127, 0, 0, 1]) + (49737).to_bytes(2, "little"), digest_size=32).digest()
    assert peer_id("127.0.0.1", 49737) == expected

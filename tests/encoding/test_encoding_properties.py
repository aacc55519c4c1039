"""Properties of hyperpunch.encoding: round trips for every codec, preencode sizes, refusals, and a
fuzz property (decoding any bytes returns a value or raises DecodeError, nothing else)."""

from __future__ import annotations

import ipaddress
import math
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpunch import encoding as c
from hyperpunch.encoding import (
    MAX_SAFE_INT,
    MAX_SAFE_UINT,
    MIN_SAFE_INT,
    Address,
    Codec,
    DecodeError,
    EncodeError,
    State,
)

ipv4_hosts = st.ip_addresses(v=4).map(str)
ipv6_hosts = st.ip_addresses(v=6).map(lambda a: a.exploded)  # JS cannot encode the dotted forms
ports = st.integers(0, 0xFFFF)
bytes32 = st.binary(min_size=32, max_size=32)


def signed(bits: int) -> st.SearchStrategy[int]:
    return st.integers(max(-(2 ** (bits - 1)), MIN_SAFE_INT), min(2 ** (bits - 1) - 1, MAX_SAFE_INT))


def unsigned(bits: int) -> st.SearchStrategy[int]:
    return st.integers(0, min(2**bits - 1, MAX_SAFE_UINT))


# name -> (codec, strategy of values that round-trip exactly)
ROUND_TRIP: dict[str, tuple[Codec[Any], st.SearchStrategy[Any]]] = {
    "uint": (c.uint, unsigned(64)),
    "uint8": (c.uint8, unsigned(8)),
    "uint16": (c.uint16, unsigned(16)),
    "uint24": (c.uint24, unsigned(24)),
    "uint32": (c.uint32, unsigned(32)),
    "uint40": (c.uint40, unsigned(40)),
    "uint48": (c.uint48, unsigned(48)),
    "uint56": (c.uint56, unsigned(56)),
    "uint64": (c.uint64, unsigned(64)),
    "uint32be": (c.uint32be, unsigned(32)),
    "uint64be": (c.uint64be, unsigned(64)),
    "int": (c.int_, st.integers(MIN_SAFE_INT, MAX_SAFE_INT)),
    "int8": (c.int8, signed(8)),
    "int16": (c.int16, signed(16)),
    "int24": (c.int24, signed(24)),
    "int32": (c.int32, signed(32)),
    "int40": (c.int40, signed(40)),
    "int48": (c.int48, signed(48)),
    "int56": (c.int56, signed(56)),
    "int64": (c.int64, signed(64)),
    "bool": (c.bool_, st.booleans()),
    "float64": (c.float64, st.floats(allow_nan=False)),
    "float32": (c.float32, st.floats(width=32, allow_nan=False)),
    "buffer": (c.buffer, st.binary(max_size=300)),
    "uint8array": (c.uint8array, st.binary(max_size=300)),
    "optional_buffer": (c.optional_buffer, st.none() | st.binary(min_size=1, max_size=300)),
    "raw": (c.raw, st.binary(max_size=100)),
    "fixed32": (c.fixed32, bytes32),
    "fixed64": (c.fixed64, st.binary(min_size=64, max_size=64)),
    "fixed(5)": (c.fixed(5), st.binary(min_size=5, max_size=5)),
    "utf8": (c.utf8, st.text(max_size=300)),
    "uint32array": (c.uint32array, st.lists(unsigned(32), max_size=20)),
    "array(uint)": (c.array(c.uint), st.lists(unsigned(64), max_size=20)),
    "array(utf8)": (c.array(c.utf8), st.lists(st.text(max_size=10), max_size=10)),
    "array(array(int))": (c.array(c.array(c.int_)), st.lists(st.lists(signed(64), max_size=4), max_size=4)),
    "frame(uint)": (c.frame(c.uint), unsigned(64)),
    "frame(array(buffer))": (c.frame(c.array(c.buffer)), st.lists(st.binary(max_size=20), max_size=5)),
    "record(utf8, uint)": (
        c.record(c.utf8, c.uint),
        st.dictionaries(st.text(max_size=8), unsigned(64), max_size=6),
    ),
    "string_record": (c.string_record, st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=6)),
    "ipv4": (c.ipv4, ipv4_hosts),
    "ipv4_address": (c.ipv4_address, st.builds(Address, ipv4_hosts, ports)),
    "ipv6": (c.ipv6, ipv6_hosts),
    "ipv6_address": (c.ipv6_address, st.builds(Address, ipv6_hosts, ports)),
    "ip": (c.ip, ipv4_hosts | ipv6_hosts),
    "ip_address": (c.ip_address, st.builds(Address, ipv4_hosts | ipv6_hosts, ports)),
    "array(ipv4_address)": (
        c.array(c.ipv4_address),
        st.lists(st.builds(Address, ipv4_hosts, ports), max_size=5),
    ),
}


def same(codec: Codec[Any], a: Any, b: Any) -> bool:
    if codec in (c.ipv6, c.ip) and isinstance(a, str) and ":" in a:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    if isinstance(a, Address) and ":" in a.host:
        return ipaddress.ip_address(a.host) == ipaddress.ip_address(b.host) and a.port == b.port
    if isinstance(a, float) and a == 0:
        return b == 0 and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list) and a and isinstance(a[0], Address):
        return all(same(codec, x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)


@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_round_trip(name: str) -> None:
    codec, values = ROUND_TRIP[name]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values)
    def check(value: Any) -> None:
        data = c.encode(codec, value)
        sizer = c.encode_state()
        codec.preencode(sizer, value)
        assert sizer.end == len(data)
        back = c.decode(codec, data, exact=True)
        assert same(codec, value, back), (value, back)
        assert c.encode(codec, back) == data

    check()


# name -> codec, for the fuzz property (every codec above plus the benchmark's composed message)
def fuzz_codecs() -> dict[str, Codec[Any]]:
    from bench.bench_encoding import REQUEST

    out = {name: codec for name, (codec, _) in ROUND_TRIP.items()}
    out["request"] = REQUEST
    out["record(uint, buffer)"] = c.record(c.uint, c.buffer)
    out["frame(frame(utf8))"] = c.frame(c.frame(c.utf8))
    return out


FUZZ = fuzz_codecs()
prefixes = st.sampled_from([b"", b"\xfd", b"\xfe", b"\xff", b"\x03", b"\x04", b"\x06", b"\x01", b"\x05"])


@pytest.mark.parametrize("name", list(FUZZ))
def test_decode_of_any_bytes_returns_or_raises_decode_error(name: str) -> None:
    codec = FUZZ[name]

    @settings(max_examples=300, deadline=None)
    @given(prefixes, st.binary(max_size=64), st.integers(0, 8))
    def check(prefix: bytes, body: bytes, slack: int) -> None:
        data = prefix + body
        # decode a window of a larger buffer: the codec must respect state.end, not len(buffer)
        end = max(0, len(data) - slack)
        state = State(0, end, data)
        try:
            codec.decode(state)
        except DecodeError:
            return
        assert 0 <= state.start <= end

    check()


@given(st.binary(max_size=40))
@settings(max_examples=300, deadline=None)
def test_utf8_decodes_like_a_replacing_decoder(body: bytes) -> None:
    data = c.encode(c.uint, len(body)) + body
    assert c.decode(c.utf8, data) == body.decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("codec", "value"),
    [
        (c.uint, -1),
        (c.uint, MAX_SAFE_UINT + 1),
        (c.uint8, -1),
        (c.uint16, MAX_SAFE_UINT + 1),
        (c.uint24, -5),
        (c.uint64, MAX_SAFE_UINT + 1),
        (c.uint64be, 2**64),
        (c.int_, MAX_SAFE_INT + 1),
        (c.int_, MIN_SAFE_INT - 1),
        (c.int8, 2**60),
        (c.uint, 1.5),
        (c.uint, "1"),
        (c.uint, None),
        (c.uint16, 2.0),
        (c.buffer, None),
        (c.buffer, "abc"),
        (c.fixed32, b"x" * 31),
        (c.fixed32, b"x" * 33),
        (c.utf8, b"bytes"),
        (c.ipv4, "1.2.3"),
        (c.ipv4, "256.1.1.1"),
        (c.ipv4, "::1"),
        (c.ipv6, "::ffff:1.2.3.4"),
        (c.ipv6, "fe80::1%eth0"),
        (c.ipv6, "nope"),
        (c.ipv4_address, ("1.2.3.4", -1)),
        (c.ipv4_address, ("1.2.3.4", None)),
        (c.array(c.uint), [1, -1]),
        (c.uint32array, [2**32]),
        (c.float64, "x"),
    ],
)
def test_encode_refuses(codec: Codec[Any], value: Any) -> None:
    with pytest.raises(EncodeError):
        c.encode(codec, value)


def test_fixed_width_keeps_low_bytes_like_js() -> None:
    # values from the JS reference's behaviour (see the corpus: uint8-truncates, int8-truncates)
    assert c.encode(c.uint8, 256) == b"\x00"
    assert c.encode(c.int8, 128) == b"\x00"


def test_decode_ignores_trailing_bytes_unless_exact() -> None:
    assert c.decode(c.uint, b"\x01\x61") == 1
    with pytest.raises(DecodeError):
        c.decode(c.uint, b"\x01\x61", exact=True)
    assert c.decode(c.uint, bytearray(b"\x05")) == 5
    assert c.decode(c.uint, memoryview(b"\x06")) == 6


def test_array_count_ceiling() -> None:
    ok = c.encode(c.uint, c.ARRAY_MAX) + bytes(c.ARRAY_MAX)
    assert len(c.decode(c.array(c.uint8), ok)) == c.ARRAY_MAX
    with pytest.raises(DecodeError, match="Array is too big"):
        c.decode(c.array(c.uint8), c.encode(c.uint, c.ARRAY_MAX + 1) + bytes(c.ARRAY_MAX + 1))


def test_record_orders_keys_like_js_object_keys() -> None:
    # JS Object.keys lists array-index keys first, ascending, then the rest in insertion order
    rec = c.record(c.utf8, c.uint)
    data = c.encode(rec, {"b": 1, "10": 2, "a": 3, "2": 4, "01": 5})
    decoded: dict[str, int] = c.decode(rec, data)
    keys = list(decoded)
    assert keys == ["2", "10", "b", "a", "01"]


def test_float32_nan_payload_is_quieted_at_32_bits() -> None:
    value = c.decode(c.float32, bytes.fromhex("0100807f"))
    assert math.isnan(value)
    assert c.encode(c.float32, value).hex() == "0100c07f"
    assert struct.pack("<d", value).hex() == "000000200000f87f"


def test_message_struct_round_trips_every_flag_combination() -> None:
    from bench.bench_encoding import REQUEST, Request

    @settings(max_examples=200, deadline=None)
    @given(
        st.builds(
            Request,
            unsigned(16),
            st.builds(Address, ipv4_hosts, ports),
            st.none() | bytes32,
            st.none() | bytes32,
            st.booleans(),
            unsigned(64),
            st.none() | bytes32,
            st.none() | st.binary(max_size=200),
        )
    )
    def check(msg: Request) -> None:
        data = c.encode(REQUEST, msg)
        flags = data[1]
        fields = [msg.id, msg.token, msg.internal or None, msg.target, msg.value]
        assert [bool(flags >> i & 1) for i in range(5)] == [f is not None for f in fields]
        assert c.decode(REQUEST, data, exact=True) == msg

    check()


def test_record_with_zero_width_pairs_does_not_loop_for_ever() -> None:
    # raw keys/values read the rest of the input: after the first pair every pair reads nothing
    data = c.encode(c.uint, MAX_SAFE_UINT) + b"ab"
    # JS (count 5): keys "ab" and "", both with empty values
    assert c.decode(c.record(c.raw, c.raw), data) == {b"ab": b"", b"": b""}

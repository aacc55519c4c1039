"""hyperpunch.encoding byte-for-byte against vectors computed by the pinned compact-encoding 3.5.2
(interop/vectors/encoding.js -> tests/vectors/reference.json, section "encoding")."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from hyperpunch import encoding as c
from hyperpunch.encoding import Address, Codec, DecodeError, State
from refvectors import section

BYTES = {"buffer", "optionalBuffer", "raw", "uint8array", "fixed8", "fixed16", "fixed32", "fixed64"}
FLOATS = {"float32", "float64"}
ADDRS = {"ipv4Address", "ipv6Address", "ipAddress"}

LEAVES: dict[str, Codec[Any]] = {
    "uint": c.uint,
    "uint8": c.uint8,
    "uint16": c.uint16,
    "uint24": c.uint24,
    "uint32": c.uint32,
    "uint40": c.uint40,
    "uint48": c.uint48,
    "uint56": c.uint56,
    "uint64": c.uint64,
    "uint32be": c.uint32be,
    "uint64be": c.uint64be,
    "int": c.int_,
    "int8": c.int8,
    "int16": c.int16,
    "int24": c.int24,
    "int32": c.int32,
    "int40": c.int40,
    "int48": c.int48,
    "int56": c.int56,
    "int64": c.int64,
    "bool": c.bool_,
    "float32": c.float32,
    "float64": c.float64,
    "buffer": c.buffer,
    "uint8array": c.uint8array,
    "optionalBuffer": c.optional_buffer,
    "raw": c.raw,
    "fixed8": c.fixed8,
    "fixed16": c.fixed16,
    "fixed32": c.fixed32,
    "fixed64": c.fixed64,
    "utf8": c.utf8,
    "string": c.string,
    "uint32array": c.uint32array,
    "ipv4": c.ipv4,
    "ipv4Address": c.ipv4_address,
    "ipv6": c.ipv6,
    "ipv6Address": c.ipv6_address,
    "ip": c.ip,
    "ipAddress": c.ip_address,
}

_COMPOSED = re.compile(r"^(array|frame)\((.*)\)$")


def codec(name: str) -> Codec[Any]:
    m = _COMPOSED.match(name)
    if m:
        inner = codec(m.group(2))
        return c.array(inner) if m.group(1) == "array" else c.frame(inner)
    return LEAVES[name]


def to_py(name: str, v: Any) -> Any:
    m = _COMPOSED.match(name)
    if m:
        return [to_py(m.group(2), x) for x in v] if m.group(1) == "array" else to_py(m.group(2), v)
    if v is None or name == "uint32array":
        return v
    if name in BYTES:
        return bytes.fromhex(v)
    if name in FLOATS:
        return float(v)  # float() reads "NaN", "Infinity", "-0" too
    if name in ADDRS:
        return Address(v[0], v[1])
    return v


def to_json(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        if v == 0 and math.copysign(1, v) < 0:
            return "-0"
        return v
    if isinstance(v, Address):
        return [v.host, v.port]
    if isinstance(v, list):
        return [to_json(x) for x in v]
    return v


ENCODES: list[dict[str, Any]] = section("encoding")["encodes"]
DECODES: list[dict[str, Any]] = section("encoding")["decodes"]


def test_vectors_cover_every_leaf_codec() -> None:
    assert {e["codec"] for e in ENCODES} >= set(LEAVES)


@pytest.mark.parametrize("vec", ENCODES, ids=[f"{i}-{e['codec']}" for i, e in enumerate(ENCODES)])
def test_encode_matches_reference(vec: dict[str, Any]) -> None:
    enc = codec(vec["codec"])
    value = to_py(vec["codec"], vec["value"])
    data = c.encode(enc, value)
    assert data.hex() == vec["hex"], (vec["codec"], vec["value"])
    # decoding the reference's bytes and re-encoding them gives the same bytes
    assert c.encode(enc, c.decode(enc, bytes.fromhex(vec["hex"]), exact=True)).hex() == vec["hex"]


@pytest.mark.parametrize("vec", DECODES, ids=[f"{i}-{e['codec']}" for i, e in enumerate(DECODES)])
def test_decode_matches_reference(vec: dict[str, Any]) -> None:
    enc = codec(vec["codec"])
    data = bytes.fromhex(vec["hex"])
    state = State(0, len(data), data)
    try:
        value = enc.decode(state)
    except DecodeError:
        assert vec.get("rejects"), vec
        return
    assert not vec.get("rejects"), (vec, value)
    assert to_json(value) == vec["decodes"]
    assert state.start == vec["read"]
    if "bits" in vec:
        assert c.encode(enc, value).hex() == vec["bits"]
    if "family" in vec and vec["family"] in (4, 6):
        assert value.family == vec["family"]


MESSAGES: list[dict[str, Any]] = section("encoding")["messages"]


def _request(j: dict[str, Any]) -> Any:
    from bench.bench_encoding import Request

    def b(x: str | None) -> bytes | None:
        return None if x is None else bytes.fromhex(x)

    return Request(
        j["tid"],
        Address(*j["to"]),
        b(j["id"]),
        b(j["token"]),
        j["internal"],
        j["command"],
        b(j["target"]),
        b(j["value"]),
    )


@pytest.mark.parametrize("vec", MESSAGES, ids=[str(i) for i in range(len(MESSAGES))])
def test_composed_message_matches_reference(vec: dict[str, Any]) -> None:
    """The flags-then-optional-fields struct pattern (bench REQUEST) writes what the JS twin writes."""
    from bench.bench_encoding import REQUEST

    msg = _request(vec["message"])
    assert c.encode(REQUEST, msg).hex() == vec["hex"]
    assert c.decode(REQUEST, bytes.fromhex(vec["hex"]), exact=True) == msg


def test_benchmark_message_is_the_js_one() -> None:
    from bench.bench_encoding import REQUEST, typical

    assert c.encode(REQUEST, typical()).hex() == MESSAGES[-1]["hex"]

"""The hyperbee protobuf codecs: known vectors from JS, Hypothesis round-trips, and fuzzing that
only ever raises DecodeError."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from hyperpunch.encoding import DecodeError
from hyperpunch.hyperbee.messages import (
    CacheMessage,
    ExtensionMessage,
    GetMessage,
    Header,
    IteratorMessage,
    Level,
    Metadata,
    decode_extension,
    decode_header,
    decode_index,
    decode_node,
    encode_extension,
    encode_header,
    encode_index,
    encode_node,
)

U64 = st.integers(min_value=0, max_value=2**53)
OPT_BYTES = st.none() | st.binary(max_size=40)


def test_js_vectors() -> None:
    # written by JS hyperbee 2.27.3 (interop/scripts/hyperbee-ops.js)
    assert encode_header(Header()) == bytes.fromhex("0a086879706572626565")
    node = bytes.fromhex("0a050a030a01011201611a0162")
    n = decode_node(node)
    assert (n.key, n.value) == (b"a", b"b")
    assert decode_index(n.index) == [Level([1], [])]
    assert encode_node(b"a", b"b", encode_index([Level([1], [])])) == node
    # a compacted batch block: no levels at all
    assert encode_node(b"e", b"f", encode_index([])) == bytes.fromhex("0a001201651a0166")
    # a deletion (no value)
    assert encode_node(b"a", None, encode_index([Level([3, 2], [])])) == bytes.fromhex(
        "0a060a040a020302120161"
    )


@given(st.lists(st.tuples(st.lists(U64, max_size=9), st.lists(U64, max_size=20)), max_size=6))
def test_index_roundtrip(levels: list[tuple[list[int], list[int]]]) -> None:
    lv = [Level(k, c) for k, c in levels]
    assert decode_index(encode_index(lv)) == lv


@given(st.binary(max_size=64), st.binary(max_size=300), OPT_BYTES)
def test_node_roundtrip(index: bytes, key: bytes, value: bytes | None) -> None:
    n = decode_node(encode_node(key, value, index))
    assert (n.index, n.key, n.value) == (index, key, value)


@given(st.text(max_size=20), st.none() | st.builds(Metadata, OPT_BYTES, OPT_BYTES))
def test_header_roundtrip(protocol: str, md: Metadata | None) -> None:
    h = Header(protocol, md)
    assert decode_header(encode_header(h)) == h


EXT = st.builds(
    ExtensionMessage,
    st.none() | st.builds(CacheMessage, U64, U64, st.lists(U64, max_size=10).map(tuple)),
    st.none() | st.builds(GetMessage, U64, OPT_BYTES),
    st.none()
    | st.builds(
        IteratorMessage,
        U64,
        OPT_BYTES,
        OPT_BYTES,
        OPT_BYTES,
        OPT_BYTES,
        U64,
        st.booleans(),
        st.lists(U64, max_size=12).map(tuple),
    ),
)


@given(EXT)
def test_extension_roundtrip(m: ExtensionMessage) -> None:
    assert decode_extension(encode_extension(m)) == m


@given(st.binary(max_size=200))
def test_fuzz_only_decode_error(data: bytes) -> None:
    for dec in (decode_node, decode_header, decode_index, decode_extension):
        with contextlib.suppress(DecodeError):
            dec(data)


@given(EXT, st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=255))
def test_fuzz_mutated_extension(m: ExtensionMessage, pos: int, byte: int) -> None:
    raw = bytearray(encode_extension(m))
    if raw:
        raw[pos % len(raw)] = byte
    for cut in (len(raw), len(raw) // 2):
        with contextlib.suppress(DecodeError):
            decode_extension(bytes(raw[:cut]))

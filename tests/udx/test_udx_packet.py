"""The UDX header codec and 32-bit sequence arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperpunch.udx.errors import UDXDecodeError
from hyperpunch.udx.packet import (
    FLAG_DATA,
    FLAG_END,
    FLAG_SACK,
    MAX_SACKS,
    SACK_PAIR,
    decode_header,
    encode_packet,
    encode_sacks,
    is_stream_packet,
    seq_add,
    seq_diff,
)


def test_header_layout_matches_libudx() -> None:
    # magic, version, type, data_offset, then LE u32 remote id, rwnd, seq, ack
    pkt = encode_packet(FLAG_DATA | FLAG_END, 0x11223344, 0x00400000, 7, 0xFFFFFFFF, b"hi")
    assert pkt.hex() == "ff0103004433221100004000" + "07000000" + "ffffffff" + b"hi".hex()
    h = decode_header(pkt)
    assert (h.type, h.stream_id, h.rwnd, h.seq, h.ack) == (3, 0x11223344, 0x400000, 7, 0xFFFFFFFF)
    assert pkt[h.payload_offset :] == b"hi"


def test_sack_blocks_and_padding() -> None:
    pkt = encode_packet(0, 9, 100, 1, 2, sacks=((5, 7), (9, 12)))
    h = decode_header(pkt)
    assert h.type & FLAG_SACK and h.sacks == ((5, 7), (9, 12))
    padded = encode_packet(FLAG_DATA, 9, 100, 1, 2, b"payload", padding=32)
    h = decode_header(padded)
    assert h.data_offset == 32 and padded[h.payload_offset :] == b"payload"


@pytest.mark.parametrize(
    "buf",
    [b"", b"\xff\x01", b"\xfe\x01" + bytes(18), b"\xff\x02" + bytes(18), b"\xff\x01\x01\x05" + bytes(16)],
)
def test_decode_rejects_bad_input(buf: bytes) -> None:
    with pytest.raises(UDXDecodeError):
        decode_header(buf)


def test_is_stream_packet() -> None:
    assert is_stream_packet(encode_packet(0, 1, 0, 0, 0))
    assert not is_stream_packet(b"\x03" + bytes(30))
    assert not is_stream_packet(b"\xff\x01" + bytes(10))


def test_seq_wraparound() -> None:
    assert seq_diff(0, 0xFFFFFFFF) == 1
    assert seq_diff(0xFFFFFFFF, 0) == -1
    assert seq_diff(5, 3) == 2
    assert seq_add(0xFFFFFFFF, 2) == 1


@given(st.binary(max_size=200))
def test_decode_never_raises_other_errors(buf: bytes) -> None:
    try:
        h = decode_header(buf)
    except UDXDecodeError:
        return
    assert h.payload_offset <= len(buf)


@given(st.integers(0, 2**32 - 1), st.integers(-(2**31) + 1, 2**31 - 1))
def test_seq_diff_inverts_add(a: int, n: int) -> None:
    assert seq_diff(seq_add(a, n), a) == n


def test_sacks_are_runs_of_consecutive_seqs_across_the_wrap() -> None:
    base = 0xFFFFFFFE
    body = encode_sacks({0xFFFFFFFF, 0, 1, 5, 7, 8}, base)
    pairs = [SACK_PAIR.unpack_from(body, i) for i in range(0, len(body), 8)]
    assert pairs == [(0xFFFFFFFF, 2), (5, 6), (7, 9)]
    assert encode_sacks((), base) == b""
    assert len(encode_sacks(range(0, 4 * MAX_SACKS, 2), 0)) == 8 * MAX_SACKS

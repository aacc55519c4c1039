"""Hypothesis properties of the uint24 frame decoder (and of the core fed arbitrary bytes)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from secretstream_helpers import connect, make_pair

from hyperpunch.errors import RemoteError
from hyperpunch.secretstream import (
    Closed,
    FrameDecoder,
    MessageTooLargeError,
    SecretStreamCore,
    encode_frame,
    frame_header,
)

bodies = st.lists(st.binary(max_size=300), max_size=12)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in points:
        out.append(data[last:p])
        last = p
    out.append(data[last:])
    return out


@given(bodies, st.lists(st.integers(min_value=0), max_size=20))
def test_any_chunking_yields_the_same_frames(frames: list[bytes], cuts: list[int]) -> None:
    wire = b"".join(encode_frame(f) for f in frames)
    decoder = FrameDecoder()
    got: list[bytes] = []
    for chunk in split(wire, cuts):
        got += [bytes(f) for f in decoder.feed(chunk)]
    assert got == frames
    assert not decoder.has_partial and decoder.buffered == 0


@given(bodies, st.integers(min_value=0, max_value=4000))
def test_truncation_is_detected(frames: list[bytes], cut: int) -> None:
    wire = b"".join(encode_frame(f) for f in frames)
    boundaries, at = {0}, 0
    for f in frames:
        at += 3 + len(f)
        boundaries.add(at)
    cut = cut % (len(wire) + 1)
    decoder = FrameDecoder()
    got = [bytes(f) for f in decoder.feed(wire[:cut])]
    # the stream stopped inside a frame exactly when the cut is not on a frame boundary
    assert decoder.has_partial == (cut not in boundaries)
    assert got == frames[: len(got)]
    assert sum(3 + len(f) for f in got) + decoder.buffered == cut


@given(st.binary(max_size=2000), st.lists(st.integers(min_value=0), max_size=10))
def test_arbitrary_bytes_never_crash(data: bytes, cuts: list[int]) -> None:
    decoder = FrameDecoder()
    total = 0
    for chunk in split(data, cuts):
        for f in decoder.feed(chunk):
            total += 3 + len(f)
    assert total + decoder.buffered == len(data)


@given(st.binary(max_size=600), st.lists(st.integers(min_value=0), max_size=6))
@settings(max_examples=60)
def test_core_fed_garbage_fails_with_remote_errors_only(data: bytes, cuts: list[int]) -> None:
    # garbage at each stage: handshake (responder), and after the handshake (opened initiator)
    responder = SecretStreamCore(False)
    responder.start()
    a, _ = connect(*make_pair())
    for core in (responder, a.core):
        events = []
        for chunk in split(data, cuts):
            events += core.receive_data(chunk)
        events += core.receive_eof()
        for e in events:
            if isinstance(e, Closed):
                assert isinstance(e.error, RemoteError)


def test_frame_header_limits() -> None:
    assert frame_header(0) == b"\x00\x00\x00"
    assert frame_header(0xFFFFFF) == b"\xff\xff\xff"
    assert frame_header(0x010203) == b"\x03\x02\x01"
    with pytest.raises(MessageTooLargeError):
        frame_header(0x1000000)
    with pytest.raises(MessageTooLargeError):
        frame_header(-1)


def test_decoder_accepts_memoryview_and_bytearray() -> None:
    decoder = FrameDecoder()
    wire = encode_frame(b"abc") + encode_frame(b"")
    assert [bytes(f) for f in decoder.feed(bytearray(wire[:4]))] == []
    assert [bytes(f) for f in decoder.feed(memoryview(wire)[4:])] == [b"abc", b""]

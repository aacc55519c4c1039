"""Random frames into the core: ``feed`` never raises, and any fault is a typed RemoteError."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpunch import encoding as c
from hyperpunch.errors import RemoteError
from hyperpunch.protomux import MemoryHost, MessageSpec, ProtomuxCore


def uint(n: int) -> bytes:
    return c.encode(c.uint, n)


small_uint = st.one_of(st.integers(0, 6), st.integers(0, 2**16), st.integers(0, 2**53 - 1))
payload = st.binary(max_size=24)


@st.composite
def control(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 4))
    if kind == 1:
        protocol = draw(st.sampled_from(["p", "q", "paired", "x" * 3]))
        id_ = draw(st.one_of(st.none(), st.binary(min_size=1, max_size=4)))
        body = uint(draw(small_uint)) + c.encode(c.string, protocol) + c.encode(c.optional_buffer, id_)
        return bytes([kind]) + body + draw(payload)
    return bytes([kind]) + uint(draw(small_uint)) + draw(payload)


@st.composite
def item(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(control())
    return uint(draw(st.integers(0, 3))) + draw(payload)


@st.composite
def frame(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(st.binary(max_size=40))
    if choice == 1:
        return b"\x00" + draw(control())
    if choice == 2:
        return uint(draw(st.integers(1, 4))) + draw(item())
    out = bytearray(b"\x00\x00" + uint(draw(st.integers(0, 3))))
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 3)) == 0:
            out += b"\x00" + uint(draw(st.integers(0, 3)))
        body = draw(item())
        out += uint(draw(st.sampled_from([len(body), len(body), len(body) + 3, 0x10000]))) + body
    return bytes(out)


def make_mux() -> tuple[ProtomuxCore, MemoryHost, list[Any]]:
    host = MemoryHost()
    mux = ProtomuxCore(host)
    seen: list[Any] = []

    def rec(*args: Any) -> None:
        seen.append(args)

    for protocol in ("p", "q"):
        ch = mux.create_channel(
            protocol,
            handshake=c.uint,
            messages=[
                MessageSpec(c.uint, on_message=rec),
                MessageSpec(c.string, on_message=rec),
                None,
                MessageSpec(c.array(c.buffer), on_message=rec),
            ],
            on_open=rec,
            on_close=rec,
        )
        assert ch is not None
        ch.open(1)

    def notify(id: bytes | None) -> None:
        ch = mux.create_channel("paired", id=id, messages=[c.raw])
        if ch is not None:
            ch.open()

    mux.pair("paired", notify)
    mux.receive_data(b"\x00\x01\x01\x01p\x00\x05")  # the remote opens "p" as its channel 1
    host.run_soon()
    return mux, host, seen


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frame(), min_size=1, max_size=8))
def test_random_frames_only_typed_errors(frames: list[bytes]) -> None:
    mux, host, _ = make_mux()
    for data in frames:
        mux.receive_data(data)  # never raises
        host.run_soon()
        if mux.error is not None:
            assert isinstance(mux.error, RemoteError), repr(mux.error)
            assert host.destroyed and host.destroy_error is mux.error
            before = list(host.frames)
            mux.receive_data(data)  # a destroyed mux ignores what still arrives
            assert host.frames == before
            break
    mux.on_close()
    assert list(mux) == []  # every channel closed and left the table


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_raw_bytes_only_typed_errors(data: bytes) -> None:
    mux, _, _ = make_mux()
    mux.receive_data(data)
    assert mux.error is None or isinstance(mux.error, RemoteError)

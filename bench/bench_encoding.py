"""compact-encoding: encode + decode of a dht-rpc-like request, ops/s (higher is better).

The message (``REQUEST``) has the layout of dht-rpc 6.x's request: type byte, flags, tid uint16,
to ipv4Address, then id?/token? (fixed32), command uint, target? (fixed32), value? (buffer) in
flag-bit order. Its JS twin is interop/scripts/encoding-message.js, run by interop/bench/encoding.js;
tests/encoding checks both write the same bytes.

``REQUEST`` is declared with :func:`hyperpunch.encoding.schema` (compiled to specialised
functions); ``REQUEST_HANDWRITTEN`` is the same message as a hand-written ``Codec`` subclass, kept
as the differential oracle for the tests and for before/after figures (``run(codec=...)``).
"""

from __future__ import annotations

import time
from typing import NamedTuple

from bench import Workload
from hyperpunch.encoding import (
    Address,
    Codec,
    DecodeError,
    DecodeState,
    EncodeState,
    buffer,
    decode,
    encode,
    field,
    fixed32,
    flag,
    ipv4_address,
    optional,
    schema,
    uint,
    uint16,
)

TYPE = 0x03

_new = tuple.__new__  # builds the NamedTuple without its Python-level __new__

_uint_pre = uint.preencode
_uint_enc = uint.encode
_uint_dec = uint.decode
_buf_pre = buffer.preencode
_buf_enc = buffer.encode
_buf_dec = buffer.decode
_u16_enc = uint16.encode
_u16_dec = uint16.decode
_addr_enc = ipv4_address.encode
_addr_dec = ipv4_address.decode
_f32_enc = fixed32.encode
_f32_dec = fixed32.decode


class Request(NamedTuple):
    tid: int
    to: Address
    id: bytes | None
    token: bytes | None
    internal: bool
    command: int
    target: bytes | None
    value: bytes | None


class RequestCodec(Codec[Request]):
    """Flags first, then the optional fields in bit order (the pattern every message uses)."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: Request) -> None:
        end = state.end + 10  # type + flags + tid + to
        if m.id is not None:
            end += 32
        if m.token is not None:
            end += 32
        if m.target is not None:
            end += 32
        state.end = end
        _uint_pre(state, m.command)
        if m.value is not None:
            _buf_pre(state, m.value)

    def encode(self, state: EncodeState, m: Request) -> None:
        tid, to, id_, token, internal, command, target, value = m
        s = state.start
        buf = state.buffer
        buf[s] = TYPE
        buf[s + 1] = (
            (id_ is not None)
            | (token is not None) << 1
            | bool(internal) << 2
            | (target is not None) << 3
            | (value is not None) << 4
        )
        state.start = s + 2
        _u16_enc(state, tid)
        _addr_enc(state, to)
        if id_ is not None:
            _f32_enc(state, id_)
        if token is not None:
            _f32_enc(state, token)
        _uint_enc(state, command)
        if target is not None:
            _f32_enc(state, target)
        if value is not None:
            _buf_enc(state, value)

    def decode(self, state: DecodeState) -> Request:
        s = state.start
        if s >= state.end or state.buffer[s] != TYPE:
            raise DecodeError("Unknown message type")
        state.start = s + 1
        flags = _uint_dec(state)
        return _new(
            Request,
            (
                _u16_dec(state),
                _addr_dec(state),
                _f32_dec(state) if flags & 1 else None,
                _f32_dec(state) if flags & 2 else None,
                flags & 4 != 0,
                _uint_dec(state),
                _f32_dec(state) if flags & 8 else None,
                _buf_dec(state) if flags & 16 else None,
            ),
        )


REQUEST_HANDWRITTEN = RequestCodec()

REQUEST = schema(
    Request,
    field("tid", uint16),
    field("to", ipv4_address),
    optional("id", fixed32),
    optional("token", fixed32),
    flag("internal"),
    field("command", uint),
    optional("target", fixed32),
    optional("value", buffer),
    prefix=bytes([TYPE]),
    prefix_error="Unknown message type",
)


def typical() -> Request:
    """The message both benchmarks encode and decode (all optional fields, a 100-byte value)."""
    return Request(
        tid=0xBEEF,
        to=Address("203.0.113.77", 49737),
        id=bytes([1]) * 32,
        token=bytes([2]) * 32,
        internal=True,
        command=7,
        target=bytes([3]) * 32,
        value=bytes(range(100)),
    )


def _round(msg: Request, n: int, codec: Codec[Request]) -> int:
    sink = 0
    enc = encode
    dec = decode
    for _ in range(n):
        sink += dec(codec, enc(codec, msg)).tid
    return sink


def run(seconds: float = 3.0, codec: Codec[Request] = REQUEST) -> float:
    msg = typical()
    _round(msg, 20000, codec)  # warm up
    ops = 0
    start = time.perf_counter()
    deadline = start + seconds
    now = start
    while now < deadline:
        _round(msg, 5000, codec)
        ops += 5000
        now = time.perf_counter()
    return ops / (now - start)


WORKLOADS = [
    Workload(
        name="encoding: dht-rpc-like request encode+decode",
        unit="ops/s",
        higher_is_better=True,
        run_python=run,
        js_script="encoding.js",
        js_args=["3"],
    )
]

if __name__ == "__main__":
    import sys

    chosen = REQUEST_HANDWRITTEN if "--handwritten" in sys.argv else REQUEST
    print(round(run(codec=chosen), 1))

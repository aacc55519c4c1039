"""Integer, float and bool codecs of compact-encoding 3.5.2, bit for bit.

Invariants (each checked against the pinned JS reference by the tests):

* ``uint`` is the varint: n ≤ 0xfc → 1 byte; ≤ 0xffff → ``fd`` + u16 LE; ≤ 0xffffffff → ``fe`` + u32
  LE; else ``ff`` + u64 LE. The decoder accepts non-minimal forms.
* Every unsigned encoder refuses a value outside 0 … 2^53-1 (JS ``Number.MAX_SAFE_INTEGER``);
  the fixed-width ones keep only the low bytes of a value wider than their width (``uint8(256)``
  writes ``00``), as JS does. Python ints above 2^53-1 are refused rather than carried, because a
  JS peer refuses to decode them: ``uint``/``uint56``/``uint64``/``uint64be`` decoders raise
  :class:`DecodeError` for a reading above 2^53-1, as JS does.
* ``int``/``intN`` zig-zag (0, -1, 1, -2 → 0, 1, 2, 3) onto the matching unsigned codec; the
  encoders refuse values outside -2^52 … 2^52-1 (JS ``MIN_SAFE_INT``/``MAX_SAFE_INT``).
* ``bool`` writes 1 or 0; it decodes ``byte == 1`` (any other byte is false).
* ``float32``/``float64`` are IEEE 754 LE. float32 rounds to nearest-even, overflows to ±inf and
  treats NaN payloads as a double → binary32 → double round trip on x86-64 does (quiet bit set).
* Only Python ``int`` (and ``bool``) values are accepted for integers; a ``float`` is refused
  (through :func:`~hyperpunch.encoding.encode`) where JS would truncate it.
"""

from __future__ import annotations

import math
import struct

from hyperpunch.encoding.codec import Codec, DecodeState, EncodeState
from hyperpunch.encoding.errors import DecodeError, EncodeError

__all__ = [
    "MAX_SAFE_INT",
    "MAX_SAFE_UINT",
    "MIN_SAFE_INT",
    "bool_",
    "float32",
    "float64",
    "int8",
    "int16",
    "int24",
    "int32",
    "int40",
    "int48",
    "int56",
    "int64",
    "int_",
    "put_uint",
    "uint",
    "uint8",
    "uint16",
    "uint24",
    "uint32",
    "uint32be",
    "uint40",
    "uint48",
    "uint56",
    "uint64",
    "uint64be",
    "uint_range_error",
    "uint_size",
    "unsafe_read_error",
]

MAX_SAFE_UINT = 2**53 - 1
MAX_SAFE_INT = 2**52 - 1
MIN_SAFE_INT = -(2**52)

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_U32BE = struct.Struct(">I")
_U64BE = struct.Struct(">Q")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")


def out_of_bounds() -> DecodeError:
    return DecodeError("Out of bounds")


def uint_range_error(n: object) -> EncodeError:
    return EncodeError(f"uint must be between 0 and {MAX_SAFE_UINT}, use biguint (got {n!r})")


def unsafe_read_error(n: int) -> DecodeError:
    return DecodeError(f"uint must be between 0 and {MAX_SAFE_UINT}, use biguint (read {n})")


class _Uint(Codec[int]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: int) -> None:
        state.end += 1 if value <= 0xFC else 3 if value <= 0xFFFF else 5 if value <= 0xFFFFFFFF else 9

    def encode(self, state: EncodeState, value: int) -> None:
        s = state.start
        buf = state.buffer
        if value <= 0xFC:
            if value < 0:
                raise uint_range_error(value)
            buf[s] = value
            state.start = s + 1
        elif value <= 0xFFFF:
            buf[s] = 0xFD
            _U16.pack_into(buf, s + 1, value)
            state.start = s + 3
        elif value <= 0xFFFFFFFF:
            buf[s] = 0xFE
            _U32.pack_into(buf, s + 1, value)
            state.start = s + 5
        else:
            if value > MAX_SAFE_UINT:
                raise uint_range_error(value)
            buf[s] = 0xFF
            _U64.pack_into(buf, s + 1, value)
            state.start = s + 9

    def decode(self, state: DecodeState) -> int:
        s = state.start
        if s >= state.end:
            raise out_of_bounds()
        buf = state.buffer
        a = buf[s]
        if a <= 0xFC:
            state.start = s + 1
            return a
        if a == 0xFD:
            if state.end - s < 3:
                raise out_of_bounds()
            state.start = s + 3
            return buf[s + 1] | buf[s + 2] << 8
        if a == 0xFE:
            if state.end - s < 5:
                raise out_of_bounds()
            state.start = s + 5
            n: int = _U32.unpack_from(buf, s + 1)[0]
            return n
        if state.end - s < 9:
            raise out_of_bounds()
        n = _U64.unpack_from(buf, s + 1)[0]
        if n > MAX_SAFE_UINT:
            raise unsafe_read_error(n)
        state.start = s + 9
        return n


class _Uint8(Codec[int]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: int) -> None:
        state.end += 1

    def encode(self, state: EncodeState, value: int) -> None:
        if not 0 <= value <= MAX_SAFE_UINT:
            raise uint_range_error(value)
        s = state.start
        state.buffer[s] = value & 0xFF
        state.start = s + 1

    def decode(self, state: DecodeState) -> int:
        s = state.start
        if s >= state.end:
            raise out_of_bounds()
        state.start = s + 1
        return state.buffer[s]


class _Uint16(Codec[int]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: int) -> None:
        state.end += 2

    def encode(self, state: EncodeState, value: int) -> None:
        if not 0 <= value <= MAX_SAFE_UINT:
            raise uint_range_error(value)
        s = state.start
        buf = state.buffer
        buf[s] = value & 0xFF
        buf[s + 1] = (value >> 8) & 0xFF
        state.start = s + 2

    def decode(self, state: DecodeState) -> int:
        s = state.start
        if state.end - s < 2:
            raise out_of_bounds()
        buf = state.buffer
        state.start = s + 2
        return buf[s] | buf[s + 1] << 8


class _StructUint(Codec[int]):
    """A fixed-width unsigned int carried by a precompiled ``struct.Struct`` (16/32/64 bits)."""

    __slots__ = ("_check", "_mask", "_st", "_width")

    def __init__(self, fmt: str, check_read: bool) -> None:
        self._st = struct.Struct(fmt)
        self._width = self._st.size
        self._mask = (1 << (8 * self._width)) - 1
        self._check = check_read

    def preencode(self, state: EncodeState, value: int) -> None:
        state.end += self._width

    def encode(self, state: EncodeState, value: int) -> None:
        if not 0 <= value <= MAX_SAFE_UINT:
            raise uint_range_error(value)
        s = state.start
        self._st.pack_into(state.buffer, s, value & self._mask)
        state.start = s + self._width

    def decode(self, state: DecodeState) -> int:
        s = state.start
        w = self._width
        if state.end - s < w:
            raise out_of_bounds()
        n: int = self._st.unpack_from(state.buffer, s)[0]
        if self._check and n > MAX_SAFE_UINT:
            raise unsafe_read_error(n)
        state.start = s + w
        return n


class _BytesUint(Codec[int]):
    """A fixed-width little-endian unsigned int of 3, 5, 6 or 7 bytes."""

    __slots__ = ("_check", "_mask", "_width")

    def __init__(self, width: int, check_read: bool) -> None:
        self._width = width
        self._mask = (1 << (8 * width)) - 1
        self._check = check_read

    def preencode(self, state: EncodeState, value: int) -> None:
        state.end += self._width

    def encode(self, state: EncodeState, value: int) -> None:
        if not 0 <= value <= MAX_SAFE_UINT:
            raise uint_range_error(value)
        s = state.start
        w = self._width
        state.buffer[s : s + w] = (value & self._mask).to_bytes(w, "little")
        state.start = s + w

    def decode(self, state: DecodeState) -> int:
        s = state.start
        w = self._width
        if state.end - s < w:
            raise out_of_bounds()
        n = int.from_bytes(state.buffer[s : s + w], "little")
        if self._check and n > MAX_SAFE_UINT:
            raise unsafe_read_error(n)
        state.start = s + w
        return n


class _ZigZag(Codec[int]):
    """A signed int: zig-zag onto an unsigned codec, refusing values outside ±2^52."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Codec[int]) -> None:
        self._inner = inner

    def preencode(self, state: EncodeState, value: int) -> None:
        if not MIN_SAFE_INT <= value <= MAX_SAFE_INT:
            raise _int_range(value)
        self._inner.preencode(state, 2 * value if value >= 0 else -2 * value - 1)

    def encode(self, state: EncodeState, value: int) -> None:
        if not MIN_SAFE_INT <= value <= MAX_SAFE_INT:
            raise _int_range(value)
        self._inner.encode(state, 2 * value if value >= 0 else -2 * value - 1)

    def decode(self, state: DecodeState) -> int:
        n = self._inner.decode(state)
        return (n >> 1) ^ -(n & 1)


def _int_range(n: object) -> EncodeError:
    return EncodeError(f"int must be between {MIN_SAFE_INT} and {MAX_SAFE_INT}, use bigint (got {n!r})")


class _Bool(Codec[bool]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: bool) -> None:
        state.end += 1

    def encode(self, state: EncodeState, value: bool) -> None:
        s = state.start
        state.buffer[s] = 1 if value else 0
        state.start = s + 1

    def decode(self, state: DecodeState) -> bool:
        s = state.start
        if s >= state.end:
            raise out_of_bounds()
        state.start = s + 1
        return state.buffer[s] == 1


class _Float64(Codec[float]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: float) -> None:
        state.end += 8

    def encode(self, state: EncodeState, value: float) -> None:
        s = state.start
        _F64.pack_into(state.buffer, s, value)
        state.start = s + 8

    def decode(self, state: DecodeState) -> float:
        s = state.start
        if state.end - s < 8:
            raise out_of_bounds()
        state.start = s + 8
        x: float = _F64.unpack_from(state.buffer, s)[0]
        return x


class _Float32(Codec[float]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: float) -> None:
        state.end += 4

    def encode(self, state: EncodeState, value: float) -> None:
        s = state.start
        x = float(value)
        if x != x:  # NaN: keep the top payload bits and set the quiet bit, as cvtsd2ss does
            bits: int = _U64.unpack(_F64.pack(x))[0]
            _U32.pack_into(state.buffer, s, (bits >> 32) & 0x80000000 | 0x7FC00000 | (bits >> 29) & 0x3FFFFF)
        else:
            try:
                _F32.pack_into(state.buffer, s, x)
            except OverflowError:  # finite but rounds past the binary32 range: an infinity, as in JS
                _F32.pack_into(state.buffer, s, math.copysign(math.inf, x))
        state.start = s + 4

    def decode(self, state: DecodeState) -> float:
        s = state.start
        if state.end - s < 4:
            raise out_of_bounds()
        state.start = s + 4
        x: float = _F32.unpack_from(state.buffer, s)[0]
        if x != x:  # NaN: widen the payload and set the quiet bit, as cvtss2sd does
            bits: int = _U32.unpack_from(state.buffer, s)[0]
            wide = (bits & 0x80000000) << 32 | 0x7FF8000000000000 | (bits & 0x3FFFFF) << 29
            x = _F64.unpack(_U64.pack(wide))[0]
        return x


uint: Codec[int] = _Uint()
uint8: Codec[int] = _Uint8()
uint16: Codec[int] = _Uint16()
uint24: Codec[int] = _BytesUint(3, False)
uint32: Codec[int] = _StructUint("<I", False)
uint40: Codec[int] = _BytesUint(5, False)
uint48: Codec[int] = _BytesUint(6, False)
uint56: Codec[int] = _BytesUint(7, True)
uint64: Codec[int] = _StructUint("<Q", True)
uint32be: Codec[int] = _StructUint(">I", False)
uint64be: Codec[int] = _StructUint(">Q", True)

int_: Codec[int] = _ZigZag(uint)
int8: Codec[int] = _ZigZag(uint8)
int16: Codec[int] = _ZigZag(uint16)
int24: Codec[int] = _ZigZag(uint24)
int32: Codec[int] = _ZigZag(uint32)
int40: Codec[int] = _ZigZag(uint40)
int48: Codec[int] = _ZigZag(uint48)
int56: Codec[int] = _ZigZag(uint56)
int64: Codec[int] = _ZigZag(uint64)

bool_: Codec[bool] = _Bool()
float32: Codec[float] = _Float32()
float64: Codec[float] = _Float64()


def uint_size(n: int) -> int:
    """Bytes the compact-encoding ``uint`` of ``n`` takes (1, 3, 5 or 9)."""
    return 1 if n <= 0xFC else 3 if n <= 0xFFFF else 5 if n <= 0xFFFFFFFF else 9


def put_uint(buf: bytearray, pos: int, n: int) -> int:
    """Write the compact-encoding ``uint`` of ``n`` into ``buf`` at ``pos``; return the next position."""
    if n <= 0xFC:
        buf[pos] = n
        return pos + 1
    if n <= 0xFFFF:
        buf[pos] = 0xFD
        buf[pos + 1 : pos + 3] = n.to_bytes(2, "little")
        return pos + 3
    if n <= 0xFFFFFFFF:
        buf[pos] = 0xFE
        buf[pos + 1 : pos + 5] = n.to_bytes(4, "little")
        return pos + 5
    buf[pos] = 0xFF
    buf[pos + 1 : pos + 9] = n.to_bytes(8, "little")
    return pos + 9

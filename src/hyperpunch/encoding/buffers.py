"""Byte-string, text and typed-array codecs of compact-encoding 3.5.2.

Invariants:

* ``buffer``: ``uint`` length then the bytes; refuses ``None`` (JS 3.5.2 throws on null).
  ``optional_buffer``: ``None`` (or an empty buffer) writes a single ``00``; the decoder turns
  length 0 into ``None``. ``uint8array`` is the same wire form as ``buffer``.
* ``raw``: the bytes with no length; the decoder takes everything up to ``state.end``.
* ``fixed(n)``: exactly ``n`` bytes, no length; the encoder refuses any other size.
* ``utf8``/``string``: ``uint`` byte length then UTF-8. Lone surrogates in a ``str`` are written
  as U+FFFD (as JS does for unpaired UTF-16 surrogates); invalid bytes decode to U+FFFD per
  maximal subpart (WHATWG / JS ``Buffer.toString``), never an error.
* ``uint32array``: ``uint`` **element count** then the elements as u32 LE.
* Decoded bytes are ``bytes`` copies, bounded by ``state.end``. (JS's typed-array decoders bound
  by the whole buffer rather than ``state.end``; this only differs inside a ``frame``.)
"""

from __future__ import annotations

import struct

from hyperpunch.encoding.codec import Codec, DecodeState, EncodeState
from hyperpunch.encoding.errors import DecodeError, EncodeError
from hyperpunch.encoding.numbers import out_of_bounds, uint

__all__ = [
    "buffer",
    "fixed",
    "fixed8",
    "fixed16",
    "fixed24",
    "fixed32",
    "fixed64",
    "optional_buffer",
    "raw",
    "string",
    "uint8array",
    "uint32array",
    "utf8",
]

_uint_pre = uint.preencode
_uint_enc = uint.encode
_uint_dec = uint.decode


class _Buffer(Codec[bytes]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: bytes) -> None:
        n = len(value)
        state.end += (1 if n <= 0xFC else 3 if n <= 0xFFFF else 5 if n <= 0xFFFFFFFF else 9) + n

    def encode(self, state: EncodeState, value: bytes) -> None:
        n = len(value)
        buf = state.buffer
        if n <= 0xFC:
            s = state.start
            buf[s] = n
            s += 1
        else:
            _uint_enc(state, n)
            s = state.start
        buf[s : s + n] = value
        state.start = s + n

    def decode(self, state: DecodeState) -> bytes:
        s = state.start
        buf = state.buffer
        if s < state.end and buf[s] <= 0xFC:  # the common one-byte length, inlined
            n = buf[s]
            s += 1
        else:
            n = _uint_dec(state)
            s = state.start
        if state.end - s < n:
            raise out_of_bounds()
        state.start = e = s + n
        return buf[s:e]


class _OptionalBuffer(Codec[bytes | None]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: bytes | None) -> None:
        if value is None:
            state.end += 1
        else:
            n = len(value)
            state.end += (1 if n <= 0xFC else 3 if n <= 0xFFFF else 5 if n <= 0xFFFFFFFF else 9) + n

    def encode(self, state: EncodeState, value: bytes | None) -> None:
        if value is None:
            s = state.start
            state.buffer[s] = 0
            state.start = s + 1
            return
        n = len(value)
        _uint_enc(state, n)
        s = state.start
        state.buffer[s : s + n] = value
        state.start = s + n

    def decode(self, state: DecodeState) -> bytes | None:
        n = _uint_dec(state)
        if n == 0:
            return None
        s = state.start
        if state.end - s < n:
            raise out_of_bounds()
        state.start = e = s + n
        return state.buffer[s:e]


class _Raw(Codec[bytes]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: bytes) -> None:
        state.end += len(value)

    def encode(self, state: EncodeState, value: bytes) -> None:
        s = state.start
        e = s + len(value)
        state.buffer[s:e] = value
        state.start = e

    def decode(self, state: DecodeState) -> bytes:
        s = state.start
        e = state.end
        state.start = e
        return state.buffer[s:e] if s < e else b""


class Fixed(Codec[bytes]):
    """Exactly ``n`` bytes with no length prefix (JS ``c.fixed(n)``)."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def preencode(self, state: EncodeState, value: bytes) -> None:
        if len(value) != self.n:
            raise EncodeError(f"Incorrect buffer size: {len(value)} bytes for fixed({self.n})")
        state.end += self.n

    def encode(self, state: EncodeState, value: bytes) -> None:
        n = self.n
        if len(value) != n:
            raise EncodeError(f"Incorrect buffer size: {len(value)} bytes for fixed({n})")
        s = state.start
        state.buffer[s : s + n] = value
        state.start = s + n

    def decode(self, state: DecodeState) -> bytes:
        s = state.start
        n = self.n
        if state.end - s < n:
            raise out_of_bounds()
        state.start = e = s + n
        return state.buffer[s:e]


def fixed(n: int) -> Fixed:
    """A codec for byte strings of exactly ``n`` bytes."""
    if n < 0:
        raise EncodeError(f"fixed width must be >= 0, got {n}")
    return Fixed(n)


def _surrogates_to_replacement(value: str) -> str:
    """Pair surrogates as UTF-16 would and turn the unpaired ones into U+FFFD, as JS does."""
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def utf8_bytes(value: str) -> bytes:
    """``value`` as the UTF-8 bytes JS writes for it (lone surrogates become U+FFFD)."""
    try:
        return value.encode()
    except UnicodeEncodeError:
        return _surrogates_to_replacement(value).encode()


class _Utf8(Codec[str]):
    __slots__ = ("_last",)

    def __init__(self) -> None:
        # (str, bytes) of the last non-ASCII string measured by preencode, so encode does not
        # encode it twice. Read and replaced as one tuple, so concurrent use stays correct.
        self._last: tuple[str, bytes] = ("", b"")

    def preencode(self, state: EncodeState, value: str) -> None:
        if value.isascii():
            n = len(value)
        else:
            b = utf8_bytes(value)
            self._last = (value, b)
            n = len(b)
        state.end += (1 if n <= 0xFC else 3 if n <= 0xFFFF else 5 if n <= 0xFFFFFFFF else 9) + n

    def encode(self, state: EncodeState, value: str) -> None:
        if value.isascii():
            b = value.encode("ascii")
        else:
            last = self._last
            b = last[1] if last[0] is value else utf8_bytes(value)
        n = len(b)
        _uint_enc(state, n)
        s = state.start
        state.buffer[s : s + n] = b
        state.start = s + n

    def decode(self, state: DecodeState) -> str:
        n = _uint_dec(state)
        s = state.start
        if state.end - s < n:
            raise out_of_bounds()
        state.start = e = s + n
        return state.buffer[s:e].decode("utf-8", "replace")


class _Uint32Array(Codec[list[int]]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: list[int]) -> None:
        _uint_pre(state, len(value))
        state.end += 4 * len(value)

    def encode(self, state: EncodeState, value: list[int]) -> None:
        n = len(value)
        _uint_enc(state, n)
        s = state.start
        struct.pack_into(f"<{n}I", state.buffer, s, *value)
        state.start = s + 4 * n

    def decode(self, state: DecodeState) -> list[int]:
        n = _uint_dec(state)
        s = state.start
        if state.end - s < 4 * n:
            raise out_of_bounds()
        state.start = s + 4 * n
        try:
            return list(struct.unpack_from(f"<{n}I", state.buffer, s))
        except (struct.error, MemoryError) as err:  # pragma: no cover - bounded above
            raise DecodeError(f"Out of bounds: {err}") from err


buffer: Codec[bytes] = _Buffer()
uint8array: Codec[bytes] = buffer
optional_buffer: Codec[bytes | None] = _OptionalBuffer()
raw: Codec[bytes] = _Raw()
fixed8 = Fixed(8)
fixed16 = Fixed(16)
fixed24 = Fixed(24)
fixed32 = Fixed(32)
fixed64 = Fixed(64)
utf8: Codec[str] = _Utf8()
string: Codec[str] = utf8
uint32array: Codec[list[int]] = _Uint32Array()

"""The codec interface: ``Codec[T]`` with preencode/encode/decode over a ``State``.

Invariants (the model of JS compact-encoding 3.5.2):

* ``preencode(state, v)`` only adds ``v``'s encoded size to ``state.end``.
* ``encode(state, v)`` writes exactly that many bytes into ``state.buffer`` (a ``bytearray`` sized
  by preencode) at ``state.start`` and advances ``state.start``.
* ``decode(state)`` reads from ``state.buffer`` (``bytes``) between ``state.start`` and
  ``state.end``, advances ``state.start`` past what it read, and raises :class:`DecodeError` when
  the bytes up to ``state.end`` do not hold a value. It never reads past ``state.end``.

``decode(codec, data)`` mirrors JS ``c.decode``: it does **not** require the codec to consume all
of ``data`` (trailing bytes are ignored, as in JS); pass ``exact=True`` to refuse trailing bytes.

Message structs are best declared with :func:`hyperpunch.encoding.schema.schema`, which compiles
the description into specialised functions (2-3x faster than the hand-written pattern below) and
plugs into ``encode``/``decode`` through the ``_to_bytes``/``_from_bytes`` fast paths. The
hand-written pattern (still fine for irregular messages)::

    class Ping(Codec["PingMsg"]):
        # flags uint first; optional fields follow in bit order
        def preencode(self, state, m):
            state.end += 1                      # flags (always < 0xfd)
            uint16.preencode(state, m.tid)
            if m.id is not None:
                fixed32.preencode(state, m.id)
        def encode(self, state, m):
            uint.encode(state, 1 if m.id is not None else 0)
            uint16.encode(state, m.tid)
            if m.id is not None:
                fixed32.encode(state, m.id)
        def decode(self, state):
            flags = uint.decode(state)
            tid = uint16.decode(state)
            return PingMsg(tid, fixed32.decode(state) if flags & 1 else None)
"""

from __future__ import annotations

import struct
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from hyperpunch.encoding.errors import DecodeError, EncodeError

T = TypeVar("T")
B = TypeVar("B", bytes, bytearray)

__all__ = [
    "DECODE_FAILURES",
    "ENCODE_FAILURES",
    "Codec",
    "DecodeState",
    "EncodeState",
    "State",
    "decode",
    "decode_from",
    "encode",
    "encode_state",
]


class State(Generic[B]):
    """A cursor over a buffer: ``start`` (next byte), ``end`` (size / read limit) and ``buffer``."""

    __slots__ = ("buffer", "end", "start")

    start: int
    end: int
    buffer: B

    def __init__(self, start: int, end: int, buffer: B) -> None:
        self.start = start
        self.end = end
        self.buffer = buffer

    def __repr__(self) -> str:
        return f"State(start={self.start}, end={self.end}, buffer={len(self.buffer)} bytes)"


class _ToBytes(Protocol):
    def __call__(self, value: Any, /) -> bytes: ...


class _FromBytes(Protocol):
    def __call__(self, data: bytes | bytearray | memoryview, exact: bool, /) -> Any: ...


EncodeState = State[bytearray]
DecodeState = State[bytes]


class Codec(Generic[T]):
    """A compact-encoding codec for values of type ``T``. Subclass and implement all three."""

    __slots__ = ()

    # Optional whole-value fast paths that ``encode``/``decode`` use instead of a State when a
    # codec class provides them (generated schemas do): value -> bytes, and (data, exact) -> value
    # raising only DecodeError. They must give exactly the results of the state-based methods.
    _to_bytes: ClassVar[_ToBytes | None] = None
    _from_bytes: ClassVar[_FromBytes | None] = None

    def preencode(self, state: EncodeState, value: T) -> None:
        raise NotImplementedError

    def encode(self, state: EncodeState, value: T) -> None:
        raise NotImplementedError

    def decode(self, state: DecodeState) -> T:
        raise NotImplementedError


# Errors a wrong-typed or out-of-range value can raise from inside a codec's encode.
ENCODE_FAILURES = (TypeError, ValueError, OverflowError, struct.error, AttributeError, IndexError, KeyError)
# Errors that escaping a (buggy, user-written) decoder would mean "these bytes are invalid".
DECODE_FAILURES = (IndexError, ValueError, struct.error, TypeError, KeyError, OverflowError, UnicodeError)


_NO_BUFFER = bytearray()  # preencode never writes, so the sizing pass can share one placeholder


def encode_state() -> EncodeState:
    """A fresh state for preencode: start and end 0, an empty buffer."""
    return State(0, 0, bytearray())


def encode(codec: Codec[T], value: T) -> bytes:
    """Encode ``value`` to bytes (JS ``c.encode``). Raises :class:`EncodeError` if it cannot."""
    fast = codec._to_bytes
    if fast is not None:
        return fast(value)
    state: EncodeState = State(0, 0, _NO_BUFFER)
    try:
        codec.preencode(state, value)
        buf = state.buffer = bytearray(state.end)
        codec.encode(state, value)
    except EncodeError:
        raise
    except ENCODE_FAILURES as err:
        raise EncodeError(f"cannot encode {type(value).__name__}: {err}") from err
    if state.start != len(buf):
        raise EncodeError(f"encode wrote {state.start} bytes but preencode sized {state.end}")
    return bytes(buf)


def decode(codec: Codec[T], data: bytes | bytearray | memoryview, *, exact: bool = False) -> T:
    """Decode one value from ``data`` (JS ``c.decode``).

    Like JS, bytes after the value are ignored unless ``exact`` is true, in which case they raise
    :class:`DecodeError`. Non-``bytes`` input is copied to ``bytes`` first.
    """
    fast = codec._from_bytes
    if fast is not None:
        result: T = fast(data, exact)
        return result
    if type(data) is not bytes:
        data = bytes(data)
    state: DecodeState = State(0, len(data), data)
    try:
        value = codec.decode(state)
    except DecodeError:
        raise
    except DECODE_FAILURES as err:  # defence in depth for hand-written composite codecs
        raise DecodeError(f"invalid encoding: {err}") from err
    if exact and state.start != state.end:
        raise DecodeError(f"{state.end - state.start} trailing bytes after the value")
    return value


def decode_from(codec: Codec[T], state: DecodeState) -> T:
    """``codec.decode(state)`` with every stray failure of a (maybe user-written) codec turned
    into :class:`DecodeError`: the one boundary for decoding inside a larger frame."""
    try:
        return codec.decode(state)
    except DecodeError:
        raise
    except DECODE_FAILURES as err:
        raise DecodeError(f"invalid encoding: {err}") from err

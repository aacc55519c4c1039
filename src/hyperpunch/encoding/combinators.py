"""Codecs built from other codecs: ``array``, ``frame`` and ``record`` (compact-encoding 3.5.2).

Invariants:

* ``array(c)``: ``uint`` element count then the elements; the decoder refuses a count above
  0x100000 (``'Array is too big'``) before reading any element.
* ``frame(c)``: ``uint`` **byte** length then ``c``'s encoding. The decoder bounds ``c`` to the
  announced length (``state.end`` is narrowed while it decodes) and then skips to the frame's
  end, ignoring slack, as JS does.
* ``enum(what, names)``: the ``uint`` index of a name in ``names`` (JS ``c.uint`` over a table
  such as hypercore's hash / signature ids); an unknown name raises ``EncodeError("Unknown
  <what>: <name>")``, an index past the table ``DecodeError("Unknown <what> id: <n>")``.
* ``record(k, v)``: ``uint`` pair count then key, value, key, value... The decoder keeps the last
  value of a repeated key. For ``str`` keys the encoder orders keys as JS ``Object.keys`` does:
  array-index keys ("0", "1", ... below 2^32-1) first in numeric order, then the rest in insertion
  order. There is no count ceiling (JS has none); a pair that reads zero bytes ends the loop early
  with the same result JS would reach.
"""

from __future__ import annotations

from typing import TypeVar

from hyperpunch.encoding.buffers import utf8
from hyperpunch.encoding.codec import Codec, DecodeState, EncodeState, State
from hyperpunch.encoding.errors import DecodeError, EncodeError
from hyperpunch.encoding.numbers import out_of_bounds, uint

__all__ = [
    "ARRAY_MAX",
    "Array",
    "Enum",
    "Frame",
    "Record",
    "array",
    "enum",
    "frame",
    "record",
    "string_record",
]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

ARRAY_MAX = 0x100000

_uint_pre = uint.preencode
_uint_enc = uint.encode
_uint_dec = uint.decode


class Array(Codec[list[T]]):
    """``uint`` count then each element (JS ``c.array(enc)``)."""

    __slots__ = ("item",)

    def __init__(self, item: Codec[T]) -> None:
        self.item = item

    def preencode(self, state: EncodeState, value: list[T]) -> None:
        _uint_pre(state, len(value))
        pre = self.item.preencode
        for v in value:
            pre(state, v)

    def encode(self, state: EncodeState, value: list[T]) -> None:
        _uint_enc(state, len(value))
        enc = self.item.encode
        for v in value:
            enc(state, v)

    def decode(self, state: DecodeState) -> list[T]:
        n = _uint_dec(state)
        if n > ARRAY_MAX:
            raise DecodeError(f"Array is too big ({n} elements)")
        dec = self.item.decode
        return [dec(state) for _ in range(n)]


def array(item: Codec[T]) -> Array[T]:
    return Array(item)


class Frame(Codec[T]):
    """``uint`` byte length then the value, which must fit in that length (JS ``c.frame(enc)``)."""

    __slots__ = ("inner",)

    def __init__(self, inner: Codec[T]) -> None:
        self.inner = inner

    def preencode(self, state: EncodeState, value: T) -> None:
        end = state.end
        self.inner.preencode(state, value)
        _uint_pre(state, state.end - end)

    def encode(self, state: EncodeState, value: T) -> None:
        sizer: EncodeState = State(0, 0, state.buffer)
        self.inner.preencode(sizer, value)
        _uint_enc(state, sizer.end)
        self.inner.encode(state, value)

    def decode(self, state: DecodeState) -> T:
        end = state.end
        n = _uint_dec(state)
        if state.start + n > end:
            raise out_of_bounds()
        state.end = state.start + n
        try:
            value = self.inner.decode(state)
        finally:
            state.start = state.end
            state.end = end
        return value


def frame(inner: Codec[T]) -> Frame[T]:
    return Frame(inner)


class Enum(Codec[str]):
    """A name from a fixed table, written as its ``uint`` index."""

    __slots__ = ("index", "names", "what")

    def __init__(self, what: str, names: tuple[str, ...]) -> None:
        self.what = what
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}

    def index_of(self, name: str) -> int:
        i = self.index.get(name)
        if i is None:
            raise EncodeError(f"Unknown {self.what}: {name}")
        return i

    def name_of(self, i: int) -> str:
        if i >= len(self.names):
            raise DecodeError(f"Unknown {self.what} id: {i}")
        return self.names[i]

    def preencode(self, state: EncodeState, value: str) -> None:
        _uint_pre(state, self.index_of(value))

    def encode(self, state: EncodeState, value: str) -> None:
        _uint_enc(state, self.index_of(value))

    def decode(self, state: DecodeState) -> str:
        return self.name_of(_uint_dec(state))


def enum(what: str, names: tuple[str, ...]) -> Enum:
    return Enum(what, names)


def _is_array_index(key: object) -> bool:
    if type(key) is not str or not key.isdigit() or not key.isascii():
        return False
    return (key == "0" or key[0] != "0") and int(key) < 0xFFFFFFFF


def js_key_order(value: dict[K, V]) -> list[K]:
    """The order JS ``Object.keys`` would list ``value``'s keys in (array indices first)."""
    keys = list(value)
    index = [k for k in keys if _is_array_index(k)]
    if not index:
        return keys
    index.sort(key=lambda k: int(str(k)))
    return index + [k for k in keys if not _is_array_index(k)]


class Record(Codec[dict[K, V]]):
    """``uint`` pair count then key/value pairs (JS ``c.record(keyEnc, valueEnc)``)."""

    __slots__ = ("key", "value")

    def __init__(self, key: Codec[K], value: Codec[V]) -> None:
        self.key = key
        self.value = value

    def preencode(self, state: EncodeState, value: dict[K, V]) -> None:
        _uint_pre(state, len(value))
        for k in js_key_order(value):
            self.key.preencode(state, k)
            self.value.preencode(state, value[k])

    def encode(self, state: EncodeState, value: dict[K, V]) -> None:
        _uint_enc(state, len(value))
        for k in js_key_order(value):
            self.key.encode(state, k)
            self.value.encode(state, value[k])

    def decode(self, state: DecodeState) -> dict[K, V]:
        n = _uint_dec(state)
        out: dict[K, V] = {}
        kdec = self.key.decode
        vdec = self.value.decode
        for _ in range(n):
            before = state.start
            k = kdec(state)
            out[k] = vdec(state)
            if state.start == before:
                # A pair that read no bytes repeats identically (decoding is a function of the
                # state), so the remaining pairs would rewrite the same key: JS's result, without
                # looping up to 2^53 times.
                break
        return out


def record(key: Codec[K], value: Codec[V]) -> Record[K, V]:
    return Record(key, value)


string_record: Record[str, str] = Record(utf8, utf8)
"""JS ``c.stringRecord``: a record of utf8 keys to utf8 values."""

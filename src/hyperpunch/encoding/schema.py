"""Declarative message structs compiled once into specialised codec functions.

Almost every Holepunch message is "some fields, a ``uint`` flags field, then optional fields whose
presence the flag bits announce, in bit order". :func:`schema` takes that description and
generates Python source for it at definition time (as ``dataclasses`` does), so that encoding or
decoding a message is one function with every known leaf codec inlined: runs of fixed-size fields
become a single precompiled ``struct.Struct`` call, varints take their one-byte fast path inline,
and no ``State`` object is made on the ``encode``/``decode`` fast path.

Invariants:

* The result is an ordinary ``Codec[T]``: it composes with ``array``, ``frame``, ``record`` and
  state-based use, and writes exactly the bytes the equivalent hand-written codec (calling the
  field codecs in order) writes.
* Entries go on the wire in the order given. ``optional`` fields are written iff their value is
  not ``None``; ``flag`` entries are booleans carried only by their flag bit. Bits are assigned
  in entry order (0, 1, 2, ...) unless ``bit=`` says otherwise. The flags ``uint`` sits where the
  :func:`flags` entry is, or first (after ``prefix``) if there is none. Unknown flag bits are
  ignored on decode, as JS does.
* Decoders raise only :class:`DecodeError` for any input (the inline code checks every bound;
  the ``decode`` fast path also converts anything a nested hand-written codec lets escape).
  Encoders raise :class:`EncodeError` (through ``encode``) for values the field codecs refuse.
* Leaf codecs not known to the generator are called through their normal interface, so any
  ``Codec`` may be a field. Nested schemas, ``array(...)`` of a schema or of a known leaf, and
  ``uint32array`` are inlined (an array decoder refuses more than ``ARRAY_MAX`` elements, as
  ``array`` does).
* ``field(..., written=x)`` always writes ``x`` (a JS version constant) and decodes what is there;
  ``trailing`` entries and ``flags(trailing=True)`` are read only when bytes remain (else their
  default / 0), as JS's ``state.start < state.end ? ... : ...``; ``flags(omit_zero=True)`` leaves
  a zero flags uint out.
"""

from __future__ import annotations

import dataclasses
import socket
import struct
import types
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from hyperpunch.encoding.buffers import Fixed, buffer, optional_buffer, uint32array
from hyperpunch.encoding.codec import DECODE_FAILURES, ENCODE_FAILURES, Codec, State
from hyperpunch.encoding.combinators import ARRAY_MAX, Array, Enum
from hyperpunch.encoding.errors import DecodeError, EncodeError, SchemaError
from hyperpunch.encoding.net import (
    cached_address,
    ipv4_address,
    make_address,
    pack_ipv4,
    port_range_error,
)
from hyperpunch.encoding.numbers import (
    MAX_SAFE_UINT,
    bool_,
    float64,
    out_of_bounds,
    uint,
    uint8,
    uint16,
    uint32,
    uint64,
    uint_range_error,
    unsafe_read_error,
)

__all__ = ["Entry", "Schema", "field", "flag", "flags", "optional", "schema", "trailing"]

T = TypeVar("T")

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


# --- helpers the generated code calls (the slow, rare branches) -----------------------------------


def _uint_bytes(n: int) -> bytes:
    """The varint for ``n`` when it is not a one-byte value (or is out of range)."""
    if n <= 0xFC:
        if n < 0:
            raise uint_range_error(n)
        return bytes((n,))
    if n <= 0xFFFF:
        return b"\xfd" + _U16.pack(n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + _U32.pack(n)
    if n > MAX_SAFE_UINT:
        raise uint_range_error(n)
    return b"\xff" + _U64.pack(n)


def _uint_at(data: bytes, s: int, end: int) -> tuple[int, int]:
    """Decode a multi-byte varint whose prefix byte is at ``s``: (value, next offset)."""
    a = data[s]
    if a <= 0xFC:
        return a, s + 1
    if a == 0xFD:
        if end - s < 3:
            raise out_of_bounds()
        return data[s + 1] | data[s + 2] << 8, s + 3
    if a == 0xFE:
        if end - s < 5:
            raise out_of_bounds()
        n: int = _U32.unpack_from(data, s + 1)[0]
        return n, s + 5
    if end - s < 9:
        raise out_of_bounds()
    n = _U64.unpack_from(data, s + 1)[0]
    if n > MAX_SAFE_UINT:
        raise unsafe_read_error(n)
    return n, s + 9


def _fixed_size(got: int, n: int) -> EncodeError:
    return EncodeError(f"Incorrect buffer size: {got} bytes for fixed({n})")


_ONE_BYTE = tuple(bytes((i,)) for i in range(256))

_NAMESPACE: dict[str, Any] = {
    "_B": _ONE_BYTE,
    "_MAX": MAX_SAFE_UINT,
    "_oob": out_of_bounds,
    "_uint_bytes": _uint_bytes,
    "_uint_at": _uint_at,
    "uint_range_error": uint_range_error,
    "unsafe_read_error": unsafe_read_error,
    "port_range_error": port_range_error,
    "_fixed_size": _fixed_size,
    "_State": State,
    "_NB": bytearray(),
    "_new": tuple.__new__,
    "_onew": object.__new__,
    "_DecodeError": DecodeError,
    "_EncodeError": EncodeError,
    "ENCODE_FAILURES": ENCODE_FAILURES,
    "DECODE_FAILURES": DECODE_FAILURES,
    "_join": b"".join,
    "_FD": struct.Struct("<BH"),
    "_pack": struct.pack,
    "_unpack_from": struct.unpack_from,
    "_ARRAY_MAX": ARRAY_MAX,
}


def _too_big(n: int) -> DecodeError:
    return DecodeError(f"Array is too big ({n} elements)")


_NAMESPACE["_too_big"] = _too_big


# --- leaf templates ---------------------------------------------------------------------------------
#
# A leaf knows how to emit source for one value held in local variable ``v``: its encoded size
# (``n += ...`` lines, or a constant), the statements an encoder runs first (checks, temporaries)
# and the expressions whose bytes, in order, are the encoding (the encoder joins every part of a
# message once), and the lines decoding it from ``data[s:end]`` into ``v`` (advancing ``s``).
# Temporaries are named after ``v`` so that leaves nest. Fixed-size leaves may also describe
# themselves as struct format items so a run of them is one pack/unpack.


@dataclasses.dataclass(frozen=True)
class _Packable:
    fmt: str  # struct format characters, without byte order
    checks: Callable[[str], list[str]]  # v -> lines validating v / computing pack inputs
    args: Callable[[str], list[str]]  # v -> pack argument expressions


@dataclasses.dataclass(frozen=True)
class _Unpackable:
    fmt: str
    nitems: int
    post: Callable[[str, list[str]], list[str]]  # (v, unpacked item names) -> lines setting v


def _no_lines(v: str) -> list[str]:
    return []


@dataclasses.dataclass(frozen=True)
class _Leaf:
    size: int | None  # constant encoded size, or None: see size_lines
    size_lines: Callable[[str], list[str]]
    parts: Callable[[str], list[str]]  # v -> expressions of the encoded bytes, in order
    dec_lines: Callable[[str], list[str]]
    enc_lines: Callable[[str], list[str]] = _no_lines  # v -> statements run before the parts
    pack: _Packable | None = None
    unpack: _Unpackable | None = None


def _const_size(n: int) -> Callable[[str], list[str]]:
    return lambda v: [f"n += {n}"]


def _uint_check(v: str) -> list[str]:
    return [f"if not 0 <= {v} <= _MAX: raise uint_range_error({v})"]


def _fixed_uint_leaf(fmt: str, width: int, mask: int, check_read: bool) -> _Leaf:
    st_name = f"_S_{fmt}"
    _NAMESPACE[st_name] = struct.Struct("<" + fmt)

    def post(v: str, items: list[str]) -> list[str]:
        lines = [f"{v} = {items[0]}"]
        if check_read:
            lines.append(f"if {v} > _MAX: raise unsafe_read_error({v})")
        return lines

    def dec(v: str) -> list[str]:
        return [
            f"if end - s < {width}: raise _oob()",
            f"{v} = {st_name}.unpack_from(data, s)[0]",
            *post(v, [v])[1:],
            f"s += {width}",
        ]

    return _Leaf(
        size=width,
        size_lines=_const_size(width),
        enc_lines=_uint_check,
        parts=lambda v: [f"{st_name}.pack({v} & {mask:#x})"],
        dec_lines=dec,
        pack=_Packable(fmt, _uint_check, lambda v: [f"{v} & {mask:#x}"]),
        unpack=_Unpackable(fmt, 1, post),
    )


def _uint_dec(v: str) -> list[str]:
    return [
        "if s >= end: raise _oob()",
        f"{v} = data[s]",
        f"if {v} <= 0xFC: s += 1",
        f"else: {v}, s = _uint_at(data, s, end)",
    ]


_UINT_SIZE = "(1 if {0} <= 0xFC else 3 if {0} <= 0xFFFF else 5 if {0} <= 0xFFFFFFFF else 9)"


def _uint_part(v: str) -> str:  # the one- and three-byte forms inline
    return f"_B[{v}] if 0 <= {v} <= 0xFC else _FD.pack(0xFD, {v}) if 0xFC < {v} <= 0xFFFF else _uint_bytes({v})"


def _count_part(v: str) -> str:  # a length, known to be >= 0
    return f"_B[{v}] if {v} <= 0xFC else _FD.pack(0xFD, {v}) if {v} <= 0xFFFF else _uint_bytes({v})"


_UINT = _Leaf(
    size=None,
    size_lines=lambda v: ["n += " + _UINT_SIZE.format(v)],
    parts=lambda v: [_uint_part(v)],
    dec_lines=_uint_dec,
)

_BUFFER = _Leaf(
    size=None,
    size_lines=lambda v: [f"{v}_n = len({v})", f"n += {v}_n + " + _UINT_SIZE.format(f"{v}_n")],
    enc_lines=lambda v: [f"{v}_n = len({v})"],
    parts=lambda v: [_count_part(f"{v}_n"), v],
    dec_lines=lambda v: [
        *_uint_dec(f"{v}_n"),
        f"{v}_e = s + {v}_n",
        f"if {v}_e > end: raise _oob()",
        f"{v} = data[s:{v}_e]",
        f"s = {v}_e",
    ],
)

_OPTIONAL_BUFFER = _Leaf(  # like buffer; None writes length 0, and length 0 decodes as None
    size=None,
    size_lines=lambda v: [
        f"{v}_n = 0 if {v} is None else len({v})",
        f"n += {v}_n + " + _UINT_SIZE.format(f"{v}_n"),
    ],
    enc_lines=lambda v: [f"{v}_n = 0 if {v} is None else len({v})"],
    parts=lambda v: [_count_part(f"{v}_n"), f"{v} if {v}_n else b''"],
    dec_lines=lambda v: [
        *_uint_dec(f"{v}_n"),
        f"{v}_e = s + {v}_n",
        f"if {v}_e > end: raise _oob()",
        f"{v} = data[s:{v}_e] if {v}_n else None",
        f"s = {v}_e",
    ],
)

_UINT32ARRAY = _Leaf(  # uint element count, then u32 LE each (no ARRAY_MAX, as uint32array)
    size=None,
    size_lines=lambda v: [f"{v}_n = len({v})", f"n += 4 * {v}_n + " + _UINT_SIZE.format(f"{v}_n")],
    enc_lines=lambda v: [f"{v}_n = len({v})"],
    parts=lambda v: [_count_part(f"{v}_n"), f"_pack('<%dI' % {v}_n, *{v})"],
    dec_lines=lambda v: [
        *_uint_dec(f"{v}_n"),
        f"{v}_e = s + 4 * {v}_n",
        f"if {v}_e > end: raise _oob()",
        f"{v} = list(_unpack_from('<%dI' % {v}_n, data, s))",
        f"s = {v}_e",
    ],
)


def _fixed_bytes_leaf(n: int) -> _Leaf:
    def dec(v: str) -> list[str]:
        return [f"{v}_e = s + {n}", f"if {v}_e > end: raise _oob()", f"{v} = data[s:{v}_e]", f"s = {v}_e"]

    return _Leaf(
        size=n,
        size_lines=_const_size(n),
        # not packable on encode: joining the value itself accepts any bytes-like, as fixed() does
        enc_lines=lambda v: [f"if len({v}) != {n}: raise _fixed_size(len({v}), {n})"],
        parts=lambda v: [v],
        dec_lines=dec,
        unpack=_Unpackable(f"{n}s", 1, lambda v, items: [f"{v} = {items[0]}"]),
    )


_PACKED: dict[str, bytes] = {}  # dotted quad -> 4 bytes: peers and our own address repeat
_PACKED_MAX = 4096


def _pack_host4(host: str) -> bytes:
    try:
        b = socket.inet_pton(socket.AF_INET, host)
    except (OSError, TypeError, ValueError):
        b = pack_ipv4(host)  # leading zeros (JS reads "010" as 10), or EncodeError
    if len(_PACKED) >= _PACKED_MAX:
        _PACKED.clear()
    _PACKED[host] = b
    return b


_NAMESPACE["_packed_get"] = _PACKED.get
_NAMESPACE["_pack_host4"] = _pack_host4


def _ipv4_checks(v: str) -> list[str]:
    return [
        f"{v}_h, {v}_p = {v}",
        f"{v}_b = _packed_get({v}_h)",
        f"if {v}_b is None: {v}_b = _pack_host4({v}_h)",
        f"if not 0 <= {v}_p <= _MAX: raise port_range_error({v}_p)",
    ]


_NAMESPACE["_addr_get"] = cached_address
_NAMESPACE["make_address"] = make_address


def _ipv4_post(v: str, items: list[str]) -> list[str]:
    return [f"{v} = _addr_get({items[0]})", f"if {v} is None: {v} = make_address({items[0]})"]


_NAMESPACE["_S_ipv4_address"] = struct.Struct("<4sH")
_IPV4_ADDRESS = _Leaf(
    size=6,
    size_lines=_const_size(6),
    enc_lines=_ipv4_checks,
    parts=lambda v: [f"_S_ipv4_address.pack({v}_b, {v}_p & 0xFFFF)"],
    dec_lines=lambda v: [
        f"{v}_e = s + 6",
        f"if {v}_e > end: raise _oob()",
        f"{v}_r = data[s:{v}_e]",
        f"s = {v}_e",
        *_ipv4_post(v, [f"{v}_r"]),
    ],
    pack=_Packable("4sH", _ipv4_checks, lambda v: [f"{v}_b", f"{v}_p & 0xFFFF"]),
    unpack=_Unpackable("6s", 1, _ipv4_post),
)

_BOOL = _Leaf(
    size=1,
    size_lines=_const_size(1),
    parts=lambda v: [f"_B[1] if {v} else _B[0]"],
    dec_lines=lambda v: ["if s >= end: raise _oob()", f"{v} = data[s] == 1", "s += 1"],
    pack=_Packable("B", lambda v: [], lambda v: [f"1 if {v} else 0"]),
    unpack=_Unpackable("B", 1, lambda v, items: [f"{v} = {items[0]} == 1"]),
)

_NAMESPACE["_S_d"] = struct.Struct("<d")
_FLOAT64 = _Leaf(
    size=8,
    size_lines=_const_size(8),
    parts=lambda v: [f"_S_d.pack({v})"],
    dec_lines=lambda v: ["if end - s < 8: raise _oob()", f"{v} = _S_d.unpack_from(data, s)[0]", "s += 8"],
    pack=_Packable("d", lambda v: [], lambda v: [v]),
    unpack=_Unpackable("d", 1, lambda v, items: [f"{v} = {items[0]}"]),
)

_UINT8 = _Leaf(
    size=1,
    size_lines=_const_size(1),
    enc_lines=_uint_check,
    parts=lambda v: [f"_B[{v} & 0xFF]"],
    dec_lines=lambda v: ["if s >= end: raise _oob()", f"{v} = data[s]", "s += 1"],
    pack=_Packable("B", _uint_check, lambda v: [f"{v} & 0xFF"]),
    unpack=_Unpackable("B", 1, lambda v, items: [f"{v} = {items[0]}"]),
)

_KNOWN: dict[int, _Leaf] = {
    id(uint): _UINT,
    id(uint8): _UINT8,
    id(uint16): _fixed_uint_leaf("H", 2, 0xFFFF, False),
    id(uint32): _fixed_uint_leaf("I", 4, 0xFFFFFFFF, False),
    id(uint64): _fixed_uint_leaf("Q", 8, 0xFFFFFFFFFFFFFFFF, True),
    id(buffer): _BUFFER,
    id(ipv4_address): _IPV4_ADDRESS,
    id(bool_): _BOOL,
    id(float64): _FLOAT64,
    id(uint32array): _UINT32ARRAY,
    id(optional_buffer): _OPTIONAL_BUFFER,
}


_FLAGS_BYTE = _Packable("B", lambda v: [], lambda v: [v])  # a flags uint known to stay < 0xfd


def _generic_leaf(c: str) -> _Leaf:
    """Any other codec (bound in the namespace as ``c``), called through its interface."""
    return _Leaf(
        size=None,
        size_lines=lambda v: [
            f"{v}_st = _State(0, 0, _NB)",
            f"{c}.preencode({v}_st, {v})",
            f"n += {v}_st.end",
        ],
        enc_lines=lambda v: [
            f"{v}_st = _State(0, 0, _NB)",
            f"{c}.preencode({v}_st, {v})",
            f"{v}_st.buffer = {v}_bb = bytearray({v}_st.end)",
            f"{c}.encode({v}_st, {v})",
            f"if {v}_st.start != {v}_st.end:",
            "    raise _EncodeError('field encode wrote a different size than preencode')",
        ],
        parts=lambda v: [f"{v}_bb"],
        dec_lines=lambda v: [
            f"{v}_st = _State(s, end, data)",
            f"{v} = {c}.decode({v}_st)",
            f"s = {v}_st.start",
        ],
    )


def _enum_leaf(c: str) -> _Leaf:
    """An ``enum`` of at most 0xFD names (bound in the namespace as ``c``): one index byte."""

    def checks(v: str) -> list[str]:
        return [f"{v}_x = {c}.index.get({v})", f"if {v}_x is None: {c}.index_of({v})"]

    return _Leaf(
        size=1,
        size_lines=_const_size(1),
        enc_lines=checks,
        parts=lambda v: [f"_B[{v}_x]"],
        dec_lines=lambda v: [*_uint_dec(f"{v}_x"), f"{v} = {c}.name_of({v}_x)"],
        pack=_Packable("B", checks, lambda v: [f"{v}_x"]),
    )


def _array_leaf(item: _Leaf, fn: str, ns: dict[str, Any], nested: Schema[Any] | None) -> _Leaf:
    """``array(item)``: the item's decoder inline in a loop; sizes and bytes through per-item
    functions bound in ``ns`` as ``fn + "_size"`` / ``fn + "_bytes"`` (the caller keeps ``fn``
    unique): a nested schema's own, or compiled here from the item's templates."""
    if nested is not None:
        ns[f"{fn}_size"] = nested._size
        ns[f"{fn}_bytes"] = nested._raw
    else:
        if item.size is None:
            src = ["def _f(x):", "    n = 0", *_indent(item.size_lines("x")), "    return n"]
            ns[f"{fn}_size"] = _compile_fn(src, ns)
        parts = item.parts("x")
        ret = f"return {parts[0]}" if len(parts) == 1 else f"return _join(({', '.join(parts)},))"
        ns[f"{fn}_bytes"] = _compile_fn(["def _f(x):", *_indent([*item.enc_lines("x"), ret])], ns)

    def size_lines(v: str) -> list[str]:
        count = f"n += {_UINT_SIZE.format(f'{v}_c')}"
        if item.size is not None:
            return [f"{v}_c = len({v})", f"{count} + {item.size} * {v}_c"]
        return [f"{v}_c = len({v})", f"{count} + sum(map({fn}_size, {v}))"]

    def dec_lines(v: str) -> list[str]:
        return [
            *_uint_dec(f"{v}_c"),
            f"if {v}_c > _ARRAY_MAX: raise _too_big({v}_c)",
            f"{v} = []",
            f"{v}_ap = {v}.append",
            f"for _ in range({v}_c):",
            *_indent(item.dec_lines(f"{v}_i")),
            f"    {v}_ap({v}_i)",
        ]

    return _Leaf(
        size=None,
        size_lines=size_lines,
        enc_lines=lambda v: [f"{v}_c = len({v})"],
        parts=lambda v: [_count_part(f"{v}_c"), f"_join(map({fn}_bytes, {v}))"],
        dec_lines=dec_lines,
    )


def _compile_fn(src: list[str], ns: dict[str, Any]) -> Callable[..., Any]:
    local: dict[str, Any] = {}
    exec(compile("\n".join(src) + "\n", "<schema item>", "exec"), ns, local)
    fn: Callable[..., Any] = local["_f"]
    return fn


# --- the declarative API ------------------------------------------------------------------------------


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


_UNSET: Any = _Unset()


@dataclasses.dataclass(frozen=True)
class Entry:
    """One entry of a :func:`schema`: build with :func:`field`, :func:`optional`, :func:`flag`,
    :func:`flags` or :func:`trailing`."""

    kind: str  # "field" | "optional" | "flag" | "flags" | "trailing"
    name: str = ""
    codec: Codec[Any] | None = None
    bit: int | None = None
    truthy: bool = False  # optional: present iff truthy (JS ``m.x ? ... : ...``), not iff not None
    default: Any = None  # optional / trailing: the value an absent field decodes to
    default_factory: Callable[[], Any] | None = None  # ... or makes it (a fresh list, say)
    written: Any = _UNSET  # field: always write this value (a version constant)
    trailing: bool = False  # flags: read only when bytes remain (else 0)
    omit_zero: bool = False  # flags: a zero flags uint is not written


def field(name: str, codec: Codec[Any], *, written: Any = _UNSET) -> Entry:
    """A field that is always present, written with ``codec``.

    ``written=x`` writes ``x`` whatever the value holds (JS writes a constant version number
    there); decoding keeps what was read.
    """
    return Entry("field", name, codec, written=written)


def optional(
    name: str,
    codec: Codec[Any],
    *,
    bit: int | None = None,
    truthy: bool = False,
    default: Any = None,
    default_factory: Callable[[], Any] | None = None,
) -> Entry:
    """A field announced by a flag bit (the next one by default), present iff it is not ``None``.

    JS messages often test truthiness instead (``m.error ? 1 : 0`` omits an ``error`` of 0, and
    decodes an absent one as ``0``): pass ``truthy=True, default=0`` for those. ``default`` is
    what an absent field decodes to (use an immutable value); ``default_factory`` makes it
    instead (``list`` for an absent list that decodes as ``[]``).
    """
    return Entry("optional", name, codec, bit, truthy, default, default_factory)


def trailing(name: str, codec: Codec[Any], *, default: Any = None) -> Entry:
    """A field always written, but decoded only when bytes remain (else ``default``): JS's
    ``state.start < state.end ? c.decode(state) : default`` for fields added to a message later."""
    return Entry("trailing", name, codec, default=default)


def flag(name: str, *, bit: int | None = None) -> Entry:
    """A boolean carried only by a flag bit (truthy on encode; ``bool`` on decode)."""
    return Entry("flag", name, None, bit)


def flags(*, trailing: bool = False, omit_zero: bool = False) -> Entry:
    """Where the flags ``uint`` goes (default: first, after the prefix).

    ``trailing=True``: the decoder reads it only when bytes remain, else takes 0 (flags JS added
    at the end of an older message). ``omit_zero=True`` (needs ``trailing``): a zero flags uint
    is not written at all.
    """
    return Entry("flags", trailing=trailing, omit_zero=omit_zero)


class Schema(Codec[T], Generic[T]):
    """A codec generated by :func:`schema`. ``source`` holds the generated Python source."""

    __slots__ = ()

    source: ClassVar[str] = ""
    value_type: ClassVar[type] = object
    # generated plain functions (staticmethods): used by enclosing schemas to inline this one
    _size: ClassVar[Callable[[Any], int]]
    _raw: ClassVar[Callable[[Any], bytes]]  # the encoding, without _to_bytes's error conversion
    _dec_at: ClassVar[Callable[[bytes, int, int], tuple[Any, int]]]
    _desc: ClassVar[_Desc]

    def __repr__(self) -> str:
        return f"schema({self.value_type.__name__})"


def _value_names(cls: type) -> tuple[list[str], list[str], bool]:
    """The value class's field names (constructor order), those it takes by keyword only, and
    whether it is a tuple subclass."""
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return list(cls._fields), [], True
    if dataclasses.is_dataclass(cls):
        fields = [f for f in dataclasses.fields(cls) if f.init]
        return [f.name for f in fields], [f.name for f in fields if f.kw_only], False
    raise SchemaError(f"schema value class must be a NamedTuple or a dataclass, not {cls!r}")


def _slot_setters(cls: type, names: list[str]) -> dict[str, Callable[[Any, Any], None]]:
    """For a slotted dataclass whose ``__init__`` dataclasses generated (only storing the fields:
    no ``__post_init__``, no init-less field), the slots' setters, which build a value about
    twice as fast as calling that ``__init__`` (a frozen one goes through ``object.__setattr__``).
    Else nothing: the generated code then calls the class."""
    init = cls.__dict__.get("__init__")
    generated = getattr(getattr(init, "__code__", None), "co_filename", "") == "<string>"
    fields: dict[str, dataclasses.Field[Any]] = getattr(cls, "__dataclass_fields__", {})
    if not generated or hasattr(cls, "__post_init__") or not all(f.init for f in fields.values()):
        return {}
    setters: dict[str, Callable[[Any, Any], None]] = {}
    for n in names:
        descr = cls.__dict__.get(n)
        if not isinstance(descr, types.MemberDescriptorType):
            return {}
        setters[n] = descr.__set__
    return setters


def _indent(lines: list[str], by: int = 1) -> list[str]:
    pad = "    " * by
    return [pad + line for line in lines]


def _check_entries(cls: type, names: list[str], entries: tuple[Entry, ...]) -> None:
    data_entries = [e for e in entries if e.kind != "flags"]
    got = [e.name for e in data_entries]
    if sorted(got) != sorted(names) or len(set(got)) != len(got):
        raise SchemaError(f"schema entries {got} must name each field of {cls.__name__} {names} once")
    if sum(e.kind == "flags" for e in entries) > 1:
        raise SchemaError("a schema has at most one flags entry")
    for e in entries:
        if e.kind in ("field", "optional", "trailing") and not isinstance(e.codec, Codec):
            raise SchemaError(f"field {e.name!r} needs a Codec, got {e.codec!r}")
        if e.default_factory is not None and e.default is not None:
            raise SchemaError(f"field {e.name!r} has both a default and a default_factory")
        if e.omit_zero and not e.trailing:
            raise SchemaError("flags(omit_zero=True) needs trailing=True (the decoder must see it is absent)")


def _assign_bits(flagged: list[Entry]) -> dict[str, int]:
    """Flag bits: explicit ones first, the rest take the lowest free bit in entry order."""
    bits: dict[str, int] = {}
    for e in flagged:
        if e.bit is not None:
            if not 0 <= e.bit < 32 or e.bit in bits.values():
                raise SchemaError(f"flag bit {e.bit} of {e.name!r} is out of range or taken")
            bits[e.name] = e.bit
    nxt = 0
    for e in flagged:
        if e.name not in bits:
            while nxt in bits.values():
                nxt += 1
            bits[e.name] = nxt
            nxt += 1
    return bits


@dataclasses.dataclass(frozen=True)
class _Desc:
    """A checked schema description (kept on the generated class, so enclosing schemas inline it)."""

    cls: type
    names: list[str]
    kw_only: list[str]
    is_tuple: bool
    order: list[Entry]  # wire order, the flags entry included
    flagged: list[Entry]
    bits: dict[str, int]
    flags_entry: Entry | None
    prefix: bytes
    prefix_error: str


def _describe(cls: Any, entries: tuple[Entry, ...], prefix: bytes, prefix_error: str) -> _Desc:
    if not isinstance(cls, type):
        raise SchemaError(f"schema value class must be a class, not {cls!r}")
    names, kw_only, is_tuple = _value_names(cls)
    _check_entries(cls, names, entries)
    flagged = [e for e in entries if e.kind in ("optional", "flag")]
    bits = _assign_bits(flagged)
    order = list(entries)
    flags_entry = next((e for e in entries if e.kind == "flags"), None)
    if flagged and flags_entry is None:
        flags_entry = flags()
        order.insert(0, flags_entry)
    at = order.index(flags_entry) if flags_entry is not None else 0
    if any(e.kind == "optional" for e in order[:at]):
        raise SchemaError("optional fields must come after the flags entry that announces them")
    return _Desc(cls, names, kw_only, is_tuple, order, flagged, bits, flags_entry, prefix, prefix_error)


@dataclasses.dataclass
class _Code:
    """The generated source pieces of one struct, every name in them prefixed."""

    unpack: list[str]  # the value (``m``, or the enclosing field's variable) into variables
    flags_lines: list[str]  # computing the flags value
    size_flags: list[str]  # ... when the size depends on it
    size_const: int
    size_lines: list[str]  # ``n += ...``
    enc_lines: list[str]  # statements before the parts
    parts: list[str]  # the encoding's byte expressions, in wire order
    dec_lines: list[str]
    construct: Callable[[str], list[str]]  # target variable -> lines building the decoded value


def _generate(d: _Desc, p: str, value: str, ns: dict[str, Any]) -> _Code:
    """Source for struct ``d`` whose value is the expression ``value``; locals and namespace
    names all start with ``p`` so that a struct inlines into another."""
    ns[f"{p}_cls"] = d.cls
    ns[f"{p}_PFX"] = d.prefix
    ns[f"{p}_PFX_ERROR"] = d.prefix_error
    var = {name: f"{p}v{i}" for i, name in enumerate(d.names)}
    fl = f"{p}_fl"

    def leaf_of(codec: Codec[Any], v: str) -> _Leaf:
        known = _KNOWN.get(id(codec))
        if known is not None:
            return known
        if isinstance(codec, Fixed):
            return _fixed_bytes_leaf(codec.n)
        if isinstance(codec, Schema):
            return _inline_leaf(codec, v, ns)
        if isinstance(codec, Enum) and len(codec.names) <= 0xFD:
            ns[f"{v}_codec"] = codec
            return _enum_leaf(f"{v}_codec")
        if isinstance(codec, Array):
            nested = codec.item if isinstance(codec.item, Schema) else None
            return _array_leaf(leaf_of(codec.item, f"{v}_i"), f"{v}_a", ns, nested)
        ns[f"{v}_codec"] = codec
        return _generic_leaf(f"{v}_codec")

    leaves = {e.name: leaf_of(e.codec, var[e.name]) for e in d.order if e.codec is not None}

    # ---- the value unpacking / construction
    if d.is_tuple:
        comma = "," if len(d.names) == 1 else ""
        unpack = [f"{', '.join(var[n] for n in d.names)}{comma} = {value}"]
        tup = f"_new({p}_cls, ({', '.join(var[n] for n in d.names)}{comma}))"

        def construct(t: str) -> list[str]:
            return [f"{t} = {tup}"]
    else:
        unpack = [f"{var[n]} = {value}.{n}" for n in d.names]
        args = [var[n] for n in d.names if n not in d.kw_only] + [f"{n}={var[n]}" for n in d.kw_only]
        call = f"{p}_cls({', '.join(args)})"
        setters = _slot_setters(d.cls, d.names)
        for n, setter in setters.items():
            ns[f"{var[n]}_set"] = setter

        def construct(t: str) -> list[str]:
            if not setters:
                return [f"{t} = {call}"]
            return [f"{t} = _onew({p}_cls)", *(f"{var[n]}_set({t}, {var[n]})" for n in d.names)]

    for e in d.order:
        if e.written is not _UNSET:
            ns[f"{var[e.name]}_k"] = e.written
            unpack.append(f"{var[e.name]} = {var[e.name]}_k")

    flag_terms = []
    for e in d.flagged:
        v, b = var[e.name], d.bits[e.name]
        term = f"({v} is not None)" if e.kind == "optional" and not e.truthy else f"(1 if {v} else 0)"
        flag_terms.append(term if b == 0 else f"{term} << {b}")
    flags_lines = [f"{fl} = {' | '.join(flag_terms) or '0'}"] if d.flags_entry is not None else []

    # ---- encode: the size, and the parts in wire order (runs of packables merged)
    max_flags = sum(1 << b for b in d.bits.values())
    omit_zero = d.flags_entry is not None and d.flags_entry.omit_zero
    code = _Code(
        unpack,
        flags_lines,
        flags_lines if max_flags > 0xFC or omit_zero else [],
        0,
        [],
        [],
        [],
        [],
        construct,
    )
    run: list[tuple[_Packable, str]] = []

    def flush() -> None:
        if not run:
            return
        st = f"{p}_P{len(code.parts)}"
        ns[st] = struct.Struct("<" + "".join(pk.fmt for pk, _ in run))
        args: list[str] = []
        for pk, v in run:
            code.enc_lines.extend(pk.checks(v))
            args.extend(pk.args(v))
        code.parts.append(f"{st}.pack({', '.join(args)})")
        run.clear()

    code.size_const = len(d.prefix)
    if d.prefix:
        run.append((_Packable(f"{len(d.prefix)}s", lambda v: [], lambda v: [v]), f"{p}_PFX"))
    for e in d.order:
        if e.kind == "flags":
            if e.omit_zero:
                flush()
                code.size_lines.append(f"if {fl}: n += " + _UINT_SIZE.format(fl))
                code.parts.append(f"({_uint_part(fl)}) if {fl} else b''")
            elif max_flags <= 0xFC:
                code.size_const += 1
                run.append((_FLAGS_BYTE, fl))
            else:
                flush()
                code.size_lines.extend(_UINT.size_lines(fl))
                code.parts.extend(_UINT.parts(fl))
        elif e.kind in ("field", "trailing"):
            leaf, v = leaves[e.name], var[e.name]
            if leaf.size is not None:
                code.size_const += leaf.size
            else:
                code.size_lines.extend(leaf.size_lines(v))
            if leaf.pack is not None:
                run.append((leaf.pack, v))
            else:
                flush()
                code.enc_lines.extend(leaf.enc_lines(v))
                code.parts.extend(leaf.parts(v))
        elif e.kind == "optional":
            flush()
            leaf, v = leaves[e.name], var[e.name]
            cond = v if e.truthy else f"{v} is not None"
            code.size_lines.append(f"if {cond}:")
            code.size_lines.extend(_indent(leaf.size_lines(v)))
            lp, le = leaf.parts(v), leaf.enc_lines(v)
            if not le and len(lp) == 1:
                code.parts.append(f"({lp[0]}) if {cond} else b''")
                continue
            held = [f"{v}_x{j}" for j in range(len(lp))]
            code.enc_lines.append(f"if {cond}:")
            code.enc_lines.extend(_indent([*le, *(f"{h} = {x}" for h, x in zip(held, lp, strict=True))]))
            code.enc_lines.append(f"else: {' = '.join(held)} = b''")
            code.parts.extend(held)
    flush()

    # ---- decode
    dec = code.dec_lines
    urun: list[tuple[_Unpackable, str]] = []

    def uflush() -> None:
        if not urun:
            return
        k = sum(1 for line in dec if ".unpack_from(data, s)" in line)
        st = f"{p}_U{k}"
        s_ = struct.Struct("<" + "".join(up.fmt for up, _ in urun))
        ns[st] = s_
        items: list[list[str]] = []
        for up, _v in urun:
            n0 = sum(len(g) for g in items)
            items.append([f"{p}_r{k}_{n0 + i}" for i in range(up.nitems)])
        flat = [x for group in items for x in group]
        dec.append(f"if end - s < {s_.size}: raise _oob()")
        dec.append(f"{', '.join(flat)}{',' if len(flat) == 1 else ''} = {st}.unpack_from(data, s)")
        dec.append(f"s += {s_.size}")
        for (up, v), group in zip(urun, items, strict=True):
            dec.extend(up.post(v, group))
        urun.clear()

    def default_line(e: Entry, v: str) -> str:
        if e.default_factory is not None:
            ns[f"{v}_df"] = e.default_factory
            return f"else: {v} = {v}_df()"
        if e.default is None:
            return f"else: {v} = None"
        ns[f"{v}_d"] = e.default
        return f"else: {v} = {v}_d"

    if d.prefix:
        np = len(d.prefix)
        dec.append(f"if end - s < {np}: raise _oob()")
        if np == 1:
            dec.append(f"if data[s] != {d.prefix[0]}: raise _DecodeError({p}_PFX_ERROR)")
        else:
            dec.append(f"if data[s:s + {np}] != {p}_PFX: raise _DecodeError({p}_PFX_ERROR)")
        dec.append(f"s += {np}")
    for e in d.order:
        if e.kind == "flags":
            uflush()
            if e.trailing:
                dec.extend(["if s < end:", *_indent(_uint_dec(fl)), f"else: {fl} = 0"])
            else:
                dec.extend(_uint_dec(fl))
        elif e.kind == "field":
            leaf, v = leaves[e.name], var[e.name]
            if leaf.unpack is not None:
                urun.append((leaf.unpack, v))
                continue
            uflush()
            dec.extend(leaf.dec_lines(v))
        elif e.kind in ("optional", "trailing"):
            uflush()
            leaf, v = leaves[e.name], var[e.name]
            dec.append(f"if {fl} & {1 << d.bits[e.name]}:" if e.kind == "optional" else "if s < end:")
            dec.extend(_indent(leaf.dec_lines(v)))
            dec.append(default_line(e, v))
    uflush()
    for e in d.flagged:
        if e.kind == "flag":
            dec.append(f"{var[e.name]} = {fl} & {1 << d.bits[e.name]} != 0")
    return code


def _inline_leaf(nested: Schema[Any], v: str, ns: dict[str, Any]) -> _Leaf:
    """A nested schema's code inlined for the value in variable ``v`` (the only name this leaf's
    templates may be called with)."""
    code = _generate(nested._desc, f"{v}_", v, ns)
    const = code.size_const
    sized = [*code.unpack, *code.size_flags, *code.size_lines, *([f"n += {const}"] if const else [])]
    fixed_size = not code.size_lines and not code.size_flags
    return _Leaf(
        size=const if fixed_size else None,
        size_lines=lambda _v: sized,
        enc_lines=lambda _v: [*code.unpack, *code.flags_lines, *code.enc_lines],
        parts=lambda _v: code.parts,
        dec_lines=lambda _v: [*code.dec_lines, *code.construct(v)],
    )


def schema(
    cls: Callable[..., T],
    *entries: Entry,
    prefix: bytes = b"",
    prefix_error: str = "Unknown message type",
) -> Schema[T]:
    """Compile a message struct codec for values of ``cls`` (a NamedTuple or dataclass).

    ``entries`` name every field of ``cls`` once, in wire order. ``prefix`` is a constant written
    first (a message type byte, say); decode raises ``DecodeError(prefix_error)`` on a mismatch.
    """
    desc = _describe(cls, entries, prefix, prefix_error)
    ns: dict[str, Any] = dict(_NAMESPACE)
    code = _generate(desc, "", "m", ns)
    size_body = [*code.unpack, *code.size_flags, f"n = {code.size_const}", *code.size_lines]
    ret = f"return _join(({', '.join(code.parts)},))" if code.parts else "return b''"
    enc_body = [*code.unpack, *code.flags_lines, *code.enc_lines, ret]
    dec_lines, build = code.dec_lines, code.construct("_o")
    name = desc.cls.__name__
    src: list[str] = [
        "def _size(m):",
        *_indent(size_body),
        "    return n",
        "",
        "def preencode(self, state, m):",
        *_indent(size_body),
        "    state.end += n",
        "",
        "def _raw(m):",
        *_indent(enc_body),
        "",
        "def _to_bytes(m):",
        "    try:",
        *_indent(enc_body, 2),
        "    except _EncodeError:",
        "        raise",
        "    except ENCODE_FAILURES as err:",
        f"        raise _EncodeError(f'cannot encode {name}: {{err}}') from err",
        "",
        "def encode(self, state, m):",  # stray errors escape as from any codec's encode
        *_indent(enc_body[:-1]),
        f"    b = {ret[len('return ') :]}",
        "    s = state.start",
        "    e = s + len(b)",
        "    state.buffer[s:e] = b",
        "    state.start = e",
        "",
        "def _dec_at(data, s, end):",
        *_indent(dec_lines),
        *_indent(build),
        "    return _o, s",
        "",
        "def decode(self, state):",
        "    data = state.buffer",
        "    s = state.start",
        "    end = state.end",
        *_indent(dec_lines),
        *_indent(build),
        "    state.start = s",
        "    return _o",
        "",
        "def _from_bytes(data, exact):",
        "    if type(data) is not bytes:",
        "        data = bytes(data)",
        "    s = 0",
        "    end = len(data)",
        "    try:",
        *_indent(dec_lines, 2),
        *_indent(build, 2),  # a value class refusing the fields (__post_init__) is bad input too
        "    except _DecodeError:",
        "        raise",
        "    except DECODE_FAILURES as err:",
        "        raise _DecodeError(f'invalid encoding: {err}') from err",
        "    if exact and s != end:",
        "        raise _DecodeError(f'{end - s} trailing bytes after the value')",
        "    return _o",
    ]
    source = "\n".join(src) + "\n"
    exec(compile(source, f"<schema {name}>", "exec"), ns)

    attrs: dict[str, Any] = {
        "__slots__": (),
        "_desc": desc,
        "source": source,
        "value_type": cls,
        "preencode": ns["preencode"],
        "encode": ns["encode"],
        "decode": ns["decode"],
        "_size": staticmethod(ns["_size"]),
        "_raw": staticmethod(ns["_raw"]),
        "_dec_at": staticmethod(ns["_dec_at"]),
        "_to_bytes": staticmethod(ns["_to_bytes"]),
        "_from_bytes": staticmethod(ns["_from_bytes"]),
    }
    codec_cls = type(f"{name}Schema", (Schema,), attrs)
    made: Schema[T] = codec_cls()
    return made

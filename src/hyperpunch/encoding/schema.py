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
* Leaf codecs not known to the generator (and nested schemas) are called through their normal
  interface, so any ``Codec`` may be a field.
"""

from __future__ import annotations

import dataclasses
import socket
import struct
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from hyperpunch.encoding.buffers import Fixed, buffer
from hyperpunch.encoding.codec import DECODE_FAILURES, ENCODE_FAILURES, Codec, State
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

__all__ = ["Entry", "Schema", "field", "flag", "flags", "optional", "schema"]

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
    "_DecodeError": DecodeError,
    "_EncodeError": EncodeError,
    "ENCODE_FAILURES": ENCODE_FAILURES,
    "DECODE_FAILURES": DECODE_FAILURES,
    "_join": b"".join,
}


# --- leaf templates ---------------------------------------------------------------------------------
#
# A leaf knows how to emit source for one value held in local variable ``v``: its encoded size
# (``n += ...`` lines, or a constant), the lines appending its bytes to the parts list through
# ``_a``, and the lines decoding it from ``data[s:end]`` into ``v`` (advancing ``s``). Fixed-size
# leaves may also describe themselves as struct format items so a run of them is one pack/unpack.


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


@dataclasses.dataclass(frozen=True)
class _Leaf:
    size: int | None  # constant encoded size, or None: see size_lines
    size_lines: Callable[[str], list[str]]
    join_lines: Callable[[str], list[str]]
    dec_lines: Callable[[str], list[str]]
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
        join_lines=lambda v: [*_uint_check(v), f"_a({st_name}.pack({v} & {mask:#x}))"],
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

_UINT = _Leaf(
    size=None,
    size_lines=lambda v: ["n += " + _UINT_SIZE.format(v)],
    join_lines=lambda v: [f"_a(_B[{v}] if 0 <= {v} <= 0xFC else _uint_bytes({v}))"],
    dec_lines=_uint_dec,
)

_BUFFER = _Leaf(
    size=None,
    size_lines=lambda v: [f"{v}_n = len({v})", f"n += {v}_n + " + _UINT_SIZE.format(f"{v}_n")],
    join_lines=lambda v: [
        f"{v}_n = len({v})",
        f"_a(_B[{v}_n] if {v}_n <= 0xFC else _uint_bytes({v}_n))",
        f"_a({v})",
    ],
    dec_lines=lambda v: [
        *_uint_dec(f"{v}_n"),
        f"{v}_e = s + {v}_n",
        f"if {v}_e > end: raise _oob()",
        f"{v} = data[s:{v}_e]",
        f"s = {v}_e",
    ],
)


def _fixed_bytes_leaf(n: int) -> _Leaf:
    def dec(v: str) -> list[str]:
        return [f"{v}_e = s + {n}", f"if {v}_e > end: raise _oob()", f"{v} = data[s:{v}_e]", f"s = {v}_e"]

    return _Leaf(
        size=n,
        size_lines=_const_size(n),
        # not packable on encode: appending the value itself accepts any bytes-like, as fixed() does
        join_lines=lambda v: [f"if len({v}) != {n}: raise _fixed_size(len({v}), {n})", f"_a({v})"],
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
    join_lines=lambda v: [*_ipv4_checks(v), f"_a(_S_ipv4_address.pack({v}_b, {v}_p & 0xFFFF))"],
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
    join_lines=lambda v: [f"_a(_B[1] if {v} else _B[0])"],
    dec_lines=lambda v: ["if s >= end: raise _oob()", f"{v} = data[s] == 1", "s += 1"],
    pack=_Packable("B", lambda v: [], lambda v: [f"1 if {v} else 0"]),
    unpack=_Unpackable("B", 1, lambda v, items: [f"{v} = {items[0]} == 1"]),
)

_NAMESPACE["_S_d"] = struct.Struct("<d")
_FLOAT64 = _Leaf(
    size=8,
    size_lines=_const_size(8),
    join_lines=lambda v: [f"_a(_S_d.pack({v}))"],
    dec_lines=lambda v: ["if end - s < 8: raise _oob()", f"{v} = _S_d.unpack_from(data, s)[0]", "s += 8"],
    pack=_Packable("d", lambda v: [], lambda v: [v]),
    unpack=_Unpackable("d", 1, lambda v, items: [f"{v} = {items[0]}"]),
)

_UINT8 = _Leaf(
    size=1,
    size_lines=_const_size(1),
    join_lines=lambda v: [*_uint_check(v), f"_a(_B[{v} & 0xFF])"],
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
}


_FLAGS_BYTE = _Packable("B", lambda v: [], lambda v: [v])  # a flags uint known to stay < 0xfd


def _generic_leaf(c: str) -> _Leaf:
    """Any other codec (bound in the namespace as ``c``), called through its interface."""
    return _Leaf(
        size=None,
        size_lines=lambda v: ["_st = _State(0, 0, _NB)", f"{c}.preencode(_st, {v})", "n += _st.end"],
        join_lines=lambda v: [
            "_st = _State(0, 0, _NB)",
            f"{c}.preencode(_st, {v})",
            "_st.buffer = _bb = bytearray(_st.end)",
            f"{c}.encode(_st, {v})",
            "if _st.start != _st.end: raise _EncodeError('field encode wrote a different size than preencode')",
            "_a(_bb)",
        ],
        dec_lines=lambda v: ["_st = _State(s, end, data)", f"{v} = {c}.decode(_st)", "s = _st.start"],
    )


def _schema_leaf(c: str) -> _Leaf:
    """A nested schema: its generated size/append/decode-at functions, no State."""
    return _Leaf(
        size=None,
        size_lines=lambda v: [f"n += {c}._size({v})"],
        join_lines=lambda v: [f"{c}._append({v}, _a)"],
        dec_lines=lambda v: [f"{v}, s = {c}._dec_at(data, s, end)"],
    )


# --- the declarative API ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Entry:
    """One entry of a :func:`schema`: build with :func:`field`, :func:`optional`, :func:`flag` or
    :func:`flags`."""

    kind: str  # "field" | "optional" | "flag" | "flags"
    name: str = ""
    codec: Codec[Any] | None = None
    bit: int | None = None
    truthy: bool = False  # optional: present iff truthy (JS ``m.x ? ... : ...``), not iff not None
    default: Any = None  # optional: the value an absent field decodes to


def field(name: str, codec: Codec[Any]) -> Entry:
    """A field that is always present, written with ``codec``."""
    return Entry("field", name, codec)


def optional(
    name: str, codec: Codec[Any], *, bit: int | None = None, truthy: bool = False, default: Any = None
) -> Entry:
    """A field announced by a flag bit (the next one by default), present iff it is not ``None``.

    JS messages often test truthiness instead (``m.error ? 1 : 0`` omits an ``error`` of 0, and
    decodes an absent one as ``0``): pass ``truthy=True, default=0`` for those. ``default`` is
    what an absent field decodes to (use an immutable value).
    """
    return Entry("optional", name, codec, bit, truthy, default)


def flag(name: str, *, bit: int | None = None) -> Entry:
    """A boolean carried only by a flag bit (truthy on encode; ``bool`` on decode)."""
    return Entry("flag", name, None, bit)


def flags() -> Entry:
    """Where the flags ``uint`` goes (default: first, after the prefix)."""
    return Entry("flags")


class Schema(Codec[T], Generic[T]):
    """A codec generated by :func:`schema`. ``source`` holds the generated Python source."""

    __slots__ = ()

    source: ClassVar[str] = ""
    value_type: ClassVar[type] = object
    # generated plain functions (staticmethods): used by enclosing schemas to inline this one
    _size: ClassVar[Callable[[Any], int]]
    _append: ClassVar[Callable[[Any, Callable[[bytes | bytearray], None]], None]]
    _dec_at: ClassVar[Callable[[bytes, int, int], tuple[Any, int]]]

    def __repr__(self) -> str:
        return f"schema({self.value_type.__name__})"


def _value_names(cls: type) -> tuple[list[str], bool]:
    """The value class's field names (constructor order) and whether it is a tuple subclass."""
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return list(cls._fields), True
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls) if f.init], False
    raise SchemaError(f"schema value class must be a NamedTuple or a dataclass, not {cls!r}")


def _indent(lines: list[str], by: int = 1) -> list[str]:
    pad = "    " * by
    return [pad + line for line in lines]


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
    if not isinstance(cls, type):
        raise SchemaError(f"schema value class must be a class, not {cls!r}")
    names, is_tuple = _value_names(cls)
    data_entries = [e for e in entries if e.kind != "flags"]
    got = [e.name for e in data_entries]
    if sorted(got) != sorted(names) or len(set(got)) != len(got):
        raise SchemaError(f"schema entries {got} must name each field of {cls.__name__} {names} once")
    if sum(e.kind == "flags" for e in entries) > 1:
        raise SchemaError("a schema has at most one flags entry")
    for e in data_entries:
        if e.kind in ("field", "optional") and not isinstance(e.codec, Codec):
            raise SchemaError(f"field {e.name!r} needs a Codec, got {e.codec!r}")

    # flag bits: explicit ones first, the rest take the lowest free bit in entry order
    bits: dict[str, int] = {}
    flagged = [e for e in data_entries if e.kind in ("optional", "flag")]
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
    has_flags = bool(flagged) or any(e.kind == "flags" for e in entries)
    order = list(entries)
    if has_flags and not any(e.kind == "flags" for e in entries):
        order.insert(0, flags())
    max_flags = sum(1 << b for b in bits.values())
    at = next(i for i, e in enumerate(order) if e.kind == "flags") if has_flags else 0
    if any(e.kind == "optional" for e in order[:at]):
        raise SchemaError("optional fields must come after the flags entry that announces them")

    ns: dict[str, Any] = dict(_NAMESPACE)
    ns["_cls"] = cls
    ns["_PFX"] = prefix
    ns["_PFX_ERROR"] = prefix_error
    var = {name: f"v{i}" for i, name in enumerate(names)}

    def leaf_of(e: Entry) -> _Leaf:
        assert e.codec is not None
        known = _KNOWN.get(id(e.codec))
        if known is not None:
            return known
        if isinstance(e.codec, Fixed):
            return _fixed_bytes_leaf(e.codec.n)
        c = f"_c_{var[e.name]}"
        ns[c] = e.codec
        return _schema_leaf(c) if isinstance(e.codec, Schema) else _generic_leaf(c)

    # ---- the value unpacking / construction
    if is_tuple:
        unpack_lines = [f"{', '.join(var[n] for n in names)}{',' if len(names) == 1 else ''} = m"]
        construct = f"_new(_cls, ({', '.join(var[n] for n in names)}{',' if len(names) == 1 else ''}))"
    else:
        unpack_lines = [f"{var[n]} = m.{n}" for n in names]
        construct = f"_cls({', '.join(f'{n}={var[n]}' for n in names)})"

    flag_terms = []
    for e in flagged:
        v, b = var[e.name], bits[e.name]
        term = f"({v} is not None)" if e.kind == "optional" and not e.truthy else f"(1 if {v} else 0)"
        flag_terms.append(term if b == 0 else f"{term} << {b}")
    flags_lines = [f"_fl = {' | '.join(flag_terms) or '0'}"] if has_flags else []

    # ---- encode: size, and parts appended in wire order (runs of packables merged)
    size_const = len(prefix)
    size_lines: list[str] = []
    join_lines: list[str] = []
    run: list[tuple[_Packable, str]] = []
    nstruct = 0

    def flush() -> None:
        nonlocal nstruct, run
        if not run:
            return
        st = f"_P{nstruct}"
        ns[st] = struct.Struct("<" + "".join(pk.fmt for pk, _ in run))
        nstruct += 1
        args: list[str] = []
        for pk, v in run:
            join_lines.extend(pk.checks(v))
            args.extend(pk.args(v))
        join_lines.append(f"_a({st}.pack({', '.join(args)}))")
        run = []

    size_flags = flags_lines if max_flags > 0xFC else []
    pfx_pack = _Packable(f"{len(prefix)}s", lambda v: [], lambda v: ["_PFX"])
    if prefix:
        run.append((pfx_pack, "_PFX"))
    for e in order:
        if e.kind == "flags":
            if max_flags <= 0xFC:
                size_const += 1
                run.append((_FLAGS_BYTE, "_fl"))
            else:
                flush()
                size_lines.extend(_UINT.size_lines("_fl"))
                join_lines.extend(_UINT.join_lines("_fl"))
        elif e.kind == "field":
            leaf = leaf_of(e)
            v = var[e.name]
            if leaf.size is not None:
                size_const += leaf.size
            else:
                size_lines.extend(leaf.size_lines(v))
            if leaf.pack is not None:
                run.append((leaf.pack, v))
            else:
                flush()
                join_lines.extend(leaf.join_lines(v))
        elif e.kind == "optional":
            flush()
            leaf = leaf_of(e)
            v = var[e.name]
            present = f"if {v}:" if e.truthy else f"if {v} is not None:"
            size_lines.append(present)
            size_lines.extend(_indent(leaf.size_lines(v)))
            join_lines.append(present)
            join_lines.extend(_indent(leaf.join_lines(v)))
    flush()

    # ---- decode
    dec_lines: list[str] = []
    urun: list[tuple[_Unpackable, str]] = []
    nunpack = 0

    def uflush() -> None:
        nonlocal nunpack, urun
        if not urun:
            return
        st = f"_U{nunpack}"
        nunpack += 1
        fmt = "<" + "".join(up.fmt for up, _ in urun)
        s_ = struct.Struct(fmt)
        ns[st] = s_
        items: list[list[str]] = []
        k = 0
        for up, _v in urun:
            items.append([f"_r{nunpack}_{k + i}" for i in range(up.nitems)])
            k += up.nitems
        flat = [x for group in items for x in group]
        dec_lines.append(f"if end - s < {s_.size}: raise _oob()")
        dec_lines.append(f"{', '.join(flat)}{',' if len(flat) == 1 else ''} = {st}.unpack_from(data, s)")
        dec_lines.append(f"s += {s_.size}")
        for (up, v), group in zip(urun, items, strict=True):
            dec_lines.extend(up.post(v, group))
        urun = []

    if prefix:
        dec_lines.append(f"if end - s < {len(prefix)}: raise _oob()")
        if len(prefix) == 1:
            dec_lines.append(f"if data[s] != {prefix[0]}: raise _DecodeError(_PFX_ERROR)")
        else:
            dec_lines.append(f"if data[s:s + {len(prefix)}] != _PFX: raise _DecodeError(_PFX_ERROR)")
        dec_lines.append(f"s += {len(prefix)}")
    for e in order:
        if e.kind == "flags":
            uflush()
            dec_lines.extend(_uint_dec("_fl"))
        elif e.kind == "field":
            leaf = leaf_of(e)
            v = var[e.name]
            if leaf.unpack is not None:
                urun.append((leaf.unpack, v))
                continue
            uflush()
            dec_lines.extend(leaf.dec_lines(v))
        elif e.kind == "optional":
            uflush()
            leaf = leaf_of(e)
            v = var[e.name]
            dec_lines.append(f"if _fl & {1 << bits[e.name]}:")
            dec_lines.extend(_indent(leaf.dec_lines(v)))
            if e.default is None:
                dec_lines.append(f"else: {v} = None")
            else:
                ns[f"_d_{v}"] = e.default
                dec_lines.append(f"else: {v} = _d_{v}")
    uflush()
    for e in flagged:
        if e.kind == "flag":
            dec_lines.append(f"{var[e.name]} = _fl & {1 << bits[e.name]} != 0")

    name = cls.__name__
    src: list[str] = []
    src += [
        "def _size(m):",
        *_indent(unpack_lines),
        *_indent(size_flags),
        f"    n = {size_const}",
        *_indent(size_lines),
        "    return n",
        "",
    ]
    src += [
        "def preencode(self, state, m):",
        *_indent(unpack_lines),
        *_indent(size_flags),
        f"    n = {size_const}",
    ]
    src += [*_indent(size_lines), "    state.end += n", ""]
    src += ["def _append(m, _a):", *_indent(unpack_lines), *_indent(flags_lines), *_indent(join_lines), ""]
    src += [
        "def _to_bytes(m):",
        "    try:",
        *_indent(unpack_lines, 2),
        *_indent(flags_lines, 2),
        "        _p = []",
        "        _a = _p.append",
        *_indent(join_lines, 2),
        "        return _join(_p)",
        "    except _EncodeError:",
        "        raise",
        "    except ENCODE_FAILURES as err:",
        f"        raise _EncodeError(f'cannot encode {name}: {{err}}') from err",
        "",
        "def encode(self, state, m):",
        "    b = _to_bytes(m)",
        "    s = state.start",
        "    e = s + len(b)",
        "    state.buffer[s:e] = b",
        "    state.start = e",
        "",
        "def _dec_at(data, s, end):",
        *_indent(dec_lines),
        f"    return {construct}, s",
        "",
        "def decode(self, state):",
        "    data = state.buffer",
        "    s = state.start",
        "    end = state.end",
        *_indent(dec_lines),
        "    state.start = s",
        f"    return {construct}",
        "",
        "def _from_bytes(data, exact):",
        "    if type(data) is not bytes:",
        "        data = bytes(data)",
        "    s = 0",
        "    end = len(data)",
        "    try:",
        *_indent(dec_lines, 2),
        "    except _DecodeError:",
        "        raise",
        "    except DECODE_FAILURES as err:",
        "        raise _DecodeError(f'invalid encoding: {err}') from err",
        "    if exact and s != end:",
        "        raise _DecodeError(f'{end - s} trailing bytes after the value')",
        f"    return {construct}",
    ]
    source = "\n".join(src) + "\n"
    exec(compile(source, f"<schema {name}>", "exec"), ns)

    attrs: dict[str, Any] = {
        "__slots__": (),
        "source": source,
        "value_type": cls,
        "preencode": ns["preencode"],
        "encode": ns["encode"],
        "decode": ns["decode"],
        "_size": staticmethod(ns["_size"]),
        "_append": staticmethod(ns["_append"]),
        "_dec_at": staticmethod(ns["_dec_at"]),
        "_to_bytes": staticmethod(ns["_to_bytes"]),
        "_from_bytes": staticmethod(ns["_from_bytes"]),
    }
    codec_cls = type(f"{name}Schema", (Schema,), attrs)
    made: Schema[T] = codec_cls()
    return made

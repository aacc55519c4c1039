"""The source templates :func:`hyperpunch.encoding.schema.schema` inlines for the leaf codecs it
knows (varints, buffers, fixed bytes, addresses, arrays, enums, ...), and the namespace the
generated code runs in.

Invariants:

* A :class:`Leaf` emits, for a value in a local variable ``v``, exactly the bytes its codec's
  ``encode`` writes (``parts``), the size its ``preencode`` counts (``size_lines``) and the same
  decode result (``dec_lines``, advancing ``s`` and raising only ``DecodeError`` on bad bytes
  within ``data[s:end]``). Its temporaries are named after ``v`` so that leaves nest.
* :data:`KNOWN_LEAVES` maps a codec singleton (by ``id``) to its leaf; any other codec gets
  :func:`generic_leaf`, which calls it through its interface.
"""

from __future__ import annotations

import dataclasses
import socket
import struct
from collections.abc import Callable
from typing import Any

from hyperpunch.encoding.buffers import buffer, optional_buffer, uint32array
from hyperpunch.encoding.codec import DECODE_FAILURES, ENCODE_FAILURES, State
from hyperpunch.encoding.combinators import ARRAY_MAX
from hyperpunch.encoding.errors import DecodeError, EncodeError
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

__all__ = [
    "FLAGS_BYTE",
    "KNOWN_LEAVES",
    "NAMESPACE",
    "UINT",
    "UINT_SIZE",
    "Leaf",
    "Packable",
    "Unpackable",
    "array_leaf",
    "enum_leaf",
    "fixed_bytes_leaf",
    "generic_leaf",
    "indent",
    "uint_dec",
    "uint_part",
]

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

NAMESPACE: dict[str, Any] = {
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


NAMESPACE["_too_big"] = _too_big


# --- leaf templates ---------------------------------------------------------------------------------
#
# A leaf knows how to emit source for one value held in local variable ``v``: its encoded size
# (``n += ...`` lines, or a constant), the statements an encoder runs first (checks, temporaries)
# and the expressions whose bytes, in order, are the encoding (the encoder joins every part of a
# message once), and the lines decoding it from ``data[s:end]`` into ``v`` (advancing ``s``).
# Temporaries are named after ``v`` so that leaves nest. Fixed-size leaves may also describe
# themselves as struct format items so a run of them is one pack/unpack.


@dataclasses.dataclass(frozen=True)
class Packable:
    fmt: str  # struct format characters, without byte order
    checks: Callable[[str], list[str]]  # v -> lines validating v / computing pack inputs
    args: Callable[[str], list[str]]  # v -> pack argument expressions


@dataclasses.dataclass(frozen=True)
class Unpackable:
    fmt: str
    nitems: int
    post: Callable[[str, list[str]], list[str]]  # (v, unpacked item names) -> lines setting v


def _no_lines(v: str) -> list[str]:
    return []


@dataclasses.dataclass(frozen=True)
class Leaf:
    size: int | None  # constant encoded size, or None: see size_lines
    size_lines: Callable[[str], list[str]]
    parts: Callable[[str], list[str]]  # v -> expressions of the encoded bytes, in order
    dec_lines: Callable[[str], list[str]]
    enc_lines: Callable[[str], list[str]] = _no_lines  # v -> statements run before the parts
    pack: Packable | None = None
    unpack: Unpackable | None = None


def _const_size(n: int) -> Callable[[str], list[str]]:
    return lambda v: [f"n += {n}"]


def _uint_check(v: str) -> list[str]:
    return [f"if not 0 <= {v} <= _MAX: raise uint_range_error({v})"]


def _fixed_uint_leaf(fmt: str, width: int, mask: int, check_read: bool) -> Leaf:
    st_name = f"_S_{fmt}"
    NAMESPACE[st_name] = struct.Struct("<" + fmt)

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

    return Leaf(
        size=width,
        size_lines=_const_size(width),
        enc_lines=_uint_check,
        parts=lambda v: [f"{st_name}.pack({v} & {mask:#x})"],
        dec_lines=dec,
        pack=Packable(fmt, _uint_check, lambda v: [f"{v} & {mask:#x}"]),
        unpack=Unpackable(fmt, 1, post),
    )


def uint_dec(v: str) -> list[str]:
    return [
        "if s >= end: raise _oob()",
        f"{v} = data[s]",
        f"if {v} <= 0xFC: s += 1",
        f"else: {v}, s = _uint_at(data, s, end)",
    ]


UINT_SIZE = "(1 if {0} <= 0xFC else 3 if {0} <= 0xFFFF else 5 if {0} <= 0xFFFFFFFF else 9)"


def uint_part(v: str) -> str:  # the one- and three-byte forms inline
    return (
        f"_B[{v}] if 0 <= {v} <= 0xFC else _FD.pack(0xFD, {v}) if 0xFC < {v} <= 0xFFFF else _uint_bytes({v})"
    )


def _count_part(v: str) -> str:  # a length, known to be >= 0
    return f"_B[{v}] if {v} <= 0xFC else _FD.pack(0xFD, {v}) if {v} <= 0xFFFF else _uint_bytes({v})"


UINT = Leaf(
    size=None,
    size_lines=lambda v: ["n += " + UINT_SIZE.format(v)],
    parts=lambda v: [uint_part(v)],
    dec_lines=uint_dec,
)

_BUFFER = Leaf(
    size=None,
    size_lines=lambda v: [f"{v}_n = len({v})", f"n += {v}_n + " + UINT_SIZE.format(f"{v}_n")],
    enc_lines=lambda v: [f"{v}_n = len({v})"],
    parts=lambda v: [_count_part(f"{v}_n"), v],
    dec_lines=lambda v: [
        *uint_dec(f"{v}_n"),
        f"{v}_e = s + {v}_n",
        f"if {v}_e > end: raise _oob()",
        f"{v} = data[s:{v}_e]",
        f"s = {v}_e",
    ],
)

_OPTIONAL_BUFFER = Leaf(  # like buffer; None writes length 0, and length 0 decodes as None
    size=None,
    size_lines=lambda v: [
        f"{v}_n = 0 if {v} is None else len({v})",
        f"n += {v}_n + " + UINT_SIZE.format(f"{v}_n"),
    ],
    enc_lines=lambda v: [f"{v}_n = 0 if {v} is None else len({v})"],
    parts=lambda v: [_count_part(f"{v}_n"), f"{v} if {v}_n else b''"],
    dec_lines=lambda v: [
        *uint_dec(f"{v}_n"),
        f"{v}_e = s + {v}_n",
        f"if {v}_e > end: raise _oob()",
        f"{v} = data[s:{v}_e] if {v}_n else None",
        f"s = {v}_e",
    ],
)

_UINT32ARRAY = Leaf(  # uint element count, then u32 LE each (no ARRAY_MAX, as uint32array)
    size=None,
    size_lines=lambda v: [f"{v}_n = len({v})", f"n += 4 * {v}_n + " + UINT_SIZE.format(f"{v}_n")],
    enc_lines=lambda v: [f"{v}_n = len({v})"],
    parts=lambda v: [_count_part(f"{v}_n"), f"_pack('<%dI' % {v}_n, *{v})"],
    dec_lines=lambda v: [
        *uint_dec(f"{v}_n"),
        f"{v}_e = s + 4 * {v}_n",
        f"if {v}_e > end: raise _oob()",
        f"{v} = list(_unpack_from('<%dI' % {v}_n, data, s))",
        f"s = {v}_e",
    ],
)


def fixed_bytes_leaf(n: int) -> Leaf:
    def dec(v: str) -> list[str]:
        return [f"{v}_e = s + {n}", f"if {v}_e > end: raise _oob()", f"{v} = data[s:{v}_e]", f"s = {v}_e"]

    return Leaf(
        size=n,
        size_lines=_const_size(n),
        # not packable on encode: joining the value itself accepts any bytes-like, as fixed() does
        enc_lines=lambda v: [f"if len({v}) != {n}: raise _fixed_size(len({v}), {n})"],
        parts=lambda v: [v],
        dec_lines=dec,
        unpack=Unpackable(f"{n}s", 1, lambda v, items: [f"{v} = {items[0]}"]),
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


NAMESPACE["_packed_get"] = _PACKED.get
NAMESPACE["_pack_host4"] = _pack_host4


def _ipv4_checks(v: str) -> list[str]:
    return [
        f"{v}_h, {v}_p = {v}",
        f"{v}_b = _packed_get({v}_h)",
        f"if {v}_b is None: {v}_b = _pack_host4({v}_h)",
        f"if not 0 <= {v}_p <= _MAX: raise port_range_error({v}_p)",
    ]


NAMESPACE["_addr_get"] = cached_address
NAMESPACE["make_address"] = make_address


def _ipv4_post(v: str, items: list[str]) -> list[str]:
    return [f"{v} = _addr_get({items[0]}) or make_address({items[0]})"]  # an Address is never falsy


NAMESPACE["_S_ipv4_address"] = struct.Struct("<4sH")
_IPV4_ADDRESS = Leaf(
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
    pack=Packable("4sH", _ipv4_checks, lambda v: [f"{v}_b", f"{v}_p & 0xFFFF"]),
    unpack=Unpackable("6s", 1, _ipv4_post),
)

_BOOL = Leaf(
    size=1,
    size_lines=_const_size(1),
    parts=lambda v: [f"_B[1] if {v} else _B[0]"],
    dec_lines=lambda v: ["if s >= end: raise _oob()", f"{v} = data[s] == 1", "s += 1"],
    pack=Packable("B", lambda v: [], lambda v: [f"1 if {v} else 0"]),
    unpack=Unpackable("B", 1, lambda v, items: [f"{v} = {items[0]} == 1"]),
)

NAMESPACE["_S_d"] = struct.Struct("<d")
_FLOAT64 = Leaf(
    size=8,
    size_lines=_const_size(8),
    parts=lambda v: [f"_S_d.pack({v})"],
    dec_lines=lambda v: ["if end - s < 8: raise _oob()", f"{v} = _S_d.unpack_from(data, s)[0]", "s += 8"],
    pack=Packable("d", lambda v: [], lambda v: [v]),
    unpack=Unpackable("d", 1, lambda v, items: [f"{v} = {items[0]}"]),
)

_UINT8 = Leaf(
    size=1,
    size_lines=_const_size(1),
    enc_lines=_uint_check,
    parts=lambda v: [f"_B[{v} & 0xFF]"],
    dec_lines=lambda v: ["if s >= end: raise _oob()", f"{v} = data[s]", "s += 1"],
    pack=Packable("B", _uint_check, lambda v: [f"{v} & 0xFF"]),
    unpack=Unpackable("B", 1, lambda v, items: [f"{v} = {items[0]}"]),
)

KNOWN_LEAVES: dict[int, Leaf] = {
    id(uint): UINT,
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


FLAGS_BYTE = Packable("B", lambda v: [], lambda v: [v])  # a flags uint known to stay < 0xfd


def generic_leaf(c: str) -> Leaf:
    """Any other codec (bound in the namespace as ``c``), called through its interface."""
    return Leaf(
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


def enum_leaf(c: str) -> Leaf:
    """An ``enum`` of at most 0xFD names (bound in the namespace as ``c``): one index byte."""

    def checks(v: str) -> list[str]:
        return [f"{v}_x = {c}.index.get({v})", f"if {v}_x is None: {c}.index_of({v})"]

    return Leaf(
        size=1,
        size_lines=_const_size(1),
        enc_lines=checks,
        parts=lambda v: [f"_B[{v}_x]"],
        dec_lines=lambda v: [*uint_dec(f"{v}_x"), f"{v} = {c}.name_of({v}_x)"],
        pack=Packable("B", checks, lambda v: [f"{v}_x"]),
    )


def array_leaf(
    item: Leaf,
    fn: str,
    ns: dict[str, Any],
    nested: tuple[Callable[[Any], int], Callable[[Any], bytes]] | None,
) -> Leaf:
    """``array(item)``: the item's decoder inline in a loop; sizes and bytes through per-item
    functions bound in ``ns`` as ``fn + "_size"`` / ``fn + "_bytes"`` (the caller keeps ``fn``
    unique): ``nested`` (a schema's own), or compiled here from the item's templates."""
    if nested is not None:
        ns[f"{fn}_size"], ns[f"{fn}_bytes"] = nested
    else:
        if item.size is None:
            src = ["def _f(x):", "    n = 0", *indent(item.size_lines("x")), "    return n"]
            ns[f"{fn}_size"] = _compile_fn(src, ns)
        parts = item.parts("x")
        ret = f"return {parts[0]}" if len(parts) == 1 else f"return _join(({', '.join(parts)},))"
        ns[f"{fn}_bytes"] = _compile_fn(["def _f(x):", *indent([*item.enc_lines("x"), ret])], ns)

    def size_lines(v: str) -> list[str]:
        count = f"n += {UINT_SIZE.format(f'{v}_c')}"
        if item.size is not None:
            return [f"{v}_c = len({v})", f"{count} + {item.size} * {v}_c"]
        return [f"{v}_c = len({v})", f"{count} + sum(map({fn}_size, {v}))"]

    def dec_lines(v: str) -> list[str]:
        return [
            *uint_dec(f"{v}_c"),
            f"if {v}_c > _ARRAY_MAX: raise _too_big({v}_c)",
            f"{v} = []",
            f"{v}_ap = {v}.append",
            f"for _ in range({v}_c):",
            *indent(item.dec_lines(f"{v}_i")),
            f"    {v}_ap({v}_i)",
        ]

    return Leaf(
        size=None,
        size_lines=size_lines,
        enc_lines=lambda v: [f"{v}_c = len({v})"],
        parts=lambda v: [_count_part(f"{v}_c"), f"_join(map({fn}_bytes, {v}))"],
        dec_lines=dec_lines,
    )


def indent(lines: list[str], by: int = 1) -> list[str]:
    pad = "    " * by
    return [pad + line for line in lines]


def _compile_fn(src: list[str], ns: dict[str, Any]) -> Callable[..., Any]:
    local: dict[str, Any] = {}
    exec(compile("\n".join(src) + "\n", "<schema item>", "exec"), ns, local)
    fn: Callable[..., Any] = local["_f"]
    return fn

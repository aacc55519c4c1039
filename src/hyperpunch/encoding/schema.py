"""Declarative message structs compiled once into specialised codec functions.

Almost every Holepunch message is "some fields, a ``uint`` flags field, then optional fields whose
presence the flag bits announce, in bit order". :func:`schema` takes that description and
generates Python source for it at definition time (as ``dataclasses`` does), so that encoding or
decoding a message is one function with every known leaf codec (and every nested schema)
inlined: runs of fixed-size fields become a single precompiled ``struct.Struct`` call, varints
take their one- and three-byte forms inline, the encoder joins all the parts once, and no
``State`` object is made on the ``encode``/``decode`` fast path. The leaf templates live in
:mod:`hyperpunch.encoding.schema_leaves`.

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
  ``Codec`` may be a field. Nested schemas, ``array(...)`` of a schema or of a known leaf,
  ``uint32array``, ``optional_buffer`` and ``enum`` are inlined (an array decoder refuses more
  than ``ARRAY_MAX`` elements, as ``array`` does).
* Values are built as the value class builds them: a NamedTuple through ``tuple.__new__``; a
  slotted dataclass with a dataclass-generated ``__init__`` (no ``__post_init__``) through its
  slots' setters (the same object, about twice as fast); any other class by calling it.
* ``field(..., written=x)`` always writes ``x`` (a JS version constant) and decodes what is there;
  ``trailing`` entries and ``flags(trailing=True)`` are read only when bytes remain (else their
  default / 0), as JS's ``state.start < state.end ? ... : ...``; ``flags(omit_zero=True)`` leaves
  a zero flags uint out.
"""

from __future__ import annotations

import dataclasses
import struct
import types
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from hyperpunch.encoding.buffers import Fixed
from hyperpunch.encoding.codec import Codec
from hyperpunch.encoding.combinators import Array, Enum
from hyperpunch.encoding.errors import SchemaError
from hyperpunch.encoding.schema_leaves import (
    FLAGS_BYTE,
    KNOWN_LEAVES,
    NAMESPACE,
    UINT,
    UINT_SIZE,
    Leaf,
    Packable,
    Unpackable,
    array_leaf,
    enum_leaf,
    fixed_bytes_leaf,
    generic_leaf,
    indent,
    uint_dec,
    uint_part,
)

__all__ = ["Entry", "Schema", "field", "flag", "flags", "optional", "schema", "trailing"]

T = TypeVar("T")


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
    positive: bool = False  # optional: present iff > 0 (JS ``m.x > 0 ? ... : ...``)


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
    positive: bool = False,
) -> Entry:
    """A field announced by a flag bit (the next one by default), present iff it is not ``None``.

    JS messages often test truthiness instead (``m.error ? 1 : 0`` omits an ``error`` of 0, and
    decodes an absent one as ``0``): pass ``truthy=True, default=0`` for those, or
    ``positive=True, default=0`` where JS tests ``m.x > 0``. ``default`` is
    what an absent field decodes to (use an immutable value); ``default_factory`` makes it
    instead (``list`` for an absent list that decodes as ``[]``).
    """
    return Entry("optional", name, codec, bit, truthy, default, default_factory, positive=positive)


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
    _desc: ClassVar[_Desc]  # what enclosing schemas inline

    def __repr__(self) -> str:
        return f"schema({self.value_type.__name__})"

    # generated plain functions, for arrays of this schema (and anyone holding whole values)
    @staticmethod
    def _size(m: Any) -> int:
        """The encoded size of ``m``."""
        raise NotImplementedError

    @staticmethod
    def _raw(m: Any) -> bytes:
        """The encoding of ``m``, without ``_to_bytes``'s error conversion."""
        raise NotImplementedError

    @staticmethod
    def _dec_at(data: bytes, s: int, end: int) -> tuple[Any, int]:
        """The value decoded from ``data[s:end]`` and the offset after it."""
        raise NotImplementedError


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
        if e.truthy and e.positive:
            raise SchemaError(f"field {e.name!r} is present iff truthy or iff positive, not both")
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
    construct: Callable[[str], list[str]]  # target variable -> lines building the decoded value
    size_lines: list[str] = dataclasses.field(default_factory=list)  # ``n += ...``
    enc_lines: list[str] = dataclasses.field(default_factory=list)  # statements before the parts
    parts: list[str] = dataclasses.field(default_factory=list)  # the encoding's bytes, in wire order
    dec_lines: list[str] = dataclasses.field(default_factory=list)


def _leaf_of(codec: Codec[Any], v: str, ns: dict[str, Any]) -> Leaf:
    """The templates for ``codec`` holding the value in variable ``v`` (namespace names after it)."""
    known = KNOWN_LEAVES.get(id(codec))
    if known is not None:
        return known
    if isinstance(codec, Fixed):
        return fixed_bytes_leaf(codec.n)
    if isinstance(codec, Schema):
        return _inline_leaf(codec, v, ns)
    if isinstance(codec, Enum) and len(codec.names) <= 0xFD:
        ns[f"{v}_codec"] = codec
        return enum_leaf(f"{v}_codec")
    if isinstance(codec, Array):
        item = codec.item
        nested = (item._size, item._raw) if isinstance(item, Schema) else None
        return array_leaf(_leaf_of(item, f"{v}_i", ns), f"{v}_a", ns, nested)
    ns[f"{v}_codec"] = codec
    return generic_leaf(f"{v}_codec")


def _generate(d: _Desc, p: str, value: str, ns: dict[str, Any]) -> _Code:
    """Source for struct ``d`` whose value is the expression ``value``; locals and namespace
    names all start with ``p`` so that a struct inlines into another."""
    ns[f"{p}_cls"] = d.cls
    ns[f"{p}_PFX"] = d.prefix
    ns[f"{p}_PFX_ERROR"] = d.prefix_error
    var = {name: f"{p}v{i}" for i, name in enumerate(d.names)}
    fl = f"{p}_fl"

    leaves = {e.name: _leaf_of(e.codec, var[e.name], ns) for e in d.order if e.codec is not None}

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
        cond = _present(e, v) if e.kind == "optional" else v
        term = f"({cond})" if e.kind == "optional" and not e.truthy else f"(1 if {cond} else 0)"
        flag_terms.append(term if b == 0 else f"{term} << {b}")
    flags_lines = [f"{fl} = {' | '.join(flag_terms) or '0'}"] if d.flags_entry is not None else []

    max_flags = sum(1 << b for b in d.bits.values())
    omit_zero = d.flags_entry is not None and d.flags_entry.omit_zero
    code = _Code(
        unpack=unpack,
        flags_lines=flags_lines,
        size_flags=flags_lines if max_flags > 0xFC or omit_zero else [],
        size_const=len(d.prefix),
        construct=construct,
    )
    _emit_encode(d, p, ns, leaves, var, max_flags, code)
    _emit_decode(d, p, ns, leaves, var, max_flags, code)
    return code


def _emit_encode(
    d: _Desc,
    p: str,
    ns: dict[str, Any],
    leaves: dict[str, Leaf],
    var: dict[str, str],
    max_flags: int,
    code: _Code,
) -> None:
    """The size lines, and the parts in wire order (runs of packables merged into one pack)."""
    fl = f"{p}_fl"
    run: list[tuple[Packable, str]] = []

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

    if d.prefix:
        run.append((Packable(f"{len(d.prefix)}s", lambda v: [], lambda v: [v]), f"{p}_PFX"))
    for e in d.order:
        if e.kind == "flags":
            if e.omit_zero:
                flush()
                code.size_lines.append(f"if {fl}: n += " + UINT_SIZE.format(fl))
                code.parts.append(f"({uint_part(fl)}) if {fl} else b''")
            elif max_flags <= 0xFC:
                code.size_const += 1
                run.append((FLAGS_BYTE, fl))
            else:
                flush()
                code.size_lines.extend(UINT.size_lines(fl))
                code.parts.extend(UINT.parts(fl))
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
            cond = _present(e, v)
            code.size_lines.append(f"if {cond}:")
            code.size_lines.extend(indent(leaf.size_lines(v)))
            lp, le = leaf.parts(v), leaf.enc_lines(v)
            if not le and len(lp) == 1:
                code.parts.append(f"({lp[0]}) if {cond} else b''")
                continue
            held = [f"{v}_x{j}" for j in range(len(lp))]
            code.enc_lines.append(f"if {cond}:")
            code.enc_lines.extend(indent([*le, *(f"{h} = {x}" for h, x in zip(held, lp, strict=True))]))
            code.enc_lines.append(f"else: {' = '.join(held)} = b''")
            code.parts.extend(held)
    flush()


def _emit_decode(
    d: _Desc,
    p: str,
    ns: dict[str, Any],
    leaves: dict[str, Leaf],
    var: dict[str, str],
    max_flags: int,
    code: _Code,
) -> None:
    """The decode lines: fixed runs as one unpack, optional fields behind their flag bits."""
    fl = f"{p}_fl"
    dec = code.dec_lines
    urun: list[tuple[Unpackable, str]] = []

    def unpack_run() -> tuple[str, struct.Struct, list[str], list[str]]:
        """The pending run as one struct: its namespace name, the struct, item names, posts."""
        k = sum(1 for line in dec if ".unpack_from(data, s)" in line)
        st = f"{p}_U{k}"
        s_ = ns[st] = struct.Struct("<" + "".join(up.fmt for up, _ in urun))
        items: list[list[str]] = []
        for up, _v in urun:
            n0 = sum(len(g) for g in items)
            items.append([f"{p}_r{k}_{n0 + i}" for i in range(up.nitems)])
        posts = [line for (up, v), group in zip(urun, items, strict=True) for line in up.post(v, group)]
        urun.clear()
        return st, s_, [x for group in items for x in group], posts

    def uflush() -> None:
        if not urun:
            return
        st, s_, flat, posts = unpack_run()
        dec.append(f"if end - s < {s_.size}: raise _oob()")
        dec.append(f"{', '.join(flat)}{',' if len(flat) == 1 else ''} = {st}.unpack_from(data, s)")
        dec.append(f"s += {s_.size}")
        dec.extend(posts)

    def default_line(e: Entry, v: str) -> str:
        if e.default_factory is not None:
            ns[f"{v}_df"] = e.default_factory
            return f"else: {v} = {v}_df()"
        if e.default is None:
            return f"else: {v} = None"
        ns[f"{v}_d"] = e.default
        return f"else: {v} = {v}_d"

    np = len(d.prefix)
    prefix_lines = []
    if d.prefix:
        prefix_lines.append(f"if end - s < {np}: raise _oob()")
        if np == 1:
            prefix_lines.append(f"if data[s] != {d.prefix[0]}: raise _DecodeError({p}_PFX_ERROR)")
        else:
            prefix_lines.append(f"if data[s:s + {np}] != {p}_PFX: raise _DecodeError({p}_PFX_ERROR)")
        prefix_lines.append(f"s += {np}")
    head = _fixed_head(d, leaves, max_flags)
    if head:
        # [prefix] flags fixed...: one unpack when the flags uint is one byte (as it always is
        # from JS), else the field-by-field way; both leave the same variables
        for e in head[1:]:
            up = leaves[e.name].unpack
            assert up is not None  # _fixed_head took only unpackable fields
            urun.append((up, var[e.name]))
        st, s_, flat, posts = unpack_run()
        fast = ("_pfx, " if np else "") + f"{fl}, " + ", ".join(flat)
        ns[f"{st}_head"] = struct.Struct(
            "<" + ("B" if np == 1 else f"{np}s" if np else "") + "B" + s_.format[1:]
        )
        size = ns[f"{st}_head"].size
        pfx_check = f"_pfx != {d.prefix[0]}" if np == 1 else f"_pfx != {p}_PFX"
        dec.extend(
            [
                f"if end - s >= {size} and data[s + {np}] <= 0xFC:",
                f"    {fast} = {st}_head.unpack_from(data, s)",
                *([f"    if {pfx_check}: raise _DecodeError({p}_PFX_ERROR)"] if np else []),
                f"    s += {size}",
                "else:",
                *indent(prefix_lines),
                *indent(uint_dec(fl)),
                f"    if end - s < {s_.size}: raise _oob()",
                f"    {', '.join(flat)}{',' if len(flat) == 1 else ''} = {st}.unpack_from(data, s)",
                f"    s += {s_.size}",
                *posts,
            ]
        )
    else:
        dec.extend(prefix_lines)
    for e in d.order[len(head) :]:
        if e.kind == "flags":
            uflush()
            if e.trailing:
                dec.extend(["if s < end:", *indent(uint_dec(fl)), f"else: {fl} = 0"])
            else:
                dec.extend(uint_dec(fl))
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
            dec.extend(indent(leaf.dec_lines(v)))
            dec.append(default_line(e, v))
    uflush()
    for e in d.flagged:
        if e.kind == "flag":
            dec.append(f"{var[e.name]} = {fl} & {1 << d.bits[e.name]} != 0")


def _present(e: Entry, v: str) -> str:
    """The test for an optional field's presence."""
    return f"{v} > 0" if e.positive else v if e.truthy else f"{v} is not None"


def _fixed_head(d: _Desc, leaves: dict[str, Leaf], max_flags: int) -> list[Entry]:
    """The flags entry and the fixed-size fields right after it, when they open the message (after
    the prefix) and the flags uint is one byte on encode; else nothing."""
    fe = d.flags_entry
    if fe is None or d.order[0] is not fe or fe.trailing or max_flags > 0xFC:
        return []
    head = [fe]
    for e in d.order[1:]:
        if e.kind != "field" or leaves[e.name].unpack is None:
            break
        head.append(e)
    return head if len(head) > 1 else []


def _inline_leaf(nested: Schema[Any], v: str, ns: dict[str, Any]) -> Leaf:
    """A nested schema's code inlined for the value in variable ``v`` (the only name this leaf's
    templates may be called with)."""
    code = _generate(nested._desc, f"{v}_", v, ns)
    const = code.size_const
    sized = [*code.unpack, *code.size_flags, *code.size_lines, *([f"n += {const}"] if const else [])]
    fixed_size = not code.size_lines and not code.size_flags
    return Leaf(
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
    ns: dict[str, Any] = dict(NAMESPACE)
    code = _generate(desc, "", "m", ns)
    size_body = [*code.unpack, *code.size_flags, f"n = {code.size_const}", *code.size_lines]
    ret = f"return _join(({', '.join(code.parts)},))" if code.parts else "return b''"
    enc_body = [*code.unpack, *code.flags_lines, *code.enc_lines, ret]
    dec_lines, build = code.dec_lines, code.construct("_o")
    name = desc.cls.__name__
    src: list[str] = [
        "def _size(m):",
        *indent(size_body),
        "    return n",
        "",
        "def preencode(self, state, m):",
        *indent(size_body),
        "    state.end += n",
        "",
        "def _raw(m):",
        *indent(enc_body),
        "",
        "def _to_bytes(m):",
        "    try:",
        *indent(enc_body, 2),
        "    except _EncodeError:",
        "        raise",
        "    except ENCODE_FAILURES as err:",
        f"        raise _EncodeError(f'cannot encode {name}: {{err}}') from err",
        "",
        "def encode(self, state, m):",  # stray errors escape as from any codec's encode
        *indent(enc_body[:-1]),
        f"    b = {ret[len('return ') :]}",
        "    s = state.start",
        "    e = s + len(b)",
        "    state.buffer[s:e] = b",
        "    state.start = e",
        "",
        "def _dec_at(data, s, end):",
        *indent(dec_lines),
        *indent(build),
        "    return _o, s",
        "",
        "def decode(self, state):",
        "    data = state.buffer",
        "    s = state.start",
        "    end = state.end",
        *indent(dec_lines),
        *indent(build),
        "    state.start = s",
        "    return _o",
        "",
        "def _from_bytes(data, exact):",
        "    if type(data) is not bytes:",
        "        data = bytes(data)",
        "    s = 0",
        "    end = len(data)",
        "    try:",
        *indent(dec_lines, 2),
        *indent(build, 2),  # a value class refusing the fields (__post_init__) is bad input too
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

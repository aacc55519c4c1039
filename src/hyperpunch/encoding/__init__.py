"""hyperpunch.encoding: compact-encoding (JS ``compact-encoding`` 3.5.2 + ``compact-encoding-net``).

Invariants: every codec writes the exact bytes the JS reference writes for the same value, and
decodes what JS decodes; decoders raise :class:`DecodeError` for bad bytes, never anything else;
``encode`` raises :class:`EncodeError` for values the codec cannot carry. ``decode`` ignores
trailing bytes, as JS ``c.decode`` does, unless ``exact=True``.

Names follow JS, in snake_case: ``int``/``bool`` are ``int_``/``bool_`` (they would shadow the
builtins), ``optionalBuffer`` is ``optional_buffer``, ``ipv4Address`` is ``ipv4_address``, etc.

Usage::

    from hyperpunch import encoding as c

    data = c.encode(c.array(c.uint), [1, 2, 300])     # b"\\x03\\x01\\x02\\xfd\\x2c\\x01"
    c.decode(c.array(c.uint), data)                    # [1, 2, 300]

Message structs: declare them with :func:`schema` (fields, a flags uint and flag-gated optional
fields, compiled once into specialised functions; see :mod:`hyperpunch.encoding.schema`)::

    PING = c.schema(Ping, c.field("tid", c.uint16), c.optional("id", c.fixed32))

(nested schemas, arrays, enums, version constants and trailing fields included), or,
for a truly irregular message, write a ``Codec`` subclass whose three methods call the field
codecs in order.
"""

from __future__ import annotations

from hyperpunch.encoding.buffers import (
    Fixed,
    buffer,
    fixed,
    fixed8,
    fixed16,
    fixed24,
    fixed32,
    fixed64,
    optional_buffer,
    raw,
    string,
    uint8array,
    uint32array,
    utf8,
    utf8_bytes,
)
from hyperpunch.encoding.codec import Codec, DecodeState, EncodeState, State, decode, encode, encode_state
from hyperpunch.encoding.combinators import (
    ARRAY_MAX,
    Array,
    Enum,
    Frame,
    Record,
    array,
    enum,
    frame,
    record,
    string_record,
)
from hyperpunch.encoding.errors import DecodeError, EncodeError, SchemaError
from hyperpunch.encoding.net import (
    Address,
    ip,
    ip_address,
    ipv4,
    ipv4_address,
    ipv6,
    ipv6_address,
    pack_ipv4,
    pack_ipv6,
    port,
)
from hyperpunch.encoding.numbers import (
    MAX_SAFE_INT,
    MAX_SAFE_UINT,
    MIN_SAFE_INT,
    bool_,
    float32,
    float64,
    int8,
    int16,
    int24,
    int32,
    int40,
    int48,
    int56,
    int64,
    int_,
    uint,
    uint8,
    uint16,
    uint24,
    uint32,
    uint32be,
    uint40,
    uint48,
    uint56,
    uint64,
    uint64be,
)
from hyperpunch.encoding.schema import Entry, Schema, field, flag, flags, optional, schema, trailing

__all__ = [
    "ARRAY_MAX",
    "MAX_SAFE_INT",
    "MAX_SAFE_UINT",
    "MIN_SAFE_INT",
    "Address",
    "Array",
    "Codec",
    "DecodeError",
    "DecodeState",
    "EncodeError",
    "EncodeState",
    "Entry",
    "Enum",
    "Fixed",
    "Frame",
    "Record",
    "Schema",
    "SchemaError",
    "State",
    "array",
    "bool_",
    "buffer",
    "decode",
    "encode",
    "encode_state",
    "enum",
    "field",
    "fixed",
    "fixed8",
    "fixed16",
    "fixed24",
    "fixed32",
    "fixed64",
    "flag",
    "flags",
    "float32",
    "float64",
    "frame",
    "int8",
    "int16",
    "int24",
    "int32",
    "int40",
    "int48",
    "int56",
    "int64",
    "int_",
    "ip",
    "ip_address",
    "ipv4",
    "ipv4_address",
    "ipv6",
    "ipv6_address",
    "optional",
    "optional_buffer",
    "pack_ipv4",
    "pack_ipv6",
    "port",
    "raw",
    "record",
    "schema",
    "string",
    "string_record",
    "trailing",
    "uint",
    "uint8",
    "uint8array",
    "uint16",
    "uint24",
    "uint32",
    "uint32array",
    "uint32be",
    "uint40",
    "uint48",
    "uint56",
    "uint64",
    "uint64be",
    "utf8",
    "utf8_bytes",
]

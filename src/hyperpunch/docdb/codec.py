"""Byte codecs of the hyperbeedeebee layout: BSON documents (as js-bson 4.7 writes them) and
CBOR index keys (as node-cbor 8 writes them). Sans-IO.

Python values stand for JS values: ``str``, ``int``/``float`` (a JS number), ``bool``, ``None``
(null), ``datetime`` (a Date, UTC, millisecond precision), ``bytes`` (a Buffer / Binary subtype
0), :class:`bson.ObjectId`, ``list``, ``dict``.

Invariants: :func:`encode_document` writes the bytes js-bson ``serialize`` writes for the same JS
object (field order kept, ``_id`` not moved to the front, integers outside int32 as doubles);
:func:`encode_key` writes the bytes node-cbor ``encode`` writes for the same JS array (integral
numbers as CBOR integers up to 2^53, other numbers as the shortest of float32/float64 that is
exact, Date as tag 1 + epoch seconds).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import bson
from bson import ObjectId
from bson.codec_options import CodecOptions, TypeDecoder, TypeRegistry
from bson.errors import BSONError

from hyperpunch.docdb.errors import CorruptEntryError, DocumentTooLargeError, InvalidDocumentError

__all__ = [
    "MAX_BSON_SIZE",
    "UNDEFINED",
    "ObjectId",
    "Undefined",
    "decode_document",
    "decode_key",
    "encode_document",
    "encode_key",
    "js_value",
]


class Undefined:
    """JS ``undefined`` (an absent field); CBOR ``f7``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = Undefined()

MAX_BSON_SIZE = 16 * 1024 * 1024
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_MAX_SAFE = 2**53 - 1


class _StoredBinary(TypeDecoder):
    """js-bson deserializes a Buffer as a ``Binary`` object (node-cbor then writes it as the map
    ``{sub_type, buffer, position}``, not as a byte string); a stored subtype-0 binary therefore
    decodes to ``bson.Binary(data, 0)``, while caller-given ``bytes`` stay a Buffer."""

    bson_type = bytes

    def transform_bson(self, value: Any) -> Any:
        return bson.Binary(value, 0)


_PLAIN_OPTS: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
_DECODE_OPTS: CodecOptions[dict[str, Any]] = CodecOptions(
    tz_aware=True, tzinfo=UTC, type_registry=TypeRegistry([_StoredBinary()])
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def js_value(value: Any, path: str = "") -> Any:
    """``value`` as the JS object model stores it: ints outside int32 become doubles, mappings
    become dicts with string keys (checked), tuples become lists. Raises
    :class:`InvalidDocumentError` for a value BSON cannot hold."""
    if isinstance(value, float):
        # a JS number: js-bson writes an integral one in int32 range as int32
        if value.is_integer() and _INT32_MIN <= value <= _INT32_MAX:
            return int(value)
        return value
    if value is None or isinstance(value, (str, bool, bytes, ObjectId, datetime)):
        return value
    if isinstance(value, int):
        if _INT32_MIN <= value <= _INT32_MAX or isinstance(value, bson.Int64):
            return value
        return float(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidDocumentError(
                    f"document keys must be strings, got {type(k).__name__} {k!r} at {path or '<root>'}"
                )
            if "\x00" in k:
                raise InvalidDocumentError(f"document key {k!r} contains a NUL byte")
            out[k] = js_value(v, f"{path}.{k}" if path else k)
        return out
    if isinstance(value, (list, tuple)):
        return [js_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(
        value, (bson.Binary, bson.Decimal128, bson.Regex, bson.Timestamp, bson.MinKey, bson.MaxKey, bson.Code)
    ):
        return value
    raise InvalidDocumentError(f"cannot store a {type(value).__name__} at {path or '<root>'}")


def encode_document(doc: Mapping[str, Any]) -> bytes:
    """The BSON bytes of ``doc`` (a mapping already passed through :func:`js_value`)."""
    try:
        # pymongo moves a top-level ``_id`` first; js-bson keeps the object's order. Encoding the
        # document as the value of a one-field wrapper keeps the order; its bytes are then cut out.
        wrapped = bson.encode({"": doc})
    except (BSONError, OverflowError, ValueError) as err:
        raise InvalidDocumentError(f"document does not encode as BSON: {err}") from err
    out = wrapped[6:-1]
    if len(out) > MAX_BSON_SIZE:
        raise DocumentTooLargeError(f"document is {len(out)} bytes of BSON, more than {MAX_BSON_SIZE}")
    return out


def decode_document(data: bytes, *, as_stored: bool = True) -> dict[str, Any]:
    """The document stored as ``data``; :class:`CorruptEntryError` if it is not one BSON document.

    ``as_stored`` (what JS gets from ``BSON.deserialize``): binaries come back as ``bson.Binary``;
    otherwise as ``bytes`` (a caller's Buffer, JS ``promoteBuffers``)."""
    try:
        return bson.decode(data, codec_options=_DECODE_OPTS if as_stored else _PLAIN_OPTS)
    except (BSONError, ValueError, OverflowError, TypeError) as err:
        raise CorruptEntryError(f"stored document is not valid BSON: {err}") from err


# --- CBOR (node-cbor 8 encoder semantics) ---------------------------------------------------


def _head(out: bytearray, major: int, n: int) -> None:
    m = major << 5
    if n < 24:
        out.append(m | n)
    elif n <= 0xFF:
        out += bytes((m | 24, n))
    elif n <= 0xFFFF:
        out.append(m | 25)
        out += n.to_bytes(2, "big")
    elif n <= 0xFFFFFFFF:
        out.append(m | 26)
        out += n.to_bytes(4, "big")
    else:
        out.append(m | 27)
        out += n.to_bytes(8, "big")


def _float(out: bytearray, x: float) -> None:
    try:
        f32 = struct.unpack(">f", struct.pack(">f", x))[0]
    except OverflowError:
        f32 = None
    if f32 == x:
        out.append(0xFA)
        out += struct.pack(">f", x)
    else:
        out.append(0xFB)
        out += struct.pack(">d", x)


def _number(out: bytearray, x: float) -> None:
    if math.isnan(x):
        out += b"\xf9\x7e\x00"
    elif math.isinf(x):
        out += b"\xf9\x7c\x00" if x > 0 else b"\xf9\xfc\x00"
    elif x == int(x):
        if x == 0 and math.copysign(1.0, x) < 0:
            out += b"\xf9\x80\x00"
            return
        n = int(x)
        if n < 0:
            if -n - 1 <= _MAX_SAFE - 1:
                _head(out, 1, -n - 1)
            else:
                _float(out, float(x))
        elif n <= _MAX_SAFE:
            _head(out, 0, n)
        else:
            _float(out, float(x))
    else:
        _float(out, x)


def _text(out: bytearray, s: str) -> None:
    b = s.encode("utf-8", "surrogatepass")
    _head(out, 3, len(b))
    out += b


def _encode(out: bytearray, v: Any) -> None:
    if v is None:
        out.append(0xF6)
    elif v is UNDEFINED:
        out.append(0xF7)
    elif v is True:
        out.append(0xF5)
    elif v is False:
        out.append(0xF4)
    elif isinstance(v, int):
        _number(out, float(v) if not (-_MAX_SAFE <= v <= _MAX_SAFE) else v)
    elif isinstance(v, float):
        _number(out, v)
    elif isinstance(v, str):
        _text(out, v)
    elif isinstance(v, bson.Binary):
        out += b"\xa3\x68sub_type"
        _number(out, v.subtype)
        out += b"\x66buffer"
        _head(out, 2, len(v))
        out += bytes(v)
        out += b"\x68position"
        _number(out, len(v))
    elif isinstance(v, ObjectId):
        _head(out, 2, 12)
        out += v.binary
    elif isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        _head(out, 2, len(b))
        out += b
    elif isinstance(v, datetime):
        d = v if v.tzinfo is not None else v.replace(tzinfo=UTC)
        delta = d - _EPOCH
        ms = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
        out.append(0xC1)
        _number(out, ms / 1000)
    elif isinstance(v, (list, tuple)):
        _head(out, 4, len(v))
        for x in v:
            _encode(out, x)
    elif isinstance(v, Mapping):
        _head(out, 5, len(v))
        for k, x in v.items():
            _encode(out, k)
            _encode(out, x)
    else:
        raise InvalidDocumentError(f"cannot index a {type(v).__name__}")


def encode_key(values: list[Any]) -> bytes:
    """The CBOR of the JS array ``values`` (index-key values, then the id bytes)."""
    out = bytearray()
    _encode(out, values)
    return bytes(out)


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            raise CorruptEntryError("index key: CBOR ends early")
        b = self.buf[self.pos : end]
        self.pos = end
        return b

    def arg(self, info: int) -> int:
        if info < 24:
            return info
        if info == 24:
            return self.take(1)[0]
        if info == 25:
            return int.from_bytes(self.take(2), "big")
        if info == 26:
            return int.from_bytes(self.take(4), "big")
        if info == 27:
            return int.from_bytes(self.take(8), "big")
        raise CorruptEntryError(f"index key: unsupported CBOR length {info}")

    def item(self, depth: int = 0) -> Any:
        if depth > 64:
            raise CorruptEntryError("index key: CBOR nested too deeply")
        ib = self.take(1)[0]
        major, info = ib >> 5, ib & 31
        if major == 7:
            if info == 20:
                return False
            if info == 21:
                return True
            if info == 22:
                return None
            if info == 23:
                return UNDEFINED
            if info == 25:
                h = self.take(2)
                return struct.unpack(">e", h)[0]
            if info == 26:
                return struct.unpack(">f", self.take(4))[0]
            if info == 27:
                return struct.unpack(">d", self.take(8))[0]
            raise CorruptEntryError(f"index key: unsupported CBOR simple value {info}")
        n = self.arg(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major == 2:
            return self.take(n)
        if major == 3:
            try:
                return self.take(n).decode("utf-8")
            except UnicodeDecodeError as err:
                raise CorruptEntryError("index key: invalid UTF-8 text") from err
        if major == 4:
            return [self.item(depth + 1) for _ in range(n)]
        if major == 5:
            m: dict[Any, Any] = {}
            for _ in range(n):
                k = self.item(depth + 1)
                m[k if isinstance(k, str) else str(k)] = self.item(depth + 1)
            return m
        # major 6: a tag
        inner = self.item(depth + 1)
        if n == 1 and isinstance(inner, (int, float)) and not isinstance(inner, bool):
            try:
                return datetime.fromtimestamp(0, UTC) + _ms_delta(inner)
            except (OverflowError, ValueError) as err:
                raise CorruptEntryError("index key: date out of range") from err
        return inner


def _ms_delta(seconds: float) -> timedelta:
    return timedelta(milliseconds=round(seconds * 1000))


def decode_key(key: bytes) -> list[Any]:
    """The values of an index key (the last one is the document id bytes)."""
    r = _Reader(key)
    v = r.item()
    if not isinstance(v, list):
        raise CorruptEntryError("index key is not a CBOR array")
    return v

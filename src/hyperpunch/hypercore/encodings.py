"""Value encodings for Hypercore blocks (JS ``compact-encoding``'s ``c.from(name)`` raw codecs).

Invariants: an encoding turns one user value into exactly the block bytes JS would store for the
same ``valueEncoding`` and back (``json`` follows ``JSON.stringify``: integer-like keys first,
JS number formatting, NaN/Infinity as null). ``binary`` (the default) passes bytes through and stores ``str``
as UTF-8; ``utf-8`` decodes to ``str``; ``json`` / ``ndjson`` are ``JSON.stringify`` (compact
separators, non-ASCII kept) as UTF-8; ``ascii``, ``hex`` and ``base64`` as in JS. A
:class:`hyperpunch.encoding.Codec` can be passed as well. Decoding failures raise
:class:`DecodingError` (code ``DECODING_ERROR``).
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any, Protocol

from hyperpunch.encoding import Codec, DecodeError, decode, encode
from hyperpunch.hypercore.errors import BadArgumentError, DecodingError

__all__ = ["DecodingError", "ValueEncoding", "resolve_encoding"]


class ValueEncoding(Protocol):
    name: str

    def encode(self, value: Any) -> bytes: ...

    def decode(self, block: bytes) -> Any: ...


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    raise BadArgumentError(f"cannot store a {type(value).__name__} with the binary encoding")


class _Binary:
    name = "binary"

    def encode(self, value: Any) -> bytes:
        return _to_bytes(value)

    def decode(self, block: bytes) -> Any:
        return block


_ASCII_DECODE = bytes(b & 0x7F for b in range(256))


class _Text:
    def __init__(self, name: str, codec: str) -> None:
        self.name = name
        self._codec = codec
        self._mask = name == "ascii"  # Node's ascii decoding unsets the high bit

    def encode(self, value: Any) -> bytes:
        if isinstance(value, str):
            return value.encode(self._codec)
        return _to_bytes(value)

    def decode(self, block: bytes) -> Any:
        if self._mask:
            block = block.translate(_ASCII_DECODE)
        try:
            return block.decode(self._codec)
        except UnicodeDecodeError as err:
            raise DecodingError(str(err)) from err


class _Hex:
    name = "hex"

    def encode(self, value: Any) -> bytes:
        try:
            return bytes.fromhex(value) if isinstance(value, str) else _to_bytes(value)
        except ValueError as err:
            raise BadArgumentError(f"not hex: {err}") from err

    def decode(self, block: bytes) -> Any:
        return block.hex()


class _Base64:
    name = "base64"

    def encode(self, value: Any) -> bytes:
        try:
            return base64.b64decode(value) if isinstance(value, str) else _to_bytes(value)
        except binascii.Error as err:
            raise BadArgumentError(f"not base64: {err}") from err

    def decode(self, block: bytes) -> Any:
        return base64.b64encode(block).decode()


def _js_number(f: float) -> str:
    """ECMAScript ``Number::toString`` of a float (what ``JSON.stringify`` writes)."""
    if f != f or f in (float("inf"), float("-inf")):
        return "null"
    if f == 0:
        return "0"
    sign = "-" if f < 0 else ""
    digits_t, exp = Decimal(repr(abs(f))).as_tuple()[1:]
    digits = "".join(map(str, digits_t)).rstrip("0")
    assert isinstance(exp, int)
    exp += len(digits_t) - len(digits)
    k = len(digits)
    n = exp + k
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mant = digits if k == 1 else digits[0] + "." + digits[1:]
        out = f"{mant}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + out


def _is_index_key(k: str) -> bool:
    return k.isdigit() and k.isascii() and (k == "0" or k[0] != "0") and int(k) < 2**32 - 1


def _js_stringify(v: Any) -> str:
    """``JSON.stringify(v)`` for JSON-shaped Python values (key order and numbers as in JS)."""
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if v is None or v is True or v is False or isinstance(v, int):
        return json.dumps(v)
    if isinstance(v, float):
        return _js_number(v)
    if isinstance(v, dict):
        keys = [k if isinstance(k, str) else _js_stringify(k).strip('"') for k in v]
        items = list(zip(keys, v.values(), strict=True))
        idx = sorted((p for p in items if _is_index_key(p[0])), key=lambda p: int(p[0]))
        rest = [p for p in items if not _is_index_key(p[0])]
        return (
            "{"
            + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _js_stringify(x) for k, x in idx + rest)
            + "}"
        )
    if isinstance(v, list | tuple):
        return "[" + ",".join(_js_stringify(x) for x in v) + "]"
    raise BadArgumentError(f"value is not JSON: {type(v).__name__}")


class _Json:
    def __init__(self, name: str, suffix: str) -> None:
        self.name = name
        self._suffix = suffix

    def encode(self, value: Any) -> bytes:
        return (_js_stringify(value) + self._suffix).encode()

    def decode(self, block: bytes) -> Any:
        try:
            return json.loads(block.decode())
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise DecodingError(f"block is not JSON: {err}") from err


class _CodecEncoding:
    def __init__(self, codec: Codec[Any]) -> None:
        self.name = type(codec).__name__
        self._codec = codec

    def encode(self, value: Any) -> bytes:
        return encode(self._codec, value)

    def decode(self, block: bytes) -> Any:
        try:
            return decode(self._codec, block)
        except DecodeError as err:
            raise DecodingError(str(err)) from err


BINARY: ValueEncoding = _Binary()
_NAMED: dict[str, ValueEncoding] = {
    "binary": BINARY,
    "buffer": BINARY,
    "utf-8": _Text("utf-8", "utf-8"),
    "utf8": _Text("utf-8", "utf-8"),
    "ascii": _Text("ascii", "latin-1"),
    "hex": _Hex(),
    "base64": _Base64(),
    "json": _Json("json", ""),
    "ndjson": _Json("ndjson", "\n"),
}


def resolve_encoding(enc: str | Codec[Any] | ValueEncoding | None) -> ValueEncoding:
    """The encoding for a ``value_encoding`` argument (``None``: binary)."""
    if enc is None:
        return BINARY
    if isinstance(enc, str):
        found = _NAMED.get(enc)
        if found is None:
            raise BadArgumentError(f"unknown value encoding {enc!r}")
        return found
    if isinstance(enc, Codec):
        return _CodecEncoding(enc)
    if hasattr(enc, "encode") and hasattr(enc, "decode"):
        return enc
    raise BadArgumentError("value_encoding must be a name, a Codec or an encode/decode object")

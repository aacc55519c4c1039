"""Errors raised by :mod:`hyperpunch.encoding`.

Invariants: a decoder given any bytes either returns a value or raises :class:`DecodeError`
(never ``IndexError``, ``struct.error`` or ``UnicodeDecodeError``); ``encode`` given a value it
cannot carry raises :class:`EncodeError`. The JS reference throws plain ``Error``s without codes
(``'Out of bounds'``, ``'Array is too big'``, ...); the messages here follow those texts.
"""

from __future__ import annotations

from hyperpunch.errors import LocalError, RemoteError


class DecodeError(RemoteError):
    """Bytes from outside are truncated, oversized or otherwise not a valid encoding."""

    code = "DECODE_ERROR"


class EncodeError(LocalError):
    """The caller asked to encode a value the codec cannot carry (out of range or wrong type)."""

    code = "ENCODE_ERROR"


class SchemaError(LocalError):
    """A :func:`~hyperpunch.encoding.schema.schema` definition is inconsistent (caller misuse)."""

    code = "SCHEMA_ERROR"

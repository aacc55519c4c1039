"""The list's ops and documents (sans-IO): the contract of issue 17, byte-equal with the JS client.

Ops are autobase node values, each one BSON document (hello-peers' "Autodeebee" ops, the bytes of
:func:`hyperpunch.docdb.multiwriter.encode_op`): ``{type: 'put', key, value, prefix}``,
``{type: 'del', key, prefix}``, ``{type: 'addWriter', key, indexer: false}``. Todos live in the
hyperbeedeebee layout: bee key ``todo\\0doc\\0`` + the 12-byte ObjectId, value the BSON
``{_id, text, done}``.

:func:`parse_op` is the apply's input check: it returns ``None`` for a node to skip (more than
65536 bytes; not exactly one BSON document; an unknown ``type``; ``key``/``prefix`` not binary; an
``addWriter`` key that is not 32 bytes; a put/del whose ``prefix + key`` is not under
``todo\\0doc\\0``; a put whose value is not a todo: ``text`` a string of at most 4096 UTF-8 bytes,
``done`` a bool). It mirrors ``parseOp`` of ``interop/browser/todo/client.js`` rule by rule, so
JS and Python peers skip the same nodes and converge on the same view.

Invariants: no I/O, no clock (ObjectIds are made by the caller); decoders never raise on foreign
bytes (they return ``None``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from hyperpunch.docdb.codec import decode_document, encode_document
from hyperpunch.docdb.errors import CorruptEntryError
from hyperpunch.docdb.multiwriter import encode_add_writer, encode_op
from hyperpunch.todo.errors import empty_text, text_too_long

__all__ = [
    "MAX_NODE_BYTES",
    "MAX_TEXT_BYTES",
    "PREFIX",
    "AddWriter",
    "Del",
    "Op",
    "Put",
    "Todo",
    "decode_todo",
    "del_op",
    "doc_key",
    "encode_todo",
    "parse_op",
    "put_op",
    "validate_text",
    "writer_op",
]

PREFIX = b"todo\x00doc\x00"
MAX_NODE_BYTES = 65536
MAX_TEXT_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Todo:
    """One todo as the app shows it: ``id`` is the 24-hex ObjectId."""

    id: str
    text: str
    done: bool


@dataclass(frozen=True, slots=True)
class Put:
    key: bytes  # the whole bee key (prefix + key)
    value: bytes


@dataclass(frozen=True, slots=True)
class Del:
    key: bytes


@dataclass(frozen=True, slots=True)
class AddWriter:
    key: bytes


Op = Put | Del | AddWriter


def validate_text(text: str) -> str:
    """The text a todo is stored with (trimmed); EMPTY_TEXT / TEXT_TOO_LONG otherwise."""
    t = text.strip()
    if not t:
        raise empty_text()
    if len(t.encode("utf-8")) > MAX_TEXT_BYTES:
        raise text_too_long(MAX_TEXT_BYTES)
    return t


def doc_key(oid: bytes) -> bytes:
    return PREFIX + oid


def encode_todo(oid: bytes, text: str, done: bool) -> bytes:
    """The BSON ``{_id, text, done}`` (that field order, as js-bson writes it)."""
    return encode_document({"_id": ObjectId(oid), "text": text, "done": bool(done)})


def put_op(oid: bytes, text: str, done: bool) -> bytes:
    return encode_op("put", oid, encode_todo(oid, text, done), PREFIX)


def del_op(oid: bytes) -> bytes:
    return encode_op("del", oid, None, PREFIX)


def writer_op(key: bytes) -> bytes:
    return encode_add_writer(key, indexer=False)


def _bson(data: bytes) -> dict[str, Any] | None:
    """One whole BSON document (its length field is the data's length), or None."""
    if len(data) < 5 or struct.unpack_from("<i", data)[0] != len(data):
        return None
    try:
        return decode_document(data, as_stored=False)
    except CorruptEntryError:
        return None


def _binary(v: Any) -> bytes | None:
    # subtype 0 decodes as bytes, other subtypes as bson.Binary (a bytes subclass). Only subtype 0 counts:
    # js-bson 4 turns subtype 4 into a UUID (and throws unless 16 bytes), so JS peers skip the others
    return bytes(v) if type(v) is bytes else None


def decode_todo(value: bytes) -> dict[str, Any] | None:
    """A stored todo document the contract allows, or None."""
    doc = _bson(value)
    if doc is None:
        return None
    text, done = doc.get("text"), doc.get("done")
    if not isinstance(text, str) or len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        return None
    if not isinstance(done, bool):
        return None
    return doc


def todo_of(key: bytes, value: bytes) -> Todo | None:
    """The todo a view entry holds (None for anything else under the prefix)."""
    if not key.startswith(PREFIX) or len(key) != len(PREFIX) + 12:
        return None
    doc = decode_todo(value)
    if doc is None:
        return None
    return Todo(key[len(PREFIX) :].hex(), doc["text"], doc["done"])


def parse_op(value: bytes | None) -> Op | None:
    """The op a node holds, or None when the node is to be skipped (see the module docstring)."""
    if value is None or len(value) > MAX_NODE_BYTES:
        return None
    op = _bson(bytes(value))
    if op is None:
        return None
    kind = op.get("type")
    if kind not in ("put", "del", "addWriter"):
        return None
    key = _binary(op.get("key"))
    if key is None:
        return None
    if kind == "addWriter":
        return AddWriter(key) if len(key) == 32 else None
    prefix = _binary(op.get("prefix"))
    if prefix is None:
        return None
    full = prefix + key
    if not full.startswith(PREFIX):
        return None
    if kind == "del":
        return Del(full)
    doc = _binary(op.get("value"))
    if doc is None or decode_todo(doc) is None:
        return None
    return Put(full, doc)

"""The op and document bytes and the apply's skip rules (sans-IO), rule by rule from the contract
(TODO-CONTRACT.md "The list"), and the byte layout hello-peers / hyperbeedeebee write."""

from __future__ import annotations

import bson
import pytest

from hyperpunch.docdb.codec import encode_document
from hyperpunch.docdb.multiwriter import encode_op
from hyperpunch.todo import TodoError, ops, parse_op
from hyperpunch.todo.ops import PREFIX, AddWriter, Del, Put

OID = bytes.fromhex("65f1a2b3c4d5e6f708090a0b")


def doc(**fields: object) -> bytes:
    return encode_document(fields)


def test_todo_document_layout() -> None:
    value = ops.encode_todo(OID, "milk", False)
    # BSON {_id: ObjectId, text: 'milk', done: false} in that field order (js-bson's bytes)
    assert value == (
        bytes.fromhex("2c000000")
        + b"\x07_id\x00" + OID
        + b"\x02text\x00" + bytes.fromhex("05000000") + b"milk\x00"
        + b"\x08done\x00\x00"
        + b"\x00"
    )  # fmt: skip
    assert ops.todo_of(PREFIX + OID, value) == ops.Todo(OID.hex(), "milk", False)


def test_valid_ops_parse() -> None:
    assert parse_op(ops.put_op(OID, "milk", True)) == Put(PREFIX + OID, ops.encode_todo(OID, "milk", True))
    assert parse_op(ops.del_op(OID)) == Del(PREFIX + OID)
    assert parse_op(ops.writer_op(bytes(32))) == AddWriter(bytes(32))
    # the prefix may be split differently between prefix and key: only prefix + key counts
    assert parse_op(encode_op("del", b"doc\x00" + OID, None, b"todo\x00")) == Del(PREFIX + OID)


def bad_ops() -> list[tuple[str, bytes | None]]:
    good = ops.encode_todo(OID, "x", False)
    b = bson.Binary
    return [
        ("no value (an ack)", None),
        ("not BSON", b"garbage"),
        ("empty", b""),
        ("length field wrong", ops.del_op(OID)[:-1]),
        ("trailing bytes", ops.del_op(OID) + b"\x00"),
        ("unknown type", doc(type="drop", key=b(OID, 0), prefix=b(PREFIX, 0))),
        ("no type", doc(key=b(OID, 0), prefix=b(PREFIX, 0))),
        ("key a string", doc(type="del", key=OID.hex(), prefix=b(PREFIX, 0))),
        ("prefix a string", doc(type="del", key=b(OID, 0), prefix="todo\x00doc\x00")),
        ("no prefix", doc(type="del", key=b(OID, 0))),
        ("outside the collection", encode_op("put", OID, good, b"user\x00doc\x00")),
        ("an index entry", encode_op("del", OID, None, b"todo\x00idx\x00")),
        ("value not binary", doc(type="put", key=b(OID, 0), value="x", prefix=b(PREFIX, 0))),
        ("no value", doc(type="put", key=b(OID, 0), prefix=b(PREFIX, 0))),
        ("value not BSON", encode_op("put", OID, b"nope", PREFIX)),
        ("text missing", encode_op("put", OID, doc(_id=bson.ObjectId(OID), done=False), PREFIX)),
        ("text a number", encode_op("put", OID, doc(_id=bson.ObjectId(OID), text=3, done=False), PREFIX)),
        ("done a number", encode_op("put", OID, doc(_id=bson.ObjectId(OID), text="x", done=1), PREFIX)),
        ("text too long", encode_op("put", OID, ops.encode_todo(OID, "é" * 2049, False), PREFIX)),
        ("writer key short", ops.writer_op(bytes(31))),
        ("writer key a string", doc(type="addWriter", key="k" * 32, indexer=False)),
        ("node too big", encode_op("put", OID, ops.encode_todo(OID, "x", False) + bytes(65536), PREFIX)),
    ]


@pytest.mark.parametrize(("why", "value"), bad_ops(), ids=[w for w, _ in bad_ops()])
def test_skip_rules(why: str, value: bytes | None) -> None:
    assert parse_op(value) is None, why


def test_text_limits() -> None:
    assert parse_op(encode_op("put", OID, ops.encode_todo(OID, "é" * 2048, False), PREFIX)) is not None
    assert ops.validate_text("  milk \n") == "milk"
    for text, code in (("", "EMPTY_TEXT"), (" \t\n", "EMPTY_TEXT"), ("x" * 4097, "TEXT_TOO_LONG")):
        with pytest.raises(TodoError) as info:
            ops.validate_text(text)
        assert info.value.code == code
    assert ops.validate_text("é" * 2048) == "é" * 2048

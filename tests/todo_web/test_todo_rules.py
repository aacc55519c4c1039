"""The apply's skip rules are the same in the JS client (client.js ``parseOp``, run by node) and
the Python peer (``hyperpunch.todo.parse_op``): for a corpus of valid and malformed node values
both keep the same nodes and read the same op out of each, so JS and Python peers converge on the
same view."""

from __future__ import annotations

import json
import subprocess

import bson
import pytest
from todo_peers import TODO_DIR

from hyperpunch.docdb.multiwriter import encode_add_writer, encode_op
from hyperpunch.todo import parse_op
from hyperpunch.todo.ops import AddWriter, Del, Put
from jsref import node_binary

pytestmark = pytest.mark.interop

PREFIX = b"todo\x00doc\x00"
OID = bson.ObjectId(b"\x01" * 12)

JS = """
import { parseOp } from './client.js'
import b4a from 'b4a'
let input = ''
for await (const chunk of process.stdin) input += chunk
const out = []
for (const h of JSON.parse(input)) {
  const op = parseOp(b4a.from(h, 'hex'))
  out.push(op === null ? null : [op.type, b4a.toString(op.key, 'hex'), op.value ? b4a.toString(op.value, 'hex') : null])
}
process.stdout.write(JSON.stringify(out))
"""


def doc(text: object = "t", done: object = False, **extra: object) -> bytes:
    return bson.encode({"_id": OID, "text": text, "done": done, **extra})


def put(value: bytes, key: bytes = OID.binary, prefix: bytes = PREFIX) -> bytes:
    return encode_op("put", key, value, prefix)


def corpus() -> list[bytes]:
    big_text = "é" * 2048  # 4096 UTF-8 bytes: allowed
    ops = [
        put(doc()),
        put(doc("x", True)),
        put(doc(big_text)),
        put(doc(big_text + "e")),  # 4097 bytes
        put(doc("y" * 4096)),
        put(doc("y" * 4097)),
        put(doc(42)),
        put(doc("t", 1)),
        put(doc("t", None)),
        put(bson.encode({"text": "no id", "done": False})),  # no _id: the contract checks text/done only
        put(doc("extra", False, more=[1, 2])),
        put(doc()[:-1]),  # value one byte short
        put(doc() + b"\x00"),  # value with a trailing byte
        put(doc(), key=b""),
        put(doc(), key=b"\x00" * 40),
        put(doc(), prefix=b"todo\x00doc"),  # prefix + key still under todo\0doc\0? no: key starts with \1
        put(doc(), key=b"\x00" + OID.binary, prefix=b"todo\x00doc"),  # = todo\0doc\0 + id: allowed
        put(doc(), prefix=b""),
        put(doc(), prefix=b"note\x00doc\x00"),
        encode_op("del", OID.binary, None, PREFIX),
        encode_op("del", OID.binary, None, b"x"),
        bson.encode({"type": "del", "key": bson.Binary(OID.binary)}),  # no prefix
        bson.encode(
            {"type": "put", "key": bson.Binary(OID.binary), "prefix": bson.Binary(PREFIX)}
        ),  # no value
        bson.encode(
            {"type": "put", "key": "str", "value": bson.Binary(doc()), "prefix": bson.Binary(PREFIX)}
        ),
        bson.encode(
            {"type": "put", "key": bson.Binary(OID.binary), "value": doc(), "prefix": bson.Binary(PREFIX)}
        ),
        bson.encode(
            {
                "type": "put",
                "value": bson.Binary(doc()),
                "prefix": bson.Binary(PREFIX),
            }
        ),
        encode_add_writer(b"\x02" * 32, indexer=False),
        encode_add_writer(b"\x02" * 32, indexer=True),
        encode_add_writer(b"\x02" * 31, indexer=False),
        encode_add_writer(b"\x02" * 33, indexer=False),
        bson.encode({"type": "addWriter", "key": "ab" * 32}),
        bson.encode({"type": "drop", "key": bson.Binary(OID.binary), "prefix": bson.Binary(PREFIX)}),
        bson.encode({"type": 1, "key": bson.Binary(OID.binary), "prefix": bson.Binary(PREFIX)}),
        b"",
        b"\x00",
        b"\xde\xad\xbe\xef",
        b"\x05\x00\x00\x00\x00",  # the empty document
        b"\x05\x00\x00\x00\x01",  # bad terminator
        b"\xff\xff\xff\x7f" + b"\x00" * 8,
    ]
    # node size: exactly 65536 bytes passes the size rule, one more is skipped
    base = put(doc("z" * 10))
    pad = 65536 - len(put(doc("z" * 10, pad=b"")))
    ops.append(put(doc("z" * 10, pad=b"\x00" * pad)))
    ops.append(put(doc("z" * 10, pad=b"\x00" * (pad + 1))))
    ops.append(base)
    return ops


def other_subtype_ops() -> list[bytes]:
    """Binaries of another subtype than 0 where the op format has binaries. js-bson 4 turns
    subtype 4 into a UUID (and refuses one that is not 16 bytes), so the JS client reads "binary"
    as subtype 0 and skips these nodes; the Python peer must too."""
    key, value = bson.Binary(OID.binary), bson.Binary(doc())
    return [
        bson.encode(
            {"type": "put", "key": bson.Binary(OID.binary, 4), "value": value, "prefix": bson.Binary(PREFIX)}
        ),
        bson.encode({"type": "del", "key": bson.Binary(b"\x03" * 16, 4), "prefix": bson.Binary(PREFIX)}),
        bson.encode({"type": "put", "key": key, "value": value, "prefix": bson.Binary(PREFIX, 5)}),
        bson.encode(
            {"type": "put", "key": key, "value": bson.Binary(doc(), 128), "prefix": bson.Binary(PREFIX)}
        ),
        bson.encode({"type": "addWriter", "key": bson.Binary(b"\x02" * 32, 2), "indexer": False}),
    ]


def js_views(ops: list[bytes]) -> list[object]:
    proc = subprocess.run(
        [node_binary(), "--input-type=module", "-e", JS],
        input=json.dumps([o.hex() for o in ops]),
        cwd=TODO_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out: list[object] = json.loads(proc.stdout)
    return out


def python_view(value: bytes) -> list[str | None] | None:
    op = parse_op(value)
    if op is None:
        return None
    if isinstance(op, AddWriter):
        return ["addWriter", op.key.hex(), None]
    if isinstance(op, Del):
        return ["del", op.key.hex(), None]
    assert isinstance(op, Put)
    return ["put", op.key.hex(), op.value.hex()]


def test_js_and_python_skip_the_same_nodes() -> None:
    ops = corpus()
    assert len(ops[-3]) == 65536 and len(ops[-2]) == 65537
    js = js_views(ops)
    py = [python_view(o) for o in ops]
    diffs = [(i, js[i], py[i]) for i in range(len(ops)) if js[i] != py[i]]
    assert not diffs, diffs
    kept = sum(1 for v in py if v is not None)
    assert 0 < kept < len(ops)  # the corpus has both kinds


def test_other_binary_subtypes_are_skipped_by_both() -> None:
    ops = other_subtype_ops()
    assert js_views(ops) == [None] * len(ops)
    assert [python_view(o) for o in ops] == [None] * len(ops)

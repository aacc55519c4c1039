"""The document DB over the Autobase: hello-peers' op bytes (vectors), two Python writers of one
base (in one Corestore) converging on the same documents and indexes, and hostile nodes skipped."""

from __future__ import annotations

from pathlib import Path

from hyperpunch.autobase import Autobase
from hyperpunch.corestore import Corestore
from hyperpunch.docdb import DB, ObjectId
from hyperpunch.docdb.codec import decode_document
from hyperpunch.docdb.multiwriter import AutoBee, decode_op, encode_add_writer, encode_op, open_base
from refvectors import section

PK = bytes([2]) * 32


def test_ops_are_hello_peers_bytes() -> None:
    for v in section("docdb")["autodeebee"]:
        value = None if v["value"] is None else bytes.fromhex(v["value"])
        enc = encode_op(v["type"], bytes.fromhex(v["key"]), value, bytes.fromhex(v["prefix"]))
        assert enc.hex() == v["encoded"]
        kind, key, val = decode_op(enc)
        assert (kind, key, val) == (v["type"], bytes.fromhex(v["prefix"] + v["key"]), value)


def _base(store: Corestore, bootstrap: bytes | None = None) -> Autobase:
    return open_base(store, bootstrap, ack_interval=0)


async def test_two_writers_share_one_db(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = _base(root.namespace("a"))
        await a.ready()
        assert a.key is not None
        b = _base(root.namespace("b"), a.key)
        await b.ready()
        try:
            db_a, db_b = DB(AutoBee(a)), DB(AutoBee(b))
            todo_a, todo_b = db_a.collection("todo"), db_b.collection("todo")
            await todo_a.create_index(["done", "text"])
            milk = await todo_a.insert(
                {"text": "milk", "done": False, "_id": ObjectId("65f1a2b3c4d5e6f708090a0b")}
            )
            assert b.local is not None and b.local.key is not None
            await a.append(encode_add_writer(b.local.key))
            await b.update()
            assert b.writable
            await todo_b.insert({"text": "eggs", "done": True})
            await todo_a.insert({"text": "bread", "done": True})
            await todo_b.update({"text": "milk"}, {"$set": {"done": True}})
            for base in (a, b, a):
                await base.update()
            got_a = [d["text"] async for d in todo_a.find({"done": True}).sort("text")]
            got_b = [d["text"] async for d in todo_b.find({"done": True}).sort("text")]
            # index order is CBOR byte order (shorter strings first), as in JS hyperbeedeebee
            assert got_a == got_b == ["eggs", "milk", "bread"]
            assert await todo_b.list_indexes() == await todo_a.list_indexes()
            # the view holds exactly the hyperbeedeebee layout
            doc = await AutoBee(a).view.get(b"todo\x00doc\x00" + milk["_id"].binary)
            assert doc is not None and decode_document(doc.value)["done"] is True
        finally:
            await a.aclose()
            await b.aclose()

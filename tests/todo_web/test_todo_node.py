"""The todo client (interop/browser/todo/client.js) as headless Node peers on a loopback DHT: a
creator and a joiner find each other on the list's discovery key, the joiner is added as a writer
through the 'hyperpunch/todo-writers' channel, both converge; a hostile writer's malformed ops are
skipped by every peer's apply (the contract's skip rules) and nothing else is lost."""

from __future__ import annotations

import bson
import pytest
from todo_peers import converged, local_testnet, todo_peer

from hyperpunch.docdb.multiwriter import encode_add_writer, encode_op

pytestmark = pytest.mark.interop

PREFIX = b"todo\x00doc\x00"


def todo_doc(text: object, done: object, oid: bson.ObjectId | None = None) -> bytes:
    return bson.encode({"_id": oid or bson.ObjectId(), "text": text, "done": done})


def put(value: bytes, *, key: bytes | None = None, prefix: bytes = PREFIX) -> bytes:
    return encode_op("put", key if key is not None else bson.ObjectId().binary, value, prefix)


async def test_creator_and_joiner_converge() -> None:
    async with local_testnet() as bootstrap, todo_peer("creator", bootstrap=bootstrap) as a:
        ready = await a.ready()
        assert ready["writable"] is True and ready["key"] == ready["local"]
        async with todo_peer("joiner", bootstrap=bootstrap, listKey=ready["key"]) as b:
            joined = await b.ready()
            assert joined["key"] == ready["key"] and joined["writable"] is False
            refused = await b.send({"add": "too early"})
            assert refused["error"] == "NOT_WRITABLE"
            await b.writable()
            assert b.status["peers"] >= 1
            await a.send({"add": "from the creator"})
            await a.texts(["from the creator"])
            second = await b.send({"add": "  from the joiner  "})
            for p in (a, b):
                await p.texts(["from the creator", "from the joiner"])
            await b.send({"edit": [second["id"], "edited by the joiner"]})
            await a.texts(["from the creator", "edited by the joiner"])
            await a.send({"done": [second["id"], True]})
            for p in (a, b):
                await p.wait_for(
                    lambda p=p: any(t["text"] == "edited by the joiner" and t["done"] for t in p.todos),
                    "the edit and then the toggle",
                )
            # concurrent whole-document puts of one todo: every peer ends on the same one
            first = a.todos[0]["id"] if a.todos[0]["text"] == "from the creator" else a.todos[1]["id"]
            await a.send({"edit": [first, "creator's version"]})
            await b.send({"edit": [first, "joiner's version"]})
            versions = {"creator's version", "joiner's version"}
            final = await converged(a, b, also=lambda todos: bool({t["text"] for t in todos} & versions))
            assert len(final) == 2
            cleared = await b.send({"clear": True})
            assert cleared["removed"] == 1
            for p in (a, b):
                await p.wait_for(lambda p=p: len(p.todos) == 1 and not p.todos[0]["done"], "one todo left")
            assert (await a.send({"add": "   "}))["error"] == "EMPTY_TEXT"
            assert (await a.send({"add": "x" * (1 << 20)}))["error"] == "TEXT_TOO_LONG"
            assert (await a.send({"rm": "0" * 24}))["error"] == "NOT_FOUND"
            assert a.todos == b.todos


async def test_hostile_writer_ops_are_skipped() -> None:
    async with local_testnet() as bootstrap, todo_peer("creator", bootstrap=bootstrap) as a:
        key = (await a.ready())["key"]
        async with (
            todo_peer("bystander", bootstrap=bootstrap, listKey=key) as b,
            todo_peer("hostile", bootstrap=bootstrap, listKey=key) as h,
        ):
            await b.writable()
            await h.writable()
            await a.send({"add": "keep me"})
            for p in (a, b, h):
                await p.texts(["keep me"])
            victim = a.todos[0]["id"]
            oid = bson.ObjectId()
            bad = [
                b"\xde\xad\xbe\xef",  # not BSON
                bson.encode({"type": "put"})[:-1],  # truncated BSON
                bson.encode({"type": "drop", "key": bson.Binary(b"x"), "prefix": bson.Binary(PREFIX)}),
                bson.encode({"type": "put", "key": "a string", "value": bson.Binary(todo_doc("t", False))}),
                put(todo_doc("no prefix field", False)).replace(b"prefix", b"prefiy"),
                put(todo_doc("other collection", False), prefix=b"note\x00doc\x00"),
                put(todo_doc(42, False)),  # text not a string
                put(todo_doc("done not a bool", 1)),
                put(todo_doc("y" * 4097, False)),  # text over 4096 bytes
                put(b"\x05\x00\x00"),  # value not BSON
                put(todo_doc("z" * 60000, False) + b"\x00" * 6000),  # node over 64 KiB
                encode_add_writer(b"\x01" * 31, indexer=False),  # a writer key is 32 bytes
                encode_op("del", bytes.fromhex(victim), None, b"note\x00doc\x00"),  # del elsewhere
            ]
            for raw in bad:
                assert (await h.send({"raw": raw.hex()}))["ok"] == "raw"
            # a valid op after the garbage still applies everywhere, in order
            good = put(todo_doc("after the garbage", False, oid), key=oid.binary)
            await h.send({"raw": good.hex()})
            for p in (a, b, h):
                await p.texts(["keep me", "after the garbage"])
            await b.send({"add": "still writable"})
            for p in (a, b, h):
                await p.texts(["keep me", "after the garbage", "still writable"])
            assert a.todos == b.todos == h.todos
            assert str(oid) in {t["id"] for t in a.todos}

"""Issue 14's multi-writer acceptance: 2 Python writers + 1 JS writer (autobase 7.28.1, hyperbee,
hyperbeedeebee 2.0.0 through an Autodeebee-style adapter: ``interop/scripts/docdb-autobase-peer.js``),
all three indexers of one Autobase, edit a ``todo`` collection with an index concurrently (insert,
update, delete) while the test drops and restores the links between them (seeded, one link down
at a time); then every link is up and the peers ack until they agree: the same raw bee entries
(documents, index definition, index entries), the same view core of everything applied (key,
length, tree hash), the same indexed length (the JS peer's signed length), the same ``find()``
results (a scan, index-served queries, sorted ones) and the same indexes; and the documents are what
the writers wrote (each writer edits only its own documents, so the last write per document wins
and the test knows it), every index entry present.

Known and not required here: that *everything* gets indexed. In some runs (timing; with or
without link drops, with the JS peer as indexer or plain writer) indexing stops at one node while
all indexers keep acking, in the JS peer and the Python peers alike (the same indexed length), so
the DAG both linearize holds something consensus does not confirm; not found yet."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from docdb_mesh import Link, js_do, python_server, to_port, until_length

from hyperpunch.autobase import Autobase
from hyperpunch.corestore import Corestore
from hyperpunch.docdb import DB, Collection, ObjectId
from hyperpunch.docdb.codec import encode_document
from hyperpunch.docdb.multiwriter import VIEW_NAME, AutoBee, encode_add_writer, open_base
from hyperpunch.hypercore import Hypercore
from jsref import NodeProcess, spawn_node

SEED = 1405
OP_ROUNDS = 8  # rounds of concurrent writes
OPS_PER_ROUND = 3  # per writer
ACK_ROUNDS = 40
# the links the test drops and restores; dropping the creator's link to the JS peer ("a-js") is
# left out: with it, indexing stalls in both implementations alike (see the module docstring)
CHURN = ("a-b", "a-js", "b-js")
JS_INDEXER = True
COLL = "todo"
FIELDS = ["done", "text"]
QUERIES: list[dict[str, Any]] = [
    {"find": {}},
    {"find": {"done": True}},
    {"find": {"done": False}, "sort": ["text", -1]},
    {"find": {}, "sort": ["done", 1]},
]


def bson_hex(value: Any) -> str:
    return encode_document({"d": value}).hex()


async def py_results(coll: Collection) -> list[list[str]]:
    out = []
    for q in QUERIES:
        cur = coll.find(q["find"])
        if "sort" in q:
            cur = cur.sort(q["sort"][0], q["sort"][1])
        out.append([encode_document(d).hex() for d in await cur])
    return out


async def entries(base: Autobase) -> list[list[str]]:
    return [[bytes(e.key).hex(), bytes(e.value).hex()] async for e in base.view.range()]


class Writer:
    """One writer's own documents and what it last wrote to each (the model to check)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.docs: dict[str, dict[str, Any]] = {}  # id hex -> {text, done}
        self.count = 0

    def plan(self, rng: random.Random, n: int) -> list[tuple[str, str | None, dict[str, Any]]]:
        """``n`` writes ``(kind, id hex or None, fields)``: inserts, and updates and deletes of
        documents this writer inserted in earlier rounds (a deleted one is not touched again)."""
        live = sorted(self.docs)
        ops: list[tuple[str, str | None, dict[str, Any]]] = []
        for _ in range(n):
            kind = rng.choice(["insert", "insert", "update", "delete"]) if live else "insert"
            self.count += 1
            fields = {"text": f"{self.name}-{self.count}", "done": rng.random() < 0.5}
            if kind == "insert":
                ops.append((kind, None, fields))
                continue
            oid = rng.choice(live)
            if kind == "delete":
                live.remove(oid)
            ops.append((kind, oid, fields))
        return ops


async def py_write(coll: Collection, w: Writer, ops: list[tuple[str, str | None, dict[str, Any]]]) -> None:
    for kind, oid, fields in ops:
        if kind == "insert":
            doc = await coll.insert(dict(fields))
            w.docs[doc["_id"].binary.hex()] = fields
        elif kind == "update":
            assert oid is not None
            r = await coll.update({"_id": ObjectId(oid)}, {"$set": fields})
            assert r.n_modified == 1
            w.docs[oid] = fields
        else:
            assert oid is not None
            assert (await coll.delete({"_id": ObjectId(oid)})).n_deleted == 1
            del w.docs[oid]


async def js_write(js: NodeProcess, w: Writer, ops: list[tuple[str, str | None, dict[str, Any]]]) -> None:
    for kind, oid, fields in ops:
        if kind == "insert":
            got = await js_do(js, {"cmd": "insert", "coll": COLL, "doc": bson_hex(fields)})
            w.docs[got["result"]] = fields
        elif kind == "update":
            assert oid is not None
            q, u = bson_hex({"_id": ObjectId(oid)}), bson_hex({"$set": fields})
            got = await js_do(js, {"cmd": "update", "coll": COLL, "query": q, "update": u})
            assert got["result"]["nModified"] == 1
            w.docs[oid] = fields
        else:
            assert oid is not None
            got = await js_do(js, {"cmd": "delete", "coll": COLL, "query": bson_hex({"_id": ObjectId(oid)})})
            assert got["result"] == 1
            del w.docs[oid]


async def js_state(js: NodeProcess) -> dict[str, Any]:
    queries = [{**q, "find": bson_hex(q["find"])} for q in QUERIES]
    return await js_do(js, {"cmd": "state", "coll": COLL, "queries": queries}, "state")


async def test_two_python_writers_and_a_js_writer_edit_one_db(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    async with (
        Corestore(tmp_path / "a", primary_key=bytes([7]) * 32, unsafe=True) as store_a,
        Corestore(tmp_path / "b", primary_key=bytes([8]) * 32, unsafe=True) as store_b,
        python_server(store_b) as (server_b, _),
    ):
        a = open_base(store_a, ack_interval=0)
        await a.ready()
        assert a.key is not None and a.local is not None
        b = open_base(store_b, a.key, ack_interval=0)
        await b.ready()
        assert b.local is not None and b.local.key is not None
        opened: list[Hypercore] = []
        async with spawn_node("docdb-autobase-peer.js", json.dumps({"key": a.key.hex()})) as js:
            ready = await js.expect("ready")
            links = [
                Link("a-b", to_port(store_a, server_b.port)),
                Link("a-js", to_port(store_a, ready["port"])),
                Link("b-js", to_port(store_b, ready["port"])),
            ]
            try:
                for link in links:
                    await link.restore()
                js_key = bytes.fromhex(ready["local"])
                # the creator adds both writers as indexers (app messages), then the index
                await a.append(
                    [encode_add_writer(b.local.key), encode_add_writer(js_key, indexer=JS_INDEXER)]
                )
                coll_a, coll_b = DB(AutoBee(a)).collection(COLL), DB(AutoBee(b)).collection(COLL)
                await coll_a.create_index(FIELDS)
                cores = {
                    "a": {"b": await store_a.get(key=b.local.key), "js": await store_a.get(key=js_key)},
                    "b": {"a": await store_b.get(key=a.key), "js": await store_b.get(key=js_key)},
                }
                opened.extend(c for peer in cores.values() for c in peer.values())
                await until_length(cores["b"]["a"], a.local.length)
                await b.update()
                assert b.writable and await coll_b.list_indexes() == await coll_a.list_indexes()
                for _ in range(ACK_ROUNDS):  # JS has the adds and the index (replication paces it)
                    synced = await js_do(js, {"cmd": "sync", "rounds": 3}, "synced")
                    if synced["writable"] and (await js_state(js))["indexes"]:
                        break
                assert synced["writable"]

                writers = {"a": Writer("a"), "b": Writer("b"), "js": Writer("js")}
                down: Link | None = None
                for _ in range(OP_ROUNDS):
                    # seeded link churn: at most one link down at a time (the mesh stays connected)
                    if down is not None:
                        await down.restore()
                        down = None
                    pick = rng.randrange(len(links) + 1)  # the same draws whatever CHURN holds
                    if pick < len(links) and links[pick].name in CHURN:
                        down = links[pick]
                        await down.drop()
                    plans = {name: w.plan(rng, OPS_PER_ROUND) for name, w in writers.items()}
                    await asyncio.gather(
                        py_write(coll_a, writers["a"], plans["a"]),
                        py_write(coll_b, writers["b"], plans["b"]),
                        js_write(js, writers["js"], plans["js"]),
                    )
                    # each takes in what reached it so far (a partial view: the next writes fork)
                    await a.update()
                    await b.update()
                    await js_do(js, {"cmd": "sync", "rounds": 1}, "synced")

                for link in links:
                    await link.restore()
                state: dict[str, Any] = {}
                for _ in range(ACK_ROUNDS):
                    state = await js_state(js)
                    await until_length(cores["a"]["b"], b.local.length)
                    await until_length(cores["a"]["js"], state["length"])
                    await until_length(cores["b"]["a"], a.local.length)
                    await until_length(cores["b"]["js"], state["length"])
                    await js_do(
                        js,
                        {
                            "cmd": "wait",
                            "lengths": {a.local.key.hex(): a.local.length, b.local.key.hex(): b.local.length},
                        },
                        "waited",
                    )
                    await a.update()
                    await b.update()
                    await js_do(js, {"cmd": "sync", "rounds": 1}, "synced")
                    state = await js_state(js)
                    if await agree(a, b, state):
                        break
                    await a.ack()
                    await b.ack()
                    await js_do(js, {"cmd": "ack"}, "acked")

                # the same raw bee (documents, index definition, index entries) and view core
                # (everything applied: key, length, tree hash), and the same indexed part of it
                assert await entries(a) == await entries(b) == state["entries"]
                tip = await a.view_core(VIEW_NAME, tip=True)
                assert tip == await b.view_core(VIEW_NAME, tip=True)
                assert (tip.key.hex(), tip.length, tip.tree_hash.hex()) == (
                    state["viewKey"],
                    state["viewLength"],
                    state["viewTreeHash"],
                )
                indexed = (await a.view_core(VIEW_NAME)).length
                assert indexed == (await b.view_core(VIEW_NAME)).length == state["viewSignedLength"] > 0
                assert [k.hex() for k in a.indexers] == [k.hex() for k in b.indexers] == state["indexers"]
                assert len(state["indexers"]) == (3 if JS_INDEXER else 2)
                # the same answers and indexes
                results = await py_results(coll_a)
                assert results == await py_results(coll_b) == state["results"]
                idx_a = [encode_document(i).hex() for i in await coll_a.list_indexes()]
                assert len(idx_a) == 1
                assert idx_a == [encode_document(i).hex() for i in await coll_b.list_indexes()]
                assert idx_a == state["indexes"]
                # the documents are what their writers last wrote, every index entry is there
                want = {oid: f for w in writers.values() for oid, f in w.docs.items()}
                got = {
                    d["_id"].binary.hex(): {"text": d["text"], "done": d["done"]} async for d in coll_a.find()
                }
                assert got == want and len(want) > 3
                for done in (True, False):
                    by_index = [d["_id"] async for d in coll_a.find({"done": done}).hint("done,text")]
                    assert sorted(o.binary.hex() for o in by_index) == sorted(
                        oid for oid, f in want.items() if f["done"] is done
                    )
                ix = [k for k, _ in state["entries"] if bytes.fromhex(k).startswith(b"todo\x00idx\x00")]
                assert len(ix) == len(want)
            finally:
                for core in opened:
                    await core.aclose()
                for link in links:
                    await link.drop()
                await a.aclose()
                await b.aclose()
            await js.send({"cmd": "exit"})
            await js.expect("closed")
            assert await js.wait() == 0


async def agree(a: Autobase, b: Autobase, state: dict[str, Any]) -> bool:
    """Whether both Python peers hold the JS peer's bee and view core (everything applied) and
    index as far as the JS peer's signed length. Not required: that everything is indexed (a
    known stall, see the module docstring)."""
    if not (await entries(a) == await entries(b) == state["entries"]):
        return False
    js = (bytes.fromhex(state["viewKey"]), state["viewLength"], bytes.fromhex(state["viewTreeHash"]))
    for base in (a, b):
        tip = await base.view_core(VIEW_NAME, tip=True)
        if (tip.key, tip.length, tip.tree_hash) != js:
            return False
        if (await base.view_core(VIEW_NAME)).length != state["viewSignedLength"]:
            return False
    return True

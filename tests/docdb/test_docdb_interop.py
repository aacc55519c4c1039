"""Cross-implementation: JS hyperbeedeebee 2.0.0 and hyperpunch.docdb write the same bee blocks
for the same writes, answer 300 random queries identically, and each queries a bee the other
wrote (blocks fed raw into a fresh core on the other side)."""

from __future__ import annotations

import random
from typing import Any

from docdb_ops import gen_find, gen_writes, run_ops, wrap

from hyperpunch.docdb import DB
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore
from jsref import run_node_json

N_QUERIES = 300


async def _py_db(atomic: bool, blocks: list[str] | None = None) -> tuple[DB, Hypercore]:
    core = Hypercore(None)
    await core.ready()
    if blocks:
        await core.append([bytes.fromhex(b) for b in blocks])
    bee = Hyperbee(core)
    await bee.ready()
    return DB(bee, atomic=atomic), core


async def _blocks(core: Hypercore) -> list[str]:
    return [(await core.get(i)).hex() for i in range(core.length)]


async def test_same_blocks_and_same_answers_as_js() -> None:
    rng = random.Random(14)
    writes = gen_writes(rng)
    finds = [gen_find(rng) for _ in range(N_QUERIES)]
    js = run_node_json("docdb-ops.js", input_obj={"blocks": None, "ops": writes + finds}, timeout=300)
    db, core = await _py_db(atomic=False)
    py_results = await run_ops(db, writes + finds)
    assert py_results[: len(writes)] == js["results"][: len(writes)]
    py_blocks = await _blocks(core)
    assert len(py_blocks) == len(js["blocks"])
    assert py_blocks == js["blocks"], "bee blocks differ from JS hyperbeedeebee's"
    mismatched = [
        (i, finds[i])
        for i in range(N_QUERIES)
        if py_results[len(writes) + i] != js["results"][len(writes) + i]
    ]
    assert not mismatched, mismatched[:3]
    answered = [r for r in js["results"][len(writes) :] if "docs" in r]
    assert len(answered) > N_QUERIES // 2
    assert sum(len(r["docs"]) for r in answered) > N_QUERIES  # the queries do match documents


async def test_js_queries_a_python_written_db_and_python_a_js_written_one() -> None:
    rng = random.Random(140)
    writes = gen_writes(rng, n_docs=60)
    finds = [gen_find(rng) for _ in range(N_QUERIES)]
    # Python writes atomically (its own batch grouping, so different blocks), JS reads
    db, core = await _py_db(atomic=True)
    await run_ops(db, writes)
    py_answers = await run_ops(db, finds)
    js = run_node_json("docdb-ops.js", input_obj={"blocks": await _blocks(core), "ops": finds}, timeout=300)
    assert js["results"] == py_answers
    # JS writes, Python reads
    js_written = run_node_json("docdb-ops.js", input_obj={"blocks": None, "ops": writes + finds}, timeout=300)
    db2, _ = await _py_db(atomic=True, blocks=js_written["blocks"])
    assert await run_ops(db2, finds) == js_written["results"][len(writes) :]


async def test_bad_queries_fail_with_the_js_messages() -> None:
    writes: list[dict[str, Any]] = [
        {"coll": "c", "createIndex": ["a"]},
        {"coll": "c", "insert": wrap({"a": 1, "b": [1, 2]})},
        {"coll": "c", "insert": wrap({"a": 2})},
    ]
    bad: list[dict[str, Any]] = [
        {"coll": "c", "find": wrap({"a": {"$foo": 1}})},
        {"coll": "c", "find": wrap({"b": {"$foo": 1}})},
        {"coll": "c", "find": wrap({"a": {"$gt": 0, "plain": 2}})},
        {"coll": "c", "find": wrap({"a": {"$in": 3}})},
        {"coll": "c", "find": wrap({"b": {"$all": "x"}})},
        {"coll": "c", "find": wrap({"a": None})},
        {"coll": "c", "find": wrap({}), "sort": ["b", 1]},
        {"coll": "c", "find": wrap({}), "hint": "nope"},
        {"coll": "c", "find": wrap({}), "hint": "a", "sort": ["b", 1]},
        {"coll": "c", "find": wrap({"b": 3}), "hint": "a", "sort": ["a", -1]},
    ]
    js = run_node_json("docdb-ops.js", input_obj={"blocks": None, "ops": writes + bad})
    db, _ = await _py_db(atomic=False)
    py = await run_ops(db, writes + bad)
    assert py == js["results"]
    assert sum("error" in r for r in py[len(writes) :]) == len(bad) - 1

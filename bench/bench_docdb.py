"""Document DB (hyperbeedeebee layout): indexed inserts, an indexed sorted find, an unindexed scan.

Same workloads both sides (JS twin: interop/bench/docdb.js, hyperbeedeebee 2.0.0 on hyperbee
2.27.3, hypercore 11, on disk in a temp dir). Document i is ``{tag: "t<i % 10>", n: (i * 7919) %
DOCS, v: i % 1000, text: "document <i>"}`` with two indexes, ``["n"]`` and ``["tag", "n"]``.

* ``docdb_insert_2idx``: timed, DOCS inserts one after the other into a new DB with both indexes
  (each side's default write path: hyperpunch one atomic bee batch per document, JS a put plus one
  batch per index); docs/s.
* ``docdb_find_sorted``: untimed, the DB of DOCS documents; timed, FINDS queries
  ``find({tag}).sort("n", -1).limit(10)`` (served by the ``tag,n`` index); queries/s.
* ``docdb_scan``: untimed, the same DB; timed, SCANS unindexed queries ``find({v: {$gte: 990}})``
  (a full document scan each); scanned docs/s.
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import Workload
from hyperpunch.docdb import DB, Collection
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore

DOCS = 10_000
FINDS = 300
SCANS = 3


def doc(i: int) -> dict[str, object]:
    return {"tag": f"t{i % 10}", "n": (i * 7919) % DOCS, "v": i % 1000, "text": f"document {i}"}


async def _fill(c: Collection, n: int) -> None:
    await c.create_index(["n"])
    await c.create_index(["tag", "n"])
    for i in range(n):
        await c.insert(doc(i))


async def _with_db(fn: Callable[..., Awaitable[float]], n: int, *args: int) -> float:
    with tempfile.TemporaryDirectory(prefix="hp-bench-docdb-") as d:
        async with Hyperbee(Hypercore(Path(d) / "bee")) as bee:
            c = DB(bee).collection("bench")
            return float(await fn(c, n, *args))


async def _insert(c: Collection, n: int) -> float:
    start = time.perf_counter()
    await _fill(c, n)
    return n / (time.perf_counter() - start)


async def _find(c: Collection, n: int, finds: int) -> float:
    await _fill(c, n)
    start = time.perf_counter()
    for q in range(finds):
        got = await c.find({"tag": f"t{q % 10}"}).sort("n", -1).limit(10)
        assert len(got) == 10
    return finds / (time.perf_counter() - start)


async def _scan(c: Collection, n: int, scans: int) -> float:
    await _fill(c, n)
    start = time.perf_counter()
    for _ in range(scans):
        got = await c.find({"v": {"$gte": 990}})
        assert len(got) == n // 100
    return n * scans / (time.perf_counter() - start)


WORKLOADS = [
    Workload(
        name="docdb_insert_2idx",
        unit="docs/s",
        higher_is_better=True,
        run_python=functools.partial(_with_db, _insert, DOCS),
        js_script="docdb.js",
        js_args=["insert", str(DOCS)],
    ),
    Workload(
        name="docdb_find_sorted",
        unit="queries/s",
        higher_is_better=True,
        run_python=functools.partial(_with_db, _find, DOCS, FINDS),
        js_script="docdb.js",
        js_args=["find", str(DOCS), str(FINDS)],
    ),
    Workload(
        name="docdb_scan",
        unit="docs/s",
        higher_is_better=True,
        run_python=functools.partial(_with_db, _scan, DOCS, SCANS),
        js_script="docdb.js",
        js_args=["scan", str(DOCS), str(SCANS)],
    ),
]

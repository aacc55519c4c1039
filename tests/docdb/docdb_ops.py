"""Random document-DB workloads shared by the cross-implementation tests and the benchmark:
the op format of ``interop/scripts/docdb-ops.js`` and a Python runner of the same ops."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hyperpunch.docdb import DB, DocDBError, ObjectId
from hyperpunch.docdb.codec import decode_document, encode_document, js_value

NAMES = ["milk", "eggs", "bread", "Äpfel", "zebra", "", "a b", "日本"]
TAGS = ["red", "green", "blue", "sale", "new"]
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
INDEXES = [["n"], ["tags", "name"], ["d"], ["flag", "f"], ["name"], ["bin", "nested"]]


def wrap(value: Any) -> str:
    return encode_document(js_value({"d": value})).hex()


def unwrap(h: str) -> Any:
    return decode_document(bytes.fromhex(h), as_stored=False)["d"]


def _date(rng: random.Random) -> datetime:
    return EPOCH + timedelta(milliseconds=rng.randrange(0, 10 * 86400 * 1000))


def _value(rng: random.Random, field: str) -> Any:
    if field == "name":
        return rng.choice(NAMES)
    if field == "n":
        return rng.choice([rng.randrange(-20, 20), rng.randrange(-20, 20), 2**31 + rng.randrange(5), -1.5])
    if field == "f":
        return rng.choice([rng.randrange(-8, 8) / 4, 0.1 * rng.randrange(10), 1e300, float(rng.randrange(3))])
    if field == "d":
        return _date(rng)
    if field == "tags":
        return rng.sample(TAGS, rng.randrange(0, 4))
    if field == "flag":
        return rng.random() < 0.5
    if field == "nested":
        return {"a": rng.randrange(3), "b": [rng.randrange(3)]}
    if field == "bin":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 14)))
    raise AssertionError(field)


FIELDS = ["name", "n", "f", "d", "tags", "flag", "nested", "bin"]


def gen_doc(rng: random.Random) -> dict[str, Any]:
    doc = {f: _value(rng, f) for f in FIELDS if rng.random() < 0.8}
    doc["_id"] = ObjectId()
    return doc


def gen_writes(rng: random.Random, n_docs: int = 80) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = [{"coll": "c", "createIndex": INDEXES[0]}]
    for i in range(n_docs):
        ops.append({"coll": "c", "insert": wrap(gen_doc(rng))})
        if i == n_docs // 2:
            ops.append({"coll": "c", "createIndex": INDEXES[1]})
            ops.append({"coll": "c", "createIndex": INDEXES[2]})
            ops.append({"coll": "c", "createIndex": INDEXES[5]})
        if i % 10 == 9:
            name = rng.choice(NAMES)
            update = rng.choice(
                [
                    {"$inc": {"n": 1}},
                    {"$push": {"tags": rng.choice(TAGS)}},
                    {"$set": {"flag": True, "f": 0.5}},
                    {"$addToSet": {"tags": {"$each": ["red", "x"]}}},
                    [{"$unset": {"d": ""}}, {"$set": {"name": "renamed"}}],
                ]
            )
            ops.append(
                {
                    "coll": "c",
                    "update": [wrap({"name": {"$eq": name}}), wrap(update)],
                    "multi": rng.random() < 0.5,
                }
            )
    ops.append({"coll": "c", "createIndex": INDEXES[3]})
    ops.append({"coll": "c", "createIndex": INDEXES[4]})
    return ops


def gen_query(rng: random.Random) -> dict[str, Any]:
    q: dict[str, Any] = {}
    for field in rng.sample(FIELDS[:6], rng.choice([0, 1, 1, 1, 2])):
        v = _value(rng, field)
        scalar = v[0] if isinstance(v, list) and v else (rng.choice(TAGS) if isinstance(v, list) else v)
        kind = rng.randrange(9)
        if kind == 0:
            q[field] = scalar
        elif kind == 1:
            q[field] = {"$eq": scalar}
        elif kind == 2:
            q[field] = {rng.choice(["$gt", "$gte", "$lt", "$lte"]): scalar}
        elif kind == 3:
            lo, hi = (
                sorted([_value(rng, field), _value(rng, field)], key=repr) if field != "tags" else ("b", "r")
            )
            q[field] = {"$gte": lo, "$lt": hi} if field in ("n", "f", "d") else {"$gte": scalar}
        elif kind == 4:
            q[field] = {"$in": [scalar, _value(rng, field) if field != "tags" else rng.choice(TAGS)]}
        elif kind == 5:
            q[field] = (
                {"$all": rng.sample(TAGS, rng.randrange(1, 3))} if field == "tags" else {"$all": [scalar]}
            )
        elif kind == 6:
            q[field] = {"$exists": rng.random() < 0.5}
        elif kind == 7 and field == "tags":
            q[field] = rng.choice(TAGS)
        else:
            q[field] = {"$exists": True, "$ne": scalar} if False else scalar
    return q


def gen_find(rng: random.Random) -> dict[str, Any]:
    op: dict[str, Any] = {"coll": "c", "find": wrap(gen_query(rng))}
    r = rng.random()
    if r < 0.45:
        op["sort"] = [rng.choice(["n", "d", "name", "tags", "f", "flag"]), rng.choice([1, -1])]
    if rng.random() < 0.3:
        op["skip"] = rng.randrange(0, 6)
    if rng.random() < 0.4:
        op["limit"] = rng.randrange(1, 12)
    if rng.random() < 0.08:
        op["hint"] = ",".join(rng.choice(INDEXES))
    return op


async def run_ops(db: DB, ops: list[dict[str, Any]]) -> list[Any]:
    """The Python twin of docdb-ops.js: the same result format."""
    out: list[Any] = []
    for op in ops:
        c = db.collection(op["coll"])
        try:
            if "insert" in op:
                await c.insert(unwrap(op["insert"]))
                out.append(None)
            elif "createIndex" in op:
                await c.create_index(op["createIndex"])
                out.append(None)
            elif "update" in op:
                r = await c.update(
                    unwrap(op["update"][0]),
                    unwrap(op["update"][1]),
                    upsert=bool(op.get("upsert")),
                    multi=bool(op.get("multi")),
                )
                out.append({"nMatched": r.n_matched, "nUpserted": r.n_upserted, "nModified": r.n_modified})
            else:
                cur = c.find(unwrap(op["find"]))
                if op.get("sort"):
                    cur = cur.sort(op["sort"][0], op["sort"][1])
                if op.get("skip") is not None:
                    cur = cur.skip(op["skip"])
                if op.get("limit") is not None:
                    cur = cur.limit(op["limit"])
                if op.get("hint"):
                    cur = cur.hint(op["hint"])
                out.append({"docs": [encode_document(d).hex() for d in await cur]})
        except DocDBError as err:
            out.append({"error": str(err.args[0])})
    return out

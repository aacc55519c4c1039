"""What goes beyond JS hyperbeedeebee (more operators, dotted paths, projections, unique indexes,
watch) and bad input (typed errors naming the problem, nothing half-written)."""

from __future__ import annotations

import asyncio
import re
from typing import Any, cast

import pytest
from bson.decimal128 import Decimal128

from hyperpunch.docdb import (
    DB,
    Collection,
    CorruptEntryError,
    DocDBLocalError,
    DocDBRemoteError,
    DocIndexError,
    DocumentTooLargeError,
    InvalidDocumentError,
    InvalidQueryError,
    InvalidUpdateError,
    UniqueIndexError,
)
from hyperpunch.docdb.query import matches_query, perform_update
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore


async def _db() -> tuple[DB, Hyperbee]:
    bee = Hyperbee(Hypercore(None))
    await bee.ready()
    return DB(bee), bee


async def _filled() -> Collection:
    db, _ = await _db()
    c = db.collection("c")
    for i, (name, tags) in enumerate(
        [("ann", ["a", "b"]), ("bob", ["b"]), ("cy", []), ("dee", ["c", "a", "d"])]
    ):
        await c.insert(
            {"name": name, "i": i, "tags": tags, "addr": {"city": "x" if i % 2 else "y", "zip": i}}
        )
    return c


async def _names(c: Collection, q: dict[str, Any]) -> list[str]:
    return [d["name"] async for d in c.find(q)]


async def test_operators_beyond_js() -> None:
    c = await _filled()
    assert await _names(c, {"i": {"$ne": 1}}) == ["ann", "cy", "dee"]
    assert await _names(c, {"i": {"$nin": [0, 3]}}) == ["bob", "cy"]
    assert await _names(c, {"$or": [{"i": 0}, {"name": "cy"}]}) == ["ann", "cy"]
    assert await _names(c, {"$and": [{"i": {"$gt": 0}}, {"i": {"$lt": 3}}]}) == ["bob", "cy"]
    assert await _names(c, {"$nor": [{"i": 0}, {"i": 1}]}) == ["cy", "dee"]
    assert await _names(c, {"i": {"$not": {"$gte": 2}}}) == ["ann", "bob"]
    assert await _names(c, {"name": {"$regex": "^[ab]"}}) == ["ann", "bob"]
    assert await _names(c, {"name": re.compile("e+$")}) == ["dee"]
    assert await _names(c, {"tags": {"$size": 0}}) == ["cy"]
    assert await _names(c, {"tags": {"$elemMatch": {"$in": ["c", "d"]}}}) == ["dee"]
    assert await _names(c, {"addr.city": "x"}) == ["bob", "dee"]
    assert await _names(c, {"addr.zip": {"$gte": 2}}) == ["cy", "dee"]
    assert await _names(c, {"tags.0": "b"}) == ["bob"]


async def test_projection() -> None:
    c = await _filled()
    d = (await c.find({"name": "ann"}, {"name": 1}))[0]
    assert set(d) == {"name", "_id"}
    d = (await c.find({"name": "ann"}).project({"tags": 0, "addr": 0, "_id": 0}))[0]
    assert set(d) == {"name", "i"}
    with pytest.raises(InvalidQueryError):
        await c.find({}, {"a": 1, "b": 0})


async def test_unique_index() -> None:
    db, bee = await _db()
    c = db.collection("u")
    await c.create_index(["email"], unique=True)
    assert (await c.get_index("email"))["opts"] == {"unique": True}
    await c.insert({"email": "a@x"})
    v = bee.version
    with pytest.raises(UniqueIndexError):
        await c.insert({"email": "a@x"})
    assert bee.version == v  # nothing written
    await c.insert({"email": "b@x"})
    with pytest.raises(UniqueIndexError):
        await c.update({"email": "b@x"}, {"$set": {"email": "a@x"}})
    await c.update({"email": "b@x"}, {"$set": {"n": 1}})  # its own entry is no conflict
    v_coll = db.collection("v")
    await v_coll.insert({"k": 1})
    with pytest.raises(UniqueIndexError):
        await _dup_index(v_coll)  # a unique index over existing duplicates is refused
    assert not await v_coll.index_exists("k")


async def _dup_index(c: Collection) -> None:
    await c.insert({"k": 1})
    await c.create_index(["k"], unique=True)


async def test_watch_reports_document_changes() -> None:
    db, _ = await _db()
    c = db.collection("w")
    await c.create_index(["n"])
    stream = db.watch("w")

    async def next_changes() -> list[tuple[str, Any]]:
        changes = await asyncio.wait_for(stream.__anext__(), 10)
        return [(ch.op, ch.doc["n"] if ch.doc else ch.id) for ch in changes]

    doc = await c.insert({"n": 1})
    assert await next_changes() == [("put", 1)]
    await db.collection("other").insert({"n": 5})  # another collection: no wake-up
    await c.update({"n": 1}, {"$set": {"n": 2}})
    assert await next_changes() == [("put", 2)]
    await c.delete({"_id": doc["_id"]})
    assert await next_changes() == [("del", doc["_id"])]
    await stream.aclose()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (["not", "a", "mapping"], "must be a mapping"),
        ("text", "must be a mapping"),
        ({1: "x"}, "keys must be strings"),
        ({"a": {2: "x"}}, "keys must be strings"),
        ({"a\x00b": 1}, "NUL"),
        ({"a": object()}, "cannot store a object at a"),
        ({"_id": "not-an-objectid"}, "_id must be an ObjectId"),
        ({"big": b"x" * (16 * 1024 * 1024)}, "more than"),
    ],
)
async def test_bad_documents_raise_typed_errors_and_write_nothing(doc: Any, message: str) -> None:
    db, bee = await _db()
    c = db.collection("c")
    await c.create_index(["a"])
    v = bee.version
    with pytest.raises(InvalidDocumentError, match=message) as exc:
        await c.insert(doc)
    assert isinstance(exc.value, DocDBLocalError)
    assert bee.version == v
    with pytest.raises(InvalidDocumentError, match="No Document Supplied"):
        await c.insert(None)


async def test_too_large_is_its_own_error() -> None:
    db, _ = await _db()
    with pytest.raises(DocumentTooLargeError):
        await db.collection("c").insert({"big": b"x" * (16 * 1024 * 1024)})


@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        ({"a": {"$foo": 1}}, InvalidQueryError, "Invalid Query Type \\$foo"),
        ({"a": {"$gt": 0, "plain": 2}}, InvalidQueryError, "Invalid Query Type plain"),
        ({"a": {"$in": 3}}, InvalidQueryError, "\\$in must be set to an array"),
        ({"a": {"$all": "x"}}, InvalidQueryError, "\\$all must be set to an array"),
        ({"a": None}, InvalidQueryError, "Cannot convert undefined or null to object"),
        ({"$or": {"a": 1}}, InvalidQueryError, "\\$or must be set to an array"),
        ({"a": {"$regex": 5}}, InvalidQueryError, "\\$regex"),
    ],
)
async def test_bad_queries_raise_the_js_errors(
    query: dict[str, Any], error: type[Exception], message: str
) -> None:
    db, _ = await _db()
    c = db.collection("c")
    await c.insert({"a": 1})
    with pytest.raises(error, match=message):
        await c.find(query)


async def test_bad_query_shapes_and_sorts() -> None:
    db, _ = await _db()
    c = db.collection("c")
    with pytest.raises(InvalidQueryError, match="must be a mapping"):
        c.find(cast(Any, ["a"]))
    with pytest.raises(InvalidQueryError, match="keys must be strings"):
        c.find(cast(Any, {1: 2}))
    await c.create_index(["a"])
    with pytest.raises(DocIndexError, match="Invalid index"):
        await c.find({}).hint("nope")
    with pytest.raises(DocIndexError, match="Hinted Index doesn't match required sort"):
        await c.find({}).hint("a").sort("b")
    with pytest.raises(DocIndexError):
        await c.create_index([])


async def test_bad_updates() -> None:
    with pytest.raises(InvalidUpdateError, match="Invalid Update Type \\$bogus"):
        perform_update({}, {"$bogus": {"a": 1}})
    with pytest.raises(InvalidUpdateError, match="\\$set must be set to an object"):
        perform_update({}, {"$set": 3})
    with pytest.raises(InvalidUpdateError):
        perform_update({}, 5)
    db, bee = await _db()
    c = db.collection("c")
    await c.insert({"a": 1})
    v = bee.version
    with pytest.raises(InvalidDocumentError, match="_id"):
        await c.update({}, {"$unset": {"_id": ""}})
    assert bee.version == v


async def test_foreign_and_corrupted_entries_are_remote_errors() -> None:
    db, bee = await _db()
    c = db.collection("c")
    await c.create_index(["a"])
    doc = await c.insert({"a": 1})
    await bee.put(b"c\x00doc\x00" + b"\x01" * 12, b"not bson")
    with pytest.raises(CorruptEntryError, match="not valid BSON") as exc:
        await c.find({})
    assert isinstance(exc.value, DocDBRemoteError)
    await bee.delete(b"c\x00doc\x00" + b"\x01" * 12)
    await bee.put(b"c\x00idx\x00a\x00\x82\x01\xff", doc["_id"].binary)
    with pytest.raises(CorruptEntryError, match="index key"):
        await c.find({"a": 1})
    await bee.delete(b"c\x00idx\x00a\x00\x82\x01\xff")
    await bee.put(b"c\x00idxs\x00zz", b"\x05\x00\x00\x00\x00")
    with pytest.raises(CorruptEntryError, match="index metadata"):
        await c.list_indexes()


def test_sans_io_matching_needs_no_bee() -> None:
    assert matches_query({"a": [1, 2]}, {"a": 2})
    assert not matches_query({"a": True}, {"a": 1})  # JS ===: true !== 1
    assert matches_query({"a": "10"}, {"a": {"$gt": 9}})  # JS coerces "10" > 9
    assert not matches_query({}, {"a": {"$lt": 1}})  # undefined < 1 is false
    assert matches_query({"a": None}, {"a": {"$lt": 1}})  # null < 1 is true


async def test_a_write_lands_with_all_its_index_entries_or_not_at_all() -> None:
    db, bee = await _db()
    c = db.collection("c")
    await c.create_index(["a"])
    await c.create_index(["z"])
    v = bee.version
    # BSON stores a Decimal128, but no index key can hold it: the document must not land alone
    with pytest.raises(InvalidDocumentError, match="cannot index"):
        await c.insert({"a": 1, "z": Decimal128("1.5")})
    assert bee.version == v
    assert await c.find().count() == 0
    doc = await c.insert({"a": 1, "z": 2})
    v = bee.version
    with pytest.raises(InvalidDocumentError, match="cannot index"):
        await c.update({}, {"$set": {"z": Decimal128("2.5")}})
    assert bee.version == v
    assert (await c.find_one({"z": 2}))["_id"] == doc["_id"]
    assert len(await c.find({"z": 2}).hint("z")) == 1  # the old index entry is still there

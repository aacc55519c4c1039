"""hyperbeedeebee's own test scenarios (APP-LAYER §3.8), ported: each on a fresh bee."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hyperpunch.docdb import DB, Collection, DuplicateKeyError, NoIndexForSortError, NotFoundError
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore


async def _coll(atomic: bool = True) -> Collection:
    bee = Hyperbee(Hypercore(None))
    await bee.ready()
    return DB(bee, atomic=atomic).collection("example")


def _d(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


@pytest.fixture(params=[True, False], ids=["atomic", "js-grouped"])
def atomic(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def test_insert_and_find_one_by_id(atomic: bool) -> None:
    c = await _coll(atomic)
    assert c.name == "example"
    doc = await c.insert({"example": "Hello World!"})
    assert doc["_id"]
    other = await c.find_one({"_id": doc["_id"]})
    assert other["example"] == "Hello World!"
    assert list(other) == ["example", "_id"]  # an auto _id is the last field, as in JS


async def test_sparse_props() -> None:
    c = await _coll()
    await c.insert({"example": "World"})
    await c.insert({"example": "Hello", "color": "red"})
    assert (await c.find_one({"color": "red"}))["color"] == "red"
    with pytest.raises(NotFoundError, match="not found"):
        await c.find_one({"color": "blue"})


async def test_iterate_in_insertion_order() -> None:
    c = await _coll()
    d1 = await c.insert({"example": "Hello"})
    d2 = await c.insert({"example": "World"})
    assert len(await c.find()) == 2
    assert [d["_id"] async for d in c.find()] == [d1["_id"], d2["_id"]]


async def test_limit_and_skip() -> None:
    c = await _coll()
    for i in range(29, -1, -1):
        await c.insert({"i": i})
    found = await c.find().skip(10).limit(10)
    assert [d["i"] for d in found] == list(range(19, 9, -1))


async def test_search_by_field_equal() -> None:
    c = await _coll()
    d1 = await c.insert({"example": "Hello"})
    d2 = await c.insert({"example": ["Hello", "World"]})
    await c.insert({"example": "World"})
    found = await c.find({"example": "Hello"})
    assert [d["_id"] for d in found] == [d1["_id"], d2["_id"]]


async def test_number_ranges() -> None:
    c = await _coll()
    for n in (4, 20, 666, 9001):
        await c.insert({"example": n})
    assert len(await c.find({"example": {"$gte": 10, "$lte": 20}})) == 1
    assert len(await c.find({"example": {"$gt": 9000}})) == 1
    assert len(await c.find({"example": {"$lt": 10}})) == 1


async def test_date_ranges() -> None:
    c = await _coll()
    for m in (1, 3, 7, 12):
        await c.insert({"example": _d(2000, m)})
    assert len(await c.find({"example": {"$gte": _d(2000, 2), "$lte": _d(2000, 7)}})) == 2


async def test_in_and_all() -> None:
    c = await _coll()
    for v in ([1, 3, 5, 7, 9], [2, 3, 6, 8, 10], 1, 2):
        await c.insert({"example": v})
    assert len(await c.find({"example": {"$in": [1, 3, 8]}})) == 3
    assert len(await c.find({"example": {"$all": [2, 6, 8]}})) == 1


async def test_exists() -> None:
    c = await _coll()
    await c.insert({"example": "wow"})
    await c.insert({"nothing": "here"})
    assert len(await c.find({"example": {"$exists": True}})) == 1
    assert len(await c.find({"example": {"$exists": False}})) == 1


async def test_create_and_list_indexes() -> None:
    c = await _coll()
    await c.insert({"example": 1, "createdAt": datetime.now(UTC)})
    assert await c.create_index(["createdAt", "example"]) == "createdAt,example"
    indexes = await c.list_indexes()
    assert len(indexes) == 1
    assert indexes[0]["fields"] == ["createdAt", "example"]
    assert indexes[0]["name"] == "createdAt,example"
    assert indexes[0]["version"] == "2.0"
    assert await c.index_exists("createdAt,example")
    assert (await c.get_index("createdAt,example"))["name"] == "createdAt,example"
    await c.insert({"example": 2, "createdAt": datetime.now(UTC)})
    assert await c.create_index(["createdAt", "example"]) is None  # same version: a no-op


async def test_sort_by_index_desc() -> None:
    c = await _coll()
    await c.create_index(["createdAt"])
    for n in (1, 2, 3):
        await c.insert({"example": n, "createdAt": datetime.fromtimestamp(n, UTC)})
    got = [(d["example"], d["createdAt"].timestamp()) async for d in c.find().sort("createdAt", -1)]
    assert got == [(3, 3.0), (2, 2.0), (1, 1.0)]


async def test_sort_without_index_throws() -> None:
    c = await _coll()
    with pytest.raises(NoIndexForSortError, match='No indexes found to sort for field "notfound"'):
        await c.find().sort("notfound")


async def test_limit_skip_with_index_sort() -> None:
    c = await _coll()
    await c.create_index(["i"])
    for i in range(29, -1, -1):
        await c.insert({"i": i})
    q = c.find().skip(10).limit(10).sort("i", -1)
    assert await q.plan() is not None
    assert [d["i"] for d in await q] == list(range(19, 9, -1))


async def test_eq_prefix_with_compound_index_and_sort() -> None:
    c = await _coll()
    await c.create_index(["color", "flavor"])
    await c.insert({"example": 1, "color": "red", "flavor": "watermelon"})
    await c.insert({"example": 2, "color": "red", "flavor": "raspberry"})
    await c.insert({"example": 3, "color": "purple", "flavor": "good"})
    q = c.find({"color": "red"})
    plan = await q.plan()
    assert plan is not None and plan.fields == ("color", "flavor") and plan.prefix_fields == ("color",)
    assert len(await q) == 2
    s = q.sort("flavor", -1)
    assert await s.plan() is not None
    sorted_ = await s
    assert [d["flavor"] for d in sorted_] == ["watermelon", "raspberry"]


async def test_arrays_flattened_for_indexes() -> None:
    c = await _coll()
    await c.create_index(["ingredients", "name"])
    await c.insert({"name": "le ghetti du spa", "ingredients": ["noodles", "corn", "sauce"]})
    await c.insert({"name": "cheeseland", "ingredients": ["corn", "cheese", "sauce"]})
    await c.insert({"name": "literally corn", "ingredients": ["corn"]})
    q = c.find({"ingredients": "sauce"}).sort("name")
    plan = await q.plan()
    assert plan is not None and plan.fields == ("ingredients", "name")
    results = await q
    assert [d["name"] for d in results] == ["cheeseland", "le ghetti du spa"]


async def test_indexed_exists() -> None:
    c = await _coll()
    await c.create_index(["example"])
    await c.insert({"example": "wow"})
    await c.insert({"nothing": "here"})
    assert await c.find({"example": {"$exists": True}}).plan() is not None
    assert len(await c.find({"example": {"$exists": True}})) == 1
    assert len(await c.find({"example": {"$exists": False}})) == 1


async def test_indexed_dates_with_sort() -> None:
    c = await _coll()
    await c.create_index(["example"])
    for m in (1, 3, 7, 12):
        await c.insert({"example": _d(2000, m)})
    q = c.find({"example": {"$gte": _d(2000, 2), "$lte": _d(2000, 7)}}).sort("example")
    assert await q.plan() is not None
    assert [d["example"].month for d in await q] == [3, 7]


async def test_indexed_in_all_numbers() -> None:
    c = await _coll()
    await c.create_index(["example"])
    for v in ([1, 3, 5, 7, 9], [2, 3, 6, 8, 10], 1, 2):
        await c.insert({"example": v, "fake": []})
    q1 = c.find({"example": {"$in": [1, 3, 8]}})
    assert await q1.plan() is not None
    assert len(await q1) == 3
    q2 = c.find({"example": {"$all": [2, 6, 8]}})
    assert await q2.plan() is not None
    assert len(await q2) == 1


async def test_indexed_in_all_strings() -> None:
    c = await _coll()
    await c.create_index(["example"])
    await c.insert({"example": ["cats", "frogs", "pets", "spiders", "furry"]})
    await c.insert({"example": ["dogs", "frogs", "companions", "bats"]})
    await c.insert({"example": "cats"})
    await c.insert({"example": "dogs"})
    assert len(await c.find({"example": {"$in": ["cats", "frogs", "bats"]}})) == 3
    assert len(await c.find({"example": {"$all": ["dogs", "companions", "bats"]}})) == 1


async def test_all_with_compound_index() -> None:
    c = await _coll()
    await c.create_index(["index", "example"])
    await c.insert({"index": 1, "example": ["hello", "world"]})
    await c.insert({"index": 2, "example": ["goodbye", "world"]})
    assert len(await c.find({"example": {"$all": ["world"]}})) == 2


async def test_hint() -> None:
    c = await _coll()
    await c.create_index(["example"])
    await c.create_index(["createdAt"])
    await c.insert({"example": "wow", "createdAt": datetime.now(UTC)})
    await c.insert({"example": "here", "createdAt": datetime.now(UTC)})
    p1 = await c.find({}).hint("example").plan()
    assert p1 is not None and p1.name == "example"
    p2 = await c.find({}).sort("createdAt").hint("createdAt").plan()
    assert p2 is not None and p2.name == "createdAt"
    assert len(await c.find({}).hint("example")) == 2


async def test_duplicate_insert_throws() -> None:
    c = await _coll()
    doc = await c.insert({"_hello": "world"})
    with pytest.raises(DuplicateKeyError, match="Duplicate Key error"):
        await c.insert(doc)


async def test_upsert() -> None:
    c = await _coll()
    r = await c.update({}, {"hello": "world"}, upsert=True)
    assert (r.n_upserted, r.n_matched, r.n_modified) == (1, 0, 0)
    assert (await c.find_one({"hello": "world"}))["hello"] == "world"


async def test_update_set_unset_rename(atomic: bool) -> None:
    c = await _coll(atomic)
    doc = await c.insert({"foo": "bar", "goodbye": "world", "something": "something"})
    r = await c.update(
        {},
        {
            "$set": {"foo": "bazz", "fizz": "buzz"},
            "hello": "world",
            "$unset": {"goodbye": ""},
            "$rename": {"something": "whatever"},
        },
    )
    assert (r.n_upserted, r.n_matched, r.n_modified) == (0, 1, 1)
    u = await c.find_one({"_id": doc["_id"]})
    assert u["foo"] == "bazz" and u["fizz"] == "buzz" and u["hello"] == "world"
    assert "goodbye" not in u and "something" not in u and u["whatever"] == "something"


async def test_update_inc_mul() -> None:
    c = await _coll()
    doc = await c.insert({"incValue": 4, "multValue": 4})
    r = await c.update(
        {}, {"$inc": {"incValue": 20, "incSet": 666}, "$mul": {"multValue": 20, "multSet": 666}}
    )
    assert (r.n_upserted, r.n_matched, r.n_modified) == (0, 1, 1)
    u = await c.find_one({"_id": doc["_id"]})
    assert (u["incValue"], u["incSet"], u["multValue"], u["multSet"]) == (24, 666, 80, 0)


async def test_update_push_add_to_set() -> None:
    c = await _coll()
    ab = ["a", "b"]
    doc = await c.insert(
        {
            k: list(ab)
            for k in ("existingSet", "duplicateSet", "eachSet", "existingPush", "duplicatePush", "eachPush")
        }
    )
    await c.update(
        {},
        {
            "$addToSet": {"existingSet": "c", "duplicateSet": "a", "eachSet": {"$each": ["b", "c"]}},
            "$push": {"existingPush": "c", "duplicatePush": "a", "eachPush": {"$each": ["b", "c"]}},
        },
    )
    u = await c.find_one({"_id": doc["_id"]})
    assert u["existingSet"] == ["a", "b", "c"]
    assert u["duplicateSet"] == ["a", "b"]
    assert u["eachSet"] == ["a", "b", "c"]
    assert u["existingPush"] == ["a", "b", "c"]
    assert u["duplicatePush"] == ["a", "b", "a"]
    assert u["eachPush"] == ["a", "b", "b", "c"]


async def test_update_multi(atomic: bool) -> None:
    c = await _coll(atomic)
    await c.create_index(["value"])
    for _ in range(4):
        await c.insert({"value": 0})
    r = await c.update({}, {"$inc": {"value": 1}}, multi=True)
    assert (r.n_upserted, r.n_matched, r.n_modified) == (0, 4, 4)
    assert [d["value"] async for d in c.find()] == [1, 1, 1, 1]
    assert len(await c.find({"value": 1})) == 4
    assert len(await c.find({"value": 0})) == 0


async def test_update_array_of_updates() -> None:
    c = await _coll()
    await c.insert({"value": 0})
    r = await c.update({}, [{"$inc": {"value": 1}}, {"$rename": {"value": "something"}}])
    assert (r.n_upserted, r.n_matched, r.n_modified) == (0, 1, 1)
    assert (await c.find_one())["something"] == 1


async def test_delete(atomic: bool) -> None:
    c = await _coll(atomic)
    await c.create_index(["n"])
    for n in range(5):
        await c.insert({"n": n})
    assert (await c.delete({"n": {"$gte": 3}})).n_deleted == 1
    assert (await c.delete({"n": {"$gte": 2}}, multi=True)).n_deleted == 2
    assert [d["n"] async for d in c.find().sort("n")] == [0, 1]
    assert await c.find().count() == 2

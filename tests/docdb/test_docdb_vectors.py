"""hyperpunch.docdb against the committed hyperbeedeebee reference vectors (interop/vectors/docdb.js)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hyperpunch.docdb import DB, ObjectId
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore
from refvectors import section

V = section("docdb")


def untag(v: Any) -> Any:
    if isinstance(v, list):
        return [untag(x) for x in v]
    if isinstance(v, dict):
        if "$date" in v:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=v["$date"])
        if "$bin" in v:
            return bytes.fromhex(v["$bin"])
        if "$oid" in v:
            return ObjectId(v["$oid"])
        return {k: untag(x) for k, x in v.items()}
    return v


@pytest.mark.parametrize("atomic", [False, True], ids=["js-grouped", "atomic"])
async def test_entries_and_blocks_match_js(atomic: bool) -> None:
    core = Hypercore(None)
    bee = Hyperbee(core)
    await bee.ready()
    todo = DB(bee, atomic=atomic).collection("todo")
    docs, indexes = V["docs"], V["indexes"]
    await todo.create_index(indexes[0])
    await todo.create_index(indexes[1])
    for d in docs[:3]:
        await todo.insert(untag(d))
    for fields in indexes[2:]:
        await todo.create_index(fields)
    for d in docs[3:]:
        await todo.insert(untag(d))
    await todo.update(V["update"]["query"], V["update"]["update"])
    entries = [{"key": bytes(e.key).hex(), "value": bytes(e.value).hex()} async for e in bee.range()]
    assert entries == V["entries"]
    if not atomic:
        assert [(await core.get(i)).hex() for i in range(core.length)] == V["blocks"]

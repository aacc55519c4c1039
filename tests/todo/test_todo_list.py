"""Python peers of one list on a loopback DHT local_dht: joining and being added through the
writer-exchange channel, both seeing the same todos, concurrent edits converging, hostile nodes
skipped by everyone alike, and a restart from the same storage keeping the key and the todos."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from todo_net import WAIT, list_peer, local_dht, same_todos, until

from hyperpunch.corestore import Corestore
from hyperpunch.docdb.multiwriter import encode_op
from hyperpunch.todo import PREFIX, TodoError, TodoList, ops


async def joined(a: TodoList, b: TodoList) -> None:
    await asyncio.wait_for(b.wait_writable(), WAIT)
    assert b.writable and b.local_key in a.base.members


async def test_join_add_and_see_the_same_todos(tmp_path: Path) -> None:
    async with local_dht() as boot, list_peer(boot, tmp_path / "a") as a:
        assert a.writable and a.key == a.local_key
        milk = await a.add("  milk ")
        async with list_peer(boot, tmp_path / "b", a.key) as b:
            assert b.key == a.key and b.discovery_key == a.discovery_key and not b.writable
            with pytest.raises(TodoError) as info:
                await b.add("too early")
            assert info.value.code == "NOT_WRITABLE"
            await joined(a, b)
            eggs = await b.add("eggs")
            await a.set_done(milk, True)
            todos = await same_todos(a, b)
            assert [(t.id, t.text, t.done) for t in todos] == sorted(
                [(milk, "milk", True), (eggs, "eggs", False)]
            )
            # a unique id prefix names a todo; an unknown id is NOT_FOUND
            await b.remove(milk)
            await b.edit(eggs[:8], "brown eggs")
            assert [(t.text, t.done) for t in await same_todos(a, b)] == [("brown eggs", False)]
            with pytest.raises(TodoError) as info:
                await a.remove(milk)
            assert info.value.code == "NOT_FOUND"
            for bad, code in (("", "EMPTY_TEXT"), ("x" * 4097, "TEXT_TOO_LONG")):
                with pytest.raises(TodoError) as info:
                    await a.add(bad)
                assert info.value.code == code
            await a.set_done(eggs, True)
            await same_todos(a, b)
            assert await b.clear_completed() == 1
            assert await same_todos(a, b) == []


async def test_concurrent_edits_converge(tmp_path: Path) -> None:
    async with (
        local_dht() as boot,
        list_peer(boot, tmp_path / "a") as a,
        list_peer(boot, tmp_path / "b", a.key) as b,
        list_peer(boot, tmp_path / "c", a.key) as c,
    ):
        await joined(a, b)
        await joined(a, c)
        tid = await a.add("bread")
        await same_todos(a, b, c)
        # three writers edit the same todo before seeing each other's edit
        await asyncio.gather(b.edit(tid, "from b"), c.edit(tid, "from c"), a.set_done(tid, True))
        assert b.base.local is not None and c.base.local is not None and a.base.local is not None
        lengths = {t.local_key: t.base.local.length for t in (a, b, c) if t.base.local is not None}

        async def settled() -> bool:
            # everyone has read every writer's last node and the three views are equal
            for t in (a, b, c):
                for k, n in lengths.items():
                    if k != t.local_key and (await t.store.get(key=k)).length < n:
                        return False
            views = [await t.todos() for t in (a, b, c)]
            return views[0] == views[1] == views[2]

        await until([a, b, c], settled)
        (todo,) = await a.todos()
        assert todo.text in ("from b", "from c")
        assert todo.done in (True, False)
        assert await b.todos() == await c.todos() == [todo]


async def test_hostile_nodes_are_skipped_alike(tmp_path: Path) -> None:
    oid = bytes.fromhex("65f1a2b3c4d5e6f708090a0b")
    hostile = [
        b"garbage",
        encode_op("drop", oid, None, PREFIX),
        encode_op("put", oid, ops.encode_todo(oid, "x" * (1 << 20), False), PREFIX),  # a 1 MiB todo
        encode_op("put", oid, b"not bson", PREFIX),
        encode_op("put", oid, ops.encode_todo(oid, "elsewhere", False), b"user\x00doc\x00"),
        ops.writer_op(bytes(31)),
    ]
    async with (
        local_dht() as boot,
        list_peer(boot, tmp_path / "a") as a,
        list_peer(boot, tmp_path / "b", a.key) as b,
    ):
        await joined(a, b)
        before = await a.add("before")
        for value in hostile:
            await b.append_raw(value)
        after = await b.add("after")
        again = await a.add("again")
        todos = await same_todos(a, b)
        assert [t.id for t in todos] == sorted([before, after, again])
        # the view holds the todos and nothing else
        assert [bytes(e.key) async for e in a.base.view.range()] == [
            PREFIX + bytes.fromhex(t.id) for t in todos
        ]


async def test_restart_keeps_key_and_todos(tmp_path: Path) -> None:
    async with local_dht() as boot:
        async with list_peer(boot, tmp_path / "a") as a:
            key = a.key
            first = await a.add("first")
            async with list_peer(boot, tmp_path / "b", key) as b:
                await joined(a, b)
                second = await b.add("second")
                await same_todos(a, b)
                await asyncio.wait_for(b.flushed(), WAIT)
        # both reopen from their storage alone (no network): same key, same todos, still writable
        for path, peer_key in ((tmp_path / "a", None), (tmp_path / "b", key)):
            async with Corestore(path) as store, TodoList(store, peer_key) as again:
                assert again.key == key and again.writable
                assert sorted(t.id for t in await again.todos()) == sorted([first, second])
                third = await again.add("third")
                assert third in [t.id for t in await again.todos()]

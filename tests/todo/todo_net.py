"""Helpers of the todo tests: a loopback DHT local_dht, Python list peers on it, waiting for state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from hyperpunch.corestore import Corestore
from hyperpunch.dht import HyperDHT
from hyperpunch.swarm import Hyperswarm
from hyperpunch.todo import Todo, TodoList

HOST = "127.0.0.1"
WAIT = 60.0  # seconds any one condition may take on a loaded 2-core machine


@contextlib.asynccontextmanager
async def local_dht(size: int = 4) -> AsyncIterator[list[str]]:
    """A bootstrapper plus ``size - 1`` persistent nodes on 127.0.0.1; yields the bootstrap list."""
    boot = HyperDHT.bootstrapper(0, HOST, bind_host=HOST)
    nodes = [boot]
    try:
        await boot.ready()
        addr = boot.server_address()
        assert addr is not None
        bootstrap = [f"{HOST}:{addr.port}"]
        more = [HyperDHT(bootstrap=bootstrap, host=HOST, ephemeral=False) for _ in range(size - 1)]
        nodes.extend(more)
        await asyncio.gather(*(n.ready() for n in more))
        yield bootstrap
    finally:
        for n in reversed(nodes):
            await n.aclose()


@contextlib.asynccontextmanager
async def list_peer(bootstrap: list[str], storage: Path, key: bytes | None = None) -> AsyncIterator[TodoList]:
    """A Python peer of list ``key`` (a new list when None) on the local_dht, stored at ``storage``."""
    async with (
        Corestore(storage) as store,
        Hyperswarm(bootstrap=bootstrap, host=HOST) as swarm,
        TodoList(store, key, swarm=swarm) as todos,
    ):
        await asyncio.wait_for(todos.announced(), WAIT)
        yield todos


async def until(
    lists: Sequence[TodoList], cond: Callable[[], Awaitable[bool]], timeout: float = WAIT
) -> None:
    """Until ``cond()`` holds, checked whenever one of ``lists`` changes."""
    wake = asyncio.Event()

    async def follow(todos: TodoList) -> None:
        async for _ in todos.changes():
            wake.set()

    tasks = [asyncio.ensure_future(follow(t)) for t in lists]
    try:
        async with asyncio.timeout(timeout):
            while True:
                wake.clear()  # before looking: a change while cond() runs is not lost
                if await cond():
                    return
                await wake.wait()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def same_todos(*lists: TodoList) -> list[Todo]:
    """Until every list shows the same todos; returns them."""
    result: list[Todo] = []

    async def same() -> bool:
        nonlocal result
        views = [await t.todos() for t in lists]
        result = views[0]
        return all(v == views[0] for v in views)

    await until(lists, same)
    return result

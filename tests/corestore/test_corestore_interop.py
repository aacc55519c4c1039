"""Corestore replication JS corestore 7.12.5 <-> hyperpunch: 50 cores over one secret stream (TCP).

The JS peer is interop/scripts/corestore-peer.js; cores on both sides are written, closed (kept
only in storage) and then requested by the other side, so each side must open stored cores on the
remote's request (JS ``_attachMaybe`` / hyperpunch ``Corestore._attach_maybe``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cs_helpers import block, eventually

from hyperpunch.corestore import Corestore
from hyperpunch.protomux import Protomux
from hyperpunch.secretstream import SecretStream, serve
from jsref import spawn_node

N_CORES = 50
N_BLOCKS = 3


async def _fill(store: Corestore, n: int, prefix: str = "core-") -> list[str]:
    keys: list[str] = []
    for c in range(n):
        core = await store.get(name=f"{prefix}{c}")
        await core.append([block(c, i) for i in range(N_BLOCKS)])
        assert core.key is not None
        keys.append(core.key.hex())
        await core.aclose()
    return keys


async def _read(store: Corestore, keys: list[str]) -> None:
    cores = [await store.get(k) for k in keys]

    async def one(c: int) -> None:
        for i in range(N_BLOCKS):
            assert await cores[c].get(i, timeout=30) == block(c, i)

    await asyncio.wait_for(asyncio.gather(*(one(c) for c in range(len(cores)))), 90)
    assert all(c.length == N_BLOCKS and not c.writable for c in cores)
    for core in cores:
        await core.aclose()


async def test_js_writer_python_reader(tmp_path: Path) -> None:
    async with spawn_node("corestore-peer.js", json.dumps({"listen": True})) as js:
        port = (await js.expect("ready"))["port"]
        await js.send({"cmd": "fill", "cores": N_CORES, "blocks": N_BLOCKS})
        keys = (await js.expect("filled"))["keys"]
        assert len(set(keys)) == N_CORES
        async with Corestore(tmp_path / "py") as store:
            stream = await SecretStream.connect("127.0.0.1", port)
            mux = store.replicate(stream)
            await _read(store, keys)
            assert sum(1 for _ in mux) == N_CORES  # every core on the one connection
            assert len(store.list()) == N_CORES
            await mux.aclose()
        await js.send({"cmd": "exit"})
        assert await js.wait() == 0


async def test_python_writer_js_reader(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "py") as store:
        keys = await _fill(store, N_CORES)
        assert not list(store.opened_cores())  # only in storage now
        muxes: list[Protomux] = []

        async def handler(stream: SecretStream) -> None:
            muxes.append(store.replicate(stream))
            await stream.wait_closed()

        server = await serve(handler, "127.0.0.1", 0)
        async with server, spawn_node("corestore-peer.js", "{}") as js:
            await js.expect("ready")
            await js.send({"cmd": "connect", "port": server.port})
            await js.expect("connected")
            await js.send({"cmd": "read", "keys": keys, "blocks": N_BLOCKS})
            res = await js.expect("read", timeout=120)
            assert res["ok"] is True
            assert res["lengths"] == [N_BLOCKS] * N_CORES
            assert res["writable"] is False
            assert len(muxes) == 1
            await js.send({"cmd": "exit"})
            assert await js.wait() == 0
            await eventually(lambda: muxes[0].closed)


async def test_both_directions_one_connection(tmp_path: Path) -> None:
    async with spawn_node("corestore-peer.js", json.dumps({"listen": True})) as js:
        port = (await js.expect("ready"))["port"]
        await js.send({"cmd": "fill", "cores": N_CORES, "blocks": N_BLOCKS, "prefix": "js-"})
        js_keys = (await js.expect("filled"))["keys"]
        async with Corestore(tmp_path / "py") as store:
            py_keys = await _fill(store, N_CORES, "py-")
            stream = await SecretStream.connect("127.0.0.1", port)
            mux = store.replicate(stream)
            # JS reads ours while we read theirs, on the same stream
            await js.send({"cmd": "read", "keys": py_keys, "blocks": N_BLOCKS})
            await _read(store, js_keys)
            res = await js.expect("read", timeout=120)
            assert res["ok"] is True and res["lengths"] == [N_BLOCKS] * N_CORES
            # live: a JS append to a core we follow arrives over the same connection
            follow = await store.get(js_keys[0])
            appended: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            follow.on("append", lambda: None if appended.done() else appended.set_result(follow.length))
            await js.send({"cmd": "append", "name": "js-0", "text": "late"})
            assert (await js.expect("appended"))["key"] == js_keys[0]
            assert await asyncio.wait_for(appended, 30) == N_BLOCKS + 1
            assert await follow.get(N_BLOCKS, timeout=30) == b"late"
            assert len(store.list()) == 2 * N_CORES
            await js.send({"cmd": "list"})
            js_list = (await js.expect("list"))["discoveryKeys"]
            assert len(js_list) == 2 * N_CORES
            assert sorted(dk.hex() for dk in store.list()) == js_list
            await mux.aclose()
        await js.send({"cmd": "exit"})
        assert await js.wait() == 0

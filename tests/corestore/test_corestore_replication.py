"""Corestore replication hyperpunch <-> hyperpunch: many cores over one secret stream."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cs_helpers import block, eventually, tcp_streams

from hyperpunch.corestore import Corestore
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.protomux import Protomux

N_CORES = 50
N_BLOCKS = 3


async def _fill(store: Corestore, n_cores: int) -> list[bytes]:
    keys: list[bytes] = []
    for c in range(n_cores):
        core = await store.get(name=f"core-{c}")
        await core.append([block(c, i) for i in range(N_BLOCKS)])
        assert core.key is not None
        keys.append(core.key)
        await core.aclose()
    return keys


async def _read_all(store: Corestore, keys: list[bytes]) -> list[Hypercore]:
    cores = [await store.get(k) for k in keys]

    async def one(c: int, core: Hypercore) -> None:
        for i in range(N_BLOCKS):
            assert await core.get(i, timeout=30) == block(c, i)

    await asyncio.wait_for(asyncio.gather(*(one(c, core) for c, core in enumerate(cores))), 60)
    return cores


def _channels(mux: Protomux) -> int:
    return sum(1 for _ in mux)


async def test_many_cores_one_connection(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "a") as writer, Corestore(tmp_path / "b") as reader:
        keys = await _fill(writer, N_CORES)  # all closed again: the writer opens them on demand
        assert len(writer.list()) == N_CORES
        async with tcp_streams() as (s1, s2):
            mux_w = writer.replicate(s1)
            mux_r = reader.replicate(s2)
            cores = await _read_all(reader, keys)
            assert all(c.length == N_BLOCKS and not c.writable for c in cores)
            # one channel per core on one stream each side
            assert _channels(mux_r) == N_CORES
            await eventually(lambda: _channels(mux_w) == N_CORES)
            # live: a new block on an open core reaches the reader over the same connection
            w0 = await writer.get(name="core-0")
            got: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            cores[0].on("append", lambda: None if got.done() else got.set_result(cores[0].length))
            await w0.append(b"late")
            assert await asyncio.wait_for(got, 20) == N_BLOCKS + 1
            assert await cores[0].get(N_BLOCKS, timeout=20) == b"late"
            # a core created after replication started joins the same connection
            fresh = await writer.get(name="fresh")
            await fresh.append(b"new core")
            assert fresh.key is not None
            rf = await reader.get(fresh.key)
            assert await rf.get(0, timeout=20) == b"new core"
            await mux_w.aclose()
            await mux_r.aclose()
    # the reader's copies persisted
    async with Corestore(tmp_path / "b") as reader:
        assert len(reader.list()) == N_CORES + 1
        c = await reader.get(keys[7])
        assert await c.get(2, wait=False) == block(7, 2)


async def test_unknown_core_is_rejected(tmp_path: Path) -> None:
    async with Corestore(None) as a, Corestore(None) as b, tcp_streams() as (s1, s2):
        a.replicate(s1)
        b.replicate(s2)
        # b asks for a core a never had: a rejects the channel, b's request waits, then times out
        other = await b.get(b"\x42" * 32)
        assert await other.update() is False
        assert other.length == 0
        # both ends still replicate other cores on the same stream
        wa = await a.get(name="x")
        await wa.append(b"ok")
        assert wa.key is not None
        rb = await b.get(wa.key)
        assert await rb.get(0, timeout=20) == b"ok"


async def test_get_waiting_before_any_stream(tmp_path: Path) -> None:
    """A block asked for before the store has any connection arrives once one exists."""
    async with Corestore(tmp_path / "a") as writer, Corestore(tmp_path / "b") as reader:
        w = await writer.get(name="w")
        await w.append(b"first")
        assert w.key is not None
        r = await reader.get(w.key)
        pending = asyncio.ensure_future(r.get(0))
        live = r.read_stream(live=True)
        first_live = asyncio.ensure_future(live.__anext__())
        await asyncio.sleep(0.05)
        assert not pending.done()
        async with tcp_streams() as (s1, s2):
            writer.replicate(s1)
            reader.replicate(s2)
            assert await asyncio.wait_for(pending, 20) == b"first"
            assert await asyncio.wait_for(first_live, 20) == b"first"
            await w.append(b"second")
            assert await asyncio.wait_for(live.__anext__(), 20) == b"second"


async def test_replicate_before_handshake(tmp_path: Path) -> None:
    """A stream handed over before its Noise handshake is done starts replicating once it is."""
    from hyperpunch.secretstream import SecretStream, serve

    async with Corestore(None) as writer, Corestore(None) as reader:
        w = await writer.get(name="w")
        await w.append(b"after handshake")
        assert w.key is not None
        r = await reader.get(w.key)

        async def handler(stream: SecretStream) -> None:
            writer.replicate(stream)
            await stream.wait_closed()

        async with await serve(handler, "127.0.0.1", 0) as server:
            client = SecretStream(True)
            await asyncio.get_running_loop().create_connection(
                lambda: client.protocol, "127.0.0.1", server.port
            )
            assert client.handshake_hash is None
            mux = reader.replicate(client)
            assert await r.get(0, timeout=20) == b"after handshake"
            await mux.aclose()

"""Hypercore replicated over Hyperswarm on a local DHT (127.0.0.1), hyperpunch <-> JS hypercore 11.37.1.

Full downloads then live tails both ways, sparse downloads between two readers' partial copies,
and readers following a writer's truncation onto a new fork.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from core_helpers import JsPeer, block, digest, eventually, expected_digest, js_peer, local_dht, py_peer

from hyperpunch.hypercore import Hypercore

N = 10_000
LIVE = 50


async def _tail(core: Hypercore, start: int, count: int) -> list[bytes]:
    got: list[bytes] = []
    async for b in core.read_stream(start, live=True):
        got.append(bytes(b))
        if len(got) == count:
            break
    return got


async def test_py_writer_js_reader_full_then_live(tmp_path: Path) -> None:
    async with local_dht() as bs, py_peer(bs, tmp_path / "w") as writer:
        await writer.append([block(i) for i in range(N)])
        assert writer.key is not None
        async with js_peer(bs, writer.key) as (js, _):
            await js.call({"cmd": "download", "start": 0, "end": N}, "downloaded", timeout=120)
            got = await js.call({"cmd": "digest", "start": 0, "end": N}, "digest")
            assert got["sha256"] == expected_digest([block(i) for i in range(N)])
            assert (await js.call({"cmd": "info"}, "info"))["length"] == N

            await js.proc.send({"cmd": "tail", "start": N})
            for i in range(N, N + LIVE):  # appended one by one while the reader follows
                await writer.append(block(i))
            tail = [await js.expect("block") for _ in range(LIVE)]
            assert [(t["index"], t["text"]) for t in tail] == [
                (i, block(i).decode()) for i in range(N, N + LIVE)
            ]


async def test_js_writer_py_reader_full_then_live(tmp_path: Path) -> None:
    async with local_dht() as bs, js_peer(bs, flushed=True) as (js, ready):
        await js.call({"cmd": "append", "start": 0, "count": N}, "appended")
        key = bytes.fromhex(ready["key"])
        async with py_peer(bs, tmp_path / "r", key) as reader:
            await asyncio.wait_for(reader.download(0, N).done(), 120)
            assert reader.length == N
            assert await reader.has(0, N)
            assert await digest(reader, 0, N) == expected_digest([block(i) for i in range(N)])
            want = (await js.call({"cmd": "digest", "start": 0, "end": N}, "digest"))["sha256"]
            assert await digest(reader, 0, N) == want

            tail = asyncio.ensure_future(_tail(reader, N, LIVE))
            for i in range(N, N + LIVE, 5):
                await js.call({"cmd": "append", "start": i, "count": 5}, "appended")
            got = await asyncio.wait_for(tail, 60)
            assert got == [block(i) for i in range(N, N + LIVE)]


async def test_sparse_readers_complete_each_other(tmp_path: Path) -> None:
    """A JS and a hyperpunch reader each fetch half from the writer; once the writer is gone each
    completes its copy from the other's partial one."""
    n = 2_000
    async with local_dht() as bs, contextlib.AsyncExitStack() as writer_stack:
        writer = await writer_stack.enter_async_context(py_peer(bs, tmp_path / "w"))
        await writer.append([block(i) for i in range(n)])
        assert writer.key is not None
        key = writer.key
        async with js_peer(bs, key) as (js, _):
            # the JS reader has announced itself before the hyperpunch one looks the topic up, so
            # they find each other (two peers joining at once may miss each other until a refresh)
            await js.expect("flushed")
            async with py_peer(bs, tmp_path / "r", key) as reader:
                await eventually(lambda: len(reader.peers) == 2, what="the reader's two peers")
                await _sparse_rest(writer_stack, writer, js, reader, n)


async def _sparse_rest(
    writer_stack: contextlib.AsyncExitStack, writer: Hypercore, js: JsPeer, reader: Hypercore, n: int
) -> None:
    half = n // 2
    await js.call({"cmd": "download", "start": 0, "end": half}, "downloaded", timeout=120)
    await asyncio.wait_for(reader.download(half, n).done(), 120)
    assert not await reader.has(0, half) and await reader.has(half, n)
    assert (await js.call({"cmd": "has", "start": half, "end": n}, "has"))["all"] is False

    await writer_stack.aclose()  # the only full copy leaves
    assert writer.closed

    await asyncio.wait_for(reader.download(0, half).done(), 120)
    await js.call({"cmd": "download", "start": half, "end": n}, "downloaded", timeout=120)
    want = expected_digest([block(i) for i in range(n)])
    assert await digest(reader, 0, n) == want
    assert (await js.call({"cmd": "digest", "start": 0, "end": n}, "digest"))["sha256"] == want


async def test_truncate_readers_follow_new_fork(tmp_path: Path) -> None:
    """A hyperpunch writer truncates and appends other blocks: a live JS reader and a live
    hyperpunch reader both move to the new fork with the new contents."""
    n, cut = 300, 200
    new = [f"fork1 {i}".encode() for i in range(cut, cut + 150)]
    async with local_dht() as bs, py_peer(bs, tmp_path / "w") as writer:
        await writer.append([block(i) for i in range(n)])
        assert writer.key is not None
        key = writer.key
        async with js_peer(bs, key) as (js, _), py_peer(bs, tmp_path / "r", key) as reader:
            await js.call({"cmd": "download", "start": 0, "end": n}, "downloaded", timeout=120)
            await asyncio.wait_for(reader.download(0, n).done(), 120)
            await js.proc.send({"cmd": "tail", "start": n})

            await writer.truncate(cut)
            assert writer.fork == 1
            await writer.append(new)
            final = cut + len(new)

            await eventually(lambda: reader.fork == 1 and reader.length == final, what="py reader fork")
            await asyncio.wait_for(reader.download(0, final).done(), 60)
            want = expected_digest([block(i) for i in range(cut)] + new)
            assert await digest(reader, 0, final) == want

            # the JS tail re-reads from the truncation point on the new fork
            seen: dict[int, str] = {}
            while len(seen) < final - cut or any(i not in seen for i in range(cut, final)):
                ev = await js.expect("block")
                if ev["fork"] == 1:
                    seen[ev["index"]] = ev["text"]
            assert [seen[i] for i in range(cut, final)] == [b.decode() for b in new]
            info = await js.call({"cmd": "info"}, "info")
            assert (info["fork"], info["length"]) == (1, final)
            got = await js.call({"cmd": "digest", "start": 0, "end": final}, "digest")
            assert got["sha256"] == want


async def test_js_writer_truncates_py_reader_follows(tmp_path: Path) -> None:
    n, cut = 300, 120
    async with local_dht() as bs, js_peer(bs, flushed=True) as (js, ready):
        await js.call({"cmd": "append", "start": 0, "count": n}, "appended")
        key = bytes.fromhex(ready["key"])
        async with py_peer(bs, tmp_path / "r", key) as reader:
            await asyncio.wait_for(reader.download(0, n).done(), 120)
            got = await js.call({"cmd": "truncate", "length": cut}, "truncated")
            assert (got["length"], got["fork"]) == (cut, 1)
            texts = [f"new {i}" for i in range(cut, cut + 40)]
            await js.call({"cmd": "append-texts", "texts": texts}, "appended")
            final = cut + len(texts)
            await eventually(lambda: reader.fork == 1 and reader.length == final, what="py reader fork")
            await asyncio.wait_for(reader.download(0, final).done(), 60)
            want = (await js.call({"cmd": "digest", "start": 0, "end": final}, "digest"))["sha256"]
            assert await digest(reader, 0, final) == want
            assert want == expected_digest([block(i) for i in range(cut)] + [t.encode() for t in texts])

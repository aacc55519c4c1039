"""Hypercore replication interop: JS hypercore 11.37.1 (interop/scripts/hypercore-repl-peer.js, on disk
in a tmp dir) over @hyperswarm/secret-stream over TCP 127.0.0.1 <-> hyperpunch.

JS writer -> Python reader and Python writer -> JS reader (10 000 blocks, then a live tail), a sparse
get from JS, and forks both ways (the writer truncates and appends; the reader reorgs).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest
from repl_helpers import block, eventually, tcp_link, writer_with

from hyperpunch.hypercore.replication import replicate
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.secretstream import SecretStream, serve
from jsref import NodeProcess, spawn_node

pytestmark = pytest.mark.interop

N = 10_000
SCRIPT = "hypercore-repl-peer.js"


async def expect(node: NodeProcess, event: str, timeout: float = 60) -> dict[str, Any]:
    """The next event named ``event`` (skipping ``connected`` / ``append`` notifications)."""
    while True:
        msg = await node.recv(timeout)
        if msg["event"] == event:
            return msg
        if msg["event"] not in ("connected", "append"):
            raise AssertionError(f"expected {event}, got {msg}\n{node.stderr}")


async def js_info(node: NodeProcess) -> dict[str, Any]:
    await node.send({"cmd": "info"})
    return await expect(node, "info")


async def test_js_writer_python_reader_full_then_live() -> None:
    async with spawn_node(SCRIPT, json.dumps({"listen": True})) as node:
        ready = await expect(node, "ready")
        await node.send({"cmd": "append", "start": 0, "count": N})
        assert (await expect(node, "appended"))["length"] == N
        reader = Hypercore(None, bytes.fromhex(ready["key"]))
        await reader.ready()
        assert reader.discovery_key is not None and reader.discovery_key.hex() == ready["discoveryKey"]
        stream = await SecretStream.connect("127.0.0.1", ready["port"])
        mux = replicate(reader, stream)
        try:
            await asyncio.wait_for(reader.update(), 20)
            assert reader.length == N
            await asyncio.wait_for(reader.download(0, N).done(), 120)
            for i in range(N):
                assert await reader.get(i, wait=False) == block(i)
            # live tail: JS appends, the Python reader follows
            got: list[bytes] = []

            async def tail() -> None:
                async for value in reader.read_stream(N, live=True):
                    got.append(value)
                    if len(got) == 30:
                        return

            task = asyncio.create_task(tail())
            for start in (N, N + 10, N + 20):
                await node.send({"cmd": "append", "start": start, "count": 10})
                await expect(node, "appended")
            await asyncio.wait_for(task, 30)
            assert got == [block(i) for i in range(N, N + 30)]
            assert reader.length == N + 30
            assert reader.signature is not None
        finally:
            await mux.aclose()
            await reader.aclose()


async def test_python_writer_js_reader_full_then_live() -> None:
    writer = await writer_with(N)
    streams: list[SecretStream] = []

    async def handler(stream: SecretStream) -> None:
        streams.append(stream)
        replicate(writer, stream)
        await stream.wait_closed()

    server = await serve(handler, "127.0.0.1", 0)
    assert writer.key is not None
    async with server, spawn_node(SCRIPT, json.dumps({"port": server.port, "key": writer.key.hex()})) as node:
        await expect(node, "ready")
        await node.send({"cmd": "update"})
        updated = await expect(node, "updated")
        assert updated["length"] == N
        await node.send({"cmd": "download", "start": 0, "end": N})
        await expect(node, "downloaded", 120)
        await node.send({"cmd": "digest", "start": 0, "end": N})
        digest = await expect(node, "digest")
        assert digest["sha256"] == hashlib.sha256(b"".join(block(i) for i in range(N))).hexdigest()
        # live tail: Python appends, JS follows
        await node.send({"cmd": "live"})
        await node.send({"cmd": "ping", "id": 1})
        await expect(node, "pong")
        for start in (N, N + 10):
            await writer.append([block(i) for i in range(start, start + 10)])
        await node.send({"cmd": "get", "index": N + 19})
        got = await expect(node, "block", 30)
        assert bytes.fromhex(got["hex"]) == block(N + 19)
        info = await js_info(node)
        assert info["length"] == N + 20
        await node.send({"cmd": "download", "start": N, "end": N + 20})
        await expect(node, "downloaded", 30)
        await node.send({"cmd": "digest", "start": N, "end": N + 20})
        assert (await expect(node, "digest"))["sha256"] == hashlib.sha256(
            b"".join(block(i) for i in range(N, N + 20))
        ).hexdigest()
    await writer.aclose()


async def test_python_reader_sparse_get_from_js() -> None:
    async with spawn_node(SCRIPT, json.dumps({"listen": True})) as node:
        ready = await expect(node, "ready")
        await node.send({"cmd": "append", "start": 0, "count": 500})
        await expect(node, "appended")
        reader = Hypercore(None, bytes.fromhex(ready["key"]))
        await reader.ready()
        mux = replicate(reader, await SecretStream.connect("127.0.0.1", ready["port"]))
        try:
            assert await asyncio.wait_for(reader.get(321, timeout=20), 30) == block(321)
            assert reader.core.bitfield.count_set(0, 500) == 1
        finally:
            await mux.aclose()
            await reader.aclose()


async def test_js_writer_truncates_python_reader_reorgs() -> None:
    async with spawn_node(SCRIPT, json.dumps({"listen": True})) as node:
        ready = await expect(node, "ready")
        await node.send({"cmd": "append", "start": 0, "count": 100})
        await expect(node, "appended")
        reader = Hypercore(None, bytes.fromhex(ready["key"]))
        await reader.ready()
        mux = replicate(reader, await SecretStream.connect("127.0.0.1", ready["port"]))
        try:
            await asyncio.wait_for(reader.update(), 20)
            await asyncio.wait_for(reader.download(0, 100).done(), 30)
            await node.send({"cmd": "truncate", "length": 60})
            truncated = await expect(node, "truncated")
            assert truncated["fork"] == 1
            await node.send({"cmd": "append", "start": 1000, "count": 30})
            await expect(node, "appended")
            await eventually(lambda: reader.fork == 1 and reader.length == 90, 30)
            for i in range(30):
                assert await asyncio.wait_for(reader.get(60 + i, timeout=20), 30) == block(1000 + i)
            for i in range(60):
                assert await reader.get(i, wait=False) == block(i)
        finally:
            await mux.aclose()
            await reader.aclose()


async def test_python_writer_truncates_js_reader_reorgs() -> None:
    writer = await writer_with(100)

    async def handler(stream: SecretStream) -> None:
        replicate(writer, stream)
        await stream.wait_closed()

    server = await serve(handler, "127.0.0.1", 0)
    assert writer.key is not None
    async with server, spawn_node(SCRIPT, json.dumps({"port": server.port, "key": writer.key.hex()})) as node:
        await expect(node, "ready")
        await node.send({"cmd": "update"})
        await expect(node, "updated")
        await node.send({"cmd": "download", "start": 0, "end": 100})
        await expect(node, "downloaded")
        await writer.truncate(60)
        await writer.append([block(1000 + i) for i in range(30)])
        async with asyncio.timeout(30):
            while True:
                info = await js_info(node)
                if info["fork"] == 1 and info["length"] == 90:
                    break
                await asyncio.sleep(0.05)
        await node.send({"cmd": "get", "index": 75})
        assert bytes.fromhex((await expect(node, "block", 30))["hex"]) == block(1015)
        await node.send({"cmd": "get", "index": 10})
        assert bytes.fromhex((await expect(node, "block", 30))["hex"]) == block(10)
    await writer.aclose()


async def test_sparse_js_peer_answers_python_wants() -> None:
    """A JS peer holding only [100, 200) tells a Python reader what it has (want -> bitfield)."""
    n = 1000
    writer = await writer_with(n)

    async def handler(stream: SecretStream) -> None:
        replicate(writer, stream)
        await stream.wait_closed()

    server = await serve(handler, "127.0.0.1", 0)
    assert writer.key is not None
    opts = {"listen": True, "port": server.port, "key": writer.key.hex()}
    async with server, spawn_node(SCRIPT, json.dumps(opts)) as node:
        ready = await expect(node, "ready")
        await node.send({"cmd": "update"})
        await expect(node, "updated")
        await node.send({"cmd": "download", "start": 100, "end": 200})
        await expect(node, "downloaded")
        reader = Hypercore(None, writer.key)
        await reader.ready()
        mux = replicate(reader, await SecretStream.connect("127.0.0.1", ready["port"]))
        try:
            await asyncio.wait_for(reader.update(), 20)
            assert reader.length == n
            assert await asyncio.wait_for(reader.get(150, timeout=20), 30) == block(150)
            assert await asyncio.wait_for(reader.get(199, timeout=20), 30) == block(199)
            with pytest.raises(Exception, match="timed out"):
                await reader.get(500, timeout=0.5)
            assert reader.core.bitfield.count_set(0, n) == 2
        finally:
            await mux.aclose()
            await reader.aclose()
    await writer.aclose()


async def test_sparse_python_peer_answers_js_wants() -> None:
    """A Python peer holding only [100, 200) tells a JS reader what it has."""
    n = 1000
    writer = await writer_with(n)
    mirror = Hypercore(None, writer.key)
    await mirror.ready()
    async with tcp_link(mirror, writer):
        await asyncio.wait_for(mirror.update(), 10)
        await asyncio.wait_for(mirror.download(100, 200).done(), 30)

    async def handler(stream: SecretStream) -> None:
        replicate(mirror, stream)
        await stream.wait_closed()

    server = await serve(handler, "127.0.0.1", 0)
    assert writer.key is not None
    async with server, spawn_node(SCRIPT, json.dumps({"port": server.port, "key": writer.key.hex()})) as node:
        await expect(node, "ready")
        await node.send({"cmd": "update"})
        assert (await expect(node, "updated"))["length"] == n
        await node.send({"cmd": "get", "index": 150})
        assert bytes.fromhex((await expect(node, "block", 30))["hex"]) == block(150)
        await node.send({"cmd": "download", "start": 100, "end": 200})
        await expect(node, "downloaded", 30)
        await node.send({"cmd": "digest", "start": 100, "end": 200})
        assert (await expect(node, "digest"))["sha256"] == hashlib.sha256(
            b"".join(block(i) for i in range(100, 200))
        ).hexdigest()
    await mirror.aclose()
    await writer.aclose()


async def test_python_reader_downloads_from_js_writer_and_python_mirror() -> None:
    n = 5000
    async with spawn_node(SCRIPT, json.dumps({"listen": True})) as node:
        ready = await expect(node, "ready")
        key = bytes.fromhex(ready["key"])
        await node.send({"cmd": "append", "start": 0, "count": n})
        await expect(node, "appended")
        mirror = Hypercore(None, key)
        await mirror.ready()
        reader = Hypercore(None, key)
        await reader.ready()
        mux_m = replicate(mirror, await SecretStream.connect("127.0.0.1", ready["port"]))
        try:
            await asyncio.wait_for(mirror.update(), 20)
            await asyncio.wait_for(mirror.download(0, n).done(), 60)
            mux_r = replicate(reader, await SecretStream.connect("127.0.0.1", ready["port"]))
            try:
                async with tcp_link(reader, mirror):
                    await eventually(lambda: len(reader.peers) == 2, 20)
                    await asyncio.wait_for(reader.update(), 20)
                    assert reader.length == n
                    await asyncio.wait_for(reader.download(0, n).done(), 60)
                    for i in range(n):
                        assert await reader.get(i, wait=False) == block(i)
            finally:
                await mux_r.aclose()
        finally:
            await mux_m.aclose()
            await reader.aclose()
            await mirror.aclose()

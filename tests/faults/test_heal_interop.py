"""Healing from a JS hypercore 11 peer, then serving a JS reader (issue 18).

A JS writer (interop/scripts/hypercore-repl-peer.js, hypercore 11.37.1) appends blocks; a Python
reader on disk downloads them all; its database is damaged in seeded ways (flipped bits in stored
blocks and tree nodes, deleted rows, a zeroed page salvaged); the reader reconnects to the JS
writer and heals to full length with every block verified; a fresh JS reader then replicates the
healed Python core over secret-stream without error and gets the same bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from faults_helpers import block, damage, read_all

from hyperpunch.hypercore.replication import replicate
from hyperpunch.hypercore.salvage import needs_salvage, salvage
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.secretstream import SecretStream, serve
from jsref import NodeProcess, spawn_node

pytestmark = pytest.mark.interop

N = 400
SCRIPT = "hypercore-repl-peer.js"


async def expect(node: NodeProcess, event: str, timeout: float = 60) -> dict[str, Any]:
    while True:
        msg = await node.recv(timeout)
        if msg["event"] == event:
            return msg
        if msg["event"] not in ("connected", "append", "stream-close"):
            raise AssertionError(f"expected {event}, got {msg}\n{node.stderr}")


async def _download_from(node_port: int, core: Hypercore, ranges: list[tuple[int, int]]) -> None:
    stream = await SecretStream.connect("127.0.0.1", node_port)
    mux = replicate(core, stream)
    try:
        async with asyncio.timeout(60):
            await core.update()
            for lo, hi in ranges:
                await core.download(lo, hi).done()
    finally:
        await mux.aclose()
        stream.close()


@pytest.mark.parametrize("kinds", [("blobs", "rows"), ("page",)])
async def test_heal_from_js_writer_then_js_reader_replicates(tmp_path: Path, kinds: tuple[str, ...]) -> None:
    expected = [block(i) for i in range(N)]
    d = tmp_path / "reader"
    async with spawn_node(SCRIPT, json.dumps({"listen": True})) as writer:
        ready = await expect(writer, "ready")
        key = bytes.fromhex(ready["key"])
        await writer.send({"cmd": "append", "start": 0, "count": N})
        assert (await expect(writer, "appended"))["length"] == N
        async with Hypercore(d, key) as reader:
            await _download_from(ready["port"], reader, [(0, N)])
            assert await read_all(reader, expected) == (N, 0, 0)

        rng = random.Random(len(kinds))
        for kind in kinds:
            damage(d / "core.db", kind, rng)
        if needs_salvage(d / "core.db"):
            salvage(d / "core.db")

        async with Hypercore(d, key) as reader:
            dropped = reader.core.check_stored()
            lost = [i for i in range(reader.length) if not reader.core.bitfield.get(i)]
            assert dropped or lost or reader.core.damage, "the damage was not found"
            if reader.length < N:  # the signed head was lost: a reader starts over from the peer
                assert [d.where for d in reader.core.damage] == ["head"]
            await _download_from(ready["port"], reader, [(0, N)])
            assert reader.length == N
            assert await read_all(reader, expected) == (N, 0, 0)
            assert reader.core.check_stored() == []

    # a JS reader replicates the healed core from Python
    async with Hypercore(d, key) as healed:

        async def handler(stream: SecretStream) -> None:
            replicate(healed, stream)
            await stream.wait_closed()

        server = await serve(handler, "127.0.0.1", 0)
        async with server, spawn_node(SCRIPT, json.dumps({"port": server.port, "key": key.hex()})) as js:
            await expect(js, "ready")
            await js.send({"cmd": "update"})
            assert (await expect(js, "updated"))["length"] == N
            await js.send({"cmd": "download", "start": 0, "end": N})
            await expect(js, "downloaded", 120)
            await js.send({"cmd": "digest", "start": 0, "end": N})
            digest = await expect(js, "digest")
            assert digest["sha256"] == hashlib.sha256(b"".join(expected)).hexdigest()

"""Hypercore replication throughput over secret streams on TCP 127.0.0.1, both peers in one process.

The JS twin (interop/bench/hypercore-replication.js) runs the same workload with hypercore 11.37.1:
a writer stored on disk (a tmp dir; SQLite here, RocksDB in JS) appends COUNT blocks of SIZE
bytes in batches of 10 000 (not timed); then, timed, a reader that knows only the key (also on
disk) connects, ``update()`` s and downloads ``[0, COUNT)``; the last block is checked. Figures:
blocks/s for 100 000 x 64 B, MB/s (10**6 bytes/s) for 1 024 x 64 KiB.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench import Workload
from hyperpunch.hypercore.replication import replicate
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.secretstream import SecretStream, serve


def block(i: int, size: int) -> bytes:
    return (i & 0xFFFFFFFF).to_bytes(4, "little") * (size // 4)


async def replication(count: int, size: int) -> float:
    """Seconds to replicate ``count`` blocks of ``size`` bytes to a fresh reader."""
    tmp = Path(tempfile.mkdtemp(prefix="hc-repl-bench-"))
    try:
        writer = Hypercore(tmp / "w")
        await writer.ready()
        for i in range(0, count, 10_000):
            await writer.append([block(j, size) for j in range(i, min(count, i + 10_000))])
        reader = Hypercore(tmp / "r", writer.key)
        await reader.ready()

        async def handler(stream: SecretStream) -> None:
            replicate(writer, stream)
            await stream.wait_closed()

        async with await serve(handler, "127.0.0.1", 0) as server:
            start = time.perf_counter()
            stream = await SecretStream.connect("127.0.0.1", server.port)
            mux = replicate(reader, stream)
            await reader.update()
            await reader.download(0, count).done()
            elapsed = time.perf_counter() - start
            if await reader.get(count - 1, wait=False) != block(count - 1, size):
                raise AssertionError("content mismatch")
            await mux.aclose()
        await reader.aclose()
        await writer.aclose()
        return elapsed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def small_blocks() -> float:
    count = 100_000
    return count / await replication(count, 64)


async def large_blocks() -> float:
    count, size = 1024, 64 * 1024
    return count * size / await replication(count, size) / 1e6


WORKLOADS = [
    Workload(
        name="hypercore_replication_tcp_100k_x_64b",
        unit="blocks/s",
        higher_is_better=True,
        run_python=small_blocks,
        js_script="hypercore-replication.js",
        js_args=["100000", "64", "blocks"],
    ),
    Workload(
        name="hypercore_replication_tcp_1024_x_64kib",
        unit="MB/s",
        higher_is_better=True,
        run_python=large_blocks,
        js_script="hypercore-replication.js",
        js_args=["1024", "65536", "mbps"],
    ),
]

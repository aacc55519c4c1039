"""UDX bulk throughput on loopback: hyperpunch -> hyperpunch vs udx-native -> udx-native.

Both ends run in one process and one event loop on each side of the comparison (the JS twin is
``interop/bench/udx.js``); the figure is MB/s (1e6 bytes) from first write to the reader's EOF.
"""

from __future__ import annotations

import asyncio
import time

from bench import Workload
from hyperpunch.udx.socket import UDX

MIB = 1024 * 1024
SIZE_MIB = 128
CHUNK = 1 << 16


async def bulk_mb_per_s(size: int = SIZE_MIB * MIB) -> float:
    udx = UDX()
    s1 = await udx.create_socket().bind(0, "127.0.0.1")
    s2 = await udx.create_socket().bind(0, "127.0.0.1")
    async with s1, s2:
        a = udx.create_stream(1)
        b = udx.create_stream(2)
        a.connect(s1, 2, s2.address()[1])
        b.connect(s2, 1, s1.address()[1])
        buf = b"\xab" * CHUNK
        received = 0

        async def reader() -> None:
            nonlocal received
            while chunk := await b.read():
                received += len(chunk)

        start = time.perf_counter()
        task = asyncio.ensure_future(reader())
        for _ in range(0, size, CHUNK):
            a.write(buf)
            await a.drain()
        a.end()
        await task
        secs = time.perf_counter() - start
        if received != size:
            raise RuntimeError(f"received {received} of {size}")
        b.end()
        await asyncio.wait_for(asyncio.gather(a.wait_closed(), b.wait_closed()), 30)
        return size / secs / 1e6


WORKLOADS = [
    Workload(
        name=f"udx_bulk_loopback_{SIZE_MIB}mib",
        unit="MB/s",
        higher_is_better=True,
        run_python=bulk_mb_per_s,
        js_script="udx.js",
        js_args=[str(SIZE_MIB)],
    )
]

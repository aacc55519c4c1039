"""Secret-stream throughput: 64 KiB writes over TCP on 127.0.0.1, both ends in one process.

The JS twin (interop/bench/secretstream.js) runs the same workload with @hyperswarm/secret-stream:
handshake first (not timed), then 256 MiB one way in 64 KiB writes with backpressure, timed until
the reader has every byte. The figure is MB/s (10**6 bytes per second).
"""

from __future__ import annotations

import asyncio
import time

from bench import Workload
from hyperpunch.crypto import key_pair
from hyperpunch.secretstream import SecretStream, serve

TOTAL = 256 * 1024 * 1024
CHUNK = 64 * 1024


async def throughput(total: int = TOTAL, chunk: int = CHUNK) -> float:
    received = 0
    done = asyncio.Event()

    async def reader(stream: SecretStream) -> None:
        nonlocal received
        async for message in stream:
            received += len(message)
            if received >= total:
                done.set()

    payload = bytes(range(256)) * (chunk // 256)
    async with (
        await serve(reader, key_pair=key_pair(b"\x01" * 32)) as server,
        await SecretStream.connect("127.0.0.1", server.port, key_pair=key_pair(b"\x02" * 32)) as s,
    ):
        start = time.perf_counter()
        sent = 0
        while sent < total:
            s.write(payload)
            sent += chunk
            await s.drain()
        await done.wait()
        elapsed = time.perf_counter() - start
    return total / elapsed / 1e6


def run() -> float:
    return asyncio.run(throughput())


WORKLOADS = [
    Workload(
        name="secretstream_tcp_64k_writes_256mib",
        unit="MB/s",
        higher_is_better=True,
        run_python=throughput,
        js_script="secretstream.js",
        js_args=[str(TOTAL), str(CHUNK)],
    )
]

if __name__ == "__main__":
    print(run())

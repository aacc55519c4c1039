"""Corestore: open and replicate 1 000 small cores over one connection.

Same workload both sides (JS twin: interop/bench/corestore.js, corestore 7.12.5 over
@hyperswarm/secret-stream on TCP 127.0.0.1, both stores in one process, on disk in a temp dir).
Untimed setup: the writer store creates CORES named cores with one 32-byte block each and closes
them (they stay in storage). Timed: a reader store connects to the writer's, opens every core by
key and gets block 0 of each (the writer opens each core when the reader's channel arrives).
The figure is seconds, wall clock, lower is better.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
from pathlib import Path

from bench import Workload
from hyperpunch.corestore import Corestore
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.secretstream import SecretStream, serve

CORES = 1000


def block(c: int) -> bytes:
    return c.to_bytes(4, "little") * 8


async def open_and_replicate(cores: int) -> float:
    with tempfile.TemporaryDirectory(prefix="hp-bench-corestore-") as d:
        async with Corestore(Path(d) / "w") as writer, Corestore(Path(d) / "r") as reader:
            keys: list[bytes] = []
            for c in range(cores):
                core = await writer.get(name=f"core-{c}")
                await core.append(block(c))
                assert core.key is not None
                keys.append(core.key)
                await core.aclose()

            async def handler(stream: SecretStream) -> None:
                writer.replicate(stream)
                await stream.wait_closed()

            server = await serve(handler, "127.0.0.1", 0)
            async with server:
                start = time.perf_counter()
                stream = await SecretStream.connect("127.0.0.1", server.port)
                mux = reader.replicate(stream)
                sessions: list[Hypercore] = [await reader.get(k) for k in keys]
                got = await asyncio.gather(*(s.get(0) for s in sessions))
                elapsed = time.perf_counter() - start
                assert got == [block(c) for c in range(cores)]
                await mux.aclose()
    return elapsed


WORKLOADS = [
    Workload(
        name="corestore_open_replicate_1000_cores",
        unit="s",
        higher_is_better=False,
        run_python=functools.partial(open_and_replicate, CORES),
        js_script="corestore.js",
        js_args=[str(CORES)],
    ),
]

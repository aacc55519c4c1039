"""Hypercore append throughput: 64-byte blocks appended to a core on disk (a temp dir), signed.

Two workloads, the same on both sides (JS twin: interop/bench/hypercore.js, hypercore 11.37.1 on
its default RocksDB storage): ``batch`` appends TOTAL blocks in calls of 100 blocks each;
``single`` appends TOTAL_SINGLE blocks one call each (every call is one signed, committed batch).
The figure is blocks per second, wall clock, core opened before timing starts.
"""

from __future__ import annotations

import functools
import tempfile
import time

from bench import Workload
from hyperpunch import crypto
from hyperpunch.hypercore.session import Hypercore

TOTAL = 100_000
TOTAL_SINGLE = 10_000
BLOCK = bytes(range(64))


async def append_throughput(total: int, batch: int) -> float:
    kp = crypto.key_pair(b"\x01" * 32)
    with tempfile.TemporaryDirectory(prefix="hp-bench-hypercore-") as d:
        async with Hypercore(d, key_pair=kp) as core:
            blocks = [BLOCK] * batch
            start = time.perf_counter()
            if batch == 1:
                for _ in range(total):
                    await core.append(BLOCK)
            else:
                for _ in range(total // batch):
                    await core.append(blocks)
            elapsed = time.perf_counter() - start
            assert core.length == total
    return total / elapsed


WORKLOADS = [
    Workload(
        name="hypercore_append_batch100_64b",
        unit="blocks/s",
        higher_is_better=True,
        run_python=functools.partial(append_throughput, TOTAL, 100),
        js_script="hypercore.js",
        js_args=[str(TOTAL), "100"],
    ),
    Workload(
        name="hypercore_append_single_64b",
        unit="blocks/s",
        higher_is_better=True,
        run_python=functools.partial(append_throughput, TOTAL_SINGLE, 1),
        js_script="hypercore.js",
        js_args=[str(TOTAL_SINGLE), "1"],
    ),
]

"""Hyperbee: puts in batches, random gets, a full range scan, and remote get latency.

Same workloads both sides (JS twin: interop/bench/hyperbee.js, hyperbee 2.27.3 on hypercore 11,
on disk in a temp dir). Keys are ``key-%08d`` of a seeded random permutation, values 32 bytes.

* ``hyperbee_put_batch1000``: timed, KEYS puts in batches of 1 000 into a new bee; puts/s.
* ``hyperbee_get_random``: untimed, the bee of KEYS keys; timed, GETS gets of random present keys;
  gets/s.
* ``hyperbee_range_scan``: untimed, the same bee; timed, one full range iteration; entries/s.
* ``hyperbee_remote_get``: untimed, the bee served over @hyperswarm/secret-stream on TCP
  127.0.0.1 to a fresh sparse reader (extension on) that has learnt the length; timed, REMOTE_GETS
  gets of random keys, one after the other; mean milliseconds per get (lower is better).
"""

from __future__ import annotations

import functools
import random
import tempfile
import time
from pathlib import Path

from bench import Workload
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore
from hyperpunch.secretstream import SecretStream, serve

KEYS = 20_000
GETS = 5_000
REMOTE_GETS = 200


def key(i: int) -> bytes:
    return b"key-%08d" % i


def value(i: int) -> bytes:
    return (b"%032d" % i)[:32]


def order(n: int) -> list[int]:
    o = list(range(n))
    random.Random(1).shuffle(o)
    return o


async def _fill(db: Hyperbee, n: int) -> None:
    o = order(n)
    for start in range(0, n, 1000):
        async with db.batch() as b:
            for i in o[start : start + 1000]:
                await b.put(key(i), value(i))


async def put_batches(n: int) -> float:
    with tempfile.TemporaryDirectory(prefix="hp-bench-bee-") as d:
        async with Hyperbee(Hypercore(Path(d) / "bee")) as db:
            start = time.perf_counter()
            await _fill(db, n)
            elapsed = time.perf_counter() - start
    return n / elapsed


async def random_gets(n: int, gets: int) -> float:
    with tempfile.TemporaryDirectory(prefix="hp-bench-bee-") as d:
        async with Hyperbee(Hypercore(Path(d) / "bee")) as db:
            await _fill(db, n)
            rng = random.Random(2)
            wanted = [rng.randrange(n) for _ in range(gets)]
            start = time.perf_counter()
            for i in wanted:
                e = await db.get(key(i))
                assert e is not None
            elapsed = time.perf_counter() - start
    return gets / elapsed


async def range_scan(n: int) -> float:
    with tempfile.TemporaryDirectory(prefix="hp-bench-bee-") as d:
        async with Hyperbee(Hypercore(Path(d) / "bee")) as db:
            await _fill(db, n)
            start = time.perf_counter()
            count = 0
            async for _ in db.range():
                count += 1
            elapsed = time.perf_counter() - start
            assert count == n
    return n / elapsed


async def remote_gets(n: int, gets: int) -> float:
    with tempfile.TemporaryDirectory(prefix="hp-bench-bee-") as d:
        async with Hyperbee(Hypercore(Path(d) / "w")) as db:
            await _fill(db, n)
            assert db.key is not None

            async def handler(stream: SecretStream) -> None:
                db.core.replicate(stream)
                await stream.wait_closed()

            server = await serve(handler, "127.0.0.1", 0)
            async with server, Hyperbee(Hypercore(Path(d) / "r", db.key)) as reader:
                stream = await SecretStream.connect("127.0.0.1", server.port)
                mux = reader.core.replicate(stream)
                while reader.core.length < db.core.length:
                    await reader.core.update()
                rng = random.Random(3)
                wanted = [rng.randrange(n) for _ in range(gets)]
                start = time.perf_counter()
                for i in wanted:
                    e = await reader.get(key(i))
                    assert e is not None and e.value == value(i)
                elapsed = time.perf_counter() - start
                await mux.aclose()
    return elapsed / gets * 1000


WORKLOADS = [
    Workload(
        name="hyperbee_put_batch1000",
        unit="puts/s",
        higher_is_better=True,
        run_python=functools.partial(put_batches, KEYS),
        js_script="hyperbee.js",
        js_args=["put", str(KEYS)],
    ),
    Workload(
        name="hyperbee_get_random",
        unit="gets/s",
        higher_is_better=True,
        run_python=functools.partial(random_gets, KEYS, GETS),
        js_script="hyperbee.js",
        js_args=["get", str(KEYS), str(GETS)],
    ),
    Workload(
        name="hyperbee_range_scan",
        unit="entries/s",
        higher_is_better=True,
        run_python=functools.partial(range_scan, KEYS),
        js_script="hyperbee.js",
        js_args=["scan", str(KEYS)],
    ),
    Workload(
        name="hyperbee_remote_get",
        unit="ms/get",
        higher_is_better=False,
        run_python=functools.partial(remote_gets, KEYS, REMOTE_GETS),
        js_script="hyperbee.js",
        js_args=["remote", str(KEYS), str(REMOTE_GETS)],
    ),
]

"""Scale curves: how cost grows with the number of cores in a store and the length of a core.

Each workload is one point of a curve, named ``scale_<curve>_n<N>`` (``make bench-report`` plots
the curves from these rows). Same workloads both sides (JS twins in interop/bench/: corestore.js,
scale-get.js, scale-memory.js, loop-stall.js; everything on disk in a temp dir, peers over
secret streams on TCP 127.0.0.1 in one process):

* ``open_replicate_cores``: seconds to open and replicate N one-block cores of a store (the
  corestore workload of bench_corestore.py at N cores).
* ``get_local_blocks``: microseconds per ``get`` of a random stored block of an N-block core
  (64-byte blocks; the core is reopened first, so caches are cold; 2 000 gets).
* ``get_remote_blocks``: microseconds per ``get`` of a random block by a reader that knows only
  the key (also on disk): request, proof (O(log N) nodes) built from the writer's storage, verify
  (300 gets, one at a time).
* ``rss_per_open_core``: KiB of resident memory per open core (a store reopened in a fresh
  process, N stored one-block cores opened by key and block 0 read from each).
* ``loop_stall_peers``: the worst event-loop stall, in ms, while N readers (each a core on disk)
  download 200 blocks of 1 KiB from one writer (a 1 ms ticker measures how late it wakes).

The default points keep ``make bench`` short (about 40 s per repeat here, 2 minutes at the default
three repeats); set
``HYPERPUNCH_BENCH_FULL=1`` for the large points (10 000 cores, 10**6 blocks), which take minutes.
``python -m bench.bench_scale stall 100`` runs the stall workload with a watchdog that prints where
the loop was stuck.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

from bench import Workload
from bench.bench_corestore import block, open_and_replicate
from hyperpunch.corestore import Corestore
from hyperpunch.hypercore.replication import replicate
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.secretstream import SecretStream, serve

FULL = os.environ.get("HYPERPUNCH_BENCH_FULL", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent.parent

LOCAL_GETS = 2000
REMOTE_GETS = 300
STALL_BLOCKS = 200
STALL_BLOCK_SIZE = 1024
SEED = 7

_cores: dict[int, tuple[Path, bytes]] = {}
_tmp: list[Path] = []


def _cleanup() -> None:
    for d in _tmp:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def block64(i: int) -> bytes:
    return (i & 0xFFFFFFFF).to_bytes(4, "little") * 16


async def _core_of(length: int) -> tuple[Path, bytes]:
    """A core of ``length`` 64-byte blocks on disk, built once per process (not timed)."""
    found = _cores.get(length)
    if found is not None:
        return found
    tmp = Path(tempfile.mkdtemp(prefix="hp-bench-scale-"))
    _tmp.append(tmp)
    async with Hypercore(tmp / "core") as core:
        for i in range(0, length, 10_000):
            await core.append([block64(j) for j in range(i, min(length, i + 10_000))])
        assert core.key is not None
        _cores[length] = (tmp / "core", core.key)
    return _cores[length]


def _sample(length: int, count: int) -> list[int]:
    rng = random.Random(SEED)
    return [rng.randrange(length) for _ in range(count)]


async def get_local(length: int) -> float:
    path, _ = await _core_of(length)
    indices = _sample(length, LOCAL_GETS)
    async with Hypercore(path) as core:
        start = time.perf_counter()
        for i in indices:
            got = await core.get(i)
            if got is None or len(got) != 64:
                raise AssertionError("content mismatch")
        elapsed = time.perf_counter() - start
    return elapsed / len(indices) * 1e6


async def get_remote(length: int) -> float:
    path, key = await _core_of(length)
    indices = _sample(length, REMOTE_GETS)
    with tempfile.TemporaryDirectory(prefix="hp-bench-reader-") as d:
        return await _get_remote(path, key, Path(d) / "reader", indices)


async def _get_remote(path: Path, key: bytes, reader_path: Path, indices: list[int]) -> float:
    async with Hypercore(path) as writer, Hypercore(reader_path, key) as reader:

        async def handler(stream: SecretStream) -> None:
            replicate(writer, stream)
            await stream.wait_closed()

        async with await serve(handler, "127.0.0.1", 0) as server:
            stream = await SecretStream.connect("127.0.0.1", server.port)
            mux = replicate(reader, stream)
            await reader.update()
            start = time.perf_counter()
            for i in indices:
                if await reader.get(i) != block64(i):
                    raise AssertionError("content mismatch")
            elapsed = time.perf_counter() - start
            await mux.aclose()
    return elapsed / len(indices) * 1e6


# --- resident memory (measured in a fresh process) -----------------------------------------------


def _rss_kib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024


async def _rss_child(cores: int) -> float:
    with tempfile.TemporaryDirectory(prefix="hp-bench-rss-") as d:
        keys: list[bytes] = []
        async with Corestore(Path(d) / "s") as store:
            for c in range(cores):
                core = await store.get(name=f"core-{c}")
                await core.append(block(c))
                assert core.key is not None
                keys.append(core.key)
                await core.aclose()
        async with Corestore(Path(d) / "s") as store:
            before = _rss_kib()
            sessions = [await store.get(k) for k in keys]
            for c, s in enumerate(sessions):
                if await s.get(0) != block(c):
                    raise AssertionError("content mismatch")
            after = _rss_kib()
    return (after - before) / cores


def rss_per_core(cores: int) -> float:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_scale", "rss", str(cores)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
        check=True,
    )
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["value"])


# --- event-loop stall under load ------------------------------------------------------------------


async def loop_stall(peers: int, beat: list[float] | None = None) -> float:
    """The worst lateness (ms) of a 1 ms ticker while ``peers`` readers download from one writer
    (``beat[0]``, when given, is set to ``perf_counter()`` at every tick)."""
    tmp = Path(tempfile.mkdtemp(prefix="hp-bench-stall-"))
    try:
        data = [bytes([i & 0xFF]) * STALL_BLOCK_SIZE for i in range(STALL_BLOCKS)]
        async with Hypercore(tmp / "w") as writer:
            await writer.append(data)
            readers = [Hypercore(tmp / f"r{p}", writer.key) for p in range(peers)]
            for r in readers:
                await r.ready()

            async def handler(stream: SecretStream) -> None:
                replicate(writer, stream)
                await stream.wait_closed()

            worst = 0.0
            running = True

            async def ticker() -> None:
                nonlocal worst
                while running:
                    t = time.perf_counter()
                    await asyncio.sleep(0.001)
                    now = time.perf_counter()
                    worst = max(worst, now - t - 0.001)
                    if beat is not None:
                        beat[0] = now

            async with await serve(handler, "127.0.0.1", 0) as server:
                streams = [await SecretStream.connect("127.0.0.1", server.port) for _ in readers]
                tick = asyncio.create_task(ticker())
                muxes = [replicate(r, s) for r, s in zip(readers, streams, strict=True)]

                async def fetch(r: Hypercore) -> None:
                    await r.update()
                    await r.download(0, STALL_BLOCKS).done()

                await asyncio.gather(*(fetch(r) for r in readers))
                running = False
                await tick
                for r in readers:
                    if await r.get(STALL_BLOCKS - 1, wait=False) != data[-1]:
                        raise AssertionError("content mismatch")
                for mux in muxes:
                    await mux.aclose()
            for r in readers:
                await r.aclose()
        return worst * 1000
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- registration --------------------------------------------------------------------------------

CORE_COUNTS = [100, 1000, *([10_000] if FULL else [])]
LENGTHS = [1000, 100_000, *([1_000_000] if FULL else [])]
RSS_COUNTS = [1000, *([10_000] if FULL else [])]
STALL_PEERS = [10, 100]

WORKLOADS = [
    *(
        Workload(
            name=f"scale_open_replicate_cores_n{n}",
            unit="s",
            higher_is_better=False,
            run_python=functools.partial(open_and_replicate, n),
            js_script="corestore.js",
            js_args=[str(n)],
        )
        for n in CORE_COUNTS
    ),
    *(
        Workload(
            name=f"scale_get_local_blocks_n{n}",
            unit="us/get",
            higher_is_better=False,
            run_python=functools.partial(get_local, n),
            js_script="scale-get.js",
            js_args=["local", str(n), str(LOCAL_GETS)],
        )
        for n in LENGTHS
    ),
    *(
        Workload(
            name=f"scale_get_remote_blocks_n{n}",
            unit="us/get",
            higher_is_better=False,
            run_python=functools.partial(get_remote, n),
            js_script="scale-get.js",
            js_args=["remote", str(n), str(REMOTE_GETS)],
        )
        for n in LENGTHS
    ),
    *(
        Workload(
            name=f"scale_rss_per_open_core_n{n}",
            unit="KiB/core",
            higher_is_better=False,
            run_python=functools.partial(rss_per_core, n),
            js_script="scale-memory.js",
            js_args=[str(n)],
        )
        for n in RSS_COUNTS
    ),
    *(
        Workload(
            name=f"scale_loop_stall_peers_n{n}",
            unit="ms",
            higher_is_better=False,
            run_python=functools.partial(loop_stall, n),
            js_script="loop-stall.js",
            js_args=[str(n), str(STALL_BLOCKS), str(STALL_BLOCK_SIZE)],
        )
        for n in STALL_PEERS
    ),
]


def stall_report(peers: int, threshold: float = 0.02, every: float = 0.005) -> None:
    """``python -m bench.bench_scale stall N``: run the loop-stall workload with a watchdog thread
    that samples the loop thread's stack every ``every`` s while the ticker is more than
    ``threshold`` s late, and print where the loop was stuck (each sample is ~``every`` s). The
    samples lean towards calls that release the GIL (SQLite, sockets): the watchdog gets the GIL at
    once there, and only at the interpreter's switch interval elsewhere."""
    beat = [float("inf")]
    samples: Counter[str] = Counter()
    stop = threading.Event()
    loop_thread = threading.get_ident()

    def where(frame: FrameType | None) -> str:
        frames: list[str] = []
        while frame is not None and len(frames) < 4:
            code = frame.f_code
            if "hyperpunch" in code.co_filename or "bench" in code.co_filename:
                name = code.co_filename.rsplit("/src/", 1)[-1]
                frames.append(f"{name}:{frame.f_lineno}:{code.co_name}")
            frame = frame.f_back
        return " <- ".join(frames) or "(outside hyperpunch: the event loop itself)"

    def watch() -> None:
        while not stop.wait(every):
            if time.perf_counter() - beat[0] > threshold:
                samples[where(sys._current_frames().get(loop_thread))] += 1

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    worst = asyncio.run(loop_stall(peers, beat))
    stop.set()
    watcher.join()
    print(f"worst stall {worst:.1f} ms with {peers} peers; loop late > {threshold * 1000:.0f} ms at:")
    for stack, count in samples.most_common(12):
        print(f"  ~{count * every * 1000:6.0f} ms  {stack}")


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "rss":
    print(json.dumps({"value": asyncio.run(_rss_child(int(sys.argv[2])))}))
elif __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "stall":
    stall_report(int(sys.argv[2]))

"""Hyperswarm meshing time on a local testnet: 10 peers on one topic, hyperpunch vs hyperswarm 4.17.2.

Each side builds its own testnet of ``TESTNET_SIZE`` persistent HyperDHT nodes on 127.0.0.1
(Python: a bootstrapper plus persistent nodes; JS: ``@hyperswarm/testnet``). Per round, ``PEERS``
swarms are created in this one process, each on its own ephemeral DHT node bound to 127.0.0.1
(JS: ``new Hyperswarm({ dht: new DHT({ bootstrap, host: '127.0.0.1' }) })``), and their DHT nodes
finish bootstrapping before the clock starts. The clock runs from the first ``join(topic,
server=True, client=True)`` on a fresh random topic until every peer holds exactly one open
connection to each of the other ``PEERS - 1`` peers (counted per remote public key in
``open_connections``; JS ``swarm.connections``). Outside the clock, the mesh is checked again after
``SETTLE`` seconds (a late duplicate must not leave a pair doubled or dropped), then the swarms and
their DHT nodes are closed. After ``WARMUP`` untimed rounds, the median of ``ROUNDS`` rounds
(seconds) is the figure, lower is better (JS twin ``interop/bench/swarm-mesh.js``).

Join procedure (first JS argument), identical on both sides:

* ``refresh`` (the workloads): every peer joins at once, each waits for its first announce+lookup
  (``flushed()``), then every peer refreshes at once (``discovery.refresh()``) and the clock runs
  until the mesh is complete. The refresh is needed because peers announcing at the same moment
  can finish their lookups before the others' announces land, and would then only find each other
  at the next periodic refresh (10 minutes), in JS as in Python. Most pairs then dial each other
  from both ends at once, so the duplicate-connection rule is exercised too.
* ``sequential``: peers join one after another, each waiting for ``flushed()`` before the next
  joins, so every new peer finds all earlier ones.
* ``rescan`` (the scale workloads): as ``refresh``, then, after every swarm's ``flush()``, the
  peers still missing someone refresh again, until the mesh is complete. Past 20 peers a DHT node
  answers a lookup with 20 random announcers of the topic, so one refresh leaves a few pairs that
  never saw each other (measured at 50 peers: ~8 of 1225 pairs, JS and Python alike).
* ``concurrent``: all join at once and nothing more. On a 5-node testnet this does not converge on
  either side (measured: no peer connected to any other within 60 s, JS and Python alike).

Firewall state (second JS argument). After bootstrapping on loopback, a default JS hyperdht 6.34
node stays ``firewalled`` while a default hyperpunch node has already passed its quick firewall
check and is not, so default nodes would not run the same connect path. Hence two workloads:

* ``firewalled``: nodes forced firewalled after bootstrapping on both sides (a no-op for JS, which
  already is; the forcing mirrors ``dht-connect.js holepunch``); servers are reached over the
  same-host/LAN shortcut;
* ``open``: nodes created with ``firewalled=False`` on both sides (direct connects).

(``default`` keeps each side's own state; not a registered workload.)
Every wait is bounded (``MESH_TIMEOUT``): an incomplete mesh raises with a per-peer report.

Scale workloads (``swarm_scale_*``): the ``rescan`` procedure, firewalled, with 10, 30 and 50
peers: the time to a full mesh (median of ``SCALE_ROUNDS`` rounds after one warmup), and the memory
per connection: resident memory (``/proc/self/statm``; JS ``process.memoryUsage().rss``), each
side garbage-collected, from the moment the peers' DHT nodes are ready to the full mesh, divided by
the number of connection ends ``peers * (peers - 1)``, in KiB (lower is better), measured in the
first round of a fresh process (no warmup: a freed and reused heap would hide the growth).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import Workload
from hyperpunch.dht import HyperDHT
from hyperpunch.swarm import Hyperswarm

HOST = "127.0.0.1"
TESTNET_SIZE = 5
PEERS = 10
ROUNDS = 5
WARMUP = 1
MESH_TIMEOUT = 60.0
POLL = 0.01
SETTLE = 0.3
FIREWALL_MODES = ("firewalled", "open", "default")
SCALE_PEERS = (10, 30, 50)
SCALE_ROUNDS = 3  # 1 at 50 peers (a round takes tens of seconds)


def _scale_rounds(peers: int) -> int:
    return SCALE_ROUNDS if peers < 50 else 1


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _settled_rss() -> int:
    """Resident bytes of this process after a full garbage collection."""
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


@contextlib.asynccontextmanager
async def _testnet(size: int = TESTNET_SIZE) -> AsyncIterator[list[str]]:
    boot = HyperDHT.bootstrapper(0, HOST, bind_host=HOST)
    nodes = [boot]
    try:
        await boot.ready()
        bootstrap = [f"{HOST}:{boot.port}"]
        more = [
            HyperDHT(bootstrap=bootstrap, host=HOST, ephemeral=False, firewalled=False)
            for _ in range(size - 1)
        ]
        nodes += more
        await asyncio.gather(*(n.ready() for n in more))
        yield bootstrap
    finally:
        for node in reversed(nodes):
            await node.aclose()


def _remotes(swarm: Hyperswarm) -> dict[bytes, int]:
    counts: dict[bytes, int] = {}
    for conn in swarm.open_connections:
        key = bytes(conn.remote_public_key)
        counts[key] = counts.get(key, 0) + 1
    return counts


class _Mesh:
    """The swarms of one round and the check "every pair connected exactly once"."""

    def __init__(self, bootstrap: list[str], peers: int, firewall: str) -> None:
        if firewall not in FIREWALL_MODES:
            raise ValueError(f"unknown firewall mode {firewall!r}")
        self.done = asyncio.Event()
        self.stop_rescan = False
        self.firewall = firewall
        self.dhts = [
            HyperDHT(bootstrap=bootstrap, host=HOST, firewalled=firewall != "open") for _ in range(peers)
        ]
        self.swarms = [
            Hyperswarm(dht=dht, on_connection=self._on_connection, on_update=self.check) for dht in self.dhts
        ]
        self.keys = [s.key_pair.public_key for s in self.swarms]

    async def ready(self) -> None:
        await asyncio.gather(*(dht.ready() for dht in self.dhts))
        if self.firewall == "firewalled":  # as dht-connect.js holepunch forces it on the JS side
            for dht in self.dhts:
                dht.core.firewalled = dht.core.io.firewalled = True

    def _on_connection(self, _conn: Any, _info: Any) -> None:
        self.check()

    def meshed(self) -> bool:
        for swarm in self.swarms:
            counts = _remotes(swarm)
            if len(counts) != len(self.swarms) - 1 or any(n != 1 for n in counts.values()):
                return False
            if swarm.key_pair.public_key in counts:
                return False
        return True

    def check(self) -> None:
        if not self.done.is_set() and self.meshed():
            self.done.set()

    def report(self) -> str:
        names = {k: f"p{i}" for i, k in enumerate(self.keys)}
        lines = []
        for i, swarm in enumerate(self.swarms):
            counts = _remotes(swarm)
            missing = [names[k] for k in self.keys if k != self.keys[i] and k not in counts]
            dup = [names.get(k, "?") for k, n in counts.items() if n != 1]
            lines.append(f"p{i}: {len(counts)} peers, missing {missing}, duplicated {dup}")
        return "\n".join(lines)

    async def aclose(self) -> None:
        await asyncio.gather(*(s.aclose() for s in self.swarms), return_exceptions=True)
        await asyncio.gather(*(d.aclose() for d in self.dhts), return_exceptions=True)


async def _bounded(aw: Any, what: str, mesh: _Mesh) -> Any:
    try:
        return await asyncio.wait_for(aw, MESH_TIMEOUT)
    except TimeoutError:
        raise RuntimeError(
            f"swarm bench: timed out after {MESH_TIMEOUT}s waiting for {what}\n{mesh.report()}"
        ) from None


async def _wait_meshed(mesh: _Mesh) -> None:
    async def poll() -> None:  # callbacks set the event; polling covers anything they miss
        while not mesh.done.is_set():
            mesh.check()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(mesh.done.wait(), POLL)

    await _bounded(poll(), "a full mesh", mesh)


async def _rescan(mesh: _Mesh, handles: list[Any]) -> None:
    """Refresh every peer, wait for every swarm's flush; again for the peers still missing one."""
    lagging = list(handles)
    while not mesh.done.is_set() and not mesh.stop_rescan:
        await asyncio.gather(*(h.refresh() for h in lagging))
        await asyncio.gather(*(s.flush() for s in mesh.swarms))
        mesh.check()
        want = len(mesh.swarms) - 1
        lagging = [h for s, h in zip(mesh.swarms, handles, strict=True) if len(_remotes(s)) < want]


async def _round(bootstrap: list[str], mode: str, firewall: str, peers: int, metric: str = "time") -> float:
    mesh = _Mesh(bootstrap, peers, firewall)
    rescanning: asyncio.Future[None] | None = None
    try:
        await _bounded(mesh.ready(), "DHT bootstrap", mesh)
        rss0 = _settled_rss() if metric == "memory" else 0
        topic = os.urandom(32)
        start = time.perf_counter()
        if mode == "sequential":
            for swarm in mesh.swarms:
                if not await _bounded(swarm.join(topic).flushed(), "join flushed", mesh):
                    raise RuntimeError("swarm bench: announce/lookup failed")
        elif mode == "refresh":
            handles = [s.join(topic) for s in mesh.swarms]
            ok = await _bounded(asyncio.gather(*(h.flushed() for h in handles)), "join flushed", mesh)
            if not all(ok):
                raise RuntimeError("swarm bench: announce/lookup failed")
            ok = await _bounded(asyncio.gather(*(h.refresh() for h in handles)), "refresh", mesh)
            if not all(ok):
                raise RuntimeError("swarm bench: refresh failed")
        elif mode == "rescan":  # refresh, then re-refresh the peers still missing someone
            handles = [s.join(topic) for s in mesh.swarms]
            ok = await _bounded(asyncio.gather(*(h.flushed() for h in handles)), "join flushed", mesh)
            if not all(ok):
                raise RuntimeError("swarm bench: announce/lookup failed")
            rescanning = asyncio.ensure_future(_rescan(mesh, handles))
        elif mode == "concurrent":  # no refresh: may not converge (see the module docstring)
            for s in mesh.swarms:
                s.join(topic)
        else:
            raise ValueError(f"unknown mode {mode!r}")
        await _wait_meshed(mesh)
        elapsed = time.perf_counter() - start
        mesh.stop_rescan = True
        if rescanning is not None:
            await rescanning
        per_connection = (_settled_rss() - rss0) / (peers * (peers - 1)) / 1024 if metric == "memory" else 0.0
        # untimed sanity check: the mesh still holds (or settles back) once late duplicates resolve
        await asyncio.sleep(SETTLE)
        mesh.done.clear()
        await _wait_meshed(mesh)
        return per_connection if metric == "memory" else elapsed
    finally:
        mesh.stop_rescan = True
        if rescanning is not None:
            await asyncio.gather(rescanning, return_exceptions=True)
        await mesh.aclose()


async def mesh_seconds(
    mode: str = "refresh",
    firewall: str = "firewalled",
    rounds: int = ROUNDS,
    warmup: int = WARMUP,
    peers: int = PEERS,
    size: int = TESTNET_SIZE,
    metric: str = "time",
) -> float:
    async with _testnet(size) as bootstrap:
        times: list[float] = []
        for i in range(warmup + rounds):
            elapsed = await _round(bootstrap, mode, firewall, peers, metric)
            if i >= warmup:
                times.append(elapsed)
        return statistics.median(times)


async def mesh_firewalled_seconds() -> float:
    return await mesh_seconds("refresh", "firewalled")


async def mesh_open_seconds() -> float:
    return await mesh_seconds("refresh", "open")


def _scale_time(peers: int) -> Callable[[], Awaitable[float]]:
    async def run() -> float:
        return await mesh_seconds("rescan", "firewalled", rounds=_scale_rounds(peers), warmup=1, peers=peers)

    return run


def _scale_memory(peers: int) -> Callable[[], Awaitable[float]]:
    async def run() -> float:  # in a fresh interpreter, as the JS side runs in a fresh node
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.bench_swarm",
            "memory",
            str(peers),
            stdout=asyncio.subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"swarm memory bench ({peers} peers) failed: exit {proc.returncode}")
        return float(out.decode().strip().splitlines()[-1])

    return run


WORKLOADS = [
    Workload(
        name=f"swarm_mesh_{PEERS}_peers_testnet{TESTNET_SIZE}",
        unit="s",
        higher_is_better=False,
        run_python=mesh_firewalled_seconds,
        js_script="swarm-mesh.js",
        js_args=["refresh", "firewalled", str(TESTNET_SIZE), str(PEERS), str(ROUNDS), str(WARMUP)],
    ),
    Workload(
        name=f"swarm_mesh_{PEERS}_peers_testnet{TESTNET_SIZE}_unfirewalled",
        unit="s",
        higher_is_better=False,
        run_python=mesh_open_seconds,
        js_script="swarm-mesh.js",
        js_args=["refresh", "open", str(TESTNET_SIZE), str(PEERS), str(ROUNDS), str(WARMUP)],
    ),
]
for _n in SCALE_PEERS:
    WORKLOADS += [
        Workload(
            name=f"swarm_scale_{_n}_peers_mesh_time",
            unit="s",
            higher_is_better=False,
            run_python=_scale_time(_n),
            js_script="swarm-mesh.js",
            js_args=["rescan", "firewalled", str(TESTNET_SIZE), str(_n), str(_scale_rounds(_n)), "1"],
        ),
        Workload(
            name=f"swarm_scale_{_n}_peers_memory_per_connection",
            unit="KiB",
            higher_is_better=False,
            run_python=_scale_memory(_n),
            js_script="swarm-mesh.js",
            js_args=["rescan", "firewalled", str(TESTNET_SIZE), str(_n), "1", "0", "memory"],
        ),
    ]

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "memory":
        from hyperpunch.eventloop import run as _run

        _peers = int(sys.argv[2])
        print(_run(mesh_seconds("rescan", "firewalled", rounds=1, warmup=0, peers=_peers, metric="memory")))
    else:
        raise SystemExit("usage: python -m bench.bench_swarm memory PEERS")

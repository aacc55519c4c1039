"""Helpers for Hypercore-over-Hyperswarm tests: a local DHT, Python peers, JS peers, CLI processes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from hyperpunch.hypercore import Hypercore
from hyperpunch.swarm import Hyperswarm
from jsref import NodeProcess, spawn_node

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def block(i: int) -> bytes:
    """Block ``i`` (``interop/scripts/core-swarm-peer.js`` uses the same text)."""
    return f"block {i}".encode()


async def digest(core: Hypercore, start: int, end: int) -> str:
    """sha256 over ``block + b"\\n"`` for the stored blocks ``[start, end)`` (as the JS peer's)."""
    h = hashlib.sha256()
    for i in range(start, end):
        v = await core.get(i, wait=False)
        h.update(bytes(v) if v is not None else b"")
        h.update(b"\n")
    return h.hexdigest()


def expected_digest(blocks: list[bytes]) -> str:
    h = hashlib.sha256()
    for b in blocks:
        h.update(b + b"\n")
    return h.hexdigest()


async def eventually(pred: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    try:
        async with asyncio.timeout(timeout):
            while not pred():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@contextlib.asynccontextmanager
async def local_dht(size: int = 4) -> AsyncIterator[str]:
    """A HyperDHT testnet on 127.0.0.1 (a bootstrapper + persistent nodes); yields "host:port"."""
    from hyperpunch.dht import HyperDHT

    boot = HyperDHT.bootstrapper(0, HOST, bind_host=HOST)
    nodes = [boot]
    try:
        await boot.ready()
        addr = boot.server_address()
        assert addr is not None
        bootstrap = [f"{HOST}:{addr.port}"]
        more = [HyperDHT(bootstrap=bootstrap, host=HOST, ephemeral=False) for _ in range(size - 1)]
        nodes.extend(more)
        await asyncio.gather(*(n.ready() for n in more))
        yield bootstrap[0]
    finally:
        for n in reversed(nodes):
            await n.aclose()


@contextlib.asynccontextmanager
async def py_peer(bootstrap: str, storage: Any = None, key: bytes | None = None) -> AsyncIterator[Hypercore]:
    """A Hypercore (new writer, or reader of ``key``) replicated on Hyperswarm over ``bootstrap``."""
    async with Hypercore(storage, key) as core, Hyperswarm(bootstrap=[bootstrap], host=HOST) as swarm:
        swarm.on_connection = lambda conn, info: core.replicate(conn)
        assert core.discovery_key is not None
        # announced before anyone else looks it up: two peers joining at the same moment can miss
        # each other until the next refresh (as in JS)
        await asyncio.wait_for(swarm.join(core.discovery_key, server=True, client=True).flushed(), 60)
        yield core


class JsPeer:
    """``core-swarm-peer.js`` with its events sorted by name (tails interleave with replies)."""

    def __init__(self, proc: NodeProcess) -> None:
        self.proc = proc
        self.queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.failure: BaseException | None = None
        self._task = asyncio.ensure_future(self._pump())

    def _queue(self, event: str) -> asyncio.Queue[dict[str, Any]]:
        return self.queues.setdefault(event, asyncio.Queue())

    async def _pump(self) -> None:
        try:
            while True:
                msg = await self.proc.recv(timeout=3600)
                self._queue(str(msg.get("event"))).put_nowait(msg)
        except BaseException as err:
            self.failure = err

    async def expect(self, event: str, timeout: float = 60) -> dict[str, Any]:
        q = self._queue(event)
        try:
            async with asyncio.timeout(timeout):
                while q.empty():
                    if self.failure is not None:
                        raise AssertionError(f"JS peer failed: {self.failure}")
                    await asyncio.sleep(0.01)
        except TimeoutError:
            raise AssertionError(f"JS peer: no {event!r} within {timeout}s\n{self.proc.stderr}") from None
        return q.get_nowait()

    async def call(self, cmd: dict[str, Any], event: str, timeout: float = 60) -> dict[str, Any]:
        await self.proc.send(cmd)
        return await self.expect(event, timeout)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.proc.send({"cmd": "exit"})
            await self.proc.wait(20)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def js_peer(
    bootstrap: str, key: bytes | None = None, *, flushed: bool = False
) -> AsyncIterator[tuple[JsPeer, dict[str, Any]]]:
    """``core-swarm-peer.js``: a new writer, or a reader of ``key``; with ``flushed``, yielded once
    its swarm has announced and looked up the topic."""
    opts: dict[str, Any] = {"bootstrap": [bootstrap]}
    if key is not None:
        opts["key"] = key.hex()
    async with spawn_node("core-swarm-peer.js", json.dumps(opts)) as proc:
        peer = JsPeer(proc)
        try:
            ready = await peer.expect("ready")
            if flushed:
                await peer.expect("flushed")
            yield peer, ready
        finally:
            await peer.close()


class Proc:
    """A CLI / example process with line-oriented stdout."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name

    async def line(self, timeout: float = 60) -> str:
        assert self.proc.stdout is not None
        try:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no output within {timeout}s") from None
        assert raw, f"{self.name} exited ({self.proc.returncode}): {await self.stderr()}"
        return raw.decode().rstrip("\n")

    async def lines(self, n: int, timeout: float = 60) -> list[str]:
        return [await self.line(timeout) for _ in range(n)]

    async def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        await self.proc.stdin.drain()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    async def stderr(self) -> str:
        assert self.proc.stderr is not None
        with contextlib.suppress(TimeoutError):
            return (await asyncio.wait_for(self.proc.stderr.read(), 5)).decode()
        return ""

    async def interrupt(self, sig: int = signal.SIGINT) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), 30)


@contextlib.asynccontextmanager
async def run(
    name: str, *args: str, stdin: bool = False, env: dict[str, str] | None = None, exe: str = sys.executable
) -> AsyncIterator[Proc]:
    proc = await asyncio.create_subprocess_exec(
        exe,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    try:
        yield Proc(proc, name)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

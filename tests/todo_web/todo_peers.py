"""Helpers of the todo client tests: a loopback DHT testnet, the headless Node todo peer
(``interop/browser/todo/node-peer.js``, the page's client code under Node) as a JSON-lines process,
and the browser bundle built by ``interop/browser/todo/build.sh``.

Fails (never skips) when node, the installed JS reference or esbuild is missing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from hyperpunch.dht import HyperDHT
from jsref import INTEROP, node_binary

HOST = "127.0.0.1"
TODO_DIR = INTEROP / "browser" / "todo"
NODE_PEER = TODO_DIR / "node-peer.js"

Todos = list[dict[str, Any]]


@contextlib.asynccontextmanager
async def local_testnet(size: int = 4) -> AsyncIterator[list[str]]:
    """A bootstrapper plus ``size - 1`` persistent nodes on 127.0.0.1; yields the bootstrap list."""
    boot = HyperDHT.bootstrapper(0, HOST, bind_host=HOST)
    nodes = [boot]
    try:
        await boot.ready()
        port = boot.server_address()
        assert port is not None
        bootstrap = [f"{HOST}:{port.port}"]
        more = [HyperDHT(bootstrap=bootstrap, host=HOST, ephemeral=False) for _ in range(size - 1)]
        nodes.extend(more)
        await asyncio.gather(*(n.ready() for n in more))
        yield bootstrap
    finally:
        for n in reversed(nodes):
            await n.aclose()


class TodoPeer:
    """A running node-peer.js: its output lines, kept in order, and a way to wait on them."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name
        self.lines: list[dict[str, Any]] = []
        self.todos: Todos = []
        self.status: dict[str, Any] = {}
        self._stderr = bytearray()
        self._changed = asyncio.Event()
        self._tasks = [asyncio.ensure_future(self._read()), asyncio.ensure_future(self._drain())]

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            msg: dict[str, Any] = json.loads(line)
            self.lines.append(msg)
            if "todos" in msg:
                self.todos = msg["todos"]
            if "status" in msg:
                self.status = msg["status"]
            self._changed.set()
        self._changed.set()

    async def _drain(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(65536):
            self._stderr += chunk

    def describe(self) -> str:
        tail = "\n".join(json.dumps(m) for m in self.lines[-12:])
        return f"{self.name}: last lines:\n{tail}\nstderr:\n{self._stderr.decode(errors='replace')}"

    async def wait_for(self, pred: Callable[[], Any], what: str, timeout: float = 60) -> Any:
        """Wait until ``pred()`` is truthy (checked after each output line); return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            got = pred()
            if got:
                return got
            fatal = [m for m in self.lines if m.get("error") == "FATAL"]
            if fatal or self.proc.stdout is None or self._tasks[0].done():
                raise AssertionError(f"{self.name} ended while waiting for {what}\n{self.describe()}")
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{self.name}: no {what} within {timeout}s\n{self.describe()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def ready(self) -> dict[str, Any]:
        msg: dict[str, Any] = await self.wait_for(
            lambda: next((m for m in self.lines if m.get("ready")), None), "ready"
        )
        return msg

    async def writable(self, timeout: float = 60) -> None:
        await self.wait_for(lambda: self.status.get("writable"), "writable status", timeout)

    async def send(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Send one command and wait for its ``ok``/``error`` answer."""
        assert self.proc.stdin is not None
        name = next(iter(cmd))
        start = len(self.lines)
        self.proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        await self.proc.stdin.drain()

        def answer() -> dict[str, Any] | None:
            for m in self.lines[start:]:
                if m.get("ok") == name or m.get("command") == name:
                    return m
            return None

        msg: dict[str, Any] = await self.wait_for(answer, f"answer to {name}")
        return msg

    async def texts(self, expected: list[str], timeout: float = 60) -> Todos:
        """Wait until the list's texts are ``expected`` (as a multiset: ObjectIds made in the same
        second by two processes sort by their random part, not by time)."""
        todos: Todos = await self.wait_for(
            lambda: self.todos if sorted(t["text"] for t in self.todos) == sorted(expected) else None,
            f"todos {expected}",
            timeout,
        )
        return todos

    async def aclose(self) -> None:
        if self.proc.returncode is None and self.proc.stdin is not None:
            with contextlib.suppress(ConnectionError):
                self.proc.stdin.write(b'{"exit": true}\n')
                await self.proc.stdin.drain()
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        for t in self._tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t


async def converged(
    *peers: TodoPeer,
    what: str = "the same todos on every peer",
    timeout: float = 60,
    also: Callable[[Todos], bool] = lambda _: True,
) -> Todos:
    """Wait until every peer shows the same non-empty list (for which ``also`` holds); returns it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for p in peers:
            p._changed.clear()
        first = peers[0].todos
        if first and all(p.todos == first for p in peers) and also(first):
            return first
        left = deadline - loop.time()
        if left <= 0 or any(p._tasks[0].done() for p in peers):
            raise AssertionError(f"no {what} within {timeout}s\n" + "\n".join(p.describe() for p in peers))
        waits = [asyncio.ensure_future(p._changed.wait()) for p in peers]
        try:
            await asyncio.wait(waits, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()


@contextlib.asynccontextmanager
async def todo_peer(name: str, **opts: Any) -> AsyncIterator[TodoPeer]:
    proc = await asyncio.create_subprocess_exec(
        node_binary(),
        str(NODE_PEER),
        json.dumps(opts),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=TODO_DIR,
        limit=1 << 24,
    )
    peer = TodoPeer(proc, name)
    try:
        yield peer
    finally:
        await peer.aclose()


def build_bundle(out: Path, entry: Path | None = None) -> Path:
    """Run build.sh into ``out`` (todo.js, index.html, style.css); returns ``out``."""
    esbuild = INTEROP / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        raise RuntimeError("interop/node_modules/.bin/esbuild missing: run `make deps`")
    args = [str(out)] + ([str(entry)] if entry is not None else [])
    subprocess.run(["sh", str(TODO_DIR / "build.sh"), *args], check=True, cwd=INTEROP)
    return out

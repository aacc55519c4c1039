"""Helpers for the SDK tests: run hyper-sdk 4.5.1 scripts (tests/sdk/*.mjs), a loopback DHT."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from jsref import NodeProcess, node_binary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SDK_MODULES = ROOT / "interop" / "sdk" / "node_modules"
HOST = "127.0.0.1"


def _node() -> str:
    node = node_binary()
    if not (SDK_MODULES / "hyper-sdk" / "index.js").is_file():
        raise RuntimeError("interop/sdk/node_modules/hyper-sdk is missing: run `make deps`")
    return node


def run_sdk_json(script: str, arg: Any, timeout: float = 120) -> Any:
    """Run ``tests/sdk/<script>`` with ``arg`` (JSON) and parse its stdout as one JSON document."""
    proc = subprocess.run(
        [_node(), str(HERE / script), json.dumps(arg)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT / "interop" / "sdk",
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{script} exited {proc.returncode}:\n{proc.stderr}")
    return json.loads(proc.stdout)


@contextlib.asynccontextmanager
async def spawn_sdk(script: str, arg: Any) -> AsyncIterator[NodeProcess]:
    """Start ``tests/sdk/<script>`` (JSON lines on stdin/stdout); killed on exit."""
    proc = await asyncio.create_subprocess_exec(
        _node(),
        str(HERE / script),
        json.dumps(arg),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT / "interop" / "sdk",
        limit=1 << 24,
    )
    node = NodeProcess(proc, script)
    try:
        yield node
    finally:
        await node.aclose()


async def eventually(pred: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    try:
        async with asyncio.timeout(timeout):
            while not pred():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@contextlib.asynccontextmanager
async def local_dht(size: int = 4) -> AsyncIterator[list[str]]:
    """A HyperDHT testnet on 127.0.0.1 (a bootstrapper + persistent nodes); yields the bootstrap."""
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
        yield bootstrap
    finally:
        for n in reversed(nodes):
            await n.aclose()


class JsSDK:
    """A hyper-sdk peer (tests/sdk/sdk-peer.mjs): ``await js.call("get", x=...)`` returns the
    reply; other events are kept for :meth:`wait_event`."""

    def __init__(self, node: NodeProcess) -> None:
        self.node = node
        self.events: list[dict[str, Any]] = []
        self._next = 0
        self.public_key = ""

    async def call(self, cmd: str, timeout: float = 60, **args: Any) -> dict[str, Any]:
        self._next += 1
        rid = self._next
        await self.node.send({"cmd": cmd, "id": rid, **args})
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.node.recv(timeout)
                if msg.get("event") == "ok" and msg.get("id") == rid:
                    return msg
                self.events.append(msg)

    async def wait_event(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 60, what: str = "event"
    ) -> dict[str, Any]:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for i, msg in enumerate(self.events):
                        if pred(msg):
                            return self.events.pop(i)
                    self.events.append(await self.node.recv(timeout))
        except TimeoutError:
            raise AssertionError(f"JS peer: no {what} within {timeout}s\n{self.node.stderr}") from None


@contextlib.asynccontextmanager
async def js_sdk(bootstrap: list[str], *, auto_join: bool = True) -> AsyncIterator[JsSDK]:
    async with spawn_sdk("sdk-peer.mjs", {"bootstrap": bootstrap, "autoJoin": auto_join}) as node:
        js = JsSDK(node)
        ready = await node.expect("ready")
        js.public_key = ready["publicKey"]
        yield js


async def next_kind(events: Any, kind: str, timeout: float = 60) -> Any:
    """The next :class:`PeerEvent` of ``kind`` from ``events`` (others, e.g. a duplicate
    connection's, are skipped)."""
    async with asyncio.timeout(timeout):
        async for event in events:
            if event.kind == kind:
                return event
    raise AssertionError(f"the events ended before a {kind}")

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

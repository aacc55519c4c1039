"""Loopback HyperDHT testnets, a Python relay on them, and echo helpers for the relay tests."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

from hyperpunch.dht import HyperDHT
from hyperpunch.relay import RelayLimits, RelayServer
from hyperpunch.secretstream import SecretStream

HOST = "127.0.0.1"
MIB = 1 << 20


@contextlib.asynccontextmanager
async def testnet(size: int = 5) -> AsyncIterator[list[str]]:
    """A bootstrapper plus ``size - 1`` persistent nodes; yields the bootstrap list."""
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


@contextlib.asynccontextmanager
async def peer(bootstrap: list[str], **opts: Any) -> AsyncIterator[HyperDHT]:
    node = HyperDHT(bootstrap=bootstrap, host=HOST, **opts)
    try:
        await node.ready()
        yield node
    finally:
        await node.aclose()


@contextlib.asynccontextmanager
async def python_relay(
    bootstrap: list[str], *, limits: RelayLimits | None = None, require_non_custodial: bool = False
) -> AsyncIterator[RelayServer]:
    """A HyperDHT node on ``bootstrap`` served as a relay on ws://127.0.0.1:<free port>."""
    async with peer(bootstrap) as node:
        relay = RelayServer(node, HOST, 0, limits=limits, require_non_custodial=require_non_custodial)
        async with relay:
            yield relay


async def echo(stream: SecretStream) -> None:
    """Server side: write back every message, end when the client ends."""
    async for message in stream:
        stream.write(message)
        await stream.drain()
    stream.write_eof()


async def send_and_check_echo(stream: Any, total: int = MIB) -> tuple[str, str, int]:
    """Write ``total`` random bytes (64 KiB messages), end, read the echo; (sent sha, got sha, bytes)."""
    sent = hashlib.sha256()
    got = hashlib.sha256()
    received = 0

    async def reader() -> None:
        nonlocal received
        async for message in stream:
            got.update(message)
            received += len(message)

    task = asyncio.ensure_future(reader())
    try:
        left = total
        while left:
            chunk = os.urandom(min(left, 65536))
            sent.update(chunk)
            stream.write(chunk)
            await stream.drain()
            left -= len(chunk)
        stream.write_eof()
        await asyncio.wait_for(task, 60)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    return sent.hexdigest(), got.hexdigest(), received

"""Local HyperDHT testnets on 127.0.0.1 for the connect tests (bootstrapper + persistent nodes)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

from hyperpunch.dht import HyperDHT
from hyperpunch.secretstream import SecretStream

HOST = "127.0.0.1"
MIB = 1 << 20


def force_firewalled(node: HyperDHT) -> None:
    """Make a loopback node behave as if behind a NAT: no remote address, firewall UNKNOWN, so a
    connection must go through the holepunch protocol (JS twin: dht-conn-peer.js ``firewalled``)."""
    node.core.firewalled = node.core.io.firewalled = True


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
async def peer(bootstrap: list[str], *, firewalled: bool = False, **opts: Any) -> AsyncIterator[HyperDHT]:
    node = HyperDHT(bootstrap=bootstrap, host=HOST, **opts)
    try:
        await node.ready()
        if firewalled:
            force_firewalled(node)
        yield node
    finally:
        await node.aclose()


async def echo(stream: SecretStream) -> None:
    """Server side: write back every message, end when the client ends."""
    async for message in stream:
        stream.write(message)
        await stream.drain()
    stream.write_eof()


async def send_and_check_echo(stream: SecretStream, total: int = MIB) -> tuple[str, str, int]:
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
        await asyncio.wait_for(task, 30)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    return sent.hexdigest(), got.hexdigest(), received

"""Loopback HyperDHT testnets, a Python relay on them, and echo helpers for the relay tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from hyperpunch.dht import HyperDHT
from hyperpunch.relay import RelayLimits, RelayServer, RelaySession
from streamcheck import echo as echo
from streamcheck import send_and_check_echo as check_echo

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
    bootstrap: list[str],
    *,
    limits: RelayLimits | None = None,
    require_non_custodial: bool = False,
    on_session: Callable[[RelaySession], None] | None = None,
) -> AsyncIterator[RelayServer]:
    """A HyperDHT node on ``bootstrap`` served as a relay on ws://127.0.0.1:<free port>."""
    async with peer(bootstrap) as node:
        relay = RelayServer(
            node, HOST, 0, limits=limits, require_non_custodial=require_non_custodial, on_session=on_session
        )
        async with relay:
            yield relay


async def send_and_check_echo(stream: Any, total: int = MIB) -> tuple[str, str, int]:
    """:func:`streamcheck.send_and_check_echo` with the relay's longer wait (many clients at once)."""
    return await check_echo(stream, total, timeout=60)

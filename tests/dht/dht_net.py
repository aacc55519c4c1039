"""Local HyperDHT testnets on 127.0.0.1 for the connect tests (bootstrapper + persistent nodes)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from hyperpunch.dht import HyperDHT
from streamcheck import echo as echo
from streamcheck import send_and_check_echo as send_and_check_echo

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

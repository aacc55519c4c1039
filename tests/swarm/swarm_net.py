"""A local HyperDHT testnet on 127.0.0.1 for swarm tests (bootstrapper + persistent nodes)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from hyperpunch.dht import HyperDHT

HOST = "127.0.0.1"


@contextlib.asynccontextmanager
async def local_testnet(size: int = 4) -> AsyncIterator[list[str]]:
    """A bootstrapper plus ``size - 1`` persistent nodes; yields the bootstrap list ("host:port")."""
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

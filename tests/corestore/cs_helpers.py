"""Helpers for the corestore tests: deterministic blocks, TCP secret-stream pairs, waiting."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from hyperpunch.secretstream import SecretStream, serve


def block(core_index: int, i: int) -> bytes:
    """Block ``i`` of core ``core_index`` (the JS interop script uses the same text)."""
    return f"core {core_index} block {i}".encode()


@contextlib.asynccontextmanager
async def tcp_streams() -> AsyncIterator[tuple[SecretStream, SecretStream]]:
    """A connected (initiator, responder) secret-stream pair over TCP 127.0.0.1."""
    accepted: asyncio.Queue[SecretStream] = asyncio.Queue()

    async def handler(stream: SecretStream) -> None:
        await accepted.put(stream)
        await stream.wait_closed()

    server = await serve(handler, "127.0.0.1", 0)
    async with server:
        client = await SecretStream.connect("127.0.0.1", server.port)
        responder = await asyncio.wait_for(accepted.get(), 10)
        try:
            yield client, responder
        finally:
            client.close()
            responder.close()


async def eventually(pred: Callable[[], bool], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def local_dht(size: int = 4) -> AsyncIterator[str]:
    """A HyperDHT testnet on 127.0.0.1 (a bootstrapper + persistent nodes); yields "host:port"."""
    from hyperpunch.dht import HyperDHT

    boot = HyperDHT.bootstrapper(0, "127.0.0.1", bind_host="127.0.0.1")
    nodes = [boot]
    try:
        await boot.ready()
        addr = boot.server_address()
        assert addr is not None
        bootstrap = [f"127.0.0.1:{addr.port}"]
        more = [HyperDHT(bootstrap=bootstrap, host="127.0.0.1", ephemeral=False) for _ in range(size - 1)]
        nodes.extend(more)
        await asyncio.gather(*(n.ready() for n in more))
        yield bootstrap[0]
    finally:
        for n in reversed(nodes):
            await n.aclose()

"""Links of a three-peer mesh for the multi-writer DB tests: two Python Corestores and a JS peer
(``interop/scripts/docdb-autobase-peer.js``), each pair joined by a direct secret stream over TCP
127.0.0.1 that the test can drop and restore."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from hyperpunch.corestore import Corestore
from hyperpunch.hypercore import Hypercore
from hyperpunch.secretstream import SecretStream, SecretStreamServer, serve
from jsref import NodeProcess

LINK_TIMEOUT = 30.0


class Link:
    """One replication connection: ``connect()`` opens it and returns the muxes it made;
    :meth:`drop` closes them (the far side sees the stream end), :meth:`restore` reconnects."""

    def __init__(self, name: str, connect: Callable[[], Awaitable[list[Any]]]) -> None:
        self.name = name
        self._connect = connect
        self.muxes: list[Any] = []

    @property
    def up(self) -> bool:
        return bool(self.muxes)

    async def restore(self) -> None:
        if not self.muxes:
            self.muxes = await asyncio.wait_for(self._connect(), LINK_TIMEOUT)

    async def drop(self) -> None:
        muxes, self.muxes = self.muxes, []
        for mux in muxes:
            await mux.aclose()


@contextlib.asynccontextmanager
async def python_server(store: Corestore) -> AsyncIterator[tuple[SecretStreamServer, list[Any]]]:
    """A secret-stream server replicating ``store`` on every accepted stream; yields the
    server and the muxes it made (each ends with its stream)."""
    muxes: list[Any] = []

    async def handler(stream: SecretStream) -> None:
        mux = store.replicate(stream)
        muxes.append(mux)
        try:
            await stream.wait_closed()
        finally:
            await mux.aclose()
            muxes.remove(mux)

    server = await serve(handler, "127.0.0.1", 0)
    async with server:
        yield server, muxes


def to_port(store: Corestore, port: int) -> Callable[[], Awaitable[list[Any]]]:
    """Connect ``store`` to a server on 127.0.0.1:``port`` and replicate over it."""

    async def connect() -> list[Any]:
        stream = await SecretStream.connect("127.0.0.1", port)
        return [store.replicate(stream)]

    return connect


async def until_length(core: Hypercore, length: int, timeout: float = 60.0) -> None:
    """Until ``core`` holds ``length`` contiguous blocks (waiting on its append and download
    events, bounded), asking the peers for the blocks."""
    moved = asyncio.Event()

    def poke(*_: Any) -> None:
        moved.set()

    offs = [core.on("append", poke), core.on("download", poke)]
    try:
        async with asyncio.timeout(timeout):
            while core.contiguous_length < length:
                moved.clear()
                if core.length >= length:
                    download = core.download(core.contiguous_length, length)
                    await download.done()
                    continue
                await moved.wait()
    finally:
        for off in offs:
            off()


async def js_do(js: NodeProcess, cmd: dict[str, Any], event: str = "done") -> dict[str, Any]:
    """Send ``cmd`` to the JS peer and return its answer ``event`` (a ``failed`` answer fails)."""
    await js.send(cmd)
    msg = await js.recv()
    if msg.get("event") != event:
        raise AssertionError(f"JS peer: {cmd.get('cmd')} answered {msg}\n{js.stderr}")
    return msg

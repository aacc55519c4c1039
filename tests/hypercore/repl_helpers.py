"""Helpers for the replication tests: stream pairs, linking cores, deterministic blocks, evil peers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.replication import Replicator, attach_replicator, replicate
from hyperpunch.hypercore.replication.peer import Peer
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.protomux import Protomux, memory_stream_pair
from hyperpunch.secretstream import SecretStream, serve


def block(i: int, size: int = 64) -> bytes:
    """Block ``i``: uint32 LE ``i`` repeated (the JS interop script uses the same function)."""
    return (i & 0xFFFFFFFF).to_bytes(4, "little") * (size // 4)


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


class Link:
    """Two cores replicating over one stream pair."""

    def __init__(self, a: Protomux, b: Protomux) -> None:
        self.a = a
        self.b = b

    async def aclose(self) -> None:
        await self.a.aclose()
        await self.b.aclose()


@contextlib.asynccontextmanager
async def tcp_link(a: Hypercore, b: Hypercore) -> AsyncIterator[Link]:
    async with tcp_streams() as (sa, sb):
        link = Link(replicate(a, sa), replicate(b, sb))
        try:
            yield link
        finally:
            await link.aclose()


@contextlib.asynccontextmanager
async def memory_link(
    a: Hypercore, b: Hypercore, *, hh_a: bytes = b"\x07" * 64, hh_b: bytes = b"\x07" * 64
) -> AsyncIterator[Link]:
    """``a`` (initiator) and ``b`` over an in-memory stream with a made-up handshake hash."""
    s1, s2 = memory_stream_pair()
    ma, mb = Protomux(s1), Protomux(s2)
    replicate(a, ma, is_initiator=True, handshake_hash=hh_a)
    replicate(b, mb, is_initiator=False, handshake_hash=hh_b)
    link = Link(ma, mb)
    try:
        yield link
    finally:
        await link.aclose()


async def writer_with(n: int, size: int = 64) -> Hypercore:
    core = Hypercore(None)
    await core.ready()
    for i in range(0, n, 5000):
        await core.append([block(j, size) for j in range(i, min(n, i + 5000))])
    return core


async def reader_of(writer: Hypercore) -> Hypercore:
    assert writer.key is not None
    core = Hypercore(None, writer.key)
    await core.ready()
    return core


def replicator_of(core: Hypercore) -> Replicator:
    rep = core.core.replicator
    assert isinstance(rep, Replicator)
    return rep


async def eventually(pred: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.01)


class _Tamper:
    """Wraps a channel message so every value sent goes through ``fn`` first."""

    def __init__(self, message: Any, fn: Callable[[Any], Any]) -> None:
        self.message = message
        self.fn = fn

    def send(self, value: Any) -> bool:
        out = self.fn(value)
        if out is None:
            return True
        return bool(self.message.send(out))


def evil_peer_class(
    *, data: Callable[[m.Data], m.Data | None] | None = None, sync: Callable[[m.Sync], m.Sync] | None = None
) -> type[Peer]:
    """A :class:`Peer` subclass that rewrites its outgoing data / sync messages."""

    class EvilPeer(Peer):
        def attach_channel(self, channel: Any) -> None:
            super().attach_channel(channel)
            if data is not None:
                self._w_data = _Tamper(self._w_data, data)  # type: ignore[assignment]
            if sync is not None:
                self._w_sync = _Tamper(self._w_sync, sync)  # type: ignore[assignment]

    return EvilPeer


def make_evil(core: Hypercore, peer_class: type[Peer]) -> None:
    """Make ``core`` use ``peer_class`` for the peers it attaches from now on."""
    attach_replicator(core.core).peer_factory = peer_class

"""The asyncio adapter over in-memory message streams: async handlers, batching, drain, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hyperpunch import encoding as c
from hyperpunch.protomux import (
    Channel,
    MemoryStream,
    MessageQueue,
    MessageSpec,
    Protomux,
    memory_stream_pair,
    wait_destroyed,
    wait_opened,
)


class Recording(MemoryStream):
    """A MemoryStream that keeps every frame it reads."""

    def __init__(self, limit: int = 1 << 20) -> None:
        super().__init__(limit)
        self.frames: list[bytes] = []

    async def read(self) -> bytes | None:
        frame = await super().read()
        if frame is not None:
            self.frames.append(frame)
        return frame


def recording_pair(limit: int = 1 << 20) -> tuple[Recording, Recording]:
    a, b = Recording(limit), Recording(limit)
    a.peer, b.peer = b, a
    return a, b


@pytest.fixture
async def muxes() -> AsyncIterator[tuple[Protomux, Protomux, Recording, Recording]]:
    sa, sb = recording_pair()
    async with Protomux(sa) as a, Protomux(sb) as b:
        yield a, b, sa, sb


async def opened_pair(a: Protomux, b: Protomux, **kw_b: Any) -> tuple[Channel, Channel]:
    ca = a.create_channel("p", handshake=c.string, messages=[c.string, c.uint])
    cb = b.create_channel(
        "p",
        handshake=c.string,
        messages=kw_b.get("messages", [c.string, c.uint]),
        **{k: v for k, v in kw_b.items() if k != "messages"},
    )
    assert ca is not None and cb is not None
    ca.open("a")
    cb.open("b")
    assert await asyncio.wait_for(wait_opened(ca), 10) is True
    assert await asyncio.wait_for(wait_opened(cb), 10) is True
    return ca, cb


async def test_message_queue_iterates_until_close(muxes: Any) -> None:
    a, b, _, _ = muxes
    ca, cb = await opened_pair(a, b)
    queue: MessageQueue[str] = MessageQueue(cb.messages[0])
    for word in ("one", "two", "three"):
        ca.messages[0].send(word)
    ca.close()
    got = [v async for v in queue]
    assert got == ["one", "two", "three"]
    await asyncio.wait_for(wait_destroyed(cb), 10)
    assert cb.closed and cb.destroyed


async def test_async_handlers_hold_the_reply_batch(muxes: Any) -> None:
    a, b, sa, _ = muxes
    release = asyncio.Event()

    async def reply(value: str, ch: Channel) -> None:
        await release.wait()
        ch.messages[0].send(value.upper())

    ca, _cb = await opened_pair(a, b, messages=[MessageSpec(c.string, on_message=reply), c.uint])
    got: list[str] = []
    ca.messages[0].on_message = lambda v, ch: got.append(v)
    before = len(sa.frames)
    a.cork()
    ca.messages[0].send("x")
    ca.messages[0].send("y")
    a.uncork()
    for _ in range(5):
        await asyncio.sleep(0)
    assert b.corked == 1  # the received batch keeps b corked while its handlers run
    release.set()
    while len(got) < 2:
        await asyncio.sleep(0.01)
    assert got == ["X", "Y"]
    replies = sa.frames[before:]
    assert len(replies) == 1 and replies[0][:2] == b"\x00\x00"
    assert b.corked == 0


async def test_async_close_handler_delays_destroy(muxes: Any) -> None:
    a, b, _, _ = muxes
    release = asyncio.Event()
    events: list[str] = []

    async def on_close(remote: bool, ch: Channel) -> None:
        events.append(f"close {remote}")
        await release.wait()
        events.append("close done")

    ca, cb = await opened_pair(a, b, on_close=on_close, on_destroy=lambda ch: events.append("destroy"))
    ca.close()
    while not cb.closed:
        await asyncio.sleep(0.01)
    assert events == ["close True"] and not cb.destroyed
    release.set()
    await asyncio.wait_for(wait_destroyed(cb), 10)
    assert events == ["close True", "close done", "destroy"]


async def test_async_pair_buffers_until_created(muxes: Any) -> None:
    a, b, _, _ = muxes
    go = asyncio.Event()
    got: list[str] = []

    async def notify(id: bytes | None) -> None:
        await go.wait()
        ch = b.create_channel(
            "later", messages=[MessageSpec(c.string, on_message=lambda v, ch: got.append(v))]
        )
        assert ch is not None
        ch.open()

    b.pair("later", notify)
    ca = a.create_channel("later", messages=[c.string])
    assert ca is not None
    ca.open()
    for word in ("queued", "while", "pairing"):
        ca.messages[0].send(word)
    await asyncio.sleep(0.05)
    assert got == [] and not ca.opened
    go.set()
    assert await asyncio.wait_for(wait_opened(ca), 10) is True
    while len(got) < 3:
        await asyncio.sleep(0.01)
    assert got == ["queued", "while", "pairing"]


async def test_async_handler_error_destroys_both_sides(muxes: Any) -> None:
    a, b, _, _ = muxes
    boom = RuntimeError("async bug")

    async def explode(value: str, ch: Channel) -> None:
        await asyncio.sleep(0)
        raise boom

    ca, cb = await opened_pair(a, b, messages=[MessageSpec(c.string, on_message=explode), c.uint])
    ca.messages[0].send("go")
    await asyncio.wait_for(b.wait_closed(), 10)
    await asyncio.wait_for(a.wait_closed(), 10)
    assert b.error is boom
    assert ca.closed and cb.closed


async def test_drain_and_on_drain() -> None:
    sa, sb = memory_stream_pair(limit=1000)
    drains: list[str] = []
    async with Protomux(sa) as a, Protomux(sb) as b:
        received: list[bytes] = []
        ca = a.create_channel("p", messages=[c.raw], on_drain=lambda ch: drains.append("drain"))
        cb = b.create_channel("p", messages=[MessageSpec(c.raw, on_message=lambda v, ch: received.append(v))])
        assert ca is not None and cb is not None
        ca.open()
        cb.open()
        await asyncio.wait_for(wait_opened(ca), 10)
        results = [ca.messages[0].send(b"z" * 400) for _ in range(5)]
        assert results[0] is True and results[-1] is False and not a.drained
        await asyncio.wait_for(a.drain(), 10)
        assert a.drained and drains == ["drain"]
        while len(received) < 5:
            await asyncio.sleep(0.01)


async def test_remote_end_closes_everything_and_from_stream() -> None:
    sa, sb = memory_stream_pair()
    a = Protomux(sa)
    assert Protomux.from_stream(sa) is a
    b = Protomux(sb)
    ca, cb = await opened_pair(a, b)
    closes: list[bool] = []
    ca.on_close = lambda remote, ch: closes.append(remote)
    sb.write_eof()  # b's stream ends its side: a ends too (no half-open), then both close
    await asyncio.wait_for(a.wait_closed(), 10)
    await asyncio.wait_for(b.wait_closed(), 10)
    assert closes == [True] and ca.closed and cb.closed
    assert a.create_channel("p") is None
    await a.aclose()
    await b.aclose()


async def test_aclose_cancels_running_handlers() -> None:
    sa, sb = memory_stream_pair()
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def forever(value: str, ch: Channel) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    a, b = Protomux(sa), Protomux(sb)
    ca, cb = await opened_pair(a, b, messages=[MessageSpec(c.string, on_message=forever), c.uint])
    ca.messages[0].send("hang")
    await asyncio.wait_for(started.wait(), 10)
    await b.aclose()
    await a.aclose()
    assert cancelled.is_set() and cb.closed and b.closed and a.closed


async def test_paused_reader_resumes_and_aclose_does_not_hang() -> None:
    sa, sb = memory_stream_pair()
    never = asyncio.Event()

    async def notify(id: bytes | None) -> None:
        await never.wait()  # keeps the channel pairing: its messages stay buffered

    async with Protomux(sa) as a:
        b = Protomux(sb)
        b.pair("slow", notify)
        ca = a.create_channel("slow", messages=[c.raw])
        assert ca is not None
        ca.open()
        for _ in range(80):  # 80 * (512 + 10) > 32 KiB of buffered messages
            ca.messages[0].send(b"0123456789")
        while not b.core.paused:
            await asyncio.sleep(0.01)
        await asyncio.wait_for(b.aclose(), 10)
        assert b.closed

"""The sans-IO core, two instances wired back to back in memory (CorePair)."""

from __future__ import annotations

from typing import Any

import pytest

from hyperpunch import encoding as c
from hyperpunch.encoding import DecodeError, EncodeError
from hyperpunch.protomux import (
    MAX_BATCH,
    BatchTooDeepError,
    Channel,
    ChannelClosedError,
    ChannelNotOpenError,
    CorePair,
    MemoryHost,
    MessageSpec,
    ProtomuxCore,
    ProtomuxError,
    ProtomuxLocalError,
    UnbalancedUncorkError,
)


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def channel(self, mux: ProtomuxCore, name: str, protocol: str = "test", **kw: Any) -> Channel:
        ch = mux.create_channel(
            protocol,
            handshake=kw.pop("handshake", c.string),
            messages=kw.pop(
                "messages",
                [
                    MessageSpec(c.string, on_message=lambda v, ch: self.events.append(("msg", name, 0, v))),
                    MessageSpec(c.uint, on_message=lambda v, ch: self.events.append(("msg", name, 1, v))),
                ],
            ),
            on_open=lambda hs, ch: self.events.append(("open", name, hs)),
            on_close=lambda remote, ch: self.events.append(("close", name, remote)),
            on_destroy=lambda ch: self.events.append(("destroy", name)),
            **kw,
        )
        assert ch is not None
        return ch

    def of(self, kind: str, name: str | None = None) -> list[tuple[Any, ...]]:
        return [e for e in self.events if e[0] == kind and (name is None or e[1] == name)]


def open_pair(
    log: Log, pair: CorePair, protocol: str = "test", id: bytes | None = None
) -> tuple[Channel, Channel]:
    a = log.channel(pair.a, "a", protocol, id=id)
    b = log.channel(pair.b, "b", protocol, id=id)
    a.open("hello from a")
    b.open("hello from b")
    pair.pump()
    return a, b


def test_open_messages_close() -> None:
    log, pair = Log(), CorePair()
    a, b = open_pair(log, pair)
    assert a.opened and b.opened
    assert a.handshake == "hello from b" and b.handshake == "hello from a"
    assert pair.a.opened("test") and pair.b.opened("test")
    a.messages[0].send("ping")
    b.messages[1].send(2**40)
    pair.pump()
    assert log.of("msg") == [("msg", "b", 0, "ping"), ("msg", "a", 1, 2**40)]
    a.close()
    pair.pump()
    assert ("close", "a", False) in log.events and ("close", "b", True) in log.events
    assert a.destroyed and b.destroyed and a.opened  # JS keeps `opened` after a close
    assert a.messages[0].send("late") is False
    assert pair.a.is_idle() and pair.b.is_idle()
    assert not pair.a.opened("test")
    assert pair.a.error is None and pair.b.error is None


def test_many_channels_by_id_and_reuse() -> None:
    log, pair = Log(), CorePair()
    chans = []
    for i in range(300):
        id = i.to_bytes(4, "big")
        a = log.channel(pair.a, f"a{i}", "many", id=id)
        b = log.channel(pair.b, f"b{i}", "many", id=id)
        b.open(f"b{i}")
        a.open(f"a{i}")
        chans.append((a, b))
    pair.pump()
    assert all(a.handshake == f"b{i}" and b.handshake == f"a{i}" for i, (a, b) in enumerate(chans))
    for i, (a, _) in enumerate(chans):
        a.messages[1].send(i)
    pair.pump()
    assert [e[3] for e in log.of("msg")] == list(range(300))
    assert len(list(pair.a)) == 300
    for a, _ in chans[:10]:
        a.close()
    pair.pump()
    again_a = log.channel(pair.a, "again", "again")
    again_b = log.channel(pair.b, "again-b", "again")
    again_b.open("x")
    again_a.open("y")
    pair.pump()
    assert again_a.opened and again_a.local_id <= 10


def test_unique_aliases_last_channel() -> None:
    log, pair = Log(), CorePair()
    a = log.channel(pair.a, "a", "hypercore/alpha", aliases=["hypercore"])
    a.open("x")
    assert pair.a.create_channel("hypercore/alpha") is None
    assert pair.a.get_last_channel("hypercore/alpha") is a
    assert pair.a.create_channel("hypercore/alpha", unique=False) is not None
    # a remote OPEN under the alias pairs with it (the "aliases" vector checks the bytes)
    pair.a.receive_data(b"\x00\x01\x01\x09hypercore\x00" + c.encode(c.string, "y"))
    pair.pump()
    assert a.opened and a.handshake == "y"


def test_pair_and_unpair() -> None:
    log, pair = Log(), CorePair()
    seen: list[bytes | None] = []

    def notify(id: bytes | None) -> None:
        seen.append(id)
        log.channel(pair.b, "b", "lazy", id=id).open("b")

    pair.b.pair("lazy", notify)
    a = log.channel(pair.a, "a", "lazy", id=b"\x01" * 32)
    a.open("a")
    pair.pump()
    assert seen == [b"\x01" * 32] and a.opened and a.handshake == "b"
    pair.b.unpair("lazy")
    a2 = log.channel(pair.a, "a2", "lazy", id=b"\x02" * 32)
    a2.open("a")
    pair.pump()
    assert a2.closed and ("close", "a2", True) in log.events  # rejected


def test_cork_sends_one_batch_frame() -> None:
    log, pair = Log(), CorePair()
    a, _b = open_pair(log, pair)
    before = len(pair.wire_a)
    a.cork()
    for i in range(10):
        assert a.messages[1].send(i) is True
    a.messages[0].send("end")
    a.uncork()
    pair.pump()
    frames = pair.wire_a[before:]
    assert len(frames) == 1 and frames[0][:2] == b"\x00\x00"
    assert [e[3] for e in log.of("msg", "b")] == [*range(10), "end"]


def test_batches_split_at_max_batch() -> None:
    log, pair = Log(), CorePair()
    a, _b = open_pair(log, pair)
    before = len(pair.wire_a)
    chunk = "x" * (1 << 20)
    pair.a.cork()
    for _ in range(10):
        a.messages[0].send(chunk)
    pair.a.uncork()
    pair.pump()
    frames = pair.wire_a[before:]
    assert len(frames) == 2 and all(f[:2] == b"\x00\x00" for f in frames)
    assert len(frames[0]) <= MAX_BATCH + len(chunk) + 16
    assert len(log.of("msg", "b")) == 10


def test_local_misuse_raises_local_errors() -> None:
    log, pair = Log(), CorePair()
    ch = log.channel(pair.a, "a")
    with pytest.raises(ChannelNotOpenError):
        ch.messages[0].send("too early")
    ch.open("x")
    with pytest.raises(ChannelClosedError):
        ch.open("again")
    with pytest.raises(EncodeError):
        ch.messages[1].send(-1)
    with pytest.raises(EncodeError):
        ch.messages[0].send(b"not a str")
    bad = log.channel(pair.a, "bad", "other")
    with pytest.raises(EncodeError):
        bad.open(12)  # the handshake codec is a string
    assert bad.local_id == 0
    with pytest.raises(UnbalancedUncorkError):
        pair.a.uncork()
    assert isinstance(UnbalancedUncorkError("x"), ProtomuxLocalError)
    assert isinstance(UnbalancedUncorkError("x"), ProtomuxError)


def test_handler_exception_destroys_the_mux() -> None:
    log, pair = Log(), CorePair()
    boom = RuntimeError("handler bug")

    def explode(value: Any, ch: Channel) -> None:
        raise boom

    a = log.channel(pair.a, "a")
    b = log.channel(pair.b, "b", messages=[MessageSpec(c.string, on_message=explode)])
    other_a = log.channel(pair.a, "oa", "other")
    other_b = log.channel(pair.b, "ob", "other")
    for ch in (a, b, other_a, other_b):
        ch.open("hs")
    pair.pump()
    a.messages[0].send("trigger")
    pair.pump()
    assert pair.b.error is boom and pair.host_b.destroy_error is boom
    assert all(ch.closed for ch in (a, b, other_a, other_b))
    assert ("close", "oa", True) in log.events


def test_undecodable_message_destroys_the_whole_mux_like_js() -> None:
    log, pair = Log(), CorePair()
    a, b = open_pair(log, pair)
    pair.host_a.frames.append(bytes([a.local_id, 1, 0xFD, 0x01]))  # truncated uint
    pair.pump()
    assert isinstance(pair.b.error, DecodeError)
    assert a.closed and b.closed


def test_backpressure_flag_and_drain() -> None:
    host = MemoryHost()
    mux = ProtomuxCore(host)
    drained: list[str] = []
    ch = mux.create_channel("p", messages=[c.raw], on_drain=lambda ch: drained.append("drain"))
    assert ch is not None
    ch.open()
    host.write_result = False
    assert ch.messages[0].send(b"x") is False
    assert mux.drained is False and ch.drained is False
    host.write_result = True
    mux.on_drain()
    assert mux.drained is True and drained == ["drain"]


def test_nested_batches_are_bounded() -> None:
    host = MemoryHost()
    mux = ProtomuxCore(host)
    inner = b"\x00\x01\x02\x00\x05"  # a batch for channel 1 (nothing there)
    frame = inner
    for _ in range(200):
        frame = (
            b"\x00" + bytes([len(frame)]) + frame
            if len(frame) < 0xFD
            else b"\x00" + b"\xfd" + len(frame).to_bytes(2, "little") + frame
        )
        frame = b"\x00" + frame  # type 0 BATCH with channel 0 in front
    mux.receive_data(b"\x00" + frame)
    assert isinstance(mux.error, (BatchTooDeepError, DecodeError))


def test_remote_end_ends_ours_and_close_closes_channels() -> None:
    host = MemoryHost()
    mux = ProtomuxCore(host)
    ch = mux.create_channel("p")
    assert ch is not None
    ch.open()
    mux.on_end()
    assert host.ended
    mux.on_close()
    assert ch.closed and ch.destroyed and mux.destroyed
    assert mux.create_channel("p") is None

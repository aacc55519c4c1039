"""hyperpunch Protomux over hyperpunch SecretStream <-> JS protomux over @hyperswarm/secret-stream, TCP.

Both directions (each side as the Noise initiator), 50 channels at once, typed messages both
ways with JS echoing, open/reject/close, pair handlers, cork/uncork batches (seen as single
frames by the other side), garbage destroying the JS mux, and clean shutdown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from hyperpunch import encoding as c
from hyperpunch.protomux import Channel, MessageSpec, Protomux, wait_opened
from hyperpunch.secretstream import SecretStream, serve
from jsref import NodeProcess, spawn_node

pytestmark = pytest.mark.interop

N = 50
KINDS = ["string", "uint", "raw"]


def chan_id(i: int) -> bytes:
    return i.to_bytes(32, "big")


class JsPeer:
    """Reads the JS peer's events into a list; waits for conditions over it."""

    def __init__(self, node: NodeProcess) -> None:
        self.node = node
        self.events: list[dict[str, Any]] = []

    async def send(self, **cmd: Any) -> None:
        await self.node.send(cmd)

    async def wait_for(self, pred: Callable[[list[dict[str, Any]]], bool], timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while not pred(self.events):
                self.events.append(await self.node.recv(timeout))

    def of(self, event: str, **match: Any) -> list[dict[str, Any]]:
        return [
            e for e in self.events if e["event"] == event and all(e.get(k) == v for k, v in match.items())
        ]

    async def sync(self) -> None:
        """Round-trip a ping: every event from commands sent before it is in."""
        token = len(self.events) + 1_000_000
        await self.send(cmd="ping", id=token)
        await self.wait_for(lambda evs: any(e["event"] == "pong" and e["id"] == token for e in evs))


class PySide:
    """Python channels that log their callbacks."""

    def __init__(self, mux: Protomux) -> None:
        self.mux = mux
        self.log: list[tuple[Any, ...]] = []
        self.changed = asyncio.Event()
        self.channels: dict[str, Channel] = {}

    def record(self, *entry: Any) -> None:
        self.log.append(entry)
        self.changed.set()

    def create(
        self, name: str, protocol: str, *, id: bytes | None = None, open: str | None = None
    ) -> Channel:
        def on_message(type_: int) -> Callable[[Any, Channel], None]:
            return lambda value, ch: self.record("message", name, type_, value)

        ch = self.mux.create_channel(
            protocol,
            id=id,
            handshake=c.string,
            messages=[
                MessageSpec(c.string, on_message(0)),
                MessageSpec(c.uint, on_message(1)),
                MessageSpec(c.raw, on_message(2)),
            ],
            on_open=lambda hs, ch: self.record("open", name, hs),
            on_close=lambda remote, ch: self.record("close", name, remote),
            on_destroy=lambda ch: self.record("destroy", name),
        )
        assert ch is not None
        self.channels[name] = ch
        if open is not None:
            ch.open(open)
        return ch

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [e for e in self.log if e[0] == kind]

    async def wait_for(self, pred: Callable[[], bool], timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while not pred():
                self.changed.clear()
                await self.changed.wait()


class RecordingStream:
    """A SecretStream wrapper that keeps every frame the mux reads."""

    def __init__(self, stream: SecretStream) -> None:
        self._stream = stream
        self.frames: list[bytes] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    @property
    def user_data(self) -> Any:
        return self._stream.user_data

    @user_data.setter
    def user_data(self, value: Any) -> None:
        self._stream.user_data = value

    async def read(self) -> bytes | None:
        frame = await self._stream.read()
        if frame is not None:
            self.frames.append(frame)
        return frame


def js_create(
    name: str, protocol: str, *, id: bytes | None = None, open: str | None = None, echo: bool = True
) -> dict[str, Any]:
    cmd: dict[str, Any] = {
        "cmd": "create",
        "name": name,
        "protocol": protocol,
        "handshake": "string",
        "messages": KINDS,
        "echo": echo,
    }
    if id is not None:
        cmd["id"] = id.hex()
    if open is not None:
        cmd["open"] = open
    return cmd


async def exercise_many_channels(js: JsPeer, py: PySide, *, js_first: bool) -> None:
    """50 channels paired by protocol + id, handshakes and typed messages both ways."""
    js_cmds = [js_create(f"c{i}", "hp/many", id=chan_id(i), open=f"js-{i}") for i in range(N)]
    if js_first:
        # JS opens first; Python answers through a wildcard pair() handler
        def notify(id: bytes | None) -> None:
            assert id is not None
            i = int.from_bytes(id, "big")
            py.create(f"c{i}", "hp/many", id=id, open=f"py-{i}")

        py.mux.pair("hp/many", notify)
        await js.send(cmd="batch", cmds=js_cmds)
    else:
        # Python opens first; JS answers through its pair() handler (an unpaired OPEN is rejected)
        create = {**js_cmds[0], "name": "c", "open": "js-", "indexed": True}
        await js.send(cmd="pair", protocol="hp/many", create=create)
        await js.sync()
        for i in range(N):
            py.create(f"c{i}", "hp/many", id=chan_id(i), open=f"py-{i}")

    await py.wait_for(lambda: len(py.of("open")) == N)
    assert sorted(py.of("open")) == sorted(("open", f"c{i}", f"js-{i}") for i in range(N))
    for i in range(N):
        assert await wait_opened(py.channels[f"c{i}"]) is True
    await js.wait_for(lambda evs: len([e for e in evs if e["event"] == "open"]) == N)
    assert sorted((e["name"], e["handshake"]) for e in js.of("open")) == sorted(
        (f"c{i}", f"py-{i}") for i in range(N)
    )

    # Python -> JS (JS echoes each message back on the same channel and type)
    for i in range(N):
        ch = py.channels[f"c{i}"]
        ch.messages[0].send(f"s{i}-ü")
        ch.messages[1].send(i * 100_000)
        ch.messages[2].send(bytes([i]) * i)
    expected_js = sorted(
        (f"c{i}", t, v)
        for i in range(N)
        for t, v in ((0, f"s{i}-ü"), (1, i * 100_000), (2, (bytes([i]) * i).hex()))
    )
    await js.wait_for(lambda evs: len([e for e in evs if e["event"] == "message"]) == 3 * N)
    assert sorted((e["name"], e["type"], e["value"]) for e in js.of("message")) == expected_js
    await py.wait_for(lambda: len(py.of("message")) == 3 * N)
    expected_py = sorted(
        (f"c{i}", t, v) for i in range(N) for t, v in ((0, f"s{i}-ü"), (1, i * 100_000), (2, bytes([i]) * i))
    )
    assert sorted(e[1:] for e in py.of("message")) == expected_py

    # JS -> Python, in order per channel
    await js.send(cmd="batch", cmds=[{"cmd": "send", "name": "c7", "type": 1, "value": n} for n in range(20)])
    await py.wait_for(lambda: len(py.of("message")) == 3 * N + 20)
    assert [e[3] for e in py.of("message")[3 * N :]] == list(range(20))


async def exercise_reject_and_close(js: JsPeer, py: PySide) -> None:
    # Python opens a protocol JS neither has nor pairs: JS rejects it
    lonely = py.create("lonely", "hp/nobody-here", open="?")
    assert await wait_opened(lonely) is False
    assert ("close", "lonely", True) in py.log and lonely.closed and lonely.destroyed
    # JS opens a protocol Python neither has nor pairs: Python rejects it
    await js.send(**js_create("orphan", "hp/unknown-to-python", open="!"))
    await js.wait_for(lambda evs: any(e["event"] == "close" and e["name"] == "orphan" for e in evs))
    assert js.of("close", name="orphan") == [{"event": "close", "name": "orphan", "remote": True}]
    assert not js.of("open", name="orphan")

    # close from Python: JS sees a remote close; close from JS: Python sees a remote close
    py.channels["c0"].close()
    await js.wait_for(lambda evs: any(e["event"] == "close" and e["name"] == "c0" for e in evs))
    assert js.of("close", name="c0") == [{"event": "close", "name": "c0", "remote": True}]
    assert ("close", "c0", False) in py.log
    await js.send(cmd="close", name="c1")
    await py.wait_for(lambda: ("close", "c1", True) in py.log)
    assert py.channels["c1"].closed and not py.channels["c2"].closed
    # messages on a closed channel go nowhere; the others still work
    assert py.channels["c0"].messages[0].send("dropped") is False
    py.channels["c2"].messages[1].send(424242)
    await js.wait_for(lambda evs: any(e["event"] == "message" and e["value"] == 424242 for e in evs))
    await js.sync()
    assert not [e for e in js.of("message") if e["value"] == "dropped"]

    # a freed id is reused by the next open and pairs afresh
    await js.send(**js_create("again", "hp/again", open="js-again"))
    await js.sync()
    again = py.create("again", "hp/again", open="py-again")
    assert again.local_id <= N + 1  # a freed slot, not a new one (N channels + "lonely" so far)
    await py.wait_for(lambda: ("open", "again", "js-again") in py.log)
    await js.wait_for(lambda evs: any(e["event"] == "open" and e["name"] == "again" for e in evs))


async def exercise_batches(js: JsPeer, py: PySide, recording: RecordingStream) -> None:
    # Python corks: JS receives exactly one frame, a BATCH, and decodes every item in order
    await js.sync()
    frames_before = len(js.of("frame"))
    messages_before = len(js.of("message"))
    py_before = len(py.of("message"))
    rec_before = len(recording.frames)
    py.mux.cork()
    for n in range(5):
        py.channels["c3"].messages[1].send(n)
        py.channels["c4"].messages[0].send(f"batched-{n}")
    py.create("in-batch", "hp/in-batch", open="b")
    py.channels["c5"].close()
    py.mux.uncork()
    await js.wait_for(lambda evs: any(e["event"] == "close" and e["name"] == "c5" for e in evs))
    await js.wait_for(lambda evs: len([e for e in evs if e["event"] == "message"]) >= messages_before + 10)
    await js.sync()
    new_frames = js.of("frame")[frames_before:]
    assert len(new_frames) == 1 and new_frames[0]["hex"].startswith("0000")
    got = [(e["name"], e["value"]) for e in js.of("message")[messages_before:]]
    assert [v for n, v in got if n == "c3"] == list(range(5))
    assert [v for n, v in got if n == "c4"] == [f"batched-{n}" for n in range(5)]
    # JS echoed while handling a batch: its replies come back corked into one batch as well
    await py.wait_for(lambda: len(py.of("message")) >= py_before + 10)
    echoes = py.of("message")[py_before:]
    assert [e[3] for e in echoes if e[1] == "c3"] == list(range(5))
    assert [e[3] for e in echoes if e[1] == "c4"] == [f"batched-{n}" for n in range(5)]
    replies = recording.frames[rec_before:]
    assert len(replies) == 1 and replies[0][:2] == b"\x00\x00"

    # JS corks: Python reads one BATCH frame holding all of it
    frames_before = len(recording.frames)
    before = len(py.of("message"))
    await js.send(
        cmd="batch",
        cmds=[{"cmd": "cork"}]
        + [{"cmd": "send", "name": "c6", "type": 2, "value": bytes([n]).hex()} for n in range(4)]
        + [{"cmd": "send", "name": "c8", "type": 0, "value": "from-js-batch"}, {"cmd": "uncork"}],
    )
    await py.wait_for(lambda: len(py.of("message")) >= before + 5)
    batch_frames = [f for f in recording.frames[frames_before:] if f[:2] == b"\x00\x00"]
    assert len(batch_frames) == 1
    assert [e[3] for e in py.of("message")[before:] if e[1] == "c6"] == [bytes([n]) for n in range(4)]
    assert ("message", "c8", 0, "from-js-batch") in py.log[before:]


async def exercise_js_pair(js: JsPeer, py: PySide) -> None:
    """A JS pair() handler answers a channel Python opens first."""
    await js.send(
        cmd="pair",
        protocol="hp/js-lazy",
        create={
            "name": "lazy",
            "protocol": "hp/js-lazy",
            "handshake": "string",
            "messages": KINDS,
            "open": "lazy-js",
            "echo": True,
        },
    )
    await js.sync()
    ch = py.create("lazy", "hp/js-lazy", id=b"\x42" * 32, open="lazy-py")
    assert await wait_opened(ch) is True
    assert ch.handshake == "lazy-js"
    await js.wait_for(lambda evs: any(e["event"] == "notify" and e["protocol"] == "hp/js-lazy" for e in evs))
    assert js.of("notify", protocol="hp/js-lazy") == [
        {"event": "notify", "protocol": "hp/js-lazy", "id": (b"\x42" * 32).hex()}
    ]
    ch.messages[0].send("lazy?")
    await py.wait_for(lambda: ("message", "lazy", 0, "lazy?") in py.log)


async def run_all(js: JsPeer, mux: Protomux, recording: RecordingStream, *, js_first: bool) -> None:
    py = PySide(mux)
    await exercise_many_channels(js, py, js_first=js_first)
    await exercise_reject_and_close(js, py)
    await exercise_batches(js, py, recording)
    await exercise_js_pair(js, py)
    # garbage from Python (bypassing the mux) makes JS destroy its mux: everything closes
    recording._stream.write(b"\x00\x01\x05")
    await js.wait_for(lambda evs: any(e["event"] == "stream-close" for e in evs))
    await asyncio.wait_for(mux.wait_closed(), 30)
    open_py = [n for n, ch in py.channels.items() if not ch.closed]
    assert open_py == []
    assert ("close", "c9", True) in py.log
    js_closed = {e["name"] for e in js.of("close")}
    assert {f"c{i}" for i in range(N)} <= js_closed


async def test_python_initiator_js_server() -> None:
    async with spawn_node("protomux-peer.js", "server", json.dumps({"frames": True})) as node:
        js = JsPeer(node)
        await js.wait_for(lambda evs: bool(evs))
        port = js.of("listening")[0]["port"]
        stream = await SecretStream.connect("127.0.0.1", port)
        recording = RecordingStream(stream)
        async with Protomux(recording) as mux:
            await js.wait_for(lambda evs: any(e["event"] == "connected" for e in evs))
            assert js.of("connected")[0]["isInitiator"] is False
            await run_all(js, mux, recording, js_first=False)


async def test_js_initiator_python_server() -> None:
    streams: asyncio.Queue[SecretStream] = asyncio.Queue()
    done = asyncio.Event()

    async def handler(stream: SecretStream) -> None:
        streams.put_nowait(stream)
        await done.wait()

    server = await serve(handler, "127.0.0.1", 0)
    async with (
        server,
        spawn_node("protomux-peer.js", "client", json.dumps({"port": server.port, "frames": True})) as node,
    ):
        js = JsPeer(node)
        stream = await asyncio.wait_for(streams.get(), 30)
        assert not stream.is_initiator
        recording = RecordingStream(stream)
        try:
            async with Protomux(recording) as mux:
                await js.wait_for(lambda evs: any(e["event"] == "connected" for e in evs))
                assert js.of("connected")[0]["isInitiator"] is True
                await run_all(js, mux, recording, js_first=True)
        finally:
            done.set()


async def test_clean_close_from_python_and_destroy_from_js() -> None:
    async with spawn_node("protomux-peer.js", "server", "{}") as node:
        js = JsPeer(node)
        await js.wait_for(lambda evs: bool(evs))
        stream = await SecretStream.connect("127.0.0.1", js.of("listening")[0]["port"])
        async with Protomux(stream) as mux:
            py = PySide(mux)
            await js.send(**js_create("a", "hp/close", open="a"))
            await js.sync()
            py.create("a", "hp/close", open="a")
            await py.wait_for(lambda: ("open", "a", "a") in py.log)
            await js.send(cmd="destroy")
            await asyncio.wait_for(mux.wait_closed(), 30)
            assert ("close", "a", True) in py.log and ("destroy", "a") in py.log
            assert mux.create_channel("hp/too-late") is None

    async with spawn_node("protomux-peer.js", "server", "{}") as node:
        js = JsPeer(node)
        await js.wait_for(lambda evs: bool(evs))
        stream = await SecretStream.connect("127.0.0.1", js.of("listening")[0]["port"])
        mux = Protomux(stream)
        py = PySide(mux)
        await js.send(**js_create("b", "hp/close", open="b"))
        await js.sync()
        py.create("b", "hp/close", open="b")
        await py.wait_for(lambda: ("open", "b", "b") in py.log)
        py.channels["b"].messages[0].send("last words")
        await mux.aclose()
        await js.wait_for(lambda evs: any(e["event"] == "stream-close" for e in evs))
        assert js.of("message", name="b") == [
            {"event": "message", "name": "b", "type": 0, "value": "last words"}
        ]
        assert js.of("close", name="b") == [{"event": "close", "name": "b", "remote": True}]
        assert ("close", "b", True) in py.log

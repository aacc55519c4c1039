"""UDX against the pinned udx-native on loopback, directly and through a lossy relay."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random

import pytest
from udx_relay import LossyRelay

from hyperpunch.udx.errors import StreamResetError
from hyperpunch.udx.packet import FLAG_DATA, encode_packet
from hyperpunch.udx.socket import UDX, UDXSocket
from hyperpunch.udx.stream import UDXStream
from jsref import NodeProcess, spawn_node

pytestmark = pytest.mark.interop

PY_ID = 0x01020304
JS_ID = 0xA0B0C0D0
CHUNK = 1 << 16
MIB = 1 << 20


async def _setup(udx: UDX) -> tuple[UDXSocket, UDXStream]:
    sock = await udx.create_socket().bind(0, "127.0.0.1")
    return sock, udx.create_stream(PY_ID)


async def _connect(node: NodeProcess, sock: UDXSocket, stream: UDXStream, relay: LossyRelay | None) -> None:
    ready = await node.expect("ready")
    py_port = sock.address()[1]
    if relay is None:
        stream.connect(sock, JS_ID, ready["port"])
        await node.send({"cmd": "connect", "remoteId": PY_ID, "port": py_port})
    else:
        relay.set_peers(left=("127.0.0.1", py_port), right=("127.0.0.1", ready["port"]))
        stream.connect(sock, JS_ID, relay.left_port)
        await node.send({"cmd": "connect", "remoteId": PY_ID, "port": relay.right_port})
    await node.expect("connected")


async def python_to_js(size: int, relay: LossyRelay | None = None, *, strict_close: bool = True) -> None:
    udx = UDX()
    sock, stream = await _setup(udx)
    data = random.Random(size).randbytes(size)
    try:
        async with spawn_node("udx-peer.js", str(JS_ID), "recv") as node:
            await _connect(node, sock, stream, relay)
            view = memoryview(data)
            for off in range(0, size, CHUNK):
                stream.write(view[off : off + CHUNK])
                await stream.drain()
            stream.end()
            got = await node.expect("end", timeout=120)
            assert got["bytes"] == size
            assert got["sha"] == hashlib.sha256(data).hexdigest()
            assert await asyncio.wait_for(stream.read(), 60) == b""  # JS ended its side
            if strict_close:
                await asyncio.wait_for(stream.wait_closed(), 60)
            else:
                # Through loss the reference may reset right after its END (streamx auto-destroy);
                # if that END was dropped we see the DESTROY first. The data was confirmed above.
                with contextlib.suppress(StreamResetError):
                    await asyncio.wait_for(stream.wait_closed(), 60)
            await node.expect("received")
            closed = await node.expect("closed", timeout=60)
            assert closed["event"] == "closed"
    finally:
        await stream.aclose()
        await sock.aclose()


async def js_to_python(size: int, relay: LossyRelay | None = None) -> None:
    udx = UDX()
    sock, stream = await _setup(udx)
    try:
        async with spawn_node("udx-peer.js", str(JS_ID), "send", str(size)) as node:
            await _connect(node, sock, stream, relay)
            h = hashlib.sha256()
            n = 0
            while chunk := await asyncio.wait_for(stream.read(), 60):
                h.update(chunk)
                n += len(chunk)
            sent = await node.expect("sent", timeout=60)
            assert n == size == sent["bytes"]
            assert h.hexdigest() == sent["sha"]
            stream.end()
            end = await node.expect("end", timeout=60)
            assert end["bytes"] == 0
            await asyncio.wait_for(stream.wait_closed(), 60)
            assert stream.error is None
            closed = await node.expect("closed", timeout=60)
            assert closed["event"] == "closed"
    finally:
        await stream.aclose()
        await sock.aclose()


async def test_python_to_js_64mib() -> None:
    await python_to_js(64 * MIB)


async def test_js_to_python_64mib() -> None:
    await js_to_python(64 * MIB)


@pytest.mark.parametrize("seed", [1, 2])
async def test_python_to_js_lossy(seed: int) -> None:
    async with LossyRelay(seed=seed, loss=0.05, dup=0.02, reorder=0.1) as relay:
        await python_to_js(4 * MIB, relay, strict_close=False)
        assert relay.stats["dropped"] > 0 and relay.stats["delayed"] > 0


@pytest.mark.parametrize("seed", [1, 2])
async def test_js_to_python_lossy(seed: int) -> None:
    async with LossyRelay(seed=seed, loss=0.05, dup=0.02, reorder=0.1) as relay:
        await js_to_python(4 * MIB, relay)
        assert relay.stats["dropped"] > 0 and relay.stats["delayed"] > 0


async def test_messages_and_raw_datagrams_both_ways() -> None:
    udx = UDX()
    raw: list[tuple[bytes, int]] = []
    sock = await udx.create_socket(on_message=lambda d, a: raw.append((d, a[1]))).bind(0, "127.0.0.1")
    stream = udx.create_stream(PY_ID)
    got: asyncio.Queue[bytes] = asyncio.Queue()
    stream.on_message = got.put_nowait
    try:
        async with spawn_node("udx-peer.js", str(JS_ID), "recv") as node:
            ready = await node.expect("ready")
            js_port = ready["port"]
            stream.connect(sock, JS_ID, js_port)
            await node.send({"cmd": "connect", "remoteId": PY_ID, "port": sock.address()[1]})
            await node.expect("connected")
            # JS stream.send -> MESSAGE packet -> our on_message
            await node.send({"cmd": "message", "hex": "68656c6c6f"})
            assert await asyncio.wait_for(got.get(), 10) == b"hello"
            # a raw datagram from the JS socket reaches our socket's message handler
            await node.send({"cmd": "raw", "hex": "0300ff", "port": sock.address()[1]})
            # garbage aimed at the JS socket's stream id space must not disturb the stream
            sock.send(encode_packet(FLAG_DATA, 0xDEADBEEF, 0, 5, 0, b"junk"), js_port, "127.0.0.1")
            sock.send(b"\x13\x00dht", js_port, "127.0.0.1")
            msg = await node.expect("socket-message")
            assert bytes.fromhex(msg["hex"]) == encode_packet(FLAG_DATA, 0xDEADBEEF, 0, 5, 0, b"junk")
            msg = await node.expect("socket-message")
            assert msg["hex"] == b"\x13\x00dht".hex()
            stream.send(b"py-message")
            stream.write(b"after garbage")
            stream.end()
            end = await node.expect("end")
            assert end["sha"] == hashlib.sha256(b"after garbage").hexdigest()
            await node.expect("received")
            await asyncio.wait_for(stream.wait_closed(), 30)
            closed = await node.expect("closed")
            assert closed["messages"] == [b"py-message".hex()]
            for _ in range(100):
                if raw:
                    break
                await asyncio.sleep(0.01)
            assert raw == [(b"\x03\x00\xff", js_port)]
    finally:
        await stream.aclose()
        await sock.aclose()


async def test_js_destroy_resets_python_stream() -> None:
    udx = UDX()
    sock = await udx.create_socket().bind(0, "127.0.0.1")
    stream = udx.create_stream(PY_ID)
    try:
        async with spawn_node("udx-peer.js", str(JS_ID), "recv") as node:
            ready = await node.expect("ready")
            stream.connect(sock, JS_ID, ready["port"])
            await node.send({"cmd": "connect", "remoteId": PY_ID, "port": sock.address()[1]})
            await node.expect("connected")
            stream.write(os.urandom(1000))
            await asyncio.sleep(0.05)
            await node.send({"cmd": "destroy"})
            with pytest.raises(StreamResetError) as info:
                await asyncio.wait_for(stream.wait_closed(), 10)
            assert info.value.code == "ECONNRESET"
    finally:
        await stream.aclose()
        await sock.aclose()


async def test_keepalive_heartbeats_are_answered_by_js() -> None:
    udx = UDX()
    sock, stream = await _setup(udx)
    try:
        async with spawn_node("udx-peer.js", str(JS_ID), "recv") as node:
            await _connect(node, sock, stream, None)
            stream.write(b"hello")
            await stream.drain()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while stream.unacked_bytes and loop.time() < deadline:
                await asyncio.sleep(0.01)
            assert stream.unacked_bytes == 0
            rx, tx = sock.packets_rx, sock.packets_tx
            stream.set_keepalive(0.05)
            # an idle stream now sends a HEARTBEAT every 50 ms and udx-native ACKs each one
            while sock.packets_rx - rx < 5 and loop.time() < deadline:
                await asyncio.sleep(0.02)
            assert sock.packets_tx - tx >= 5
            assert sock.packets_rx - rx >= 5
            stream.set_keepalive(0)
            stream.end()
            got = await node.expect("end", timeout=30)
            assert got["bytes"] == 5
    finally:
        await stream.aclose()
        await sock.aclose()

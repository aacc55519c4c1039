"""Interop over TCP on 127.0.0.1 with the pinned JS @hyperswarm/secret-stream (interop/scripts/secretstream-peer.js)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os

import pytest

from hyperpunch.crypto import key_pair
from hyperpunch.secretstream import (
    RemotePublicKeyMismatchError,
    SecretStream,
    SecretStreamServer,
    serve,
)
from jsref import NodeProcess, spawn_node

pytestmark = pytest.mark.interop

SEED_PY = bytes([0x51]) * 32
SEED_JS = bytes([0x52]) * 32
KP_PY = key_pair(SEED_PY)
PK_JS = key_pair(SEED_JS).public_key
BULK = 16 * 1024 * 1024


def js_opts(**extra: object) -> str:
    return json.dumps({"seed": SEED_JS.hex(), **extra})


async def send_bulk(stream: SecretStream, total: int) -> str:
    """Write ``total`` random bytes in pieces of varying size (up to 64 KiB), then end."""
    digest = hashlib.sha256()
    pool = os.urandom(1 << 18)
    sent, n = 0, 0
    while sent < total:
        size = min(total - sent, 1 + (n * 104729) % 65536)
        start = (n * 977) % (len(pool) - size + 1)
        piece = pool[start : start + size]
        digest.update(piece)
        stream.write(piece)
        await stream.drain()
        sent += size
        n += 1
    stream.write_eof()
    return digest.hexdigest()


async def receive_all(stream: SecretStream) -> tuple[int, str]:
    digest = hashlib.sha256()
    total = 0
    async for message in stream:
        digest.update(message)
        total += len(message)
    return total, digest.hexdigest()


async def check_bulk(stream: SecretStream, js: NodeProcess) -> None:
    handshake = await js.expect("handshake")
    assert handshake["handshakeHash"] == stream.handshake_hash.hex()  # type: ignore[union-attr]
    assert handshake["remotePublicKey"] == KP_PY.public_key.hex()
    assert handshake["publicKey"] == PK_JS.hex()
    assert stream.remote_public_key == PK_JS
    assert handshake["isInitiator"] is (not stream.is_initiator)

    sent_sha, (received, received_sha) = await asyncio.gather(send_bulk(stream, BULK), receive_all(stream))
    events: dict[str, dict[str, object]] = {}
    while len(events) < 2:
        msg = await js.recv()
        events[msg["event"]] = msg
    assert set(events) == {"sent", "received"}, (events, received, stream.error)
    assert events["sent"]["bytes"] == BULK and received == BULK
    assert events["sent"]["sha256"] == received_sha
    assert events["received"]["bytes"] == BULK
    assert events["received"]["sha256"] == sent_sha
    assert stream.error is None


async def test_python_initiator_js_responder_16mib_each_way() -> None:
    async with spawn_node("secretstream-peer.js", "server", js_opts(bulk=BULK)) as js:
        port = (await js.expect("listening"))["port"]
        stream = await SecretStream.connect("127.0.0.1", port, key_pair=KP_PY, remote_public_key=PK_JS)
        async with stream:
            assert stream.is_initiator
            await check_bulk(stream, js)


async def test_js_initiator_python_responder_16mib_each_way() -> None:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    js_holder: list[NodeProcess] = []

    async def handler(stream: SecretStream) -> None:
        try:
            assert not stream.is_initiator
            await check_bulk(stream, js_holder[0])
            done.set_result(None)
        except BaseException as err:
            done.set_exception(err)
            raise

    server: SecretStreamServer = await serve(handler, "127.0.0.1", 0, key_pair=KP_PY)
    async with (
        server,
        spawn_node("secretstream-peer.js", "client", js_opts(port=server.port, bulk=BULK)) as js,
    ):
        js_holder.append(js)
        await asyncio.wait_for(done, 120)


async def test_messages_keepalive_and_empty_messages() -> None:
    # JS writes an empty message (delivered: our keepalive is off) and swallows ours (its keepalive is on)
    messages = ["68656c6c6f", "", "ff" * 1000]
    async with spawn_node(
        "secretstream-peer.js", "server", js_opts(keepAlive=60_000, collect=True, messages=messages)
    ) as js:
        port = (await js.expect("listening"))["port"]
        async with await SecretStream.connect("127.0.0.1", port, key_pair=KP_PY) as stream:
            await js.expect("handshake")
            got = [(await stream.read()) for _ in messages]
            assert [m.hex() for m in got if m is not None] == messages
            # keepalive on: a few periods pass; our empty frames must decrypt fine on the JS side
            stream.set_keep_alive(0.05)
            await asyncio.sleep(0.2)
            await js.send({"cmd": "write", "hex": ""})  # now swallowed on our side
            stream.write(b"after keepalive")
            await stream.drain()
            assert (await js.expect("data"))["hex"] == b"after keepalive".hex()
            stream.write(b"")  # JS has keepalive on, so it swallows empty messages
            stream.write(b"x")
            assert (await js.expect("data"))["hex"] == b"x".hex()
            await js.send({"cmd": "write", "hex": "abcd"})
            assert await stream.read() == bytes.fromhex("abcd")
            stream.write_eof()
            received = await js.expect("received")
            assert received["empty"] == 0 and received["messages"] == 2
            assert await stream.read() is None  # JS ends after our end


async def test_python_refuses_unexpected_js_key() -> None:
    other = key_pair(bytes([0x99]) * 32).public_key
    async with spawn_node("secretstream-peer.js", "server", js_opts()) as js:
        port = (await js.expect("listening"))["port"]
        with pytest.raises(RemotePublicKeyMismatchError) as info:
            await SecretStream.connect("127.0.0.1", port, key_pair=KP_PY, remote_public_key=other)
        assert PK_JS.hex() in str(info.value)
        closed = await js.expect("closed")  # JS never completed its handshake
        assert closed["event"] == "closed"


@pytest.mark.parametrize("python_is_initiator", [True, False])
async def test_ik_pattern_both_ways(python_is_initiator: bool) -> None:
    if python_is_initiator:
        async with spawn_node("secretstream-peer.js", "server", js_opts(pattern="IK", collect=True)) as js:
            port = (await js.expect("listening"))["port"]
            async with await SecretStream.connect(
                "127.0.0.1", port, key_pair=KP_PY, pattern="IK", remote_public_key=PK_JS
            ) as stream:
                handshake = await js.expect("handshake")
                assert handshake["handshakeHash"] == stream.handshake_hash.hex()  # type: ignore[union-attr]
                assert handshake["remotePublicKey"] == KP_PY.public_key.hex()
                stream.write(b"ik from python")
                assert (await js.expect("data"))["hex"] == b"ik from python".hex()
                await js.send({"cmd": "write", "hex": "1234"})
                assert await stream.read() == bytes.fromhex("1234")
        return

    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    js_holder: list[NodeProcess] = []

    async def handler(stream: SecretStream) -> None:
        try:
            js = js_holder[0]
            handshake = await js.expect("handshake")
            assert handshake["handshakeHash"] == stream.handshake_hash.hex()  # type: ignore[union-attr]
            assert stream.remote_public_key == PK_JS
            await js.send({"cmd": "write", "hex": "5678"})
            assert await stream.read() == bytes.fromhex("5678")
            done.set_result(None)
        except BaseException as err:
            done.set_exception(err)
            raise

    async with await serve(handler, "127.0.0.1", 0, key_pair=KP_PY, pattern="IK") as server:
        opts = js_opts(pattern="IK", remotePublicKey=KP_PY.public_key.hex(), port=server.port)
        async with spawn_node("secretstream-peer.js", "client", opts) as js:
            js_holder.append(js)
            await asyncio.wait_for(done, 60)

"""secret-stream over UDX against the pinned JS reference (interop/scripts/udx-secretstream-peer.js).

hyperpunch's ``SecretStream`` driven by ``hyperpunch.udx.transport.attach`` on one side, JS
``@hyperswarm/secret-stream`` over a ``udx-native`` stream on the other, on 127.0.0.1: the
handshake (both sides agree on the hash and each other's keys), the unordered datagrams
(secretbox boxes carried as UDX MESSAGE packets) both ways, 16 MiB each way at the same time, and
a clean close on both ends, in both roles.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from typing import Any

import pytest

from hyperpunch.crypto import key_pair
from hyperpunch.secretstream import SecretStream
from hyperpunch.udx.socket import UDX
from hyperpunch.udx.transport import attach
from jsref import NodeProcess, spawn_node

pytestmark = pytest.mark.interop

SEED_PY = bytes([0x61]) * 32
SEED_JS = bytes([0x62]) * 32
KP_PY = key_pair(SEED_PY)
PK_JS = key_pair(SEED_JS).public_key
PY_ID = 0x0A0B0C0D
JS_ID = 0x7E7F8081
BULK = 16 * 1024 * 1024
DATAGRAMS = 6  # each way; even ones with send(), odd ones with try_send()
TRIES = 50  # sends per datagram before giving up (UDP may drop, even on loopback)
RETRY_AFTER = 0.1


async def send_bulk(stream: SecretStream, total: int) -> str:
    """Write ``total`` random bytes in pieces of 1..64 KiB, then end; the SHA-256 of what was sent."""
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


async def datagrams_py_to_js(stream: SecretStream, js: NodeProcess) -> None:
    """Each datagram is sent (``send`` or ``try_send``) until JS reports it, at most TRIES times."""
    loop = asyncio.get_running_loop()
    for i in range(DATAGRAMS):
        payload = f"py->js datagram {i} ".encode() + os.urandom(8)
        for _ in range(TRIES):
            if i % 2 == 0:
                assert await stream.send(payload)
            else:
                assert stream.try_send(payload)
            if await _js_reports(js, payload, loop.time() + RETRY_AFTER):
                break
        else:
            raise AssertionError(f"datagram {i} never reached JS in {TRIES} tries")


async def _js_reports(js: NodeProcess, payload: bytes, deadline: float) -> bool:
    """Read JS's ``message`` events until ``payload`` shows up (True) or the deadline passes."""
    loop = asyncio.get_running_loop()
    while (left := deadline - loop.time()) > 0:
        try:
            msg = await js.expect("message", timeout=left)
        except AssertionError as err:
            if "no message within" not in str(err):
                raise
            return False
        data = bytes.fromhex(msg["hex"])
        if data == payload:
            return True
        assert data.startswith(b"py->js datagram "), data  # a late copy of an earlier datagram
    return False


async def datagrams_js_to_py(js: NodeProcess, got: asyncio.Queue[bytes]) -> None:
    """Each datagram is sent by JS (``send`` or ``trySend``) until Python's ``on_message`` has it."""
    loop = asyncio.get_running_loop()
    for i in range(DATAGRAMS):
        payload = f"js->py datagram {i} ".encode() + os.urandom(8)
        for _ in range(TRIES):
            await js.send({"cmd": "send", "hex": payload.hex(), "try": i % 2 == 1})
            deadline = loop.time() + RETRY_AFTER
            found = False
            while not found and (left := deadline - loop.time()) > 0:
                try:
                    data = await asyncio.wait_for(got.get(), left)
                except TimeoutError:
                    break
                found = data == payload
                assert found or data.startswith(b"js->py datagram "), data
            if found:
                break
        else:
            raise AssertionError(f"datagram {i} never reached Python in {TRIES} tries")


async def recv_events(js: NodeProcess, names: set[str], timeout: float = 60) -> dict[str, dict[str, Any]]:
    """Collect one event of each name (any order); other events (late datagrams) are ignored."""
    events: dict[str, dict[str, Any]] = {}
    while not names <= events.keys():
        msg = await js.recv(timeout)
        if msg["event"] != "message":
            assert msg["event"] in names and msg["event"] not in events, msg
            events[msg["event"]] = msg
    return events


@pytest.mark.parametrize("py_initiator", [True, False], ids=["py-initiator", "js-initiator"])
async def test_secret_stream_over_udx_with_js(py_initiator: bool) -> None:
    udx = UDX()
    sock = await udx.create_socket().bind(0, "127.0.0.1")
    raw = udx.create_stream(PY_ID)
    got: asyncio.Queue[bytes] = asyncio.Queue()
    stream = SecretStream(py_initiator, key_pair=KP_PY, on_message=got.put_nowait)
    role = "responder" if py_initiator else "initiator"
    opts = json.dumps({"seed": SEED_JS.hex(), "localId": JS_ID})
    try:
        async with spawn_node("udx-secretstream-peer.js", role, opts) as js:
            ready = await js.expect("ready")
            assert ready["id"] == JS_ID

            async def connect_js() -> None:
                await js.send({"cmd": "connect", "remoteId": PY_ID, "port": sock.address()[1]})
                await js.expect("connected")

            # the responder connects first, so the initiator's first packet finds its stream
            if py_initiator:
                await connect_js()
            raw.connect(sock, JS_ID, ready["port"])
            attach(raw, stream.protocol)
            if not py_initiator:
                await connect_js()

            await asyncio.wait_for(stream.wait_open(), 10)
            handshake = await js.expect("handshake", timeout=10)
            assert handshake["isInitiator"] is (not py_initiator)
            assert handshake["handshakeHash"] == stream.handshake_hash.hex()  # type: ignore[union-attr]
            assert handshake["publicKey"] == PK_JS.hex()
            assert handshake["remotePublicKey"] == KP_PY.public_key.hex()
            assert stream.public_key == KP_PY.public_key
            assert stream.remote_public_key == PK_JS

            await datagrams_py_to_js(stream, js)
            await datagrams_js_to_py(js, got)

            await js.send({"cmd": "bulk", "bytes": BULK})
            sent_sha, (received, received_sha) = await asyncio.wait_for(
                asyncio.gather(send_bulk(stream, BULK), receive_all(stream)), 60
            )
            events = await recv_events(js, {"sent", "received", "closed"})
            assert received == BULK and events["sent"]["bytes"] == BULK
            assert received_sha == events["sent"]["sha256"]
            assert events["received"]["bytes"] == BULK
            assert events["received"]["sha256"] == sent_sha
            assert events["closed"]["error"] is None and events["closed"]["rawError"] is None

            await asyncio.wait_for(stream.wait_closed(), 10)
            assert stream.error is None
            await asyncio.wait_for(raw.wait_closed(), 10)  # raises if the UDX stream was reset
            assert raw.core.ended and raw.core.ended_remote  # closed by both ENDs, not a DESTROY
            assert await js.wait(10) == 0
    finally:
        await stream.aclose()
        await raw.aclose()
        await sock.aclose()

"""The asyncio adapter: TCP on 127.0.0.1 between two hyperpunch peers, and an in-memory transport."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from hyperpunch.crypto import key_pair
from hyperpunch.errors import RemoteError
from hyperpunch.secretstream import (
    MAX_PLAINTEXT,
    DecryptionFailedError,
    HandshakeFailedError,
    HandshakeIncompleteError,
    MessageTooLargeError,
    PresetHandshake,
    SecretStream,
    StreamClosedError,
    StreamTimeoutError,
    serve,
)

KP_S = key_pair(bytes([0x61]) * 32)
KP_C = key_pair(bytes([0x62]) * 32)


async def echo(stream: SecretStream) -> None:
    async for message in stream:
        stream.write(message)
        await stream.drain()


async def test_connect_serve_and_echo() -> None:
    async with (
        await serve(echo, key_pair=KP_S) as server,
        await SecretStream.connect("127.0.0.1", server.port, key_pair=KP_C) as stream,
    ):
        assert stream.connected and stream.is_initiator
        assert stream.remote_public_key == KP_S.public_key
        assert stream.public_key == KP_C.public_key
        assert stream.handshake_hash is not None and len(stream.handshake_hash) == 64
        (peer,) = server.streams
        assert peer.handshake_hash == stream.handshake_hash
        assert peer.remote_public_key == KP_C.public_key
        for message in (b"a", b"", os.urandom(200_000)):
            stream.write(message)
            await stream.drain()
            assert await stream.read() == message
        stream.write_eof()
        assert await stream.read() is None  # the echo handler returned, the server closed it
        with pytest.raises(StreamClosedError):
            stream.write(b"after end")


async def test_writes_before_the_handshake_are_queued() -> None:
    async with await serve(echo, key_pair=KP_S) as server:
        stream = SecretStream(True, key_pair=KP_C)
        stream.write(b"early")  # no transport yet
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: stream.protocol, "127.0.0.1", server.port)
        async with stream:
            await stream.drain()
            assert await stream.read() == b"early"


async def test_local_errors() -> None:
    async with await serve(echo, key_pair=KP_S) as server:
        stream = await SecretStream.connect("127.0.0.1", server.port, key_pair=KP_C)
        with pytest.raises(MessageTooLargeError):
            stream.write(bytes(MAX_PLAINTEXT + 1))
        await stream.aclose()
        with pytest.raises(StreamClosedError):
            stream.write(b"x")
        with pytest.raises(StreamClosedError):
            await stream.drain()
        await stream.wait_open()  # like JS `await stream.opened`: the handshake did complete
        assert await stream.read() is None


async def test_read_backpressure_pauses_the_transport() -> None:
    limit = 256 * 1024
    release = asyncio.Event()
    got: list[int] = []
    peak: list[int] = []

    async def slow_reader(stream: SecretStream) -> None:
        await release.wait()
        peak.append(stream._queued)
        assert stream._reading_paused  # the app did not read: the transport is paused
        async for message in stream:
            got.append(len(message))

    async with (
        await serve(slow_reader, key_pair=KP_S, read_buffer_limit=limit) as server,
        await SecretStream.connect("127.0.0.1", server.port, key_pair=KP_C) as stream,
    ):
        blocked = False
        total = 0
        chunk = os.urandom(64 * 1024)
        while total < 64 * 1024 * 1024:
            stream.write(chunk)
            total += len(chunk)
            try:
                await asyncio.wait_for(stream.drain(), 0.5)
            except TimeoutError:
                blocked = True  # the peer stopped reading: our writes back up
                break
        assert blocked
        release.set()
        await stream.drain()
        stream.write_eof()
        await asyncio.wait_for(stream.read(), 30)
    assert sum(got) == total
    # bounded: the limit, plus what was already decrypted from the chunk that crossed it
    assert peak[0] <= limit + 512 * 1024


async def test_tampered_ciphertext_over_tcp() -> None:
    received: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    async def reader(stream: SecretStream) -> None:
        try:
            async for _ in stream:
                pass
            received.set_result(None)
        except RemoteError as err:
            received.set_result(err)

    async with await serve(reader, key_pair=KP_S) as server:
        # a man in the middle flips one bit of the first data frame (after 3 handshake frames + header)
        async def proxy(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            ur, uw = await asyncio.open_connection("127.0.0.1", server.port)

            async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, tamper: bool) -> None:
                frames = 0
                while True:
                    try:
                        head = await src.readexactly(3)
                        body = bytearray(await src.readexactly(int.from_bytes(head, "little")))
                    except asyncio.IncompleteReadError:
                        dst.close()
                        return
                    frames += 1
                    if tamper and frames == 4:
                        body[-1] ^= 0x80
                    dst.write(head + body)
                    await dst.drain()

            await asyncio.gather(pipe(r, uw, True), pipe(ur, w, False), return_exceptions=True)

        mitm = await asyncio.start_server(proxy, "127.0.0.1", 0)
        async with mitm:
            port = mitm.sockets[0].getsockname()[1]
            async with await SecretStream.connect("127.0.0.1", port, key_pair=KP_C) as stream:
                stream.write(b"will be tampered")
                await stream.drain()
                error = await asyncio.wait_for(received, 10)
    assert isinstance(error, DecryptionFailedError)
    assert error.code == "DECRYPTION_FAILED"


async def test_timeout_and_keepalive() -> None:
    outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    async def wait(stream: SecretStream) -> None:
        try:
            await stream.read()
            outcome.set_result(None)
        except RemoteError as err:
            outcome.set_result(err)

    async with (
        await serve(wait, key_pair=KP_S, timeout=0.2) as server,
        await SecretStream.connect("127.0.0.1", server.port, key_pair=KP_C),
    ):
        err = await asyncio.wait_for(outcome, 10)  # the client stays silent
    assert isinstance(err, StreamTimeoutError)

    # with keepalive well inside the timeout the silent client keeps the stream alive
    alive: list[bool] = []
    done = asyncio.Event()

    async def watch(stream: SecretStream) -> None:
        await asyncio.sleep(1.0)
        alive.append(stream.error is None and stream.connected)
        await done.wait()

    async with (
        await serve(watch, key_pair=KP_S, timeout=0.6) as server,
        await SecretStream.connect("127.0.0.1", server.port, key_pair=KP_C, keep_alive=0.05) as s,
    ):
        await asyncio.sleep(1.2)
        assert s.error is None
        done.set()
    assert alive == [True]


async def test_firewall_refuses_before_handler() -> None:
    called: list[bytes] = []
    seen: list[bytes] = []

    async def handler(stream: SecretStream) -> None:
        called.append(b"")

    def firewall(remote: bytes) -> bool:
        seen.append(remote)
        return True

    # as in JS, the XX initiator is done after sending m3; the refusal shows up on its reads
    async with (
        await serve(handler, key_pair=KP_S, firewall=firewall) as server,
        await SecretStream.connect("127.0.0.1", server.port, key_pair=KP_C) as stream,
    ):
        with pytest.raises(RemoteError):
            await stream.read()
    assert seen == [KP_C.public_key] and called == []


async def test_server_aclose_cancels_handlers() -> None:
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def forever(stream: SecretStream) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    server = await serve(forever, key_pair=KP_S)
    stream = await SecretStream.connect("127.0.0.1", server.port, key_pair=KP_C)
    await started.wait()
    await server.aclose()
    assert cancelled == [True]
    assert await asyncio.wait_for(stream.read(), 10) is None
    await stream.aclose()


async def test_garbage_reply_is_a_handshake_failure() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(35)
        writer.write(b"\x50\x00\x00" + b"\x07" * 0x50)
        await writer.drain()
        await reader.read()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(HandshakeFailedError):
            await SecretStream.connect("127.0.0.1", port, key_pair=KP_C)


async def test_peer_closing_before_handshake() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(35)  # m1 (read, so the close is a clean FIN, not a reset)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(HandshakeIncompleteError):
            await SecretStream.connect("127.0.0.1", port, key_pair=KP_C)


# --- a non-asyncio transport: the interface a UDX stream will provide -----------------------------


class MemoryTransport:
    """An in-memory, datagram-capable transport driving a SecretStreamProtocol, like UDX will."""

    def __init__(self) -> None:
        self.peer: MemoryTransport | None = None
        self.protocol: Any = None
        self.closing = False
        self.paused = False
        self.datagrams_sent = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert self.peer is not None
        payload = bytes(data)
        asyncio.get_running_loop().call_soon(self.peer.protocol.data_received, payload)

    def write_eof(self) -> None:
        assert self.peer is not None
        asyncio.get_running_loop().call_soon(self.peer.protocol.eof_received)

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        if self.closing:
            return
        self.closing = True
        loop = asyncio.get_running_loop()
        loop.call_soon(self.protocol.connection_lost, None)
        assert self.peer is not None
        if not self.peer.closing:
            self.peer.closing = True
            loop.call_soon(self.peer.protocol.connection_lost, None)

    abort = close

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    async def send(self, data: bytes) -> bool:
        self.try_send(data)
        return True

    def try_send(self, data: bytes) -> None:
        assert self.peer is not None
        self.datagrams_sent += 1
        asyncio.get_running_loop().call_soon(self.peer.protocol.message_received, data)


def memory_pair(a: SecretStream, b: SecretStream) -> None:
    ta, tb = MemoryTransport(), MemoryTransport()
    ta.peer, tb.peer = tb, ta
    ta.protocol, tb.protocol = a.protocol, b.protocol
    a.protocol.connection_made(ta)  # type: ignore[arg-type]
    b.protocol.connection_made(tb)  # type: ignore[arg-type]


async def test_memory_transport_with_datagrams_and_preset() -> None:
    tx, rx, h = os.urandom(32), os.urandom(32), os.urandom(64)
    got: list[bytes] = []
    a = SecretStream(True, handshake=PresetHandshake(tx, rx, h, KP_C.public_key, KP_S.public_key))
    b = SecretStream(
        False, handshake=PresetHandshake(rx, tx, h, KP_S.public_key, KP_C.public_key), on_message=got.append
    )
    memory_pair(a, b)
    async with a, b:
        await a.wait_open()
        await b.wait_open()
        a.write(b"ordered")
        assert await b.read() == b"ordered"
        assert await a.send(b"unordered 1")
        assert a.try_send(b"unordered 2")
        b.write(b"sync")
        assert await a.read() == b"sync"
        assert got == [b"unordered 1", b"unordered 2"]
        b.protocol.message_received(b"\x00" * 40)  # forged datagram: dropped silently
        assert got == [b"unordered 1", b"unordered 2"]


async def test_datagrams_need_a_datagram_transport() -> None:
    async with (
        await serve(echo, key_pair=KP_S) as server,
        await SecretStream.connect("127.0.0.1", server.port, key_pair=KP_C) as stream,
    ):
        assert not stream.try_send(b"x")  # TCP carries no datagrams (JS returns undefined)
        assert not await stream.send(b"x")

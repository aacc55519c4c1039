"""The asyncio Transport view of a UDX stream, driving the secret-stream adapter."""

from __future__ import annotations

import asyncio

from hyperpunch.secretstream.stream import DatagramTransport, SecretStream
from hyperpunch.udx.socket import UDX
from hyperpunch.udx.transport import attach


class Recorder(asyncio.Protocol):
    def __init__(self) -> None:
        self.data = bytearray()
        self.eof = False
        self.lost: list[BaseException | None] = []
        self.messages: list[bytes] = []
        self.paused = 0

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> bool:
        self.eof = True
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.append(exc)

    def pause_writing(self) -> None:
        self.paused += 1

    def message_received(self, data: bytes) -> None:
        self.messages.append(data)


async def test_protocol_sees_data_eof_messages_and_one_connection_lost() -> None:
    udx = UDX()
    s1 = await udx.create_socket().bind(0, "127.0.0.1")
    s2 = await udx.create_socket().bind(0, "127.0.0.1")
    async with s1, s2:
        a = udx.create_stream(1)
        b = udx.create_stream(2)
        a.connect(s1, 2, s2.address()[1])
        b.connect(s2, 1, s1.address()[1])
        pa, pb = Recorder(), Recorder()
        ta = attach(a, pa)
        tb = attach(b, pb)
        assert isinstance(ta, DatagramTransport)
        tb.pause_reading()
        ta.write(b"x" * 3_000_000)  # above high water: the protocol is asked to pause
        assert pa.paused == 1
        await ta.send(b"dgram")
        ta.write_eof()
        await asyncio.sleep(0.2)
        assert len(pb.data) == 0  # paused: nothing delivered, the window closes instead
        tb.resume_reading()
        for _ in range(200):
            if pb.eof:
                break
            await asyncio.sleep(0.02)
        assert bytes(pb.data) == b"x" * 3_000_000 and pb.eof
        assert pb.messages == [b"dgram"]
        tb.close()
        await asyncio.wait_for(asyncio.gather(a.wait_closed(), b.wait_closed()), 30)
        assert pa.lost == [None] and pb.lost == [None] and pa.eof


async def test_secret_stream_over_udx() -> None:
    udx = UDX()
    s1 = await udx.create_socket().bind(0, "127.0.0.1")
    s2 = await udx.create_socket().bind(0, "127.0.0.1")
    async with s1, s2:
        a = udx.create_stream(1)
        b = udx.create_stream(2)
        a.connect(s1, 2, s2.address()[1])
        b.connect(s2, 1, s1.address()[1])
        got: asyncio.Queue[bytes] = asyncio.Queue()
        initiator = SecretStream(True)
        responder = SecretStream(False, on_message=got.put_nowait)
        attach(a, initiator.protocol)
        attach(b, responder.protocol)
        await asyncio.wait_for(asyncio.gather(initiator.wait_open(), responder.wait_open()), 10)
        assert initiator.remote_public_key == responder.public_key
        big = bytes(range(256)) * 4000
        for i in range(20):
            initiator.write(big if i == 7 else f"msg {i}".encode())
        await initiator.drain()
        for i in range(20):
            assert await asyncio.wait_for(responder.read(), 10) == (big if i == 7 else f"msg {i}".encode())
        assert await initiator.send(b"unordered")
        assert await asyncio.wait_for(got.get(), 10) == b"unordered"
        initiator.end()
        assert await asyncio.wait_for(responder.read(), 10) is None
        responder.end()
        assert await asyncio.wait_for(initiator.read(), 10) is None
        await asyncio.wait_for(asyncio.gather(initiator.aclose(), responder.aclose()), 10)
        await asyncio.wait_for(asyncio.gather(a.wait_closed(), b.wait_closed()), 10)

"""The asyncio socket and stream adapter, Python to Python over real loopback UDP."""

from __future__ import annotations

import asyncio
import hashlib
import random

import pytest

from hyperpunch.udx.errors import StreamStateError, UDXLocalError
from hyperpunch.udx.packet import FLAG_DATA, encode_packet
from hyperpunch.udx.socket import UDX, UDXSocket
from hyperpunch.udx.stream import UDXStream


async def pair(udx: UDX) -> tuple[UDXSocket, UDXSocket, UDXStream, UDXStream]:
    s1 = await udx.create_socket().bind(0, "127.0.0.1")
    s2 = await udx.create_socket().bind(0, "127.0.0.1")
    a = udx.create_stream(1)
    b = udx.create_stream(2)
    a.connect(s1, 2, s2.address()[1])
    b.connect(s2, 1, s1.address()[1])
    return s1, s2, a, b


async def read_all(stream: UDXStream) -> bytes:
    parts = []
    while chunk := await asyncio.wait_for(stream.read(), 30):
        parts.append(chunk)
    return b"".join(parts)


async def test_transfer_both_ways_and_clean_close() -> None:
    udx = UDX()
    s1, s2, a, b = await pair(udx)
    data_a = random.Random(1).randbytes(3_000_000)
    data_b = random.Random(2).randbytes(500_000)
    async with s1, s2:

        async def send(stream: UDXStream, data: bytes) -> None:
            for off in range(0, len(data), 50_000):
                stream.write(data[off : off + 50_000])
                await stream.drain()
            stream.end()

        _, _, got_b, got_a = await asyncio.gather(send(a, data_a), send(b, data_b), read_all(b), read_all(a))
        assert hashlib.sha256(got_b).digest() == hashlib.sha256(data_a).digest()
        assert got_a == data_b
        await asyncio.wait_for(asyncio.gather(a.wait_closed(), b.wait_closed()), 30)
        assert a.error is None and b.error is None
        assert udx.streams == {}


async def test_non_stream_datagrams_go_to_the_message_handler() -> None:
    udx = UDX()
    got: list[tuple[bytes, tuple[str, int]]] = []
    s1 = await udx.create_socket(on_message=lambda d, addr: got.append((d, addr))).bind(0, "127.0.0.1")
    s2 = await udx.create_socket().bind(0, "127.0.0.1")
    a = udx.create_stream(1)
    b = udx.create_stream(2)
    a.connect(s1, 2, s2.address()[1])
    b.connect(s2, 1, s1.address()[1])
    port = s1.address()[1]
    garbage = [
        b"\x00",  # holepunch ping
        b"\x13" + bytes(40),  # dht-rpc
        b"\xfe\x01" + bytes(30),  # wrong magic
        b"\xff\x02" + bytes(30),  # wrong version
        b"\xff\x01" + bytes(10),  # too short
        encode_packet(FLAG_DATA, 999, 100, 0, 0, b"unknown id"),
    ]
    async with s1, s2:
        for g in garbage:
            s2.send(g, port, "127.0.0.1")
        # absurd packets for the live stream are ignored, not delivered, and do not break it
        for bad in (
            encode_packet(0, 1, 0xFFFFFFFF, 0, 0x7FFFFFFF),
            encode_packet(0, 1, 0, 0, 0, sacks=((5, 1), (0, 2**31))),
            encode_packet(FLAG_DATA, 1, 0, 10**6, 0, b"far future"),
            b"\xff\x01\x01\xff" + (1).to_bytes(4, "little") + bytes(12),
        ):
            s2.send(bad, port, "127.0.0.1")
        b.write(b"hello " * 1000)
        b.end()
        assert await read_all(a) == b"hello " * 1000
        a.end()
        await asyncio.wait_for(asyncio.gather(a.wait_closed(), b.wait_closed()), 30)
        assert [d for d, _ in got] == garbage
        assert all(addr == ("127.0.0.1", s2.address()[1]) for _, addr in got)


async def test_firewall_sees_unconnected_packets_and_can_accept() -> None:
    udx = UDX()
    s1 = await udx.create_socket().bind(0, "127.0.0.1")
    s2 = await udx.create_socket().bind(0, "127.0.0.1")
    seen: list[tuple[int, str]] = []

    def firewall(sock: UDXSocket, port: int, host: str) -> bool:
        seen.append((port, host))
        server.connect(sock, 1, port, host)  # learn the peer from its first packet (hyperdht does this)
        return False

    server = udx.create_stream(2, firewall=firewall)
    client = udx.create_stream(1)
    client.connect(s1, 2, s2.address()[1])
    async with s1, s2:
        client.write(b"first")
        client.end()
        assert await read_all(server) == b"first"
        server.end()
        await asyncio.wait_for(asyncio.gather(client.wait_closed(), server.wait_closed()), 30)
        assert seen == [(s1.address()[1], "127.0.0.1")]


async def test_default_firewall_drops_packets_for_unconnected_streams() -> None:
    udx = UDX()
    s1 = await udx.create_socket().bind(0, "127.0.0.1")
    s2 = await udx.create_socket().bind(0, "127.0.0.1")
    lonely = udx.create_stream(2)
    client = udx.create_stream(1)
    client.connect(s1, 2, s2.address()[1])
    async with s1, s2:
        client.write(b"knock")
        await asyncio.sleep(0.1)
        assert lonely.core.ack == 0 and not lonely._chunks
        await client.aclose()
        await lonely.aclose()


async def test_change_remote_mid_transfer() -> None:
    udx = UDX()
    a1 = await udx.create_socket().bind(0, "127.0.0.1")
    b1 = await udx.create_socket().bind(0, "127.0.0.1")
    b2 = await udx.create_socket().bind(0, "127.0.0.1")
    a = udx.create_stream(1)
    b = udx.create_stream(2)
    a.connect(a1, 2, b1.address()[1])
    b.connect(b1, 1, a1.address()[1])
    data = random.Random(3).randbytes(2_000_000)
    async with a1, b1, b2:
        reader = asyncio.ensure_future(read_all(b))
        a.write(data[:1_000_000])
        await asyncio.sleep(0.02)
        # b moves to a new socket first (so a's packets to it pass), then a follows
        changed_b = b.change_remote(b2, 1, a1.address()[1])
        changed_a = a.change_remote(a1, 2, b2.address()[1])
        a.write(data[1_000_000:])
        a.end()
        await asyncio.wait_for(asyncio.gather(changed_a, changed_b), 30)
        assert await reader == data
        b.end()
        await asyncio.wait_for(asyncio.gather(a.wait_closed(), b.wait_closed()), 30)


async def test_messages_between_python_streams() -> None:
    udx = UDX()
    s1, s2, a, b = await pair(udx)
    got: asyncio.Queue[bytes] = asyncio.Queue()
    b.on_message = got.put_nowait
    async with s1, s2:
        a.send(b"datagram")
        assert await asyncio.wait_for(got.get(), 10) == b"datagram"
        await a.aclose()
        await b.aclose()


async def test_misuse_errors_and_socket_close_destroys_streams() -> None:
    udx = UDX()
    s1, s2, a, b = await pair(udx)
    with pytest.raises(UDXLocalError):
        udx.create_stream(1)  # id in use
    lone = udx.create_stream(7)
    with pytest.raises(StreamStateError):
        lone.write(b"x")
    await lone.aclose()
    a.write(b"abc")
    await s1.aclose()
    assert a.closed
    with pytest.raises(StreamStateError):
        a.write(b"more")
    await s2.aclose()
    assert b.closed


async def test_send_many_batches_arrive_as_the_same_datagrams_in_order() -> None:
    # runs of equal sizes, a shorter tail, a longer one after it, singles, and more than one GSO run
    sizes = [1200] * 70 + [700, 1200, 1200, 1232, 40] + [1400] * 5 + [1400] * 3 + [20]
    rng = random.Random(3)
    datagrams = [rng.randbytes(n) for n in sizes]
    got: list[bytes] = []
    all_in = asyncio.Event()

    def on_message(data: bytes, _addr: tuple[str, int]) -> None:
        got.append(data)
        if len(got) == 2 * len(datagrams):
            all_in.set()

    udx = UDX()
    receiver = await udx.create_socket(on_message=on_message).bind(0, "127.0.0.1")
    sender = await udx.create_socket().bind(0, "127.0.0.1")
    async with receiver, sender:
        sender.send_many(datagrams, ("127.0.0.1", receiver.address()[1]))
        sender.gso = False  # the plain path delivers the same
        sender.send_many(datagrams, ("127.0.0.1", receiver.address()[1]))
        await asyncio.wait_for(all_in.wait(), 30)
        assert got == datagrams + datagrams
        assert sender.packets_tx == 2 * len(datagrams)


async def test_transfer_without_segmentation_offload() -> None:
    udx = UDX()
    s1, s2, a, b = await pair(udx)
    s1.gso = s2.gso = False
    s1.gro = s2.gro = False
    data = random.Random(4).randbytes(1_000_000)
    async with s1, s2:

        async def send() -> None:
            a.write(data)
            await a.drain()
            a.end()

        _, got = await asyncio.gather(send(), read_all(b))
        assert got == data
        b.end()
        await asyncio.wait_for(asyncio.gather(a.wait_closed(), b.wait_closed()), 30)

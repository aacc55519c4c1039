"""10 s of junk datagrams at a HyperDHT node leave it answering queries (issue acceptance).

The junk mixes every shape that reaches the node's UDX socket: random bytes, dht-rpc type bytes
(0x03 request / 0x13 response) followed by garbage, truncated real requests, UDX-looking packets
(magic 0xFF, version 1) for unknown stream ids, and one-byte holepunch pings. While the flood
runs, another node keeps pinging and querying the target; afterwards the target still serves a
connection by key and a lookup of what was announced to it.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import struct

from dht_net import HOST, MIB, echo, send_and_check_echo
from dht_net import testnet as local_testnet

from hyperpunch.dht import HyperDHT
from hyperpunch.dht_rpc.messages import RequestMessage, encode_request
from hyperpunch.encoding import Address
from hyperpunch.secretstream import SecretStream

FLOOD_SECONDS = 10.0
BURST = 40  # datagrams per burst; one burst every 10 ms is ~4 000 datagrams/s


def junk_datagram(rng: random.Random, target: Address) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 1400))
    if kind == 1:
        return bytes([rng.choice((0x03, 0x13))]) + rng.randbytes(rng.randrange(0, 200))
    if kind == 2:  # a real request cut short, or with a byte flipped
        req = RequestMessage(rng.randrange(65536), target, rng.randrange(64), False, None, None)
        data = bytearray(encode_request(req))
        if rng.random() < 0.5:
            return bytes(data[: rng.randrange(len(data))])
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == 3:  # UDX header for a stream id nobody has, with random flags and numbers
        header = struct.pack(
            "<BBBBIIII",
            0xFF,
            1,
            rng.randrange(256),
            rng.randrange(256),
            rng.getrandbits(32),
            rng.getrandbits(32),
            rng.getrandbits(32),
            rng.getrandbits(32),
        )
        return header + rng.randbytes(rng.randrange(0, 64))
    if kind == 4:
        return b"\x00"  # a holepunch ping
    return bytes([0xFF, rng.randrange(256)]) + rng.randbytes(rng.randrange(0, 40))


async def flood(target: Address, stop_at: float, seed: int) -> int:
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        while loop.time() < stop_at:
            for _ in range(BURST):
                try:
                    s.sendto(junk_datagram(rng, target), (target.host, target.port))
                    sent += 1
                except BlockingIOError:
                    break
            await asyncio.sleep(0.01)
    return sent


async def test_ten_seconds_of_junk_leave_the_node_answering() -> None:
    async with local_testnet(4) as bootstrap:
        target = HyperDHT(bootstrap=bootstrap, host=HOST, ephemeral=False)
        client = HyperDHT(bootstrap=bootstrap, host=HOST)
        try:
            await asyncio.gather(target.ready(), client.ready())
            addr = target.server_address()
            assert addr is not None
            udx = target.server_udx_socket
            assert udx is not None
            rx_before = udx.packets_rx

            async def on_connection(stream: SecretStream) -> None:
                await echo(stream)

            server = target.create_server(on_connection=on_connection)
            kp = HyperDHT.key_pair(os.urandom(32))
            await server.listen(kp)

            loop = asyncio.get_running_loop()
            stop_at = loop.time() + FLOOD_SECONDS
            flooding = asyncio.ensure_future(flood(addr, stop_at, seed=7))
            answered = 0
            try:
                while loop.time() < stop_at:
                    reply = await asyncio.wait_for(client.ping((addr.host, addr.port)), 10)
                    assert reply.from_.id == target.id
                    answered += 1
                    await asyncio.sleep(0.25)
                sent = await flooding
            finally:
                flooding.cancel()

            assert answered >= 10  # it answered all through the flood (each ping awaited in turn)
            assert sent > 10_000
            assert udx.packets_rx - rx_before > sent // 2  # the junk did reach the node's socket

            # still fully working afterwards: a query through it, and a connection by key to it
            found = [r async for r in client.find_node(os.urandom(32))]
            assert found
            stream = await asyncio.wait_for(client.connect(kp.public_key), 30)
            try:
                sent_sha, got_sha, n = await send_and_check_echo(stream, MIB)
                assert n == MIB and got_sha == sent_sha
            finally:
                await stream.aclose()
                await server.aclose()
        finally:
            await client.aclose()
            await target.aclose()

"""The relay under load and abuse: many clients at once, a client killed mid-stream, a hostile
client sending random and mutated frames, per-client limits. One client never affects another."""

from __future__ import annotations

import asyncio
import json
import random
import time

import pytest
from relay_net import MIB, echo, peer, python_relay, send_and_check_echo
from relay_net import testnet as local_testnet
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from hyperpunch.dht import HyperDHT
from hyperpunch.encoding import encode
from hyperpunch.relay import RelayedDHT, RelayLimits, RelayServer
from hyperpunch.relay import messages as m
from hyperpunch.relay.errors import RelayRemoteError
from hyperpunch.relay.messages import MessageType as T
from hyperpunch.secretstream import SecretStream
from jsref import spawn_node

pytestmark = pytest.mark.interop

OPEN_FRAME = b"\x00\x01\x01\x15@hyperswarm/dht-relay\x00"


def frame(type_: int, value: object) -> bytes:
    return bytes([1, type_]) + encode(m.MESSAGES[type_], value)


async def echo_once(relay: RelayServer, server_pk: bytes, size: int, *, custodial: bool = True) -> float:
    async with RelayedDHT(relay.url, custodial=custodial) as client:
        start = time.perf_counter()
        stream = await client.connect(server_pk, timeout=60)
        sent, got, n = await send_and_check_echo(stream, size)
        assert (sent, n) == (got, size)
        await stream.aclose()
        return time.perf_counter() - start


async def test_fifty_clients_each_echo_one_mib() -> None:
    async with local_testnet() as bootstrap, python_relay(bootstrap) as relay, peer(bootstrap) as srv_node:
        kp = HyperDHT.key_pair()
        server = srv_node.create_server(on_connection=echo)
        await server.listen(kp)
        start = time.perf_counter()
        # half custodial (the relay runs their secret streams), half non-custodial (ciphertext only)
        await asyncio.gather(*(echo_once(relay, kp.public_key, MIB, custodial=i % 2 == 0) for i in range(50)))
        elapsed = time.perf_counter() - start
        print(f"50 relayed clients x 1 MiB echo (25 custodial, 25 not): {elapsed:.2f} s")
        await relay.wait_sessions(0)
        await server.aclose()


@pytest.mark.parametrize("custodial", [True, False], ids=["custodial", "non-custodial"])
async def test_client_killed_mid_stream_leaves_nothing_behind(custodial: bool) -> None:
    async with local_testnet() as bootstrap, python_relay(bootstrap) as relay, peer(bootstrap) as srv_node:
        kp = HyperDHT.key_pair()
        got_bytes = asyncio.Event()
        killed = asyncio.Event()
        server_side_closed = asyncio.Event()

        async def on_connection(stream: SecretStream) -> None:
            # read one message, then stop reading until the client is gone: the relay holds the
            # client's data (backpressure) and must still notice it died
            try:
                first = await stream.read()
                got_bytes.set()
                await killed.wait()
                if first is not None:
                    stream.write(first)
                async for message in stream:
                    stream.write(message)
                    await stream.drain()
                stream.write_eof()
            except Exception:
                pass
            finally:
                await stream.wait_closed()
                server_side_closed.set()

        server = srv_node.create_server(on_connection=on_connection)
        await server.listen(kp)
        async with spawn_node(
            "relay-client.js", json.dumps({"url": relay.url, "custodial": custodial})
        ) as js:
            await js.expect("ready")
            await js.send({"cmd": "connect", "publicKey": kp.public_key.hex(), "bytes": 6 * MIB})
            await js.expect("open")
            await asyncio.wait_for(got_bytes.wait(), 30)
            await js.aclose()  # SIGKILL, mid-stream
        await asyncio.wait_for(relay.wait_sessions(0), 60)
        killed.set()
        await asyncio.wait_for(server_side_closed.wait(), 60)
        assert not relay.sessions
        # the relay still serves
        await echo_once(relay, kp.public_key, 1000)
        await server.aclose()


def mutations(rng: random.Random, valid: list[bytes]) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:  # random bytes
        return rng.randbytes(rng.randrange(0, 80))
    base = bytearray(rng.choice(valid))
    if kind == 1 and base:  # flip bytes
        for _ in range(rng.randrange(1, 4)):
            base[rng.randrange(len(base))] = rng.randrange(256)
    elif kind == 2:  # truncate
        del base[rng.randrange(len(base) + 1) :]
    elif kind == 3:  # extend
        base += rng.randbytes(rng.randrange(1, 40))
    else:  # a valid message with random ids / keys
        base[2:] = rng.randbytes(len(base) - 2)
    return bytes(base)


async def test_hostile_frames_close_only_that_client() -> None:
    rng = random.Random(1234)
    kp = HyperDHT.key_pair()
    valid = [
        frame(T.CONNECT, m.Connect(True, 7, kp.public_key, bytes(32), kp.secret_key)),
        frame(T.DATA, m.Data(7, [b"hello", b""])),
        frame(T.END, m.End(7)),
        frame(T.DESTROY, m.Destroy(True, 7, "x")),
        frame(T.LOOKUP, m.Lookup(9, bytes(32))),
        frame(T.CLOSE, m.Close(3)),
        frame(T.CONNECTED, m.Connected(1, 2)),
        frame(T.DENY, m.Deny(1)),
        frame(T.SIGNATURE, m.Signature(1, bytes(64))),
        frame(T.NOISE_REPLY, m.NoiseReply(False, False, 1, b"", bytes(32))),
        frame(T.NOISE_REPLY, m.NoiseReply(True, True, 2, b"\x01\x02", None, bytes(32), bytes(32))),
        frame(T.CONNECT, m.Connect(False, 8, kp.public_key, bytes(32))),
        frame(T.LISTEN, m.Listen(False, 4, kp.public_key)),
        frame(T.ANNOUNCE, m.Announce(False, 11, bytes(32), kp.public_key)),
        frame(T.PONG, None),
        bytes([0, 2, 1]),  # protomux close
        bytes([0, 0]),  # protomux batch
    ]
    handshakes = [
        frame(T.HANDSHAKE, m.Handshake(True, kp.public_key, kp.secret_key)),
        frame(T.HANDSHAKE, m.Handshake(False, kp.public_key)),
    ]
    async with local_testnet() as bootstrap, python_relay(bootstrap) as relay, peer(bootstrap) as srv_node:
        skp = HyperDHT.key_pair()
        server = srv_node.create_server(on_connection=echo)
        await server.listen(skp)
        async with RelayedDHT(relay.url, custodial=True) as good:
            stream = await good.connect(skp.public_key, timeout=30)
            sent = 0
            connections = 0
            while sent < 20_000:
                if connections % 500 == 0:
                    print("progress", connections, sent, flush=True)
                connections += 1
                async with ws_connect(relay.url, max_size=None) as ws:
                    await ws.send(OPEN_FRAME)
                    await ws.send(handshakes[connections % 2])
                    try:
                        for _ in range(200):
                            await ws.send(mutations(rng, valid))
                            sent += 1
                        await ws.send("text is not allowed")
                        await asyncio.wait_for(ws.wait_closed(), 30)
                    except ConnectionClosed:
                        pass
            # the good client's stream still echoes, the relay holds only its session
            result = await send_and_check_echo(stream, MIB)
            assert result[0] == result[1] and result[2] == MIB
            await relay.wait_sessions(1)
            assert len(relay.sessions) == 1
            print(f"{sent} hostile frames over {connections} connections")
            await stream.aclose()
        await relay.wait_sessions(0)
        await server.aclose()


async def test_per_client_limits() -> None:
    limits = RelayLimits(max_streams=2, max_queries=1, message_rate=50, message_burst=100)
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, limits=limits) as relay,
        peer(bootstrap) as srv_node,
    ):
        kp = HyperDHT.key_pair()
        server = srv_node.create_server(on_connection=echo)
        await server.listen(kp)
        async with RelayedDHT(relay.url, custodial=True) as client:
            a = await client.connect(kp.public_key, timeout=30)
            b = await client.connect(kp.public_key, timeout=30)
            with pytest.raises(RelayRemoteError) as info:
                await client.connect(kp.public_key, timeout=30)
            assert info.value.code == "RELAY_LIMIT_EXCEEDED"
            await a.aclose()
            await b.aclose()
        # message rate: a flood closes that client with a clear reason, others are unaffected
        async with RelayedDHT(relay.url, custodial=True) as calm:
            async with ws_connect(relay.url) as ws:
                await ws.send(OPEN_FRAME)
                await ws.send(frame(T.HANDSHAKE, m.Handshake(False, kp.public_key)))
                with pytest.raises(ConnectionClosed):
                    for _ in range(1000):
                        await ws.send(frame(T.PONG, None))
                    await asyncio.wait_for(ws.recv(), 30)
                    await asyncio.wait_for(ws.recv(), 30)
                assert ws.close_code == 1008
                assert (ws.close_reason or "").startswith("RELAY_LIMIT_EXCEEDED")
            s = await calm.connect(kp.public_key, timeout=30)
            result = await send_and_check_echo(s, 1000)
            assert result[0] == result[1]
            await s.aclose()
        await relay.wait_sessions(0)
        await server.aclose()


async def test_keepalive_pings_and_closes_a_silent_client() -> None:
    limits = RelayLimits(heartbeat=0.05)
    async with local_testnet() as bootstrap, python_relay(bootstrap, limits=limits) as relay:
        # a client that answers every ping stays (10 pings = 10 heartbeats)
        async with ws_connect(relay.url) as ws:
            await ws.send(OPEN_FRAME)
            await ws.send(frame(T.HANDSHAKE, m.Handshake(False, bytes(32))))
            pings = 0
            while pings < 10:
                message = await asyncio.wait_for(ws.recv(), 30)
                if message == bytes([1, T.PING]):
                    pings += 1
                    await ws.send(frame(T.PONG, None))
            assert len(relay.sessions) == 1
        await relay.wait_sessions(0)
        # a client that never answers is closed after three heartbeats, with the reason
        async with ws_connect(relay.url) as ws:
            await ws.send(OPEN_FRAME)
            await ws.send(frame(T.HANDSHAKE, m.Handshake(False, bytes(32))))
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 30)
            assert ws.close_code == 1008
            assert "did not answer pings" in (ws.close_reason or "")
        await relay.wait_sessions(0)


def peak_rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # Linux: reset VmHWM to the current RSS


@pytest.mark.parametrize("custodial", [True, False], ids=["custodial", "non-custodial"])
async def test_relay_memory_stays_bounded_behind_a_stalled_reader(custodial: bool) -> None:
    """A client pushes 48 MiB at a server that stops reading: the relay stops reading that client's
    WebSocket instead of buffering, so this process's peak RSS (relay, DHT nodes and the server all
    live here) grows by far less than what was pushed; then the server echoes everything."""
    total = 48 * MIB
    async with local_testnet() as bootstrap, python_relay(bootstrap) as relay, peer(bootstrap) as srv_node:
        kp = HyperDHT.key_pair()
        stalled_peak: list[int] = []
        stall = asyncio.Event()  # off for the warm-up connection

        async def on_connection(stream: SecretStream) -> None:
            try:
                first = await stream.read()
                if stall.is_set():
                    # the server reads nothing more until the relay has paused reading the client
                    session = next(iter(relay.sessions))
                    await asyncio.wait_for(session.stream.paused.wait(), 60)
                    stalled_peak.append(peak_rss_kib())
                if first is not None:
                    stream.write(first)
                async for message in stream:
                    stream.write(message)
                    await stream.drain()
                stream.write_eof()
            except Exception as err:
                print("server side failed:", repr(err))
                stream.abort()

        server = srv_node.create_server(on_connection=on_connection)
        await server.listen(kp)
        await echo_once(relay, kp.public_key, MIB, custodial=custodial)  # warm up
        await relay.wait_sessions(0)
        stall.set()
        reset_peak_rss()
        before = peak_rss_kib()
        opts = {"url": relay.url, "custodial": custodial}
        async with spawn_node("relay-client.js", json.dumps(opts)) as js:
            await js.expect("ready")
            # paced: the JS client otherwise batches every pending write into one frame
            cmd = {"cmd": "connect", "publicKey": kp.public_key.hex(), "bytes": total, "paced": True}
            await js.send(cmd)
            await js.expect("open")
            done = await js.expect("echoed", 180)
        assert done["bytes"] == total and done["sent"] == done["received"]
        grown = (peak_rss_kib() - before) >> 10
        stalled = (stalled_peak[0] - before) >> 10
        print(f"peak RSS growth: {stalled} MiB while stalled, {grown} MiB for {total >> 20} MiB echoed")
        assert stalled < 16
        assert grown < 24
        await server.aclose()

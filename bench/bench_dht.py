"""HyperDHT latency on a warm local testnet: connect+echo and lookup, hyperpunch vs hyperdht 6.34.

Each side builds its own testnet of ``TESTNET_SIZE`` persistent nodes on 127.0.0.1 (Python: a
bootstrapper plus persistent nodes; JS: ``@hyperswarm/testnet``), then a server node and a client
node. After ``WARMUP`` untimed rounds, each of ``ROUNDS`` rounds is timed and the median (ms) is the
figure (lower is better):

* ``dht_connect_echo_direct``: ``connect(server key)`` until the stream is open, then one 32-byte
  message echoed back, both nodes created non-firewalled (``firewalled=False``), so the client
  connects straight to the server (JS twin ``interop/bench/dht-connect.js direct``);
* ``dht_connect_echo_holepunch``: the same with both nodes forced firewalled after bootstrapping
  and ``local_connection=False``, so every connect runs the PEER_HOLEPUNCH protocol over
  loopback (JS twin ``dht-connect.js holepunch``, forcing state the way dht-conn-peer.js does);
* ``dht_lookup`` (nodes non-firewalled): a full ``lookup(topic)`` query to completion, the server having announced on the
  topic (JS twin ``interop/bench/dht-lookup.js``); the server must be among the peers found.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator

from bench import Workload
from hyperpunch.crypto import hash as blake2b
from hyperpunch.dht import HyperDHT
from hyperpunch.secretstream import SecretStream

HOST = "127.0.0.1"
TESTNET_SIZE = 5
ROUNDS = 20
WARMUP = 3
MESSAGE = b"hyperpunch-bench-echo-0123456789"[:32]


@contextlib.asynccontextmanager
async def _testnet(size: int = TESTNET_SIZE) -> AsyncIterator[list[str]]:
    boot = HyperDHT.bootstrapper(0, HOST, bind_host=HOST)
    nodes = [boot]
    try:
        await boot.ready()
        bootstrap = [f"{HOST}:{boot.port}"]
        more = [
            HyperDHT(bootstrap=bootstrap, host=HOST, ephemeral=False, firewalled=False)
            for _ in range(size - 1)
        ]
        nodes += more
        await asyncio.gather(*(n.ready() for n in more))
        yield bootstrap
    finally:
        for node in reversed(nodes):
            await node.aclose()


async def _echo(stream: SecretStream) -> None:
    async for message in stream:
        stream.write(message)
    stream.write_eof()


def _force_firewalled(node: HyperDHT) -> None:
    node.core.firewalled = node.core.io.firewalled = True


async def connect_echo_ms(mode: str = "direct", rounds: int = ROUNDS) -> float:
    punch = mode == "holepunch"
    async with (
        _testnet() as bootstrap,
        HyperDHT(bootstrap=bootstrap, host=HOST, firewalled=punch) as server_node,
        HyperDHT(bootstrap=bootstrap, host=HOST, firewalled=punch) as client,
    ):
        await asyncio.gather(server_node.ready(), client.ready())
        if punch:
            _force_firewalled(server_node)
            _force_firewalled(client)
        server = server_node.create_server(on_connection=_echo)
        key_pair = HyperDHT.key_pair()
        await server.listen(key_pair)
        times: list[float] = []
        for i in range(WARMUP + rounds):
            start = time.perf_counter()
            stream = await asyncio.wait_for(
                client.connect(key_pair.public_key, local_connection=not punch), 30
            )
            stream.write(MESSAGE)
            reply = await asyncio.wait_for(stream.read(), 30)
            elapsed = time.perf_counter() - start
            if reply != MESSAGE:
                raise RuntimeError(f"echo mismatch: {reply!r}")
            if stream.user_data["dht"]["path"] != ("holepunched" if punch else "direct"):
                raise RuntimeError(f"unexpected path {stream.user_data['dht']}")
            if i >= WARMUP:
                times.append(elapsed * 1000)
            await stream.aclose()
        await server.aclose()
        return statistics.median(times)


async def lookup_ms(rounds: int = ROUNDS) -> float:
    async with (
        _testnet() as bootstrap,
        HyperDHT(bootstrap=bootstrap, host=HOST, firewalled=False) as server_node,
        HyperDHT(bootstrap=bootstrap, host=HOST, firewalled=False) as client,
    ):
        await asyncio.gather(server_node.ready(), client.ready())
        topic = blake2b(b"hyperpunch bench topic")
        key_pair = HyperDHT.key_pair()
        await server_node.announce(topic, key_pair)
        times: list[float] = []
        for i in range(WARMUP + rounds):
            start = time.perf_counter()
            found = False
            async for reply in client.lookup(topic):
                found = found or any(p.public_key == key_pair.public_key for p in reply.peers)
            elapsed = time.perf_counter() - start
            if not found:
                raise RuntimeError("lookup did not find the announced peer")
            if i >= WARMUP:
                times.append(elapsed * 1000)
        return statistics.median(times)


async def connect_echo_direct_ms() -> float:
    return await connect_echo_ms("direct")


async def connect_echo_holepunch_ms() -> float:
    return await connect_echo_ms("holepunch")


WORKLOADS = [
    Workload(
        name=f"dht_connect_echo_direct_testnet{TESTNET_SIZE}",
        unit="ms",
        higher_is_better=False,
        run_python=connect_echo_direct_ms,
        js_script="dht-connect.js",
        js_args=["direct", str(TESTNET_SIZE), str(ROUNDS), str(WARMUP)],
    ),
    Workload(
        name=f"dht_connect_echo_holepunch_testnet{TESTNET_SIZE}",
        unit="ms",
        higher_is_better=False,
        run_python=connect_echo_holepunch_ms,
        js_script="dht-connect.js",
        js_args=["holepunch", str(TESTNET_SIZE), str(ROUNDS), str(WARMUP)],
    ),
    Workload(
        name=f"dht_lookup_testnet{TESTNET_SIZE}",
        unit="ms",
        higher_is_better=False,
        run_python=lookup_ms,
        js_script="dht-lookup.js",
        js_args=[str(TESTNET_SIZE), str(ROUNDS), str(WARMUP)],
    ),
]

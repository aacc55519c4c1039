"""The dht-relay: the same JS client (``@hyperswarm/dht-relay`` 0.4.3 in Node, over ``ws``,
custodial) through our relay vs through the JS relay, in one run.

Each side builds its own loopback testnet (5 nodes), an echo server on it and a relay node: the
Python side a hyperpunch testnet, a hyperpunch echo server and :class:`hyperpunch.relay.RelayServer`;
the JS side ``@hyperswarm/testnet``, a hyperdht echo server and ``relay()`` from the package on a
``ws`` server. The measuring client is the same script, ``interop/bench/relay.js``, on both sides.

* ``relay_connect_echo``: median ms of 20 rounds (3 warm-up) of ``connect(key)`` until open, one
  32-byte message echoed, destroy (lower is better);
* ``relay_throughput``: MB/s of one relayed stream echoing 16 MiB in 64 KiB writes (higher is better).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from bench import Workload
from hyperpunch.dht import HyperDHT
from hyperpunch.errors import HyperpunchError
from hyperpunch.relay import RelayServer
from hyperpunch.secretstream import SecretStream

HOST = "127.0.0.1"
TESTNET_SIZE = 5
INTEROP = Path(__file__).resolve().parent.parent / "interop"


async def _echo(stream: SecretStream) -> None:
    with contextlib.suppress(HyperpunchError):  # the client destroys each stream when measured
        async for message in stream:
            stream.write(message)
            await stream.drain()
        stream.write_eof()


async def _through_python_relay(mode: str) -> float:
    boot = HyperDHT.bootstrapper(0, HOST, bind_host=HOST)
    nodes = [boot]
    try:
        await boot.ready()
        bootstrap = [f"{HOST}:{boot.port}"]
        more = [HyperDHT(bootstrap=bootstrap, host=HOST, ephemeral=False) for _ in range(TESTNET_SIZE - 1)]
        server_node = HyperDHT(bootstrap=bootstrap, host=HOST)
        relay_node = HyperDHT(bootstrap=bootstrap, host=HOST)
        nodes += [*more, server_node, relay_node]
        await asyncio.gather(*(n.ready() for n in nodes[1:]))
        server = server_node.create_server(on_connection=_echo)
        key_pair = HyperDHT.key_pair()
        await server.listen(key_pair)
        async with RelayServer(relay_node, HOST, 0) as relay:
            opts = json.dumps({"url": relay.url, "serverKey": key_pair.public_key.hex()})
            proc = await asyncio.create_subprocess_exec(
                "node",
                str(INTEROP / "bench" / "relay.js"),
                mode,
                opts,
                cwd=INTEROP,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"relay.js {mode} failed:\n{err.decode()}")
        await server.aclose()
        return float(json.loads(out.decode().strip().splitlines()[-1])["value"])
    finally:
        for node in reversed(nodes):
            await node.aclose()


async def connect_echo_ms() -> float:
    return await _through_python_relay("connect")


async def throughput_mb_s() -> float:
    return await _through_python_relay("throughput")


WORKLOADS = [
    Workload("relay_connect_echo", "ms", False, connect_echo_ms, "relay.js", ["connect"]),
    Workload("relay_throughput", "MB/s", True, throughput_mb_s, "relay.js", ["throughput"]),
]

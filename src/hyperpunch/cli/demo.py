"""``hyperpunch demo`` (what ``make run`` shows): the layers that work today, end to end.

1. Two peers with Ed25519 key pairs run a Noise XX handshake over local TCP, then each sends
   ``size`` bytes to the other through the encrypted secret-stream at the same time; the SHA-256 of
   what each side received is checked.
2. A local HyperDHT testnet on 127.0.0.1; a server listens on a key pair, a client connects to it
   by public key alone (handshake relayed through the DHT, then UDX), and a hypercore of
   ``blocks`` signed blocks replicates over that connection and is verified block by block.
Nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

from hyperpunch import crypto
from hyperpunch.dht import HyperDHT
from hyperpunch.hypercore import Hypercore
from hyperpunch.secretstream import SecretStream, serve

__all__ = ["run_demo"]

CHUNK = 64 * 1024


async def _pump(stream: SecretStream, payload: bytes) -> None:
    view = memoryview(payload)
    for offset in range(0, len(view), CHUNK):
        stream.write(view[offset : offset + CHUNK])
        await stream.drain()
    stream.write_eof()


async def _swallow(stream: SecretStream) -> str:
    digest = hashlib.sha256()
    async for message in stream:
        digest.update(message)
    return digest.hexdigest()


async def run_demo(say: Callable[[str], None], *, size: int = 16 << 20, blocks: int = 1000) -> int:
    server_keys = crypto.key_pair()
    client_keys = crypto.key_pair()
    say(f"server public key: {server_keys.public_key.hex()}")
    say(f"client public key: {client_keys.public_key.hex()}")
    payload_to_server = crypto.random_bytes(size)
    payload_to_client = crypto.random_bytes(size)
    server_view: dict[str, str] = {}
    server_done = asyncio.Event()

    async def handler(stream: SecretStream) -> None:
        assert stream.remote_public_key is not None and stream.handshake_hash is not None
        server_view["remote"] = stream.remote_public_key.hex()
        server_view["hash"] = stream.handshake_hash.hex()
        _, received = await asyncio.gather(_pump(stream, payload_to_client), _swallow(stream))
        server_view["sha256"] = received
        server_done.set()

    async with await serve(handler, "127.0.0.1", 0, key_pair=server_keys) as server:
        say(f"secret-stream server on 127.0.0.1:{server.port}")
        started = time.perf_counter()
        async with await SecretStream.connect("127.0.0.1", server.port, key_pair=client_keys) as client:
            assert client.handshake_hash is not None and client.remote_public_key is not None
            say(f"handshake hash (client side): {client.handshake_hash.hex()}")
            _, client_received = await asyncio.gather(_pump(client, payload_to_server), _swallow(client))
        await asyncio.wait_for(server_done.wait(), 60)
        elapsed = time.perf_counter() - started

    say(f"handshake hash (server side): {server_view['hash']}")
    ok = (
        server_view["hash"] == client.handshake_hash.hex()
        and server_view["remote"] == client_keys.public_key.hex()
        and client.remote_public_key == server_keys.public_key
        and client_received == hashlib.sha256(payload_to_client).hexdigest()
        and server_view["sha256"] == hashlib.sha256(payload_to_server).hexdigest()
    )
    mib = size / (1 << 20)
    say(f"sent {mib:.1f} MiB each way in {elapsed:.2f} s ({2 * mib / elapsed:.0f} MiB/s in total)")
    say("sha-256 equal both ways, handshake hashes and remote keys agree" if ok else "MISMATCH")
    if not ok:
        return 1
    return await _dht_and_hypercore(say, blocks=blocks)


async def _dht_and_hypercore(say: Callable[[str], None], *, blocks: int) -> int:
    host = "127.0.0.1"
    boot = HyperDHT.bootstrapper(0, host, bind_host=host)
    nodes: list[HyperDHT] = [boot]
    try:
        await boot.ready()
        address = boot.server_address()
        assert address is not None
        bootstrap = [f"{host}:{address.port}"]
        nodes += [HyperDHT(bootstrap=bootstrap, host=host, ephemeral=False) for _ in range(3)]
        server_node = HyperDHT(bootstrap=bootstrap, host=host)
        client_node = HyperDHT(bootstrap=bootstrap, host=host)
        nodes += [server_node, client_node]
        await asyncio.gather(*(n.ready() for n in nodes[1:]))
        say(f"local HyperDHT testnet: {len(nodes) - 2} nodes, bootstrap {bootstrap[0]}")

        async with Hypercore(None) as writer, Hypercore(None, writer.key) as reader:
            await writer.append([f"block {i}".encode() for i in range(blocks)])
            assert writer.key is not None
            say(f"hypercore key: {writer.key.hex()} ({writer.length} signed blocks)")

            async def on_connection(stream: SecretStream) -> None:
                writer.replicate(stream)
                await stream.wait_closed()

            server = server_node.create_server(on_connection=on_connection)
            server_keys = HyperDHT.key_pair()
            await server.listen(server_keys)
            say(f"DHT server listening on: {server_keys.public_key.hex()}")
            stream = await asyncio.wait_for(client_node.connect(server_keys.public_key), 30)
            say(f"connected by public key, path: {stream.user_data['dht']['path']}")
            reader.replicate(stream)
            await asyncio.wait_for(reader.update(), 30)
            await asyncio.wait_for(reader.download(0, reader.length).done(), 60)
            good = reader.length == blocks
            for i in range(blocks):
                good = good and await reader.get(i) == f"block {i}".encode()
            say(f"replicated {reader.length} blocks over the DHT connection, every proof verified")
            await stream.aclose()
            await server.aclose()
        say("hypercore replicated over HyperDHT + UDX + secret-stream" if good else "MISMATCH")
        return 0 if good else 1
    finally:
        for node in reversed(nodes):
            await node.aclose()

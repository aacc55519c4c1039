"""``hyperpunch demo`` (what ``make run`` shows): the layers that work today, end to end.

Two hyperpunch peers with Ed25519 key pairs run a Noise XX handshake over local TCP, then each
sends ``size`` bytes to the other through the encrypted secret-stream at the same time. The demo
prints both sides' view of the handshake and checks the SHA-256 of what each side received.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

from hyperpunch import crypto
from hyperpunch.secretstream import SecretStream, serve

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


async def run_demo(say: Callable[[str], None], *, size: int = 16 << 20) -> int:
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
    return 0 if ok else 1

"""The seed app's discovery, in Python: meet the peers of a topic and read their core.

Usage: python examples/sdk/discovery.py (--relay ws://host:port | --bootstrap host:port,...) [TOPIC_HEX] [--read URL]

Like the seed's browser snippet: in-memory storage, no auto-join, a DHT (relayed through
`hyperpunch relay`, or native); prints "peer-add <public key>" for each peer that opens the topic
and, with --read, the first block of that core once replicated.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib

import hyperpunch
from hyperpunch.relay import RelayedDHT
from hyperpunch.sdk import SDK, core_events


async def main(args: argparse.Namespace) -> None:
    # the seed's topic: SHA-256 of the five zero bytes its browser build makes of "Hello Todos"
    topic = bytes.fromhex(args.topic) if args.topic else hashlib.sha256(bytes(5)).digest()
    bootstrap = args.bootstrap.split(",") if args.bootstrap else None
    async with contextlib.AsyncExitStack() as stack:
        dht = await stack.enter_async_context(RelayedDHT(args.relay, custodial=True)) if args.relay else None
        sdk = await stack.enter_async_context(SDK(None, auto_join=False, dht=dht, bootstrap=bootstrap))
        discovery = await sdk.get(topic)
        async with core_events(discovery) as events:
            await sdk.join_core(discovery)
            if args.read:
                core = await sdk.get(args.read)  # a core key or hyper:// URL
                await sdk.join_core(core)
                print("read", (await core.get(0)).decode(), flush=True)
            async for event in events:
                print(event.kind, event.peer.remote_public_key.hex(), flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("topic", nargs="?")
    ap.add_argument("--relay")
    ap.add_argument("--bootstrap")
    ap.add_argument("--read")
    hyperpunch.run(main(ap.parse_args()))

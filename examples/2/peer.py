"""Example 2: a chat peer on a Hyperswarm topic (JS ``examples/2/peer.js``).

Usage: python examples/2/peer.py [topic-hex] [--bootstrap host:port,...] [--host 127.0.0.1]

Every line typed goes to every connected peer; their lines are printed. Start one peer, then
start others with the topic it printed. Works with JS peers running peer.js on the same topic.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator

import hyperpunch
from hyperpunch.secretstream import SecretStream
from hyperpunch.swarm import Hyperswarm, PeerInfo


async def stdin_lines() -> AsyncIterator[bytes]:
    """Lines typed on stdin; a daemon thread reads them, so Ctrl-C never waits for it."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def read() -> None:
        with contextlib.suppress(RuntimeError):  # the loop may be gone at exit
            for line in sys.stdin.buffer:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("topic", nargs="?")
    ap.add_argument("--bootstrap", help="comma-separated host:port (default: the public DHT)")
    ap.add_argument("--host", default="0.0.0.0")
    args = ap.parse_args()
    topic = bytes.fromhex(args.topic) if args.topic else os.urandom(32)
    bootstrap = args.bootstrap.split(",") if args.bootstrap else None

    conns: set[SecretStream] = set()

    async def on_connection(conn: SecretStream, info: PeerInfo) -> None:
        name = info.public_key.hex()
        print(f"* got a connection from: {name} *", flush=True)
        conns.add(conn)
        try:
            async for data in conn:
                print(f"{name}: {data.decode(errors='replace').rstrip()}", flush=True)
        finally:
            conns.discard(conn)

    async with Hyperswarm(bootstrap=bootstrap, host=args.host, on_connection=on_connection) as swarm:
        discovery = swarm.join(topic, client=True, server=True)
        await discovery.flushed()  # the topic is announced
        print(f"joined topic: {topic.hex()}", flush=True)

        async for line in stdin_lines():  # until EOF (Ctrl-D) or Ctrl-C
            for conn in conns:
                conn.write(line)


if __name__ == "__main__":
    hyperpunch.run(main())  # until it ends, or Ctrl-C / SIGTERM

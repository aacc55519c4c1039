"""Example 3, reader: print a writer's Hypercore blocks as they are appended.

Usage: python examples/3/reader.py <key-hex> [--storage DIR] [--bootstrap host:port,...]

Finds the writer on Hyperswarm through the core's discovery key, skips the blocks that already
existed and prints each new one as ``Block <i>: <text>``. Works with the JS writer.js too.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import hyperpunch
from hyperpunch.hypercore import Hypercore
from hyperpunch.swarm import Hyperswarm


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("key")
    ap.add_argument("--storage", default="./reader-storage")
    ap.add_argument("--bootstrap", help="comma-separated host:port (default: the public DHT)")
    ap.add_argument("--host", default="0.0.0.0")
    args = ap.parse_args()
    try:
        key = bytes.fromhex(args.key)
        assert len(key) == 32
    except (ValueError, AssertionError):
        sys.exit("reader.py: error: the key must be 64 hex characters")
    bootstrap = args.bootstrap.split(",") if args.bootstrap else None

    async with Hypercore(args.storage, key) as core, Hyperswarm(bootstrap=bootstrap, host=args.host) as swarm:
        found_peer = asyncio.Event()
        core.on("peer-add", lambda peer: found_peer.set())
        swarm.on_connection = lambda conn, info: core.replicate(conn)
        assert core.discovery_key is not None
        swarm.join(core.discovery_key)

        # wait until the first peer is found (or the swarm found nobody), then get the length
        found, flushed = asyncio.ensure_future(found_peer.wait()), asyncio.ensure_future(swarm.flush())
        await asyncio.wait([found, flushed], return_when="FIRST_COMPLETED")
        if found.done() or swarm.open_connections:
            await found
            await core.update()
        flushed.cancel()

        position = core.length
        print(f"Skipping {core.length} earlier blocks...", flush=True)
        async for block in core.read_stream(start=core.length, live=True):
            print(f"Block {position}: {bytes(block).decode(errors='replace')}", flush=True)
            position += 1


if __name__ == "__main__":
    hyperpunch.run(main())  # until it ends, or Ctrl-C / SIGTERM

"""Example 4, reader: follow a writer's main core and every core it names, live.

Usage: python examples/4/reader.py <main-core-key-hex> [--storage DIR] [--bootstrap host:port,...]

Prints ``Block <i> in Core <key>: <text>`` for each block of each core named in the main core.
Corestore replicates every core over the one connection found through the main core's topic.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import hyperpunch
from hyperpunch.corestore import Corestore
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.swarm import Hyperswarm


def bootstrap_list(text: str | None) -> list[tuple[str, int]] | None:
    if not text:
        return None
    return [(h, int(p)) for h, _, p in (item.rpartition(":") for item in text.split(","))]


async def follow(core: Hypercore) -> None:
    assert core.key is not None
    i = 0
    async for block in core.read_stream(live=True):
        print(f"Block {i} in Core {core.key.hex()}: {bytes(block).decode(errors='replace')}", flush=True)
        i += 1


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("key")
    ap.add_argument("--storage", default="./reader-storage")
    ap.add_argument("--bootstrap")
    ap.add_argument("--host", default="0.0.0.0")
    args = ap.parse_args()
    try:
        key = bytes.fromhex(args.key)
        assert len(key) == 32
    except (ValueError, AssertionError):
        sys.exit("reader.py: error: the main core key must be 64 hex characters")

    async with Corestore(args.storage) as store:
        main_core = await store.get(key)
        async with Hyperswarm(bootstrap=bootstrap_list(args.bootstrap), host=args.host) as swarm:
            swarm.on_connection = lambda conn, info: store.replicate(conn)
            assert main_core.discovery_key is not None
            swarm.join(main_core.discovery_key)
            followed: set[bytes] = set()
            tasks: list[asyncio.Task[None]] = []
            i = 0
            async for block in main_core.read_stream(live=True):
                if len(block) != 32:
                    print(f"main core block {i} is not a core key: skipped", file=sys.stderr)
                elif block not in followed:
                    followed.add(block)
                    tasks.append(asyncio.ensure_future(follow(await store.get(block))))
                i += 1


if __name__ == "__main__":
    hyperpunch.run(main())  # until it ends, or Ctrl-C / SIGTERM

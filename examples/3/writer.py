"""Example 3, writer: append stdin lines to a Hypercore and serve it on Hyperswarm.

Usage: python examples/3/writer.py [--storage DIR] [--bootstrap host:port,...] [--host 127.0.0.1]

Prints the core's key; give it to reader.py. Each line typed becomes one block. The core lives in
DIR (default ./writer-storage), so running again reopens the same core. Serves it until Ctrl-C.
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
from hyperpunch.hypercore import Hypercore
from hyperpunch.swarm import Hyperswarm


async def stdin_lines() -> AsyncIterator[bytes]:
    """Lines typed on stdin (newline removed); a daemon thread reads, so Ctrl-C never waits for it."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def read() -> None:
        with contextlib.suppress(RuntimeError):  # the loop may be gone at exit
            for line in os.fdopen(os.dup(sys.stdin.fileno()), "rb"):
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip(b"\r\n"))
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--storage", default="./writer-storage")
    ap.add_argument("--bootstrap", help="comma-separated host:port (default: the public DHT)")
    ap.add_argument("--host", default="0.0.0.0")
    args = ap.parse_args()
    bootstrap = args.bootstrap.split(",") if args.bootstrap else None

    async with Hypercore(args.storage) as core:
        print(f"hypercore key: {core.key.hex() if core.key else '?'}", flush=True)

        async with Hyperswarm(bootstrap=bootstrap, host=args.host) as swarm:
            # the discovery key only finds peers who *might* have the core: it cannot read it
            swarm.on_connection = lambda conn, info: core.replicate(conn)
            assert core.discovery_key is not None
            swarm.join(core.discovery_key)

            async for line in stdin_lines():  # append every line as a block
                await core.append(line)
            await asyncio.Event().wait()  # stdin ended: keep serving until Ctrl-C


if __name__ == "__main__":
    hyperpunch.run(main())  # until it ends, or Ctrl-C / SIGTERM

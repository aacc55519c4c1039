"""Example 4, writer: many cores, one connection per peer (Corestore + Hyperswarm).

Usage: python examples/4/writer.py [--storage DIR] [--bootstrap host:port,...]

Prints the main core's key. Every stdin line of 5 characters or more goes to core "long", a shorter
one to core "short"; the first time a core holds data its key is appended to core "main", so a
reader who knows only the main key finds the others. Serves the whole store until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading

import hyperpunch
from hyperpunch.corestore import Corestore
from hyperpunch.swarm import Hyperswarm


def bootstrap_list(text: str | None) -> list[tuple[str, int]] | None:
    if not text:
        return None
    return [(h, int(p)) for h, _, p in (item.rpartition(":") for item in text.split(","))]


def stdin_lines() -> asyncio.Queue[bytes | None]:
    """stdin lines from a daemon thread (a blocked read never holds up Ctrl-C); None at EOF."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def read() -> None:
        # os.read on the raw fd: a daemon thread blocked in sys.stdin would abort interpreter exit
        pending = b""
        while chunk := os.read(sys.stdin.fileno(), 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        if pending:
            loop.call_soon_threadsafe(queue.put_nowait, pending)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, daemon=True).start()
    return queue


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--storage", default="./writer-storage")
    ap.add_argument("--bootstrap")
    ap.add_argument("--host", default="0.0.0.0")
    args = ap.parse_args()

    async with Corestore(args.storage) as store:
        main_core = await store.get(name="main")
        short = await store.get(name="short")
        long = await store.get(name="long")
        print("main core key:", main_core.key.hex() if main_core.key else "?", flush=True)
        announced = {await main_core.get(i) for i in range(main_core.length)}

        async with Hyperswarm(bootstrap=bootstrap_list(args.bootstrap), host=args.host) as swarm:
            swarm.on_connection = lambda conn, info: store.replicate(conn)
            for core in (main_core, short, long):
                assert core.discovery_key is not None
                swarm.join(core.discovery_key, server=True, client=False)

            lines = stdin_lines()
            while (line := await lines.get()) is not None:
                data = line.rstrip(b"\r\n")
                if len(data.decode(errors="replace")) >= 5:
                    print("appending long data to core3", flush=True)
                    target = long
                else:
                    print("appending short data to core2", flush=True)
                    target = short
                await target.append(data)
                if target.key not in announced:
                    await main_core.append(target.key)
                    announced.add(target.key)
            await asyncio.Event().wait()  # stdin ended: keep serving until Ctrl-C


if __name__ == "__main__":
    hyperpunch.run(main())  # until it ends, or Ctrl-C / SIGTERM

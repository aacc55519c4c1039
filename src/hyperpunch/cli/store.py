"""``hyperpunch store write|read``: many cores over one connection per peer (seed example 4).

Invariants:

* ``store write`` keeps three named cores in ``--storage``: ``main``, ``short`` and ``long``. It
  prints ``main core key: <hex>``; each stdin line (newline stripped) of 5 or more characters is
  appended to ``long`` (printing ``appending long data to core3``), a shorter one to ``short``
  (``appending short data to core2``). The first time a core holds data its 32-byte key is appended,
  as one raw block, to ``main`` (checked against ``main``'s blocks, so a restart never repeats it).
  It joins every core's discovery key on Hyperswarm and replicates the whole store over each
  connection until interrupted (SIGINT/SIGTERM), stdin ending or not.
* ``store read <main-key>`` follows ``main`` live; for each block that is a 32-byte key it opens
  that core and prints ``Block <i> in Core <key hex>: <text>`` for each of its blocks, live. A block
  of ``main`` that is not 32 bytes is reported on stderr and skipped; a key seen twice is followed once.
* Bad input (a key that is not 64 hex characters, a bad ``--bootstrap``) is a one-line error
  before anything touches the network or the disk.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from hyperpunch.aio import TaskOwner
from hyperpunch.cli.options import (
    Network,
    add_network_options,
    first,
    open_swarm,
    parse_bootstrap,
    parse_hex_key,
    print_line,
    reporting_dht_status,
    run_command,
    stdin_lines,
    storage_dir,
    unless_stopped,
    until_signalled,
    warn,
)
from hyperpunch.corestore import Corestore
from hyperpunch.swarm import Hyperswarm

__all__ = ["LONG_THRESHOLD", "read", "register", "write"]

LONG_THRESHOLD = 5


def register(sub: Any) -> None:
    """Add ``store write`` / ``store read`` to the ``hyperpunch`` subparsers ``sub``."""
    p = sub.add_parser("store", help="corestore: many cores replicated over one connection per peer")
    ssub = p.add_subparsers(dest="store_command", metavar="ACTION")
    ssub.required = True

    w = ssub.add_parser("write", help="append stdin lines to cores 'short'/'long' and serve them")
    w.add_argument("--storage", default="./writer-storage", help="store directory (default ./writer-storage)")
    add_network_options(w)
    w.set_defaults(func=cmd_store_write)

    r = ssub.add_parser("read", help="follow a writer's main core and print every core's blocks live")
    r.add_argument("key", help="the writer's main core key (64 hex characters)")
    r.add_argument("--storage", default="./reader-storage", help="store directory (default ./reader-storage)")
    add_network_options(r)
    r.set_defaults(func=cmd_store_read)


def _network(args: argparse.Namespace) -> tuple[Network, str]:
    return parse_bootstrap(args.bootstrap), args.host


def cmd_store_write(args: argparse.Namespace) -> int:
    bootstrap, host = _network(args)
    storage = storage_dir(args.storage)
    return run_command(until_signalled(lambda stop: write(storage, bootstrap, host, stop=stop)))


def cmd_store_read(args: argparse.Namespace) -> int:
    key = parse_hex_key(args.key, what="main core key")
    bootstrap, host = _network(args)
    storage = storage_dir(args.storage)
    return run_command(until_signalled(lambda stop: read(key, storage, bootstrap, host, stop=stop)))


def _text(line: bytes) -> bytes:
    """A stdin line as a block: its ``\\n`` and every trailing ``\\r`` removed."""
    return line.removesuffix(b"\n").rstrip(b"\r")


async def write(
    storage: str,
    bootstrap: Network,
    host: str,
    *,
    stop: asyncio.Event | None = None,
    lines: asyncio.Queue[bytes | None] | None = None,
    swarm: Hyperswarm | None = None,
) -> int:
    """Run ``store write`` until ``stop`` is set. ``lines`` replaces stdin and ``swarm`` the
    Hyperswarm on ``bootstrap``/``host`` (tests pass their own)."""
    stop = stop if stop is not None else asyncio.Event()
    async with Corestore(storage) as store:
        main_core = await store.get(name="main")
        short = await store.get(name="short")
        long = await store.get(name="long")
        assert main_core.key is not None
        print_line(f"main core key: {main_core.key.hex()}")
        announced = {await main_core.get(i, wait=False) for i in range(main_core.length)}

        status_dht = None  # a swarm the caller brought reports on its own DHT
        if swarm is None:
            swarm = open_swarm(bootstrap, host)
            status_dht = swarm.dht
        swarm.on_connection = lambda conn, info: store.replicate(conn)
        async with swarm, reporting_dht_status(status_dht, bootstrap):
            for core in (main_core, short, long):
                assert core.discovery_key is not None
                swarm.join(core.discovery_key, server=True, client=False)
            async with stdin_lines(lines) as queue:
                while not stop.is_set():
                    ok, line = await unless_stopped(stop, queue.get())
                    if not ok:
                        break
                    if line is None:  # stdin ended: keep serving
                        await stop.wait()
                        break
                    block = _text(line)
                    text = block.decode("utf-8", errors="replace")
                    if len(text) >= LONG_THRESHOLD:
                        print_line("appending long data to core3")
                        target = long
                    else:
                        print_line("appending short data to core2")
                        target = short
                    await target.append(block)
                    assert target.key is not None
                    if target.key not in announced:
                        await main_core.append(target.key)
                        announced.add(target.key)
    return 0


async def _follow(store: Corestore, key: bytes) -> None:
    core = await store.get(key)
    try:
        i = 0
        async for block in core.read_stream(live=True):
            text = bytes(block).decode("utf-8", errors="replace")
            print_line(f"Block {i} in Core {key.hex()}: {text}")
            i += 1
    finally:
        await core.aclose()


async def read(
    key: bytes,
    storage: str,
    bootstrap: Network,
    host: str,
    *,
    stop: asyncio.Event | None = None,
    swarm: Hyperswarm | None = None,
) -> int:
    """Run ``store read`` until ``stop`` is set (``swarm`` as for :func:`write`)."""
    stop = stop if stop is not None else asyncio.Event()
    async with Corestore(storage) as store:
        main_core = await store.get(key)
        assert main_core.discovery_key is not None
        status_dht = None  # a swarm the caller brought reports on its own DHT
        if swarm is None:
            swarm = open_swarm(bootstrap, host)
            status_dht = swarm.dht
        swarm.on_connection = lambda conn, info: store.replicate(conn)
        followers = TaskOwner("hyperpunch store read")
        followed: set[bytes] = set()

        async def follow_main() -> None:
            i = 0
            async for block in main_core.read_stream(live=True):
                raw = bytes(block)
                if len(raw) != 32:
                    warn(f"main core block {i} is not a 32-byte core key ({len(raw)} bytes): skipped")
                elif raw not in followed:
                    followed.add(raw)
                    followers.spawn(_follow(store, raw))
                i += 1

        async with swarm, reporting_dht_status(status_dht, bootstrap):
            swarm.join(main_core.discovery_key)
            try:
                await first(follow_main(), stop.wait())
            finally:
                await followers.aclose()
    return 0

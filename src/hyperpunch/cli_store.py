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
import contextlib
import os
import signal
import sys
import threading
from typing import Any

from hyperpunch.cli import add_network_options, parse_bootstrap, parse_hex_key

__all__ = ["LONG_THRESHOLD", "register"]

LONG_THRESHOLD = 5


def _print(line: str) -> None:
    print(line, flush=True)


def _warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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


def _network(args: argparse.Namespace) -> tuple[list[tuple[str, int]] | None, str]:
    return parse_bootstrap(args.bootstrap), args.host


def cmd_store_write(args: argparse.Namespace) -> int:
    bootstrap, host = _network(args)
    return _run(_write(args.storage, bootstrap, host))


def cmd_store_read(args: argparse.Namespace) -> int:
    key = parse_hex_key(args.key, what="main core key")
    bootstrap, host = _network(args)
    return _run(_read(key, args.storage, bootstrap, host))


def _run(coro: Any) -> int:
    try:
        code: int = asyncio.run(coro)
    except KeyboardInterrupt:
        return 130
    return code


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def _stdin_lines() -> asyncio.Queue[bytes | None]:
    """Lines of stdin (newline stripped), then None at EOF; read by a daemon thread so an
    interrupted process never waits on a blocked read."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def put(item: bytes | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def reader() -> None:
        # raw os.read on fd 0, not sys.stdin: a daemon thread blocked inside the buffered reader
        # holds its lock and aborts interpreter shutdown
        pending = b""
        try:
            fd = sys.stdin.fileno()
            while chunk := os.read(fd, 65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    put(line.rstrip(b"\r"))
            if pending:
                put(pending.rstrip(b"\r"))
        except (OSError, ValueError):
            pass
        with contextlib.suppress(RuntimeError):  # the loop may be gone already
            put(None)

    threading.Thread(target=reader, name="hyperpunch-stdin", daemon=True).start()
    return queue


def _swarm(bootstrap: list[tuple[str, int]] | None, host: str) -> Any:
    from hyperpunch.swarm import Hyperswarm

    return Hyperswarm(bootstrap=bootstrap, host=host)


async def _write(storage: str, bootstrap: list[tuple[str, int]] | None, host: str) -> int:
    from hyperpunch.corestore import Corestore

    stop = _stop_event()
    async with Corestore(storage) as store:
        main_core = await store.get(name="main")
        short = await store.get(name="short")
        long = await store.get(name="long")
        assert main_core.key is not None
        _print(f"main core key: {main_core.key.hex()}")
        announced = {await main_core.get(i, wait=False) for i in range(main_core.length)}

        swarm = _swarm(bootstrap, host)
        swarm.on_connection = lambda conn, info: store.replicate(conn)
        async with swarm:
            for core in (main_core, short, long):
                assert core.discovery_key is not None
                swarm.join(core.discovery_key, server=True, client=False)
            lines = _stdin_lines()
            stdin_done = False
            while not stop.is_set():
                if stdin_done:
                    await stop.wait()
                    break
                get_line = asyncio.ensure_future(lines.get())
                stopped = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({get_line, stopped}, return_when=asyncio.FIRST_COMPLETED)
                stopped.cancel()
                if get_line not in done:
                    get_line.cancel()
                    break
                line = get_line.result()
                if line is None:
                    stdin_done = True
                    continue
                text = line.decode("utf-8", errors="replace")
                if len(text) >= LONG_THRESHOLD:
                    _print("appending long data to core3")
                    target = long
                else:
                    _print("appending short data to core2")
                    target = short
                await target.append(line)
                assert target.key is not None
                if target.key not in announced:
                    await main_core.append(target.key)
                    announced.add(target.key)
    return 0


async def _follow(store: Any, key: bytes) -> None:
    core = await store.get(key)
    try:
        i = 0
        async for block in core.read_stream(live=True):
            text = bytes(block).decode("utf-8", errors="replace")
            _print(f"Block {i} in Core {key.hex()}: {text}")
            i += 1
    finally:
        await core.aclose()


async def _read(key: bytes, storage: str, bootstrap: list[tuple[str, int]] | None, host: str) -> int:
    from hyperpunch.corestore import Corestore

    stop = _stop_event()
    async with Corestore(storage) as store:
        main_core = await store.get(key)
        assert main_core.discovery_key is not None
        swarm = _swarm(bootstrap, host)
        swarm.on_connection = lambda conn, info: store.replicate(conn)
        followers: dict[bytes, asyncio.Task[None]] = {}

        async def follow_main() -> None:
            i = 0
            async for block in main_core.read_stream(live=True):
                raw = bytes(block)
                if len(raw) != 32:
                    _warn(f"main core block {i} is not a 32-byte core key ({len(raw)} bytes): skipped")
                elif raw not in followers:
                    followers[raw] = asyncio.ensure_future(_follow(store, raw))
                i += 1

        async with swarm:
            swarm.join(main_core.discovery_key)
            task = asyncio.ensure_future(follow_main())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
            for t in (task, stopped, *followers.values()):
                t.cancel()
            await asyncio.gather(task, stopped, *followers.values(), return_exceptions=True)
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    return 0

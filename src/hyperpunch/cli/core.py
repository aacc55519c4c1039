"""``hyperpunch core write|read``: one Hypercore replicated over Hyperswarm (seed example 3).

Invariants:

* ``core write`` opens (or reopens) a writable core in ``--storage`` and prints
  ``hypercore key: <64 hex>`` first. Each stdin line (its ``\\n`` and a trailing ``\\r`` removed) is
  one block; lines that arrive together are appended as one atomic batch, in order. It joins the
  core's discovery key on Hyperswarm (server and client) and replicates the core over every
  connection until SIGINT/SIGTERM, also after stdin ends.
* ``core read <key>`` prints ``Skipping <n> earlier blocks...`` then ``Block <i>: <text>`` for every
  block ``i >= n``, in order and live. ``n`` is ``--start`` when given, else the core's length once
  the reader first learns it (after the first update from a peer, or the local length when the
  first swarm flush finds nobody), i.e. the blocks that already existed.
* Default storage: ``$XDG_DATA_HOME/hyperpunch/cores/<name>`` (``~/.local/share`` when unset), where
  ``<name>`` is ``writer-default`` for the writer (stable, so a restarted writer reopens the same
  core and keeps its key) and the 64-hex key for a reader.
* Every output line is flushed. Bad input (a key that is not 64 hex characters, a bad
  ``--bootstrap``, a negative ``--start``) is a one-line error (exit 2) before anything touches the
  network or the disk. SIGINT/SIGTERM close the swarm and the core and exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from hyperpunch.cli.options import (
    CliError,
    Network,
    add_network_options,
    data_dir,
    first,
    open_swarm,
    parse_bootstrap,
    parse_hex_key,
    print_line,
    reporting_dht_status,
    run_command,
    stdin_lines,
    storage_dir,
    until_signalled,
    warn,
)
from hyperpunch.hypercore import Hypercore
from hyperpunch.swarm import Hyperswarm

__all__ = ["WRITER_NAME", "default_storage", "read", "register", "write"]

WRITER_NAME = "writer-default"
MAX_BATCH = 4096  # lines appended in one batch at most


def default_storage(name: str) -> Path:
    """``$XDG_DATA_HOME/hyperpunch/cores/<name>`` (``~/.local/share/...`` when it is unset)."""
    return data_dir("cores", name)


def register(sub: Any) -> None:
    """Add ``core write`` / ``core read`` to the ``hyperpunch`` subparsers ``sub``."""
    p = sub.add_parser("core", help="hypercore: append-only log replicated over Hyperswarm")
    csub = p.add_subparsers(dest="core_command", metavar="ACTION")
    csub.required = True

    w = csub.add_parser("write", help="append stdin lines to a core and serve it until interrupted")
    w.add_argument(
        "--storage",
        help=f"core directory (default: $XDG_DATA_HOME/hyperpunch/cores/{WRITER_NAME}, "
        "~/.local/share when unset; the same directory reopens the same core)",
    )
    add_network_options(w)
    w.set_defaults(func=cmd_core_write)

    r = csub.add_parser("read", help="print a core's blocks, live, from a writer found on Hyperswarm")
    r.add_argument("key", help="the core key (64 hex characters)")
    r.add_argument("--storage", help="core directory (default: $XDG_DATA_HOME/hyperpunch/cores/<key>)")
    r.add_argument(
        "--start",
        type=int,
        help="first block to print (default: the length when first learnt: only new blocks)",
    )
    add_network_options(r)
    r.set_defaults(func=cmd_core_read)


def cmd_core_write(args: argparse.Namespace) -> int:
    bootstrap = parse_bootstrap(args.bootstrap)
    storage = storage_dir(args.storage or str(default_storage(WRITER_NAME)))
    return run_command(
        until_signalled(lambda stop: write(storage, bootstrap, args.host, stop=stop)),
        interrupted=0,
        quiet_broken_pipe=True,
    )


def cmd_core_read(args: argparse.Namespace) -> int:
    key = parse_hex_key(args.key, what="core key")
    bootstrap = parse_bootstrap(args.bootstrap)
    if args.start is not None and args.start < 0:
        raise CliError(f"--start must be 0 or more, got {args.start}")
    storage = storage_dir(args.storage or str(default_storage(key.hex())))
    return run_command(
        until_signalled(lambda stop: read(key, storage, bootstrap, args.host, start=args.start, stop=stop)),
        interrupted=0,
        quiet_broken_pipe=True,
    )


def _block(line: bytes) -> bytes:
    """A stdin line as a block: its ``\\n`` and then one trailing ``\\r`` removed."""
    line = line.removesuffix(b"\n")
    return line[:-1] if line.endswith(b"\r") else line


async def write(storage: str, bootstrap: Network, host: str, *, stop: asyncio.Event | None = None) -> int:
    """Run ``core write``: append stdin lines, serve the core until ``stop`` is set."""
    stop = stop if stop is not None else asyncio.Event()
    async with Hypercore(storage) as core:
        assert core.key is not None and core.discovery_key is not None
        print_line(f"hypercore key: {core.key.hex()}")
        swarm = open_swarm(bootstrap, host)
        swarm.on_connection = lambda conn, info: core.replicate(conn)
        async with swarm, reporting_dht_status(swarm.dht, bootstrap):
            swarm.join(core.discovery_key, server=True, client=True)

            async def append_lines() -> None:
                async with stdin_lines() as lines:
                    while (line := await lines.get()) is not None:
                        batch = [_block(line)]
                        eof = False
                        while not lines.empty() and len(batch) < MAX_BATCH:
                            more = lines.get_nowait()
                            if more is None:
                                eof = True
                                break
                            batch.append(_block(more))
                        await core.append(batch)
                        if eof:
                            break
                await stop.wait()  # stdin ended: keep serving

            await first(append_lines(), stop.wait())
    return 0


async def _learn_length(core: Hypercore, swarm: Hyperswarm) -> int:
    """The core's length once first learnt: after the first peer's update, or the local length
    when the first full swarm flush found no peer (JS ``findingPeers`` + ``update``)."""
    peer_added = asyncio.Event()
    off = core.on("peer-add", lambda *_: peer_added.set())
    try:

        async def flushed_alone() -> None:
            await swarm.flush()
            while swarm.open_connections or core.peers:
                await asyncio.sleep(0.25)  # someone is there: wait for their update instead

        async def first_peer() -> None:
            await peer_added.wait()
            await core.update()

        if not core.peers:
            await first(first_peer(), flushed_alone())
        else:
            await core.update()
    finally:
        off()
    length: int = core.length
    return length


class _Prefetch:
    """Ask the peers for every known block from ``start`` as a range (many requests in flight),
    ahead of the read stream's one-by-one ``get``: each time a peer joins or the length grows.

    (A ``download()`` made before the core's first ``replicate()`` is fetched one block at a
    time, so ranges are only asked for once a peer is there.)"""

    def __init__(self, core: Any, start: int) -> None:
        self.core = core
        self.next = start
        self.handles: list[Any] = []
        self._offs = [
            core.on("peer-add", self._more),
            core.on("append", self._more),
            core.on("truncate", self._truncated),
        ]
        if core.peers:
            self._more()

    def _more(self, *_: Any) -> None:
        end = self.core.length
        if end > self.next:
            self.handles = [h for h in self.handles if h.missing()]
            self.handles.append(self.core.download(self.next, end))
            self.next = end

    def _truncated(self, ancestors: int, *_: Any) -> None:
        self.next = min(self.next, ancestors)

    def close(self) -> None:
        for off in self._offs:
            off()
        for h in self.handles:
            h.destroy()


def _damaged(start: int, end: int, *_: Any) -> None:
    which = f"block {start} was" if end == start + 1 else f"blocks {start}-{end - 1} were"
    warn(f"hyperpunch: {which} damaged on disk; fetching again from peers")


async def read(
    key: bytes,
    storage: str,
    bootstrap: Network,
    host: str,
    *,
    start: int | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run ``core read``: print blocks from ``start`` (default: the first learnt length), live,
    until ``stop`` is set."""
    stop = stop if stop is not None else asyncio.Event()
    async with Hypercore(storage, key) as core:
        assert core.discovery_key is not None
        core.on("storage-damage", _damaged)
        swarm = open_swarm(bootstrap, host)
        swarm.on_connection = lambda conn, info: core.replicate(conn)
        async with swarm, reporting_dht_status(swarm.dht, bootstrap):
            swarm.join(core.discovery_key, server=True, client=True)

            async def follow() -> None:
                begin = start if start is not None else await _learn_length(core, swarm)
                print_line(f"Skipping {begin} earlier blocks...")
                prefetch = _Prefetch(core, begin)
                try:
                    i = begin
                    async for block in core.read_stream(begin, live=True):
                        print_line(f"Block {i}: {bytes(block).decode('utf-8', errors='replace')}")
                        i += 1
                finally:
                    prefetch.close()

            await first(follow(), stop.wait())
    return 0

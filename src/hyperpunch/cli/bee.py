"""``hyperpunch bee write|read``: one Hyperbee replicated over Hyperswarm.

Invariants:

* ``bee write`` opens (or reopens) a writable bee in ``--storage`` and prints
  ``hyperbee key: <64 hex>`` first. Each stdin line ``put <key> <value>`` (the value is the rest of
  the line, UTF-8) or ``del <key>`` is applied in order; lines that arrive together go in one
  atomic batch. Any other line is reported on stderr and skipped. It joins the bee's discovery key
  on Hyperswarm (server and client) and serves it until SIGINT/SIGTERM, also after stdin ends.
* ``bee read <key>`` finds a peer, learns the bee's latest version, and prints ``<key>\\t<value>``
  for every entry in ``[--gte, --lt)`` in key order, then ``(<n> entries at version <v>)``. With
  ``--live`` it then prints ``put <key> <value>`` / ``del <key>`` for every later change in the
  range, as it arrives, until interrupted.
* Bad input (a key that is not 64 hex characters, a bad ``--bootstrap``) is a one-line error
  (exit 2) before anything touches the network or the disk; finding no peer that has the bee is a
  one-line error (exit 2) too. Every output line is flushed.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from hyperpunch.cli.options import (
    Network,
    NetworkError,
    add_network_options,
    data_dir,
    first,
    first_done,
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
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore
from hyperpunch.swarm import Hyperswarm

__all__ = ["WRITER_NAME", "default_storage", "parse_line", "read", "register", "write"]

WRITER_NAME = "writer-default"
MAX_BATCH = 4096


def default_storage(name: str) -> Path:
    """``$XDG_DATA_HOME/hyperpunch/bees/<name>`` (``~/.local/share/...`` when it is unset)."""
    return data_dir("bees", name)


def register(sub: Any) -> None:
    """Add ``bee write`` / ``bee read`` to the ``hyperpunch`` subparsers ``sub``."""
    p = sub.add_parser("bee", help="hyperbee: a key/value B-tree replicated over Hyperswarm")
    bsub = p.add_subparsers(dest="bee_command", metavar="ACTION")
    bsub.required = True

    w = bsub.add_parser("write", help="apply stdin 'put <key> <value>' / 'del <key>' lines and serve the bee")
    w.add_argument("--storage", help=f"bee directory (default: $XDG_DATA_HOME/hyperpunch/bees/{WRITER_NAME})")
    add_network_options(w)
    w.set_defaults(func=cmd_bee_write)

    r = bsub.add_parser("read", help="print a bee's entries (and, with --live, its later changes)")
    r.add_argument("key", help="the bee key (64 hex characters)")
    r.add_argument("--storage", help="bee directory (default: $XDG_DATA_HOME/hyperpunch/bees/<key>)")
    r.add_argument("--gte", help="first key (inclusive)")
    r.add_argument("--lt", help="end key (exclusive)")
    r.add_argument("--live", action="store_true", help="then print every later change, until interrupted")
    add_network_options(r)
    r.set_defaults(func=cmd_bee_read)


def cmd_bee_write(args: argparse.Namespace) -> int:
    bootstrap = parse_bootstrap(args.bootstrap)
    storage = storage_dir(args.storage or str(default_storage(WRITER_NAME)))
    return run_command(
        until_signalled(lambda stop: write(storage, bootstrap, args.host, stop=stop)),
        interrupted=0,
        quiet_broken_pipe=True,
    )


def cmd_bee_read(args: argparse.Namespace) -> int:
    key = parse_hex_key(args.key, what="bee key")
    bootstrap = parse_bootstrap(args.bootstrap)
    storage = storage_dir(args.storage or str(default_storage(key.hex())))
    return run_command(
        until_signalled(
            lambda stop: read(
                key, storage, bootstrap, args.host, gte=args.gte, lt=args.lt, live=args.live, stop=stop
            )
        ),
        interrupted=0,
        quiet_broken_pipe=True,
    )


def parse_line(raw: bytes) -> tuple[str, str, str | None] | None:
    """``put <key> <value>`` -> ("put", key, value); ``del <key>`` -> ("del", key, None); else None."""
    line = raw.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8", errors="replace")
    op, _, rest = line.partition(" ")
    if op == "put":
        key, sep, value = rest.partition(" ")
        return ("put", key, value) if key and sep else None
    if op == "del" and rest and " " not in rest:
        return ("del", rest, None)
    return None


async def _apply(db: Hyperbee, lines: list[bytes]) -> None:
    ops = []
    for raw in lines:
        op = parse_line(raw)
        if op is None:
            if raw.strip():
                warn(
                    f"hyperpunch: skipping a line that is not 'put <key> <value>' or 'del <key>': {raw[:80]!r}"
                )
            continue
        ops.append(op)
    if not ops:
        return
    async with db.batch() as b:
        for kind, key, value in ops:
            if kind == "put":
                await b.put(key, value)
            else:
                await b.delete(key)


async def write(storage: str, bootstrap: Network, host: str, *, stop: asyncio.Event | None = None) -> int:
    """Run ``bee write``: apply stdin lines, serve the bee until ``stop`` is set."""
    stop = stop if stop is not None else asyncio.Event()
    async with Hyperbee(Hypercore(storage), key_encoding="utf-8", value_encoding="utf-8") as db:
        core = db.core
        assert core.key is not None and core.discovery_key is not None
        print_line(f"hyperbee key: {core.key.hex()}")
        swarm = open_swarm(bootstrap, host)
        swarm.on_connection = lambda conn, info: core.replicate(conn)
        async with swarm, reporting_dht_status(swarm.dht, bootstrap):
            swarm.join(core.discovery_key, server=True, client=True)

            async def apply_lines() -> None:
                async with stdin_lines() as lines:
                    while (line := await lines.get()) is not None:
                        batch = [line]
                        eof = False
                        while not lines.empty() and len(batch) < MAX_BATCH:
                            more = lines.get_nowait()
                            if more is None:
                                eof = True
                                break
                            batch.append(more)
                        await _apply(db, batch)
                        if eof:
                            break
                await stop.wait()  # stdin ended: keep serving

            await first(apply_lines(), stop.wait())
    return 0


async def _find_peer(core: Hypercore, swarm: Hyperswarm) -> bool:
    """True once a peer told us the bee's length; False when a full swarm flush found nobody."""
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

        if core.peers:
            await core.update()
            return True
        index, _ = await first_done(first_peer(), flushed_alone())
        return index == 0
    finally:
        off()


async def read(
    key: bytes,
    storage: str,
    bootstrap: Network,
    host: str,
    *,
    gte: str | None = None,
    lt: str | None = None,
    live: bool = False,
    stop: asyncio.Event | None = None,
) -> int:
    """Run ``bee read``: print the range at the latest version, then (``live``) every change."""
    stop = stop if stop is not None else asyncio.Event()
    async with Hyperbee(Hypercore(storage, key), key_encoding="utf-8", value_encoding="utf-8") as db:
        core = db.core
        assert core.discovery_key is not None
        swarm = open_swarm(bootstrap, host)
        swarm.on_connection = lambda conn, info: core.replicate(conn)
        async with swarm, reporting_dht_status(swarm.dht, bootstrap):
            swarm.join(core.discovery_key, server=True, client=True)

            async def follow() -> None:
                if not await _find_peer(core, swarm) and core.length == 0:
                    raise NetworkError("no peer has this bee (nobody found on the swarm)")
                snap = db.checkout(db.version)
                n = 0
                async for entry in snap.range(gte=gte, lt=lt):
                    print_line(f"{entry.key}\t{entry.value}")
                    n += 1
                version = snap.version
                await snap.aclose()
                print_line(f"({n} entries at version {version})")
                if not live:
                    return
                async for h in db.history(gte=version, live=True):
                    if (gte is not None and h.key < gte) or (lt is not None and h.key >= lt):
                        continue
                    print_line(f"put {h.key} {h.value}" if h.type == "put" else f"del {h.key}")

            await first(follow(), stop.wait())
    return 0

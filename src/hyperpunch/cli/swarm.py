"""``hyperpunch swarm [topic]``: a line chat over Hyperswarm (JS ``examples/2/peer.js``).

Invariants:

* Output lines are flushed at once, in this order: ``joined topic: <64 hex>`` (a random topic when
  none is given) once the DHT is joined, then ``* got a connection from: <remote key hex> *`` per
  peer, and ``<remote key hex>: <line>`` per line received (bytes from a peer are split on
  ``\\n`` whatever the framing, so JS peers writing raw stdin chunks print the same).
* Each stdin line is sent, newline included, to every connected peer.
* A bad topic is a one-line :class:`~hyperpunch.cli.CliError` (exit 2) before anything starts.
  EOF on stdin, SIGINT or SIGTERM end the connections and close the swarm (exit 0); every task
  is owned and everything is closed with ``aclose`` before returning.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

from hyperpunch.cli.options import (
    Network,
    NetworkError,
    add_network_options,
    describe_bootstrap,
    parse_bootstrap,
    parse_hex_key,
    print_line,
    reporting_dht_status,
    run_command,
    stdin_lines,
    unless_stopped,
    until_signalled,
)
from hyperpunch.swarm import Hyperswarm

__all__ = ["register", "run_swarm", "run_swarm_cli"]

Out = Callable[[str], None]

JOIN_TIMEOUT = 20.0


async def _print_lines(conn: Any, name: str, out: Out) -> None:
    partial = b""
    with contextlib.suppress(Exception):
        async for data in conn:
            *lines, partial = (partial + bytes(data)).split(b"\n")
            for line in lines:
                out(f"{name}: {line.decode('utf-8', errors='replace')}")
    if partial:
        out(f"{name}: {partial.decode('utf-8', errors='replace')}")


async def run_swarm(
    topic: bytes | None,
    *,
    bootstrap: Network = None,
    host: str = "0.0.0.0",
    seed: bytes | None = None,
    out: Out = print_line,
    lines: asyncio.Queue[bytes | None] | None = None,
    stop: asyncio.Event | None = None,
    join_timeout: float = JOIN_TIMEOUT,
) -> int:
    """The command itself (testable: pass ``out``, ``lines`` and ``stop``)."""
    topic = topic if topic is not None else os.urandom(32)
    stop = stop or asyncio.Event()
    conns: set[Any] = set()

    async def on_connection(conn: Any, _info: Any) -> None:
        name = bytes(conn.remote_public_key).hex()
        out(f"* got a connection from: {name} *")
        conns.add(conn)
        try:
            await _print_lines(conn, name, out)
        finally:
            conns.discard(conn)

    swarm = Hyperswarm(bootstrap=bootstrap, host=host, seed=seed, on_connection=on_connection)
    async with swarm, reporting_dht_status(swarm.dht, bootstrap):
        where = describe_bootstrap(bootstrap)
        try:
            await asyncio.wait_for(swarm.dht.ready(), join_timeout)
        except TimeoutError:
            raise NetworkError(f"could not join the DHT through {where} within {join_timeout:g}s") from None
        except OSError as err:
            raise NetworkError(f"could not join the DHT: {err}") from None
        swarm.join(topic, server=True, client=True)
        out(f"joined topic: {topic.hex()}")
        try:
            async with stdin_lines(lines) as queue:
                while True:
                    ok, line = await unless_stopped(stop, queue.get())
                    if not ok or line is None:
                        break
                    for conn in list(conns):
                        with contextlib.suppress(Exception):
                            conn.write(line)
                    for conn in list(conns):
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(conn.drain(), 5)
        finally:
            for conn in list(conns):
                with contextlib.suppress(Exception):
                    conn.write_eof()
    return 0


def run_swarm_cli(args: argparse.Namespace) -> int:
    """``hyperpunch swarm [topic]`` (``args.topic``, ``args.seed``, ``args.bootstrap``, ``args.host``)."""
    topic = parse_hex_key(args.topic, what="topic") if getattr(args, "topic", None) else None
    bootstrap = parse_bootstrap(getattr(args, "bootstrap", None))
    host = getattr(args, "host", None) or "0.0.0.0"
    seed = parse_hex_key(args.seed, what="seed") if getattr(args, "seed", None) else None
    return run_command(
        until_signalled(lambda stop: run_swarm(topic, bootstrap=bootstrap, host=host, seed=seed, stop=stop)),
        interrupted=0,
    )


def register(sub: Any) -> None:
    """Add ``swarm`` to the ``hyperpunch`` subparsers ``sub``."""
    p = sub.add_parser(
        "swarm",
        help="join a topic with Hyperswarm: stdin lines go to every peer, their lines are printed",
        description="Join TOPIC (64 hex characters; random when omitted) as client and server. Prints "
        "'joined topic: <hex>', then '* got a connection from: <key> *' per peer and '<key>: <line>' per "
        "line received. Each stdin line goes to every connected peer. EOF or Ctrl-C closes cleanly.",
    )
    p.add_argument("topic", nargs="?", help="the topic, 64 hex characters (default: a random one)")
    p.add_argument("--seed", help="64 hex characters: our key pair's seed (default: random)")
    add_network_options(p)
    p.set_defaults(func=run_swarm_cli)

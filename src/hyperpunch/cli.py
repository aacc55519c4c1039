"""The ``hyperpunch`` command line.

Every subcommand prints plain lines, flushed at once (other programs read them). Bad input gives a
one-line ``hyperpunch: error: ...`` message on stderr and a non-zero exit, never a traceback.
Later layers add their subcommands in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from hyperpunch import __version__
from hyperpunch.errors import HyperpunchError


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def parse_hex_key(text: str, *, what: str = "key", size: int = 32) -> bytes:
    """Parse a ``2*size``-hex-digit key, or raise :class:`CliError` with a one-line reason."""
    text = text.strip()
    if len(text) != 2 * size:
        raise CliError(f"{what} must be {2 * size} hex characters, got {len(text)}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise CliError(f"{what} is not valid hex: {text!r}") from None


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """``--bootstrap`` and ``--host``, shared by every command that joins the DHT."""
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("HYPERPUNCH_BOOTSTRAP"),
        help="comma-separated host:port DHT bootstrap nodes (default: $HYPERPUNCH_BOOTSTRAP, "
        "else the public Holepunch nodes)",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("HYPERPUNCH_HOST", "0.0.0.0"),
        help="address to bind (default: $HYPERPUNCH_HOST, else 0.0.0.0 = all IPv4 interfaces)",
    )


def parse_bootstrap(text: str | None) -> list[tuple[str, int]] | None:
    """``"h1:p1,h2:p2"`` -> ``[(h1, p1), (h2, p2)]``; None/empty -> None (the default nodes)."""
    if not text or not text.strip():
        return None
    nodes: list[tuple[str, int]] = []
    for item in text.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise CliError(f"bad bootstrap node {item.strip()!r}: expected host:port")
        nodes.append((host, int(port)))
    return nodes


def _print(line: str) -> None:
    print(line, flush=True)


def cmd_keygen(args: argparse.Namespace) -> int:
    from hyperpunch import crypto

    seed = parse_hex_key(args.seed, what="seed") if args.seed else None
    kp = crypto.key_pair(seed)
    _print(f"public key: {kp.public_key.hex()}")
    _print(f"discovery key: {crypto.discovery_key(kp.public_key).hex()}")
    if args.secret:
        _print(f"secret key: {kp.secret_key.hex()}")
    return 0


def cmd_discovery_key(args: argparse.Namespace) -> int:
    from hyperpunch import crypto

    _print(crypto.discovery_key(parse_hex_key(args.key)).hex())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hyperpunch.demo import run_demo

    return asyncio.run(run_demo(_print, size=args.size))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hyperpunch", description="hyperpunch: the Holepunch peer-to-peer stack for Python"
    )
    parser.add_argument("--version", action="version", version=f"hyperpunch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("keygen", help="make an Ed25519 key pair (random, or from a 32-byte hex seed)")
    p.add_argument("--seed", help="64 hex characters; the same seed always gives the same key pair")
    p.add_argument("--secret", action="store_true", help="also print the secret key")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("discovery-key", help="print the hypercore discovery key of a public key")
    p.add_argument("key", help="64 hex characters")
    p.set_defaults(func=cmd_discovery_key)

    p = sub.add_parser(
        "demo", help="show what works: secret-stream, a local DHT, connect by key, hypercore replication"
    )
    p.add_argument("--size", type=int, default=16 << 20, help="bytes to send each way (default 16 MiB)")
    p.set_defaults(func=cmd_demo)

    # layer commands live beside their layers (they import this module, so import them here)
    from hyperpunch import cli_core, cli_dht, cli_store, cli_swarm

    cli_dht.register(sub)
    cli_swarm.register(sub)
    cli_core.register(sub)
    cli_store.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except CliError as err:
        print(f"hyperpunch: error: {err}", file=sys.stderr, flush=True)
        return 2
    except HyperpunchError as err:
        print(f"hyperpunch: error: {err}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130

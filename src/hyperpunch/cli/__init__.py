"""The ``hyperpunch`` command line.

Every subcommand prints plain lines, flushed at once (other programs read them). Bad input gives a
one-line ``hyperpunch: error: ...`` message on stderr and a non-zero exit, never a traceback.

This package: :func:`main` and :func:`build_parser` here (``keygen``, ``discovery-key``, ``demo``),
one module per layer's commands (:mod:`~hyperpunch.cli.dht`, :mod:`~hyperpunch.cli.swarm`,
:mod:`~hyperpunch.cli.core`, :mod:`~hyperpunch.cli.store`, :mod:`~hyperpunch.cli.bee`,
:mod:`~hyperpunch.cli.relay`, :mod:`~hyperpunch.cli.demo`), each
registered here and importing only :mod:`hyperpunch.cli.options` (what they share) and the library.

Start-up stays cheap: :data:`COMMANDS` names each layer command's module and one-line help, so
``hyperpunch --help`` lists every command without importing any layer; only the module of the
command being run is imported (with the layers it needs), and its ``register`` adds the real
parser (``tests/test_cli_lazy.py`` checks both).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from hyperpunch import __version__
from hyperpunch.cli.options import (
    CliError,
    OneLineParser,
    add_network_options,
    parse_bootstrap,
    parse_hex_key,
    print_line,
)
from hyperpunch.errors import HyperpunchError
from hyperpunch.eventloop import run as run_loop

__all__ = [
    "COMMANDS",
    "CliError",
    "add_network_options",
    "build_parser",
    "main",
    "parse_bootstrap",
    "parse_hex_key",
]


# Each layer command: (the module whose ``register(sub)`` adds it, its one-line help as listed by
# ``hyperpunch --help``; tests/test_cli_lazy.py checks it is the help that ``register`` gives).
COMMANDS: dict[str, tuple[str, str]] = {
    "testnet": (
        "hyperpunch.cli.dht",
        "run a local HyperDHT testnet (like JS @hyperswarm/testnet) until interrupted",
    ),
    "dht": ("hyperpunch.cli.dht", "HyperDHT: serve on a key pair or connect to one (line based)"),
    "swarm": (
        "hyperpunch.cli.swarm",
        "join a topic with Hyperswarm: stdin lines go to every peer, their lines are printed",
    ),
    "core": ("hyperpunch.cli.core", "hypercore: append-only log replicated over Hyperswarm"),
    "store": ("hyperpunch.cli.store", "corestore: many cores replicated over one connection per peer"),
    "bee": ("hyperpunch.cli.bee", "hyperbee: a key/value B-tree replicated over Hyperswarm"),
    "relay": (
        "hyperpunch.cli.relay",
        "serve HyperDHT to WebSocket clients (browsers), compatible with @hyperswarm/dht-relay",
    ),
    "fsck": ("hyperpunch.cli.fsck", "check a core or store directory; --repair heals it from peers"),
    "todo": (
        "hyperpunch.cli.todo",
        "the collaborative todo list: serve the web app, or add/ls/done/rm",
    ),
}


def cmd_keygen(args: argparse.Namespace) -> int:
    from hyperpunch import crypto

    seed = parse_hex_key(args.seed, what="seed") if args.seed else None
    kp = crypto.key_pair(seed)
    print_line(f"public key: {kp.public_key.hex()}")
    print_line(f"discovery key: {crypto.discovery_key(kp.public_key).hex()}")
    if args.secret:
        print_line(f"secret key: {kp.secret_key.hex()}")
    return 0


def cmd_discovery_key(args: argparse.Namespace) -> int:
    from hyperpunch import crypto

    print_line(crypto.discovery_key(parse_hex_key(args.key)).hex())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.size < 0:
        raise CliError(f"--size must be 0 or more, got {args.size}")
    from hyperpunch.cli.demo import run_demo

    return run_loop(run_demo(print_line, size=args.size))


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs: its first word not an option (the top level takes no values)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``hyperpunch`` parser. Layer commands are listed from :data:`COMMANDS` without importing
    them; ``command``'s module (when it is one of them) is imported and registers its real parser.
    """
    parser = OneLineParser(
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

    wanted = COMMANDS.get(command or "")
    if wanted is not None:
        importlib.import_module(wanted[0]).register(sub)  # this module's commands, for real
    for name, (module, help_line) in COMMANDS.items():
        if wanted is None or module != wanted[0]:
            sub.add_parser(name, help=help_line, add_help=False)  # listed only: never parsed
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except CliError as err:
        print(f"hyperpunch: error: {err}", file=sys.stderr, flush=True)
        return err.exit_code
    except HyperpunchError as err:
        print(f"hyperpunch: error: {err}", file=sys.stderr, flush=True)
        return 1
    except OSError as err:  # the environment refused (a path, a port, a permission): one line, no traceback
        where = f" ({err.filename})" if err.filename else ""
        print(f"hyperpunch: error: {err.strerror or err}{where}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130

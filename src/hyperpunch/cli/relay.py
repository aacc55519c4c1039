"""``hyperpunch relay``: serve HyperDHT to WebSocket clients (``@hyperswarm/dht-relay`` compatible).

Invariants:

* The first output line is ``relay listening on ws://<host>:<port>`` (``wss://`` with TLS), with
  the real port when ``--port 0`` picked a free one; it is printed once the DHT node joined.
* ``--host`` binds both the WebSocket server and the DHT node. ``--tls-cert`` and ``--tls-key``
  go together. ``--require-non-custodial`` refuses clients that send their secret key.
* Stops cleanly (exit 0) on SIGINT/SIGTERM, closing every client session and the node.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
from collections.abc import Callable
from typing import Any

from hyperpunch.cli.options import (
    CliError,
    Network,
    NetworkError,
    add_network_options,
    parse_bootstrap,
    print_line,
    run_command,
    unless_stopped,
    until_signalled,
)
from hyperpunch.dht import HyperDHT
from hyperpunch.relay import RelayServer

__all__ = ["DEFAULT_PORT", "register", "run_relay"]

DEFAULT_PORT = 49443  # as the JS dht-relay bin
JOIN_TIMEOUT = 20.0


async def run_relay(
    out: Callable[[str], None],
    *,
    bootstrap: Network,
    host: str = "0.0.0.0",
    port: int = DEFAULT_PORT,
    ssl_context: ssl.SSLContext | None = None,
    require_non_custodial: bool = False,
    stop: asyncio.Event | None = None,
) -> int:
    stop = stop if stop is not None else asyncio.Event()
    async with HyperDHT(bootstrap=bootstrap, host=host) as dht:
        try:
            joined = await unless_stopped(stop, asyncio.wait_for(dht.ready(), JOIN_TIMEOUT))
        except TimeoutError:
            raise NetworkError(f"could not join the DHT within {JOIN_TIMEOUT:g}s") from None
        if not joined[0]:
            return 0
        relay = RelayServer(
            dht, host, port, ssl_context=ssl_context, require_non_custodial=require_non_custodial
        )
        try:
            await relay.listen()
        except OSError as err:
            raise NetworkError(f"cannot listen on {host}:{port}: {err}") from None
        try:
            out(f"relay listening on {relay.url}")
            await stop.wait()
        finally:
            await relay.aclose()
    return 0


def _ssl_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise CliError("--tls-cert and --tls-key go together")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as err:
        raise CliError(f"cannot load the TLS certificate/key: {err}") from None
    return ctx


def cmd_relay(args: argparse.Namespace) -> int:
    bootstrap = parse_bootstrap(args.bootstrap)
    if not 0 <= args.port < 65536:
        raise CliError("--port must be 0..65535")
    ctx = _ssl_context(args.tls_cert, args.tls_key)
    return run_command(
        until_signalled(
            lambda stop: run_relay(
                print_line,
                bootstrap=bootstrap,
                host=args.host,
                port=args.port,
                ssl_context=ctx,
                require_non_custodial=args.require_non_custodial,
                stop=stop,
            )
        )
    )


def register(sub: Any) -> None:
    """Add ``relay`` to the ``hyperpunch`` subparsers ``sub``."""
    p = sub.add_parser(
        "relay",
        help="serve HyperDHT to WebSocket clients (browsers), compatible with @hyperswarm/dht-relay",
        description="Relay WebSocket clients of @hyperswarm/dht-relay through one HyperDHT node. "
        "Custodial clients send the relay their secret key (it sees their traffic in plaintext); "
        "non-custodial ones keep it. Prints 'relay listening on ws://host:port'.",
    )
    add_network_options(p)
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"WebSocket port (default {DEFAULT_PORT}; 0: any free port)",
    )
    p.add_argument("--tls-cert", help="PEM certificate: serve wss:// (with --tls-key)")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument(
        "--require-non-custodial",
        action="store_true",
        help="refuse clients that hand over their secret key",
    )
    p.set_defaults(func=cmd_relay)

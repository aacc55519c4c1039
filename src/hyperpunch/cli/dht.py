"""``hyperpunch testnet`` and ``hyperpunch dht serve|connect``: HyperDHT from the command line.

Invariants:

* Every output line is flushed at once (other programs and tests read it line by line); the first
  line of each command is fixed: ``bootstrap: host:port,...`` (testnet), ``listening on: <key>``
  (serve), ``Connecting to: <key>`` (connect).
* Stream data is line oriented: bytes from a peer are split on ``\\n`` whatever the framing
  (a JS peer piping stdin may send several lines in one message, or half a line); each stdin
  line is sent as one message ending in ``\\n``.
* Every command stops cleanly (exit 0) on SIGINT/SIGTERM; everything it opened is closed with
  ``aclose`` before it returns. Bad input and network failures become a one-line
  :class:`~hyperpunch.cli.CliError` (never a traceback), and joining the DHT is bounded in time.
* stdin is read by :class:`~hyperpunch.cli.options.StdinLines` (pipes, ttys, files, /dev/null and
  a closed stdin alike), whose thread ends with the command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from hyperpunch.aio import TaskOwner
from hyperpunch.cli.options import (
    CliError,
    Network,
    NetworkError,
    add_network_options,
    describe_bootstrap,
    first_done,
    parse_bootstrap,
    parse_hex_key,
    print_line,
    run_command,
    stdin_lines,
    unless_stopped,
    until_signalled,
)
from hyperpunch.dht import HyperDHT
from hyperpunch.errors import HyperpunchError
from hyperpunch.secretstream import SecretStream

__all__ = ["register", "run_connect", "run_serve", "run_testnet"]

Out = Callable[[str], None]

DEFAULT_TESTNET_NODES = 3
DEFAULT_TESTNET_HOST = "127.0.0.1"
JOIN_TIMEOUT = 20.0  # seconds to bootstrap before giving up on the bootstrap nodes
CONNECT_TIMEOUT = 60.0
EOF_LINGER = 5.0  # after our stdin ends: how long to wait for the peer to end its side


# -- helpers -------------------------------------------------------------------------------------


class _LineSplitter:
    """Reassemble lines from a peer's messages; ``feed`` returns the complete lines (no newline)."""

    def __init__(self) -> None:
        self._partial = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._partial += data
        if b"\n" not in data:
            return []
        *lines, rest = bytes(self._partial).split(b"\n")
        self._partial = bytearray(rest)
        return [line.rstrip(b"\r").decode("utf-8", "replace") for line in lines]

    def flush(self) -> list[str]:
        if not self._partial:
            return []
        line = bytes(self._partial).decode("utf-8", "replace")
        self._partial.clear()
        return [line]


def _describe(err: BaseException) -> str:
    code = getattr(err, "code", None)
    text = str(err) or type(err).__name__
    return f"{code}: {text}" if code and str(code) not in text else text


async def _join(dht: HyperDHT, bootstrap: Network, timeout: float) -> None:
    """Bootstrap ``dht`` or raise NetworkError when no bootstrap node answers within ``timeout``."""
    where = describe_bootstrap(bootstrap)
    try:
        await asyncio.wait_for(dht.ready(), timeout)
    except TimeoutError:
        raise NetworkError(f"could not join the DHT through {where} within {timeout:g}s") from None
    except OSError as err:
        raise NetworkError(f"could not join the DHT: {err}") from None
    if not dht.to_array():
        raise NetworkError(f"no DHT bootstrap node answered ({where})")


# -- testnet -------------------------------------------------------------------------------------


async def run_testnet(
    out: Out,
    *,
    nodes: int = DEFAULT_TESTNET_NODES,
    host: str = DEFAULT_TESTNET_HOST,
    port: int = 0,
    bootstrap: Network = None,
    stop: asyncio.Event | None = None,
) -> int:
    """A local testnet like JS ``@hyperswarm/testnet``: ``nodes`` persistent, non-firewalled nodes.

    JS for comparison: ``createTestnet(size = 10, {host = '127.0.0.1', port = 0, bootstrap})``
    binds 127.0.0.1 when ``host`` is 127.0.0.1, else 0.0.0.0, and its ``hyperswarm-testnet`` bin
    defaults to 30 nodes with the first on port 49736. Here the default is 3 nodes on any free port
    (``--port`` to fix it), and the printed list names every node, not just the first.

    Without ``bootstrap`` the first node is a bootstrapper whose public address is ``host:port``;
    with it, every node joins through those nodes instead. Prints
    ``bootstrap: host:port,...`` (every node of this testnet), then runs until ``stop``.
    """
    if nodes < 1:
        raise CliError("--nodes must be at least 1")
    # JS testnet: bind loopback for 127.0.0.1, else every interface (the host is the public address)
    bind = "127.0.0.1" if host == "127.0.0.1" else "0.0.0.0"
    started: list[HyperDHT] = []
    try:
        if bootstrap is None:
            try:
                first = HyperDHT.bootstrapper(port, host, bind_host=bind)
            except Exception as err:
                raise NetworkError(
                    f"cannot start a bootstrap node on {host}:{port}: {_describe(err)}"
                ) from None
            assert isinstance(first, HyperDHT)
            started.append(first)
            try:
                await asyncio.wait_for(first.ready(), JOIN_TIMEOUT)
            except OSError as err:
                raise NetworkError(f"cannot bind {bind}:{port}: {err}") from None
            boot = [(host, first.port)]
        else:
            first = HyperDHT(
                bootstrap=list(bootstrap), host=bind, port=port, ephemeral=False, firewalled=False
            )
            started.append(first)
            await _join(first, bootstrap, JOIN_TIMEOUT)
            boot = list(bootstrap)
        more = [
            HyperDHT(bootstrap=list(boot), host=bind, ephemeral=False, firewalled=False)
            for _ in range(nodes - 1)
        ]
        started.extend(more)
        await asyncio.wait_for(asyncio.gather(*(n.ready() for n in more)), JOIN_TIMEOUT)
        out("bootstrap: " + ",".join(f"{host}:{n.port}" for n in started))
        if stop is None:
            stop = asyncio.Event()
        await stop.wait()
        return 0
    finally:
        for node in reversed(started):
            with contextlib.suppress(Exception):
                await node.aclose()


# -- dht serve / dht connect ---------------------------------------------------------------------


async def _pump_lines(stream: SecretStream, out: Out) -> None:
    """Print every line the peer sends until it ends its side (or the stream fails)."""
    lines = _LineSplitter()
    try:
        while (message := await stream.read()) is not None:
            for line in lines.feed(message):
                out(line)
    except Exception:  # the peer vanished: what it sent so far is printed below
        pass
    for line in lines.flush():
        out(line)


async def run_serve(
    out: Out,
    *,
    bootstrap: Network,
    host: str = "0.0.0.0",
    seed: bytes | None = None,
    stop: asyncio.Event | None = None,
    join_timeout: float = JOIN_TIMEOUT,
) -> int:
    """Listen on a key pair; print each client's lines, send each stdin line to every client."""
    stop = stop if stop is not None else asyncio.Event()
    clients: set[SecretStream] = set()

    async def on_connection(stream: SecretStream) -> None:
        clients.add(stream)
        out("got connection!")
        try:
            await _pump_lines(stream, out)
            with contextlib.suppress(Exception):
                stream.write_eof()  # the client ended: end our side too, so it can exit
        finally:
            clients.discard(stream)

    async with HyperDHT(bootstrap=bootstrap, host=host) as dht:
        if not (await unless_stopped(stop, _join(dht, bootstrap, join_timeout)))[0]:
            return 0  # interrupted while joining
        key_pair = HyperDHT.key_pair(seed)
        server = dht.create_server(on_connection=on_connection)
        try:
            await server.listen(key_pair)
        except Exception as err:
            raise NetworkError(f"cannot listen: {_describe(err)}") from None
        out(f"listening on: {key_pair.public_key.hex()}")
        async with stdin_lines() as lines:
            while True:
                ok, line = await unless_stopped(stop, lines.get())
                if not ok:
                    break
                if line is None:  # stdin ended: keep serving until stopped
                    await stop.wait()
                    break
                for client in list(clients):
                    with contextlib.suppress(Exception):
                        client.write(line if line.endswith(b"\n") else line + b"\n")
        for client in list(clients):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), 5)
        await server.aclose()
    return 0


async def run_connect(
    out: Out,
    public_key: bytes,
    *,
    bootstrap: Network,
    host: str = "0.0.0.0",
    seed: bytes | None = None,
    stop: asyncio.Event | None = None,
    join_timeout: float = JOIN_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> int:
    """Connect to ``public_key``; stdin lines go to the server, its lines are printed."""
    stop = stop if stop is not None else asyncio.Event()
    async with HyperDHT(bootstrap=bootstrap, host=host, key_pair=HyperDHT.key_pair(seed)) as dht:
        if not (await unless_stopped(stop, _join(dht, bootstrap, join_timeout)))[0]:
            return 0  # interrupted while joining
        out(f"Connecting to: {public_key.hex()}")
        try:
            ok, stream = await unless_stopped(stop, dht.connect(public_key, timeout=connect_timeout))
        except TimeoutError:
            raise NetworkError(f"could not connect within {connect_timeout:g}s") from None
        except HyperpunchError as err:
            raise NetworkError(f"could not connect: {_describe(err)}") from None
        if not ok:
            return 0
        assert stream is not None
        out("got connection!")
        tasks = TaskOwner("hyperpunch dht connect")
        reader = tasks.spawn(_pump_lines(stream, out))
        try:
            async with stdin_lines() as lines:
                while not reader.done():
                    # a stdin line first, then the peer having ended its side, then a stop
                    which, line = await first_done(lines.get(), asyncio.shield(reader), stop.wait())
                    if which != 0:
                        break
                    if line is None:  # stdin EOF: end our side, let the server's last lines arrive
                        with contextlib.suppress(Exception):
                            stream.write_eof()
                            await stream.drain()
                        await unless_stopped(stop, asyncio.wait_for(asyncio.shield(reader), EOF_LINGER))
                        break
                    stream.write(line if line.endswith(b"\n") else line + b"\n")
                    with contextlib.suppress(Exception):
                        await stream.drain()
        except (TimeoutError, HyperpunchError):
            pass
        finally:
            await tasks.aclose()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stream.aclose(), 5)
    return 0


# -- argparse glue -------------------------------------------------------------------------------


def cmd_testnet(args: argparse.Namespace) -> int:
    bootstrap = parse_bootstrap(args.bootstrap)
    if not 0 <= args.port < 65536:
        raise CliError(f"bad --port {args.port}")
    return run_command(
        until_signalled(
            lambda stop: run_testnet(
                print_line, nodes=args.nodes, host=args.host, port=args.port, bootstrap=bootstrap, stop=stop
            )
        )
    )


def cmd_dht_serve(args: argparse.Namespace) -> int:
    seed = parse_hex_key(args.seed, what="seed") if args.seed else None
    bootstrap = parse_bootstrap(args.bootstrap)
    return run_command(
        until_signalled(
            lambda stop: run_serve(print_line, bootstrap=bootstrap, host=args.host, seed=seed, stop=stop)
        )
    )


def cmd_dht_connect(args: argparse.Namespace) -> int:
    key = parse_hex_key(args.key, what="public key")
    seed = parse_hex_key(args.seed, what="seed") if args.seed else None
    bootstrap = parse_bootstrap(args.bootstrap)
    if args.timeout <= 0:
        raise CliError("--timeout must be positive")
    return run_command(
        until_signalled(
            lambda stop: run_connect(
                print_line,
                key,
                bootstrap=bootstrap,
                host=args.host,
                seed=seed,
                stop=stop,
                connect_timeout=args.timeout,
            )
        )
    )


def register(sub: Any) -> None:
    """Add ``testnet`` and ``dht {serve,connect}`` to the ``hyperpunch`` subparsers ``sub``."""
    p = sub.add_parser(
        "testnet",
        help="run a local HyperDHT testnet (like JS @hyperswarm/testnet) until interrupted",
        description="Run NODES persistent, non-firewalled HyperDHT nodes. Without --bootstrap the first "
        "is a bootstrapper whose public address is HOST:PORT and the others join through it. The first "
        "output line is 'bootstrap: host:port,...' listing every node; stops on SIGINT/SIGTERM.",
    )
    p.add_argument("--nodes", type=int, default=DEFAULT_TESTNET_NODES, help="number of nodes (default 3)")
    p.add_argument(
        "--host",
        default=DEFAULT_TESTNET_HOST,
        help="public address of the nodes (default 127.0.0.1; nodes bind 127.0.0.1 for it, else 0.0.0.0)",
    )
    p.add_argument("--port", type=int, default=0, help="port of the first node (default 0: any free port)")
    p.add_argument("--bootstrap", help="join existing nodes (comma-separated host:port) instead of seeding")
    p.set_defaults(func=cmd_testnet)

    dht = sub.add_parser("dht", help="HyperDHT: serve on a key pair or connect to one (line based)")
    dsub = dht.add_subparsers(dest="dht_command", metavar="SUBCOMMAND")
    dsub.required = True

    p = dsub.add_parser(
        "serve",
        help="listen on a key pair; print client lines, send stdin lines to every client",
    )
    add_network_options(p)
    p.add_argument("--seed", help="64 hex characters: listen on the key pair of this seed (default: random)")
    p.set_defaults(func=cmd_dht_serve)

    p = dsub.add_parser("connect", help="connect to a server's public key; stdin lines go to it")
    add_network_options(p)
    p.add_argument("key", help="the server's public key, 64 hex characters")
    p.add_argument("--seed", help="64 hex characters: our key pair's seed (default: random)")
    p.add_argument(
        "--timeout",
        type=float,
        default=CONNECT_TIMEOUT,
        help=f"seconds to connect (default {CONNECT_TIMEOUT:g})",
    )
    p.set_defaults(func=cmd_dht_connect)

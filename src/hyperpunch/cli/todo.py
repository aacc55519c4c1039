"""``hyperpunch todo``: the collaborative todo list (issue 17): ``serve`` and the CLI peer.

Invariants:

* ``todo serve`` runs one process: the list's always-on Python peer (the base's only indexer,
  stored in ``--storage``), the web app and the dht-relay WebSocket (``/relay``) on ONE port.
  It prints, one line each, flushed: with ``--local`` first ``bootstrap: 127.0.0.1:<port>`` (an
  embedded DHT testnet other peers can join natively), then ``todo list: <64 hex>`` and
  ``open http://<host>:<port>/#<64 hex>``. ``GET /list`` answers the key and a newline. The list
  a storage directory holds is remembered in it (``<storage>/list``): restarting without
  ``--list`` reopens the same list; a different ``--list`` for it is refused.
* ``todo add|ls|done|rm <key> ...`` join the list (native DHT, ``--bootstrap``; or ``--relay
  ws://host:port/relay``: the relay's DHT, *custodial*: the relay holds this peer's swarm key pair,
  because hyperpunch's relay does not do non-custodial connects yet), wait for a peer,
  catch up, and for writes wait to be added as a writer (saying so on stderr), write, then wait
  until a connected peer has our new block before exiting. Ids may be a unique prefix of the
  24-hex id. ``ls`` prints ``<id> [ ]|[x] <text>`` lines sorted by id, then ``(<n> todos)``;
  ``--live`` then prints ``add|edit <id> [ ]|[x] <text>`` / ``rm <id>`` as changes arrive.
* The CLI peer's storage defaults to ``$XDG_DATA_HOME/hyperpunch/todo/<list key>`` so it keeps
  its writer key across runs. Errors are one line: exit 2 for bad input (a key, an unknown id,
  empty or too long text), 1 when the environment refuses (no peer, the web app not built, a
  port or storage that cannot be used).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import hyperpunch
from hyperpunch.cli.options import (
    CliError,
    Network,
    NetworkError,
    StorageError,
    data_dir,
    first,
    parse_bootstrap,
    parse_hex_key,
    print_line,
    run_command,
    storage_dir,
    unless_stopped,
    until_signalled,
    warn,
)
from hyperpunch.corestore import Corestore
from hyperpunch.dht import HyperDHT
from hyperpunch.relay import HttpReply, RelayedDHT, RelayServer, static_handler
from hyperpunch.swarm import Hyperswarm
from hyperpunch.todo import Todo, TodoError, TodoList
from hyperpunch.todo.ops import validate_text

__all__ = ["DEFAULT_PORT", "find_web", "register"]

DEFAULT_PORT = 3400
JOIN_TIMEOUT = 30.0
PEER_TIMEOUT = 60.0  # seconds a CLI peer waits for a peer of the list / to be added / to be read
LOCAL_NODES = 3
Out = Callable[[str], None]


class EnvError(CliError):
    """The environment refused (exit 1)."""

    exit_code = 1


# --- where the web app is


def find_web(explicit: str | None) -> Path:
    """The built web app: ``--web``, else ``$HYPERPUNCH_TODO_WEB``, else the repository's
    ``interop/browser/dist/todo`` (the package is installed editable)."""
    chosen = explicit or os.environ.get("HYPERPUNCH_TODO_WEB")
    if chosen:
        path = Path(chosen).expanduser()
    else:
        path = Path(hyperpunch.__file__).resolve().parents[2] / "interop" / "browser" / "dist" / "todo"
    if not (path / "index.html").is_file():
        raise EnvError(f"the web app is not built: run make deps (no index.html in {path})")
    return path


# --- serve


def _list_file(storage: str) -> Path:
    return Path(storage) / "list"


def _stored_list(storage: str, given: bytes | None) -> bytes | None:
    """The list this storage holds (or is to hold): refuses a different ``--list``."""
    path = _list_file(storage)
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return given
    except OSError as err:
        raise StorageError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        stored = bytes.fromhex(text)
    except ValueError:
        raise StorageError(f"{path} does not hold a list key") from None
    if given is not None and given != stored:
        raise CliError(
            f"storage {storage} holds list {stored.hex()}, not {given.hex()}: use another --storage"
        )
    return stored


@contextlib.asynccontextmanager
async def _local_testnet(out: Out) -> AsyncIterator[list[str]]:
    """An embedded DHT testnet on 127.0.0.1: a bootstrapper and ``LOCAL_NODES - 1`` nodes."""
    boot = HyperDHT.bootstrapper(0, "127.0.0.1", bind_host="127.0.0.1")
    nodes = [boot]
    try:
        await asyncio.wait_for(boot.ready(), JOIN_TIMEOUT)
        addr = boot.server_address()
        assert addr is not None
        bootstrap = [f"127.0.0.1:{addr.port}"]
        more = [
            HyperDHT(bootstrap=bootstrap, host="127.0.0.1", ephemeral=False) for _ in range(LOCAL_NODES - 1)
        ]
        nodes.extend(more)
        await asyncio.wait_for(asyncio.gather(*(n.ready() for n in more)), JOIN_TIMEOUT)
        out(f"bootstrap: {bootstrap[0]}")
        yield bootstrap
    finally:
        for n in reversed(nodes):
            await n.aclose()


async def serve(
    out: Out,
    *,
    web: Path,
    storage: str,
    list_key: bytes | None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    local: bool = False,
    bootstrap: Network = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run ``todo serve`` until ``stop``."""
    stop = stop if stop is not None else asyncio.Event()
    key = _stored_list(storage, list_key)
    async with contextlib.AsyncExitStack() as stack:
        if local:
            boot: Any = await stack.enter_async_context(_local_testnet(out))
            dht = HyperDHT(bootstrap=boot, host="127.0.0.1")
        else:
            dht = HyperDHT(bootstrap=bootstrap, host="0.0.0.0")
        stack.push_async_callback(dht.aclose)
        try:
            joined, _ = await unless_stopped(stop, asyncio.wait_for(dht.ready(), JOIN_TIMEOUT))
        except TimeoutError:
            raise NetworkError(f"could not join the DHT within {JOIN_TIMEOUT:g}s") from None
        if not joined:
            return 0
        store = await stack.enter_async_context(Corestore(Path(storage) / "store"))
        swarm = await stack.enter_async_context(Hyperswarm(dht=dht))
        todos = await stack.enter_async_context(TodoList(store, key, swarm=swarm))
        _list_file(storage).write_text(todos.key.hex() + "\n")
        hexkey = todos.key.hex()
        routes = {"/list": lambda: HttpReply(200, (hexkey + "\n").encode())}
        relay = RelayServer(
            dht, host, port, http_handler=static_handler(web, routes=routes), ws_path="/relay"
        )
        try:
            await relay.listen()
        except OSError as err:
            raise NetworkError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
        stack.push_async_callback(relay.aclose)
        out(f"todo list: {hexkey}")
        shown = f"[{host}]" if ":" in host else host
        out(f"open http://{shown}:{relay.port}/#{hexkey}")
        await stop.wait()
    return 0


# --- the CLI peer


@contextlib.asynccontextmanager
async def _peer(
    key: bytes, storage: str, bootstrap: Network, host: str, relay: str | None
) -> AsyncIterator[TodoList]:
    """A peer of list ``key``: joined, connected to a peer and caught up."""
    async with contextlib.AsyncExitStack() as stack:
        if relay is not None:
            dht: Any = RelayedDHT(relay, custodial=True)  # the Python relay: no non-custodial connect yet
            try:
                await asyncio.wait_for(dht.ready(), JOIN_TIMEOUT)
            except (OSError, TimeoutError) as err:
                await dht.aclose()
                raise NetworkError(f"cannot reach the relay {relay}: {err}") from None
            stack.push_async_callback(dht.aclose)
            swarm = Hyperswarm(dht=dht)
        else:
            swarm = Hyperswarm(bootstrap=bootstrap, host=host)
        store = await stack.enter_async_context(Corestore(storage))
        await stack.enter_async_context(swarm)
        try:
            await asyncio.wait_for(swarm.dht.ready(), JOIN_TIMEOUT)
        except TimeoutError:
            raise NetworkError(f"could not join the DHT within {JOIN_TIMEOUT:g}s") from None
        todos = await stack.enter_async_context(TodoList(store, key, swarm=swarm))
        try:
            await asyncio.wait_for(todos.wait_peer(), PEER_TIMEOUT)
        except TimeoutError:
            raise NetworkError(f"no peer of list {key.hex()} found within {PEER_TIMEOUT:g}s") from None
        with contextlib.suppress(TimeoutError):  # a writer core nobody online has: go on without it
            await todos.sync()
        yield todos


async def _writable(todos: TodoList) -> None:
    if todos.writable:
        return
    warn("waiting to be added as a writer…")
    try:
        await asyncio.wait_for(todos.wait_writable(), PEER_TIMEOUT)
    except TimeoutError:
        raise NetworkError(f"not added as a writer within {PEER_TIMEOUT:g}s") from None


async def _flushed(todos: TodoList) -> None:
    try:
        await asyncio.wait_for(todos.flushed(), PEER_TIMEOUT)
    except TimeoutError:
        raise NetworkError(f"no peer took our change within {PEER_TIMEOUT:g}s") from None


def _show(todo: Todo) -> str:
    text = todo.text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return f"{todo.id} {'[x]' if todo.done else '[ ]'} {text}"


async def write(
    action: str,
    key: bytes,
    storage: str,
    *,
    bootstrap: Network = None,
    host: str = "0.0.0.0",
    relay: str | None = None,
    text: str = "",
    todo_id: str = "",
    undo: bool = False,
    out: Out = print_line,
) -> int:
    """``todo add|done|rm``: write one change and wait until a peer has it."""
    async with _peer(key, storage, bootstrap, host, relay) as todos:
        try:
            if action == "add":
                await _writable(todos)
                tid = await todos.add(text)
                line = f"added {tid}"
            else:
                todo = await todos.get(todo_id)
                await _writable(todos)
                if action == "done":
                    await todos.set_done(todo.id, not undo)
                    line = f"{'undone' if undo else 'done'} {todo.id}"
                else:
                    await todos.remove(todo.id)
                    line = f"removed {todo.id}"
        except TodoError as err:
            raise CliError(str(err)) from None
        await _flushed(todos)
        out(line)
    return 0


async def ls(
    key: bytes,
    storage: str,
    *,
    bootstrap: Network = None,
    host: str = "0.0.0.0",
    relay: str | None = None,
    live: bool = False,
    out: Out = print_line,
    stop: asyncio.Event | None = None,
) -> int:
    """``todo ls``: print the todos (then, ``live``, every change) until ``stop``."""
    stop = stop if stop is not None else asyncio.Event()
    async with _peer(key, storage, bootstrap, host, relay) as todos:
        shown = {t.id: t for t in await todos.todos()}
        for t in shown.values():
            out(_show(t))
        out(f"({len(shown)} todos)")
        if not live:
            return 0

        async def follow() -> None:
            nonlocal shown
            async for now in todos.changes():
                new = {t.id: t for t in now}
                for tid, t in new.items():
                    if tid not in shown:
                        out("add " + _show(t))
                    elif shown[tid] != t:
                        out("edit " + _show(t))
                for tid in shown:
                    if tid not in new:
                        out(f"rm {tid}")
                shown = new

        await first(follow(), stop.wait())
    return 0


# --- argparse


def _peer_storage(args: argparse.Namespace, key: bytes) -> str:
    return storage_dir(args.storage or str(data_dir("todo", key.hex())))


def _relay(args: argparse.Namespace) -> str | None:
    url: str | None = args.relay
    if url is not None and not url.startswith(("ws://", "wss://")):
        raise CliError(f"--relay must be a ws:// or wss:// URL, got {url!r}")
    return url


def cmd_serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port < 65536:
        raise CliError("--port must be 0..65535")
    list_key = parse_hex_key(args.list, what="list key") if args.list else None
    bootstrap = parse_bootstrap(args.bootstrap)
    web = find_web(args.web)
    storage = storage_dir(args.storage or str(data_dir("todo", "serve")))
    return run_command(
        until_signalled(
            lambda stop: serve(
                print_line,
                web=web,
                storage=storage,
                list_key=list_key,
                host=args.host,
                port=args.port,
                local=args.local,
                bootstrap=bootstrap,
                stop=stop,
            )
        ),
        interrupted=0,
    )


def cmd_write(args: argparse.Namespace) -> int:
    key = parse_hex_key(args.key, what="list key")
    bootstrap = parse_bootstrap(args.bootstrap)
    relay = _relay(args)
    action = args.todo_command
    text = " ".join(getattr(args, "text", []) or [])
    todo_id = getattr(args, "id", "") or ""
    if action == "add":
        try:
            validate_text(text)
        except TodoError as err:
            raise CliError(str(err)) from None
    elif not todo_id or any(ch not in "0123456789abcdefABCDEF" for ch in todo_id) or len(todo_id) > 24:
        raise CliError(f"a todo id is up to 24 hex characters, got {todo_id!r}")
    storage = _peer_storage(args, key)
    return run_command(
        write(
            action,
            key,
            storage,
            bootstrap=bootstrap,
            host=args.host,
            relay=relay,
            text=text,
            todo_id=todo_id,
            undo=getattr(args, "undo", False),
        )
    )


def cmd_ls(args: argparse.Namespace) -> int:
    key = parse_hex_key(args.key, what="list key")
    bootstrap = parse_bootstrap(args.bootstrap)
    relay = _relay(args)
    storage = _peer_storage(args, key)
    return run_command(
        until_signalled(
            lambda stop: ls(
                key, storage, bootstrap=bootstrap, host=args.host, relay=relay, live=args.live, stop=stop
            )
        ),
        interrupted=0,
        quiet_broken_pipe=True,
    )


def _peer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("key", help="the list key (64 hex characters)")
    p.add_argument("--storage", help="peer directory (default: $XDG_DATA_HOME/hyperpunch/todo/<key>)")
    p.add_argument(
        "--relay",
        help="reach the DHT through a relay (ws://host:port/relay); custodial: the relay holds our swarm key",
    )
    p.add_argument(
        "--bootstrap",
        default=os.environ.get("HYPERPUNCH_BOOTSTRAP"),
        help="comma-separated host:port DHT bootstrap nodes (default: $HYPERPUNCH_BOOTSTRAP, "
        "else the public Holepunch nodes)",
    )
    p.add_argument(
        "--host",
        default=os.environ.get("HYPERPUNCH_HOST", "0.0.0.0"),
        help="address to bind (default: $HYPERPUNCH_HOST, else 0.0.0.0)",
    )


def register(sub: Any) -> None:
    """Add ``todo serve|add|ls|done|rm`` to the ``hyperpunch`` subparsers ``sub``."""
    p = sub.add_parser("todo", help="the collaborative todo list: serve the web app, or add/ls/done/rm")
    tsub = p.add_subparsers(dest="todo_command", metavar="ACTION")
    tsub.required = True

    s = tsub.add_parser(
        "serve",
        help="serve the web app, the relay and the list's always-on peer on one port",
        description="Prints 'todo list: <key>' and 'open http://<host>:<port>/#<key>' (with --local first "
        "'bootstrap: 127.0.0.1:<port>'). Ctrl-C stops it; the list stays in --storage.",
    )
    s.add_argument("--host", default="127.0.0.1", help="HTTP/WebSocket address (default 127.0.0.1)")
    s.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)"
    )
    s.add_argument("--storage", help="list directory (default: $XDG_DATA_HOME/hyperpunch/todo/serve)")
    s.add_argument("--list", help="join this list (64 hex) instead of creating one")
    s.add_argument("--local", action="store_true", help="run an embedded DHT testnet (no internet needed)")
    s.add_argument(
        "--web",
        help="the built web app directory (default: $HYPERPUNCH_TODO_WEB, else interop/browser/dist/todo)",
    )
    s.add_argument(
        "--bootstrap",
        default=os.environ.get("HYPERPUNCH_BOOTSTRAP"),
        help="DHT bootstrap nodes without --local (default: $HYPERPUNCH_BOOTSTRAP, else the public ones)",
    )
    s.set_defaults(func=cmd_serve)

    a = tsub.add_parser("add", help="add a todo (waits until a peer has it)")
    _peer_options(a)
    a.add_argument("text", nargs="+", help="the todo's text")
    a.set_defaults(func=cmd_write)

    d = tsub.add_parser("done", help="mark a todo done (--undo: not done)")
    _peer_options(d)
    d.add_argument("id", help="the todo id (24 hex, or a unique prefix)")
    d.add_argument("--undo", action="store_true", help="mark it not done")
    d.set_defaults(func=cmd_write)

    r = tsub.add_parser("rm", help="delete a todo")
    _peer_options(r)
    r.add_argument("id", help="the todo id (24 hex, or a unique prefix)")
    r.set_defaults(func=cmd_write)

    ls_p = tsub.add_parser("ls", help="print the todos ('<id> [ ]|[x] <text>'); --live follows changes")
    _peer_options(ls_p)
    ls_p.add_argument("--live", action="store_true", help="then print every change, until interrupted")
    ls_p.set_defaults(func=cmd_ls)

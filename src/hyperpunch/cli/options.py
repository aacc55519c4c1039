"""What every ``hyperpunch`` command shares: argument parsing, output, stdin, signals, racing.

Invariants:

* Bad input raises :class:`CliError` (one line, exit 2), before anything touches the network or
  the disk.
* :func:`print_line` / :func:`warn` flush every line at once (other programs read them line by line).
* :class:`StdinLines` reads stdin with a thread it owns: started by ``async with``, woken and
  joined when the block ends, so nothing reads stdin after the command is done. It works whether
  stdin is a pipe, a file, ``/dev/null``, a TTY or closed (closed reads as an immediate EOF).
* :func:`stop_on_signals` turns SIGINT/SIGTERM into an event for the duration of a ``with`` block.
* :func:`first_done` runs its awaitables as tasks of one :class:`~hyperpunch.aio.TaskOwner`;
  when it returns or raises, every one of them has ended.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

from hyperpunch.aio import TaskOwner
from hyperpunch.eventloop import run as run_loop

if TYPE_CHECKING:  # imported when a command opens one: `hyperpunch --help` stays light
    from hyperpunch.swarm import Hyperswarm

__all__ = [
    "CliError",
    "Network",
    "NetworkError",
    "OneLineParser",
    "StdinLines",
    "StorageError",
    "add_network_options",
    "data_dir",
    "describe_bootstrap",
    "first",
    "first_done",
    "open_swarm",
    "parse_bootstrap",
    "parse_hex_key",
    "print_line",
    "reporting_dht_status",
    "run_command",
    "stdin_lines",
    "stop_on_signals",
    "storage_dir",
    "unless_stopped",
    "until_signalled",
    "warn",
]

T = TypeVar("T")

Network = list[tuple[str, int]] | None  # the parsed --bootstrap: None = the public Holepunch nodes

READ_SIZE = 1 << 16


class CliError(Exception):
    """A user-facing error: printed as one line; exit status ``exit_code`` (2: bad usage or input)."""

    exit_code = 2


class NetworkError(CliError):
    """The network refused (no bootstrap node answered, a peer not reachable): exit status 1."""

    exit_code = 1


def describe_bootstrap(bootstrap: Network) -> str:
    """``host:port,...``, or what the default means, for messages."""
    return ",".join(f"{h}:{p}" for h, p in bootstrap) if bootstrap else "the public Holepunch nodes"


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


def parse_bootstrap(text: str | None) -> Network:
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


class StorageError(CliError):
    """A storage directory that cannot be used (exit 1: the environment refused, not the input)."""

    exit_code = 1


def data_dir(kind: str, name: str) -> Path:
    """The default storage of a command: ``$XDG_DATA_HOME/hyperpunch/<kind>/<name>``
    (``~/.local/share/...`` when it is unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "hyperpunch" / kind / name


def storage_dir(path: str) -> str:
    """Check (and create, with its parents) the storage directory ``path`` before anything opens it.

    Raises :class:`StorageError` with one line: a file where the directory should be, a parent that
    cannot hold a directory, or a directory this user may not write. Nothing at ``path`` is changed
    when it is refused.
    """
    target = Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise StorageError(f"storage {path} is not a directory")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError(f"cannot create storage directory {path}: {err.strerror or err}") from None
    if not os.access(target, os.R_OK | os.W_OK | os.X_OK):
        raise StorageError(f"storage directory {path} is not writable by this user")
    return str(target)


class StatusDHT(Protocol):
    """What :func:`reporting_dht_status` reads of a DHT (a :class:`~hyperpunch.dht.HyperDHT`)."""

    async def ready(self) -> None: ...

    def to_array(self) -> list[Any]: ...


DHT_PATIENCE = 10.0  # seconds before a command says no bootstrap node answered
DHT_STATUS_POLL = 1.0  # how often it then looks whether the DHT has found nodes


@contextlib.asynccontextmanager
async def reporting_dht_status(
    dht: StatusDHT | None,
    bootstrap: Network,
    *,
    patience: float = DHT_PATIENCE,
    poll: float = DHT_STATUS_POLL,
) -> AsyncIterator[None]:
    """While the block runs, tell the user (stderr) when the DHT has no node ``patience`` seconds
    after start, and again once it has joined (the DHT keeps retrying its bootstrap nodes, so a
    command started before its network exists recovers by itself). Silent when all goes well, and
    with ``dht=None`` (a swarm the caller brought: its DHT is not this command's to report)."""
    if dht is None:
        yield
        return
    owner = TaskOwner("cli dht status")

    async def watch(dht: StatusDHT) -> None:
        where = describe_bootstrap(bootstrap)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(dht.ready(), patience)
        if dht.to_array():
            return
        warn(f"hyperpunch: no DHT bootstrap node answered yet ({where}); still trying")
        while not dht.to_array():
            await asyncio.sleep(poll)
        warn(f"hyperpunch: joined the DHT through {where}")

    owner.spawn(watch(dht))
    try:
        yield
    finally:
        await owner.aclose()


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit 2), pointing at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def print_line(line: str) -> None:
    """One line on stdout, flushed."""
    print(line, flush=True)


def warn(line: str) -> None:
    """One line on stderr, flushed."""
    print(line, file=sys.stderr, flush=True)


def open_swarm(bootstrap: Network, host: str) -> Hyperswarm:
    """The Hyperswarm a command joins its topics on."""
    from hyperpunch.swarm import Hyperswarm

    return Hyperswarm(bootstrap=bootstrap, host=host)


def run_command(
    main: Coroutine[Any, Any, int], *, interrupted: int = 130, quiet_broken_pipe: bool = False
) -> int:
    """``asyncio.run(main)`` (on uvloop when installed: ``hyperpunch.eventloop``); a KeyboardInterrupt that gets through exits ``interrupted``.

    With ``quiet_broken_pipe`` a reader that went away (``... | head``) is a quiet exit 0.
    """
    try:
        return run_loop(main)
    except KeyboardInterrupt:
        return interrupted
    except BrokenPipeError:
        if not quiet_broken_pipe:
            raise
        with contextlib.suppress(OSError):  # nothing more may reach the closed pipe at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


async def until_signalled(work: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    """Run ``work(stop)`` with ``stop`` set by SIGINT/SIGTERM (the work then winds down and returns)."""
    with stop_on_signals() as stop:
        return await work(stop)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[asyncio.Event]:
    """An event that SIGINT/SIGTERM set while the block runs (needs a running loop)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield stop
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


class StdinLines:
    """``async with StdinLines() as lines``: stdin as a queue of lines, then None at EOF.

    Each line keeps its ``\\n``; a last line without one comes as it is. A thread owned by this
    object reads the raw file descriptor (``os.read``, not ``sys.stdin``, so no buffered reader's
    lock is held) and only after ``poll`` says it is readable or a wake-up pipe says stop. Leaving
    the block wakes the thread and joins it. The queue is fed from the loop, never from the thread.
    """

    def __init__(self, fd: int | None = None) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._fd = fd
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None

    async def __aenter__(self) -> asyncio.Queue[bytes | None]:
        fd = self._fd if self._fd is not None else _stdin_fd()
        if fd is None:  # no stdin at all: an empty one
            self.queue.put_nowait(None)
            return self.queue
        loop = asyncio.get_running_loop()
        self._wake = os.pipe()
        self._thread = threading.Thread(
            target=self._pump, args=(loop, fd, self._wake[0]), name="hyperpunch-stdin"
        )
        self._thread.start()
        return self.queue

    async def __aexit__(self, *exc: object) -> None:
        if self._thread is None or self._wake is None:
            return
        wake_r, wake_w = self._wake
        os.write(wake_w, b"x")  # the thread waits in poll(): this ends it at once
        self._thread.join()
        self._thread = None
        self._wake = None
        os.close(wake_r)
        os.close(wake_w)

    def _put(self, items: list[bytes | None]) -> None:
        for item in items:
            self.queue.put_nowait(item)

    def _pump(self, loop: asyncio.AbstractEventLoop, fd: int, wake: int) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(wake, select.POLLIN)
        partial = b""
        try:
            while True:
                ready = {f for f, _ in poller.poll()}
                if wake in ready:
                    return  # the command is done: nobody reads the rest
                try:
                    chunk = os.read(fd, READ_SIZE)
                except BlockingIOError:  # an O_NONBLOCK stdin another reader got to first
                    continue
                if not chunk:
                    break
                *lines, partial = (partial + chunk).split(b"\n")
                if lines:
                    complete: list[bytes | None] = [line + b"\n" for line in lines]
                    loop.call_soon_threadsafe(self._put, complete)
        except (OSError, ValueError):
            pass  # stdin unreadable (closed, a directory, ...): that is its end
        tail: list[bytes | None] = [partial] if partial else []
        loop.call_soon_threadsafe(self._put, [*tail, None])


@contextlib.asynccontextmanager
async def stdin_lines(
    given: asyncio.Queue[bytes | None] | None = None,
) -> AsyncIterator[asyncio.Queue[bytes | None]]:
    """``given`` when there is one (a test's stdin), else :class:`StdinLines` for the block."""
    if given is not None:
        yield given
        return
    async with StdinLines() as lines:
        yield lines


def _stdin_fd() -> int | None:
    """fd 0 when it is our stdin; None when the process was started without one (the fd may then
    belong to a socket opened since)."""
    if sys.stdin is None:
        return None
    try:
        return sys.stdin.fileno()
    except (OSError, ValueError):
        return None


async def _outcome(aw: Awaitable[T]) -> tuple[T | None, Exception | None]:
    """Await ``aw``; its failure becomes a value, for the caller to raise (the task never fails)."""
    try:
        return await aw, None
    except Exception as err:
        return None, err


async def first_done(*aws: Awaitable[Any]) -> tuple[int, Any]:
    """Run ``aws`` until one finishes; cancel and reap the others.

    Returns ``(index, result)`` of the one that finished (the lowest index when several finished
    together), or raises the first failure, in order, among those that ended other than cancelled.
    """
    owner = TaskOwner("hyperpunch cli")
    tasks = [owner.spawn(_outcome(aw)) for aw in aws]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await owner.aclose()
        for aw in aws:  # one cancelled before it started was never awaited: say it is done with
            if isinstance(aw, Coroutine):
                aw.close()
    for task in tasks:
        if not task.cancelled() and (err := task.result()[1]) is not None:
            raise err
    index = min(i for i, task in enumerate(tasks) if task in done)
    return index, tasks[index].result()[0]


async def first(*aws: Awaitable[Any]) -> None:
    """Wait for the first of ``aws`` to finish; cancel (and reap) the others; raise a failure."""
    await first_done(*aws)


async def unless_stopped(stop: asyncio.Event, aw: Awaitable[T]) -> tuple[bool, T | None]:
    """Await ``aw`` unless ``stop`` is set first: ``(True, result)`` or ``(False, None)``."""
    index, value = await first_done(aw, stop.wait())
    if index == 0:
        result: T | None = value
        return True, result
    return False, None

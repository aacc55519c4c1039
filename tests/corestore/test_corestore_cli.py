"""``hyperpunch store write|read`` (seed example 4): bad input, and the write/read logic end to end.

The logic tests run both commands' coroutines in this process with the network replaced by a
loopback "swarm" (peers joining the same topic get a TCP secret-stream pair), stdin by a queue and
SIGINT by an event (the commands' ``swarm``, ``lines`` and ``stop`` arguments); test_cli_over_local_dht runs the real commands as processes on a local DHT.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cs_helpers import eventually

from hyperpunch.cli import store as cli_store
from hyperpunch.corestore import Corestore
from hyperpunch.secretstream import SecretStream, serve

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hyperpunch", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input=stdin,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    "key",
    ["abcd", "zz" * 32, "00" * 31, "00" * 33, "", "0x" + "00" * 31],
    ids=["short", "nothex", "31", "33", "empty", "0x"],
)
def test_read_bad_key_is_one_line(key: str, tmp_path: Path) -> None:
    res = run_cli("store", "read", key, "--storage", str(tmp_path / "r"))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hyperpunch: error: main core key")
    assert res.stdout == ""
    assert not (tmp_path / "r").exists()  # refused before touching the disk


@pytest.mark.parametrize("cmd", [["write"], ["read", "00" * 32]])
def test_bad_bootstrap_is_one_line(cmd: list[str], tmp_path: Path) -> None:
    res = run_cli("store", *cmd, "--storage", str(tmp_path / "s"), "--bootstrap", "nope")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad bootstrap node" in lines[0]


def test_register_adds_subcommands() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cli_store.register(sub)
    args = parser.parse_args(["store", "read", "ab" * 32, "--storage", "x", "--bootstrap", "h:1"])
    assert args.func is cli_store.cmd_store_read and args.storage == "x" and args.bootstrap == "h:1"
    args = parser.parse_args(["store", "write"])
    assert args.func is cli_store.cmd_store_write and args.storage == "./writer-storage"


# --- the logic, over a loopback network ------------------------------------------------------------


class LoopNet:
    """Swarms in one process: a client joining a topic a server joined gets connected to it."""

    def __init__(self) -> None:
        self.joined: dict[bytes, list[tuple[LoopSwarm, bool, bool]]] = {}
        self.streams: list[SecretStream] = []
        self.tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self._accepted: asyncio.Queue[SecretStream] = asyncio.Queue()
        self._server: Any = None

    async def start(self) -> None:
        async def handler(stream: SecretStream) -> None:
            await self._accepted.put(stream)
            await stream.wait_closed()

        self._server = await serve(handler, "127.0.0.1", 0)

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for s in self.streams:
            s.close()
        await self._server.aclose()

    def join(self, swarm: LoopSwarm, topic: bytes, server: bool, client: bool) -> None:
        peers = self.joined.setdefault(topic, [])
        for other, o_server, o_client in peers:
            if other is swarm or (other, swarm) in swarm.linked or (swarm, other) in swarm.linked:
                continue
            if client and o_server:
                self.tasks.append(asyncio.ensure_future(self._link(swarm, other)))
            elif server and o_client:
                self.tasks.append(asyncio.ensure_future(self._link(other, swarm)))
        peers.append((swarm, server, client))

    async def _link(self, client: LoopSwarm, server: LoopSwarm) -> None:
        client.linked.add((client, server))
        server.linked.add((client, server))
        async with self._lock:
            c = await SecretStream.connect("127.0.0.1", self._server.port)
            s = await self._accepted.get()
        self.streams += [c, s]
        client.on_connection(c, None)
        server.on_connection(s, None)


class LoopSwarm:
    def __init__(self, net: LoopNet) -> None:
        self.net = net
        self.on_connection: Any = None
        self.linked: set[tuple[LoopSwarm, LoopSwarm]] = set()

    async def __aenter__(self) -> LoopSwarm:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    def join(self, topic: bytes, *, server: bool = True, client: bool = True) -> None:
        self.net.join(self, topic, server, client)


@contextlib.asynccontextmanager
async def loop_net() -> AsyncIterator[LoopNet]:
    net = LoopNet()
    await net.start()
    try:
        yield net
    finally:
        await net.stop()


class Stops:
    """Replaces the SIGINT/SIGTERM handler: one event per command started."""

    def __init__(self) -> None:
        self.events: list[asyncio.Event] = []

    def __call__(self) -> asyncio.Event:
        ev = asyncio.Event()
        self.events.append(ev)
        return ev


async def test_write_then_read_live(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    stdin: asyncio.Queue[bytes | None] = asyncio.Queue()
    stops = Stops()
    out: list[str] = []

    def lines() -> list[str]:
        out.extend(capsys.readouterr().out.splitlines())
        return out

    async with loop_net() as net:
        writer = asyncio.ensure_future(
            cli_store.write(
                str(tmp_path / "w"), None, "127.0.0.1", stop=stops(), lines=stdin, swarm=LoopSwarm(net)
            )
        )
        await eventually(lambda: any(line.startswith("main core key: ") for line in lines()))
        main_key = out[0].removeprefix("main core key: ")
        assert len(bytes.fromhex(main_key)) == 32
        for text in (b"hi", b"hello world", b"abcd", b"12345"):
            stdin.put_nowait(text)
        await eventually(lambda: len(lines()) == 5)
        assert out[1:] == [
            "appending short data to core2",
            "appending long data to core3",
            "appending short data to core2",
            "appending long data to core3",
        ]
        reader = asyncio.ensure_future(
            cli_store.read(
                bytes.fromhex(main_key),
                str(tmp_path / "r"),
                None,
                "127.0.0.1",
                stop=stops(),
                swarm=LoopSwarm(net),
            )
        )
        await eventually(lambda: sum(line.startswith("Block ") for line in lines()) == 4)
        # live: more lines reach the reader
        stdin.put_nowait(b"xy")
        stdin.put_nowait(b"a longer line")
        await eventually(lambda: sum(line.startswith("Block ") for line in lines()) == 6)
        blocks = [line for line in out if line.startswith("Block ")]
        short_key, long_key = _core_keys(tmp_path / "w")
        assert sorted(b for b in blocks if short_key in b) == sorted(
            [
                f"Block 0 in Core {short_key}: hi",
                f"Block 1 in Core {short_key}: abcd",
                f"Block 2 in Core {short_key}: xy",
            ]
        )
        assert sorted(b for b in blocks if long_key in b) == sorted(
            [
                f"Block 0 in Core {long_key}: hello world",
                f"Block 1 in Core {long_key}: 12345",
                f"Block 2 in Core {long_key}: a longer line",
            ]
        )
        for ev in stops.events:
            ev.set()
        assert await asyncio.wait_for(reader, 20) == 0
        stdin.put_nowait(None)
        assert await asyncio.wait_for(writer, 20) == 0
    # the writer's main core names each core once, in first-data order: short then long
    async with Corestore(tmp_path / "w") as store:
        main_core = await store.get(name="main")
        assert main_core.key is not None and main_core.key.hex() == main_key
        assert [(await main_core.get(i)).hex() for i in range(main_core.length)] == [short_key, long_key]


def _core_keys(store_dir: Path) -> tuple[str, str]:
    """The keys of cores "short" and "long" of the store in ``store_dir`` (derived, no I/O but the key)."""
    from hyperpunch.corestore import named_core
    from hyperpunch.corestore.primary_key import decode_primary_key

    pk = decode_primary_key((store_dir / "primary-key").read_bytes())
    return named_core(pk, bytes(32), "short").key.hex(), named_core(pk, bytes(32), "long").key.hex()


async def test_reader_skips_blocks_that_are_not_keys(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stops = Stops()
    async with loop_net() as net, Corestore(tmp_path / "w") as store:
        main_core = await store.get(name="main")
        data = await store.get(name="data")
        await data.append([b"first", b"second"])
        assert data.key is not None and main_core.key is not None
        await main_core.append([b"not a key", data.key, b"\x00" * 33, data.key])
        served = LoopSwarm(net)
        served.on_connection = lambda conn, info: store.replicate(conn)
        assert main_core.discovery_key is not None
        served.join(main_core.discovery_key, server=True, client=False)
        out: list[str] = []
        err: list[str] = []

        def grab() -> list[str]:
            cap = capsys.readouterr()
            out.extend(cap.out.splitlines())
            err.extend(cap.err.splitlines())
            return out

        reader = asyncio.ensure_future(
            cli_store.read(
                main_core.key, str(tmp_path / "r"), None, "127.0.0.1", stop=stops(), swarm=LoopSwarm(net)
            )
        )
        await eventually(lambda: len(grab()) == 2 and len(err) == 2)
        assert sorted(out) == [
            f"Block 0 in Core {data.key.hex()}: first",
            f"Block 1 in Core {data.key.hex()}: second",
        ]
        assert err == [
            "main core block 0 is not a 32-byte core key (9 bytes): skipped",
            "main core block 2 is not a 32-byte core key (33 bytes): skipped",
        ]
        stops.events[0].set()
        assert await asyncio.wait_for(reader, 20) == 0

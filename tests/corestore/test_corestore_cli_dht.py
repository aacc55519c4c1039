"""``hyperpunch store write|read`` and examples/4 as real processes, over Hyperswarm on a local DHT."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from cs_helpers import local_dht

from jsref import spawn_node

ROOT = Path(__file__).resolve().parents[2]


class Proc:
    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name

    async def line(self, timeout: float = 60) -> str:
        assert self.proc.stdout is not None
        try:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no output within {timeout}s") from None
        assert raw, f"{self.name} exited: {await self.stderr()}"
        return raw.decode().rstrip("\n")

    async def lines(self, n: int, timeout: float = 60) -> list[str]:
        return [await self.line(timeout) for _ in range(n)]

    async def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        await self.proc.stdin.drain()

    async def stderr(self) -> str:
        assert self.proc.stderr is not None
        with contextlib.suppress(TimeoutError):
            return (await asyncio.wait_for(self.proc.stderr.read(), 5)).decode()
        return ""

    async def interrupt(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
        return await asyncio.wait_for(self.proc.wait(), 30)


@contextlib.asynccontextmanager
async def run(name: str, *args: str, stdin: bool = False) -> AsyncIterator[Proc]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        yield Proc(proc, name)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def _net(bootstrap: str) -> list[str]:
    return ["--bootstrap", bootstrap, "--host", "127.0.0.1"]


async def test_cli_write_read_over_local_dht(tmp_path: Path) -> None:
    async with local_dht() as bootstrap:
        cli = ["-m", "hyperpunch", "store"]
        async with run(
            "writer", *cli, "write", "--storage", str(tmp_path / "w"), *_net(bootstrap), stdin=True
        ) as w:
            first = await w.line()
            assert first.startswith("main core key: ")
            main_key = first.removeprefix("main core key: ")
            await w.send("hi\nhello world\n")
            assert await w.lines(2) == ["appending short data to core2", "appending long data to core3"]
            async with run(
                "reader", *cli, "read", main_key, "--storage", str(tmp_path / "r"), *_net(bootstrap)
            ) as r:
                got = await r.lines(2)
                await w.send("abc\nanother long line\n")
                assert await w.lines(2) == ["appending short data to core2", "appending long data to core3"]
                got += await r.lines(2)
                texts = sorted(line.split(": ", 1)[1] for line in got)
                assert texts == ["abc", "another long line", "hello world", "hi"]
                cores = {line.split(" in Core ")[1].split(":")[0] for line in got}
                assert len(cores) == 2 and all(len(bytes.fromhex(c)) == 32 for c in cores)
                assert {line.split(" in Core ")[0] for line in got} == {"Block 0", "Block 1"}
                assert await r.interrupt() == 0
            assert await w.interrupt() == 0
        # restarted writer keeps its keys and does not re-announce them
        async with run(
            "writer", *cli, "write", "--storage", str(tmp_path / "w"), *_net(bootstrap), stdin=True
        ) as w:
            assert await w.line() == first
            await w.send("x\n")
            assert await w.line() == "appending short data to core2"
            assert await w.interrupt() == 0


async def test_examples_over_local_dht(tmp_path: Path) -> None:
    async with local_dht() as bootstrap:
        ex = ROOT / "examples" / "4"
        async with run(
            "writer.py", str(ex / "writer.py"), "--storage", str(tmp_path / "w"), *_net(bootstrap), stdin=True
        ) as w:
            first = await w.line()
            assert first.startswith("main core key: ")
            main_key = first.removeprefix("main core key: ")
            await w.send("tiny\nthis is long\n")
            assert await w.lines(2) == ["appending short data to core2", "appending long data to core3"]
            async with run(
                "reader.py",
                str(ex / "reader.py"),
                main_key,
                "--storage",
                str(tmp_path / "r"),
                *_net(bootstrap),
            ) as r:
                got = await r.lines(2)
                assert sorted(line.split(": ", 1)[1] for line in got) == ["this is long", "tiny"]
                assert all(line.startswith("Block 0 in Core ") for line in got)
                await r.interrupt()
            await w.interrupt()


async def test_cli_writer_js_reader(tmp_path: Path) -> None:
    async with local_dht() as bootstrap:
        cli = ["-m", "hyperpunch", "store"]
        async with run(
            "writer", *cli, "write", "--storage", str(tmp_path / "w"), *_net(bootstrap), stdin=True
        ) as w:
            main_key = (await w.line()).removeprefix("main core key: ")
            await w.send("hi\nhello world\n")
            assert await w.lines(2) == ["appending short data to core2", "appending long data to core3"]
            opts = {"mode": "read", "bootstrap": [bootstrap], "key": main_key}
            async with spawn_node("corestore-swarm-peer.js", json.dumps(opts)) as js:
                await js.expect("ready")
                got = [await js.expect("block") for _ in range(2)]
                await w.send("abc\n")
                got.append(await js.expect("block"))
                assert sorted((g["index"], g["text"]) for g in got) == [
                    (0, "hello world"),
                    (0, "hi"),
                    (1, "abc"),
                ]
                assert len({g["core"] for g in got}) == 2
                await js.send({"cmd": "exit"})
                assert await js.wait() == 0
            assert await w.interrupt() == 0


async def test_js_writer_cli_reader(tmp_path: Path) -> None:
    async with local_dht() as bootstrap:
        opts = {"mode": "write", "bootstrap": [bootstrap]}
        async with spawn_node("corestore-swarm-peer.js", json.dumps(opts)) as js:
            main_key = (await js.expect("ready"))["mainKey"]
            for text in ("hi", "hello world"):
                await js.send({"cmd": "line", "text": text})
                await js.expect("appended")
            cli = ["-m", "hyperpunch", "store", "read", main_key]
            async with run("reader", *cli, "--storage", str(tmp_path / "r"), *_net(bootstrap)) as r:
                got = await r.lines(2)
                await js.send({"cmd": "line", "text": "a longer one"})
                await js.expect("appended")
                got.append(await r.line())
                texts = sorted((line.split(" in Core ")[0], line.split(": ", 1)[1]) for line in got)
                assert texts == [("Block 0", "hello world"), ("Block 0", "hi"), ("Block 1", "a longer one")]
                assert await r.interrupt() == 0
            await js.send({"cmd": "exit"})
            assert await js.wait() == 0

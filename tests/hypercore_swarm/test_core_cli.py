"""``hyperpunch core write|read`` and examples/3 as real processes over Hyperswarm on a local DHT,
with each other and with the JS example-3 writer/reader (interop/scripts/core-writer.js, core-reader.js)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from core_helpers import ROOT, Proc, local_dht, run

from hyperpunch.cli.core import WRITER_NAME, default_storage
from jsref import SCRIPTS, node_binary

CLI = ["-m", "hyperpunch", "core"]


def _net(bootstrap: str) -> list[str]:
    return ["--bootstrap", bootstrap, "--host", "127.0.0.1"]


async def _key_of(writer: Proc) -> str:
    first = await writer.line()
    assert first.startswith("hypercore key: "), first
    key = first.removeprefix("hypercore key: ")
    assert len(bytes.fromhex(key)) == 32
    return key


async def _appended(bootstrap: str, key: str, lines: list[str], storage: Path) -> None:
    """Wait until the writer serves ``lines`` as its blocks (a ``--start 0`` reader prints them)."""
    args = [*CLI, "read", key, "--start", "0", "--storage", str(storage), *_net(bootstrap)]
    async with run("sync reader", *args) as r:
        want = ["Skipping 0 earlier blocks...", *(f"Block {i}: {t}" for i, t in enumerate(lines))]
        assert await r.lines(len(want)) == want
        assert await r.interrupt() == 0


def test_bad_key_is_a_one_line_error(tmp_path: Path) -> None:
    for bad in ("abc", "zz" * 32, "00" * 31):
        proc = subprocess.run(
            [sys.executable, *CLI, "read", bad, "--storage", str(tmp_path / "r")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hyperpunch: error: core key"), proc.stderr
    assert not (tmp_path / "r").exists()  # nothing touched the disk


def test_default_storage_follows_xdg_data_home(tmp_path: Path, monkeypatch: object) -> None:
    env = dict(os.environ)
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    code = "from hyperpunch.cli.core import default_storage; print(default_storage('x'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(tmp_path / "xdg" / "hyperpunch" / "cores" / "x")
    env.pop("XDG_DATA_HOME")
    env["HOME"] = str(tmp_path / "home")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(tmp_path / "home" / ".local" / "share" / "hyperpunch" / "cores" / "x")
    assert default_storage(WRITER_NAME).name == WRITER_NAME


async def test_cli_write_read(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    async with local_dht() as bs:
        async with run("writer", *CLI, "write", *_net(bs), stdin=True, env=env) as w:
            key = await _key_of(w)
            await w.send("one\ntwo\nthree\n")
            # --start 0: every block; default: only the ones appended after it learnt the length
            async with run("reader0", *CLI, "read", key, "--start", "0", *_net(bs), env=env) as r0:
                assert await r0.lines(4) == [
                    "Skipping 0 earlier blocks...",
                    "Block 0: one",
                    "Block 1: two",
                    "Block 2: three",
                ]
                async with run(
                    "reader", *CLI, "read", key, "--storage", str(tmp_path / "r"), *_net(bs), env=env
                ) as r:
                    assert await r.line() == "Skipping 3 earlier blocks..."
                    await w.send("four\nfive, with spaces: ok\n")
                    want = ["Block 3: four", "Block 4: five, with spaces: ok"]
                    assert await r.lines(2) == want
                    assert await r0.lines(2) == want
                    w.close_stdin()  # stdin ends: the writer keeps serving
                    r1_args = [
                        *CLI,
                        "read",
                        key,
                        "--start",
                        "4",
                        "--storage",
                        str(tmp_path / "r1"),
                        *_net(bs),
                    ]
                    async with run("reader1", *r1_args, env=env) as r1:
                        assert await r1.lines(2) == ["Skipping 4 earlier blocks...", want[1]]
                        assert await r1.interrupt(signal.SIGTERM) == 0
                    assert await r.interrupt() == 0
                assert await r0.interrupt() == 0
            assert await w.interrupt() == 0
        # the default writer storage is stable: a restart reopens the same core
        assert (tmp_path / "xdg" / "hyperpunch" / "cores" / WRITER_NAME).is_dir()
        assert (tmp_path / "xdg" / "hyperpunch" / "cores" / key).is_dir()  # reader0's default
        async with run("writer", *CLI, "write", *_net(bs), stdin=True, env=env) as w:
            assert await _key_of(w) == key
            await w.send("six\n")
            async with run("reader", *CLI, "read", key, "--start", "4", *_net(bs), env=env) as r:
                assert await r.lines(3) == ["Skipping 4 earlier blocks...", want[1], "Block 5: six"]
                assert await r.interrupt() == 0
            assert await w.interrupt(signal.SIGTERM) == 0


async def test_cli_reader_prints_10k_blocks_then_follows(tmp_path: Path) -> None:
    n = 10_000
    texts = [f"line {i}: {'z' * (i % 13)}" for i in range(n)]
    async with local_dht() as bs:
        writer = [*CLI, "write", "--storage", str(tmp_path / "w"), *_net(bs)]
        async with run("writer", *writer, stdin=True) as w:
            key = await _key_of(w)
            await w.send("".join(t + "\n" for t in texts))
            reader = [*CLI, "read", key, "--start", "0", "--storage", str(tmp_path / "r"), *_net(bs)]
            async with run("reader", *reader) as r:
                assert await r.line() == "Skipping 0 earlier blocks..."
                got = await r.lines(n, timeout=120)
                assert got == [f"Block {i}: {t}" for i, t in enumerate(texts)]
                await w.send("tail 1\ntail 2\n")
                assert await r.lines(2) == [f"Block {n}: tail 1", f"Block {n + 1}: tail 2"]
                assert await r.interrupt() == 0
            assert await w.interrupt() == 0


async def test_reader_started_before_writer(tmp_path: Path) -> None:
    """Nobody serves the core yet: the reader skips nothing (it knows no blocks), then prints the
    writer's existing and new blocks once the writer comes up and finds it."""
    from hyperpunch.hypercore import Hypercore

    async with Hypercore(tmp_path / "w") as core:  # a core with two blocks, made offline
        await core.append([b"old 0", b"old 1"])
        assert core.key is not None
        key = core.key.hex()
    async with local_dht() as bs:
        reader = [*CLI, "read", key, "--storage", str(tmp_path / "r"), *_net(bs)]
        async with run("reader", *reader) as r:
            assert await r.line() == "Skipping 0 earlier blocks..."
            writer = [*CLI, "write", "--storage", str(tmp_path / "w"), *_net(bs)]
            async with run("writer", *writer, stdin=True) as w:
                assert await _key_of(w) == key
                assert await r.lines(2) == ["Block 0: old 0", "Block 1: old 1"]
                await w.send("new 2\n")
                assert await r.line() == "Block 2: new 2"
                assert await w.interrupt() == 0
            assert await r.interrupt() == 0


async def test_cli_writer_js_reader(tmp_path: Path) -> None:
    writer = [*CLI, "write", "--storage", str(tmp_path / "w")]
    async with local_dht() as bs, run("writer", *writer, *_net(bs), stdin=True) as w:
        key = await _key_of(w)
        await w.send("alpha\nbeta\n")
        await _appended(bs, key, ["alpha", "beta"], tmp_path / "sync")
        js_args = [str(SCRIPTS / "core-reader.js"), str(tmp_path / "js"), bs, key]
        py_args = [*CLI, "read", key, "--storage", str(tmp_path / "r"), *_net(bs)]
        async with run("js reader", *js_args, exe=node_binary()) as js, run("py reader", *py_args) as py:
            # both learn the length from the writer first, so both skip the same blocks
            assert await js.line() == "Skipping 2 earlier blocks..."
            assert await py.line() == "Skipping 2 earlier blocks..."
            await w.send("gamma\ndelta\n")
            want = ["Block 2: gamma", "Block 3: delta"]
            assert await js.lines(2) == want
            assert await py.lines(2) == want
            assert await py.interrupt() == 0
            assert await js.interrupt() == 0
        assert await w.interrupt() == 0


async def test_js_writer_cli_reader(tmp_path: Path) -> None:
    async with local_dht() as bs:
        js_args = [str(SCRIPTS / "core-writer.js"), str(tmp_path / "js"), bs]
        async with run("js writer", *js_args, stdin=True, exe=node_binary()) as js:
            key = await _key_of(js)
            await js.send("first\nsecond\n")
            async with run(
                "py reader", *CLI, "read", key, "--storage", str(tmp_path / "r"), "--start", "0", *_net(bs)
            ) as py:
                assert await py.lines(3) == [
                    "Skipping 0 earlier blocks...",
                    "Block 0: first",
                    "Block 1: second",
                ]
                await js.send("third\n")
                assert await py.line() == "Block 2: third"
                assert await py.interrupt() == 0
            assert await js.interrupt() == 0


async def test_examples_3_with_each_other_and_js(tmp_path: Path) -> None:
    ex = ROOT / "examples" / "3"
    async with (
        local_dht() as bs,
        run("writer.py", str(ex / "writer.py"), "--storage", str(tmp_path / "w"), *_net(bs), stdin=True) as w,
    ):
        key = await _key_of(w)
        await w.send("hello\n")
        await _appended(bs, key, ["hello"], tmp_path / "sync")
        js_args = [str(SCRIPTS / "core-reader.js"), str(tmp_path / "js"), bs, key]
        async with (
            run("reader.py", str(ex / "reader.py"), key, "--storage", str(tmp_path / "r"), *_net(bs)) as r,
            run("js reader", *js_args, exe=node_binary()) as js,
        ):
            assert await r.line() == "Skipping 1 earlier blocks..."
            assert await js.line() == "Skipping 1 earlier blocks..."
            await w.send("world\n")
            assert await r.line() == "Block 1: world"
            assert await js.line() == "Block 1: world"
            assert await r.interrupt() == 0
            assert await js.interrupt() == 0
        assert await w.interrupt() == 0


def test_wired_into_hyperpunch_cli() -> None:
    """``hyperpunch core ...`` reaches this module (cli.build_parser registers cli.core)."""
    from hyperpunch import cli

    assert cli.main(["core", "read", "not-a-key"]) == 2

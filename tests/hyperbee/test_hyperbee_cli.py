"""``hyperpunch bee write|read`` as real processes: bad input, a write/read round over Hyperswarm on
a local DHT (also live), and a reader that finds nobody."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hypercore_swarm.core_helpers import local_dht, run
from hyperpunch.cli.bee import parse_line

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hyperpunch", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.parametrize("key", ["abcd", "zz" * 32, "00" * 33, ""])
def test_read_bad_key_is_one_line(key: str, tmp_path: Path) -> None:
    res = run_cli("bee", "read", key, "--storage", str(tmp_path / "r"))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hyperpunch: error: bee key")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("cmd", [["write"], ["read", "00" * 32]])
def test_bad_bootstrap_is_one_line(cmd: list[str], tmp_path: Path) -> None:
    res = run_cli("bee", *cmd, "--storage", str(tmp_path / "s"), "--bootstrap", "nope")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad bootstrap node" in lines[0]


def test_parse_line() -> None:
    assert parse_line(b"put a hello world\n") == ("put", "a", "hello world")
    assert parse_line(b"put a \r\n") == ("put", "a", "")
    assert parse_line(b"del a\n") == ("del", "a", None)
    assert parse_line(b"put a\n") is None
    assert parse_line(b"del a b\n") is None
    assert parse_line(b"nope\n") is None


def _net(bootstrap: str) -> list[str]:
    return ["--bootstrap", bootstrap, "--host", "127.0.0.1"]


async def test_write_read_live_over_local_dht(tmp_path: Path) -> None:
    cli = ["-m", "hyperpunch", "bee"]
    async with (
        local_dht() as bootstrap,
        run("writer", *cli, "write", "--storage", str(tmp_path / "w"), *_net(bootstrap), stdin=True) as w,
    ):
        first = await w.line()
        assert first.startswith("hyperbee key: ")
        key = first.removeprefix("hyperbee key: ")
        assert len(bytes.fromhex(key)) == 32
        await w.send("put b 2\nput a 1\nput c three words\ndel b\nput d 4\n")
        w.close_stdin()  # the writer keeps serving after stdin ends
        async with run(
            "reader", *cli, "read", key, "--storage", str(tmp_path / "r1"), "--lt", "d", *_net(bootstrap)
        ) as r:
            lines = await r.lines(3)
            assert lines[:2] == ["a\t1", "c\tthree words"]
            assert lines[2].startswith("(2 entries at version ")
            assert await r.proc.wait() == 0
        async with run(
            "live", *cli, "read", key, "--storage", str(tmp_path / "r2"), "--live", *_net(bootstrap)
        ) as live:
            lines = await live.lines(4)
            assert lines[:3] == ["a\t1", "c\tthree words", "d\t4"]
            assert lines[3].startswith("(3 entries at version ")
            assert await live.interrupt() == 0
        assert await w.interrupt() == 0


async def test_live_reader_sees_later_changes(tmp_path: Path) -> None:
    cli = ["-m", "hyperpunch", "bee"]
    async with (
        local_dht() as bootstrap,
        run("writer", *cli, "write", "--storage", str(tmp_path / "w"), *_net(bootstrap), stdin=True) as w,
    ):
        key = (await w.line()).removeprefix("hyperbee key: ")
        await w.send("put a 1\n")
        async with run(
            "live", *cli, "read", key, "--storage", str(tmp_path / "r"), "--live", *_net(bootstrap)
        ) as live:
            assert (await live.lines(2))[0] == "a\t1"
            await w.send("put b 2\ndel a\n")
            assert await live.lines(2) == ["put b 2", "del a"]
            assert await live.interrupt() == 0
        assert await w.interrupt() == 0


async def test_reader_finding_nobody_fails_in_one_line(tmp_path: Path) -> None:
    async with (
        local_dht() as bootstrap,
        run(
            "reader",
            "-m",
            "hyperpunch",
            "bee",
            "read",
            "ab" * 32,
            "--storage",
            str(tmp_path / "r"),
            *_net(bootstrap),
        ) as r,
    ):
        code = await r.proc.wait()
        err = (await r.stderr()).strip().splitlines()
        assert code != 0
        assert len(err) == 1 and "no peer has this bee" in err[0]


async def test_read_a_js_written_bee_live(tmp_path: Path) -> None:
    """``hyperpunch bee read --live`` of a bee written by JS hyperbee, over the swarm."""
    from test_hyperbee_swarm_interop import js_bee

    def h(s: str) -> str:
        return s.encode().hex()

    async with local_dht() as bootstrap, js_bee(bootstrap) as (js, ready):
        await js.call({"cmd": "write", "ops": [["put", h("b"), h("2")], ["put", h("a"), h("1")]]}, "written")
        async with run(
            "reader",
            "-m",
            "hyperpunch",
            "bee",
            "read",
            ready["key"],
            "--storage",
            str(tmp_path / "r"),
            "--live",
            *_net(bootstrap),
        ) as r:
            assert await r.lines(3) == ["a\t1", "b\t2", "(2 entries at version 3)"]
            await js.call({"cmd": "write", "ops": [["put", h("c"), h("3")], ["del", h("a")]]}, "written")
            assert await r.lines(2) == ["put c 3", "del a"]
            assert await r.interrupt() == 0


def test_bee_is_reachable_from_the_entry_point() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    assert "    bee " in proc.stdout or "    bee\n" in proc.stdout
    proc = run_cli("bee", "--help")
    assert proc.returncode == 0 and "write" in proc.stdout and "read" in proc.stdout

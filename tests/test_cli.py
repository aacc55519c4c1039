"""The ``hyperpunch`` command line: outputs match the JS reference, bad input is one line."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hyperpunch.cli import main
from hyperpunch.cli.options import StdinLines
from refvectors import section


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hyperpunch", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_keygen_from_seed_matches_js(capsys: pytest.CaptureFixture[str]) -> None:
    vector = section("crypto")["keyPairs"][1]
    discovery = {d["key"]: d["discoveryKey"] for d in section("crypto")["discoveryKeys"]}
    assert main(["keygen", "--seed", vector["seed"], "--secret"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"public key: {vector['publicKey']}",
        f"discovery key: {discovery[vector['publicKey']]}",
        f"secret key: {vector['secretKey']}",
    ]


def test_random_keygen_differs(capsys: pytest.CaptureFixture[str]) -> None:
    main(["keygen"])
    main(["keygen"])
    first, _, second, _ = capsys.readouterr().out.splitlines()
    assert first != second


def test_discovery_key_matches_js(capsys: pytest.CaptureFixture[str]) -> None:
    vector = section("crypto")["discoveryKeys"][0]
    assert main(["discovery-key", vector["key"]]) == 0
    assert capsys.readouterr().out.strip() == vector["discoveryKey"]


@pytest.mark.parametrize(
    "args",
    [
        ["discovery-key", "abcd"],
        ["discovery-key", "zz" * 32],
        ["keygen", "--seed", "00" * 31],
    ],
)
def test_bad_keys_give_one_line_errors(args: list[str]) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hyperpunch: error: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_runs_end_to_end() -> None:
    proc = run_cli("demo", "--size", str(1 << 20))
    assert proc.returncode == 0, proc.stderr
    assert "sha-256 equal both ways" in proc.stdout
    assert "hypercore replicated over HyperDHT + UDX + secret-stream" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_parse_bootstrap() -> None:
    from hyperpunch.cli import CliError, parse_bootstrap

    assert parse_bootstrap(None) is None
    assert parse_bootstrap(" ") is None
    assert parse_bootstrap("127.0.0.1:49737,node.example:1") == [("127.0.0.1", 49737), ("node.example", 1)]
    for bad in ("127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":80", "host:port"):
        with pytest.raises(CliError):
            parse_bootstrap(bad)


def test_every_layer_command_is_reachable_from_the_entry_point() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    for command in ("keygen", "discovery-key", "demo", "testnet", "dht", "swarm", "core", "store"):
        assert f"    {command} " in proc.stdout or f"    {command}\n" in proc.stdout, command


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_stops_on_signal_even_if_sigint_was_inherited_ignored(sig: int) -> None:
    """hyperpunch.run (used by examples/) exits cleanly on Ctrl-C/SIGTERM whatever it inherited."""
    code = (
        "import asyncio, hyperpunch\n"
        "async def main():\n"
        "    print('ready', flush=True)\n"
        "    await asyncio.Event().wait()\n"
        "hyperpunch.run(main())\n"
        "print('clean exit', flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as a parent may leave it
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.strip() == "clean exit"


# ---- stdin: an owned reader, whatever stdin is ------------------------------------------------------


async def _all_lines(fd: int) -> list[bytes | None]:
    async with StdinLines(fd) as lines:
        got: list[bytes | None] = []
        while (line := await lines.get()) is not None:
            got.append(line)
    return got


async def test_stdin_lines_from_a_pipe_keep_newlines_and_end_with_none() -> None:
    r, w = os.pipe()
    try:
        os.write(w, b"one\ntwo\r\n\nthree")
        os.close(w)
        assert await _all_lines(r) == [b"one\n", b"two\r\n", b"\n", b"three"]
    finally:
        os.close(r)


async def test_stdin_lines_from_a_file_and_from_dev_null(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"a\n" * 100_000 + b"last\n")
    with open(path, "rb") as f:
        got = await _all_lines(f.fileno())
    assert got == [b"a\n"] * 100_000 + [b"last\n"]
    with open(os.devnull, "rb") as f:
        assert await _all_lines(f.fileno()) == []


async def test_stdin_lines_stop_while_a_tty_waits_for_input() -> None:
    """Leaving the block ends the reader thread even though the terminal never sends EOF."""
    master, slave = pty.openpty()
    try:
        before = threading.active_count()
        async with StdinLines(slave) as lines:
            assert threading.active_count() == before + 1
            os.write(master, b"typed\n")
            assert await lines.get() == b"typed\n"
        assert threading.active_count() == before  # joined: nothing reads the terminal any more
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("stdin", ["closed", "devnull"])
def test_stdin_lines_of_a_process_without_stdin(stdin: str) -> None:
    code = (
        "import asyncio\n"
        "from hyperpunch.cli.options import StdinLines\n"
        "async def main():\n"
        "    async with StdinLines() as lines:\n"
        "        print(await lines.get(), flush=True)\n"
        "asyncio.run(main())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        preexec_fn=(lambda: os.close(0)) if stdin == "closed" else None,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "None\n"

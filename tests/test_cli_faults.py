"""The CLI fault matrix: every command × bad input ends with one line on stderr, the documented exit
code (2: bad usage or input, 1: the environment refused: storage, network), and no traceback.

Each case runs the real ``python -m hyperpunch`` entry point (a few at a time) with stdin closed
and an unreachable bootstrap, so nothing waits on a network.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

KEY = "ab" * 32
NETWORK = ["--bootstrap", "127.0.0.1:9"]
BAD_BOOTSTRAPS = ["nohostport", "127.0.0.1:0", "127.0.0.1:99999", ":1234", "127.0.0.1:x"]
NETWORK_COMMANDS = [
    ["dht", "serve"],
    ["dht", "connect", KEY],
    ["swarm"],
    ["core", "write"],
    ["core", "read", KEY],
    ["store", "write"],
    ["store", "read", KEY],
    ["testnet"],
    ["bee", "write"],
    ["bee", "read", KEY],
    ["relay"],
    ["fsck", "."],
]


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]
    code: int
    says: str  # a fragment the one error line must contain

    def __str__(self) -> str:
        return " ".join(self.argv)


def _cases(tmp: Path) -> list[Case]:
    a_file = tmp / "a-file"
    a_file.write_text("not a directory\n")
    no_parent = "/proc/nope/storage"
    cases = [
        # usage
        Case(("nope",), 2, "invalid choice"),
        Case(("dht", "connect"), 2, "required"),
        Case(("core", "read"), 2, "required"),
        Case(("testnet", "--nodes", "many"), 2, "invalid int value"),
        Case(("testnet", "--port", "http"), 2, "invalid int value"),
        # keys, seeds, topics
        Case(("discovery-key", "zz"), 2, "key must be 64 hex characters"),
        Case(("discovery-key", "g" * 64), 2, "not valid hex"),
        Case(("keygen", "--seed", "1234"), 2, "seed must be 64 hex characters"),
        Case(("dht", "serve", "--seed", "x" * 64, *NETWORK), 2, "seed is not valid hex"),
        Case(("dht", "connect", "abc", *NETWORK), 2, "key must be 64 hex characters"),
        Case(("dht", "connect", KEY, "--seed", "12", *NETWORK), 2, "seed must be 64 hex characters"),
        Case(("swarm", "not-a-topic", *NETWORK), 2, "topic must be 64 hex characters"),
        Case(("swarm", "--seed", "q" * 64, *NETWORK), 2, "seed is not valid hex"),
        Case(("core", "read", "12", *NETWORK), 2, "key must be 64 hex characters"),
        Case(("store", "read", "k" * 64, *NETWORK), 2, "not valid hex"),
        Case(("bee", "read", "00" * 31, *NETWORK), 2, "bee key must be 64 hex characters"),
        Case(("relay", "--port", "70000", *NETWORK), 2, "--port"),
        Case(("relay", "--tls-cert", "x.pem", *NETWORK), 2, "--tls-cert and --tls-key"),
        # numbers out of range
        Case(("testnet", "--nodes", "0"), 2, "--nodes"),
        Case(("testnet", "--port", "70000"), 2, "--port"),
        Case(("testnet", "--port", "-1"), 2, "--port"),
        Case(("core", "read", KEY, "--start", "-5", *NETWORK), 2, "--start"),
        Case(("dht", "connect", KEY, "--timeout", "-1", *NETWORK), 2, "--timeout"),
        Case(("demo", "--size", "-1"), 2, "--size"),
        # storage paths
        Case(("core", "write", "--storage", no_parent, *NETWORK), 1, "storage"),
        Case(("core", "write", "--storage", str(a_file), *NETWORK), 1, "not a directory"),
        Case(("core", "read", KEY, "--storage", no_parent, *NETWORK), 1, "storage"),
        Case(("core", "read", KEY, "--storage", str(a_file), *NETWORK), 1, "not a directory"),
        Case(("store", "write", "--storage", no_parent, *NETWORK), 1, "storage"),
        Case(("store", "write", "--storage", str(a_file), *NETWORK), 1, "not a directory"),
        Case(("store", "read", KEY, "--storage", no_parent, *NETWORK), 1, "storage"),
        Case(("store", "read", KEY, "--storage", str(a_file), *NETWORK), 1, "not a directory"),
        Case(("bee", "write", "--storage", no_parent, *NETWORK), 1, "storage"),
        Case(("bee", "read", KEY, "--storage", str(a_file), *NETWORK), 1, "not a directory"),
        # fsck never creates storage
        Case(("fsck",), 2, "required"),
        Case(("fsck", no_parent), 2, "is not a directory"),
        Case(("fsck", str(a_file)), 2, "is not a directory"),
        Case(("fsck", str(tmp)), 2, "holds no hyperpunch storage"),
        Case(("fsck", str(tmp), "--timeout", "0"), 2, "--timeout"),
    ]
    # every malformed form on one command, and one form (in turn) on every network command
    for bad in BAD_BOOTSTRAPS:
        cases.append(Case(("dht", "serve", "--bootstrap", bad), 2, "bad bootstrap node"))
    for i, command in enumerate(NETWORK_COMMANDS):
        bad = BAD_BOOTSTRAPS[i % len(BAD_BOOTSTRAPS)]
        cases.append(Case((*command, "--bootstrap", bad), 2, "bad bootstrap node"))
    return cases


async def _run(case: Case, cwd: Path, limit: asyncio.Semaphore) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HYPERPUNCH_BOOTSTRAP", None)
    async with limit:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hyperpunch",
            *case.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 60)
        except TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
            return -1, out.decode(errors="replace"), err.decode(errors="replace") + "\n(timed out)"
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def test_every_command_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    limit = asyncio.Semaphore(4)
    results = await asyncio.gather(*(_run(case, tmp_path, limit) for case in cases))
    failures: list[str] = []
    for case, (code, out, err) in zip(cases, results, strict=True):
        lines = [line for line in err.splitlines() if line.strip()]
        problems = []
        if code != case.code:
            problems.append(f"exit {code}, expected {case.code}")
        if "Traceback" in out or "Traceback" in err:
            problems.append("a traceback")
        if len(lines) != 1 or not lines[0].startswith("hyperpunch"):
            problems.append(f"{len(lines)} stderr lines")
        elif case.says not in lines[0]:
            problems.append(f"no {case.says!r} in the message")
        if problems:
            failures.append(f"hyperpunch {case}: {', '.join(problems)}\n    stderr: {err.strip()[:600]!r}")
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)


@pytest.mark.parametrize("command", [["core", "write"], ["store", "write"]])
async def test_storage_that_is_a_file_is_left_untouched(tmp_path: Path, command: list[str]) -> None:
    a_file = tmp_path / "data"
    a_file.write_bytes(b"precious")
    code, _out, err = await _run(
        Case((*command, "--storage", str(a_file), *NETWORK), 1, ""), tmp_path, asyncio.Semaphore(1)
    )
    assert code == 1, err
    assert a_file.read_bytes() == b"precious"


# --- signals and stdin ---------------------------------------------------------------------------


async def _start(argv: list[str], cwd: Path, **kwargs: object) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HYPERPUNCH_BOOTSTRAP", None)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hyperpunch",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=env,
        **kwargs,  # type: ignore[arg-type]
    )


async def _read_core(storage: Path) -> list[bytes]:
    from hyperpunch.hypercore import Hypercore

    async with Hypercore(storage) as core:
        assert core.core.check_stored() == []
        return [await core.get(i, wait=False) for i in range(core.length)]


async def test_sigterm_mid_write_keeps_every_acknowledged_line(tmp_path: Path) -> None:
    """``core write`` killed with SIGTERM while lines still pour in: exit 0, no traceback, and the
    core holds a prefix of the lines, in order, every block verified."""
    storage = tmp_path / "w"
    proc = await _start(
        ["core", "write", "--storage", str(storage), *NETWORK], tmp_path, stdin=asyncio.subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    key_line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert key_line.startswith(b"hypercore key: ")
    lines = [b"line-%d" % i for i in range(20000)]
    proc.stdin.write(b"".join(x + b"\n" for x in lines[:5000]))
    await proc.stdin.drain()
    written = 5000
    # keep writing while the signal lands
    proc.send_signal(signal.SIGTERM)
    try:
        while written < len(lines):
            proc.stdin.write(b"".join(x + b"\n" for x in lines[written : written + 500]))
            await proc.stdin.drain()
            written += 500
    except (BrokenPipeError, ConnectionResetError):
        pass
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err and b"Traceback" not in out, err
    stored = await _read_core(storage)
    assert stored == lines[: len(stored)]


async def test_closed_stdin_writer_keeps_serving_until_sigterm(tmp_path: Path) -> None:
    """stdin closed (fd 0 not open at all): the writer prints its key, keeps serving, stops on
    SIGTERM with exit 0; ``store write`` alike."""

    async def one(argv: list[str]) -> None:
        storage = tmp_path / argv[0]
        proc = await _start(
            [*argv, "--storage", str(storage), *NETWORK],
            tmp_path,
            stdin=asyncio.subprocess.DEVNULL,
            preexec_fn=lambda: os.close(0),
        )
        assert proc.stdout is not None and proc.stderr is not None
        first_line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert first_line.strip(), argv
        # the network status comes ~10 s later: by then stdin's end was long seen, and it still runs
        status = await asyncio.wait_for(proc.stderr.readline(), 60)
        assert b"no DHT bootstrap node answered yet" in status, (argv, status)
        assert proc.returncode is None, argv
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, (argv, err)
        assert b"Traceback" not in err, err

    await asyncio.gather(one(["core", "write"]), one(["store", "write"]))

"""Line-oriented subprocesses for the CLI and NAT-lab tests: read lines with a deadline, write
lines, close stdin, stop with a signal. Whatever a process printed is kept for failure messages.

Invariant: every wait is bounded (a hung peer fails the test with its output, never hangs it), and
:meth:`LineProc.kill` always reaps the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "interop" / "scripts"


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:  # interop tests fail, never skip, without node
        raise RuntimeError("node is not on PATH: these tests need the JS reference (run `make deps`)")
    if not (ROOT / "interop" / "node_modules").is_dir():
        raise RuntimeError("interop/node_modules is missing: run `make deps`")
    return node


def hyperpunch_cli() -> list[str]:
    """argv prefix of the ``hyperpunch`` command line (``python -m hyperpunch``)."""
    return [sys.executable, "-m", "hyperpunch"]


def js_script(name: str) -> list[str]:
    return [node_binary(), str(SCRIPTS / name)]


class LineProc:
    """A running process whose stdout is read line by line (text)."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name
        self.lines: list[str] = []
        self._stderr = bytearray()
        self._stderr_task = asyncio.ensure_future(self._drain_stderr()) if proc.stderr is not None else None

    @classmethod
    async def start(cls, argv: Sequence[str], name: str | None = None, **kwargs: Any) -> LineProc:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=kwargs.pop("cwd", ROOT / "interop"),
            **kwargs,
        )
        return cls(proc, name or Path(argv[1] if len(argv) > 1 else argv[0]).name)

    async def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(65536):
            self._stderr += chunk

    @property
    def stderr(self) -> str:
        return self._stderr.decode(errors="replace")

    def describe(self) -> str:
        return f"{self.name} (rc={self.proc.returncode})\nstdout: {self.lines}\nstderr: {self.stderr}"

    async def readline(self, timeout: float = 30) -> str:
        assert self.proc.stdout is not None
        try:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except TimeoutError:
            raise AssertionError(f"no line within {timeout}s from {self.describe()}") from None
        if not raw:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 2)
            if self._stderr_task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._stderr_task), 2)
            raise AssertionError(f"output ended: {self.describe()}")
        line = raw.decode(errors="replace").rstrip("\r\n")
        self.lines.append(line)
        return line

    async def expect(self, prefix: str, timeout: float = 30) -> str:
        """Read lines until one starts with ``prefix``; return the rest of that line."""
        while True:
            line = await self.readline(timeout)
            if line.startswith(prefix):
                return line[len(prefix) :]

    async def json(self, event: str | None = None, timeout: float = 30) -> dict[str, Any]:
        """Next JSON line (skipping to ``event`` when given); an ``error`` event fails the test."""
        while True:
            line = await self.readline(timeout)
            try:
                msg: dict[str, Any] = json.loads(line)
            except ValueError:
                continue
            if msg.get("event") == "error":
                raise AssertionError(f"{self.name} reported {msg}\n{self.describe()}")
            if event is None or msg.get("event") == event:
                return msg

    async def send(self, obj: Any) -> None:
        await self.write_line(json.dumps(obj))

    async def write_line(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    async def wait(self, timeout: float = 30) -> int:
        try:
            rc = await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"did not exit within {timeout}s: {self.describe()}") from None
        if self._stderr_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._stderr_task), 5)
        return rc

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
        return await self.wait(timeout)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        with contextlib.suppress(TimeoutError, ProcessLookupError):
            await asyncio.wait_for(self.proc.wait(), 10)
        if self._stderr_task is not None:
            self._stderr_task.cancel()
            with contextlib.suppress(BaseException):
                await self._stderr_task

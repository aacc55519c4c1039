"""Spawn scripts of the pinned JS reference (interop/) and talk to them in JSON lines.

Interop tests must *fail*, never skip, when node or the installed reference is missing: CI has
both, so a missing prerequisite is a broken setup, not a reason to pass quietly.

Protocol: a script writes one JSON object per line on stdout (``{"event": ..., ...}``) and reads
one JSON object per line on stdin. Anything on stderr is kept and shown when the test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INTEROP = ROOT / "interop"
SCRIPTS = INTEROP / "scripts"


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH: interop tests need the JS reference (run `make deps`)")
    if not (INTEROP / "node_modules").is_dir():
        raise RuntimeError("interop/node_modules is missing: run `make deps` (npm ci in interop/)")
    return node


def run_node_json(script: str, *args: str, input_obj: Any = None, timeout: float = 120) -> Any:
    """Run a script to completion and parse its whole stdout as one JSON document."""
    proc = subprocess.run(
        [node_binary(), str(SCRIPTS / script), *args],
        input=None if input_obj is None else json.dumps(input_obj),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=INTEROP,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{script} exited {proc.returncode}:\n{proc.stderr}")
    return json.loads(proc.stdout)


class NodeProcess:
    """A running JS script speaking JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process, script: str) -> None:
        self._proc = proc
        self.script = script
        self._stderr = bytearray()
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        while chunk := await self._proc.stderr.read(65536):
            self._stderr += chunk

    @property
    def stderr(self) -> str:
        return self._stderr.decode(errors="replace")

    async def recv(self, timeout: float = 60) -> dict[str, Any]:
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.script}: no message within {timeout}s\n{self.stderr}") from None
        if not line:
            await asyncio.sleep(0.05)
            raise AssertionError(f"{self.script}: exited ({self._proc.returncode})\n{self.stderr}")
        msg: dict[str, Any] = json.loads(line)
        if msg.get("event") == "error":
            raise AssertionError(f"{self.script} reported an error: {msg}\n{self.stderr}")
        return msg

    async def expect(self, event: str, timeout: float = 60) -> dict[str, Any]:
        msg = await self.recv(timeout)
        if msg.get("event") != event:
            raise AssertionError(f"{self.script}: expected {event!r}, got {msg}\n{self.stderr}")
        return msg

    async def send(self, obj: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(obj).encode() + b"\n")
        await self._proc.stdin.drain()

    async def wait(self, timeout: float = 60) -> int:
        try:
            return await asyncio.wait_for(self._proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.script}: still running after {timeout}s\n{self.stderr}") from None

    async def aclose(self) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            await self._proc.wait()
        self._stderr_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._stderr_task


@contextlib.asynccontextmanager
async def spawn_node(script: str, *args: str) -> AsyncIterator[NodeProcess]:
    """Start ``interop/scripts/<script>`` and yield it; it is killed on exit."""
    proc = await asyncio.create_subprocess_exec(
        node_binary(),
        str(SCRIPTS / script),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=INTEROP,
        limit=1 << 24,
    )
    node = NodeProcess(proc, script)
    try:
        yield node
    finally:
        await node.aclose()

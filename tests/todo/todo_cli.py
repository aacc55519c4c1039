"""Driving ``hyperpunch todo`` as subprocesses: a running ``serve --local`` and one-shot commands."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

WAIT = 90.0


@dataclass
class Served:
    proc: asyncio.subprocess.Process
    bootstrap: str
    key: str
    url: str  # http://127.0.0.1:<port>/

    @property
    def relay(self) -> str:
        return self.url.replace("http://", "ws://") + "relay"

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as reply:
            body: bytes = reply.read()
            return body


async def hyperpunch(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hyperpunch",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def run(*args: str) -> tuple[int, str, str]:
    """Run ``hyperpunch *args`` to the end: ``(exit status, stdout, stderr)``."""
    proc = await hyperpunch(*args)
    out, err = await asyncio.wait_for(proc.communicate(), WAIT)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    got = await asyncio.wait_for(proc.stdout.readline(), WAIT)
    if not got:
        err = await proc.stderr.read() if proc.stderr is not None else b""
        raise AssertionError(f"the process ended: {err.decode()}")
    return got.decode().rstrip("\n")


async def stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def served(storage: Path, web: Path) -> AsyncIterator[Served]:
    """``hyperpunch todo serve --local --port 0`` with its three lines read; SIGTERM at the end (exit 0)."""
    proc = await hyperpunch(
        "todo", "serve", "--local", "--port", "0", "--storage", str(storage), "--web", str(web)
    )
    try:
        boot = await line(proc)
        listed = await line(proc)
        opened = await line(proc)
        assert boot.startswith("bootstrap: 127.0.0.1:"), boot
        assert listed.startswith("todo list: "), listed
        key = listed.removeprefix("todo list: ")
        assert len(key) == 64 and bytes.fromhex(key)
        assert opened.startswith("open http://127.0.0.1:") and opened.endswith("/#" + key), opened
        url = opened.removeprefix("open ").removesuffix("#" + key)
        yield Served(proc, boot.removeprefix("bootstrap: "), key, url)
        assert await stop(proc) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def web_dir(tmp: Path) -> Path:
    """A stand-in for the built web app (the page itself is tested by the web/ui tests)."""
    web = tmp / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>todo</title>\n")
    (web / "todo.js").write_text("// the bundle\n")
    return web

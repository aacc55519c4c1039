"""The headless Node todo peer (``interop/browser/todo/node-peer.js``: the page's client code,
autobase from interop/node_modules) as a JSON-lines subprocess, for the synchronous browser tests.

Its ``{"raw": <hex>}`` command appends raw bytes as one autobase node (``base.append``), bypassing
every client-side check: a hostile writer. Everything waits on its output lines, never on sleeps."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from jsref import INTEROP, node_binary

NODE_PEER = INTEROP / "browser" / "todo" / "node-peer.js"
T = TypeVar("T")


class NodePeer:
    def __init__(self, proc: subprocess.Popen[str], name: str) -> None:
        self.proc = proc
        self.name = name
        self.lines: list[dict[str, Any]] = []
        self.todos: list[dict[str, Any]] = []
        self.status: dict[str, Any] = {}
        self.stderr: list[str] = []
        self._cond = threading.Condition()
        self._ended = False
        self._threads = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._drain, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, ""):
            msg: dict[str, Any] = json.loads(line)
            with self._cond:
                self.lines.append(msg)
                if "todos" in msg:
                    self.todos = msg["todos"]
                if "status" in msg:
                    self.status = msg["status"]
                self._cond.notify_all()
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in iter(self.proc.stderr.readline, ""):
            self.stderr.append(line)
            del self.stderr[:-200]

    def describe(self) -> str:
        tail = "\n".join(json.dumps(m)[:300] for m in self.lines[-12:])
        return f"{self.name}: last lines:\n{tail}\nstderr:\n{''.join(self.stderr[-40:])}"

    def wait_for(self, pred: Callable[[], T | None], what: str, timeout: float = 90) -> T:
        """Wait until ``pred()`` is truthy (re-checked after each output line); return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = pred()
                if got:
                    return got
                if self._ended or any(m.get("error") == "FATAL" for m in self.lines):
                    raise AssertionError(f"{self.name} ended while waiting for {what}\n{self.describe()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name}: no {what} within {timeout}s\n{self.describe()}")
                self._cond.wait(left)

    def send(self, cmd: dict[str, Any], timeout: float = 90) -> dict[str, Any]:
        """Send one command; wait for its ``ok``/``error`` answer."""
        assert self.proc.stdin is not None
        name = next(iter(cmd))
        with self._cond:
            start = len(self.lines)
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

        def answer() -> dict[str, Any] | None:
            return next(
                (m for m in self.lines[start:] if m.get("ok") == name or m.get("command") == name), None
            )

        return self.wait_for(answer, f"the answer to {name}", timeout)

    def texts(self) -> list[tuple[str, bool]]:
        with self._cond:
            return [(t["text"], t["done"]) for t in self.todos]


@contextmanager
def node_peer(name: str, **opts: Any) -> Iterator[NodePeer]:
    proc = subprocess.Popen(
        [node_binary(), str(NODE_PEER), json.dumps(opts)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=NODE_PEER.parent,
    )
    peer = NodePeer(proc, name)
    try:
        yield peer
    finally:
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.write('{"exit": true}\n')
                proc.stdin.flush()
                proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        for t in peer._threads:
            t.join(10)

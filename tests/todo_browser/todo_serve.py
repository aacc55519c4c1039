"""``hyperpunch todo serve --local`` as a subprocess for the end-to-end tests: start it, parse
the lines it prints (``bootstrap:``, ``todo list:``, ``open``), stop it; run the ``todo`` CLI
peer commands against it."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jsref import INTEROP

HP = [sys.executable, "-m", "hyperpunch"]
START_WAIT = 120.0  # seconds for serve to print its link on a loaded machine


def build_bundle(out: Path) -> Path:
    """Build the real page (build.sh: app.js + client.js) into ``out``, as `make deps` does into
    browser/dist/todo, so the test serves the current sources without touching the tree."""
    script = INTEROP / "browser" / "todo" / "build.sh"
    if not script.exists():
        raise RuntimeError("interop/browser/todo/build.sh missing")
    subprocess.run(["sh", "browser/todo/build.sh", str(out)], check=True, cwd=INTEROP, timeout=300)
    for name in ("index.html", "todo.js", "style.css"):
        if not (out / name).is_file():
            raise RuntimeError(f"build.sh did not produce {out / name}")
    return out


@dataclass
class Served:
    proc: subprocess.Popen[str]
    bootstrap: str
    key: str
    url: str
    stderr: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.url.split("#")[0].rstrip("/").rsplit(":", 1)[1])

    def describe(self) -> str:
        return "serve stderr:\n" + "".join(self.stderr[-40:])


def _pump(stream: object, sink: queue.Queue[str | None] | list[str]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        if isinstance(sink, list):
            sink.append(line)
        else:
            sink.put(line)
    if not isinstance(sink, list):
        sink.put(None)


@contextmanager
def todo_serve(storage: Path, web: Path, port: int = 0) -> Iterator[Served]:
    """``todo serve --local`` on ``port`` (0: any free one) until the block ends (SIGINT)."""
    args = [
        "--local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage",
        str(storage),
        "--web",
        str(web),
    ]
    proc = subprocess.Popen(
        [*HP, "todo", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    out: queue.Queue[str | None] = queue.Queue()
    err: list[str] = []
    threads = [
        threading.Thread(target=_pump, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, err), daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        seen: dict[str, str] = {}
        while "open" not in seen:
            try:
                line = out.get(timeout=START_WAIT)
            except queue.Empty:
                raise AssertionError(f"serve printed no link; {''.join(err)}") from None
            if line is None:
                raise AssertionError(f"serve exited ({proc.wait()}); {''.join(err)}")
            head, _, rest = line.strip().partition(" ")
            if head == "bootstrap:":
                seen["bootstrap"] = rest
            elif head == "todo" and rest.startswith("list: "):
                seen["key"] = rest.removeprefix("list: ")
            elif head == "open":
                seen["open"] = rest
        assert list(seen) == ["bootstrap", "key", "open"], seen  # the contract's order
        url = seen["open"]
        assert url.endswith("#" + seen["key"]), seen
        yield Served(proc, seen["bootstrap"], seen["key"], url, err)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for t in threads:
            t.join(10)


@dataclass
class ServedList:
    """A running ``todo serve`` a test can stop and start again on the same storage, and the
    storage of a CLI peer of its list (the page tests' apps extend it with their pages)."""

    served: Served
    storage: Path
    web: Path
    cli_storage: Path
    stack: ExitStack

    def stop(self) -> None:
        self.stack.close()

    def start(self, port: int) -> None:
        """Start serve again on the same storage (and ``port``: the pages' relay URL)."""
        self.stack = ExitStack()
        self.served = self.stack.enter_context(todo_serve(self.storage, self.web, port))

    def cli(self, *args: str) -> str:
        return todo_cli(self.served, self.cli_storage, *args)


def todo_cli(served: Served, storage: Path, *args: str) -> str:
    """Run ``hyperpunch todo <args>`` as a native-DHT peer of the served list (its writer key kept
    in ``storage``); return stdout."""
    extra = ["--bootstrap", served.bootstrap, "--host", "127.0.0.1", "--storage", str(storage)]
    proc = subprocess.run(
        [*HP, "todo", *args, *extra], capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, f"todo {args}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def parse_ls(out: str) -> list[tuple[str, bool]]:
    """``todo ls`` lines ``<id> [ ]|[x] <text>`` (then ``(<n> todos)``) as (text, done), in order."""
    result: list[tuple[str, bool]] = []
    lines = out.splitlines()
    assert lines and lines[-1].startswith("(") and lines[-1].endswith(" todos)"), out
    for line in lines[:-1]:
        todo_id, mark, text = line[:24], line[25:28], line[29:]
        assert len(todo_id) == 24 and mark in ("[ ]", "[x]"), line
        result.append((text, mark == "[x]"))
    assert lines[-1] == f"({len(result)} todos)", out
    return result

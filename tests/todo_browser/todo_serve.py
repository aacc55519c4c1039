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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jsref import INTEROP

HP = [sys.executable, "-m", "hyperpunch"]
START_WAIT = 120.0  # seconds for serve to print its link on a loaded machine


def build_bundle() -> Path:
    """Build the real page (build.sh: app.js + client.js → browser/dist/todo/) like `make deps`."""
    script = INTEROP / "browser" / "todo" / "build.sh"
    if not script.exists():
        raise RuntimeError("interop/browser/todo/build.sh missing (the web client is not merged)")
    subprocess.run(["sh", str(script)], check=True, cwd=INTEROP, timeout=300)
    dist = INTEROP / "browser" / "dist" / "todo"
    for name in ("index.html", "todo.js", "style.css"):
        if not (dist / name).is_file():
            raise RuntimeError(f"build.sh did not produce {dist / name}")
    return dist


@dataclass
class Served:
    proc: subprocess.Popen[str]
    bootstrap: str
    key: str
    url: str
    stderr: list[str] = field(default_factory=list)

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
def todo_serve(storage: Path) -> Iterator[Served]:
    proc = subprocess.Popen(
        [*HP, "todo", "serve", "--local", "--host", "127.0.0.1", "--port", "0", "--storage", str(storage)],
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


def todo_cli(served: Served, *args: str, storage: Path | None = None) -> str:
    """Run ``hyperpunch todo <args>`` as a native-DHT peer of the served list; return stdout."""
    extra = ["--bootstrap", served.bootstrap]
    if storage is not None:
        extra += ["--storage", str(storage)]
    proc = subprocess.run(
        [*HP, "todo", *args, *extra], capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, f"todo {args}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout

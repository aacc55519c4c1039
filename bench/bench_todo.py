"""The todo app (issue 17) in headless Chromium: `hyperpunch todo serve --local` against its JS twin.

The Python side starts ``hyperpunch todo serve --local`` (embedded testnet, the page and the
dht-relay WebSocket on one port, the always-on Python indexer peer) and hands its link and pid to
``interop/bench/todo.js``; the JS side runs ``todo.js`` alone, which starts
``interop/bench/todo-serve.js`` (``@hyperswarm/testnet``, the ``@hyperswarm/dht-relay`` relay and
an always-on peer running the page's own client code in Node on a native HyperDHT). The pages are
the built page (``interop/browser/dist/todo``, ``make todo-bundle``) in Debian's Chromium, driven by
the same script over the DevTools protocol on both sides; all timing is taken inside the pages.

The pages use the relay in non-custodial mode on both sides (the page runs its own Noise). The JS
twin's always-on peer runs on a node created with ``firewalled: false`` (true on loopback): with the
default, its server's holepuncher aborted each relayed non-custodial connect before the page's first
packet arrived and the pages never became writers (todo-serve.js says more).

* ``todo_add_to_visible``: two pages on the list, both writers; median ms of 20 adds (3 warm-up)
  from ``requestSubmit()`` in page A (``performance.now()``) to the row in page B's DOM (a
  MutationObserver in page B; both clocks as ``timeOrigin + now``); the row also has the p90;
* ``todo_relay_memory_20_pages``: MiB the serving process's resident memory (VmRSS) grows by from
  before the first page to 20 pages open, all writers, online and connected to the always-on peer.

One run per side by default (each figure is already a median of 20 rounds, or one memory reading;
``make bench ONLY=todo REPEAT=3`` takes the median of 3); the pair takes about 30 s.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench import Figure, Workload

INTEROP = Path(__file__).resolve().parent.parent / "interop"
WEB = INTEROP / "browser" / "dist" / "todo"
START_WAIT = 120.0  # seconds for serve to print its link on a loaded machine


def _web() -> Path:
    if not (WEB / "todo.js").is_file():
        raise RuntimeError(f"{WEB} has no built page: run `make todo-bundle`")
    return WEB


def _through_python_serve(mode: str) -> Figure:
    with tempfile.TemporaryDirectory(prefix="todo-bench-") as tmp:
        err_path = Path(tmp) / "serve.err"
        with err_path.open("w") as err:
            serve = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hyperpunch",
                    "todo",
                    "serve",
                    "--local",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--storage",
                    str(Path(tmp) / "list"),
                    "--web",
                    str(_web()),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
            watchdog = threading.Timer(START_WAIT, serve.kill)  # a serve that never prints its link
            watchdog.start()
            try:
                url = ""
                assert serve.stdout is not None
                for line in serve.stdout:
                    if line.startswith("open "):
                        url = line.split(" ", 1)[1].strip()
                        break
                watchdog.cancel()
                if not url:
                    raise RuntimeError(f"todo serve printed no link:\n{err_path.read_text()}")
                opts = json.dumps({"url": url, "pid": serve.pid})
                proc = subprocess.run(
                    ["node", str(INTEROP / "bench" / "todo.js"), mode, opts],
                    capture_output=True,
                    text=True,
                    cwd=INTEROP,
                    timeout=600,
                    check=False,
                )
                if proc.returncode != 0:
                    raise RuntimeError(
                        f"todo.js {mode} failed:\n{proc.stderr}\nserve stderr:\n{err_path.read_text()}"
                    )
            finally:
                watchdog.cancel()
                if serve.poll() is None:
                    serve.send_signal(signal.SIGINT)
                    try:
                        serve.wait(60)
                    except subprocess.TimeoutExpired:
                        serve.kill()
                        serve.wait()
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    extra = {k: float(v) for k, v in out.items() if k != "value" and isinstance(v, int | float)}
    return Figure(float(out["value"]), **extra)


def add_to_visible_ms() -> Figure:
    return _through_python_serve("latency")


def relay_memory_20_pages_mib() -> Figure:
    return _through_python_serve("memory")


JS_ARGS = {"web": str(WEB)}

WORKLOADS = [
    Workload(
        "todo_add_to_visible",
        "ms",
        False,
        add_to_visible_ms,
        "todo.js",
        ["latency", json.dumps(JS_ARGS)],
        runs=1,
    ),
    Workload(
        "todo_relay_memory_20_pages",
        "MiB",
        False,
        relay_memory_20_pages_mib,
        "todo.js",
        ["memory", json.dumps(JS_ARGS)],
        runs=1,
    ),
]

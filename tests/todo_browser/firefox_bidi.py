"""A small WebDriver BiDi client for Debian's headless ``firefox-esr`` (no geckodriver: Firefox
≥ 129 speaks BiDi itself). It owns the browser process (own process group, temporary profile,
killed on close) and does what the todo tests need: open a window, navigate, evaluate JS to a JSON
value, wait until a JS condition holds (polling with a deadline, never a fixed sleep), save a PNG.

A missing ``firefox-esr`` is an error: the tests fail, never skip."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

START_WAIT = 60.0  # seconds for Firefox to listen, on a loaded machine
COMMAND_WAIT = 60.0  # seconds for one BiDi command's answer
POLL = 0.05  # seconds between two looks at a wait_until condition

# Quiet, deterministic start: no first-run pages, updates, telemetry or background fetches, and no
# throttling of timers in a window that is not in front (two pages run side by side).
PREFS = {
    "app.update.disabledForTesting": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "toolkit.startup.max_resumed_crashes": -1,
    "app.normandy.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "dom.timeout.enable_budget_timer_throttling": False,
    "dom.min_background_timeout_value": 4,
    "remote.active-protocols": 1,  # WebDriver BiDi only
}
ENTER, CONTROL = "\ue007", "\ue009"  # WebDriver key codes (type_text and press take them)
LISTENING = re.compile(r"WebDriver BiDi listening on (ws://\S+)")


class BiDiError(RuntimeError):
    pass


def firefox_path() -> str:
    path = shutil.which("firefox-esr") or shutil.which("firefox")
    if path is None:
        raise RuntimeError("firefox-esr missing: run `make system-deps`")
    return path


class Firefox:
    """One headless Firefox and its BiDi session."""

    def __init__(self, proc: subprocess.Popen[bytes], profile: Path) -> None:
        self.proc = proc
        self.profile = profile
        self._conn = ExitStack()
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []  # those subscribed to (subscribe), in arrival order

    @classmethod
    def launch(cls) -> Firefox:
        binary = firefox_path()
        profile = Path(tempfile.mkdtemp(prefix="hp-firefox-"))
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items())
        )
        log = profile / "firefox.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [binary, "--headless", "--no-remote", "--remote-debugging-port=0", "--profile", str(profile)],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: close() ends it and its children
                env={**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1"},
            )
        try:
            url = _wait_listening(proc, log)
            browser = cls(proc, profile)
            browser._ws = browser._conn.enter_context(
                connect(url + "/session", max_size=None, open_timeout=START_WAIT)
            )
            browser.command("session.new", {"capabilities": {}})
        except BaseException:
            _kill(proc)
            shutil.rmtree(profile, ignore_errors=True)
            raise
        return browser

    def command(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one command; return its result (events arriving meanwhile go to ``events``)."""
        if self._ws is None:
            raise BiDiError("not connected")
        cid = next(self._ids)
        self._ws.send(json.dumps({"id": cid, "method": method, "params": params}))
        deadline = time.monotonic() + COMMAND_WAIT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {method} in {COMMAND_WAIT} s")
            msg = json.loads(self._ws.recv(timeout=left))
            if msg.get("type") == "event":
                self.events.append(msg)
                continue
            if msg.get("id") != cid:
                continue
            if msg.get("type") == "error":
                raise BiDiError(f"{method}: {msg.get('error')}: {msg.get('message')}")
            result: dict[str, Any] = msg["result"]
            return result

    def subscribe(self, *events: str) -> None:
        self.command("session.subscribe", {"events": list(events)})

    def console(self, kind: str | None = None) -> list[str]:
        """The log.entryAdded events seen so far (subscribe first) as ``kind level: text``; kind
        ``console`` (console.*) or ``javascript`` (uncaught errors); None: both."""
        return [
            f"{p.get('type')} {p.get('level')}: {p.get('text')}"
            for p in (e["params"] for e in self.events if e.get("method") == "log.entryAdded")
            if kind is None or p.get("type") == kind
        ]

    def new_page(self, width: int = 700, height: int = 760) -> Page:
        """A new top-level window (each in front, so neither page's timers are throttled)."""
        ctx: str = self.command("browsingContext.create", {"type": "window"})["context"]
        page = Page(self, ctx)
        self.command(
            "browsingContext.setViewport", {"context": ctx, "viewport": {"width": width, "height": height}}
        )
        return page

    def log(self) -> str:
        return (self.profile / "firefox.log").read_text(errors="replace")

    def close(self) -> None:
        with suppress(Exception):  # it may be gone already; the kill below is what counts
            self.command("browser.close", {})
        try:
            self._conn.close()
        finally:
            _kill(self.proc)
            shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One browsing context (a window)."""

    def __init__(self, browser: Firefox, context: str) -> None:
        self.browser = browser
        self.context = context

    def navigate(self, url: str) -> None:
        self.browser.command(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JS expression (a promise is awaited; undefined is None)."""
        source = f"(async () => JSON.stringify(await ({expression})))()"
        result = self.browser.command(
            "script.evaluate",
            {
                "expression": source,
                "target": {"context": self.context},
                "awaitPromise": True,
                "userActivation": True,
            },
        )
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise BiDiError(f"JS exception in {expression!r}: {details.get('text')}")
        value = result["result"]
        if value["type"] != "string":
            return None
        return json.loads(value["value"])

    def click(self, element: str, count: int = 1) -> None:
        """A real mouse click (input.performActions; ``count=2``: a double click) at the middle of
        ``element``, a JS expression for an Element (e.g. ``document.getElementById('add')``)."""
        node = self._node(element)
        pointer: list[dict[str, Any]] = [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": {"type": "element", "element": node}}
        ]
        for _ in range(count):
            pointer += [{"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]
        self._perform(
            {"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": pointer}
        )

    def type_text(self, text: str) -> None:
        """Real key presses into whatever has the focus."""
        keys: list[dict[str, str]] = []
        for ch in text:
            keys += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self._perform({"type": "key", "id": "keyboard", "actions": keys})

    def press(self, *keys: str) -> None:
        """A chord: press ``keys`` in order, release them in reverse (e.g. CONTROL, "a")."""
        down = [{"type": "keyDown", "value": k} for k in keys]
        up = [{"type": "keyUp", "value": k} for k in reversed(keys)]
        self._perform({"type": "key", "id": "keyboard", "actions": down + up})

    def _node(self, element: str) -> dict[str, str]:
        result = self.browser.command(
            "script.evaluate",
            {
                "expression": f"(() => {{ const e = ({element}); e?.scrollIntoView({{ block: 'center' }}); return e }})()",
                "target": {"context": self.context},
                "awaitPromise": False,
            },
        )
        value = result.get("result", {})
        if result["type"] == "exception" or value.get("type") != "node":
            raise AssertionError(f"no element {element!r} in the page ({result})")
        return {"sharedId": value["sharedId"]}

    def _perform(self, source: dict[str, Any]) -> None:
        self.browser.command("input.performActions", {"context": self.context, "actions": [source]})
        self.browser.command("input.releaseActions", {"context": self.context})

    def wait_until(self, condition: str, what: str, timeout: float = 60.0) -> Any:
        """Poll the JS expression ``condition`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            last = self.evaluate(condition)
            if last:
                return last
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
            time.sleep(POLL)

    def screenshot(self, path: Path) -> None:
        shot = self.browser.command("browsingContext.captureScreenshot", {"context": self.context})
        data: str = shot["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))


@contextmanager
def firefox() -> Iterator[Firefox]:
    browser = Firefox.launch()
    try:
        yield browser
    finally:
        browser.close()


def _wait_listening(proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if proc.poll() is not None:
            raise RuntimeError(f"firefox exited ({proc.returncode}):\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    raise RuntimeError(f"firefox did not listen in {START_WAIT} s:\n{log.read_text(errors='replace')}")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End the browser's process group (ours: start_new_session), then reap the parent."""
    with suppress(subprocess.TimeoutExpired):
        proc.wait(5)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

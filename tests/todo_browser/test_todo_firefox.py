"""Issue 17 in Firefox: ``hyperpunch todo serve --local`` (subprocess) serves the real page; two
windows of Debian's headless ``firefox-esr``, driven over WebDriver BiDi (firefox_bidi.py: no
geckodriver), open the printed link, get added as writers and stay in sync with each other and
with a ``hyperpunch todo`` CLI peer. Typing and clicking are real input events
(input.performActions). The screenshot goes to build/screenshots/todo-firefox.png.

A missing firefox-esr fails the test (``make system-deps`` installs it)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from firefox_bidi import CONTROL, ENTER, Firefox, Page, firefox
from todo_serve import ServedList, build_bundle, parse_ls, todo_serve

pytestmark = pytest.mark.interop

SYNC = 90.0  # seconds; every wait ends when its condition holds
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "build" / "screenshots" / "todo-firefox.png"

ROWS = (
    "[...document.querySelectorAll('#todo-list li.todo')].map(li =>"
    " [li.querySelector('.text').textContent, li.querySelector('.toggle').checked])"
)
WRITABLE = (
    "document.body.dataset.ready === 'true'"
    " && document.getElementById('readonly').hidden"
    " && !document.getElementById('new-todo').disabled"
)


@dataclass
class App(ServedList):
    browser: Firefox
    a: Page
    b: Page

    def why(self) -> str:
        return "\n".join(["page console:", *self.browser.console()[-30:], self.served.describe()])

    def js_errors(self) -> list[str]:
        """Uncaught errors in the pages, but for the relay being unreachable (serve stopped)."""
        return [e for e in self.browser.console("javascript") if "establish a connection" not in e]


def rows(page: Page) -> list[tuple[str, bool]]:
    return [(text, done) for text, done in page.evaluate(ROWS)]


def has_row(page: Page, text: str, done: bool, what: str) -> None:
    want = f"([t, d]) => t === {json.dumps(text)} && d === {json.dumps(done)}"
    page.wait_until(f"{ROWS}.some({want})", what, SYNC)


def until(cond: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def row_of(text: str) -> str:
    """JS for the row (li) showing ``text``."""
    return (
        "[...document.querySelectorAll('#todo-list li.todo')]"
        f".find(li => li.querySelector('.text').textContent === {json.dumps(text)})"
    )


def toggle_of(text: str) -> str:
    """JS for the done checkbox of the row showing ``text``."""
    return f"{row_of(text)}?.querySelector('.toggle')"


def gone(page: Page, text: str, what: str) -> None:
    page.wait_until(f"!{ROWS}.some(([t]) => t === {json.dumps(text)})", what, SYNC)


def wait_ls(app: App, want: list[tuple[str, bool]]) -> None:
    """Run ``todo ls`` until it prints ``want`` (each run first catches up with a peer)."""
    got: list[tuple[str, bool]] = []
    for _ in range(10):
        got = parse_ls(app.cli("ls", app.served.key))
        if got == want:
            return
    raise AssertionError(f"todo ls never showed {want}; last {got}")


def join(page: Page, url: str) -> None:
    page.navigate(url)
    ready = page.wait_until("document.body.dataset.ready", "the page to load", SYNC)
    assert ready == "true", page.evaluate("document.getElementById('fatal').textContent")
    page.wait_until(WRITABLE, "the page to be added as a writer", SYNC)


def add(page: Page, text: str) -> None:
    page.click("document.getElementById('new-todo')")
    page.type_text(text)
    page.wait_until(f"document.getElementById('new-todo').value === {json.dumps(text)}", "the typed text")
    page.click("document.getElementById('add')")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    web = build_bundle(tmp_path_factory.mktemp("todo-web"))
    storage = tmp_path_factory.mktemp("todo-serve")
    cli_storage = tmp_path_factory.mktemp("todo-cli")
    with firefox() as browser:
        browser.subscribe("log.entryAdded")
        stack = ExitStack()
        served = stack.enter_context(todo_serve(storage, web))
        a, b = browser.new_page(), browser.new_page()
        state = App(served, storage, web, cli_storage, stack, browser, a, b)
        try:
            join(a, served.url)
            join(b, served.url)
            yield state
        finally:
            state.stack.close()


def test_two_firefox_pages_and_the_cli_stay_in_sync(app: App) -> None:
    a, b = app.a, app.b
    try:
        add(a, "from Firefox A")
        has_row(b, "from Firefox A", False, "A's todo in B")
        b.click(toggle_of("from Firefox A"))
        has_row(a, "from Firefox A", True, "B's toggle in A")

        app.cli("add", app.served.key, "from the command line")
        for page in (a, b):
            has_row(page, "from the command line", False, "the CLI todo")
        until(lambda: rows(a) == rows(b), "A and B to show the same rows", SYNC)
    except AssertionError as err:
        raise AssertionError(f"{err}\n{app.why()}") from None
    want = rows(a)
    assert sorted(want) == [("from Firefox A", True), ("from the command line", False)]
    wait_ls(app, want)
    assert not app.js_errors(), app.why()  # no uncaught error in either page


def test_edit_delete_and_clear_completed_in_firefox(app: App) -> None:
    a, b = app.a, app.b
    try:
        # edit in B: double-click the text, select all, type, Enter; the focus goes back to Edit
        add(a, "to edit")
        has_row(b, "to edit", False, "A's todo in B")
        b.click(f"{row_of('to edit')}?.querySelector('.text')", count=2)
        b.wait_until(
            "document.activeElement?.classList.contains('edit-input')", "B's editor to have the focus"
        )
        b.press(CONTROL, "a")
        b.type_text("edited in Firefox B" + ENTER)
        has_row(a, "edited in Firefox B", False, "B's edit in A")
        gone(a, "to edit", "the old text in A")
        b.wait_until(
            "document.activeElement?.classList.contains('edit')", "the focus back on B's Edit button"
        )

        # delete in B
        add(a, "to delete")
        has_row(b, "to delete", False, "A's second todo in B")
        b.click(f"{row_of('to delete')}?.querySelector('button.delete')")
        gone(a, "to delete", "B's delete in A")

        # done and clear completed in A
        add(a, "fix the bike light")
        has_row(a, "fix the bike light", False, "the new todo in A")
        a.click(toggle_of("fix the bike light"))
        has_row(b, "fix the bike light", True, "A's toggle in B")
        a.click("document.getElementById('clear-completed')")
        gone(b, "fix the bike light", "A's clear completed in B")
        until(lambda: rows(a) == rows(b), "A and B to show the same rows", SYNC)
    except AssertionError as err:
        raise AssertionError(f"{err}\n{app.why()}") from None
    now = rows(a)
    assert ("edited in Firefox B", False) in now and not any(done for _, done in now), now
    wait_ls(app, now)

    # something done for the screenshot
    add(b, "buy oat milk")
    has_row(a, "buy oat milk", False, "B's todo in A")
    a.click(toggle_of("buy oat milk"))
    has_row(b, "buy oat milk", True, "A's toggle in B")
    assert not app.js_errors(), app.why()


def test_screenshot_two_firefox_pages_side_by_side(app: App, tmp_path: Path) -> None:
    shots = []
    for name, page in (("a", app.a), ("b", app.b)):
        shot = tmp_path / f"{name}.png"
        page.screenshot(shot)
        shots.append(shot)
    side = tmp_path / "side.html"
    side.write_text(
        "<!doctype html><body style='margin:0;display:flex;background:#ccc;gap:4px'>"
        + "".join(f"<img src='{s.as_uri()}' style='width:700px'>" for s in shots)
        + "</body>"
    )
    viewer = app.browser.new_page(1404, 760)
    viewer.navigate(side.as_uri())
    viewer.wait_until("[...document.images].every(i => i.complete && i.naturalWidth > 0)", "the images")
    viewer.screenshot(SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 10_000


CONNECTION = "document.getElementById('connection').dataset.state"


def test_reload_offline_and_restarted_serve_in_firefox(app: App) -> None:
    a, b = app.a, app.b
    before = rows(a)
    assert before, "the earlier tests left todos"
    try:
        # a reload from the bare address: the page asks serve for the list (GET /list)
        join(a, app.served.url.split("#")[0])
        assert a.evaluate("location.href") == app.served.url
        until(lambda: rows(a) == before, "A's todos after a reload", SYNC)

        # serve stops: the pages say so and keep working locally
        port = app.served.port
        app.stop()
        for page in (a, b):
            page.wait_until(f"{CONNECTION} !== 'online'", "the page to notice the relay is gone", SYNC)
        add(b, "written while serve was down")
        has_row(b, "written while serve was down", False, "B's local write")

        # serve comes back on the same port and storage: the pages reconnect and merge
        app.start(port)
        for page in (a, b):
            page.wait_until(f"{CONNECTION} === 'online'", "the page to reconnect", SYNC)
        has_row(a, "written while serve was down", False, "B's offline write in A")
        until(lambda: rows(a) == rows(b), "A and B to show the same rows", SYNC)
    except AssertionError as err:
        raise AssertionError(f"{err}\n{app.why()}") from None
    assert sorted(rows(a)) == sorted([*before, ("written while serve was down", False)])
    wait_ls(app, rows(a))
    assert not app.js_errors(), app.why()

"""Issue 17's acceptance, end to end: ``hyperpunch todo serve --local`` (subprocess) serves the
real page (app.js + the web client, built by build.sh) and the relay; two headless-Chromium
pages open the printed link, get added as writers, and stay in sync with each other and with
``hyperpunch todo`` CLI peers; concurrent edits converge; a reload and a restarted serve keep
the list. The screenshot goes to build/screenshots/todo-app.png
(TODO_APP_SCREENSHOT=docs/todo-screenshot.png refreshes the README's)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from todo_page import add, chrome, open_page, row, rows, wait, wait_rows
from todo_serve import ServedList, build_bundle, parse_ls, todo_serve

pytestmark = pytest.mark.interop

SYNC = 90.0  # seconds; every wait ends when its condition holds
ROOT = Path(__file__).resolve().parents[2]
# where the run's screenshot goes (look at it); TODO_APP_SCREENSHOT=docs/todo-screenshot.png
# refreshes the README's picture. A run never rewrites a tracked file by itself.
SCREENSHOT = Path(os.environ.get("TODO_APP_SCREENSHOT", ROOT / "build" / "screenshots" / "todo-app.png"))


@dataclass
class App(ServedList):
    a: WebDriver
    b: WebDriver


def writable(driver: WebDriver) -> bool:
    return bool(
        driver.execute_script(
            "return document.body.dataset.ready === 'true'"
            " && document.getElementById('readonly').hidden"
            " && !document.getElementById('new-todo').disabled"
        )
    )


def join(driver: WebDriver, url: str) -> None:
    open_page(driver, url)
    wait(driver, writable, "the page to be added as a writer", SYNC)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    web = build_bundle(tmp_path_factory.mktemp("todo-web"))
    storage = tmp_path_factory.mktemp("todo-serve")
    cli_storage = tmp_path_factory.mktemp("todo-cli")
    with ExitStack() as pages:
        a = chrome(700, 760)
        pages.callback(a.quit)
        b = chrome(700, 760)
        pages.callback(b.quit)
        stack = ExitStack()
        served = stack.enter_context(todo_serve(storage, web))
        state = App(served, storage, web, cli_storage, stack, a, b)
        try:
            join(a, served.url)
            join(b, served.url)
            yield state
        finally:
            state.stack.close()


def wait_ls(app: App, expected: list[tuple[str, bool]]) -> None:
    """Run ``todo ls`` until it prints ``expected`` (each run first catches up with a peer)."""
    got: list[tuple[str, bool]] = []
    for _ in range(10):
        got = parse_ls(app.cli("ls", app.served.key))
        if got == expected:
            return
    raise AssertionError(f"todo ls never showed {expected}; last {got}")


def synced(a: WebDriver, b: WebDriver, what: str) -> list[tuple[str, bool]]:
    """Wait until both pages show the same rows (and no open editor); return them."""
    wait(a, lambda d: rows(d) == rows(b), what, SYNC)
    return rows(a)


def test_two_pages_and_the_cli_stay_in_sync(app: App) -> None:
    a, b = app.a, app.b
    add(a, "from page A")
    wait(b, lambda d: ("from page A", False) in rows(d), "A's todo in B", SYNC)
    wait_ls(app, synced(a, b, "A and B"))

    # edit in B
    row(b, "from page A").find_element(By.CSS_SELECTOR, "button.edit").click()
    field = wait(b, lambda d: d.find_element(By.CSS_SELECTOR, ".edit-input"), "B's editor")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("edited in page B", Keys.ENTER)
    wait(a, lambda d: ("edited in page B", False) in rows(d), "B's edit in A", SYNC)
    # toggle in A
    row(a, "edited in page B").find_element(By.CSS_SELECTOR, ".toggle").click()
    wait(b, lambda d: ("edited in page B", True) in rows(d), "A's toggle in B", SYNC)
    wait_ls(app, synced(a, b, "A and B"))

    # a CLI peer's todo appears in both pages
    app.cli("add", app.served.key, "from the command line")
    for d in (a, b):
        wait(d, lambda d: ("from the command line", False) in rows(d), "the CLI todo", SYNC)

    # delete in B
    row(b, "edited in page B").find_element(By.CSS_SELECTOR, "button.delete").click()
    wait(a, lambda d: all(t != "edited in page B" for t, _ in rows(d)), "B's delete in A", SYNC)
    now = synced(a, b, "A and B")
    assert ("from the command line", False) in now and all(t != "edited in page B" for t, _ in now)
    wait_ls(app, now)


def test_concurrent_edits_converge(app: App) -> None:
    a, b = app.a, app.b
    add(a, "contested")
    wait(b, lambda d: ("contested", False) in rows(d), "the todo in B", SYNC)
    editors = []
    for d, text in ((a, "A's version"), (b, "B's version")):
        row(d, "contested").find_element(By.CSS_SELECTOR, "button.edit").click()
        field = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, ".edit-input"), "an editor")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(text)
        editors.append(field)
    for field in editors:  # both saves go out before either page hears of the other
        field.send_keys(Keys.ENTER)

    def settled(d: WebDriver) -> bool:
        texts = [t for t, _ in rows(d)]
        return "contested" not in texts and ("A's version" in texts) != ("B's version" in texts)

    for d in (a, b):
        wait(d, settled, "one version to win", SYNC)
    wait_ls(app, synced(a, b, "both pages to show the same list"))


def test_screenshot_two_pages_side_by_side(app: App, tmp_path: Path) -> None:
    a, b = app.a, app.b
    for text in ("buy oat milk", "fix the bike light"):
        if all(t != text for t, _ in rows(a)):
            add(a, text)
    if ("fix the bike light", False) in rows(a):
        row(a, "fix the bike light").find_element(By.CSS_SELECTOR, ".toggle").click()
    wait(b, lambda d: ("fix the bike light", True) in rows(d), "B to catch up", SYNC)
    synced(a, b, "A and B")
    shots = []
    for name, d in (("a", a), ("b", b)):
        shot = tmp_path / f"{name}.png"
        d.save_screenshot(str(shot))
        shots.append(shot)
    side = tmp_path / "side.html"
    side.write_text(
        "<!doctype html><body style='margin:0;display:flex;background:#ccc;gap:4px'>"
        + "".join(f"<img src='{s.as_uri()}' style='width:700px'>" for s in shots)
        + "</body>"
    )
    viewer = chrome(1404, 760)
    try:
        viewer.get(side.as_uri())
        wait(
            viewer,
            lambda d: d.execute_script(
                "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
            ),
            "the images",
        )
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        viewer.save_screenshot(str(SCREENSHOT))
    finally:
        viewer.quit()
    assert SCREENSHOT.stat().st_size > 10_000


def connection(driver: WebDriver) -> str:
    state: str = driver.execute_script("return document.getElementById('connection').dataset.state")
    return state


def test_reload_offline_and_restarted_serve_keep_the_list(app: App) -> None:
    a, b = app.a, app.b
    before = rows(a)
    assert before, "the earlier tests left todos"
    # a reload, from the bare address: the page asks serve for the list (GET /list)
    join(a, app.served.url.split("#")[0])
    assert a.current_url == app.served.url
    wait_rows(a, before, "A's todos after a reload")

    # serve stops: the pages say so and keep working locally
    key, port = app.served.key, app.served.port
    app.stop()
    for d in (a, b):
        wait(d, lambda d: connection(d) != "online", "the page to notice the relay is gone", SYNC)
    add(b, "written while serve was down")
    wait(b, lambda d: ("written while serve was down", False) in rows(d), "B's local write", SYNC)
    assert ("written while serve was down", False) not in rows(a)

    # serve comes back on the same port and storage: the same list, the pages reconnect and merge
    app.start(port)
    assert app.served.key == key
    for d in (a, b):
        wait(d, lambda d: connection(d) == "online", "the page to reconnect", SYNC)
    wait(a, lambda d: ("written while serve was down", False) in rows(d), "B's offline write in A", SYNC)
    now = synced(a, b, "A and B")
    assert sorted(now) == sorted([*before, ("written while serve was down", False)])
    wait_ls(app, now)

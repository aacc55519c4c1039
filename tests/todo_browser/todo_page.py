"""Helpers for the todo page's browser tests: build the page with esbuild, serve it over HTTP,
drive it with selenium on Debian's headless Chromium, read its rows.

Everything waits on conditions in the page (WebDriverWait polls), never on fixed sleeps. A missing
Chromium, chromedriver or esbuild is an error (the tests fail, never skip)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from jsref import INTEROP

TODO_SRC = INTEROP / "browser" / "todo"
WAIT = 60.0  # generous: the machine is shared; every wait ends as soon as its condition holds
T = TypeVar("T")


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        raise RuntimeError("chromium / chromedriver missing: run `make system-deps`")
    return browser, driver


def build_fake_page(out: Path) -> Path:
    """Bundle app.js with fake-client.js standing in for ./client.js; return the dist directory."""
    esbuild = INTEROP / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        raise RuntimeError("interop/node_modules/.bin/esbuild missing: run `make deps`")
    src = out / "src"
    dist = out / "dist"
    src.mkdir(parents=True)
    dist.mkdir(parents=True)
    shutil.copy(TODO_SRC / "app.js", src / "app.js")
    shutil.copy(TODO_SRC / "fake-client.js", src / "client.js")
    subprocess.run(
        [
            str(esbuild),
            str(src / "app.js"),
            "--bundle",
            "--platform=browser",
            "--format=esm",
            f"--outfile={dist / 'todo.js'}",
            "--log-level=warning",
        ],
        check=True,
        cwd=INTEROP,
    )
    for name in ("index.html", "style.css"):
        shutil.copy(TODO_SRC / name, dist / name)
    return dist


class _Handler(SimpleHTTPRequestHandler):
    list_key = ""

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/list":
            body = (self.list_key + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(dist: Path, list_key: str) -> Iterator[str]:
    """Serve ``dist`` (and ``/list`` → ``list_key``) on 127.0.0.1, a free port; yield the base URL."""
    handler = type("Handler", (_Handler,), {"list_key": list_key})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(dist)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def chrome(width: int = 900, height: int = 900) -> WebDriver:
    browser, driver_path = chromium_paths()
    options = Options()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def wait(driver: WebDriver, cond: Callable[[WebDriver], T], what: str, timeout: float = WAIT) -> T:
    return WebDriverWait(driver, timeout).until(cond, message=f"timed out waiting for {what}")


def open_page(driver: WebDriver, url: str) -> None:
    driver.get(url)
    wait(driver, lambda d: d.execute_script("return document.body.dataset.ready"), "the page to load")
    ready = driver.execute_script("return document.body.dataset.ready")
    assert ready == "true", driver.find_element(By.ID, "fatal").text


def rows(driver: WebDriver) -> list[tuple[str, bool]]:
    """The shown todos as (text, done), in page order."""
    result: list[tuple[str, bool]] = driver.execute_script(
        "return [...document.querySelectorAll('#todo-list li.todo')].map(li =>"
        " [li.querySelector('.text').textContent, li.querySelector('.toggle').checked])"
    )
    return [(text, done) for text, done in result]


def wait_rows(driver: WebDriver, expected: list[tuple[str, bool]], what: str = "") -> None:
    wait(driver, lambda d: rows(d) == expected, what or f"rows {expected!r} (have {rows(driver)!r})")


def row(driver: WebDriver, text: str) -> WebElement:
    for li in driver.find_elements(By.CSS_SELECTOR, "#todo-list li.todo"):
        if li.find_element(By.CSS_SELECTOR, ".text").get_attribute("textContent") == text:
            return li
    raise AssertionError(f"no row {text!r} in {rows(driver)!r}")


def add(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "new-todo")
    box.send_keys(text)
    driver.find_element(By.ID, "add").click()


def text_of(driver: WebDriver, element_id: str) -> str:
    value: str = driver.execute_script("return document.getElementById(arguments[0]).textContent", element_id)
    return value.strip()


def wait_set(driver: WebDriver, expected: list[tuple[str, bool]], what: str = "") -> list[tuple[str, bool]]:
    """Wait for these rows in any order (todos added in one second by two peers sort by their
    ObjectIds' random parts); return them in page order."""
    want = sorted(expected)
    wait(driver, lambda d: sorted(rows(d)) == want, what or f"rows {want!r}")
    return rows(driver)

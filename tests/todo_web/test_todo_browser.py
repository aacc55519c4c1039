"""The todo client bundled for the browser (build.sh: sodium-javascript, the in-memory rocksdb
stand-in, dht-relay over a WebSocket) in headless Chromium: the page is served by the Python
RelayServer that also relays its DHT traffic (one port), joins a list created by a Node peer on the
native DHT, gets added as a writer, and both see each other's todos, also after the page's relay
socket drops and comes back. Fails (never skips) when Chromium, chromedriver or esbuild is missing."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from todo_peers import HOST, TODO_DIR, build_bundle, local_testnet, todo_peer

from hyperpunch.dht import HyperDHT
from hyperpunch.relay import RelayServer
from hyperpunch.relay.web import static_handler

pytestmark = pytest.mark.interop

# waits until the page's list shows `texts` (as a multiset); resolves with its todos
WAIT_TEXTS = """
const [texts, done] = [arguments[0], arguments[arguments.length - 1]];
const list = window.list;
const want = JSON.stringify([...texts].sort());
const check = async () => {
  const todos = await list.todos();
  if (JSON.stringify(todos.map((t) => t.text).sort()) === want) { list.off('change', check); done(todos); }
};
list.on('change', check);
check();
"""


@contextlib.contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        raise RuntimeError("chromium / chromedriver missing: run `make system-deps`")
    options = Options()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,700"):
        options.add_argument(arg)
    d = webdriver.Chrome(service=Service(driver), options=options)
    try:
        d.set_script_timeout(90)
        yield d
    finally:
        d.quit()


def run(d: webdriver.Chrome, script: str, *args: Any) -> Any:
    result = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"(async (...args) => {{ {script} }})(...Array.from(arguments).slice(0, -1))"
        ".then(done, (err) => done({error: String(err && (err.stack || err.message) || err)}));",
        *args,
    )
    if isinstance(result, dict) and "error" in result:
        logs = "\n".join(str(e) for e in d.get_log("browser")[-20:])
        raise AssertionError(f"page script failed: {result['error']}\n{logs}")
    return result


@contextlib.asynccontextmanager
async def serve(bootstrap: list[str], dist: Path) -> AsyncIterator[RelayServer]:
    node = HyperDHT(bootstrap=bootstrap, host=HOST)
    await node.ready()
    try:
        async with RelayServer(
            node, HOST, 0, http_handler=static_handler(dist), ws_path="/relay", require_non_custodial=True
        ) as server:
            yield server
    finally:
        await node.aclose()


async def test_page_and_node_peer_share_a_list(tmp_path: Path) -> None:
    dist = build_bundle(tmp_path / "dist", entry=TODO_DIR / "runtime" / "test-entry.js")
    async with (
        local_testnet() as bootstrap,
        serve(bootstrap, dist) as server,
        todo_peer("node", bootstrap=bootstrap) as a,
    ):
        key = (await a.ready())["key"]
        page = f"http://{HOST}:{server.port}/"

        def browse() -> list[dict[str, Any]]:
            with chromium() as d:
                d.get(page)
                opened = run(
                    d,
                    """const [key, url] = args;
                    window.list = await window.openTodoList({ listKey: key, relayUrl: url });
                    if (!window.list.writable) await new Promise((resolve) => window.list.on('status', (s) => s.writable && resolve()));
                    await window.list.add('from the browser');
                    return window.list.status;""",
                    key,
                    server.url,
                )
                assert opened["writable"] is True and opened["peers"] >= 1, opened
                got: list[dict[str, Any]] = d.execute_async_script(
                    WAIT_TEXTS, ["from node", "from the browser"]
                )
                # the relay socket drops: the page keeps working locally, then merges
                run(d, "window.list.dropConnection(); await window.list.add('written offline'); return true")
                got = d.execute_async_script(
                    WAIT_TEXTS, ["from node", "from the browser", "written offline", "node, meanwhile"]
                )
                d.save_screenshot(str(tmp_path / "page.png"))
                return got

        browser = asyncio.create_task(asyncio.to_thread(browse))
        await a.texts(["from the browser"], timeout=90)
        await a.send({"add": "from node"})
        await a.texts(["from node", "from the browser", "written offline"], timeout=90)
        await a.send({"add": "node, meanwhile"})
        page_todos = await browser
        final = await a.texts(["from node", "from the browser", "written offline", "node, meanwhile"])
        assert page_todos == final

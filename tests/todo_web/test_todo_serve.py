"""A page with the todo client and a Node peer on `hyperpunch todo serve --local` (the Python
indexer peer, the page and the relay on one port, an embedded DHT testnet): the serve peer adds
both as writers, a todo written on the page reaches the Node peer (native DHT) and back."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from test_todo_browser import WAIT_TEXTS, chromium, run
from todo_peers import TODO_DIR, build_bundle, todo_peer

from jsref import ROOT

pytestmark = pytest.mark.interop


@contextlib.asynccontextmanager
async def todo_serve(storage: Path, web: Path) -> AsyncIterator[dict[str, str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hyperpunch", "todo", "serve", "--local", "--port", "0",
        "--storage", str(storage), "--web", str(web),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stderr is not None
        lines: dict[str, str] = {}
        while "open" not in lines:
            raw = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not raw:
                raise AssertionError(f"todo serve exited:\n{(await proc.stderr.read()).decode()}")
            name, _, value = raw.decode().strip().partition(" ")
            lines[name.rstrip(":")] = value.removeprefix("list: ")
        yield lines
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_page_and_node_peer_on_todo_serve(tmp_path: Path) -> None:
    dist = build_bundle(tmp_path / "dist", entry=TODO_DIR / "runtime" / "test-entry.js")
    async with todo_serve(tmp_path / "serve", dist) as out:
        key = out["todo"]
        url = out["open"]
        assert url.endswith("/#" + key)
        bootstrap = [out["bootstrap"]]
        async with todo_peer("node", bootstrap=bootstrap, listKey=key, announce=False) as a:
            await a.writable(timeout=90)

            def browse() -> list[dict[str, Any]]:
                with chromium() as d:
                    d.get(url)
                    relay = url.split("/#")[0].replace("http://", "ws://") + "/relay"
                    run(
                        d,
                        """const [key, url] = args;
                        window.list = await window.openTodoList({ listKey: key, relayUrl: url });
                        if (!window.list.writable) await new Promise((resolve) => window.list.on('status', (s) => s.writable && resolve()));
                        await window.list.add('from the page');
                        return true;""",
                        key,
                        relay,
                    )
                    got: list[dict[str, Any]] = d.execute_async_script(
                        WAIT_TEXTS, ["from the page", "from node"]
                    )
                    return got

            page = asyncio.create_task(asyncio.to_thread(browse))
            await a.texts(["from the page"], timeout=90)
            await a.send({"add": "from node"})
            page_todos = await page
            node_todos = await a.texts(["from the page", "from node"])
            assert page_todos == node_todos

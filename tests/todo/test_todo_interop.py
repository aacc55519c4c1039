"""The JS todo client (interop/browser/todo/client.js, the page's code, run headless by
node-peer.js on a native HyperDHT) and the Python peers on one list: a Node peer joins a
``hyperpunch todo serve --local`` list, is added by the Python indexer, and its todos and the
``hyperpunch todo`` CLI's converge; in-process, every malformed node of the contract's skip rules,
appended by the Node peer, is skipped by the JS and the Python apply alike. Fails (never skips)
without node and the installed JS reference."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from test_todo_ops import bad_ops
from todo_cli import hyperpunch, line, run, served, stop, web_dir
from todo_net import WAIT, list_peer, local_dht, until

from hyperpunch.todo import Todo
from todo_web.todo_peers import converged, todo_peer

pytestmark = pytest.mark.interop


def as_js(todos: list[Todo]) -> list[dict[str, Any]]:
    return [{"id": t.id, "text": t.text, "done": t.done} for t in todos]


async def test_node_client_and_cli_converge(tmp_path: Path) -> None:
    async with served(tmp_path / "serve", web_dir(tmp_path)) as s:
        cli = ("--bootstrap", s.bootstrap, "--host", "127.0.0.1", "--storage", str(tmp_path / "cli"))
        async with todo_peer("node", bootstrap=[s.bootstrap], listKey=s.key) as js:
            joined = await js.ready()
            assert joined["key"] == s.key
            await js.writable()  # added by the Python serve peer over hyperpunch/todo-writers
            code, out, err = await run("todo", "add", s.key, *cli, "from python")
            assert code == 0, err
            py_id = out.strip().removeprefix("added ")
            await js.texts(["from python"])
            js_id = (await js.send({"add": "from node"}))["id"]
            await js.texts(["from python", "from node"])
            live = await hyperpunch(
                "todo", "ls", s.key, *cli[:4], "--storage", str(tmp_path / "live"), "--live"
            )
            try:
                shown = {}
                for _ in range(2):
                    got = await line(live)  # <24 hex id> [ ]|[x] <text>
                    shown[got[:24]] = (got[29:], got[25:28] == "[x]")
                assert shown == {py_id: ("from python", False), js_id: ("from node", False)}
                assert await line(live) == "(2 todos)"
                # concurrent edits of one todo from both sides: the same final state everywhere
                await js.send({"edit": [py_id, "node's version"]})
                code, out, err = await run("todo", "done", s.key, *cli, js_id)
                assert code == 0, err
                code, out, err = await run("todo", "rm", s.key, *cli, py_id)
                assert code == 0, err
                await js.wait_for(lambda: [t["id"] for t in js.todos] == [js_id], "the python rm")
                assert js.todos == [{"id": js_id, "text": "from node", "done": True}]
                # the CLI peer followed it all: it ends on the done and the rm (in either order)
                wanted = {f"edit {js_id} [x] from node", f"rm {py_id}"}
                seen: list[str] = []
                with contextlib.suppress(AssertionError, TimeoutError):
                    while wanted - set(seen):
                        seen.append(await line(live))
                assert not wanted - set(seen), seen
            finally:
                assert await stop(live) == 0
            code, out, err = await run("todo", "ls", s.key, *cli)
            assert (code, out) == (0, f"{js_id} [x] from node\n(1 todos)\n"), err


async def test_python_and_node_skip_the_same_nodes(tmp_path: Path) -> None:
    hostile = [value for _why, value in bad_ops() if value is not None]
    async with local_dht() as boot, list_peer(boot, tmp_path / "py") as py:  # noqa: SIM117
        async with todo_peer("node", bootstrap=boot, listKey=py.key.hex()) as js:
            jready = await js.ready()
            await js.writable()
            await py.add("python's")
            for value in hostile:
                assert (await js.send({"raw": value.hex()}))["ok"] == "raw"
            await js.send({"add": "node's"})
            final = await converged(js, what="both todos on the node peer")
            await js.wait_for(lambda: len(js.todos) == 2, "two todos")

            seen: list[Any] = []

            async def same() -> bool:
                jcore = await py.store.get(key=bytes.fromhex(jready["local"]))
                seen[:] = [
                    as_js(await py.todos()),
                    js.todos,
                    jcore.length,
                    [
                        (
                            p.remote_length,
                            p.remote_contiguous_length,
                            p.length_acked,
                            p.remote_can_upgrade,
                            p.upgrade_refused,
                            p.remote_fork,
                            p.inflight,
                        )
                        for p in jcore.peers
                    ],
                    jcore.contiguous_length,
                    py.base.frozen_writers,
                ]
                return seen[0] == seen[1]

            try:
                await until([py], same, WAIT)
            except TimeoutError:
                jpeers = await js.send({"peers": True})  # how the node peer sees us
                raise AssertionError(
                    f"python and node differ (todos, js core length, its peers): {seen}; node: {jpeers}"
                ) from None
            assert sorted(t["text"] for t in js.todos) == ["node's", "python's"]
            assert len(final) >= 1
            # the lists keep working on both sides after the hostile nodes
            await py.add("still works")
            await js.texts(["node's", "python's", "still works"])
            await until([py], same, WAIT)

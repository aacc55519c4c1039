"""``hyperpunch todo``: ``serve --local`` prints its lines and serves the page, ``/list`` and the
relay on one port; ``add``/``ls``/``done``/``rm`` join it natively or through its relay, wait to be
added, write and exit once the serve peer has their change; ``ls --live`` follows changes; a
restarted serve keeps its list and todos; bad input is one line with the README's exit codes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from todo_cli import hyperpunch, line, run, served, stop, web_dir


async def test_serve_and_cli_peers(tmp_path: Path) -> None:
    web = web_dir(tmp_path)
    async with served(tmp_path / "serve", web) as s:
        assert s.get("/list") == (s.key + "\n").encode()
        assert s.get("/").startswith(b"<!doctype html>")
        native = ("--bootstrap", s.bootstrap, "--host", "127.0.0.1")
        cli = (*native, "--storage", str(tmp_path / "cli"))
        code, out, err = await run("todo", "add", s.key, *cli, "buy", "milk")
        assert code == 0, err
        assert "waiting to be added as a writer" in err
        milk = out.strip().removeprefix("added ")
        assert len(milk) == 24
        # a second peer (another storage) reads what the first wrote, through serve
        live = await hyperpunch("todo", "ls", s.key, *native, "--storage", str(tmp_path / "reader"), "--live")
        try:
            assert await line(live) == f"{milk} [ ] buy milk"
            assert await line(live) == "(1 todos)"
            # the same writer again (its key is kept in its storage: no wait to be added)
            code, out, err = await run("todo", "done", s.key, *cli, milk[:20])
            assert (code, out, err) == (0, f"done {milk}\n", "")
            assert await line(live) == f"edit {milk} [x] buy milk"
            code, out, err = await run(
                "todo", "add", s.key, "--relay", s.relay, "--storage", str(tmp_path / "relayed"), "eggs"
            )
            assert code == 0, err
            eggs = out.strip().removeprefix("added ")
            assert await line(live) == f"add {eggs} [ ] eggs"
            code, out, err = await run("todo", "rm", s.key, *cli, milk)
            assert (code, out) == (0, f"removed {milk}\n"), err
            assert await line(live) == f"rm {milk}"
        finally:
            assert await stop(live) == 0
        code, out, err = await run("todo", "rm", s.key, *cli, milk)
        assert code == 2 and out == "" and "NOT_FOUND" in err and len(err.splitlines()) == 1
        key = s.key
    # restarted on the same storage: the same list, the todos kept
    async with served(tmp_path / "serve", web) as s:
        assert s.key == key
        code, out, err = await run(
            "todo",
            "ls",
            key,
            "--bootstrap",
            s.bootstrap,
            "--host",
            "127.0.0.1",
            "--storage",
            str(tmp_path / "r2"),
        )
        assert (code, out) == (0, f"{eggs} [ ] eggs\n(1 todos)\n"), err


async def test_bad_input_is_one_line(tmp_path: Path) -> None:
    key = "ab" * 32
    env = {k: v for k, v in os.environ.items() if k != "HYPERPUNCH_TODO_WEB"}
    proc = await hyperpunch(
        "todo", "serve", "--local", "--port", "0", "--storage", str(tmp_path / "s"),
        "--web", str(tmp_path / "nothing"), env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1 and out == b""
    assert err.decode().startswith("hyperpunch: error: the web app is not built: run make deps")
    assert len(err.splitlines()) == 1
    for args, what in (
        (("todo", "add", "xyz", "milk"), "list key must be 64 hex characters"),
        (("todo", "add", key, "   "), "EMPTY_TEXT"),
        (("todo", "add", key, "x" * 4097), "TEXT_TOO_LONG"),
        (("todo", "done", key, "not-hex"), "a todo id is up to 24 hex characters"),
        (("todo", "ls", key, "--relay", "http://x"), "--relay must be a ws:// or wss:// URL"),
        (("todo", "serve", "--port", "70000"), "--port must be 0..65535"),
    ):
        code, out_s, err_s = (
            await run(*args, "--storage", str(tmp_path / "p")) if args[1] != "serve" else await run(*args)
        )
        assert code == 2 and out_s == "", (args, err_s)
        assert what in err_s and len(err_s.splitlines()) == 1, (args, err_s)
    # a storage that holds one list refuses another
    (tmp_path / "held").mkdir()
    (tmp_path / "held" / "list").write_text("cd" * 32 + "\n")
    web = web_dir(tmp_path)
    code, out_s, err_s = await run(
        "todo",
        "serve",
        "--local",
        "--port",
        "0",
        "--storage",
        str(tmp_path / "held"),
        "--web",
        str(web),
        "--list",
        key,
    )
    assert code == 2 and "holds list" in err_s and len(err_s.splitlines()) == 1

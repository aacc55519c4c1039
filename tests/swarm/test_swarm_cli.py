"""``hyperpunch swarm`` (hyperpunch.cli.swarm) and examples/2/peer.py against a JS hyperswarm peer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from swarm_net import HOST, local_testnet
from test_swarm_interop import JsPeer, PyPeer, wait_until

from hyperpunch.cli.swarm import run_swarm
from hyperpunch.crypto import key_pair
from hyperpunch.dht import HyperDHT
from jsref import spawn_node

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "hyperpunch", "swarm"]
EXAMPLE = [sys.executable, str(ROOT / "examples" / "2" / "peer.py")]

pytestmark = pytest.mark.interop


class Proc:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def line(self, timeout: float = 30) -> str:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not raw:
            err = b""
            if self.proc.stderr is not None:
                err = await self.proc.stderr.read()
            raise AssertionError(f"process ended: {err.decode(errors='replace')}")
        return raw.decode().rstrip("\n")

    async def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()


@contextlib.asynccontextmanager
async def spawn(cmd: list[str]) -> AsyncIterator[Proc]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        yield Proc(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_bad_topic_is_a_one_line_error() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    for bad in ("zz", "ab" * 31 + "zz", "ab" * 33):
        res = subprocess.run([*CLI, bad], capture_output=True, text=True, env=env, timeout=60, check=False)
        assert res.returncode == 2
        assert res.stdout == ""
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hyperpunch: error: topic")


@contextlib.asynccontextmanager
async def js_on(bootstrap: list[str], topic: bytes) -> AsyncIterator[JsPeer]:
    async with spawn_node(
        "swarm-peer.js", json.dumps({"bootstrap": bootstrap, "topic": topic.hex()})
    ) as proc:
        js = JsPeer(proc)
        try:
            await js.start()
            await asyncio.wait_for(js.flushed.wait(), 30)
            yield js
        finally:
            await js.stop()


async def _chat_with_js(cmd: list[str], bootstrap: list[str], topic: bytes) -> None:
    async with js_on(bootstrap, topic) as js, spawn(cmd) as p:
        assert await p.line() == f"joined topic: {topic.hex()}"
        assert await p.line() == f"* got a connection from: {js.key.hex()} *"
        await wait_until(lambda: len(js.connections) == 1)
        py_key = bytes.fromhex(js.connections[0]["remotePublicKey"])
        await p.write(b"hello from python\n")
        await wait_until(lambda: (py_key, "hello from python\n") in js.data)
        await js.proc.send({"cmd": "send", "data": "hello from js\n"})
        assert await p.line() == f"{js.key.hex()}: hello from js"
        assert p.proc.stdin is not None
        p.proc.stdin.close()  # EOF: a clean exit that closes the connection
        assert await asyncio.wait_for(p.proc.wait(), 30) == 0
        await wait_until(lambda: py_key in js.closes)


async def test_cli_swarm_chats_with_js_peer() -> None:
    async with local_testnet() as bootstrap:
        topic = os.urandom(32)
        await _chat_with_js(
            [*CLI, topic.hex(), "--bootstrap", ",".join(bootstrap), "--host", HOST], bootstrap, topic
        )


async def test_cli_swarm_reads_network_options_from_environment_and_stops_on_sigint() -> None:
    async with local_testnet() as bootstrap:
        os.environ["HYPERPUNCH_BOOTSTRAP"] = ",".join(bootstrap)
        os.environ["HYPERPUNCH_HOST"] = HOST
        try:
            async with spawn(CLI) as p:  # no topic: a random one
                first = await p.line()
                assert first.startswith("joined topic: ") and len(first) == len("joined topic: ") + 64
                topic = bytes.fromhex(first.split(": ")[1])
                async with js_on(bootstrap, topic) as js:
                    assert await p.line() == f"* got a connection from: {js.key.hex()} *"
                    p.proc.send_signal(signal.SIGINT)
                    assert await asyncio.wait_for(p.proc.wait(), 30) == 0
                    await wait_until(lambda: len(js.closes) == 1)
        finally:
            del os.environ["HYPERPUNCH_BOOTSTRAP"]
            del os.environ["HYPERPUNCH_HOST"]


async def test_example_2_peer_chats_with_js_peer() -> None:
    async with local_testnet() as bootstrap:
        topic = os.urandom(32)
        async with (
            js_on(bootstrap, topic) as js,
            spawn([*EXAMPLE, topic.hex(), "--bootstrap", ",".join(bootstrap), "--host", HOST]) as p,
        ):
            lines = {await p.line(), await p.line()}  # the order of these two may vary
            assert lines == {f"joined topic: {topic.hex()}", f"* got a connection from: {js.key.hex()} *"}
            await wait_until(lambda: len(js.connections) == 1)
            py_key = bytes.fromhex(js.connections[0]["remotePublicKey"])
            await p.write(b"hi\n")
            await wait_until(lambda: (py_key, "hi\n") in js.data)
            await js.proc.send({"cmd": "send", "data": "yo\n"})
            assert await p.line() == f"{js.key.hex()}: yo"
            assert p.proc.stdin is not None
            p.proc.stdin.close()
            assert await asyncio.wait_for(p.proc.wait(), 30) == 0


async def test_run_swarm_in_process_two_peers() -> None:
    async with local_testnet() as bootstrap:
        topic = os.urandom(32)
        boot = [(h, int(p)) for h, _, p in (b.rpartition(":") for b in bootstrap)]
        outs: tuple[list[str], list[str]] = ([], [])
        ins: tuple[asyncio.Queue[bytes | None], asyncio.Queue[bytes | None]] = (
            asyncio.Queue(),
            asyncio.Queue(),
        )
        stops = (asyncio.Event(), asyncio.Event())

        def start(i: int) -> asyncio.Task[int]:
            return asyncio.ensure_future(
                run_swarm(topic, bootstrap=boot, host=HOST, out=outs[i].append, lines=ins[i], stop=stops[i])
            )

        tasks = [start(0)]
        # the second peer starts once the first one's announcement is stored (peers announcing at
        # the very same moment may miss each other until the next refresh, in JS as well)
        async with HyperDHT(bootstrap=bootstrap, host=HOST) as probe:
            await probe.ready()
            for _ in range(300):
                if any(r.peers for r in await probe.lookup(topic).to_list()):
                    break
                await asyncio.sleep(0.05)
        tasks.append(start(1))
        try:
            await wait_until(lambda: all(any(x.startswith("* got a connection") for x in o) for o in outs))
            ins[0].put_nowait(b"ping\n")
            await wait_until(lambda: any(x.endswith(": ping") for x in outs[1]))
            ins[1].put_nowait(b"pong\n")
            await wait_until(lambda: any(x.endswith(": pong") for x in outs[0]))
            assert outs[0][0] == outs[1][0] == f"joined topic: {topic.hex()}"
            ins[0].put_nowait(None)  # EOF on one side
            stops[1].set()  # "Ctrl-C" on the other
            assert await asyncio.wait_for(asyncio.gather(*tasks), 30) == [0, 0]
        finally:
            for t in tasks:
                t.cancel()


async def test_killed_python_peer_is_reconnected_after_restart() -> None:
    """SIGKILL a ``hyperpunch swarm`` peer (no goodbye) and restart it with the same key: the JS
    and Python peers that still hold its dead connection take the new one (the duplicate rule's
    "existing one already read and wrote" case), one per pair."""
    async with local_testnet() as bootstrap, contextlib.AsyncExitStack() as stack:
        topic = os.urandom(32)
        seed = os.urandom(32)
        victim_key = key_pair(seed).public_key
        py = PyPeer(bootstrap)
        stack.push_async_callback(py.swarm.aclose)
        await py.swarm.join(topic).flushed()
        js = await stack.enter_async_context(js_on(bootstrap, topic))
        cmd = [*CLI, topic.hex(), "--seed", seed.hex(), "--bootstrap", ",".join(bootstrap), "--host", HOST]

        def to_victim() -> int:
            return sum(bytes.fromhex(c["remotePublicKey"]) == victim_key for c in js.connections)

        for round_ in range(2):
            line = f"round {round_}\n"
            async with spawn(cmd) as p:
                assert await p.line() == f"joined topic: {topic.hex()}"
                got = {await p.line(), await p.line()}
                assert got == {f"* got a connection from: {k.hex()} *" for k in (py.key, js.key)}
                await wait_until(lambda: py.remotes().get(victim_key) == 1)
                await wait_until(lambda r=round_: to_victim() == r + 1)  # type: ignore[misc]
                # both survivors write to it too, so each of their connections has read and written:
                # JS's rule then takes the restarted peer's new connection at once (an idle old one
                # would win the tie-break half the time and be replaced only after a keepalive)
                py.send_all(b"to victim from py\n")
                await js.proc.send({"cmd": "send", "data": "to victim from js\n"})
                assert {await p.line(), await p.line()} == {
                    f"{py.key.hex()}: to victim from py",
                    f"{js.key.hex()}: to victim from js",
                }
                await p.write(line.encode())
                await wait_until(lambda m=line: (victim_key, m.encode()) in py.received)  # type: ignore[misc]
                await wait_until(lambda m=line: (victim_key, m) in js.data)  # type: ignore[misc]
                p.proc.kill()  # no goodbye: the others still hold the dead connection
                await p.proc.wait()

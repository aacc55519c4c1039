"""hyperpunch.swarm with the pinned JS hyperswarm 4.17.2 on a local HyperDHT testnet (127.0.0.1)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from swarm_net import HOST, local_testnet

from hyperpunch.crypto import KeyPair, key_pair
from hyperpunch.swarm import Hyperswarm, PeerInfo
from jsref import NodeProcess, spawn_node

pytestmark = pytest.mark.interop


async def wait_until(
    cond: Callable[[], bool], timeout: float = 30.0, what: str | Callable[[], str] = "condition"
) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        await asyncio.sleep(0.02)


class PyPeer:
    def __init__(self, bootstrap: list[str], kp: KeyPair | None = None, **opts: Any) -> None:
        self.received: list[tuple[bytes, bytes]] = []  # (from, message)
        self.infos: list[PeerInfo] = []
        self.swarm = Hyperswarm(
            bootstrap=bootstrap, host=HOST, key_pair=kp, on_connection=self._on_conn, **opts
        )
        self.key = self.swarm.key_pair.public_key

    async def _on_conn(self, conn: Any, info: PeerInfo) -> None:
        self.infos.append(info)
        remote = bytes(conn.remote_public_key)
        with contextlib.suppress(Exception):
            async for msg in conn:
                self.received.append((remote, bytes(msg)))

    def remotes(self) -> dict[bytes, int]:
        counts: dict[bytes, int] = {}
        for c in self.swarm.open_connections:
            k = bytes(c.remote_public_key)
            counts[k] = counts.get(k, 0) + 1
        return counts

    def send_all(self, data: bytes) -> None:
        for c in list(self.swarm.open_connections):
            with contextlib.suppress(Exception):
                c.write(data)


class JsPeer:
    """A swarm-peer.js process; ``events`` collects everything it printed."""

    def __init__(self, proc: NodeProcess) -> None:
        self.proc = proc
        self.key = b""
        self.data: list[tuple[bytes, str]] = []
        self.connections: list[dict[str, Any]] = []
        self.closes: list[bytes] = []
        self.peers_reply: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.flushed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready = await self.proc.expect("ready", timeout=60)
        self.key = bytes.fromhex(ready["publicKey"])
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(AssertionError):
            while True:
                msg = await self.proc.recv(timeout=3600)
                ev = msg["event"]
                if ev == "data":
                    self.data.append((bytes.fromhex(msg["from"]), msg["data"]))
                elif ev == "connection":
                    self.connections.append(msg)
                elif ev == "close":
                    self.closes.append(bytes.fromhex(msg["remotePublicKey"]))
                elif ev == "flushed":
                    self.flushed.set()
                elif ev == "peers":
                    self.peers_reply.put_nowait(msg)

    async def peers(self) -> dict[bytes, int]:
        await self.proc.send({"cmd": "peers"})
        msg = await asyncio.wait_for(self.peers_reply.get(), 30)
        return {bytes.fromhex(k): v for k, v in msg["counts"].items()}

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader


@contextlib.asynccontextmanager
async def js_peer(
    bootstrap: list[str], topic: bytes, seed: bytes | None = None, **opts: Any
) -> AsyncIterator[JsPeer]:
    cfg: dict[str, Any] = {"bootstrap": bootstrap, "topic": topic.hex(), **opts}
    if seed is not None:
        cfg["seed"] = seed.hex()
    async with spawn_node("swarm-peer.js", json.dumps(cfg)) as proc:
        peer = JsPeer(proc)
        try:
            await peer.start()
            yield peer
        finally:
            await peer.stop()


async def test_python_swarm_and_js_swarm_connect_and_talk_both_ways() -> None:
    async with local_testnet() as bootstrap:
        # direction 1: Python announces first, the JS peer finds it and dials
        topic = os.urandom(32)
        py = PyPeer(bootstrap)
        try:
            await py.swarm.join(topic).flushed()
            async with js_peer(bootstrap, topic) as js:
                await wait_until(lambda: py.remotes() == {js.key: 1} and len(js.connections) == 1)
                assert js.connections[0]["client"] is True and py.infos[0].client is False
                py.send_all(b"py->js")
                await js.proc.send({"cmd": "send", "data": "js->py"})
                await wait_until(lambda: (py.key, "py->js") in js.data and (js.key, b"js->py") in py.received)
                assert await js.peers() == {py.key: 1}
        finally:
            await py.swarm.aclose()

        # direction 2: the JS peer announces first, Python finds it and dials
        topic = os.urandom(32)
        async with js_peer(bootstrap, topic) as js:
            await asyncio.wait_for(js.flushed.wait(), 30)
            py = PyPeer(bootstrap)
            try:
                py.swarm.join(topic)
                assert await py.swarm.flush()
                # flush() returns once the peers found so far were dialled
                assert py.remotes() == {js.key: 1}
                await wait_until(lambda: len(js.connections) == 1)
                assert py.infos[0].client is True and js.connections[0]["client"] is False
                assert py.infos[0].topics == [topic]
                py.send_all(b"hello js")
                await js.proc.send({"cmd": "send", "data": "hello py"})
                await wait_until(
                    lambda: (py.key, "hello js") in js.data and (js.key, b"hello py") in py.received
                )
            finally:
                await py.swarm.aclose()
            assert not py.swarm._tasks and not py.swarm.open_connections and py.swarm.dht.destroyed
            await wait_until(lambda: py.key in js.closes, what="JS saw the Python swarm close")


async def test_mixed_ten_peer_swarm_one_connection_per_pair() -> None:
    async with local_testnet() as bootstrap, contextlib.AsyncExitStack() as stack:
        topic = os.urandom(32)
        seeds = [os.urandom(32) for _ in range(5)]
        pys = [PyPeer(bootstrap) for _ in range(5)]
        for p in pys:
            stack.push_async_callback(p.swarm.aclose)
        # phase 1: everyone only announces (alternating Python and JS peers)
        jss: list[JsPeer] = []
        handles = []
        for i in range(5):
            handles.append(pys[i].swarm.join(topic, server=True, client=False))
            await handles[-1].flushed()
            j = await stack.enter_async_context(js_peer(bootstrap, topic, seeds[i], client=False))
            await asyncio.wait_for(j.flushed.wait(), 30)
            jss.append(j)
        assert all(not p.swarm.open_connections for p in pys)
        # phase 2: everyone starts looking up at once, so most pairs dial each other at the same
        # time from both ends and the duplicate rule must pick the same connection on both sides
        for j in jss:
            await j.proc.send({"cmd": "roles", "server": True, "client": True})
        await asyncio.gather(*(h.refresh(server=True, client=True) for h in handles))
        everyone = [p.key for p in pys] + [j.key for j in jss]
        assert len(set(everyone)) == 10

        def py_meshed() -> bool:
            return all(p.remotes() == {k: 1 for k in everyone if k != p.key} for p in pys)

        def mesh_report() -> str:
            names = {k: f"py{i}" for i, k in enumerate(p.key for p in pys)}
            names.update({j.key: f"js{i}" for i, j in enumerate(jss)})
            lines = []
            for p in pys:
                missing = [k for k in everyone if k != p.key and p.remotes().get(k) != 1]
                for k in missing:
                    info = p.swarm.peers.get(k)
                    tracked = p.swarm._all.get(k)
                    lines.append(
                        f"{names[p.key]} lacks {names[k]}: count={p.remotes().get(k)} info={info!r} "
                        f"queued={info and info.queued} waiting={info and info.waiting} tracked={tracked}"
                    )
                lines.append(
                    f"{names[p.key]} stats={p.swarm.stats['connects']} connecting={p.swarm.connecting}"
                )
            return "python mesh incomplete:\n" + "\n".join(lines)

        await wait_until(py_meshed, timeout=60, what=mesh_report)
        js_views: list[dict[bytes, int]] = []

        async def js_meshed() -> bool:
            js_views[:] = [await j.peers() for j in jss]
            return all(
                v == {k: 1 for k in everyone if k != j.key} for v, j in zip(js_views, jss, strict=True)
            )

        for _ in range(300):
            if await js_meshed():
                break
            await asyncio.sleep(0.1)
        assert await js_meshed(), js_views
        await asyncio.sleep(0.5)  # a duplicate still in flight would show up now
        assert py_meshed() and await js_meshed()

        # every message reaches every peer
        for p in pys:
            p.send_all(b"from " + p.key.hex().encode())
        for j in jss:
            await j.proc.send({"cmd": "send", "data": "from " + j.key.hex()})

        def all_delivered() -> bool:
            for p in pys:
                got = {m for _, m in p.received}
                if not all(f"from {k.hex()}".encode() in got for k in everyone if k != p.key):
                    return False
            for j in jss:
                got_js = {m for _, m in j.data}
                if not all(f"from {k.hex()}" in got_js for k in everyone if k != j.key):
                    return False
            return True

        await wait_until(all_delivered, timeout=30, what="every message at every peer")

        # kill a JS peer (no goodbye) and restart it with the same key: everyone reconnects to it
        victim = jss[0]
        await victim.stop()
        await victim.proc.aclose()
        restarted = await stack.enter_async_context(js_peer(bootstrap, topic, seeds[0]))
        assert restarted.key == victim.key
        jss[0] = restarted

        def all_have_restarted() -> bool:
            return all(p.remotes().get(restarted.key) == 1 for p in pys)

        await wait_until(
            all_have_restarted, timeout=60, what="python peers reconnect to the restarted JS peer"
        )
        await wait_until(lambda: len({c["remotePublicKey"] for c in restarted.connections}) == 9, timeout=60)
        view = await restarted.peers()
        assert view == {k: 1 for k in everyone if k != restarted.key}
        await restarted.proc.send({"cmd": "send", "data": "back again"})
        await wait_until(lambda: all((restarted.key, b"back again") in p.received for p in pys))


async def test_garbage_on_a_connection_closes_only_that_peer() -> None:
    async with local_testnet() as bootstrap, contextlib.AsyncExitStack() as stack:
        topic = os.urandom(32)
        py = PyPeer(bootstrap, key_pair())
        stack.push_async_callback(py.swarm.aclose)
        await py.swarm.join(topic).flushed()
        bad = await stack.enter_async_context(js_peer(bootstrap, topic))
        good = await stack.enter_async_context(js_peer(bootstrap, topic))
        await wait_until(lambda: set(py.remotes()) == {bad.key, good.key})
        (to_bad,) = [c for c in py.swarm.open_connections if bytes(c.remote_public_key) == bad.key]
        (to_good,) = [c for c in py.swarm.open_connections if bytes(c.remote_public_key) == good.key]
        await bad.proc.send({"cmd": "garbage", "to": py.key.hex()})
        await wait_until(
            lambda: to_bad not in py.swarm.open_connections, what="the corrupted connection closed"
        )
        assert to_bad.error is not None
        assert to_good in py.swarm.open_connections and to_good.connected
        await good.proc.send({"cmd": "send", "data": "still fine"})
        await wait_until(lambda: (good.key, b"still fine") in py.received)


async def test_firewall_rejects_a_js_peer_and_bans_it() -> None:
    async with local_testnet() as bootstrap, contextlib.AsyncExitStack() as stack:
        topic = os.urandom(32)
        blocked_seed = os.urandom(32)
        blocked_key = key_pair(blocked_seed).public_key
        seen: list[bytes] = []
        bans: list[bytes] = []

        def firewall(remote: bytes, _payload: Any) -> bool:
            seen.append(remote)
            return remote == blocked_key

        py = PyPeer(bootstrap, firewall=firewall, on_ban=lambda info, _err: bans.append(info.public_key))
        stack.push_async_callback(py.swarm.aclose)
        await py.swarm.join(topic).flushed()
        blocked = await stack.enter_async_context(js_peer(bootstrap, topic, blocked_seed))
        allowed = await stack.enter_async_context(js_peer(bootstrap, topic))
        await wait_until(lambda: allowed.key in py.remotes() and blocked_key in seen)
        await wait_until(lambda: bool(bans))
        assert blocked_key not in py.remotes()
        assert bans == [blocked_key] and py.swarm.peers[blocked_key].banned
        assert not any(bytes.fromhex(c["remotePublicKey"]) == py.key for c in blocked.connections)

"""A mesh of Autobase peers for the mixed JS/Python network tests: JS peers
(``interop/scripts/autobase-mesh-peer.js``, one process each) and hyperpunch peers (one
Corestore each, in this process) behind one interface, every peer listening for secret
streams, and links between two peers through a TCP proxy the test cuts (both sockets aborted:
each side sees its stream close) and restores (the dialing peer dials the proxy again).

Every peer's view is a Hyperbee (utf-8 keys, json values); apply: ``{add, indexer}`` adds a
writer (or changes an existing one's indexer flag, as JS ``system.add``), ``{remove}``
removes one, ``{put, value}`` puts, ``{del}`` deletes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from test_autobase_js_reader import open_bee

from hyperpunch.autobase import Autobase, Host
from hyperpunch.autobase.apply_state import ApplyNode
from hyperpunch.corestore import Corestore
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.protomux import Protomux
from hyperpunch.secretstream import SecretStream, SecretStreamServer, serve
from jsref import NodeProcess, spawn_node


async def mesh_apply(nodes: list[ApplyNode], view: Hyperbee, host: Host) -> None:
    for node in nodes:
        value = node.value
        if "add" in value:
            await host.add_writer(bytes.fromhex(value["add"]), indexer=bool(value.get("indexer")))
        elif "remove" in value:
            await host.remove_writer(bytes.fromhex(value["remove"]))
        elif "del" in value:
            await view.delete(value["del"])
        else:
            await view.put(value["put"], value["value"])


@dataclasses.dataclass(frozen=True)
class State:
    """What a peer shows: the view's entries, its view core (key, length, tree hash), its
    indexed system core (key, length, tree hash), the indexers, its own writer's state and the
    signed lengths (``view_signed`` only from JS, which keeps the view core's signatures)."""

    entries: list[list[Any]]
    view: tuple[str, int, str]
    system: tuple[str, int, str]
    indexers: list[str]
    writable: bool
    is_indexer: bool
    local_length: int
    system_signed: int
    view_signed: int | None


class Peer:
    name: str
    key: str  # the base key
    local: str  # the local writer's key
    port: int  # where it accepts secret streams

    async def connect(self, port: int) -> None:
        raise NotImplementedError

    async def append(self, values: list[Any]) -> int:
        raise NotImplementedError

    async def update(self) -> None:
        raise NotImplementedError

    async def ack(self, *, force: bool = False) -> bool:
        """Ack if the linearizer wants one (never a self-ack), or anyway with ``force``;
        returns whether it appended."""
        raise NotImplementedError

    async def state(self) -> State:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


class JsPeer(Peer):
    def __init__(self, name: str, proc: NodeProcess, ready: dict[str, Any]) -> None:
        self.name = name
        self._js = proc
        self.key, self.local, self.port = ready["key"], ready["local"], ready["port"]
        self.warnings: list[str] = []

    async def _do(self, cmd: dict[str, Any], event: str) -> dict[str, Any]:
        await self._js.send(cmd)
        return await self._until(event)

    async def _until(self, event: str) -> dict[str, Any]:
        while True:
            msg = await self._js.recv(timeout=120)
            if msg.get("event") == "warning":
                self.warnings.append(msg["message"])
                continue
            if msg.get("event") != event:
                raise AssertionError(f"{self.name}: expected {event!r}, got {msg}\n{self._js.stderr}")
            return msg

    async def connect(self, port: int) -> None:
        await self._do({"cmd": "connect", "port": port}, "connected")

    async def append(self, values: list[Any]) -> int:
        length: int = (await self._do({"cmd": "append", "values": values}, "appended"))["length"]
        return length

    async def update(self) -> None:
        await self._do({"cmd": "update"}, "updated")

    async def ack(self, *, force: bool = False) -> bool:
        before = (await self._do({"cmd": "update"}, "updated"))["length"]
        return bool((await self._do({"cmd": "ack", "force": force}, "acked"))["length"] > before)

    async def state(self) -> State:
        s = await self._do({"cmd": "state"}, "state")
        return State(
            s["entries"],
            (s["viewKey"], s["viewLength"], s["viewTreeHash"]),
            (s["systemKey"], s["systemIndexedLength"], s["systemIndexedTreeHash"]),
            s["indexers"],
            s["writable"],
            s["isIndexer"],
            s["localLength"],
            s["systemSignedLength"],
            s["viewSignedLength"],
        )

    async def aclose(self) -> None:
        await self._do({"cmd": "exit"}, "closed")
        assert await self._js.wait() == 0


class PyPeer(Peer):
    def __init__(self, name: str, root: Corestore, base: Autobase, server: SecretStreamServer) -> None:
        self.name = name
        self.root = root
        self.base = base
        self._server = server
        assert base.key is not None and base.local is not None and base.local.key is not None
        self.key, self.local, self.port = base.key.hex(), base.local.key.hex(), server.port
        self._muxes: list[Protomux] = []

    @classmethod
    async def open(cls, name: str, path: Path, seed: int, key: str | None) -> PyPeer:
        root = Corestore(path, primary_key=bytes([seed]) * 32, unsafe=True)
        await root.ready()
        base = Autobase(
            root,
            None if key is None else bytes.fromhex(key),
            open=open_bee,
            apply=mesh_apply,
            value_encoding="json",
            ack_interval=0,
        )
        await base.ready()
        muxes: list[Protomux] = []

        async def handler(stream: SecretStream) -> None:
            muxes.append(root.replicate(stream))
            await stream.wait_closed()

        peer = cls(name, root, base, await serve(handler, "127.0.0.1", 0))
        peer._muxes = muxes
        return peer

    async def connect(self, port: int) -> None:
        stream = await SecretStream.connect("127.0.0.1", port)
        self._muxes.append(self.root.replicate(stream))

    async def append(self, values: list[Any]) -> int:
        return await self.base.append(values)

    async def update(self) -> None:
        await self.base.update()

    async def ack(self, *, force: bool = False) -> bool:
        if force:
            await self.base.ack()
            return True
        return await self.base.auto_ack()

    async def state(self) -> State:
        base = self.base
        view, system = await base.view_core("view"), await base.system_core()
        return State(
            [[e.key, e.value] async for e in base.view.range()],
            (view.key.hex(), view.length, view.tree_hash.hex()),
            (system.key.hex(), system.length, system.tree_hash.hex()),
            [k.hex() for k in base.indexers],
            base.writable,
            base.is_indexer,
            base.local.length if base.local is not None else 0,
            base.signed_length,
            None,
        )

    async def aclose(self) -> None:
        await self._server.aclose()
        await self.base.aclose()
        for mux in self._muxes:
            with contextlib.suppress(Exception):
                await mux.aclose()
        await self.root.aclose()


class Link:
    """``client`` dials ``server`` through a TCP proxy the test cuts and restores."""

    def __init__(self, client: Peer, server: Peer) -> None:
        self.client, self.server = client, server
        self.up = False
        self._proxy: asyncio.Server | None = None
        self._conns: list[asyncio.StreamWriter] = []
        self.port = 0

    @property
    def name(self) -> str:
        return f"{self.client.name}-{self.server.name}"

    async def start(self) -> None:
        self._proxy = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._proxy.sockets[0].getsockname()[1]
        await self.restore()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        self._conns += [writer, up_writer]

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                w.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        self.up = False
        for w in self._conns:
            w.transport.abort()
        self._conns.clear()

    async def restore(self) -> None:
        self.up = True
        await self.client.connect(self.port)

    async def aclose(self) -> None:
        await self.cut()
        if self._proxy is not None:
            self._proxy.close()
            await self._proxy.wait_closed()


@contextlib.asynccontextmanager
async def js_peer(name: str, seed: int, key: str | None = None) -> AsyncIterator[JsPeer]:
    arg = {"seed": seed} if key is None else {"seed": seed, "key": key}
    async with spawn_node("autobase-mesh-peer.js", json.dumps(arg)) as proc:
        peer = JsPeer(name, proc, await proc.expect("ready"))
        yield peer
        await peer.aclose()


@contextlib.asynccontextmanager
async def py_peer(name: str, path: Path, seed: int, key: str | None = None) -> AsyncIterator[PyPeer]:
    peer = await PyPeer.open(name, path, seed, key)
    try:
        yield peer
    finally:
        await peer.aclose()

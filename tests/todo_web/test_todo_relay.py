"""The todo client through the Python dht-relay (the browser's path) run under Node: a peer on
the relay joins a list whose creator is on the native DHT, is added, writes; its relay socket
drops, it keeps working locally (status offline), reconnects and merges both sides' writes. The
relay refuses custodial clients (the client is non-custodial: no secret key goes to the relay)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from todo_peers import HOST, converged, local_testnet, todo_peer

from hyperpunch.dht import HyperDHT
from hyperpunch.relay import RelayServer

pytestmark = pytest.mark.interop


@contextlib.asynccontextmanager
async def relay(bootstrap: list[str]) -> AsyncIterator[RelayServer]:
    node = HyperDHT(bootstrap=bootstrap, host=HOST)
    await node.ready()
    try:
        async with RelayServer(node, HOST, 0, ws_path="/relay", require_non_custodial=True) as server:
            yield server
    finally:
        await node.aclose()


async def test_relayed_peer_joins_drops_and_merges() -> None:
    async with (
        local_testnet() as bootstrap,
        relay(bootstrap) as server,
        todo_peer("creator", bootstrap=bootstrap) as a,
    ):
        key = (await a.ready())["key"]
        async with todo_peer("relayed", relayUrl=server.url, listKey=key) as b:
            await b.ready()
            await b.writable()
            await a.send({"add": "native"})
            await b.send({"add": "relayed"})
            await converged(a, b)
            await b.send({"drop": True})
            await b.wait_for(lambda: b.status.get("connection") == "offline", "offline status")
            await b.send({"add": "written offline"})
            await a.send({"add": "written while it was away"})
            await b.texts(["native", "relayed", "written offline", "written while it was away"])
            final = await converged(a, b)
            assert b.status["connection"] == "online"
            assert sorted(t["text"] for t in final) == sorted(
                ["native", "relayed", "written offline", "written while it was away"]
            )

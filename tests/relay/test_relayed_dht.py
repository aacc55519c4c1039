"""RelayedDHT (the Python relayed client) through our relay and through the pinned JS relay."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from relay_net import MIB, echo, peer, python_relay, send_and_check_echo
from relay_net import testnet as local_testnet

from hyperpunch.dht import HyperDHT
from hyperpunch.dht.errors import DHTError
from hyperpunch.relay import RelayedDHT
from hyperpunch.relay.errors import RelayRemoteError
from hyperpunch.swarm import Hyperswarm
from jsref import spawn_node

pytestmark = pytest.mark.interop

TOPIC = bytes.fromhex("cd" * 32)


@contextlib.asynccontextmanager
async def js_relay(bootstrap: list[str]) -> AsyncIterator[str]:
    async with spawn_node("relay-server.js", json.dumps({"bootstrap": bootstrap})) as relay:
        yield (await relay.expect("ready"))["url"]


async def lookup_keys(node: HyperDHT | RelayedDHT, topic: bytes) -> set[bytes]:
    found: set[bytes] = set()
    async for res in node.lookup(topic):
        found.update(p.public_key for p in res.peers)
    return found


async def check_api(url: str, bootstrap: list[str], *, custodial: bool = True) -> None:
    async with peer(bootstrap) as native, RelayedDHT(url, custodial=custodial) as client:
        # connect to a native server
        server_kp = HyperDHT.key_pair()
        server = native.create_server(on_connection=echo)
        await server.listen(server_kp)
        stream = await client.connect(server_kp.public_key, timeout=30)
        assert stream.remote_public_key == server_kp.public_key
        sent, got, n = await send_and_check_echo(stream, MIB)
        assert (sent, n) == (got, MIB)
        await asyncio.wait_for(stream.aclose(), 30)  # both sides ended: closes at once
        await server.aclose()
        # unknown key
        with pytest.raises(RelayRemoteError) as info:
            await client.connect(HyperDHT.key_pair().public_key, timeout=30)
        assert info.value.code == "PEER_NOT_FOUND"
        # listen through the relay; a native client echoes through it
        relayed_kp = HyperDHT.key_pair()
        rserver = client.create_server(on_connection=echo)
        await rserver.listen(relayed_kp)
        conn = await native.connect(relayed_kp.public_key, timeout=30)
        sent, got, n = await send_and_check_echo(conn, MIB)
        assert (sent, n) == (got, MIB)
        await conn.aclose()
        await rserver.aclose()
        # announce / lookup / unannounce
        ann_kp = HyperDHT.key_pair()
        await client.announce(TOPIC, ann_kp)
        assert ann_kp.public_key in await lookup_keys(native, TOPIC)
        assert ann_kp.public_key in await lookup_keys(client, TOPIC)
        await client.unannounce(TOPIC, ann_kp)
        assert ann_kp.public_key not in await lookup_keys(native, TOPIC)


async def test_custodial_through_python_relay() -> None:
    async with local_testnet() as bootstrap, python_relay(bootstrap) as relay:
        await check_api(relay.url, bootstrap)
        assert sum(s.open_resources for s in relay.sessions) == 0


async def test_non_custodial_through_python_relay() -> None:
    """Every operation with the key kept here: connect, listen (announced with our signatures),
    announce, unannounce, through a relay that refuses secret keys."""
    async with local_testnet() as bootstrap, python_relay(bootstrap, require_non_custodial=True) as relay:
        await check_api(relay.url, bootstrap, custodial=False)
        assert all(s.error is None for s in relay.sessions)
        assert relay.secret_keys_seen == 0
        assert sum(s.open_resources for s in relay.sessions) == 0


async def test_custodial_through_js_relay() -> None:
    async with local_testnet() as bootstrap, js_relay(bootstrap) as url:
        await check_api(url, bootstrap)


async def test_non_custodial_connect_through_js_relay() -> None:
    """The key never leaves Python: Noise IK steps answered here, ciphertext through the relay."""
    async with local_testnet() as bootstrap, js_relay(bootstrap) as url, peer(bootstrap) as native:
        server_kp = HyperDHT.key_pair()
        server = native.create_server(on_connection=echo)
        await server.listen(server_kp)
        async with RelayedDHT(url) as client:
            stream = await client.connect(server_kp.public_key, timeout=30)
            assert stream.remote_public_key == server_kp.public_key
            sent, got, n = await send_and_check_echo(stream, MIB)
            assert (sent, n) == (got, MIB)
            await asyncio.wait_for(stream.aclose(), 30)
            assert await lookup_keys(client, TOPIC) == set()
        await server.aclose()


@pytest.mark.parametrize("custodial", [True, False], ids=["custodial", "non-custodial"])
async def test_firewall_through_python_relay(custodial: bool) -> None:
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=not custodial) as relay,
        peer(bootstrap) as native,
        RelayedDHT(relay.url, custodial=custodial) as client,
    ):
        denied = native.default_key_pair.public_key
        rserver = client.create_server(firewall=lambda pk, _p, _a: pk == denied, on_connection=echo)
        kp = HyperDHT.key_pair()
        await rserver.listen(kp)
        with pytest.raises(DHTError) as info:
            await native.connect(kp.public_key, timeout=40)
        assert info.value.code == "PEER_CONNECTION_FAILED"
        # another peer gets through the same server
        async with peer(bootstrap) as other:
            conn = await other.connect(kp.public_key, timeout=30)
            sent, got, n = await send_and_check_echo(conn, 1000)
            assert (sent, n) == (got, 1000)
            await conn.aclose()
        await rserver.aclose()


async def swarm_pair_exchange(
    url: str, bootstrap: list[str], *, relayed_is_server: bool, custodial: bool = True
) -> None:
    """A Hyperswarm over RelayedDHT and a native one find each other on a topic and talk."""
    got: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    def on_conn(name: str) -> Any:
        async def handle(conn: Any, _info: Any) -> None:
            conn.write(name.encode())
            message = await conn.read()
            got.put_nowait((name, message or b""))

        return handle

    topic = os.urandom(32)
    async with RelayedDHT(url, custodial=custodial) as rdht, peer(bootstrap) as ndht:
        relayed = Hyperswarm(dht=rdht, on_connection=on_conn("relayed"))
        native = Hyperswarm(dht=ndht, on_connection=on_conn("native"))
        try:
            server, client = (relayed, native) if relayed_is_server else (native, relayed)
            await server.join(topic, server=True, client=False).flushed()
            client.join(topic, server=False, client=True)
            results = dict([await asyncio.wait_for(got.get(), 60), await asyncio.wait_for(got.get(), 60)])
            assert results == {"relayed": b"native", "native": b"relayed"}
        finally:
            await relayed.aclose()
            await native.aclose()


@pytest.mark.parametrize("custodial", [True, False], ids=["custodial", "non-custodial"])
@pytest.mark.parametrize("relayed_is_server", [True, False])
async def test_hyperswarm_over_relayed_dht_through_python_relay(
    relayed_is_server: bool, custodial: bool
) -> None:
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=not custodial) as relay,
    ):
        await swarm_pair_exchange(
            relay.url, bootstrap, relayed_is_server=relayed_is_server, custodial=custodial
        )


@pytest.mark.parametrize("relayed_is_server", [True, False])
async def test_hyperswarm_over_relayed_dht_through_js_relay(relayed_is_server: bool) -> None:
    async with local_testnet() as bootstrap, js_relay(bootstrap) as url:
        await swarm_pair_exchange(url, bootstrap, relayed_is_server=relayed_is_server)


async def test_non_custodial_announce_through_python_relay() -> None:
    """The client signs each record (the published JS relay fails this: APP-LAYER 1.9 Bug B)."""
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=True) as relay,
        peer(bootstrap) as native,
        RelayedDHT(relay.url) as client,
    ):
        kp = HyperDHT.key_pair()
        await client.announce(TOPIC, kp)
        assert kp.public_key in await lookup_keys(native, TOPIC)
        assert kp.public_key in await lookup_keys(client, TOPIC)
        await client.unannounce(TOPIC, kp)
        assert kp.public_key not in await lookup_keys(native, TOPIC)
        assert sum(s.open_resources for s in relay.sessions) == 0

"""The pinned JS ``@hyperswarm/dht-relay`` 0.4.3 client (Node, over ``ws``) through our relay, on a
loopback HyperDHT testnet, custodial and non-custodial: connect, listen (native JS and Python peers
reach it), firewall, lookup, announce / unannounce, errors. A non-custodial client talks to a relay
that refuses secret keys (``require_non_custodial``), and the relay is checked to have seen none."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import pytest
from relay_net import MIB, echo, peer, python_relay, send_and_check_echo
from relay_net import testnet as local_testnet

from hyperpunch.dht import HyperDHT
from hyperpunch.dht.errors import DHTError
from hyperpunch.relay import RelayServer
from jsref import NodeProcess, spawn_node

pytestmark = pytest.mark.interop

SEED_A = "aa" * 32
SEED_B = "bb" * 32
TOPIC = "cc" * 32


CUSTODY = pytest.mark.parametrize("custodial", [True, False], ids=["custodial", "non-custodial"])


def args(**opts: object) -> str:
    return json.dumps(opts)


def no_secret_keys(relay: RelayServer, custodial: bool) -> None:
    """A non-custodial run: no session was refused, and the relay never received a secret key (a
    custodial run shows the counter works: its keys were counted)."""
    if custodial:
        assert relay.secret_keys_seen > 0
        return
    assert all(s.error is None for s in relay.sessions)
    assert relay.secret_keys_seen == 0


@contextlib.asynccontextmanager
async def js_client(relay: RelayServer, **opts: object) -> AsyncIterator[NodeProcess]:
    async with spawn_node("relay-client.js", args(url=relay.url, **opts)) as js:
        await js.expect("ready")
        yield js


async def lookup_keys(node: HyperDHT, topic: bytes) -> set[str]:
    found: set[str] = set()
    async for res in node.lookup(topic):
        found.update(p.public_key.hex() for p in res.peers)
    return found


@CUSTODY
async def test_connect_to_python_server(custodial: bool) -> None:
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=not custodial) as relay,
        peer(bootstrap) as srv_node,
    ):
        server_kp = HyperDHT.key_pair(bytes.fromhex(SEED_A))
        server = srv_node.create_server(on_connection=echo)
        await server.listen(server_kp)
        async with js_client(relay, custodial=custodial) as js:
            await js.send({"cmd": "connect", "publicKey": server_kp.public_key.hex(), "bytes": MIB})
            opened = await js.expect("open")
            assert opened["remotePublicKey"] == server_kp.public_key.hex()
            done = await js.expect("echoed")
            assert done["bytes"] == MIB
            assert done["sent"] == done["received"]
            no_secret_keys(relay, custodial)
        await server.aclose()


@CUSTODY
async def test_connect_to_js_server(custodial: bool) -> None:
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=not custodial) as relay,
        spawn_node("dht-conn-peer.js", args(bootstrap=bootstrap)) as native,
    ):
        await native.expect("ready")
        await native.send({"cmd": "listen", "seed": SEED_A})
        pk = (await native.expect("listening"))["publicKey"]
        async with js_client(relay, seed=SEED_B, custodial=custodial) as js:
            await js.send({"cmd": "connect", "publicKey": pk, "bytes": MIB})
            assert (await js.expect("open"))["remotePublicKey"] == pk
            done = await js.expect("echoed")
            assert done["bytes"] == MIB and done["sent"] == done["received"]
            no_secret_keys(relay, custodial)
        conn = await native.expect("connection")
        assert conn["remotePublicKey"] == HyperDHT.key_pair(bytes.fromhex(SEED_B)).public_key.hex()


async def test_connect_unknown_key_fails_with_peer_not_found() -> None:
    async with local_testnet() as bootstrap, python_relay(bootstrap) as relay, js_client(relay) as js:
        unknown = HyperDHT.key_pair().public_key.hex()
        await js.send({"cmd": "connect", "publicKey": unknown, "bytes": 10})
        err = await js.expect("connect-error")
        assert err["message"].startswith("PEER_NOT_FOUND")
        assert sum(s.open_resources for s in relay.sessions) == 0


@CUSTODY
async def test_listen_reached_by_python_and_js_clients(custodial: bool) -> None:
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=not custodial) as relay,
        js_client(relay, custodial=custodial) as js,
    ):
        await js.send({"cmd": "listen", "seed": SEED_A})
        listening = await js.expect("listening")
        pk = bytes.fromhex(listening["publicKey"])
        # a Python client
        async with peer(bootstrap) as client:
            stream = await client.connect(pk, timeout=30)
            sent, got, n = await send_and_check_echo(stream, MIB)
            assert (sent, n) == (got, MIB)
            assert (await js.expect("connection"))[
                "remotePublicKey"
            ] == client.default_key_pair.public_key.hex()
            await stream.aclose()
            assert (await js.expect("server-closed"))["bytes"] == MIB
        # a native JS client
        async with spawn_node("dht-conn-peer.js", args(bootstrap=bootstrap)) as native:
            await native.expect("ready")
            await native.send({"cmd": "connect", "publicKey": pk.hex(), "bytes": MIB, "seed": SEED_B})
            await native.expect("open")
            done = await native.expect("echoed")
            assert done["bytes"] == MIB and done["sent"] == done["received"]
        await js.send({"cmd": "unlisten"})
        await js.expect("connection")
        await js.expect("server-closed")
        await js.expect("unlistened")
        assert sum(len(s.dht.listening) for s in relay.sessions) == 0
        no_secret_keys(relay, custodial)


@CUSTODY
async def test_firewall_denies_a_peer(custodial: bool) -> None:
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=not custodial) as relay,
        peer(bootstrap) as client,
        js_client(relay, custodial=custodial) as js,
    ):
        denied = client.default_key_pair.public_key.hex()
        await js.send({"cmd": "listen", "seed": SEED_A, "reject": denied})
        pk = bytes.fromhex((await js.expect("listening"))["publicKey"])
        with pytest.raises(DHTError) as info:
            await client.connect(pk, timeout=40)
        assert info.value.code == "PEER_CONNECTION_FAILED"
        # another key gets through the same server
        async with peer(bootstrap) as other:
            stream = await other.connect(pk, timeout=30)
            sent, got, n = await send_and_check_echo(stream, 1000)
            assert (sent, n) == (got, 1000)
            await stream.aclose()
        no_secret_keys(relay, custodial)


async def test_lookup_announce_unannounce() -> None:
    topic = bytes.fromhex(TOPIC)
    announced = HyperDHT.key_pair(bytes.fromhex(SEED_A)).public_key.hex()
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap) as relay,
        peer(bootstrap) as native,
        js_client(relay) as js,
    ):
        await js.send({"cmd": "lookup", "topic": TOPIC})
        assert (await js.expect("lookup"))["peers"] == []
        await js.send({"cmd": "announce", "topic": TOPIC, "seed": SEED_A})
        await js.expect("announced")
        assert announced in await lookup_keys(native, topic)
        await js.send({"cmd": "lookup", "topic": TOPIC})
        assert announced in (await js.expect("lookup"))["peers"]
        await js.send({"cmd": "unannounce", "topic": TOPIC, "seed": SEED_A})
        await js.expect("unannounced")
        assert announced not in await lookup_keys(native, topic)
        assert sum(s.open_resources for s in relay.sessions) == 0


async def test_require_non_custodial_refuses_custodial_clients() -> None:
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=True) as relay,
        spawn_node("relay-client.js", args(url=relay.url)) as js,
    ):
        await js.expect("ready")
        closed = await js.expect("ws-close")
        assert closed["code"] == 1008
        assert closed["reason"].startswith("NON_CUSTODIAL_REQUIRED")


async def test_js_non_custodial_announce_through_python_relay() -> None:
    """The published JS relay never announces for a non-custodial client (Bug B); ours does."""
    topic = bytes.fromhex(TOPIC)
    announced = HyperDHT.key_pair(bytes.fromhex(SEED_A)).public_key.hex()
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=True) as relay,
        peer(bootstrap) as native,
        js_client(relay, custodial=False) as js,
    ):
        await js.send({"cmd": "announce", "topic": TOPIC, "seed": SEED_A})
        await js.expect("announced")
        assert announced in await lookup_keys(native, topic)
        await js.send({"cmd": "unannounce", "topic": TOPIC, "seed": SEED_A})
        await js.expect("unannounced")
        assert announced not in await lookup_keys(native, topic)

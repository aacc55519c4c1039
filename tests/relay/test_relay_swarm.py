"""A JS Hyperswarm whose DHT is the upstream dht-relay client (Node, over ``ws``) through the Python
relay, custodial and non-custodial, joins a topic with a native JS Hyperswarm and a Python one:
each pair connects and greetings go both ways."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
from relay_net import peer, python_relay
from relay_net import testnet as local_testnet

from hyperpunch.swarm import Hyperswarm
from jsref import NodeProcess, spawn_node

pytestmark = pytest.mark.interop

WAIT = 90.0


async def collect(js: NodeProcess, want: set[tuple[str, str]], kinds: set[str]) -> set[tuple[str, str]]:
    """Read ``js`` events until every (event, key-or-data) pair in ``want`` was seen."""
    seen: set[tuple[str, str]] = set()
    while not want <= seen:
        msg = await js.recv(WAIT)
        event = msg.get("event", "")
        if event == "error":
            raise AssertionError(f"{js.script}: {msg}\n{js.stderr}")
        if event == "connection" and "connection" in kinds:
            seen.add(("connection", msg["remotePublicKey"]))
        elif event == "data" and "data" in kinds:
            seen.add(("data", f"{msg['from']}:{msg['data']}"))
    return seen


@pytest.mark.parametrize("custodial", [True, False], ids=["custodial", "non-custodial"])
async def test_js_hyperswarm_on_relayed_dht_meets_native_js_and_python(custodial: bool) -> None:
    topic = os.urandom(32)
    got: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    async def on_python_connection(conn: Any, _info: Any) -> None:
        conn.write(b"from python")
        message = await conn.read()
        key = conn.remote_public_key.hex() if conn.remote_public_key else ""
        got.put_nowait((key, message or b""))

    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=not custodial) as relay,
        peer(bootstrap) as py_node,
    ):
        py_swarm = Hyperswarm(dht=py_node, on_connection=on_python_connection)
        opts = {"url": relay.url, "topic": topic.hex(), "custodial": custodial, "greeting": "from relayed"}
        try:
            async with spawn_node("relay-swarm-peer.js", json.dumps(opts)) as relayed:
                relayed_key = (await relayed.expect("ready", WAIT))["publicKey"]
                await relayed.expect("flushed", WAIT)
                async with spawn_node(
                    "swarm-peer.js", json.dumps({"bootstrap": bootstrap, "topic": topic.hex()})
                ) as native:
                    native_key = (await native.expect("ready"))["publicKey"]
                    await py_swarm.join(topic, server=True, client=True).flushed()
                    py_key = py_swarm.key_pair.public_key.hex()
                    # the relayed swarm meets both, and hears the Python greeting
                    await collect(
                        relayed,
                        {
                            ("connection", native_key),
                            ("connection", py_key),
                            ("data", f"{py_key}:from python"),
                        },
                        {"connection", "data"},
                    )
                    # Python hears the relayed swarm's greeting on its connection to it
                    while True:
                        key, message = await asyncio.wait_for(got.get(), WAIT)
                        if key == relayed_key:
                            assert message == b"from relayed"
                            break
                    # the native JS swarm is connected to the relayed one and hears its greeting
                    await collect(native, {("data", f"{relayed_key}:from relayed")}, {"data"})
                    await native.send({"cmd": "exit"})
                await relayed.send({"cmd": "exit"})
                assert await relayed.wait() == 0
        finally:
            await py_swarm.aclose()
        if not custodial:
            assert relay.secret_keys_seen == 0
        await asyncio.wait_for(relay.wait_sessions(0), WAIT)

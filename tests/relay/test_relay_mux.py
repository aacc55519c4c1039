"""The relay's WebSocket Protomux shared with another channel while a Hypercore replicates over a
relayed connection (JS repo tests ``mux.mjs`` and ``replication.mjs``; dht-relay issue #25): the
upstream client (Node) opens a side channel next to the relay channel; the Python relay's operator
adds the same channel through ``RelayServer(on_session=...)`` and answers each ping; meanwhile the
client downloads a Python Hypercore from a hyperpunch server through the relay."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from relay_net import peer, python_relay
from relay_net import testnet as local_testnet

from hyperpunch.dht import HyperDHT
from hyperpunch.encoding import utf8
from hyperpunch.hypercore import Hypercore
from hyperpunch.protomux import Channel, MessageSpec
from hyperpunch.relay import RelaySession
from hyperpunch.secretstream import SecretStream
from jsref import spawn_node

pytestmark = pytest.mark.interop

SIDE = "hyperpunch/relay-side"
BLOCKS = 200


def add_side_channel(session: RelaySession) -> None:
    """The operator's channel on the client's Protomux: "ping <i>" -> "pong <i>"."""
    holder: list[Channel] = []

    def on_ping(text: str, _channel: Channel) -> None:
        if text.startswith("ping "):
            holder[0].messages[0].send("pong " + text.removeprefix("ping "))

    channel = session.mux.create_channel(SIDE, messages=[MessageSpec(utf8, on_message=on_ping)])
    assert channel is not None
    holder.append(channel)
    channel.open()


@pytest.mark.parametrize("custodial", [True, False], ids=["custodial", "non-custodial"])
async def test_side_channel_while_a_core_replicates_over_the_relay(tmp_path: Path, custodial: bool) -> None:
    blocks = [f"block {i} ".encode() * (1 + i % 50) for i in range(BLOCKS)]
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=not custodial, on_session=add_side_channel) as relay,
        peer(bootstrap) as srv_node,
        Hypercore(tmp_path / "writer") as core,
    ):
        await core.append(blocks)
        assert core.key is not None

        def on_connection(stream: SecretStream) -> None:
            core.replicate(stream)

        server = srv_node.create_server(on_connection=on_connection)
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        opts = {
            "url": relay.url,
            "custodial": custodial,
            "serverKey": kp.public_key.hex(),
            "coreKey": core.key.hex(),
            "storage": str(tmp_path / "js-reader"),
        }
        async with spawn_node("relay-mux-replicate.js", json.dumps(opts)) as js:
            done = await js.expect("replicated", 120)
        assert done["length"] == BLOCKS
        assert done["sha256"] == hashlib.sha256(b"".join(blocks)).hexdigest()
        assert done["pongs"] == BLOCKS
        if not custodial:
            assert relay.secret_keys_seen == 0
        await server.aclose()

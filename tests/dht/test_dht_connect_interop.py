"""HyperDHT connections between hyperpunch and the pinned JS hyperdht 6.34 (interop/scripts/dht-conn-peer.js).

On 127.0.0.1 (JS nodes bind there, see NETWORK-LAB.md): a hyperpunch client connects by key to a
JS server and a JS client to a hyperpunch server, directly and through the hole-punch protocol
(both sides made to believe they are firewalled), each echoing 1 MiB; the byte counts and SHA-256
digests come from the JS side. Also: a Python pair meeting on a JS testnet (JS nodes relay the
handshake and holepunch messages and store the announce), and a JS server firewall refusing us.
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from dht_net import MIB, echo, force_firewalled, peer, send_and_check_echo
from dht_net import testnet as local_testnet

from hyperpunch.dht import HyperDHT
from hyperpunch.dht.errors import PeerConnectionFailedError
from hyperpunch.secretstream import SecretStream
from jsref import spawn_node

pytestmark = pytest.mark.interop

SEED_JS = "33" * 32


MODES = [(False, True), (True, True), (True, False)]
MODE_IDS = ["direct", "holepunch", "holepunch-no-fast-open"]


@pytest.mark.parametrize(("firewalled", "fast_open"), MODES, ids=MODE_IDS)
async def test_py_client_js_server(firewalled: bool, fast_open: bool) -> None:
    async with local_testnet() as bs, peer(bs, firewalled=firewalled) as py:
        opts = json.dumps({"bootstrap": bs, "firewalled": firewalled})
        async with spawn_node("dht-conn-peer.js", opts) as js:
            await js.expect("ready")
            await js.send({"cmd": "listen", "seed": SEED_JS})
            pk = bytes.fromhex((await js.expect("listening"))["publicKey"])
            stream = await asyncio.wait_for(py.connect(pk, local_connection=False, fast_open=fast_open), 30)
            info = stream.user_data["dht"]
            conn = await js.expect("connection", timeout=10)
            assert conn["remotePublicKey"] == py.default_key_pair.public_key.hex()
            assert stream.remote_public_key == pk
            # what JS sees as our address is the socket we really use
            assert stream.transport is not None
            assert conn["port"] == stream.get_extra_info("sockname")[1]
            assert info["path"] == ("holepunched" if firewalled else "direct")
            if not fast_open:  # no low-TTL session first: the path opened in the punch round
                assert py.stats()["punches"]["consistent"] == 1  # type: ignore[index]
            sent, got, n = await send_and_check_echo(stream, MIB)
            assert n == MIB and sent == got
            closed = await js.expect("server-closed", timeout=10)
            assert closed["bytes"] == MIB
            await stream.aclose()
            await js.send({"cmd": "close"})
            await js.expect("closed", timeout=20)


@pytest.mark.parametrize(("firewalled", "fast_open"), MODES, ids=MODE_IDS)
async def test_js_client_py_server(firewalled: bool, fast_open: bool) -> None:
    async with local_testnet() as bs, peer(bs, firewalled=firewalled) as py:
        accepted: asyncio.Queue[SecretStream] = asyncio.Queue()

        async def on_connection(stream: SecretStream) -> None:
            accepted.put_nowait(stream)
            await echo(stream)

        server = py.create_server(on_connection=on_connection)
        kp = HyperDHT.key_pair(os.urandom(32))
        await server.listen(kp)
        opts = json.dumps({"bootstrap": bs, "firewalled": firewalled})
        async with spawn_node("dht-conn-peer.js", opts) as js:
            await js.expect("ready")
            await js.send(
                {
                    "cmd": "connect",
                    "publicKey": kp.public_key.hex(),
                    "bytes": MIB,
                    "localConnection": False,
                    "fastOpen": fast_open,
                }
            )
            opened = await js.expect("open", timeout=30)
            assert opened["remotePublicKey"] == kp.public_key.hex()
            remote = await asyncio.wait_for(accepted.get(), 10)
            info = remote.user_data["dht"]
            assert opened["port"] == remote.get_extra_info("sockname")[1]
            assert info["path"] == ("holepunched" if firewalled else "direct")
            if not fast_open:
                assert py.stats()["punches"]["consistent"] == 1  # type: ignore[index]
            echoed = await js.expect("echoed", timeout=30)
            assert echoed["bytes"] == MIB and echoed["sent"] == echoed["received"]
            await js.send({"cmd": "close"})
            await js.expect("closed", timeout=20)
        await server.aclose()


async def test_py_pair_on_js_testnet() -> None:
    """JS testnet nodes store our announce and relay PEER_HANDSHAKE / PEER_HOLEPUNCH between us."""
    async with spawn_node("dht-conn-peer.js", json.dumps({"testnet": 5})) as js:
        ready = await js.expect("ready", timeout=60)
        bs = ready["bootstrap"]
        async with peer(bs) as a, peer(bs) as b:
            force_firewalled(a)
            force_firewalled(b)
            server = a.create_server(on_connection=echo)
            kp = HyperDHT.key_pair()
            await server.listen(kp)
            assert len(server.relay_addresses) >= 1  # JS nodes accepted the announce
            stream = await asyncio.wait_for(b.connect(kp.public_key, local_connection=False), 30)
            assert stream.user_data["dht"]["path"] == "holepunched"
            sent, got, n = await send_and_check_echo(stream, MIB)
            assert n == MIB and sent == got
            await stream.aclose()
            await server.aclose()
        await js.send({"cmd": "close"})
        await js.expect("closed", timeout=20)


async def test_js_server_firewall_refuses_py_client() -> None:
    async with (
        local_testnet() as bs,
        peer(bs) as py,
        spawn_node("dht-conn-peer.js", json.dumps({"bootstrap": bs})) as js,
    ):
        await js.expect("ready")
        await js.send({"cmd": "listen", "seed": SEED_JS, "reject": py.default_key_pair.public_key.hex()})
        pk = bytes.fromhex((await js.expect("listening"))["publicKey"])
        with pytest.raises(PeerConnectionFailedError):
            await asyncio.wait_for(py.connect(pk), 40)
        await js.send({"cmd": "close"})
        await js.expect("closed", timeout=20)

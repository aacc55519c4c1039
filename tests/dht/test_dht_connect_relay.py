"""Blind-relay fallback (``relay_through``) on a local testnet, with the JS reference on either side.

Hole punching is switched off on both ends (server ``holepunch=False``, client ``holepunch``
callback refusing, no fast open) so the only way through is the relay. Proven: two hyperpunch
peers through the JS blind-relay server; a hyperpunch client to a JS server through a hyperpunch
relay server; a JS client to a hyperpunch server through the JS relay. Each echoes 1 MiB, and the
relay reports the pairing (JS) or counts it (Python).
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from dht_net import MIB, echo, peer, send_and_check_echo
from dht_net import testnet as local_testnet

from hyperpunch.dht import HyperDHT
from hyperpunch.dht.relay import BlindRelayServer, Pair, Unpair, pair_message, unpair_message
from hyperpunch.encoding import decode, encode
from hyperpunch.secretstream import SecretStream
from jsref import spawn_node

pytestmark = pytest.mark.interop

RELAY_SEED = "44" * 32


def _no_punch(*_args: object) -> bool:
    return False


def test_blind_relay_messages_roundtrip() -> None:
    token = bytes(range(32))
    p = Pair(True, token, 300, 0)
    raw = encode(pair_message, p)
    assert raw[0] == 1 and raw[1:33] == token and decode(pair_message, raw) == p
    assert encode(unpair_message, Unpair(token)) == b"\x00" + token


async def test_py_pair_through_js_relay() -> None:
    async with (
        local_testnet() as bs,
        peer(bs, firewalled=True) as a,
        peer(bs, firewalled=True) as b,
        spawn_node("dht-conn-relay.js", json.dumps({"bootstrap": bs, "seed": RELAY_SEED})) as js,
    ):
        relay_pk = bytes.fromhex((await js.expect("ready"))["publicKey"])
        accepted: asyncio.Queue[SecretStream] = asyncio.Queue()

        async def on_connection(stream: SecretStream) -> None:
            accepted.put_nowait(stream)
            await echo(stream)

        server = a.create_server(on_connection=on_connection, holepunch=False)
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        stream = await asyncio.wait_for(
            b.connect(
                kp.public_key,
                relay_through=relay_pk,
                local_connection=False,
                holepunch=_no_punch,
                fast_open=False,
            ),
            40,
        )
        remote = await asyncio.wait_for(accepted.get(), 10)
        assert stream.user_data["dht"]["path"] == "relayed"
        assert remote.user_data["dht"]["path"] == "relayed"
        sent, got, n = await send_and_check_echo(stream, MIB)
        assert n == MIB and sent == got
        events = [await js.recv(10) for _ in range(4)]
        pairs = [e for e in events if e["event"] == "pair"]
        assert sorted(p["isInitiator"] for p in pairs) == [False, True]
        assert len({p["token"] for p in pairs}) == 1
        assert b.stats()["relaying"]["successes"] == 1  # type: ignore[index]
        await stream.aclose()
        await server.aclose()
        await js.send({"cmd": "close"})
        while (msg := await js.recv(20))["event"] != "closed":
            pass
        assert msg["stats"]["pairings"] == 1


async def test_py_client_js_server_through_py_relay() -> None:
    async with local_testnet() as bs, peer(bs) as relay_node, peer(bs, firewalled=True) as client:
        relay = BlindRelayServer(relay_node.create_raw_stream)

        def accept(stream: SecretStream) -> None:
            relay.accept(stream)

        relay_server = relay_node.create_server(on_connection=accept)
        relay_kp = HyperDHT.key_pair(os.urandom(32))
        await relay_server.listen(relay_kp)
        opts = json.dumps({"bootstrap": bs, "firewalled": True})
        async with spawn_node("dht-conn-peer.js", opts) as js:
            await js.expect("ready")
            await js.send({"cmd": "listen", "seed": "55" * 32, "holepunch": False})
            pk = bytes.fromhex((await js.expect("listening"))["publicKey"])
            stream = await asyncio.wait_for(
                client.connect(
                    pk,
                    relay_through=relay_kp.public_key,
                    local_connection=False,
                    holepunch=_no_punch,
                    fast_open=False,
                ),
                40,
            )
            assert stream.user_data["dht"]["path"] == "relayed"
            conn = await js.expect("connection", timeout=10)
            assert conn["remotePublicKey"] == client.default_key_pair.public_key.hex()
            sent, got, n = await send_and_check_echo(stream, MIB)
            assert n == MIB and sent == got
            assert relay.stats["pairings"] == 1 and relay.stats["sessions"] == 2
            await stream.aclose()
            await js.send({"cmd": "close"})
            while (await js.recv(20))["event"] != "closed":
                pass
        await relay.aclose()
        await relay_server.aclose()


async def test_js_client_py_server_through_js_relay() -> None:
    async with (
        local_testnet() as bs,
        peer(bs, firewalled=True) as py,
        spawn_node("dht-conn-relay.js", json.dumps({"bootstrap": bs, "seed": RELAY_SEED})) as relay_js,
    ):
        relay_pk = (await relay_js.expect("ready"))["publicKey"]
        accepted: asyncio.Queue[SecretStream] = asyncio.Queue()

        async def on_connection(stream: SecretStream) -> None:
            accepted.put_nowait(stream)
            await echo(stream)

        server = py.create_server(on_connection=on_connection, holepunch=False)
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        async with spawn_node("dht-conn-peer.js", json.dumps({"bootstrap": bs, "firewalled": True})) as js:
            await js.expect("ready")
            await js.send(
                {
                    "cmd": "connect",
                    "publicKey": kp.public_key.hex(),
                    "bytes": MIB,
                    "localConnection": False,
                    "relayThrough": relay_pk,
                    "holepunch": False,
                }
            )
            await js.expect("open", timeout=40)
            remote = await asyncio.wait_for(accepted.get(), 10)
            assert remote.user_data["dht"]["path"] == "relayed"
            echoed = await js.expect("echoed", timeout=30)
            assert echoed["bytes"] == MIB and echoed["sent"] == echoed["received"]
            await js.send({"cmd": "close"})
            await js.expect("closed", timeout=20)
        await server.aclose()
        await relay_js.send({"cmd": "close"})
        while (msg := await relay_js.recv(20))["event"] != "closed":
            pass
        assert msg["stats"]["pairings"] == 1


async def test_relayed_connection_upgrades_to_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relay first, punch later: both ends move the live stream onto the punched path (JS
    confirmDirectUpgrade) and close their relay connections; the data keeps flowing."""
    from hyperpunch.dht.holepuncher import Holepuncher

    original = Holepuncher.punch

    async def slow_punch(self: Holepuncher) -> bool:
        await asyncio.sleep(0.5)  # let the relay pair first
        return await original(self)

    monkeypatch.setattr(Holepuncher, "punch", slow_punch)
    async with (
        local_testnet() as bs,
        peer(bs, firewalled=True) as a,
        peer(bs, firewalled=True) as b,
        spawn_node("dht-conn-relay.js", json.dumps({"bootstrap": bs, "seed": RELAY_SEED})) as js,
    ):
        relay_pk = bytes.fromhex((await js.expect("ready"))["publicKey"])
        accepted: asyncio.Queue[SecretStream] = asyncio.Queue()

        async def on_connection(stream: SecretStream) -> None:
            accepted.put_nowait(stream)
            await echo(stream)

        server = a.create_server(on_connection=on_connection)
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        stream = await asyncio.wait_for(
            b.connect(kp.public_key, relay_through=relay_pk, local_connection=False, fast_open=False), 40
        )
        remote = await asyncio.wait_for(accepted.get(), 10)
        assert stream.user_data["dht"]["path"] == "relayed"
        assert remote.user_data["dht"]["path"] == "relayed"
        stream.write(b"over the relay")
        assert await asyncio.wait_for(stream.read(), 10) == b"over the relay"
        for _ in range(100):
            if stream.user_data["dht"]["path"] == remote.user_data["dht"]["path"] == "holepunched":
                break
            await asyncio.sleep(0.05)
        for s in (stream, remote):
            info = s.user_data["dht"]
            assert info["path"] == "holepunched" and info["upgraded_from_relay"] is True, info
        # both relay sessions end once the streams moved (the relay closes when drained)
        events = [await js.recv(10) for _ in range(6)]
        kinds = sorted(e["event"] for e in events)
        assert kinds == ["pair", "pair", "session", "session", "session-closed", "session-closed"], events
        sent, got, n = await send_and_check_echo(stream, MIB)
        assert n == MIB and sent == got
        await stream.aclose()
        await server.aclose()
        await js.send({"cmd": "close"})
        while (msg := await js.recv(20))["event"] != "closed":
            pass
        assert msg["stats"]["pairings"] == 1


async def test_relayed_py_client_upgrades_with_js_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relay first, then the JS server's punches reach us: both ends leave the relay (JS
    ``confirmDirectUpgrade`` on its side, ``change_remote`` on ours) and the echo still works."""
    from hyperpunch.dht.holepuncher import Holepuncher

    original = Holepuncher.punch

    async def slow_punch(self: Holepuncher) -> bool:
        await asyncio.sleep(0.5)  # let the relay pair first
        return await original(self)

    monkeypatch.setattr(Holepuncher, "punch", slow_punch)
    async with (
        local_testnet() as bs,
        peer(bs, firewalled=True) as py,
        spawn_node("dht-conn-relay.js", json.dumps({"bootstrap": bs, "seed": RELAY_SEED})) as relay_js,
        spawn_node("dht-conn-peer.js", json.dumps({"bootstrap": bs, "firewalled": True})) as js,
    ):
        relay_pk = bytes.fromhex((await relay_js.expect("ready"))["publicKey"])
        await js.expect("ready")
        await js.send({"cmd": "listen", "seed": "66" * 32})
        pk = bytes.fromhex((await js.expect("listening"))["publicKey"])
        stream = await asyncio.wait_for(
            py.connect(pk, relay_through=relay_pk, local_connection=False, fast_open=False), 40
        )
        assert stream.user_data["dht"]["path"] == "relayed"
        relay_address = stream.user_data["dht"]["remote_address"]
        await js.expect("connection", timeout=10)
        for _ in range(100):
            if stream.user_data["dht"]["path"] == "holepunched":
                break
            await asyncio.sleep(0.05)
        info = stream.user_data["dht"]
        assert info["path"] == "holepunched" and info["upgraded_from_relay"] is True, info
        local_port = stream.get_extra_info("sockname")[1]
        sent, got, n = await send_and_check_echo(stream, MIB)
        assert n == MIB and sent == got
        closed = await js.expect("server-closed", timeout=10)
        assert closed["bytes"] == MIB
        assert (closed["host"], closed["port"]) != tuple(relay_address)  # JS left the relay too
        assert closed["port"] == local_port
        await stream.aclose()
        await js.send({"cmd": "close"})
        await js.expect("closed", timeout=20)
        await relay_js.send({"cmd": "close"})
        while (msg := await relay_js.recv(20))["event"] != "closed":
            pass
        assert msg["stats"]["pairings"] == 1

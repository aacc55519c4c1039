"""The router's relaying decisions (JS ``lib/router.js``), driven with recorded fake requests.

Each PEER_HANDSHAKE / PEER_HOLEPUNCH mode is fed to a :class:`Router` with and without a
forwarding entry; the test checks what it replies or relays, to whom, and with which re-encoded
value (decoded back with the JS-checked codecs of ``dht.messages``), and that undecodable values
are dropped silently.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from hyperpunch.dht.constants import HandshakeMode as M
from hyperpunch.dht.messages import Handshake, Holepunch, handshake, holepunch
from hyperpunch.dht.router import ForwardEntry, Router
from hyperpunch.dht_rpc import Peer
from hyperpunch.encoding import Address, decode, encode

CLIENT = Peer("10.0.0.1", 1000)
RELAY = Address("10.0.0.2", 2000)
OTHER = Address("10.0.0.3", 3000)
TARGET = bytes(32)
HERE = Address("10.0.0.9", 9000)


@dataclass
class FakeReq:
    value: bytes | None
    target: bytes | None = TARGET
    from_: Peer = CLIENT
    to: Address = HERE
    socket: object = None
    sent: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)

    def reply(self, value: bytes | None = None, **kw: Any) -> None:
        self.sent.append(("reply", value, kw))

    def relay(self, value: bytes | None, to: Any, **kw: Any) -> None:
        self.sent.append(("relay", value, {"to": to, **kw}))


def hs(
    mode: int, noise: bytes = b"n" * 8, peer: Address | None = None, relay: Address | None = None
) -> bytes:
    return encode(handshake, Handshake(mode, noise, peer, relay))


def test_handshake_from_client_is_relayed_to_the_server_relay() -> None:
    r = Router()
    r.set(TARGET, ForwardEntry(RELAY, b"rec"))
    req = FakeReq(hs(M.FROM_CLIENT))
    r.on_peer_handshake(req)  # type: ignore[arg-type]
    ((kind, value, kw),) = req.sent
    assert kind == "relay" and kw["to"] == RELAY
    assert decode(handshake, value) == Handshake(M.FROM_RELAY, b"n" * 8, CLIENT.address, None)


def test_handshake_without_route_helps_the_client() -> None:
    req = FakeReq(hs(M.FROM_CLIENT))
    Router().on_peer_handshake(req)  # type: ignore[arg-type]
    assert req.sent == [("reply", None, {"token": False, "closer_nodes": True})]


def test_handshake_from_relay_goes_to_second_relay() -> None:
    r = Router()
    r.set(TARGET, ForwardEntry(RELAY, b"rec"))
    req = FakeReq(hs(M.FROM_RELAY, peer=OTHER))
    r.on_peer_handshake(req)  # type: ignore[arg-type]
    ((kind, value, kw),) = req.sent
    assert kind == "relay" and kw["to"] == RELAY
    assert decode(handshake, value) == Handshake(M.FROM_SECOND_RELAY, b"n" * 8, OTHER, CLIENT.address)


def test_handshake_from_server_replies_to_the_client() -> None:
    req = FakeReq(hs(M.FROM_SERVER, peer=OTHER))
    Router().on_peer_handshake(req)  # type: ignore[arg-type]
    ((kind, value, kw),) = req.sent
    assert kind == "reply" and kw["to"] == OTHER
    assert decode(handshake, value) == Handshake(M.REPLY, b"n" * 8, CLIENT.address, None)


def test_bad_values_are_dropped() -> None:
    r = Router()
    r.set(TARGET, ForwardEntry(RELAY, b"rec"))
    for value in [
        None,
        b"",
        b"\xff\xff",
        hs(M.FROM_CLIENT, noise=b""),
        hs(M.FROM_SERVER),
        hs(M.REPLY),
        hs(9),
    ]:
        req = FakeReq(value)
        r.on_peer_handshake(req)  # type: ignore[arg-type]
        r.on_peer_holepunch(req)  # type: ignore[arg-type]
        assert req.sent == [], value


async def test_local_server_hooks_answer_by_mode() -> None:
    class Hooks:
        async def on_peer_handshake(
            self, noise: bytes, peer: Address | None, req: Any
        ) -> tuple[bytes, object]:
            return b"reply:" + noise, "sock"

        async def on_peer_holepunch(
            self, id: int, payload: bytes, peer: Address, req: Any
        ) -> tuple[bytes, object]:
            return b"hp:" + payload, "sock2"

    spawned: list[asyncio.Task[Any]] = []

    class FakeDHT:
        def spawn(self, coro: Any) -> asyncio.Task[Any]:
            t: asyncio.Task[Any] = asyncio.ensure_future(coro)
            spawned.append(t)
            return t

        def loop_time(self) -> float:
            return 0.0

    r = Router(dht=FakeDHT())
    r.set(TARGET, ForwardEntry(None, b"rec", Hooks()))
    direct = FakeReq(hs(M.FROM_CLIENT))
    relayed = FakeReq(hs(M.FROM_RELAY, peer=OTHER))
    second = FakeReq(hs(M.FROM_SECOND_RELAY, peer=OTHER, relay=RELAY))
    punch = FakeReq(encode(holepunch, Holepunch(M.FROM_RELAY, 3, b"p", OTHER)))
    for req in (direct, relayed, second):
        r.on_peer_handshake(req)  # type: ignore[arg-type]
    r.on_peer_holepunch(punch)  # type: ignore[arg-type]
    await asyncio.gather(*spawned)
    ((k1, v1, o1),) = direct.sent
    assert k1 == "reply" and o1["socket"] == "sock"
    assert decode(handshake, v1) == Handshake(M.REPLY, b"reply:" + b"n" * 8, None, None)
    ((k2, v2, o2),) = relayed.sent
    assert k2 == "relay" and o2["to"] == CLIENT
    assert decode(handshake, v2) == Handshake(M.FROM_SERVER, b"reply:" + b"n" * 8, OTHER, None)
    ((k3, _v3, o3),) = second.sent
    assert k3 == "relay" and o3["to"] == RELAY
    ((k4, v4, o4),) = punch.sent
    assert k4 == "relay" and o4["to"] == CLIENT and o4["socket"] == "sock2"
    assert decode(holepunch, v4) == Holepunch(M.FROM_SERVER, 0, b"hp:p", OTHER)


def test_holepunch_relaying() -> None:
    r = Router()
    r.set(TARGET, ForwardEntry(RELAY, b"rec"))
    req = FakeReq(encode(holepunch, Holepunch(M.FROM_CLIENT, 5, b"x", None)))
    r.on_peer_holepunch(req)  # type: ignore[arg-type]
    ((kind, value, kw),) = req.sent
    assert kind == "relay" and kw["to"] == RELAY
    assert decode(holepunch, value) == Holepunch(M.FROM_RELAY, 5, b"x", CLIENT.address)
    back = FakeReq(encode(holepunch, Holepunch(M.FROM_SERVER, 0, b"y", OTHER)))
    r.on_peer_holepunch(back)  # type: ignore[arg-type]
    ((kind, value, kw),) = back.sent
    assert kind == "reply" and kw["to"] == OTHER
    assert decode(holepunch, value) == Holepunch(M.REPLY, 0, b"y", CLIENT.address)


def test_router_table_bounded_and_expiring() -> None:
    r = Router(ttl=10.0, max_size=2)
    r.set(b"a" * 32, ForwardEntry(RELAY, b"1", None, 0.0))
    r.set(b"b" * 32, ForwardEntry(None, b"2", object(), 0.0))  # a local server never expires
    r.set(b"c" * 32, ForwardEntry(RELAY, b"3", None, 5.0))
    assert r.get(b"a" * 32) is None and len(r) == 2  # the oldest relay entry made room
    assert r.get(b"c" * 32, now=20.0) is None
    assert r.get(b"b" * 32, now=1e9) is not None

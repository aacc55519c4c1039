"""hyperpunch.dht.persistent driven with crafted requests (no network).

The scenario test runs the same request list through JS ``hyperdht/lib/persistent.js``
(interop/scripts/dht-rec-persistent.js) and through :class:`Persistent` and compares every
answer; the other tests pin invariants (expiry on a virtual clock, bounds, robustness).
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpunch.crypto import KeyPair, key_pair
from hyperpunch.dht.constants import Command, Error
from hyperpunch.dht.messages import (
    Announce,
    MutablePutRequest,
    announce,
    decode,
    encode,
    lookup_raw_reply,
    mutable_get_response,
    mutable_put_request,
    peer,
)
from hyperpunch.dht.messages import Peer as PeerRecord
from hyperpunch.dht.persistent import GenerationalCache, Persistent, RecordCache
from hyperpunch.dht.records import mutable_put_value, sign_announce, sign_mutable, sign_unannounce
from hyperpunch.dht.router import Router
from hyperpunch.dht_rpc.requests import IncomingRequest
from hyperpunch.dht_rpc.requests import Peer as NodePeer
from hyperpunch.encoding import Address, uint
from jsref import run_node_json

NODE_ID = hashlib.blake2b(b"storing node", digest_size=32).digest()
TOKEN = hashlib.blake2b(b"token", digest_size=32).digest()
FROM = Address("10.0.0.1", 4000)
WALL = 1_700_000_000_000  # the storing node's Date.now() in ms


def h(b: bytes) -> bytes:
    return hashlib.blake2b(b, digest_size=32).digest()


def kp(i: int) -> KeyPair:
    return key_pair(bytes([i]) * 32)


class FakeReq:
    """Stands in for an IncomingRequest; records the one answer (as the JS script reports it)."""

    def __init__(
        self,
        command: int,
        target: bytes | None = None,
        token: bytes | None = None,
        value: bytes | None = None,
        from_: Address = FROM,
        internal: bool = False,
    ) -> None:
        self.command = command
        self.target = target
        self.token = token
        self.value = value
        self.internal = internal
        self.from_ = NodePeer(from_.host, from_.port, None)
        self.answer: dict[str, Any] = {"kind": "none"}

    def reply(self, value: bytes | None = None, *, token: bool = True, closer_nodes: bool = True) -> None:
        self.answer = {
            "kind": "reply",
            "value": None if value is None else value.hex(),
            "error": 0,
            "token": token,
            "closerNodes": closer_nodes,
        }

    def error(self, code: int, *, token: bool = False, closer_nodes: bool = True) -> None:
        self.answer = {
            "kind": "error",
            "value": None,
            "error": int(code),
            "token": token,
            "closerNodes": closer_nodes,
        }


@dataclass
class Node:
    id: bytes | None = NODE_ID


@dataclass
class Harness:
    wall: float = WALL
    node: Node = field(default_factory=Node)
    router: Router = field(default_factory=Router)
    now: float = 1000.0
    p: Persistent = field(init=False)

    def __post_init__(self) -> None:
        self.p = Persistent(self.node, self.router, wall_clock=lambda: self.wall, rng=random.Random(7))

    def send(self, req: FakeReq) -> dict[str, Any]:
        handled = self.p.on_request(cast(IncomingRequest, req), self.now)
        assert handled
        return req.answer


def ann_value(
    target: bytes,
    key: KeyPair,
    relays: list[Address] | None = None,
    *,
    token: bytes = TOKEN,
    node_id: bytes = NODE_ID,
    refresh: bytes | None = None,
    bump: int = 0,
    unannounce: bool = False,
    corrupt: bool = False,
) -> bytes:
    a = Announce(PeerRecord(key.public_key, list(relays or [])), refresh, None, bump)
    sig = (sign_unannounce if unannounce else sign_announce)(target, token, node_id, a, key)
    if corrupt:
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    return encode(announce, Announce(a.peer, refresh, sig, bump))


def mut_value(key: KeyPair, value: bytes, seq: int, *, corrupt: bool = False) -> bytes:
    p = mutable_put_value(key, value, seq)
    if corrupt:
        p = MutablePutRequest(p.public_key, p.seq, p.value, bytes([p.signature[0] ^ 1]) + p.signature[1:])
    return encode(mutable_put_request, p)


def step(
    command: int,
    target: bytes | None = None,
    token: bytes | None = None,
    value: bytes | None = None,
    from_: Address = FROM,
) -> dict[str, Any]:
    return {
        "command": int(command),
        "target": None if target is None else target.hex(),
        "token": None if token is None else token.hex(),
        "value": None if value is None else value.hex(),
        "from": {"host": from_.host, "port": from_.port},
    }


def scenario() -> list[dict[str, Any]]:
    """Every storage command with good and bad inputs; deterministic (fixed keys and clock)."""
    A, L, U, FP = Command.ANNOUNCE, Command.LOOKUP, Command.UNANNOUNCE, Command.FIND_PEER
    t = h(b"topic")
    t_other = h(b"other topic")
    relays5 = [Address(f"10.1.0.{i}", 1000 + i) for i in range(5)]
    s1 = h(b"refresh secret 2")  # refresh chain: announce carries H(s1); refreshing reveals s1, ...
    s0 = h(s1)
    s2_pre = b"\x42" * 32  # ... and a refresh that reveals a preimage of nothing stored
    self5 = kp(5)
    t5 = h(self5.public_key)
    self8 = kp(8)
    t8 = h(self8.public_key)
    r8 = h(b"refresh secret 8")
    steps = [
        step(A, t, TOKEN, ann_value(t, kp(1), [Address("1.1.1.1", 1)])),
        step(A, t, TOKEN, ann_value(t, kp(2), corrupt=True)),
        step(A, t, None, ann_value(t, kp(2))),
        step(A, t, TOKEN, ann_value(t, kp(2), node_id=h(b"another node"))),
        step(A, t, TOKEN, ann_value(t, kp(2), token=h(b"another token"))),
        step(A, t, TOKEN, ann_value(t_other, kp(2))),
        step(A, t, TOKEN, ann_value(t, kp(2), unannounce=True)),
        step(A, t, TOKEN, ann_value(t, kp(3), relays5, bump=WALL - 1000)),
        step(A, t, TOKEN, ann_value(t, kp(4), bump=WALL + 10 * 60 * 1000)),
        step(L, t),
        step(A, t, TOKEN, ann_value(t, kp(4), bump=WALL + 30_000)),
        step(L, t, TOKEN),
        step(A, t5, TOKEN, ann_value(t5, self5, relays5[:2]), Address("10.0.0.5", 5000)),
        step(FP, t5),
        step(L, t5),
        step(FP, t),
        step(U, t, TOKEN, ann_value(t, kp(1), unannounce=True, corrupt=True)),
        step(U, t, TOKEN, ann_value(t, kp(1))),
        step(U, t, None, ann_value(t, kp(1), unannounce=True)),
        step(U, t, TOKEN, ann_value(t, kp(1), unannounce=True)),
        step(L, t),
        step(U, t5, TOKEN, ann_value(t5, self5, unannounce=True)),
        step(FP, t5),
        # refresh chain
        step(A, t, TOKEN, ann_value(t, kp(6), refresh=s0)),
        step(U, t, TOKEN, ann_value(t, kp(6), unannounce=True)),
        step(L, t),
        step(A, t, TOKEN, encode(announce, Announce(None, s1))),
        step(L, t),
        step(A, t, TOKEN, encode(announce, Announce(None, s1))),
        step(A, t, TOKEN, encode(announce, Announce(None, s2_pre))),
        step(A, t, None, encode(announce, Announce(None, s1))),
        # refresh of an announce-self: the router entry's relay becomes the refresher's address
        step(A, t8, TOKEN, ann_value(t8, self8, refresh=h(r8)), Address("10.0.0.8", 8000)),
        step(A, t8, TOKEN, encode(announce, Announce(None, r8)), Address("10.0.0.88", 8800)),
        step(FP, t8),
        # garbage
        step(A, t, TOKEN, b"\xff\xff\xff"),
        step(A, t, TOKEN, None),
        step(A, None, TOKEN, ann_value(t, kp(7))),
        step(A, t, TOKEN, encode(announce, Announce())),
        step(L, None),
        step(U, t, TOKEN, b"\x01"),
        # mutable
        step(Command.MUTABLE_PUT, h(kp(1).public_key), TOKEN, mut_value(kp(1), b"v1", 1)),
        step(Command.MUTABLE_GET, h(kp(1).public_key), None, encode(uint, 0)),
        step(Command.MUTABLE_GET, h(kp(1).public_key), None, encode(uint, 1)),
        step(Command.MUTABLE_GET, h(kp(1).public_key), None, encode(uint, 2)),
        step(Command.MUTABLE_PUT, h(kp(1).public_key), TOKEN, mut_value(kp(1), b"v1", 1)),
        step(Command.MUTABLE_PUT, h(kp(1).public_key), TOKEN, mut_value(kp(1), b"v1-other", 1)),
        step(Command.MUTABLE_PUT, h(kp(1).public_key), TOKEN, mut_value(kp(1), b"v0", 0)),
        step(Command.MUTABLE_PUT, h(kp(1).public_key), TOKEN, mut_value(kp(1), b"v2", 2)),
        step(Command.MUTABLE_GET, h(kp(1).public_key), None, encode(uint, 0)),
        step(Command.MUTABLE_PUT, h(kp(2).public_key), TOKEN, mut_value(kp(1), b"x", 1)),
        step(Command.MUTABLE_PUT, h(kp(2).public_key), TOKEN, mut_value(kp(2), b"x", 1, corrupt=True)),
        step(Command.MUTABLE_PUT, h(kp(2).public_key), None, mut_value(kp(2), b"x", 1)),
        step(Command.MUTABLE_PUT, h(kp(2).public_key), TOKEN, b"\x00\x01"),
        step(
            Command.MUTABLE_PUT,
            h(kp(2).public_key),
            TOKEN,
            encode(
                mutable_put_request, MutablePutRequest(kp(2).public_key, 1, b"", sign_mutable(1, b"", kp(2)))
            ),
        ),
        step(Command.MUTABLE_GET, h(kp(2).public_key), None, encode(uint, 0)),
        step(Command.MUTABLE_GET, h(kp(1).public_key), None, b"\xff"),
        step(Command.MUTABLE_GET, h(kp(1).public_key), None, None),
        step(
            Command.MUTABLE_PUT, h(kp(3).public_key), TOKEN, mut_value(kp(3), os.urandom(0) + b"z" * 3000, 5)
        ),
        step(Command.MUTABLE_GET, h(kp(3).public_key), None, encode(uint, 5)),
        # immutable
        step(Command.IMMUTABLE_PUT, h(b"imm"), TOKEN, b"imm"),
        step(Command.IMMUTABLE_PUT, h(b"imm2"), TOKEN, b"not imm2"),
        step(Command.IMMUTABLE_PUT, h(b"imm3"), None, b"imm3"),
        step(Command.IMMUTABLE_GET, h(b"imm")),
        step(Command.IMMUTABLE_GET, h(b"imm2")),
        step(Command.IMMUTABLE_GET, h(b"imm3")),
        step(Command.IMMUTABLE_GET, None),
        # plugins: none registered
        step(Command.PLUGIN, t, TOKEN, b"\x03abc\x01\x01\x00"),
    ]
    # more than 20 records under one target: LOOKUP answers 20 of them
    t_many = h(b"many")
    steps += [step(A, t_many, TOKEN, ann_value(t_many, kp(100 + i))) for i in range(25)]
    steps.append(step(L, t_many))
    return steps


def run_python(steps: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    hn = Harness()
    answers = []
    for s in steps:
        t, tok, v = (None if s[k] is None else bytes.fromhex(s[k]) for k in ("target", "token", "value"))
        req = FakeReq(s["command"], t, tok, v, Address(s["from"]["host"], s["from"]["port"]))
        answers.append(hn.send(req))
    router = {
        k.hex(): {"relay": {"host": e.relay.host, "port": e.relay.port}, "record": e.record.hex()}
        for k, e in hn.router._entries.items()
        if e.relay is not None
    }
    return answers, router


def _lookup_peers(value: str) -> tuple[list[bytes], int]:
    r = decode(lookup_raw_reply, bytes.fromhex(value))
    return [encode(peer, p) for p in r.peers], r.bump


@pytest.mark.interop
def test_persistent_answers_like_js_persistent() -> None:
    steps = scenario()
    js = run_node_json(
        "dht-rec-persistent.js", input_obj={"id": NODE_ID.hex(), "wallNow": WALL, "steps": steps}
    )
    py_answers, py_router = run_python(steps)
    assert len(js["answers"]) == len(py_answers) == len(steps)
    kinds = {"reply": 0, "error": 0, "none": 0}
    for i, (s, ja, pa) in enumerate(zip(steps, js["answers"], py_answers, strict=True)):
        kinds[ja["kind"]] += 1
        ctx = f"step {i}: {s['command']} -> js {ja} py {pa}"
        if s["command"] == Command.LOOKUP and ja["kind"] == "reply" and ja["value"] is not None:
            assert pa["kind"] == "reply" and pa["value"] is not None, ctx
            jp, jb = _lookup_peers(ja["value"])
            pp, pb = _lookup_peers(pa["value"])
            assert jb == pb, ctx
            assert len(jp) == len(pp), ctx
            if len(jp) < 20:  # all records: same set (order is random on both sides)
                assert sorted(jp) == sorted(pp), ctx
            else:  # a random 20 of the stored ones
                assert len(set(pp)) == 20
            assert {k: ja[k] for k in ja if k != "value"} == {k: pa[k] for k in pa if k != "value"}, ctx
        else:
            assert ja == pa, ctx
    # the scenario exercises all three outcomes
    assert kinds["reply"] > 10 and kinds["error"] == 2 and kinds["none"] > 10
    assert js["router"] == py_router
    assert py_router[h(kp(8).public_key).hex()]["relay"] == {"host": "10.0.0.88", "port": 8800}


# -- invariants --------------------------------------------------------------------------------


def test_ephemeral_node_and_foreign_commands_are_not_handled() -> None:
    hn = Harness(node=Node(None))
    req = FakeReq(Command.LOOKUP, h(b"x"))
    assert hn.p.on_request(cast(IncomingRequest, req), 0.0) is False
    assert req.answer == {"kind": "none"}
    hn = Harness()
    for cmd in (Command.PEER_HANDSHAKE, Command.PEER_HOLEPUNCH, 42):
        assert hn.p.on_request(cast(IncomingRequest, FakeReq(cmd, h(b"x"))), 0.0) is False
    assert (
        hn.p.on_request(cast(IncomingRequest, FakeReq(Command.LOOKUP, h(b"x"), internal=True)), 0.0) is False
    )


def test_announce_self_goes_to_router_with_relay_and_cut_relays() -> None:
    hn = Harness()
    key = kp(9)
    t = h(key.public_key)
    relays = [Address(f"10.2.0.{i}", 2000 + i) for i in range(6)]
    ans = hn.send(FakeReq(Command.ANNOUNCE, t, TOKEN, ann_value(t, key, relays), Address("10.9.9.9", 9999)))
    assert ans == {"kind": "reply", "value": None, "error": 0, "token": False, "closerNodes": False}
    entry = hn.router.get(t, hn.now)
    assert entry is not None and entry.relay == Address("10.9.9.9", 9999) and entry.inserted == hn.now
    assert decode(peer, entry.record) == PeerRecord(key.public_key, relays[:3])
    assert len(hn.p.records) == 0


def test_records_expire_on_the_virtual_clock_and_gets_keep_mutables_alive() -> None:
    hn = Harness()
    t = h(b"topic")
    hn.send(FakeReq(Command.ANNOUNCE, t, TOKEN, ann_value(t, kp(1))))
    hn.send(FakeReq(Command.MUTABLE_PUT, h(kp(1).public_key), TOKEN, mut_value(kp(1), b"m", 0)))
    hn.send(FakeReq(Command.IMMUTABLE_PUT, h(b"i"), TOKEN, b"i"))
    tick_records = 2 / 3 * 20 * 60  # the JS caches gc every ceil(2/3 maxAge)
    tick_values = 2 / 3 * 48 * 3600

    def lookup_count() -> int:
        a = hn.send(FakeReq(Command.LOOKUP, t))
        return 0 if a["value"] is None else len(decode(lookup_raw_reply, bytes.fromhex(a["value"])).peers)

    hn.now += tick_records * 1.5  # one gc: the record is stale but still served
    assert lookup_count() == 1
    hn.now += tick_records  # second gc: gone
    assert lookup_count() == 0
    # mutables: read once per tick, it stays; the immutable (never read) expires after two ticks
    for _ in range(3):
        hn.now += tick_values
        assert hn.send(FakeReq(Command.MUTABLE_GET, h(kp(1).public_key), None, encode(uint, 0)))["value"]
    assert hn.send(FakeReq(Command.IMMUTABLE_GET, h(b"i")))["value"] is None
    hn.now += 3 * tick_values
    assert hn.send(FakeReq(Command.MUTABLE_GET, h(kp(1).public_key), None, encode(uint, 0)))["value"] is None


def test_stores_are_bounded() -> None:
    c: GenerationalCache[int, int] = GenerationalCache(100, 1000)
    for i in range(10_000):
        c.set(i, i)
        assert len(c) < 200
    assert c.get(9_999) == 9_999 and c.get(0) is None
    rc = RecordCache(100, 1000, random.Random(1))
    for i in range(10_000):
        rc.add(b"t", i.to_bytes(4, "big"), b"r%d" % i)
        assert len(rc) <= 201
    assert 0 < len(rc.get(b"t", 20)) <= 20
    p = Persistent(Node(), Router(), max_size=64, wall_clock=lambda: 0.0)
    for i in range(500):
        v = b"%d" % i
        req = FakeReq(Command.IMMUTABLE_PUT, h(v), TOKEN, v)
        p.on_request(cast(IncomingRequest, req), 0.0)
        assert req.answer["kind"] == "reply"
    assert len(p.immutables) < 64


def test_bump_only_grows_and_is_served_with_lookup() -> None:
    hn = Harness()
    t = h(b"bumped")
    hn.send(FakeReq(Command.ANNOUNCE, t, TOKEN, ann_value(t, kp(1), bump=WALL - 5)))
    hn.send(FakeReq(Command.ANNOUNCE, t, TOKEN, ann_value(t, kp(2), bump=WALL - 10)))
    a = hn.send(FakeReq(Command.LOOKUP, t))
    assert decode(lookup_raw_reply, bytes.fromhex(a["value"])).bump == WALL - 5


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    cmd=st.sampled_from(list(Command)),
    target=st.one_of(st.none(), st.binary(min_size=32, max_size=32)),
    token=st.one_of(st.none(), st.just(TOKEN)),
    value=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_random_requests_never_crash(
    cmd: int, target: bytes | None, token: bytes | None, value: bytes | None
) -> None:
    hn = Harness()
    req = FakeReq(cmd, target, token, value)
    hn.p.on_request(cast(IncomingRequest, req), 0.0)
    # random bytes never carry a valid signature / hash: nothing is stored
    assert len(hn.p.records) == len(hn.p.mutables) == len(hn.p.immutables) == len(hn.router) == 0
    assert req.answer["kind"] in ("none", "reply")
    if req.answer["kind"] == "reply":
        assert cmd in (Command.LOOKUP, Command.FIND_PEER, Command.MUTABLE_GET, Command.IMMUTABLE_GET)
        assert req.answer["value"] is None


def test_mutable_stored_form_is_the_get_response() -> None:
    hn = Harness()
    key = kp(3)
    hn.send(FakeReq(Command.MUTABLE_PUT, h(key.public_key), TOKEN, mut_value(key, b"hello", 4)))
    a = hn.send(FakeReq(Command.MUTABLE_GET, h(key.public_key), None, encode(uint, 4)))
    r = decode(mutable_get_response, bytes.fromhex(a["value"]))
    assert (r.seq, r.value, r.signature) == (4, b"hello", sign_mutable(4, b"hello", key))
    assert hn.send(FakeReq(Command.MUTABLE_PUT, h(key.public_key), TOKEN, mut_value(key, b"x", 3)))[
        "error"
    ] == (Error.SEQ_TOO_LOW)


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["add", "remove", "gc"]), st.integers(0, 3), st.integers(0, 12)),
        max_size=80,
    )
)
def test_record_cache_matches_a_model(ops: list[tuple[str, int, int]]) -> None:
    """Adds keep the first value, removes forget it in both generations, two gcs forget everything."""
    rc = RecordCache(1000, 1000, random.Random(3))
    fresh: dict[tuple[int, int], bytes] = {}
    stale: dict[tuple[int, int], bytes] = {}
    for n, (op, name, key) in enumerate(ops):
        nm, k = bytes([name]), bytes([key])
        if op == "add":
            stale.pop((name, key), None)
            fresh.setdefault((name, key), b"v%d" % n)
            rc.add(nm, k, b"v%d" % n)
        elif op == "remove":
            fresh.pop((name, key), None)
            stale.pop((name, key), None)
            rc.remove(nm, k)
        else:
            rc._gc()
            stale, fresh = fresh, {}
        assert len(rc) == len(fresh) + len(stale)
        for nme in range(4):
            want = sorted(v for (a, _), v in [*fresh.items(), *stale.items()] if a == nme)
            assert sorted(rc.get(bytes([nme]))) == want
            some = rc.get(bytes([nme]), 2)
            assert len(some) == min(2, len(want)) and len(set(some)) == len(some) and set(some) <= set(want)

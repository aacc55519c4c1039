"""Routing table and NAT sampler against traces from the JS modules."""

from __future__ import annotations

import random

from hyperpunch.dht_rpc import NatSampler
from hyperpunch.dht_rpc.routing_table import Node, NodeSet, RoutingTable
from refvectors import section

V = section("dht_rpc")


def test_nat_sampler_traces() -> None:
    for trace in V["nat_sampler"]:
        s = NatSampler()
        for (host, port), step in zip(trace["input"], trace["steps"], strict=True):
            hits = s.add(host, port)
            assert (hits, s.host, s.port, s.size) == (step["hits"], step["host"], step["port"], step["size"])


def test_routing_table_matches_js() -> None:
    v = V["routing_table"]
    t = RoutingTable(bytes.fromhex(v["id"]), k=v["k"])
    full: list[str] = []
    t.on_full = lambda node, row: full.append(node.id.hex())
    for a in v["added"]:
        nid = bytes.fromhex(a["id"])
        assert t.add(Node(nid, "127.0.0.1", 1)) == a["ok"]
    assert full == v["full"]
    assert t.size == v["size"] == len(t)
    for c in v["closest"]:
        got = [n.id.hex() for n in t.closest(bytes.fromhex(c["target"]), c["k"])]
        assert got == c["ids"]
    for r in v["removed"]:
        assert t.remove(bytes.fromhex(r))
        assert not t.remove(bytes.fromhex(r))
        assert t.get(bytes.fromhex(r)) is None
    assert [n.id.hex() for n in t.closest(t.id, 10)] == v["after_remove"]


def _walk_every_row(t: RoutingTable, target: bytes, k: int) -> list[Node]:
    """The JS walk over all 256 rows (rows d..0, then d+1..255), the reference for closest()."""
    x = int.from_bytes(target, "big") ^ int.from_bytes(t.id, "big")
    d = 255 if x == 0 else 256 - x.bit_length()
    out: list[Node] = []
    for i in [*range(d, -1, -1), *range(d + 1, 256)]:
        row = t.rows[i]
        if row is not None:
            out.extend(row.nodes[: k - len(out)])
        if len(out) >= k:
            break
    return out


def test_closest_skips_empty_rows_in_the_same_order_as_the_full_walk() -> None:
    rng = random.Random(7)
    t = RoutingTable(rng.randbytes(32), k=4, rng=random.Random(1))
    ids: list[bytes] = []
    for step in range(600):
        if ids and rng.random() < 0.3:  # removals empty rows again
            assert t.remove(ids.pop(rng.randrange(len(ids))))
        else:
            # ids near the table id too, so that the high rows fill
            nid = bytes(t.id[: rng.randrange(0, 6)]) + rng.randbytes(32)
            nid = nid[:32]
            if t.add(Node(nid, "127.0.0.1", 1 + step)) and nid not in ids:
                ids.append(nid)
        for target in (t.id, rng.randbytes(32), ids[0] if ids else t.id):
            for k in (1, 3, 4, 20, 1 << 30):
                assert t.closest(target, k) == _walk_every_row(t, target, k)
        assert len(t.to_array()) == t.size == len(ids)


def test_routing_table_replace_and_random() -> None:
    t = RoutingTable(bytes(32))
    a = Node(b"\x80" + bytes(31), "1.1.1.1", 1)
    assert t.add(a)
    b = Node(a.id, "2.2.2.2", 2)
    assert t.add(b) and t.size == 1 and t.get(a.id) is b
    assert t.random() is b
    assert t.to_array() == [b]


def test_node_set_order() -> None:
    s = NodeSet()
    nodes = [Node(bytes([i]) * 32, "1.1.1.1", i) for i in range(4)]
    for n in nodes:
        s.add(n)
    s.add(nodes[0])
    assert s.oldest is nodes[1] and s.latest is nodes[0]
    s.remove(nodes[1])
    assert [n.port for n in s.to_array()] == [2, 3, 0]
    assert [n.port for n in s.to_array(reverse=True, limit=2)] == [0, 3]
    assert not s.has(nodes[1]) and len(s) == 3


def test_network_health_transitions() -> None:
    from hyperpunch.dht_rpc.health import NetworkHealth

    stats = {"responses": 0, "timeouts": 0}
    seen: list[str] = []
    h = NetworkHealth(stats, seen.append)

    def tick(responses: int, timeouts: int) -> None:
        stats["responses"] += responses
        stats["timeouts"] += timeouts
        h.update()

    for _ in range(4):
        tick(10, 0)
    assert h.online and not h.degraded and seen[-1] == "online"
    for _ in range(4):
        tick(2, 8)  # 80% timeouts
    assert h.degraded and seen[-1] == "degraded"
    tick(0, 10)
    assert h.online  # one silent tick is not enough
    tick(0, 10)
    assert not h.online and not h.degraded and seen[-1] == "offline"
    tick(5, 0)
    assert h.online
    n = len(seen)
    tick(0, 0)  # idle: nothing changes
    tick(1, 0)
    assert len(seen) == n

"""The sans-IO core on an in-memory network with a virtual clock: queries, retries, maintenance."""

from __future__ import annotations

import random
from typing import Any

import pytest
from dht_memnet import MemNet, bootstrap_network
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpunch.dht_rpc import (
    DOWN_HINT,
    PING,
    DHTRPCError,
    IncomingRequest,
    NodeDestroyedError,
    Response,
    peer_id,
)
from hyperpunch.dht_rpc.core import DHTCore
from hyperpunch.dht_rpc.messages import RequestMessage, encode_request
from hyperpunch.dht_rpc.requests import CongestionWindow, OutgoingRequest
from hyperpunch.encoding import Address, decode, encode, ipv4_address


def xor_closest(target: bytes, ids: list[bytes], k: int = 20) -> list[bytes]:
    t = int.from_bytes(target, "big")
    return sorted(ids, key=lambda i: int.from_bytes(i, "big") ^ t)[:k]


def assert_found_closest(got: list[bytes | None], want: list[bytes]) -> None:
    """Kademlia (JS too) may miss a node at the very edge of the k closest: the walk stops adding a
    reply's closer nodes at the first one not closer than the current k-th best, and replies list
    nodes row by row, not strictly by distance. The head of the list must be exact."""
    assert len(got) == len(want)
    assert got[:15] == want[:15]
    assert len(set(got) & set(want)) >= len(want) - 2
    t = [int.from_bytes(g, "big") for g in got if g is not None]
    assert len(t) == len(got)


class Outcome:
    def __init__(self) -> None:
        self.response: Response | None = None
        self.error: DHTRPCError | None = None
        self.calls = 0

    def ok(self, res: Response, _req: OutgoingRequest) -> None:
        self.calls += 1
        self.response = res

    def fail(self, err: DHTRPCError, _req: Any) -> None:
        self.calls += 1
        self.error = err

    @property
    def done(self) -> bool:
        return self.calls > 0


def run_query(net: MemNet, q: Any) -> dict[str, Any]:
    box: dict[str, Any] = {"data": [], "closed": False}
    q.on_data = box["data"].append
    q.on_close = lambda err: box.update(closed=True, err=err)
    q.start()
    assert net.run(lambda: box["closed"], max_time=300)
    return box


def test_bootstrap_and_find_node_finds_true_closest() -> None:
    net = MemNet(seed=7)
    boot, nodes = bootstrap_network(net, 40)
    all_cores = [boot, *nodes]
    assert all(not c.ephemeral and c.id is not None for c in all_cores)
    assert all(c.id == peer_id(*net.address(c)) for c in all_cores)
    ids = [c.table.id for c in all_cores]
    rng = random.Random(3)
    for _ in range(3):
        target = rng.randbytes(32)
        src = rng.choice(nodes)
        q = src.find_node(target)
        box = run_query(net, q)
        assert box["err"] is None and box["data"]
        want = xor_closest(target, [i for i in ids if i != src.table.id])
        assert_found_closest([p.id for p in q.closest_nodes], want)
        # every reply was delivered to on_data, the closest ones among them
        assert {r.from_.id for r in box["data"]} >= {p.id for p in q.closest_nodes}


def test_query_closest_replies_sorted_and_limited() -> None:
    net = MemNet(seed=11)
    _boot, nodes = bootstrap_network(net, 30)
    target = bytes(32)
    q = nodes[5].find_node(target)
    box = run_query(net, q)
    assert box["err"] is None
    ids = [c.table.id for c in net.cores if c is not nodes[5]]
    assert_found_closest([p.id for p in q.closest_nodes], xor_closest(target, ids))
    dists = [int.from_bytes(p.id or b"", "big") ^ 0 for p in q.closest_nodes]
    assert dists == sorted(dists)  # target 0: distance is the id itself
    assert len(q.closest_replies) == 20
    assert q.successes >= 20


def test_query_survives_dead_nodes_and_sends_down_hints() -> None:
    net = MemNet(seed=5)
    _boot, nodes = bootstrap_network(net, 30)
    dead = nodes[10:16]
    for d in dead:
        net.down.add(net.address(d))
        net.down.add(d.io.client_socket.addr)  # type: ignore[attr-defined]
    net.log_sends = True
    src = nodes[0]
    target = random.Random(9).randbytes(32)
    q = src.find_node(target, retries=0)  # time out at the first cycle, while the walk goes on
    box = run_query(net, q)
    assert box["err"] is None
    alive_ids = [c.table.id for c in net.cores if c not in dead and c is not src]
    assert_found_closest([p.id for p in q.closest_nodes], xor_closest(target, alive_ids))
    # timeouts were seen, and referrers were told about at least one of them
    assert q.errors > 0
    assert net.requests_sent(DOWN_HINT) > 0


def test_request_retries_then_timeout() -> None:
    net = MemNet()
    a = net.add()
    net.log_sends = True
    out = Outcome()
    a.request(None, 42, None, b"x", ("10.9.9.9", 9), on_response=out.ok, on_error=out.fail)
    assert net.run(lambda: out.done, max_time=60)
    assert out.error is not None and out.error.code == "REQUEST_TIMEOUT"
    sends = [s for s in net.sent_log if s[0] == ("10.9.9.9", 9)]
    assert len(sends) == 4  # first send + 3 retries
    assert len({s[2] for s in sends}) == 1  # the same datagram each time
    assert a.io.stats_requests["timeouts"] == 1 and a.io.stats_requests["active"] == 0

    out2 = Outcome()
    net.sent_log.clear()
    a.request(None, 42, None, None, ("10.9.9.9", 9), on_response=out2.ok, on_error=out2.fail, retry=False)
    assert net.run(lambda: out2.done, max_time=60)
    assert len(net.sent_log) == 1 and out2.error is not None


def test_congestion_window_queues_and_drains() -> None:
    w = CongestionWindow(80)
    for _ in range(80):
        assert not w.is_full()
        w.send()
    assert w.is_full()
    w.drain()
    for _ in range(80):
        w.send()
    assert w.is_full()
    w.drain()
    assert w.is_full()  # 160 in total
    w.drain()
    assert w.is_full()
    w.drain()  # back to slot 0: its 80 are forgotten
    assert not w.is_full()

    net = MemNet()
    a = net.add()
    net.log_sends = True
    outs = [Outcome() for _ in range(200)]
    for i, o in enumerate(outs):
        a.request(
            None, 42, None, None, ("10.9.9.9", 1000 + i), on_response=o.ok, on_error=o.fail, retry=False
        )
    net.deliver_all()
    first = len(net.sent_log)
    assert first <= 80
    assert len(a.io.pending) == 200 - first
    assert net.run(lambda: all(o.done for o in outs), max_time=120)
    assert all(o.error is not None and o.error.code == "REQUEST_TIMEOUT" for o in outs)


def test_user_command_reply_error_relay_and_commit_tokens() -> None:
    net = MemNet(seed=3)
    _boot, nodes = bootstrap_network(net, 12)
    tokened: list[bytes] = []

    def handler_for(core: DHTCore, relay_to: tuple[str, int] | None = None) -> Any:
        def handler(req: IncomingRequest) -> bool:
            if req.command == 42:
                if req.token is not None:
                    tokened.append(req.token)
                if relay_to is not None and req.value == b"relay":
                    origin = encode(ipv4_address, Address(req.from_.host, req.from_.port))
                    req.relay(b"relayed" + origin, Address(*relay_to))
                    return True
                if req.value and req.value.startswith(b"relayed"):
                    origin_addr = decode(ipv4_address, req.value[7:])
                    req.reply(b"ok:relayed", to=origin_addr)
                    return True
                req.reply(b"ok:" + (req.value or b""))
                return True
            if req.command == 44:
                req.error(17)
                return True
            return False

        return handler

    a, b, c = nodes[0], nodes[1], nodes[2]
    for n in nodes:
        n.on_request = handler_for(n)
    b.on_request = handler_for(b, relay_to=net.address(c))

    out = Outcome()
    a.request(None, 42, None, b"hi", net.address(b), on_response=out.ok, on_error=out.fail)
    assert net.run(lambda: out.done)
    assert out.response is not None and out.response.value == b"ok:hi" and out.response.token is not None
    token = out.response.token

    # the token is accepted once, a wrong one gets INVALID_TOKEN (2)
    out = Outcome()
    a.request(token, 42, None, b"t", net.address(b), on_response=out.ok, on_error=out.fail)
    assert net.run(lambda: out.done)
    assert out.response is not None and out.response.error == 0 and tokened == [token]
    out = Outcome()
    a.request(bytes(32), 42, None, b"t", net.address(b), on_response=out.ok, on_error=out.fail)
    assert net.run(lambda: out.done)
    assert out.response is not None and out.response.error == 2 and out.response.token is not None

    # error codes and unknown commands
    for command, code in ((44, 17), (45, 1)):
        o = Outcome()
        a.request(None, command, None, None, net.address(b), on_response=o.ok, on_error=o.fail)
        assert net.run(lambda o=o: o.done)  # type: ignore[misc]
        assert o.response is not None and o.response.error == code

    # relay: b forwards to c, c answers a directly with the same tid
    out = Outcome()
    a.request(None, 42, None, b"relay", net.address(b), on_response=out.ok, on_error=out.fail)
    assert net.run(lambda: out.done)
    assert out.response is not None and out.response.value == b"ok:relayed"
    assert (out.response.from_.host, out.response.from_.port) == net.address(c)

    # a query with commit=True re-sends with each closest node's token
    tokened.clear()
    target = random.Random(1).randbytes(32)
    q = a.query(target, 42, b"v", commit=True)
    box = run_query(net, q)
    assert box["err"] is None
    assert len(tokened) == len(q.closest_replies) > 0


def test_commit_without_replies_fails() -> None:
    net = MemNet()
    a = net.add(bootstrap=[("10.9.9.9", 1)])
    q = a.query(bytes(32), 42, None, commit=True)
    box = run_query(net, q)
    assert box["err"] is not None and "Too few nodes responded" in str(box["err"])


def test_adaptive_node_becomes_persistent_after_stable_period() -> None:
    net = MemNet(seed=2)
    boot, _nodes = bootstrap_network(net, 8)
    ad = net.add(bootstrap=[net.address(boot)], host="10.0.9.9")
    assert net.run(lambda: ad.bootstrapped, max_time=60)
    # the quick PING_NAT check found the server socket reachable: not firewalled, still ephemeral
    assert ad.ephemeral and not ad.firewalled and ad.id is None
    assert net.run(lambda: not ad.ephemeral, max_time=240 * 5 + 120)
    events = [e.name for e in net.events_of(ad)]
    assert "persistent" in events and ad.id == peer_id("10.0.9.9", net.address(ad)[1])


def test_firewalled_node_stays_firewalled_and_ephemeral() -> None:
    net = MemNet(seed=4)
    boot, _nodes = bootstrap_network(net, 8)
    fw = net.add(bootstrap=[net.address(boot)], host="10.0.9.8")
    fw.io.server_socket.blocked = True  # type: ignore[attr-defined]
    assert net.run(lambda: fw.bootstrapped, max_time=60)
    net.run(max_time=240 * 5 + 120)
    assert fw.firewalled and fw.ephemeral and fw.id is None
    # an ephemeral node never enters other nodes' tables, but it can still query
    assert all(c.table.get(peer_id(*fw.io.client_socket.addr)) is None for c in net.cores)  # type: ignore[attr-defined]
    box = run_query(net, fw.find_node(bytes(32)))
    assert box["err"] is None and box["data"]


def test_full_row_pings_oldest_and_swaps_dead_node() -> None:
    net = MemNet(seed=8)
    boot, _nodes = bootstrap_network(net, 60)
    x = boot  # everybody talked to the bootstrapper: its table is the fullest
    full_rows = [r for r in x.table.rows if r is not None and len(r.nodes) >= x.table.k]
    assert full_rows, "expected a full row with 61 nodes"
    row = full_rows[0]
    victim = row.nodes[3]
    for n in row.nodes:
        n.pinged = x._tick
    victim.pinged = x._tick - 100
    victim.added = x._tick - 100
    net.down.add((victim.host, victim.port))
    # find a fresh node that falls into the same row of x's table
    i = 0
    while True:
        host = f"10.5.{i // 200}.{i % 200}"
        i += 1
        if x.table._diff(peer_id(host, 20000)) == row.index:
            break
    newcomer = net.add(host=host, port=20000, ephemeral=False, firewalled=False, seed_nat=True)
    assert net.run(lambda: newcomer.bootstrapped and newcomer.id is not None)
    assert x.table._diff(newcomer.table.id) == row.index
    out = Outcome()
    newcomer.ping(net.address(x), on_response=out.ok, on_error=out.fail)
    net.run(lambda: out.done)
    assert x.table.get(newcomer.table.id) is None  # row full: refused for now
    assert net.run(lambda: x.table.get(newcomer.table.id) is not None, max_time=30)
    assert x.table.get(victim.id) is None


def test_down_hint_makes_node_check_and_drop_dead_node() -> None:
    net = MemNet(seed=9)
    _boot, nodes = bootstrap_network(net, 10)
    a, b = nodes[0], nodes[1]
    victim = next(n for n in b.table.to_array() if n.id != a.table.id)
    net.down.add((victim.host, victim.port))
    out = Outcome()
    a.internal_request(
        _peer(net.address(b)),
        DOWN_HINT,
        None,
        encode(ipv4_address, Address(victim.host, victim.port)),
        on_response=out.ok,
        on_error=out.fail,
    )
    assert net.run(lambda: out.done)
    assert out.response is not None and out.response.error == 0
    assert net.run(lambda: b.table.get(victim.id) is None, max_time=30)


def _peer(addr: tuple[str, int]) -> Any:
    from hyperpunch.dht_rpc.requests import Peer

    return Peer(addr[0], addr[1])


def test_delayed_ping_and_destroy() -> None:
    net = MemNet()
    a = net.add(ephemeral=False, firewalled=False, seed_nat=True)
    b = net.add(bootstrap=[net.address(a)])
    out = Outcome()
    b.delayed_ping(net.address(a), 2.5, on_response=out.ok, on_error=out.fail)
    start = net.now
    assert net.run(lambda: out.done, max_time=10)
    assert out.response is not None and net.now - start >= 2.5
    with pytest.raises(DHTRPCError):
        b.delayed_ping(net.address(a), 11, on_response=out.ok, on_error=out.fail)

    pending = Outcome()
    b.request(None, 42, None, None, ("10.9.9.9", 9), on_response=pending.ok, on_error=pending.fail)
    net.events_of(b).clear()
    b.destroy()
    assert pending.error is not None and pending.error.code == "REQUEST_DESTROYED"
    assert [e.name for e in net.events_of(b)] == ["close"]
    with pytest.raises(NodeDestroyedError):
        b.find_node(bytes(32))
    after = Outcome()
    b.request(None, 42, None, None, ("10.9.9.9", 9), on_response=after.ok, on_error=after.fail)
    assert after.error is not None and after.error.code == "DESTROYED"


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=120), max_size=20), st.integers(1, 65535))
def test_junk_datagrams_never_crash_core(junk: list[bytes], port: int) -> None:
    net = MemNet()
    a = net.add(ephemeral=False, firewalled=False, seed_nat=True)
    sock = a.io.server_socket
    for data in junk:
        a.receive_datagram(data, ("10.1.1.1", port), net.now, socket=sock)
        a.receive_datagram(b"\x03" + data, ("10.1.1.1", port), net.now, socket=sock)
        a.receive_datagram(b"\x13" + data, ("10.1.1.1", port), net.now, socket=sock)
    net.queue.clear()
    b = net.add()
    out = Outcome()
    b.ping(net.address(a), on_response=out.ok, on_error=out.fail)
    assert net.run(lambda: out.done)
    assert out.response is not None


def test_internal_requests_are_answered_like_js() -> None:
    """PING_NAT replies go to the port named in the value; FIND_NODE without target is ignored."""
    net = MemNet()
    a = net.add(ephemeral=False, firewalled=False, seed_nat=True)
    sent: list[tuple[tuple[str, int], bytes]] = []
    net.log_sends = True
    sock = a.io.server_socket
    ping_nat = RequestMessage(7, Address(*net.address(a)), 1, True, value=(4321).to_bytes(2, "little"))
    a.receive_datagram(encode_request(ping_nat), ("10.2.2.2", 1234), net.now, socket=sock)
    fn = RequestMessage(8, Address(*net.address(a)), 2, True)
    a.receive_datagram(encode_request(fn), ("10.2.2.2", 1234), net.now, socket=sock)
    unknown = RequestMessage(9, Address(*net.address(a)), 99, True)
    a.receive_datagram(encode_request(unknown), ("10.2.2.2", 1234), net.now, socket=sock)
    sent = [(d, data) for d, _s, data in net.sent_log]
    assert [d for d, _ in sent] == [("10.2.2.2", 4321), ("10.2.2.2", 1234)]
    from hyperpunch.dht_rpc import decode_message

    assert decode_message(sent[1][1]).error == 1  # type: ignore[union-attr]
    assert PING == 0


def test_suspend_fails_inflight_and_resume_refreshes() -> None:
    net = MemNet(seed=12)
    boot, nodes = bootstrap_network(net, 5)
    a = nodes[0]
    net.events_of(a).clear()
    out = Outcome()
    a.request(None, 42, None, None, ("10.9.9.9", 9), on_response=out.ok, on_error=out.fail)
    a.suspend()
    assert out.error is not None and out.error.code == "IO_SUSPENDED"
    # while suspended, requests to it go unanswered
    probe = Outcome()
    boot.ping(net.address(a), on_response=probe.ok, on_error=probe.fail)
    assert net.run(lambda: probe.done, max_time=30)
    assert probe.error is not None and probe.error.code == "REQUEST_TIMEOUT"
    net.log_sends = True
    a.resume()
    events = [e.name for e in net.events_of(a)]
    assert events[:1] == ["suspend"] and "wakeup" in events and events[-1] == "resume"
    net.deliver_all()
    assert net.requests_sent(2) > 0  # the refresh FIND_NODE went out
    probe = Outcome()
    boot.ping(net.address(a), on_response=probe.ok, on_error=probe.fail)
    assert net.run(lambda: probe.done, max_time=30)
    assert probe.response is not None
    assert a.stats["requests"]["total"] > 0  # type: ignore[index]


def test_outbox_mode_and_deadlines() -> None:
    """Without a send callable the core is a pure state machine: datagrams out, deadline out."""
    from hyperpunch.dht_rpc import decode_message

    core = DHTCore(
        bootstrap=[("10.0.0.7", 4000)],
        now=100.0,
        rng=random.Random(1),
        random_bytes=random.Random(2).randbytes,
    )
    core.bind("S", "C", 5000)
    out = core.datagrams_to_send()
    assert len(out) == 1
    sock, data, port, host, ttl = out[0]
    m = decode_message(data)
    assert (sock, port, host, ttl) == ("C", 4000, "10.0.0.7", 0)  # firewalled: client socket
    assert m.command == 2 and m.internal and m.target == core.table.id  # type: ignore[union-attr]
    assert core.next_deadline() == 100.75  # the congestion window drains every 750 ms
    core.handle_timer(101.0)
    retry = core.datagrams_to_send()
    assert [d for _s, d, *_ in retry] == [data]  # same datagram resent
    # answer it: a FIND_NODE reply from the bootstrap node, which tells us our address
    from hyperpunch.dht_rpc import ResponseMessage, encode_response

    reply = encode_response(
        ResponseMessage(m.tid, Address("10.0.0.9", 5001), closer_nodes=[Address("10.0.0.8", 4001)])
    )
    core.receive_datagram(reply, ("10.0.0.7", 4000), 101.0, socket="C")
    nxt = core.datagrams_to_send()
    # the first reply triggers the quick firewall probe (PING_NAT naming our server port 5000),
    # then the walk goes on to the closer node
    assert [(p, h) for _s, _d, p, h, _t in nxt] == [(4000, "10.0.0.7"), (4001, "10.0.0.8")]
    probe = decode_message(nxt[0][1])
    assert probe.command == 1 and probe.value == (5000).to_bytes(2, "little")  # type: ignore[union-attr]
    assert decode_message(nxt[1][1]).command == 2  # type: ignore[union-attr]
    assert core.host == "10.0.0.9"  # NAT sampled from the bootstrap reply


def test_response_waiting_in_the_socket_settles_before_its_timeout() -> None:
    """A response read after its request's deadline (the loop was busy while it sat in the
    socket) settles the request: no resend of a request whose answer is already here."""
    from hyperpunch.dht_rpc import ResponseMessage, decode_message, encode_response

    core = DHTCore(bootstrap=[], now=100.0, rng=random.Random(1), random_bytes=random.Random(2).randbytes)
    core.bind("S", "C", 5000, bootstrap=False)
    core.datagrams_to_send()
    got = Outcome()
    core.ping(("10.0.0.7", 4000), on_response=got.ok, on_error=got.fail)
    sent = core.datagrams_to_send()
    assert len(sent) == 1
    data = sent[0][1]
    m = decode_message(data)
    reply = encode_response(ResponseMessage(m.tid, Address("10.0.0.9", 5001)))
    core.receive_datagram(reply, ("10.0.0.7", 4000), 101.5, socket="C")  # 1.5 s later: past the 1 s timeout
    assert got.response is not None and got.error is None
    assert [d for _s, d, *_ in core.datagrams_to_send() if d == data] == []  # not resent
    requests = core.stats["requests"]
    assert isinstance(requests, dict) and requests["retries"] == 0 and requests["timeouts"] == 0
    # a request that gets no answer is still resent once its deadline passes
    core.ping(("10.0.0.8", 4000), on_response=got.ok, on_error=got.fail)
    lost = core.datagrams_to_send()[0][1]
    core.handle_timer(103.0)
    assert [d for _s, d, *_ in core.datagrams_to_send() if d == lost] == [lost]

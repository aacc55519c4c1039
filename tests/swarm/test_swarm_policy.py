"""The sans-IO policy parts of hyperpunch.swarm against vectors from the pinned JS hyperswarm."""

from __future__ import annotations

import random
from typing import Any

import pytest

from hyperpunch.crypto import KeyPair
from hyperpunch.swarm import (
    BulkTimer,
    ConnectionSet,
    Hyperswarm,
    PeerInfo,
    RefreshSchedule,
    RetryTimer,
    ShuffledPriorityQueue,
    keep_new_connection,
)
from hyperpunch.swarm.discovery import DELAY_GRACE_PERIOD, RANDOM_JITTER, REFRESH_INTERVAL
from hyperpunch.swarm.swarm import _Tracked
from refvectors import section

V = section("swarm")


@pytest.mark.parametrize("case", V["peer_info_priority"], ids=lambda c: str(sorted(c.items())))
def test_peer_info_priority_matches_js(case: dict[str, Any]) -> None:
    p = PeerInfo(bytes(32))
    p.attempts = case["attempts"]
    p.tried = case["tried"]
    p.proven = case["proven"]
    p.explicit = case["explicit"]
    p.banned = case["banned"]
    p.queued = case["queued"]
    assert p.update_priority() is case["ok"]
    assert p.priority == case["priority"]
    assert p.attempts == case["attemptsAfter"]
    assert p.prioritized is case["prioritized"]


@pytest.mark.parametrize("case", V["peer_info_disconnect"])
def test_peer_info_disconnect_matches_js(case: dict[str, Any]) -> None:
    p = PeerInfo(bytes(32))
    p.attempts = case["attempts"]
    t0 = 1000.0
    if case["duration"] is not None:
        p.connected(t0)
    p.disconnected(t0 + (case["duration"] or 0) / 1000)
    assert p.attempts == case["attemptsAfter"]
    assert p.proven is case["proven"]
    assert p.disconnected_time - t0 == pytest.approx(case["disconnectedTime"] / 1000)


def test_retry_timer_choice_matches_js() -> None:
    timer = RetryTimer(backoffs=[1.0, 2.0, 3.0, 4.0], jitter=0)
    names = {id(timer.s_timer): "S", id(timer.m_timer): "M", id(timer.l_timer): "L", id(timer.x_timer): "X"}
    for case in V["retry_timer_choice"]:
        p = PeerInfo(bytes(32))
        p.attempts = case["attempts"]
        p.proven = case["proven"]
        p.explicit = case["explicit"]
        p.banned = case["banned"]
        p.reconnecting = case["reconnecting"]
        chosen = timer.select(p)
        assert (None if chosen is None else names[id(chosen)]) == case["timer"], case


def test_bulk_timer_batches_like_js() -> None:
    v = V["bulk_timer"]
    t: BulkTimer[str] = BulkTimer(v["period"] / 1000)
    assert t.interval == pytest.approx(v["interval"] / 1000)
    fired: list[str] = []
    now = 0.0
    for step in v["log"]:
        op = step["op"]
        if op == "tick":
            deadline = t.next_deadline()
            # an idle tick does nothing: JS fires nothing then either
            now = deadline if deadline is not None else now + t.interval
            batch = t.poll(now)
            if batch:
                fired.append("".join(batch))
        else:
            t.add(op[4:], now)
        assert fired == step["firedSoFar"], step


def test_bulk_timer_item_waits_one_to_two_ticks() -> None:
    t: BulkTimer[str] = BulkTimer(1.0)
    t.add("a", 0.0)
    assert t.next_deadline() == pytest.approx(0.66)
    assert t.poll(0.5) is None
    assert t.poll(0.66) is None  # moved to "next"
    assert t.poll(1.32) == ["a"]
    assert t.next_deadline() is None
    # idle ticks keep the interval's phase: an item added at 5.0 moves at the next multiple
    t.add("b", 5.0)
    d = t.next_deadline()
    assert d is not None and 5.0 < d <= 5.0 + 0.66 + 1e-9
    t.destroy()
    assert t.next_deadline() is None


def test_retry_timer_poll_returns_batches_on_virtual_clock() -> None:
    timer = RetryTimer(backoffs=[1.0, 5.0, 15.0, 600.0], jitter=0, rng=random.Random(1))
    fresh = PeerInfo(b"\x01" * 32)  # attempts 0 -> S
    tried = PeerInfo(b"\x02" * 32)
    tried.attempts = 1  # unproven -> M
    assert timer.add(fresh, 0.0) and timer.add(tried, 0.0)
    fired: dict[bytes, float] = {}
    now = 0.0
    while len(timer):
        d = timer.next_deadline()
        assert d is not None
        now = d
        for batch in timer.poll(now):
            for p in batch:
                fired[p.public_key] = now
    assert 0.66 < fired[fresh.public_key] <= 2 * 0.66 + 1e-9
    assert 3.3 < fired[tried.public_key] <= 2 * 3.3 + 1e-9
    dead = PeerInfo(b"\x03" * 32)
    dead.attempts = 4
    assert not timer.add(dead, now)  # only explicit peers retry after 3 attempts


def test_default_backoffs_have_js_ranges() -> None:
    timer = RetryTimer(rng=random.Random(7))
    s, m, large, x = timer.backoffs
    assert 1.0 <= s <= 1.5 and 5.0 <= m <= 6.0 and 15.0 <= large <= 17.0 and 600.0 <= x <= 720.0
    assert s <= timer.s_timer.period <= s + 0.5


def _key(i: int) -> bytes:
    return bytes([i]) * 32


@pytest.mark.parametrize("case", V["dedup"])
def test_keep_new_connection_matches_js(case: dict[str, Any]) -> None:
    keep = keep_new_connection(
        existing_bytes_read=case["existingBytesRead"],
        existing_bytes_written=case["existingBytesWritten"],
        local_public_key=bytes.fromhex(case["localPublicKey"]),
        remote_public_key=bytes.fromhex(case["remotePublicKey"]),
        new_is_initiator=case["newIsInitiator"],
    )
    assert keep is case["existingDestroyed"]
    assert keep is not case["newDestroyed"]


class _FakeCore:
    def __init__(self, read: int, written: int) -> None:
        self.raw_bytes_read = read
        self.raw_bytes_written = written


class _FakeConn:
    def __init__(self, local: bytes, remote: bytes, initiator: bool, read: int = 0, written: int = 0) -> None:
        self.public_key = local
        self.remote_public_key = remote
        self.is_initiator = initiator
        self.core = _FakeCore(read, written)
        self.aborted = False
        self.keep_alives = 0
        self.error = None
        self.closed = False

    def abort(self) -> None:
        self.aborted = True

    def send_keep_alive(self) -> None:
        self.keep_alives += 1


class _StubDHT:
    def create_server(self, **_: Any) -> Any:
        return object()


@pytest.mark.parametrize("case", V["dedup"])
async def test_swarm_server_dedup_matches_js(case: dict[str, Any]) -> None:
    """Hyperswarm._handle_server_connection on fake connections behaves as JS's on the same input."""
    local = bytes.fromhex(case["localPublicKey"])
    remote = bytes.fromhex(case["remotePublicKey"])
    swarm = Hyperswarm(key_pair=KeyPair(local, bytes(64)), dht=_StubDHT())
    existing_conn = _FakeConn(
        local, remote, case["existingIsInitiator"], case["existingBytesRead"], case["existingBytesWritten"]
    )
    existing = _Tracked(remote, case["existingIsInitiator"], existing_conn)
    swarm._all.add(existing)
    conn = _FakeConn(local, remote, case["newIsInitiator"])
    events: list[Any] = []
    swarm.on_connection = lambda c, info: events.append(c)
    swarm._handle_server_connection(conn)
    assert existing_conn.aborted is case["existingDestroyed"]
    assert conn.aborted is case["newDestroyed"]
    assert existing_conn.keep_alives == case["keepAlivesOnExisting"]
    if existing_conn.aborted:  # JS: the swap runs once the existing connection closed
        swarm._all.delete(existing)
        swarm._run_on_close(existing)
        tracked = swarm._all.get(remote)
        assert (tracked is not None and tracked.conn is conn) is case["newTrackedAfterSwap"]
        swarm.destroyed = True
        for t in list(swarm._tasks.tasks):
            t.cancel()
    else:
        assert len(events) == case["connectionEvents"]


@pytest.mark.parametrize("case", V["max_peers"])
def test_max_peers_factor_matches_js(case: dict[str, Any]) -> None:
    swarm = Hyperswarm(dht=_StubDHT(), max_peers=case["maxPeers"])
    for i in range(case["explicit"]):
        swarm.explicit_peers[_key(200 + i)] = PeerInfo(_key(200 + i))
    for i in range(case["connections"]):
        swarm._all.add(_Tracked(_key(i + 1), True))
    assert swarm._within_max_peers() is case["within"]


def test_connection_set_deletes_only_the_tracked_one() -> None:
    cs: ConnectionSet[_Tracked] = ConnectionSet()
    a = _Tracked(_key(1), True)
    b = _Tracked(_key(1), False)
    cs.add(a)
    cs.add(b)  # replaces a for that key
    cs.delete(a)
    assert cs.get(_key(1)) is b and len(cs) == 1
    cs.delete(b)
    assert not cs.has(_key(1))


def test_shuffled_priority_queue_takes_highest_priority_first() -> None:
    q: ShuffledPriorityQueue[PeerInfo] = ShuffledPriorityQueue(random.Random(3))
    peers = [PeerInfo(_key(i)) for i in range(1, 9)]
    for i, p in enumerate(peers):
        p.priority = i % 5
        q.add(p)
    q.add(peers[0])  # no duplicate entries
    assert len(q) == 8
    assert q.remove(peers[1]) and not q.remove(peers[1])
    order = []
    while (head := q.shift()) is not None:
        order.append(head.priority)
    assert order == sorted(order, reverse=True) and len(order) == 7


def test_shuffled_priority_queue_shuffles_within_a_priority() -> None:
    firsts = set()
    for seed in range(40):
        q: ShuffledPriorityQueue[PeerInfo] = ShuffledPriorityQueue(random.Random(seed))
        for i in range(1, 5):
            q.add(PeerInfo(_key(i)))
        head = q.shift()
        assert head is not None
        firsts.add(head.public_key)
    assert len(firsts) > 1


def test_refresh_schedule_on_virtual_clock() -> None:
    s = RefreshSchedule(random.Random(5))
    d = s.schedule(100.0)
    assert 100.0 + REFRESH_INTERVAL <= d <= 100.0 + REFRESH_INTERVAL + RANDOM_JITTER
    assert s.fire(d) is True and s.deadline is None
    d = s.schedule(0.0, eager=True)
    assert 0.0 <= d <= RANDOM_JITTER
    # the machine slept: a timer found overdue past the grace period reschedules eagerly
    d = s.schedule(0.0)
    late = d + DELAY_GRACE_PERIOD + 1
    assert s.fire(late) is False
    nd = s.deadline
    assert nd is not None and late <= nd <= late + RANDOM_JITTER
    assert s.fire(nd) is True
    # within the grace period it still refreshes
    d = s.schedule(0.0)
    assert s.fire(d + DELAY_GRACE_PERIOD - 1) is True

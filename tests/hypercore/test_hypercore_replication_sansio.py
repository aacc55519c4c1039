"""The replicator is sans-IO: two cores replicate over two :class:`ProtomuxCore` s wired back to back
(:class:`CorePair`), with deferred work queued in a list and run by the test, no event loop I/O.
The exact frames both sides exchange are checked for the open / sync / range / request / data order.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable

from repl_helpers import block, evil_peer_class, reader_of, writer_with

from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.replication import Replicator, attach_replicator, replicate
from hyperpunch.protomux import CorePair

HH = bytes(range(64))


def drive(pair: CorePair, soon: deque[Callable[[], None]]) -> None:
    for _ in range(10_000):
        pair.pump()
        if not soon:
            return
        while soon:
            soon.popleft()()
    raise AssertionError("did not settle")


async def test_replication_over_protomux_cores_without_io() -> None:
    n = 300
    writer = await writer_with(n)
    reader = await reader_of(writer)
    soon: deque[Callable[[], None]] = deque()
    pair = CorePair()
    replicate(writer, pair.a, is_initiator=True, handshake_hash=HH, defer=soon.append)
    replicate(reader, pair.b, is_initiator=False, handshake_hash=HH, defer=soon.append)
    drive(pair, soon)
    assert reader.length == n  # eager upgrade from the writer's sync
    rep = reader.core.replicator
    assert isinstance(rep, Replicator)
    rep.want_range(0, n)
    drive(pair, soon)
    assert reader.contiguous_length == n
    assert [reader.core.storage.get_block(i) for i in range(n)] == [block(i) for i in range(n)]

    # the first frames of the initiator: OPEN on channel 0 for "hypercore/alpha" with its capability
    first = pair.wire_a[0]
    assert first[:2] == b"\x00\x01"
    assert b"hypercore/alpha" in first
    assert writer.discovery_key is not None and writer.discovery_key in first

    # a live append reaches the reader as a sync + range, and is fetched on demand
    await writer.append([block(n)])
    drive(pair, soon)
    assert reader.length == n + 1
    woken: list[BaseException | None] = []
    reader.core.wait_for(n, woken.append)  # what get(n, wait=True) does: a waiter + want_block(n)
    drive(pair, soon)
    assert woken == [None]
    assert reader.core.storage.get_block(n) == block(n)
    assert rep.stats["downloaded"] == n + 1
    await reader.aclose()
    await writer.aclose()


class VirtualClock:
    """A :class:`Scheduler` on virtual time: ``call_soon`` queues, ``advance`` fires due timers."""

    def __init__(self) -> None:
        self.now = 0.0
        self.soon: deque[Callable[[], None]] = deque()
        self.timers: list[tuple[float, int, Callable[[], None]]] = []
        self.seq = 0

    def time(self) -> float:
        return self.now

    def call_soon(self, callback: Callable[[], None], /) -> object:
        self.soon.append(callback)
        return None

    def call_later(self, delay: float, callback: Callable[[], None], /) -> object:
        self.seq += 1
        heapq.heappush(self.timers, (self.now + delay, self.seq, callback))
        return None

    def advance(self, seconds: float, pair: CorePair) -> None:
        end = self.now + seconds
        while self.timers and self.timers[0][0] <= end:
            at, _, callback = heapq.heappop(self.timers)
            self.now = at
            callback()
            drive(pair, self.soon)
        self.now = end


async def test_request_watchdog_on_a_virtual_clock() -> None:
    """A request the remote never answers is given up after ``request_timeout`` of scheduler
    time (not before), the peer is marked as stalling and an ``update()`` waiter learns that no
    peer can upgrade us. No sleeps: the watchdog runs on the test's clock."""
    n = 20
    writer = await writer_with(n)
    reader = await reader_of(writer)
    clock = VirtualClock()
    pair = CorePair()
    # the writer never answers a request with data
    attach_replicator(writer.core, scheduler=clock).peer_factory = evil_peer_class(data=lambda d: None)
    replicate(writer, pair.a, is_initiator=True, handshake_hash=HH, scheduler=clock)
    replicate(reader, pair.b, is_initiator=False, handshake_hash=HH, scheduler=clock, request_timeout=10.0)
    drive(pair, clock.soon)
    rep = reader.core.replicator
    assert isinstance(rep, Replicator)
    [peer] = rep.peers
    [req] = rep._inflight.values()  # the eager upgrade request, unanswered
    assert req.upgrade_length == n and req.sent == 0.0
    upgraded: list[bool] = []
    rep.want_upgrade(upgraded.append)

    sent = len(pair.wire_b)
    clock.advance(9.9, pair)  # the watchdog ran at 5 s: too early to give up
    assert rep._inflight == {req.id: req} and peer.stalls == 0 and upgraded == []
    assert len(pair.wire_b) == sent

    clock.advance(0.1, pair)  # at 10 s the request is stale
    assert req.id not in rep._inflight
    assert peer.stalls == 1 and peer.upgrade_refused == (0, n)
    assert pair.wire_b[-2] == bytes([1, 2, req.id])  # channel 1, message 2 (cancel), the request id
    [manifest_req] = rep._inflight.values()  # next it asks for the manifest alone
    assert manifest_req.manifest and not manifest_req.upgrade_length and manifest_req.sent == 10.0

    clock.advance(10.0, pair)
    assert rep._inflight == {}
    assert peer.stalls == 2 and peer.manifest_refused
    assert upgraded == [False] and reader.length == 0
    assert not clock.timers  # nothing in flight: the watchdog is not re-armed
    await reader.aclose()
    await writer.aclose()


def test_wire_messages_are_the_ten_hypercore_alpha_codecs() -> None:
    assert m.PROTOCOL == "hypercore/alpha"
    expected = (
        m.sync,
        m.request,
        m.cancel,
        m.data,
        m.no_data,
        m.want,
        m.unwant,
        m.bitfield,
        m.range_,
        m.extension,
    )
    assert len(m.WIRE_MESSAGES) == len(expected)
    assert all(got is want for got, want in zip(m.WIRE_MESSAGES, expected, strict=True))

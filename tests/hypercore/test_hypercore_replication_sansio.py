"""The replicator is sans-IO: two cores replicate over two :class:`ProtomuxCore` s wired back to back
(:class:`CorePair`), with deferred work queued in a list and run by the test, no event loop I/O.
The exact frames both sides exchange are checked for the open / sync / range / request / data order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from repl_helpers import block, reader_of, writer_with

from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.replication import Replicator, replicate
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
    fut = reader.core.wait_for(n)  # what get(n, wait=True) does: a waiter + want_block(n)
    drive(pair, soon)
    assert fut.done()
    assert reader.core.storage.get_block(n) == block(n)
    assert rep.stats["downloaded"] == n + 1
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

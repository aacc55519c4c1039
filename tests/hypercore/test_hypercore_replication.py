"""Hypercore replication, hyperpunch <-> hyperpunch, over TCP secret streams and in-memory streams.

Full downloads, live tails, sparse gets, range downloads, update(), many peers, capability checks,
forks (truncate + live reader) and malicious peers (bad blocks, bad signatures, absurd claims).
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from repl_helpers import (
    block,
    eventually,
    evil_peer_class,
    make_evil,
    memory_link,
    reader_of,
    replicator_of,
    tcp_link,
    tcp_streams,
    writer_with,
)

from hyperpunch.hypercore import messages as m
from hyperpunch.hypercore.replication import replicate
from hyperpunch.hypercore.session import Hypercore


async def test_full_download_over_tcp() -> None:
    n = 3000
    writer = await writer_with(n)
    reader = await reader_of(writer)
    uploads: list[int] = []
    writer.on("upload", lambda index, size, peer: uploads.append(index))
    async with tcp_link(reader, writer):
        assert await asyncio.wait_for(reader.update(), 10) is True
        assert reader.length == n
        await asyncio.wait_for(reader.download(0, n).done(), 60)
        for i in range(n):
            assert await reader.get(i, wait=False) == block(i)
        assert await reader.tree_hash() == await writer.tree_hash()
        assert reader.signature == writer.signature
    assert sorted(uploads) == list(range(n))
    await reader.aclose()
    await writer.aclose()


async def test_full_download_over_memory_stream() -> None:
    n = 700
    writer = await writer_with(n, 1000)
    reader = await reader_of(writer)
    async with memory_link(writer, reader):
        assert await asyncio.wait_for(reader.update(), 10) is True
        await asyncio.wait_for(reader.download(0, n).done(), 60)
        assert [await reader.get(i, wait=False) for i in range(n)] == [block(i, 1000) for i in range(n)]
        assert reader.contiguous_length == n
    await reader.aclose()
    await writer.aclose()


async def test_live_tail_follows_appends() -> None:
    writer = await writer_with(10)
    reader = await reader_of(writer)
    got: list[bytes] = []

    async def tail() -> None:
        async for value in reader.read_stream(0, live=True):
            got.append(value)
            if len(got) == 40:
                return

    async with tcp_link(writer, reader):
        task = asyncio.create_task(tail())
        for start in (10, 20, 30):
            await eventually(lambda s=start: len(got) >= s)  # type: ignore[misc]
            await writer.append([block(i) for i in range(start, start + 10)])
        await asyncio.wait_for(task, 20)
        assert got == [block(i) for i in range(40)]
        assert reader.length == 40
    await reader.aclose()
    await writer.aclose()


async def test_sparse_get_fetches_just_that_block() -> None:
    n = 1000
    writer = await writer_with(n)
    reader = await reader_of(writer)
    uploads: list[int] = []
    writer.on("upload", lambda index, size, peer: uploads.append(index))
    async with tcp_link(reader, writer):
        assert await asyncio.wait_for(reader.get(537, timeout=10), 15) == block(537)
        assert await asyncio.wait_for(reader.get(3, timeout=10), 15) == block(3)
        await asyncio.sleep(0.1)
        bits = reader.core.bitfield
        assert bits.count_set(0, n) == 2
        assert bits.get(537) and bits.get(3)
        assert sorted(uploads) == [3, 537]
    await reader.aclose()
    await writer.aclose()


async def test_get_waiting_before_the_first_peer_is_served_once_one_connects() -> None:
    writer = await writer_with(50)
    reader = await reader_of(writer)
    assert reader.core.replicator is None
    pending = asyncio.ensure_future(reader.get(42, timeout=20))
    await asyncio.sleep(0)  # the get is now waiting, with no replicator to ask
    assert not pending.done()
    try:
        async with tcp_link(reader, writer):
            assert await asyncio.wait_for(pending, 15) == block(42)
    finally:
        pending.cancel()
        await reader.aclose()
        await writer.aclose()


async def test_range_download_stores_only_the_range() -> None:
    n = 2000
    writer = await writer_with(n)
    reader = await reader_of(writer)
    async with tcp_link(reader, writer):
        assert await asyncio.wait_for(reader.update(), 10)
        await asyncio.wait_for(reader.download(700, 1300).done(), 30)
        await asyncio.sleep(0.1)
        assert await reader.has(700, 1300)
        assert reader.core.bitfield.count_set(0, n) == 600
        assert not await reader.has(699) and not await reader.has(1300)
        assert await reader.get(1000, wait=False) == block(1000)
    await reader.aclose()
    await writer.aclose()


async def test_update_is_false_without_peers_or_news() -> None:
    writer = await writer_with(5)
    reader = await reader_of(writer)
    assert await reader.update() is False  # no replicator, no peers
    async with tcp_link(reader, writer):
        assert await asyncio.wait_for(reader.update(), 10) is True
        assert reader.length == 5
        assert await asyncio.wait_for(reader.update(), 10) is False
    await reader.aclose()
    await writer.aclose()


async def test_many_peers_download_and_serve() -> None:
    n = 2000
    writer = await writer_with(n)
    mirror = await reader_of(writer)
    async with tcp_link(writer, mirror):
        await asyncio.wait_for(mirror.update(), 10)
        await asyncio.wait_for(mirror.download(0, n).done(), 60)
        readers = [await reader_of(writer) for _ in range(2)]
        from_writer: list[int] = []
        from_mirror: list[int] = []
        writer.on("upload", lambda i, s, p: from_writer.append(i))
        mirror.on("upload", lambda i, s, p: from_mirror.append(i))
        async with (
            tcp_link(readers[0], writer),
            tcp_link(readers[0], mirror),
            tcp_link(readers[1], mirror),
            tcp_link(readers[1], readers[0]),
        ):
            for r in readers:
                await eventually(lambda r=r: len(r.peers) == 2)  # type: ignore[misc]
            for r in readers:
                await asyncio.wait_for(r.update(), 10)  # may already be upgraded (eager upgrades)
                assert r.length == n
            await asyncio.gather(*(asyncio.wait_for(r.download(0, n).done(), 60) for r in readers))
            for r in readers:
                assert [await r.get(i, wait=False) for i in range(0, n, 97)] == [
                    block(i) for i in range(0, n, 97)
                ]
                assert r.contiguous_length == n
        assert len(from_writer) + len(from_mirror) >= n  # reader 0 got every block from one of them
        for r in readers:
            await r.aclose()
    await mirror.aclose()
    await writer.aclose()


async def test_wrong_capability_closes_and_records_nothing() -> None:
    writer = await writer_with(20)
    reader = await reader_of(writer)
    async with memory_link(writer, reader, hh_a=b"\x01" * 64, hh_b=b"\x02" * 64) as link:
        await eventually(lambda: link.a.destroyed or link.b.destroyed, 10)
        assert reader.length == 0
        assert reader.core.bitfield.first_set(0) == -1
        assert not reader.peers and not writer.peers
    await reader.aclose()
    await writer.aclose()


async def test_truncate_then_live_reader_follows_the_new_fork() -> None:
    writer = await writer_with(100)
    reader = await reader_of(writer)
    async with tcp_link(writer, reader):
        assert await asyncio.wait_for(reader.update(), 10)
        await asyncio.wait_for(reader.download(0, 100).done(), 30)
        await writer.truncate(60)
        new = [b"fork-1 block %d" % i for i in range(60, 90)]
        await writer.append(new)
        assert writer.fork == 1
        await eventually(lambda: reader.fork == 1 and reader.length == 90)
        assert await asyncio.wait_for(reader.get(89, timeout=10), 15) == new[-1]
        for i in range(60, 90):
            assert await asyncio.wait_for(reader.get(i, timeout=10), 15) == new[i - 60]
        for i in range(60):
            assert await reader.get(i, wait=False) == block(i)
        assert await reader.tree_hash() == await writer.tree_hash()
    await reader.aclose()
    await writer.aclose()


# --- malicious peers -------------------------------------------------------------------------------


async def _honest_and_evil(
    evil_class: type, n: int = 500
) -> tuple[Hypercore, Hypercore, Hypercore, Hypercore]:
    writer = await writer_with(n)
    evil = await reader_of(writer)
    make_evil(evil, evil_class)
    reader = await reader_of(writer)
    return writer, evil, reader, await reader_of(writer)


def _flip_block(d: m.Data) -> m.Data:
    if d.block is None:
        return d
    value = bytes([d.block.value[0] ^ 1]) + d.block.value[1:]
    return dataclasses.replace(d, block=dataclasses.replace(d.block, value=value))


def _bad_signature(d: m.Data) -> m.Data:
    if d.upgrade is None:
        return d
    return dataclasses.replace(d, upgrade=dataclasses.replace(d.upgrade, signature=b"\x05" * 64))


@pytest.mark.parametrize("tamper", [_flip_block, _bad_signature], ids=["bad-block", "bad-signature"])
async def test_malicious_data_is_refused_and_honest_peer_serves(tamper: object) -> None:
    n = 500
    writer = await writer_with(n)
    evil = await reader_of(writer)
    async with tcp_link(writer, evil):
        await asyncio.wait_for(evil.update(), 10)
        await asyncio.wait_for(evil.download(0, n).done(), 30)
    make_evil(evil, evil_peer_class(data=tamper))  # type: ignore[arg-type]
    reader = await reader_of(writer)
    async with tcp_link(reader, evil):
        await eventually(lambda: len(reader.peers) == 1)
        if tamper is _bad_signature:
            assert await asyncio.wait_for(reader.update(), 10) is False
            assert reader.length == 0
        else:
            await asyncio.wait_for(reader.update(), 10)
            assert reader.length == n
            with pytest.raises(Exception, match="timed out"):
                await reader.get(7, timeout=1)
            assert not reader.core.bitfield.get(7)
        assert replicator_of(reader).stats["invalid_data"] >= 1
        assert reader.peers[0].paused
        async with tcp_link(reader, writer):
            await eventually(lambda: len(reader.peers) == 2)
            assert await asyncio.wait_for(reader.get(7, timeout=10), 15) == block(7)
            await asyncio.wait_for(reader.download(0, n).done(), 30)
            assert [await reader.get(i, wait=False) for i in range(n)] == [block(i) for i in range(n)]
            assert await reader.tree_hash() == await writer.tree_hash()
    await reader.aclose()
    await evil.aclose()
    await writer.aclose()


async def test_absurd_claims_are_harmless() -> None:
    n = 300
    writer = await writer_with(n)
    huge = 1 << 50

    def lie(s: m.Sync) -> m.Sync:
        return dataclasses.replace(s, length=huge, can_upgrade=True)

    evil = await reader_of(writer)
    async with tcp_link(writer, evil):
        await asyncio.wait_for(evil.update(), 10)
        await asyncio.wait_for(evil.download(0, n).done(), 30)
    make_evil(evil, evil_peer_class(sync=lie))
    reader = await reader_of(writer)
    async with tcp_link(reader, evil):
        await eventually(lambda: len(reader.peers) == 1)
        peer = reader.peers[0]
        peer.on_range(m.Range(huge, huge), None)
        peer.on_range(m.Range(1 << 40, 1), None)
        peer.on_bitfield(m.Bitfield(huge & ~31, [0xFFFFFFFF] * 4), None)
        # the evil peer cannot prove a length of 2^50: the upgrade fails, nothing is recorded
        assert await asyncio.wait_for(reader.update(), 10) is False
        assert reader.length == 0
        async with tcp_link(reader, writer):
            await eventually(lambda: len(reader.peers) == 2)
            await asyncio.wait_for(reader.update(), 10)
            assert reader.length == n
            await asyncio.wait_for(reader.download(0, n).done(), 30)
            assert await reader.get(n - 1, wait=False) == block(n - 1)
    await reader.aclose()
    await evil.aclose()
    await writer.aclose()


async def test_unsolicited_data_is_ignored() -> None:
    writer = await writer_with(10)
    reader = await reader_of(writer)
    async with tcp_link(reader, writer):
        assert await asyncio.wait_for(reader.update(), 10)
        peer = reader.peers[0]
        proof = writer.core.tree.proof(block=m.RequestBlock(4, 0))
        assert proof.block is not None
        data = m.Data(12345, 0, m.DataBlock(4, block(4), proof.block.nodes))
        peer.on_data(data, None)
        assert not reader.core.bitfield.get(4)
    await reader.aclose()
    await writer.aclose()


async def test_peer_leaving_mid_download_hands_its_requests_to_others() -> None:
    n = 4000
    writer = await writer_with(n)
    mirror = await reader_of(writer)
    async with tcp_link(writer, mirror):
        await asyncio.wait_for(mirror.update(), 10)
        await asyncio.wait_for(mirror.download(0, n).done(), 60)
        reader = await reader_of(writer)
        async with tcp_link(reader, writer):
            link = tcp_link(reader, mirror)
            doomed = await link.__aenter__()
            await eventually(lambda: len(reader.peers) == 2)
            download = reader.download(0, n)
            await eventually(lambda: reader.core.bitfield.count_set(0, n) > 0)
            await doomed.aclose()  # the mirror goes away with requests in flight
            await link.__aexit__(None, None, None)
            await asyncio.wait_for(download.done(), 60)
            assert len(reader.peers) == 1
            assert [await reader.get(i, wait=False) for i in range(0, n, 131)] == [
                block(i) for i in range(0, n, 131)
            ]
            assert replicator_of(reader)._inflight == {}
        await reader.aclose()
    await mirror.aclose()
    await writer.aclose()


async def test_extension_messages_both_ways() -> None:
    writer = await writer_with(3)
    reader = await reader_of(writer)
    got_w: list[tuple[bytes, object]] = []
    got_r: list[bytes] = []
    ext_w = writer.register_extension("demo", on_message=lambda msg, peer: got_w.append((msg, peer)))
    ext_r = reader.register_extension("demo", on_message=lambda msg, peer: got_r.append(msg))
    async with tcp_link(reader, writer):
        await eventually(lambda: len(reader.peers) == 1 and len(writer.peers) == 1)
        ext_r.broadcast(b"hello writer")
        ext_r.broadcast(b"again")  # the second one is sent with an empty name (same as last)
        await eventually(lambda: len(got_w) == 2)
        assert [g[0] for g in got_w] == [b"hello writer", b"again"]
        ext_w.send(b"hi reader", got_w[0][1])  # type: ignore[arg-type]
        await eventually(lambda: got_r == [b"hi reader"])
    await reader.aclose()
    await writer.aclose()


async def test_stalling_peer_times_out_and_honest_peer_serves() -> None:
    n = 400
    writer = await writer_with(n)
    evil = await reader_of(writer)
    async with tcp_link(writer, evil):
        await asyncio.wait_for(evil.update(), 10)
        await asyncio.wait_for(evil.download(0, n).done(), 30)
    make_evil(evil, evil_peer_class(data=lambda d: None))  # accepts requests, never answers
    reader = await reader_of(writer)
    async with tcp_link(reader, evil):
        replicator_of(reader).request_timeout = 0.3
        await eventually(lambda: len(reader.peers) == 1)
        assert await asyncio.wait_for(reader.update(), 10) is False  # the upgrade request timed out
        stalled = reader.peers[0]
        assert stalled.stalls >= 1
        async with tcp_link(reader, writer):
            await eventually(lambda: len(reader.peers) == 2)
            await asyncio.wait_for(reader.update(), 10)
            assert reader.length == n
            await asyncio.wait_for(reader.download(0, n).done(), 30)
            assert [await reader.get(i, wait=False) for i in range(n)] == [block(i) for i in range(n)]
    await reader.aclose()
    await evil.aclose()
    await writer.aclose()


async def test_absurd_requests_get_no_data_and_serving_continues() -> None:
    n = 200
    writer = await writer_with(n)
    reader = await reader_of(writer)
    async with tcp_link(reader, writer):
        await eventually(lambda: len(reader.peers) == 1 and len(writer.peers) == 1)
        wire = reader.peers[0]._w_request
        big = 1 << 52
        bad = [
            m.Request(900_001, 0, block=m.RequestBlock(big, 0)),
            m.Request(900_002, 0, block=m.RequestBlock(5, big)),
            m.Request(900_003, 0, hash=m.RequestBlock(big, 3)),
            m.Request(900_004, 0, upgrade=m.RequestUpgrade(0, big)),
            m.Request(900_005, 0, upgrade=m.RequestUpgrade(big, 1)),
            m.Request(900_006, 0, seek=m.RequestSeek(big, 0)),
            m.Request(900_007, 7, block=m.RequestBlock(1, 0)),
        ]
        for req in bad:
            wire.send(req)
        await eventually(lambda: replicator_of(writer).stats["invalid_requests"] >= 4)
        assert replicator_of(writer).stats["uploaded"] == 0
        await asyncio.wait_for(reader.update(), 10)
        await asyncio.wait_for(reader.download(0, n).done(), 30)
        assert await reader.get(n - 1, wait=False) == block(n - 1)
    await reader.aclose()
    await writer.aclose()


async def test_two_cores_share_one_stream() -> None:
    w1, w2 = await writer_with(50), await writer_with(70)
    r1, r2 = await reader_of(w1), await reader_of(w2)
    async with tcp_streams() as (sa, sb):
        mux_a = replicate(r1, sa)
        assert replicate(r2, sa) is mux_a  # the mux already on the stream is reused
        mux_b = replicate(w1, sb)
        replicate(w2, sb)
        await eventually(lambda: r1.length == 50 and r2.length == 70)
        await asyncio.wait_for(r1.download(0, 50).done(), 20)
        await asyncio.wait_for(r2.download(0, 70).done(), 20)
        assert await r1.get(49, wait=False) == block(49)
        assert await r2.get(69, wait=False) == block(69)
        await mux_a.aclose()
        await mux_b.aclose()
    for c in (r1, r2, w1, w2):
        await c.aclose()


async def test_cleared_blocks_are_fetched_again_and_the_drop_is_announced() -> None:
    n = 100
    writer = await writer_with(n)
    reader = await reader_of(writer)
    async with tcp_link(reader, writer):
        await asyncio.wait_for(reader.update(), 10)
        await asyncio.wait_for(reader.download(0, n).done(), 20)
        await eventually(lambda: writer.peers[0].remote_contiguous == n)
        await reader.clear(10, 20)
        assert not await reader.has(15)
        await eventually(lambda: writer.peers[0].remote_contiguous == 10)  # range{drop} arrived
        assert not writer.peers[0].has_block(15) and writer.peers[0].has_block(9)
        assert await asyncio.wait_for(reader.get(15, timeout=10), 15) == block(15)
    await reader.aclose()
    await writer.aclose()


async def test_unprovable_fork_claim_is_dropped() -> None:
    n = 50
    writer = await writer_with(n)
    evil = await reader_of(writer)
    async with tcp_link(writer, evil):
        await asyncio.wait_for(evil.update(), 10)
        await asyncio.wait_for(evil.download(0, n).done(), 20)
    make_evil(evil, evil_peer_class(sync=lambda s: dataclasses.replace(s, fork=5)))
    reader = await reader_of(writer)
    async with tcp_link(reader, evil):
        await eventually(lambda: len(reader.peers) == 1)
        peer = reader.peers[0]
        await eventually(lambda: peer.fork_refused == 5)
        assert await asyncio.wait_for(reader.update(), 10) is False
        assert reader.fork == 0 and reader.length == 0
        sent = evil.peers[0].replicator.stats["uploaded"]
        await asyncio.sleep(0.2)
        assert not replicator_of(reader)._inflight  # no request loop
        assert evil.peers[0].replicator.stats["uploaded"] == sent
    await reader.aclose()
    await evil.aclose()
    await writer.aclose()


async def test_encrypted_core_replicates_ciphertext() -> None:
    key = b"\x42" * 32
    writer = Hypercore(None, encryption_key=key)
    await writer.ready()
    await writer.append([b"secret %d" % i for i in range(20)])
    assert writer.key is not None
    reader = Hypercore(None, writer.key, encryption_key=key)
    await reader.ready()
    async with tcp_link(reader, writer):
        await asyncio.wait_for(reader.update(), 10)
        await asyncio.wait_for(reader.download(0, 20).done(), 20)
        assert [await reader.get(i, wait=False) for i in range(20)] == [b"secret %d" % i for i in range(20)]
        raw = await reader.get(3, wait=False, raw=True)
        assert raw == await writer.get(3, wait=False, raw=True)
        assert b"secret" not in raw
    await reader.aclose()
    await writer.aclose()

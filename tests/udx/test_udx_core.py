"""The sans-IO stream core on an in-memory pair with a virtual clock and seeded loss."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from udx_memnet import MemNet, sha

from hyperpunch.udx.core import MAX_RTO_COUNT, StreamCore
from hyperpunch.udx.errors import StreamResetError, StreamStateError, StreamTimeoutError
from hyperpunch.udx.packet import (
    FLAG_DATA,
    FLAG_END,
    FLAG_HEARTBEAT,
    FLAG_MESSAGE,
    HEADER_SIZE,
    MTU_MAX,
    decode_header,
    encode_packet,
)


def payload(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def exchange(net: MemNet, a_data: bytes, b_data: bytes, max_time: float = 600) -> None:
    net.a.core.write(a_data)
    net.a.core.write_end()
    net.b.core.write(b_data)
    net.b.core.write_end()
    net.run(until=lambda: net.a.closed and net.b.closed, max_time=max_time)
    assert net.a.error is None and net.b.error is None
    assert sha(net.b.received) == sha(a_data)
    assert sha(net.a.received) == sha(b_data)
    assert net.a.ended and net.b.ended


def test_clean_transfer_both_ways() -> None:
    net = MemNet()
    exchange(net, payload(1_000_000, 1), payload(300_000, 2))
    assert net.a.core.retransmits == 0


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_lossy_reordering_duplicating_path(seed: int) -> None:
    net = MemNet(seed=seed, loss=0.05, dup=0.03, jitter=0.01)
    exchange(net, payload(600_000, seed), payload(200_000, seed + 100))
    assert net.a.core.retransmits > 0


def test_heavy_loss() -> None:
    net = MemNet(seed=9, loss=0.25, dup=0.05, jitter=0.02)
    exchange(net, payload(200_000, 5), payload(50_000, 6), max_time=3000)


def test_sequence_wraparound() -> None:
    start = 2**32 - 50
    net = MemNet(seed=5, loss=0.03, jitter=0.004, a_kwargs={"seq": start}, b_kwargs={"ack": start})
    exchange(net, payload(400_000, 7), b"")
    assert net.a.core.seq < 1000  # wrapped


def test_empty_streams_close_cleanly() -> None:
    net = MemNet()
    exchange(net, b"", b"")


def test_message_does_not_use_a_sequence_number() -> None:
    net = MemNet()
    before = net.a.core.seq
    net.a.core.send_message(b"ping")
    assert net.a.core.seq == before
    net.run(until=lambda: bool(net.b.messages))
    assert net.b.messages == [b"ping"]
    exchange(net, b"x" * 5000, b"y")


def test_destroy_resets_peer() -> None:
    net = MemNet()
    net.a.core.write(payload(50_000))
    net.run(until=lambda: len(net.b.received) > 10_000)
    net.a.core.destroy()
    net.run(until=lambda: net.b.closed)
    assert net.a.closed and net.a.error is None
    assert isinstance(net.b.error, StreamResetError) and net.b.error.code == "ECONNRESET"


def test_write_after_end_and_after_close_fail() -> None:
    core = StreamCore(1)
    core.connect(2, ("x", 1))
    core.write_end()
    with pytest.raises(StreamStateError):
        core.write(b"late")
    core.destroy()
    with pytest.raises(StreamStateError):
        core.write(b"later")


def test_retransmission_timeout_closes_with_etimedout() -> None:
    net = MemNet()
    net.a.core.write(payload(20_000))
    net.filter = lambda src, d: src == "a"  # everything a sends is lost
    net.run(until=lambda: net.a.closed, max_time=1000)
    assert isinstance(net.a.error, StreamTimeoutError) and net.a.error.code == "ETIMEDOUT"
    assert net.a.core.rto_count == MAX_RTO_COUNT


def test_zero_window_stalls_then_resumes() -> None:
    net = MemNet(b_kwargs={"rwnd_max": 64 * 1024})
    net.b.read_live = False
    data = payload(1_000_000, 3)
    net.a.core.write(data)
    net.a.core.write_end()
    t0 = net.now
    net.run(until=lambda: net.now > t0 + 10)
    stalled = len(net.b.received)
    assert 0 < stalled < len(data)
    assert stalled <= 64 * 1024 + 2 * 1500  # the window is honoured (one probe packet of slack)
    assert net.a.core.send_rwnd < 1500
    net.b.read_live = True
    net.b.core.consume(net.b.core.read_buffered)
    net.run(until=lambda: net.b.ended)
    assert sha(net.b.received) == sha(data)


def test_heartbeat_is_answered_with_an_ack() -> None:
    core = StreamCore(5)
    core.connect(6, ("x", 1))
    core.receive_datagram(encode_packet(FLAG_HEARTBEAT, 5, 1000, 0, 0), 1.0)
    assert len(core.outbox) == 1
    h = decode_header(core.outbox[0])
    assert h.type == 0 and h.stream_id == 6 and h.ack == 0 and h.seq == 0


def test_mtu_probing_grows_to_max() -> None:
    net = MemNet(b_kwargs={"rwnd_max": 64 * 1024})  # one probe per round trip: make it take a while
    exchange(net, payload(2_000_000, 4), b"")
    assert net.a.core.mtu == MTU_MAX
    assert net.a.core.max_payload == MTU_MAX - 48


def test_mtu_probes_lost_keep_base_mtu() -> None:
    net = MemNet()
    net.filter = lambda src, d: d[3] != 0  # a path that drops anything bigger than the base MTU
    exchange(net, payload(500_000, 4), b"")
    assert net.a.core.mtu == 1200


def test_data_offset_is_honoured_on_receive() -> None:
    core = StreamCore(5)
    core.connect(6, ("x", 1))
    got: list[bytes] = []
    core.on_data = got.append
    core.receive_datagram(encode_packet(FLAG_DATA, 5, 1 << 20, 0, 0, b"abc", padding=40), 1.0)
    assert got == [b"abc"]


def test_out_of_order_is_sacked_and_delivered_in_order() -> None:
    core = StreamCore(5)
    core.connect(6, ("x", 1))
    got: list[bytes] = []
    core.on_data = got.append
    for seq in (2, 4, 3):
        core.receive_datagram(encode_packet(FLAG_DATA, 5, 1 << 20, seq, 0, bytes([seq])), 1.0)
    sack = decode_header(core.outbox[-1])
    assert sack.ack == 0 and sack.sacks == ((2, 5),)
    core.receive_datagram(encode_packet(FLAG_DATA, 5, 1 << 20, 0, 0, b"\x00"), 1.0)
    core.receive_datagram(encode_packet(FLAG_DATA | FLAG_END, 5, 1 << 20, 1, 0, b"\x01"), 1.0)
    assert b"".join(got) == bytes([0, 1])  # END at seq 1: later packets are never delivered
    assert decode_header(core.datagrams_to_send(1.0)[-1]).ack == 2


def test_absurd_fields_do_not_disturb_a_transfer() -> None:
    net = MemNet(seed=3, loss=0.02, jitter=0.003)
    data = payload(300_000, 8)
    net.a.core.write(data)
    net.a.core.write_end()
    rng = random.Random(4)
    injected = 0

    def inject() -> bool:
        nonlocal injected
        core = net.a.core
        if not core.closed and injected < 400:
            injected += 1
            far = (core.seq + rng.randrange(1000, 2**31)) & 0xFFFFFFFF
            bad = [
                encode_packet(0, 1, rng.randrange(2**32), 0, far),  # ack of unsent data
                encode_packet(0, 1, 0xFFFFFFFF, 0, core.remote_acked, sacks=((far, far + 5),)),
                encode_packet(0, 1, 7, 0, core.remote_acked, sacks=((core.seq, core.seq - 3),)),
                encode_packet(
                    0, 1, 7, 0, core.remote_acked, sacks=((core.remote_acked - 9, core.remote_acked),)
                ),
                encode_packet(FLAG_DATA, 1, 7, 0, 0, b"x", padding=200)[: HEADER_SIZE + 10],
                encode_packet(0xC0, 1, 7, 0, core.remote_acked),
            ]
            for d in bad:
                core.receive_datagram(d, net.now)
        return net.b.ended

    net.run(until=inject)
    assert sha(net.b.received) == sha(data)
    assert net.a.core.pipe >= 0


fields = st.tuples(
    st.integers(0, 255),  # type
    st.integers(0, 255),  # data_offset
    st.integers(0, 2**32 - 1),  # rwnd
    st.integers(0, 2**32 - 1),  # seq
    st.integers(0, 2**32 - 1),  # ack
    st.binary(max_size=120),  # rest (sacks/payload)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fields, max_size=40), st.booleans())
def test_random_packets_never_crash(packets: list[tuple[int, int, int, int, int, bytes]], near: bool) -> None:
    core = StreamCore(1)
    core.connect(2, ("x", 1))
    core.write(b"z" * 20_000)
    core.write_end()
    core.datagrams_to_send(0.0)
    now = 0.0
    for type_, off, rwnd, seq, ack, rest in packets:
        if near:  # keep sequence numbers close to the live state to reach deeper code paths
            seq %= 64
            ack = (core.remote_acked + ack % 32) & 0xFFFFFFFF
        head = bytes([0xFF, 1, type_, off]) + (1).to_bytes(4, "little")
        pkt = head + rwnd.to_bytes(4, "little") + seq.to_bytes(4, "little") + ack.to_bytes(4, "little") + rest
        now += 0.01
        core.receive_datagram(pkt, now)
        core.handle_timer(now + 2)
        out = core.datagrams_to_send(now)
        assert core.pipe >= 0
        assert core.unacked_bytes >= 0
        assert core.queued_bytes >= 0
        assert all(len(d) >= HEADER_SIZE for d in out)


def test_message_flag_on_data_packet_is_delivered_once() -> None:
    core = StreamCore(5)
    core.connect(6, ("x", 1))
    msgs: list[bytes] = []
    core.on_message = msgs.append
    core.receive_datagram(encode_packet(FLAG_MESSAGE, 5, 1 << 20, 0, 0, b"m"), 1.0)
    core.receive_datagram(encode_packet(FLAG_MESSAGE, 5, 1 << 20, 0, 0, b"m"), 1.0)
    assert msgs == [b"m", b"m"]  # unreliable datagrams: no dedup, no seq
    assert core.ack == 0


def test_keepalive_sends_heartbeats_only_while_idle() -> None:
    net = MemNet(delay=0.01)
    heartbeats: list[float] = []
    acks_after_heartbeat: list[float] = []

    def watch(src: str, d: bytes) -> bool:
        h = decode_header(d)
        if src == "a" and h.type & FLAG_HEARTBEAT:
            heartbeats.append(net.now)
        if src == "b" and heartbeats and h.type == 0 and not acks_after_heartbeat:
            acks_after_heartbeat.append(net.now)
        return False

    net.filter = watch
    net.a.core.set_keepalive(2.0)
    data = payload(200_000, 7)
    net.a.core.write(data)
    net.run(until=lambda: len(net.b.received) == len(data))
    assert heartbeats == []  # data in flight: the RTO/TLP timers watch the path, not keepalive
    start = net.now
    net.run(until=lambda: len(heartbeats) >= 3, max_time=20)
    assert all(t >= start for t in heartbeats)
    gaps = [b - a for a, b in itertools.pairwise(heartbeats)]
    assert all(abs(g - 2.0) < 1e-6 for g in gaps), gaps
    assert acks_after_heartbeat  # the peer answers each heartbeat with an ACK
    assert not net.a.closed and not net.b.closed
    net.a.core.set_keepalive(0)
    count = len(heartbeats)
    net.run(max_time=10)  # nothing left to do once keepalive is off: the simulation goes quiet
    assert len(heartbeats) == count


def test_keepalive_must_not_be_negative() -> None:
    with pytest.raises(StreamStateError):
        StreamCore(1).set_keepalive(-1)

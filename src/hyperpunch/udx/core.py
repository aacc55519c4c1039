"""Sans-IO UDX stream: reliable, ordered, congestion-controlled byte stream over datagrams.

Invariants:
* Inputs are datagrams already routed to this stream (``receive_datagram(data, now)``), user
  calls (``write``, ``write_end``, ``send_message``, ``destroy``, ``consume``) and clock ticks
  (``handle_timer(now)``); time is always the ``now`` argument (seconds). Outputs are datagrams,
  drained by ``datagrams_to_send(now)`` (always addressed to ``remote_addr``; ``outbox`` is the
  queue they wait in), callbacks (``on_data``/``on_end``/``on_message``/``on_close``/
  ``on_remote_changed``) and ``next_deadline()`` (when ``handle_timer`` must run next, or None).
* Outcomes are callbacks, not returned event lists, on purpose: this is the bulk-transfer hot path
  (one ``receive_datagram`` per packet), and a list of frozen event objects per packet, dispatched
  by ``isinstance`` in the adapter, costs ~280 ns more per packet than a direct call (about 4% of
  the ``udx_bulk_loopback`` benchmark's time).
* One DATA/END/DESTROY packet uses one sequence number; MESSAGE, HEARTBEAT and ACK packets reuse
  the current one. Sequence numbers wrap at 2**32 and compare with ``seq_diff``.
* Data is delivered in order exactly once; a packet is ACKed (cumulative ``ack`` + SACK ranges of
  buffered out-of-order packets) no later than the next ``flush``.
* Nothing from the network can raise: malformed or absurd fields are ignored.
* The stream closes cleanly once our END is acknowledged and the remote END has been delivered,
  with ``StreamResetError`` on DESTROY and ``StreamTimeoutError`` after 6 RTOs without progress.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from hyperpunch.udx.congestion import NewReno, RttEstimator
from hyperpunch.udx.errors import (
    StreamResetError,
    StreamStateError,
    StreamTimeoutError,
    UDXError,
)
from hyperpunch.udx.mtu import MtuSearch
from hyperpunch.udx.packet import (
    FLAG_DATA,
    FLAG_DATA_OR_END,
    FLAG_DESTROY,
    FLAG_END,
    FLAG_HEARTBEAT,
    FLAG_MESSAGE,
    FLAG_SACK,
    HEADER,
    HEADER_SIZE,
    U32,
    SentPacket,
    decode_sacks,
    encode_sacks,
    seq_diff,
)
from hyperpunch.udx.send_queue import SendQueue

RWND_MAX = 4 * 1024 * 1024
MAX_RTO_COUNT = 6
END_ONLY_RTO_COUNT = 2
MAX_OUT_OF_ORDER = 16384
ACK_EVERY = 16  # emit an ACK at least every this many in-order data packets inside one batch

Address = tuple[Any, ...]

_MAGIC = 0xFF
_VERSION = 1
_NOTHING: tuple[bytes, ...] = ()


def _noop(*_args: object) -> None:
    return None


class StreamCore:
    """One UDX stream's protocol state. See the module docstring for the contract."""

    def __init__(self, local_id: int, *, seq: int = 0, ack: int = 0, rwnd_max: int = RWND_MAX) -> None:
        if not 0 <= local_id <= U32:
            raise StreamStateError("stream id must be a u32")
        self.local_id = local_id
        self.remote_id = 0
        self.remote_addr: Address | None = None
        self.connected = False
        self.closed = False
        self.error: UDXError | None = None
        self.outbox: list[bytes] = []

        self.on_data: Callable[[bytes], None] = _noop
        self.on_end: Callable[[], None] = _noop
        self.on_message: Callable[[bytes], None] = _noop
        self.on_close: Callable[[UDXError | None], None] = _noop
        self.on_remote_changed: Callable[[], None] = _noop

        # send side
        self.seq = seq & U32
        self.remote_acked = self.seq
        self.send_rwnd = RWND_MAX
        self._wl1 = 0
        self._wl2 = self.seq
        self.outgoing: dict[int, SentPacket] = {}
        self.pipe = 0
        self._lost: deque[int] = deque()
        self.send_queue = SendQueue()  # written, not yet packetized
        self.unacked_bytes = 0  # written, not yet acknowledged (includes queued)
        self._end_queued = False
        self._end_sent = False
        self.ended = False  # our END was acknowledged
        self.end_seq = 0
        self.rtt = RttEstimator()
        self.cc = NewReno()
        self.rto_count = 0
        self.retransmits = 0
        self._rack_xmit_ts = -1.0
        self._rack_rtt = 0.0
        self._rack_end_seq = self.seq
        self._tlp_armed = True
        self.rto_deadline: float | None = None
        self.tlp_deadline: float | None = None
        self.reo_deadline: float | None = None
        self.zwp_deadline: float | None = None
        self.keepalive = 0.0  # seconds; 0 = off (libudx udx_stream_set_keepalive)
        self.keepalive_deadline: float | None = None

        self.pmtu = MtuSearch()

        # receive side
        self.ack = ack & U32
        self.rwnd_max = rwnd_max
        self.read_buffered = 0
        self.incoming: dict[int, tuple[int, bytes]] = {}
        self._remote_ending = False
        self._remote_end_seq = 0
        self.ended_remote = False
        self._ack_owed = 0
        self._ack_urgent = False
        self._rwnd_was_low = False

        # remote change
        self.remote_changing = False
        self._seq_on_remote_changed = 0

    # ------------------------------------------------------------------ user side

    def connect(self, remote_id: int, remote_addr: Address, *, ipv6: bool = False) -> None:
        if self.closed:
            raise StreamStateError("stream is closed")
        if self.connected:
            raise StreamStateError("stream is already connected")
        if not 0 <= remote_id <= U32:
            raise StreamStateError("remote id must be a u32")
        self.remote_id = remote_id
        self.remote_addr = remote_addr
        self.connected = True
        self.pmtu.reset(ipv6)
        if self._ack_owed or self.incoming:
            self._ack_urgent = True

    def change_remote(self, remote_id: int, remote_addr: Address, *, ipv6: bool = False) -> None:
        if not self.connected or self.closed:
            raise StreamStateError("stream is not connected")
        if self.remote_changing:
            raise StreamStateError("remote already changing")
        self.remote_id = remote_id
        self.remote_addr = remote_addr
        self.pmtu.reset(ipv6)
        if self.remote_acked == self.seq:
            self.on_remote_changed()
        else:
            self.remote_changing = True
            self._seq_on_remote_changed = self.seq

    @property
    def mtu(self) -> int:
        return self.pmtu.mtu

    @property
    def max_payload(self) -> int:
        return self.pmtu.max_payload

    @property
    def queued_bytes(self) -> int:
        """Bytes written and not yet cut into packets."""
        return self.send_queue.size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closed:
            raise StreamStateError("stream is closed", code="ERR_STREAM_DESTROYED")
        if self._end_queued:
            raise StreamStateError("write after end", code="EPIPE")
        n = len(data)
        if n == 0:
            return
        view = memoryview(data if isinstance(data, bytes) else bytes(data))
        self.send_queue.push(view)
        self.unacked_bytes += n

    def write_end(self) -> None:
        if self.closed:
            raise StreamStateError("stream is closed", code="ERR_STREAM_DESTROYED")
        if self._end_queued:
            return
        self._end_queued = True

    def send_message(self, data: bytes) -> None:
        """Unordered, unreliable datagram on this stream (MESSAGE flag, does not use a seq)."""
        if not self.connected or self.closed:
            raise StreamStateError("stream is not connected", code="ENOTCONN")
        self.outbox.append(
            HEADER.pack(_MAGIC, _VERSION, FLAG_MESSAGE, 0, self.remote_id, self._rwnd(), self.seq, self.ack)
            + data
        )

    def consume(self, n: int) -> None:
        """The application took ``n`` delivered bytes: reopen the receive window."""
        self.read_buffered = max(0, self.read_buffered - n)
        if self._rwnd_was_low and self._rwnd() >= self.rwnd_max // 2:
            self._rwnd_was_low = False
            self._ack_urgent = True

    def destroy(self) -> None:
        """Reset: send DESTROY (using one seq) when connected, then close without error."""
        if self.closed:
            return
        if self.connected:
            self.outbox.append(
                HEADER.pack(
                    _MAGIC, _VERSION, FLAG_DESTROY, 0, self.remote_id, self._rwnd(), self.seq, self.ack
                )
            )
            self.seq = (self.seq + 1) & U32
        self._close(None)

    def set_keepalive(self, seconds: float) -> None:
        """Send a HEARTBEAT after ``seconds`` with nothing in flight (0 turns it off), as libudx does."""
        if seconds < 0:
            raise StreamStateError("keepalive must be >= 0")
        self.keepalive = seconds
        self.keepalive_deadline = None

    def _heartbeat(self) -> bytes:
        return HEADER.pack(
            _MAGIC, _VERSION, FLAG_HEARTBEAT, 0, self.remote_id, self._rwnd(), self.seq, self.ack
        )

    @property
    def ack_urgent(self) -> bool:
        """An ACK must go out at the next flush (e.g. the receive window reopened)."""
        return self._ack_urgent

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timer` must run next (``None``: no timer armed)."""
        best: float | None = None
        for d in (
            self.rto_deadline,
            self.tlp_deadline,
            self.reo_deadline,
            self.zwp_deadline,
            self.keepalive_deadline,
        ):
            if d is not None and (best is None or d < best):
                best = d
        return best

    # ------------------------------------------------------------------ receive

    def receive_datagram(self, buf: bytes | bytearray | memoryview, now: float) -> None:
        """Process one datagram already matched to this stream (magic/version/id checked)."""
        if self.closed:
            return
        n = len(buf)
        if n < HEADER_SIZE:
            return
        _m, _v, type_, data_offset, _id, rwnd, seq, ack = HEADER.unpack_from(buf, 0)

        if type_ & FLAG_HEARTBEAT:
            self._ack_urgent = True
            self._emit_ack()
            return

        start = HEADER_SIZE + data_offset
        if start > n:
            return

        if type_ & FLAG_DESTROY:
            self._on_destroy(type_, seq, ack, now)
            return

        delta = (seq - self.ack) & U32  # seq_diff, inlined on the per-packet path
        if delta & 0x80000000:
            delta -= 0x100000000
        if type_ & FLAG_DATA_OR_END:
            self._ack_owed += 1
            if delta >= 0 and not self.ended_remote:
                if delta == 0:
                    self.ack = (self.ack + 1) & U32
                    if type_ & FLAG_DATA and n > start:
                        data = bytes(buf[start:])
                        self.read_buffered += len(data)
                        self.on_data(data)
                    if type_ & FLAG_END:
                        self._remote_ending = True
                        self._remote_end_seq = seq
                    if self.incoming and not self._remote_ending:
                        self._drain_incoming()
                elif delta < MAX_OUT_OF_ORDER and seq not in self.incoming:
                    self.incoming[seq] = (type_, bytes(buf[start:]))
                    self._ack_urgent = True
                else:
                    self._ack_urgent = True
            else:
                self._ack_urgent = True  # duplicate: the peer missed our ack
            if self._ack_owed >= ACK_EVERY:
                self._ack_urgent = True

        if type_ & FLAG_MESSAGE and not self.closed:
            self.on_message(bytes(buf[start:]))
            if self.closed:
                return

        if ack == self.remote_acked and not type_ & FLAG_SACK and not self.remote_changing:
            # Fast path of _process_ack (a data packet acknowledging nothing new): only the send
            # window may move. Same checks, seq_diff inlined.
            d = (seq - self.ack) & U32
            if d & 0x80000000:
                d -= 0x100000000
            if -MAX_OUT_OF_ORDER <= d <= MAX_OUT_OF_ORDER:
                wl1 = self._wl1
                if ((wl1 - seq) & U32) & 0x80000000 or (wl1 == seq and seq_diff(self._wl2, ack) <= 0):
                    self.send_rwnd = rwnd
                    self._wl1 = seq
                    self._wl2 = ack
                    if rwnd > 0:
                        self.zwp_deadline = None
        else:
            self._process_ack(type_, rwnd, seq, ack, buf, data_offset, n, now)
            if self.closed:
                return
        if self._ack_urgent:
            self._emit_ack()
        if self._remote_ending or self.ended:
            self._check_end()

    def _deliver(self, data: bytes) -> None:
        self.read_buffered += len(data)
        self.on_data(data)

    def _drain_incoming(self) -> None:
        incoming = self.incoming
        while True:
            item = incoming.pop(self.ack, None)
            if item is None:
                return
            type_, payload = item
            seq = self.ack
            self.ack = (self.ack + 1) & U32
            if type_ & FLAG_DATA and payload:
                self._deliver(payload)
            if type_ & FLAG_END:
                self._remote_ending = True
                self._remote_end_seq = seq
                incoming.clear()  # nothing after END belongs to the stream
                return
            if self.closed:
                return

    def _check_end(self) -> None:
        if self._remote_ending and not self.ended_remote and seq_diff(self._remote_end_seq, self.ack) < 0:
            self.ended_remote = True
            self.incoming.clear()
            self._emit_ack()  # the END must be acknowledged before we may close
            self.on_end()
        if self.ended and self.ended_remote and not self.closed:
            if self._ack_owed or self._ack_urgent:
                self._emit_ack()
            self._close(None)

    def _on_destroy(self, type_: int, seq: int, ack: int, now: float) -> None:
        if seq_diff(seq, self.ack) < 0:
            return  # stale (a retransmission of something already processed)
        # Learn what the peer received before it hung up: if it had everything we sent and we
        # had everything it sent, this is the reference's normal "end then destroy" teardown.
        if 0 <= seq_diff(ack, self.remote_acked) <= seq_diff(self.seq, self.remote_acked):
            self._ack_range(self.remote_acked, ack, now)
            self.remote_acked = ack
        if self.ended and self.ended_remote:
            self._close(None)
        else:
            self._close(StreamResetError("stream was destroyed by the remote", code="ECONNRESET"))

    def _process_ack(
        self,
        type_: int,
        rwnd: int,
        seq: int,
        ack: int,
        buf: bytes | bytearray | memoryview,
        data_offset: int,
        n: int,
        now: float,
    ) -> None:
        if not -MAX_OUT_OF_ORDER <= seq_diff(seq, self.ack) <= MAX_OUT_OF_ORDER:
            return  # a seq this far off is forged or stale: do not let it move the window
        span = seq_diff(self.seq, self.remote_acked)
        ack_delta = seq_diff(ack, self.remote_acked)
        if not 0 <= ack_delta <= span:
            return  # older than what is acknowledged, or acks something we never sent
        if seq_diff(self._wl1, seq) < 0 or (self._wl1 == seq and seq_diff(self._wl2, ack) <= 0):
            self.send_rwnd = rwnd
            self._wl1 = seq
            self._wl2 = ack
            if rwnd > 0:
                self.zwp_deadline = None

        if self.remote_changing and seq_diff(ack, self._seq_on_remote_changed) >= 0:
            self.remote_changing = False
            self.on_remote_changed()
            if self.closed:
                return

        delivered = 0
        if ack_delta > 0:
            delivered += self._ack_range(self.remote_acked, ack, now)
            self.remote_acked = ack
            self.rto_count = 0
            self._tlp_armed = True
            if self.cc.in_recovery and seq_diff(ack, self.cc.recovery_point) >= 0:
                self.cc.on_recovery_exit()
            if self.closed:
                return

        sacked = False
        if type_ & FLAG_SACK:
            for s, e in decode_sacks(buf, n, data_offset, self.remote_acked, self.seq):
                p = s
                while p != e:
                    pkt = self.outgoing.get(p)
                    if pkt is not None and not pkt.sacked:
                        pkt.sacked = True
                        delivered += 1
                        self._on_packet_delivered(pkt, now)
                        sacked = True
                    p = (p + 1) & U32

        if delivered:
            self.cc.on_delivered(delivered)
            if self.remote_acked == self.seq:
                self.rto_deadline = None
                self.tlp_deadline = None
                self.reo_deadline = None
                if self.send_rwnd == 0 and (self.send_queue or (self._end_queued and not self._end_sent)):
                    self.zwp_deadline = now + self.rtt.rto
            else:
                self.rto_deadline = now + self.rtt.rto
                self.tlp_deadline = now + self.rtt.probe_timeout() if self._tlp_armed else None
            if sacked or self.reo_deadline is not None:
                self._detect_loss(now)

    def _ack_range(self, start: int, end: int, now: float) -> int:
        """Cumulatively acknowledge [start, end). Returns newly delivered packet count."""
        outgoing = self.outgoing
        delivered = 0
        p = start
        sample: SentPacket | None = None
        while p != end:
            pkt = outgoing.pop(p, None)
            p = (p + 1) & U32
            if pkt is None:
                continue
            if not pkt.sacked:
                delivered += 1
                if not pkt.lost:
                    self.pipe -= 1
                self.unacked_bytes -= len(pkt.payload)
                if pkt.transmits == 1:
                    sample = pkt
                if pkt.probe:
                    self.pmtu.on_probe_acked()
            if pkt.flags & FLAG_END:
                self.ended = True
        if sample is not None:
            self.rtt.sample(now - sample.xmit_ts)
            if sample.xmit_ts >= self._rack_xmit_ts:
                self._rack_xmit_ts = sample.xmit_ts
                self._rack_rtt = now - sample.xmit_ts
                self._rack_end_seq = sample.seq
        if delivered:
            self.pmtu.start()
        return delivered

    def _on_packet_delivered(self, pkt: SentPacket, now: float) -> None:
        """First SACK of a packet still below the cumulative ack."""
        if not pkt.lost:
            self.pipe -= 1
        self.unacked_bytes -= len(pkt.payload)
        if pkt.probe:
            self.pmtu.on_probe_acked()
        if pkt.transmits == 1:
            self.rtt.sample(now - pkt.xmit_ts)
        if pkt.xmit_ts >= self._rack_xmit_ts:
            self._rack_xmit_ts = pkt.xmit_ts
            self._rack_rtt = now - pkt.xmit_ts
            if seq_diff(pkt.seq, self._rack_end_seq) > 0:
                self._rack_end_seq = pkt.seq

    def _detect_loss(self, now: float) -> None:
        """RACK (RFC 8985): a packet sent before a delivered one is lost after rtt + reo_wnd."""
        self.reo_deadline = None
        if self._rack_xmit_ts < 0:
            return
        reo = self.rtt.reorder_window()
        limit = self._rack_rtt + reo
        outgoing = self.outgoing
        p = self.remote_acked
        end = (self._rack_end_seq + 1) & U32
        if seq_diff(end, p) <= 0:
            return
        earliest: float | None = None
        newly_lost = False
        while p != end:
            pkt = outgoing.get(p)
            p = (p + 1) & U32
            if pkt is None or pkt.sacked or pkt.lost or pkt.xmit_ts > self._rack_xmit_ts:
                continue
            remaining = pkt.xmit_ts + limit - now
            if remaining <= 0:
                self._mark_lost(pkt)
                newly_lost = True
            elif earliest is None or remaining < earliest:
                earliest = remaining
        if newly_lost:
            self.cc.on_loss(self.seq)
        if earliest is not None:
            self.reo_deadline = now + earliest

    def _mark_lost(self, pkt: SentPacket) -> None:
        pkt.lost = True
        self.pipe -= 1
        self._lost.append(pkt.seq)
        if pkt.probe:
            pkt.probe = False
            self.pmtu.on_probe_lost()

    # ------------------------------------------------------------------ timers

    def handle_timer(self, now: float) -> None:
        """Run the timers due at ``now`` (RACK, tail-loss probe, RTO, zero-window probe, keepalive)."""
        if self.closed:
            return
        if self.reo_deadline is not None and now >= self.reo_deadline:
            self._detect_loss(now)
        if self.tlp_deadline is not None and now >= self.tlp_deadline:
            self.tlp_deadline = None
            self._send_tail_loss_probe(now)
        if self.rto_deadline is not None and now >= self.rto_deadline:
            self._on_rto(now)
            if self.closed:
                return
        if self.zwp_deadline is not None and now >= self.zwp_deadline:
            self.zwp_deadline = None
            if self.send_rwnd == 0 and self.connected:
                self.outbox.append(self._heartbeat())
                self.zwp_deadline = now + self.rtt.rto
        if self.keepalive_deadline is not None and now >= self.keepalive_deadline:
            self.keepalive_deadline = None
            if self.connected and self.remote_acked == self.seq:
                self.outbox.append(self._heartbeat())
                self.keepalive_deadline = now + self.keepalive
        self._flush(now)

    def _send_tail_loss_probe(self, now: float) -> None:
        if not self._tlp_armed or self.remote_acked == self.seq:
            return
        self._tlp_armed = False
        if self.send_queue or (self._end_queued and not self._end_sent):
            self._send_new(now)
        else:
            p = (self.seq - 1) & U32
            while p != self.remote_acked:
                pkt = self.outgoing.get(p)
                if pkt is not None and not pkt.sacked:
                    self._retransmit(pkt, now)
                    break
                p = (p - 1) & U32
            else:
                pkt = self.outgoing.get(p)
                if pkt is not None:
                    self._retransmit(pkt, now)
        self.rto_deadline = now + self.rtt.rto

    def _on_rto(self, now: float) -> None:
        self.rto_deadline = None
        if self.remote_acked == self.seq:
            return
        self.rto_count += 1
        if (
            self.ended_remote
            and self._end_sent
            and self.remote_acked == self.end_seq
            and self.rto_count >= END_ONLY_RTO_COUNT
        ):
            # libudx keeps no TIME_WAIT: once it has our END and its own END is acknowledged it
            # forgets the stream, so a lost ACK for our END is never repeated. Everything else is
            # acknowledged and the remote END was delivered, so treat silence as the peer closing.
            self.ended = True
            self._close(None)
            return
        if self.rto_count >= MAX_RTO_COUNT:
            self._close(StreamTimeoutError("too many retransmission timeouts", code="ETIMEDOUT"))
            return
        self.rtt.backoff()
        self.cc.on_timeout()
        self._lost.clear()
        p = self.remote_acked
        while p != self.seq:
            pkt = self.outgoing.get(p)
            p = (p + 1) & U32
            if pkt is None or pkt.sacked:
                continue
            if not pkt.lost:
                self._mark_lost(pkt)
            else:
                self._lost.append(pkt.seq)
        self._tlp_armed = False
        self.tlp_deadline = None
        self.rto_deadline = now + self.rtt.rto

    # ------------------------------------------------------------------ send

    def _rwnd(self) -> int:
        free = self.rwnd_max - self.read_buffered
        if free <= 0:
            self._rwnd_was_low = True
            return 0
        if free < self.rwnd_max // 4:
            self._rwnd_was_low = True
        return free

    def datagrams_to_send(self, now: float) -> Sequence[bytes]:
        """Packetize what the windows allow and drain every queued datagram, in order."""
        self._flush(now)
        out = self.outbox
        if not out:
            return _NOTHING
        self.outbox = []
        return out

    def _flush(self, now: float) -> None:
        """Send what the windows allow (retransmissions first) and any owed ACK."""
        if self.closed or not self.connected:
            return
        cwnd = self.cc.cwnd
        if self._lost:
            lost = self._lost
            outgoing = self.outgoing
            while lost and self.pipe < cwnd:
                pkt = outgoing.get(lost.popleft())
                if pkt is None or pkt.sacked or not pkt.lost:
                    continue
                self._retransmit(pkt, now)
        if self.send_queue or (self._end_queued and not self._end_sent):
            rwnd_pkts = self.send_rwnd // self.pmtu.max_payload
            if rwnd_pkts == 0 and self.send_rwnd > 0:
                rwnd_pkts = 1
            window = min(cwnd, rwnd_pkts)
            if self.pipe < window and self.send_queue.size > self.pmtu.max_payload and not self.pmtu.wanted:
                self._send_full(now, window)
            while self.pipe < window and (self.send_queue or (self._end_queued and not self._end_sent)):
                self._send_new(now)
            if self.send_rwnd == 0 and self.remote_acked == self.seq and self.zwp_deadline is None:
                self.zwp_deadline = now + self.rtt.rto
        if self._ack_owed or self._ack_urgent:
            self._emit_ack()
        if self.keepalive:
            # armed only while nothing is in flight (then the RTO/TLP timers watch the path)
            if self.remote_acked != self.seq:
                self.keepalive_deadline = None
            elif self.keepalive_deadline is None:
                self.keepalive_deadline = now + self.keepalive

    def _send_full(self, now: float, window: int) -> None:
        """``_send_new`` for the bulk case: full-sized DATA packets while more than one is queued.

        No END (data stays queued after each), no MTU probe (``pmtu.wanted`` is false), so every
        packet has the same header but for its seq: the loop keeps its state in locals.
        """
        cap = self.pmtu.max_payload
        take = self.send_queue.take
        outgoing = self.outgoing
        append = self.outbox.append
        pack = HEADER.pack
        remote_id = self.remote_id
        rwnd = self._rwnd()
        ack = self.ack
        seq = self.seq
        pipe = self.pipe
        sq = self.send_queue
        q = sq.parts
        while pipe < window and sq.size > cap:
            head = q[0]
            size = len(head)
            if size > cap:  # cut packets off the head write while some of it stays queued
                off = 0
                while pipe < window and size - off > cap:
                    piece = head[off : off + cap]
                    off += cap
                    outgoing[seq] = SentPacket(seq, FLAG_DATA, piece, now)
                    append(pack(_MAGIC, _VERSION, FLAG_DATA, 0, remote_id, rwnd, seq, ack) + piece)
                    seq = (seq + 1) & U32
                    pipe += 1
                q[0] = head[off:]
                sq.size -= off
                continue
            payload = take(cap)
            outgoing[seq] = SentPacket(seq, FLAG_DATA, payload, now)
            append(pack(_MAGIC, _VERSION, FLAG_DATA, 0, remote_id, rwnd, seq, ack) + payload)
            seq = (seq + 1) & U32
            pipe += 1
        if pipe == self.pipe:
            return
        self.seq = seq
        self.pipe = pipe
        self._ack_owed = 0
        self._ack_urgent = False
        if self.rto_deadline is None:
            self.rto_deadline = now + self.rtt.rto
        if self.tlp_deadline is None and self._tlp_armed:
            self.tlp_deadline = now + self.rtt.probe_timeout()

    def _send_new(self, now: float) -> None:
        flags = 0
        payload: memoryview | bytes = b""
        pmtu = self.pmtu
        if self.send_queue:
            payload = self.send_queue.take(pmtu.max_payload)
            flags = FLAG_DATA
        if not self.send_queue and self._end_queued:
            flags |= FLAG_END
            self._end_sent = True
            self.end_seq = self.seq
        seq = self.seq
        pkt = SentPacket(seq, flags, payload, now)
        pad = 0
        if pmtu.wanted and not self.remote_changing and len(payload) == pmtu.max_payload:
            pad = pmtu.take_probe()
            pkt.probe = pad > 0
        self.outgoing[seq] = pkt
        self.seq = (seq + 1) & U32
        self.pipe += 1
        self._ack_owed = 0
        self._ack_urgent = False
        if pad:
            self.outbox.append(
                HEADER.pack(_MAGIC, _VERSION, flags, pad, self.remote_id, self._rwnd(), seq, self.ack)
                + bytes(pad)
                + payload
            )
        else:
            self.outbox.append(
                HEADER.pack(_MAGIC, _VERSION, flags, 0, self.remote_id, self._rwnd(), seq, self.ack) + payload
            )
        if self.rto_deadline is None:
            self.rto_deadline = now + self.rtt.rto
        if self.tlp_deadline is None and self._tlp_armed:
            self.tlp_deadline = now + self.rtt.probe_timeout()

    def _retransmit(self, pkt: SentPacket, now: float) -> None:
        if pkt.lost:
            pkt.lost = False
            self.pipe += 1
        if pkt.probe:
            pkt.probe = False
        pkt.transmits += 1
        pkt.xmit_ts = now
        self.retransmits += 1
        self.outbox.append(
            HEADER.pack(_MAGIC, _VERSION, pkt.flags, 0, self.remote_id, self._rwnd(), pkt.seq, self.ack)
            + pkt.payload
        )
        if self.rto_deadline is None:
            self.rto_deadline = now + self.rtt.rto

    def _emit_ack(self) -> None:
        self._ack_owed = 0
        self._ack_urgent = False
        if not self.connected or self.closed:
            return
        body = encode_sacks(self.incoming, self.ack) if self.incoming else b""
        type_ = FLAG_SACK if body else 0
        self.outbox.append(
            HEADER.pack(_MAGIC, _VERSION, type_, 0, self.remote_id, self._rwnd(), self.seq, self.ack) + body
        )

    def final_ack(self) -> bytes | None:
        """The ACK to repeat if the peer retransmits after we closed (TIME_WAIT), or None."""
        if not self.connected:
            return None
        return HEADER.pack(_MAGIC, _VERSION, 0, 0, self.remote_id, self.rwnd_max, self.seq, self.ack)

    def close(self, err: UDXError | None = None) -> None:
        """Close now without sending anything (a relay saw the DESTROY go through)."""
        self._close(err)

    def _close(self, err: UDXError | None) -> None:
        if self.closed:
            return
        self.closed = True
        self.error = err
        self.send_queue.clear()
        self.outgoing.clear()
        self._lost.clear()
        self.incoming.clear()
        self.rto_deadline = self.tlp_deadline = self.reo_deadline = self.zwp_deadline = None
        self.on_close(err)

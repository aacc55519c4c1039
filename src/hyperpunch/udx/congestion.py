"""RTT estimation (RFC 6298 with libudx's bounds) and NewReno-style congestion control in packets.

Invariants: ``rto`` stays within [RTO_MIN, RTO_MAX] seconds; ``cwnd`` is at least 1 packet and at most
``CWND_MAX``; recovery is entered at most once per window (until the cumulative ack passes
``recovery_point``). Times are seconds (floats) supplied by the caller; nothing here reads a clock.
"""

from __future__ import annotations

RTO_MIN = 1.0
RTO_MAX = 30.0
RTO_INITIAL = 1.0
INITIAL_CWND = 10
CWND_MAX = 8192


class RttEstimator:
    """Smoothed RTT, variance and RTO; ``rtt_min`` feeds the RACK reordering window."""

    __slots__ = ("rto", "rtt_min", "rttvar", "srtt")

    def __init__(self) -> None:
        self.srtt = 0.0
        self.rttvar = 0.0
        self.rtt_min = 0.0
        self.rto = RTO_INITIAL

    def sample(self, rtt: float) -> None:
        rtt = max(rtt, 1e-6)
        if self.srtt == 0.0:
            self.srtt = rtt
            self.rttvar = rtt / 2
            self.rtt_min = rtt
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
            if rtt < self.rtt_min:
                self.rtt_min = rtt
        self.rto = min(max(self.srtt + 4 * self.rttvar, RTO_MIN), RTO_MAX)

    def backoff(self) -> None:
        self.rto = min(self.rto * 2, RTO_MAX)

    def reorder_window(self) -> float:
        if self.srtt == 0.0:
            return 0.001
        return max(min(self.rtt_min / 4, self.srtt), 0.001)

    def probe_timeout(self) -> float:
        """Tail-loss probe timeout (RFC 8985 section 7.2: 2*SRTT, at least 10 ms)."""
        if self.srtt == 0.0:
            return self.rto
        return min(max(2 * self.srtt, 0.01), self.rto)


class NewReno:
    """Slow start, congestion avoidance, one multiplicative decrease per loss episode."""

    __slots__ = ("_avoid_acc", "cwnd", "in_recovery", "recovery_point", "ssthresh")

    def __init__(self) -> None:
        self.cwnd = INITIAL_CWND
        self.ssthresh = CWND_MAX
        self.in_recovery = False
        self.recovery_point = 0
        self._avoid_acc = 0

    def on_delivered(self, packets: int) -> None:
        if self.in_recovery or packets <= 0:
            return
        if self.cwnd < self.ssthresh:
            self.cwnd = min(self.cwnd + packets, CWND_MAX)
            return
        self._avoid_acc += packets
        if self._avoid_acc >= self.cwnd:
            self._avoid_acc -= self.cwnd
            self.cwnd = min(self.cwnd + 1, CWND_MAX)

    def on_loss(self, next_seq: int) -> None:
        """A loss was detected while ``next_seq`` was the next sequence to send."""
        if self.in_recovery:
            return
        self.ssthresh = max(self.cwnd // 2, 2)
        self.cwnd = self.ssthresh
        self.in_recovery = True
        self.recovery_point = next_seq

    def on_recovery_exit(self) -> None:
        self.in_recovery = False

    def on_timeout(self) -> None:
        self.ssthresh = max(self.cwnd // 2, 2)
        self.cwnd = 2
        self.in_recovery = False
        self._avoid_acc = 0

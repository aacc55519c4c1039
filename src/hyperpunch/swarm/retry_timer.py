"""Retry backoff for disconnected peers (JS ``hyperswarm/lib/{retry-timer,bulk-timer}.js``), sans-IO.

Invariants:

* No clock, no tasks: every method takes ``now`` (seconds); the owner sleeps until
  :meth:`RetryTimer.next_deadline` and then calls :meth:`RetryTimer.poll`.
* A :class:`BulkTimer` ticks every ``floor(period * 0.66)`` from its first ``add``; each tick
  fires the batch added before the previous tick, so an item waits one to two ticks. Ticks with
  nothing to move are skipped (they would do nothing in JS either).
* :class:`RetryTimer` picks S/M/L/X by attempts exactly as JS: attempts 0 -> S; proven peers
  1/2/3 -> S/M/L, unproven 1/2/3 -> M/L/L; more than 3 -> X for explicit peers only; banned or
  non-reconnecting peers are never retried. Periods: S 1 s, M 5 s, L 15 s, X 10 min, each with
  the JS jitter (drawn from the injected ``random.Random``).
"""

from __future__ import annotations

import math
import random
from typing import Generic, TypeVar

from hyperpunch.swarm.peer_info import PeerInfo

__all__ = ["BACKOFF_JITTER", "BulkTimer", "RetryTimer", "default_backoffs"]

T = TypeVar("T")

BACKOFF_JITTER = 0.5


def default_backoffs(rng: random.Random) -> list[float]:
    """JS module-level ``BACKOFF_S/M/L/X`` (milliseconds rounded, returned in seconds)."""
    j = BACKOFF_JITTER * 1000
    return [
        (1000 + round(j * rng.random())) / 1000,
        (5000 + round(2 * j * rng.random())) / 1000,
        (15000 + round(4 * j * rng.random())) / 1000,
        (1000 * 60 * 10 + round(240 * j * rng.random())) / 1000,
    ]


class BulkTimer(Generic[T]):
    """Batches items and hands each batch back one to two ticks after it was added."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.interval = math.floor(period * 1000 * 0.66) / 1000
        self._next_tick: float | None = None
        self._next: list[T] = []
        self._pending: list[T] = []
        self.destroyed = False

    def __len__(self) -> int:
        return len(self._next) + len(self._pending)

    def _catch_up(self, now: float) -> None:
        """Advance over ticks that had nothing to do (keeps the JS interval's phase)."""
        if self._next_tick is None or self._next_tick > now or self._next or self._pending:
            return
        skipped = math.floor((now - self._next_tick) / self.interval) + 1 if self.interval > 0 else 1
        self._next_tick += skipped * self.interval
        if self._next_tick <= now:  # float rounding
            self._next_tick = now + self.interval

    def add(self, item: T, now: float) -> None:
        if self.destroyed:
            return
        if self._next_tick is None:
            self._next_tick = now + self.interval
        else:
            self._catch_up(now)
        self._pending.append(item)

    def next_deadline(self) -> float | None:
        if self.destroyed or (not self._next and not self._pending):
            return None
        return self._next_tick

    def poll(self, now: float) -> list[T] | None:
        """Run one due tick; returns the batch it fires (or None)."""
        if self.destroyed or self._next_tick is None or now < self._next_tick:
            return None
        if not self._next and not self._pending:
            self._catch_up(now)
            return None
        fired = self._next or None
        self._next = self._pending
        self._pending = []
        # node's setInterval re-arms relative to when the callback ran
        self._next_tick = max(self._next_tick + self.interval, now)
        if self._next_tick <= now:
            self._next_tick = now + self.interval
        return fired

    def destroy(self) -> None:
        self.destroyed = True
        self._next = []
        self._pending = []
        self._next_tick = None


class RetryTimer:
    """Four bulk timers (S, M, L, X); :meth:`add` picks one by the peer's attempts."""

    def __init__(
        self,
        *,
        backoffs: list[float] | None = None,
        jitter: float = BACKOFF_JITTER,
        rng: random.Random | None = None,
    ) -> None:
        self.rng = rng or random.Random()
        self.jitter = jitter
        self.backoffs = list(backoffs) if backoffs is not None else default_backoffs(self.rng)
        jm = jitter * 1000

        def period(base: float) -> float:
            return (round(base * 1000) + round(jm * self.rng.random())) / 1000

        self.s_timer: BulkTimer[PeerInfo] = BulkTimer(period(self.backoffs[0]))
        self.m_timer: BulkTimer[PeerInfo] = BulkTimer(period(self.backoffs[1]))
        self.l_timer: BulkTimer[PeerInfo] = BulkTimer(period(self.backoffs[2]))
        self.x_timer: BulkTimer[PeerInfo] = BulkTimer(period(self.backoffs[3]))
        self._timers = (self.s_timer, self.m_timer, self.l_timer, self.x_timer)

    def select(self, peer: PeerInfo) -> BulkTimer[PeerInfo] | None:
        """JS ``_selectRetryTimer``."""
        if peer.banned or not peer.reconnecting:
            return None
        a = peer.attempts
        if a > 3:
            return self.x_timer if peer.explicit else None
        if a == 0:
            return self.s_timer
        if peer.proven:
            return (self.s_timer, self.m_timer, self.l_timer)[a - 1]
        return (self.m_timer, self.l_timer, self.l_timer)[a - 1]

    def add(self, peer: PeerInfo, now: float) -> bool:
        timer = self.select(peer)
        if timer is None:
            return False
        timer.add(peer, now)
        return True

    def next_deadline(self) -> float | None:
        deadlines = [d for t in self._timers if (d := t.next_deadline()) is not None]
        return min(deadlines) if deadlines else None

    def poll(self, now: float) -> list[list[PeerInfo]]:
        """Every batch due at ``now`` (in S, M, L, X order)."""
        out: list[list[PeerInfo]] = []
        for t in self._timers:
            batch = t.poll(now)
            if batch:
                out.append(batch)
        return out

    def __len__(self) -> int:
        return sum(len(t) for t in self._timers)

    def destroy(self) -> None:
        for t in self._timers:
            t.destroy()

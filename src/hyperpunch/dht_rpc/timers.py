"""A deadline heap for the sans-IO core: callbacks run when ``advance(now)`` passes their deadline.

Invariants: nothing here sleeps or reads a clock; ``now`` always comes from the caller. Timers
fire in deadline order (ties in creation order), each at most once; a cancelled timer never
fires. ``on_reschedule`` is called whenever the earliest deadline moves earlier, so an adapter can
wake its single sleeping task.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

__all__ = ["Timer", "Timers"]


class Timer:
    __slots__ = ("callback", "cancelled", "deadline", "seq")

    def __init__(self, deadline: float, seq: int, callback: Callable[[], None]) -> None:
        self.deadline = deadline
        self.seq = seq
        self.callback = callback
        self.cancelled = False

    def __lt__(self, other: Timer) -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    __slots__ = ("_heap", "_seq", "now", "on_reschedule")

    def __init__(self, now: float = 0.0) -> None:
        self._heap: list[Timer] = []
        self._seq = 0
        self.now = now
        self.on_reschedule: Callable[[float], None] | None = None

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        self._seq += 1
        t = Timer(self.now + delay, self._seq, callback)
        heap = self._heap
        earliest = heap[0].deadline if heap else None
        heapq.heappush(heap, t)
        if self.on_reschedule is not None and (earliest is None or t.deadline < earliest):
            self.on_reschedule(t.deadline)
        return t

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and heap[0].cancelled:
            heapq.heappop(heap)
        return heap[0].deadline if heap else None

    def set_clock(self, now: float) -> None:
        """Set the clock to ``now`` (never backwards) without running the timers now due."""
        if now > self.now:
            self.now = now

    def advance(self, now: float) -> None:
        """Set the clock to ``now`` (never backwards) and run every timer that is due."""
        if now > self.now:
            self.now = now
        heap = self._heap
        while heap and heap[0].deadline <= self.now:
            t = heapq.heappop(heap)
            if not t.cancelled:
                t.cancelled = True
                t.callback()

    def clear(self) -> None:
        for t in self._heap:
            t.cancelled = True
        self._heap.clear()

"""A shuffled priority queue (JS ``shuffled-priority-queue``) for peers waiting to be dialled.

Invariants: pure; :meth:`shift` removes a uniformly random item among those of the highest
non-empty priority (the ``rng`` is injectable for tests); an item is in at most one bucket, the
one of its ``priority`` at the time it was added; removal is O(1) (swap with the bucket's last).
"""

from __future__ import annotations

import random
from typing import Generic, Protocol, TypeVar

__all__ = ["ShuffledPriorityQueue"]


class _Prioritised(Protocol):
    priority: int


T = TypeVar("T", bound=_Prioritised)


class ShuffledPriorityQueue(Generic[T]):
    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()
        self._buckets: list[list[T]] = []
        self._where: dict[int, tuple[int, int]] = {}  # id(item) -> (priority, index)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, item: object) -> bool:
        return id(item) in self._where

    def add(self, item: T) -> None:
        if id(item) in self._where:
            return
        prio = max(0, item.priority)
        while prio >= len(self._buckets):
            self._buckets.append([])
        bucket = self._buckets[prio]
        self._where[id(item)] = (prio, len(bucket))
        bucket.append(item)

    def remove(self, item: T) -> bool:
        loc = self._where.pop(id(item), None)
        if loc is None:
            return False
        prio, i = loc
        bucket = self._buckets[prio]
        last = bucket.pop()
        if last is not item:
            bucket[i] = last
            self._where[id(last)] = (prio, i)
        return True

    def shift(self) -> T | None:
        for bucket in reversed(self._buckets):
            if bucket:
                item = bucket[self.rng.randrange(len(bucket))]
                self.remove(item)
                return item
        return None

    def clear(self) -> None:
        self._buckets = []
        self._where = {}

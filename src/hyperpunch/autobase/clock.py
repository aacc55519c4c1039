"""A vector clock: writer key -> the length of that writer's log seen (JS ``lib/clock.js``).

Invariants: plain data (no I/O); iteration is in insertion order, as JS's ``Map``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["Clock"]


class Clock:
    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self.seen)

    def has(self, key: bytes) -> bool:
        return key in self.seen

    def includes(self, key: bytes, length: int) -> bool:
        """Whether the clock has seen ``key`` up to at least ``length``."""
        got = self.seen.get(key)
        return got is not None and got >= length

    def get(self, key: bytes) -> int:
        return self.seen.get(key, 0)

    def set(self, key: bytes, length: int) -> int:
        self.seen[key] = length
        return length

    def add(self, other: Clock | Iterable[tuple[bytes, int]]) -> None:
        """Merge: take the larger length per key."""
        items = other.seen.items() if isinstance(other, Clock) else other
        for key, length in items:
            if self.get(key) < length:
                self.seen[key] = length

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        return iter(list(self.seen.items()))

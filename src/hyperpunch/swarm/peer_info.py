"""What the swarm knows about one remote peer (JS ``hyperswarm/lib/peer-info.js``).

Invariants: pure state, no IO and no clock: times are passed in (seconds, any monotonic origin).
``attempts`` counts disconnects/failures; a connection that lasted at least
:data:`MIN_CONNECTION_TIME` resets it first (fast retry). Priority follows JS exactly:
stale (tried, never proven) or more than 3 attempts -> VERY_LOW, 3 -> LOW, 2 -> HIGH,
1 -> VERY_HIGH, else NORMAL. A banned, queued, or over-tried peer is never (re)queued.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "HIGH_PRIORITY",
    "LOW_PRIORITY",
    "MIN_CONNECTION_TIME",
    "NORMAL_PRIORITY",
    "VERY_HIGH_PRIORITY",
    "VERY_LOW_PRIORITY",
    "PeerInfo",
]

MIN_CONNECTION_TIME = 15.0

VERY_LOW_PRIORITY = 0
LOW_PRIORITY = 1
NORMAL_PRIORITY = 2
HIGH_PRIORITY = 3
VERY_HIGH_PRIORITY = 4


class PeerInfo:
    """One peer: ``public_key``, ``topics`` it was found under, which side we are (``client``)."""

    def __init__(self, public_key: bytes, relay_addresses: list[Any] | None = None) -> None:
        self.public_key = bytes(public_key)
        self.relay_addresses = relay_addresses
        self.reconnecting = True
        self.proven = False
        self.connected_time = -1.0
        self.disconnected_time = 0.0
        self.banned = False
        self.tried = False
        self.explicit = False
        self.waiting = False
        self.force_relaying = False
        # set by the swarm
        self.queued = False
        self.client = False
        self.topics: list[bytes] = []
        self.attempts = 0
        self.priority = NORMAL_PRIORITY
        self.flush_tick = 0
        self.on_topic: Callable[[bytes], None] | None = None
        self._seen_topics: set[bytes] = set()

    def __repr__(self) -> str:
        return (
            f"<PeerInfo {self.public_key.hex()[:16]} attempts={self.attempts} priority={self.priority}"
            f"{' banned' if self.banned else ''}{' explicit' if self.explicit else ''}>"
        )

    @property
    def server(self) -> bool:
        """True when the peer connected to us (we are the server side)."""
        return not self.client

    @property
    def prioritized(self) -> bool:
        return self.priority >= NORMAL_PRIORITY

    @property
    def prioritised(self) -> bool:
        return self.prioritized

    def get_priority(self) -> int:
        stale = self.tried and not self.proven
        if stale or self.attempts > 3:
            return VERY_LOW_PRIORITY
        if self.attempts == 3:
            return LOW_PRIORITY
        if self.attempts == 2:
            return HIGH_PRIORITY
        if self.attempts == 1:
            return VERY_HIGH_PRIORITY
        return NORMAL_PRIORITY

    def connected(self, now: float) -> None:
        self.proven = True
        self.connected_time = now

    def disconnected(self, now: float) -> None:
        self.disconnected_time = now
        if self.connected_time > -1:
            if now - self.connected_time >= MIN_CONNECTION_TIME:
                self.attempts = 0  # fast retry
            self.connected_time = -1.0
        self.attempts += 1

    def deprioritize(self) -> None:
        self.attempts = 3

    def reset(self) -> None:
        self.client = False
        self.proven = False
        self.tried = False
        self.attempts = 0

    def update_priority(self) -> bool:
        """Recompute ``priority``; False when the peer must not be queued now."""
        if self.explicit and self.attempts > 3:
            self.deprioritize()
        if self.banned or self.queued or self.attempts > 3:
            return False
        self.priority = self.get_priority()
        return True

    def add_topic(self, topic: bytes) -> None:
        topic = bytes(topic)
        if topic in self._seen_topics:
            return
        self._seen_topics.add(topic)
        self.topics.append(topic)
        if self.on_topic is not None:
            self.on_topic(topic)

    def reconnect(self, value: bool) -> None:
        self.reconnecting = bool(value)

    def ban(self, value: bool = True) -> None:
        self.banned = bool(value)

    def should_gc(self) -> bool:
        return not (self.banned or self.queued or self.explicit or self.waiting)

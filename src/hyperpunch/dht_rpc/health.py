"""Network health (JS dht-rpc ``lib/health.js``): online / degraded / offline from request stats.

Invariants: once per DHT tick :meth:`NetworkHealth.update` snapshots the cumulative response and
timeout counters into a window of 4; while the window is cold (< 4 snapshots) or idle (< 4
requests finished since the previous tick) nothing changes. A tick with no responses is
offline; 2 offline ticks in a row mean offline. A tick whose timeout rate is above 0.5 is
degraded; 4 degraded ticks in the window mean degraded, 4 healthy ones clear it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["NetworkHealth"]

MAX_HEALTH_WINDOW = 4
OFFLINE_THRESHOLD = 2
IDLE_THRESHOLD = 4
DEGRADED_TIMEOUT_RATE_THRESHOLD = 0.5


@dataclass(slots=True)
class _Snapshot:
    responses: int
    timeouts: int
    offline: bool | None = None
    degraded: bool | None = None


class NetworkHealth:
    """Tracks the node's connectivity; calls ``on_change(state)`` with online/degraded/offline."""

    def __init__(self, stats: dict[str, int], on_change: Callable[[str], None]) -> None:
        self._stats = stats
        self._on_change = on_change
        self.reset(notify=False)

    def reset(self, notify: bool = True) -> None:
        self._window: list[_Snapshot] = []
        self._head = -1
        self._offline_ticks = 0
        self._degraded_ticks = 0
        self._healthy_ticks = 0
        self.online = True
        self.degraded = False
        if notify:
            self._on_change("online")

    @property
    def _tail(self) -> int:
        return (self._head + 1) % MAX_HEALTH_WINDOW

    def _at(self, i: int) -> _Snapshot | None:
        return self._window[i] if 0 <= i < len(self._window) else None

    @property
    def newest(self) -> _Snapshot | None:
        return self._at(self._head)

    @property
    def previous(self) -> _Snapshot | None:
        return self._at((self._head - 1 + MAX_HEALTH_WINDOW) % MAX_HEALTH_WINDOW)

    @property
    def responses(self) -> int:
        n, p = self.newest, self.previous
        return 0 if n is None or p is None else n.responses - p.responses

    @property
    def timeouts(self) -> int:
        n, p = self.newest, self.previous
        return 0 if n is None or p is None else n.timeouts - p.timeouts

    @property
    def timeouts_rate(self) -> float:
        t = self.timeouts
        return 0.0 if t == 0 else t / (self.responses + t)

    @property
    def cold(self) -> bool:
        return len(self._window) < MAX_HEALTH_WINDOW

    @property
    def idle(self) -> bool:
        return self.responses + self.timeouts < IDLE_THRESHOLD

    def update(self) -> None:
        oldest = self._at(self._tail)
        if oldest is not None:
            if oldest.degraded:
                self._degraded_ticks -= 1
            elif oldest.degraded is False:
                self._healthy_ticks -= 1
        self._head = self._tail
        snap = _Snapshot(self._stats["responses"], self._stats["timeouts"])
        if self._head < len(self._window):
            self._window[self._head] = snap
        else:
            self._window.append(snap)
        if self.cold or self.idle:
            return
        snap.offline = self.responses == 0
        snap.degraded = not snap.offline and self.timeouts_rate > DEGRADED_TIMEOUT_RATE_THRESHOLD
        if snap.offline:
            self._offline_ticks += 1
        else:
            self._offline_ticks = 0
            if snap.degraded:
                self._degraded_ticks += 1
            else:
                self._healthy_ticks += 1
        if not snap.offline:
            self.online = True
        elif self._offline_ticks >= OFFLINE_THRESHOLD:
            self.online = False
        if not self.online or self._healthy_ticks == MAX_HEALTH_WINDOW:
            self.degraded = False
        elif self._degraded_ticks == MAX_HEALTH_WINDOW:
            self.degraded = True
        if self.online and not self.degraded:
            self._on_change("online")
        elif self.degraded:
            self._on_change("degraded")
        else:
            self._on_change("offline")

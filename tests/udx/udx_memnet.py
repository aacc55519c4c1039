"""An in-memory network with a virtual clock for driving two sans-IO UDX stream cores.

Links have a fixed one-way delay plus jitter (which reorders), seeded loss and duplication.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from dataclasses import dataclass, field

from hyperpunch.udx.core import StreamCore
from hyperpunch.udx.errors import UDXError


@dataclass
class Endpoint:
    core: StreamCore
    received: bytearray = field(default_factory=bytearray)
    messages: list[bytes] = field(default_factory=list)
    ended: bool = False
    closed: bool = False
    error: UDXError | None = None
    read_live: bool = True  # consume delivered bytes at once (keeps the window open)

    def attach(self) -> None:
        core = self.core

        def on_data(data: bytes) -> None:
            self.received += data
            if self.read_live:
                core.consume(len(data))

        def on_end() -> None:
            self.ended = True

        def on_close(err: UDXError | None) -> None:
            self.closed = True
            self.error = err

        core.on_data = on_data
        core.on_end = on_end
        core.on_message = self.messages.append
        core.on_close = on_close


class MemNet:
    """Two endpoints 'a' (id 1) and 'b' (id 2) linked through a lossy virtual path."""

    def __init__(
        self,
        *,
        seed: int = 1,
        loss: float = 0.0,
        dup: float = 0.0,
        delay: float = 0.005,
        jitter: float = 0.0,
        a_kwargs: dict[str, int] | None = None,
        b_kwargs: dict[str, int] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.loss = loss
        self.dup = dup
        self.delay = delay
        self.jitter = jitter
        self.now = 1000.0
        self.a = Endpoint(StreamCore(1, **(a_kwargs or {})))
        self.b = Endpoint(StreamCore(2, **(b_kwargs or {})))
        self.a.attach()
        self.b.attach()
        self.a.core.connect(2, ("b", 2))
        self.b.core.connect(1, ("a", 1))
        self._queue: list[tuple[float, int, str, bytes]] = []
        self._n = 0
        self.sent = {"a": 0, "b": 0}
        self.filter: object = None  # optional callable(src, datagram) -> bool (True = drop)

    def _pump(self, name: str, ep: Endpoint) -> None:
        out = ep.core.datagrams_to_send(self.now)
        if not out:
            return
        dest = "b" if name == "a" else "a"
        for d in out:
            self.sent[name] += 1
            if callable(self.filter) and self.filter(name, d):
                continue
            if self.rng.random() < self.loss:
                continue
            copies = 2 if self.rng.random() < self.dup else 1
            for _ in range(copies):
                t = self.now + self.delay + self.rng.random() * self.jitter
                self._n += 1
                heapq.heappush(self._queue, (t, self._n, dest, d))

    def flush(self) -> None:
        for name, ep in (("a", self.a), ("b", self.b)):
            self._pump(name, ep)

    def step(self) -> bool:
        """Advance to the next delivery or timer; False when nothing is left to do."""
        self.flush()
        deadlines = [d for d in (self.a.core.next_deadline(), self.b.core.next_deadline()) if d is not None]
        next_t = min(deadlines) if deadlines else None
        if self._queue and (next_t is None or self._queue[0][0] <= next_t):
            t = self._queue[0][0]
            self.now = max(self.now, t)
            while self._queue and self._queue[0][0] <= self.now:
                _, _, dest, d = heapq.heappop(self._queue)
                ep = self.a if dest == "a" else self.b
                if ep.core.closed and ep.error is None and d[2] & 0x03:
                    # the socket layer's linger: keep acknowledging retransmissions after close
                    final = ep.core.final_ack()
                    if final is not None:
                        ep.core.outbox.append(final)
                    continue
                ep.core.receive_datagram(d, self.now)
            return True
        if next_t is None:
            return False
        self.now = max(self.now, next_t)
        for ep in (self.a, self.b):
            d = ep.core.next_deadline()
            if d is not None and d <= self.now:
                ep.core.handle_timer(self.now)
        return True

    def run(self, *, until: object = None, max_time: float = 600.0) -> None:
        start = self.now
        while self.now - start < max_time:
            if callable(until) and until():
                self.flush()
                return
            if not self.step():
                return
        raise AssertionError(f"simulation did not finish within {max_time} virtual seconds")


def sha(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()

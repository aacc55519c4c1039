"""NAT sampler (JS ``nat-sampler`` 1.0): guesses our public host and port from what peers report.

Invariants (a faithful port): a ring of up to 32 samples, two per :meth:`NatSampler.add` call, one
for ``(host, port)`` and one for ``(host, 0)``; a repeated sample found among the last four of its
kind is bumped instead of stored anew. The threshold is the number of calls made so far (capped
at 16) minus a slack of 0/1/2/3 for sizes <4/<8/<12/>=12. ``host``/``port`` are the best
``(host, port)`` pair above the threshold, else the best host with ``port == 0`` ("randomized"
NAT), else ``None``/0.
"""

from __future__ import annotations

__all__ = ["NatSampler"]


class _Sample:
    __slots__ = ("hits", "host", "port")

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.hits = 1


class NatSampler:
    """Sample ``(host, port)`` pairs as peers see us."""

    __slots__ = ("_a", "_b", "_samples", "_threshold", "_top", "host", "port", "size")

    def __init__(self) -> None:
        self.host: str | None = None
        self.port = 0
        self.size = 0
        self._a: _Sample | None = None
        self._b: _Sample | None = None
        self._threshold = 0
        self._top = 0
        self._samples: list[_Sample] = []

    def add(self, host: str, port: int) -> int:
        """Record one observation; returns how many recent samples agree on ``(host, port)``."""
        a = self._bump(host, port, 2)
        b = self._bump(host, 0, 1)
        samples = self._samples

        if len(samples) < 32:
            self.size += 1
            size = self.size
            self._threshold = size - (0 if size < 4 else 1 if size < 8 else 2 if size < 12 else 3)
            samples.append(a)
            samples.append(b)
            self._top += 2
        else:
            if self._top == 32:
                self._top = 0
            oa = samples[self._top]
            samples[self._top] = a
            self._top += 1
            oa.hits -= 1
            ob = samples[self._top]
            samples[self._top] = b
            self._top += 1
            ob.hits -= 1

        if self._a is None or self._a.hits < a.hits:
            self._a = a
        if self._b is None or self._b.hits < b.hits:
            self._b = b

        if self._a.hits >= self._threshold:
            self.host = self._a.host
            self.port = self._a.port
        elif self._b.hits >= self._threshold:
            self.host = self._b.host
            self.port = 0
        else:
            self.host = None
            self.port = 0
        return a.hits

    def _bump(self, host: str, port: int, inc: int) -> _Sample:
        samples = self._samples
        for i in range(4):
            j = (self._top - inc - 2 * i) & 31
            if j >= len(samples):
                return _Sample(host, port)
            s = samples[j]
            if s.port == port and s.host == host:
                s.hits += 1
                return s
        return _Sample(host, port)

"""The one vocabulary every sans-IO core speaks (see docs/ARCHITECTURE.md).

Invariants:

* A core never reads a clock, never sleeps and imports no asyncio: time is the ``now`` argument
  (seconds on the adapter's monotonic clock, ``loop.time()`` in asyncio).
* Input is a method call: ``receive_data(data, now)`` for a byte stream,
  ``receive_datagram(data, addr, now)`` for datagrams, plain methods for the user's commands.
* Input methods and ``handle_timer(now)`` return the outcomes they produced, in order, as a list of
  frozen, slotted event dataclasses (never strings, never ``*args: Any``).
* ``next_deadline()`` says when ``handle_timer`` must next be called (``None``: no timer).
* Bytes to write are drained by ``data_to_send()`` (streams) or ``datagrams_to_send()``
  (datagrams: ``(payload, address)`` pairs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

__all__ = ["TimedCore"]

E_co = TypeVar("E_co", covariant=True)


class TimedCore(Protocol[E_co]):
    """The time half of the vocabulary, which :class:`hyperpunch.aio.DeadlineTimer` drives."""

    def next_deadline(self) -> float | None: ...

    def handle_timer(self, now: float) -> Sequence[E_co]: ...

"""The bytes written to a UDX stream and not yet cut into packets (libudx's write queue).

Invariants: ``size`` is the sum of the lengths of ``parts``; no part is empty; ``take(cap)``
returns at most ``cap`` bytes from the front, in write order, as a view of the written buffer
when they come from one write (no copy) and joined only when a packet spans several writes.
"""

from __future__ import annotations

from collections import deque

__all__ = ["SendQueue"]


class SendQueue:
    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: deque[memoryview] = deque()
        self.size = 0

    def __bool__(self) -> bool:
        return bool(self.parts)

    def push(self, view: memoryview) -> None:
        self.parts.append(view)
        self.size += len(view)

    def clear(self) -> None:
        self.parts.clear()
        self.size = 0

    def take(self, cap: int) -> memoryview | bytes:
        """The next packet's payload: up to ``cap`` bytes from the front (the queue is not empty)."""
        q = self.parts
        head = q[0]
        if len(head) > cap:
            q[0] = head[cap:]
            self.size -= cap
            return head[:cap]
        if len(head) == cap or len(q) == 1:
            q.popleft()
            self.size -= len(head)
            return head
        parts: list[memoryview] = []
        need = cap
        while q and need > 0:
            head = q[0]
            if len(head) > need:
                parts.append(head[:need])
                q[0] = head[need:]
                need = 0
            else:
                parts.append(q.popleft())
                need -= len(head)
        self.size -= cap - need
        return b"".join(parts)

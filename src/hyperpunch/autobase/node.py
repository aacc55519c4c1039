"""A node of the causal DAG and the writer seam the linearizer reads (JS ``lib/linearizer.js``
``Node`` and the parts of ``lib/writer.js`` the linearizer and consensus call).

Invariants: plain data (no I/O). Node identity is object identity (as JS ``===``); node sets are
insertion-ordered ``dict``\\s (JS ``Set`` order), since the linearizer's choices depend on it.
"""

from __future__ import annotations

from typing import Any, Protocol

from hyperpunch.autobase.clock import Clock
from hyperpunch.autobase.messages import Checkout, Trace

__all__ = ["DagNode", "DagWriter", "js_truthy"]


class DagWriter(Protocol):
    """A writer as the linearizer sees it: its key, role, and its nodes by sequence number
    (``get(seq)`` is the node of length ``seq + 1``, ``None`` when not loaded/beyond ``length``
    or already indexed; ``indexed`` is how many are indexed and dropped)."""

    @property
    def key(self) -> bytes: ...
    @property
    def is_active_indexer(self) -> bool: ...
    @property
    def is_removed(self) -> bool: ...
    @property
    def length(self) -> int: ...
    @property
    def available(self) -> int: ...
    @property
    def indexed(self) -> int: ...
    def get(self, seq: int) -> DagNode | None: ...
    def head(self) -> DagNode | None: ...


def js_truthy(value: Any) -> bool:
    """JS ``!!value`` for a decoded value: empty strings/zero/false/null are false, while any
    object or list (even empty) is true."""
    if isinstance(value, list | dict | tuple):
        return True
    return bool(value)


class DagNode:
    """One block of a writer (``length`` is its 1-based position in the writer core)."""

    __slots__ = (
        "actual_heads",
        "batch",
        "clock",
        "dependencies",
        "dependents",
        "dropped",
        "heads",
        "index",
        "length",
        "optimistic",
        "trace",
        "value",
        "writer",
        "yielded",
        "yielding",
    )

    def __init__(
        self,
        writer: DagWriter,
        length: int,
        value: Any,
        heads: list[Checkout],
        batch: int,
        dependencies: dict[DagNode, None],
        optimistic: bool = False,
        trace: Trace | None = None,
    ) -> None:
        self.writer = writer
        self.length = length
        self.value = value
        self.heads = heads
        self.actual_heads = list(heads)
        self.dependents: dict[DagNode, None] = {}
        self.dependencies = dependencies
        self.index = 0  # used by the topolist
        self.optimistic = optimistic and batch == 1 and js_truthy(value)
        self.batch = batch
        self.dropped = 0
        self.trace = trace
        self.clock = Clock()
        self.yielded = False
        self.yielding = False

    def __repr__(self) -> str:
        return f"DagNode({self.ref})"

    @property
    def ref(self) -> str:
        """JS ``ref``: the writer key's first byte in hex, and the length."""
        return f"{self.writer.key[:1].hex()}:{self.length}"

    def is_tail(self) -> bool:
        return len(self.dependencies) == self.dropped

    def clear(self) -> DagNode:
        """Drop what an indexed node no longer needs (JS sets them to ``null``)."""
        self.clock = Clock()
        self.dependents = {}
        return self

    def reset(self) -> None:
        self.yielded = False
        self.yielding = False
        for dep in self.dependents:
            dep.dependencies[self] = None
        self.dependents.clear()

    def active(self) -> None:
        """Link into the DAG: register as a dependent and merge the dependencies' clocks."""
        for dep in list(self.dependencies):
            if dep.yielded:
                del self.dependencies[dep]  # yielded while buffering
            else:
                dep.dependents[self] = None
                self.clock.add(dep.clock)
        if self.writer.is_active_indexer:
            self.clock.set(self.writer.key, self.length)

    def has_dependency(self, dep: DagNode) -> bool:
        return any(h.key == dep.writer.key and h.length == dep.length for h in self.actual_heads)

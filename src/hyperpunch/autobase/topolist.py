"""The reorderable tip of the linearized DAG (JS ``autobase/lib/topolist.js``).

A :class:`Topolist` keeps the not-yet-indexed nodes in one deterministic topological order: a
node goes after everything it depends on, and concurrent nodes are sorted by writer key, then
length (:func:`compare`: the lowest writer key wins the tie). Optimistic nodes move as far up
as their dependents allow. ``mark``/``flush`` report how much of the previously applied order is
still shared (``shared``) and how many applied nodes must be undone (``undo``).

Invariants: pure data structure (no I/O, no clock); for the same nodes added in any topological
order the tip ends in the same order; the results equal JS's for the same inputs. Nodes are any
objects with the :class:`TopoNode` attributes; sets of nodes are insertion-ordered ``dict``\\s
(JS ``Set`` iteration order).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["TopoNode", "TopoUpdate", "TopoWriter", "Topolist", "add_sorted", "compare"]


class TopoWriter(Protocol):
    @property
    def key(self) -> bytes: ...


class TopoNode(Protocol):
    """What the topolist reads of a DAG node (the linearizer's node satisfies it)."""

    index: int  # its position in the list it is being sorted into

    @property
    def writer(self) -> TopoWriter: ...
    @property
    def length(self) -> int: ...
    @property
    def optimistic(self) -> bool: ...
    @property
    def yielded(self) -> bool: ...
    @property
    def dependents(self) -> Collection[Any]: ...
    @property
    def dependencies(self) -> Iterable[Any]: ...


N = TypeVar("N", bound=TopoNode)


@dataclass(frozen=True, slots=True)
class TopoUpdate(Generic[N]):
    """JS ``flush()``'s result: keep the first ``shared`` applied nodes (after undoing ``undo``),
    then apply ``indexed`` (final) followed by ``tip`` (still reorderable)."""

    shared: int
    undo: int
    length: int
    indexed: list[N]
    tip: list[N]


class Topolist(Generic[N]):
    __slots__ = ("shared", "tip", "undo")

    def __init__(self) -> None:
        self.tip: list[N] = []
        self.undo = 0
        self.shared = 0

    def mark(self) -> None:
        self.shared = len(self.tip)
        self.undo = 0

    def flush(self, indexed: list[N] | None = None) -> TopoUpdate[N]:
        indexed = [] if indexed is None else indexed
        if indexed:
            self._apply_indexed(indexed)
        u = TopoUpdate(self.shared, self.undo, len(indexed) + len(self.tip), indexed, self.tip)
        self.mark()
        return u

    def print(self) -> list[str]:
        """JS ``print()``: each tip node as writer key (as text) and length."""
        return [n.writer.key.decode("utf-8", "replace") + str(n.length) for n in self.tip]

    def _apply_indexed(self, nodes: list[N]) -> None:
        assert len(nodes) <= len(self.tip), "Indexed batch cannot exceed tip"
        shared = 0
        while shared < len(nodes) and self.tip[shared] is nodes[shared]:
            shared += 1
        if shared < len(nodes):  # reordering
            self._track(shared)
        tip: list[N] = []
        for i in range(shared, len(self.tip)):
            node = self.tip[i]
            if node.yielded:
                continue
            s = add_sorted(node, tip, 0)
            if s == len(tip) - 1:
                continue
            self._track(shared + s)
        self.tip = tip

    def add(self, node: N) -> None:
        self._track(add_sorted(node, self.tip, 0))

    def _track(self, shared: int) -> None:
        if shared < self.shared:
            self.undo += self.shared - shared
            self.shared = shared


def _has_optimistic_deps(node: TopoNode) -> bool:
    return any(d.optimistic for d in node.dependencies)


def _optimistic_deps(node: N, lst: list[N]) -> list[N]:
    deps: dict[N, None] = {}
    stack: list[N] = [node]
    while stack:
        nxt = stack.pop()
        if nxt in deps:
            continue
        if nxt.optimistic and nxt is not node:
            deps[nxt] = None
        for d in nxt.dependencies:
            if d.optimistic:
                stack.append(d)
    result: list[N] = []
    i = len(lst) - 1
    while len(deps) != len(result) and i >= 0:
        n = lst[i]
        if n in deps:
            result.append(n)
        i -= 1
    result.reverse()
    return result


def _add_sorted_optimistic(node: N, lst: list[N], offset: int) -> int:
    opt = _optimistic_deps(node, lst)
    pos = []
    for n in opt:
        pos.append(n.index)
        _move_down(n, lst, offset)
    _move_down_and_up(node, lst, offset)
    for n in reversed(opt):
        _move_optimistic_up(n, lst, offset)
    shared = node.index
    for idx, n in zip(pos, opt, strict=True):
        if idx == n.index:
            continue
        shared = min(shared, idx, n.index)
    return shared


def add_sorted(node: N, lst: list[N], offset: int) -> int:
    """Insert ``node`` into ``lst`` (sorted from ``offset`` on); returns its position (or, with
    optimistic dependencies, the lowest position that moved). JS ``Topolist.add``."""
    lst.append(node)
    node.index = len(lst) - 1
    if _has_optimistic_deps(node):  # the "slow" path, about 1% of nodes
        return _add_sorted_optimistic(node, lst, offset)
    _move_down_and_up(node, lst, offset)
    return node.index


def _swap_down(node: N, prev: N, lst: list[N]) -> None:
    prev.index = node.index
    lst[prev.index] = prev
    node.index -= 1
    lst[node.index] = node


def _move_down(node: N, lst: list[N], offset: int) -> None:
    while node.index > offset:
        prev = lst[node.index - 1]
        if _links(node, prev):
            break
        _swap_down(node, prev, lst)


def _move_optimistic_up(node: N, lst: list[N], offset: int) -> None:
    while node.index < len(lst) - 1:  # all the way up
        nxt = lst[node.index + 1]
        if _links(nxt, node):
            break
        _swap_down(nxt, node, lst)
    while node.index > offset:  # stable sort in case of several children
        prev = lst[node.index - 1]
        if not prev.optimistic or compare(prev, node) <= 0:
            break
        _swap_down(node, prev, lst)


def _move_non_optimistic_up(node: N, lst: list[N]) -> None:
    while node.index < len(lst) - 1:  # stable sort against the next non-optimistic node
        nxt = lst[node.index + 1]
        if _cmp_non_optimistic(node, nxt, lst) <= 0:
            break
        _swap_down(nxt, node, lst)


def _move_down_and_up(node: N, lst: list[N], offset: int) -> None:
    _move_down(node, lst, offset)
    if node.optimistic:
        _move_optimistic_up(node, lst, offset)
    else:
        _move_non_optimistic_up(node, lst)


def _links(a: TopoNode, b: TopoNode) -> bool:
    """``a`` depends directly on ``b`` (a dependent, or ``b`` is ``a``'s predecessor)."""
    if a in b.dependents:
        return True
    return a.length > 0 and b.length == a.length - 1 and a.writer is b.writer


def _cmp_non_optimistic(a: N, b: N, lst: list[N]) -> int:
    if not b.optimistic:
        return compare(a, b)
    for i in range(b.index + 1, len(lst)):
        node = lst[i]
        if not node.optimistic:
            return compare(a, node)
    return -1


def compare(a: TopoNode, b: TopoNode) -> int:
    """JS ``Topolist.compare``: ``a`` first (-1) if ``b`` links to it, else by writer key, then
    length (ties go to the lowest writer key)."""
    if _links(b, a):
        return -1
    ka, kb = a.writer.key, b.writer.key
    if ka == kb:
        return -1 if a.length < b.length else 1
    return -1 if ka < kb else 1

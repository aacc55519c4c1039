"""flat-tree 1.12 for Python: the flat in-order numbering of a binary Merkle tree.

Invariants: leaves (depth 0) have even indices ``2 * block``; a node at ``depth`` d and ``offset``
o has index ``(2o + 1) * 2**d - 1``. Every function returns exactly what the JS ``flat-tree``
function of the same name (in snake_case) returns for non-negative safe integers, including the
JS conventions for leaves (``left_child`` of a leaf is ``-1``, ``children`` of a leaf is ``None``,
``left_span``/``right_span`` of a leaf is the leaf itself). Python integers never overflow, so
results agree with JS up to 2**53.
"""

from __future__ import annotations

from hyperpunch.hypercore.errors import BadArgumentError

__all__ = [
    "Iterator",
    "children",
    "count",
    "count_leaves",
    "depth",
    "full_roots",
    "future_roots",
    "index",
    "iterator",
    "left_child",
    "left_span",
    "next_leaf",
    "offset",
    "parent",
    "patch",
    "right_child",
    "right_span",
    "sibling",
    "spans",
]


def depth(index: int) -> int:
    """The depth of ``index`` (0 for leaves): the number of trailing 1 bits."""
    n = index + 1
    return (n & -n).bit_length() - 1


def index(depth: int, offset: int) -> int:
    """The flat index of the node at ``depth`` and ``offset``."""
    return ((2 * offset + 1) << depth) - 1


def offset(index: int, depth: int | None = None) -> int:
    """The node's offset among the nodes of its depth."""
    if not index & 1:
        return index >> 1
    if not depth:
        depth = _depth(index)
    return (((index + 1) >> depth) - 1) >> 1


_depth = depth
_index = index
_offset = offset


def parent(index: int, depth: int | None = None) -> int:
    if not depth:
        depth = _depth(index)
    return _index(depth + 1, _offset(index, depth) >> 1)


def sibling(index: int, depth: int | None = None) -> int:
    if not depth:
        depth = _depth(index)
    o = _offset(index, depth)
    return _index(depth, o - 1 if o & 1 else o + 1)


def left_child(index: int, depth: int | None = None) -> int:
    if not index & 1:
        return -1
    if not depth:
        depth = _depth(index)
    return _index(depth - 1, _offset(index, depth) * 2)


def right_child(index: int, depth: int | None = None) -> int:
    if not index & 1:
        return -1
    if not depth:
        depth = _depth(index)
    return _index(depth - 1, 1 + _offset(index, depth) * 2)


def children(index: int, depth: int | None = None) -> tuple[int, int] | None:
    if not index & 1:
        return None
    if not depth:
        depth = _depth(index)
    o = _offset(index, depth) * 2
    return (_index(depth - 1, o), _index(depth - 1, o + 1))


def left_span(index: int, depth: int | None = None) -> int:
    """The leftmost leaf below ``index`` (the index itself for a leaf)."""
    if not index & 1:
        return index
    if not depth:
        depth = _depth(index)
    return _offset(index, depth) << (depth + 1)


def right_span(index: int, depth: int | None = None) -> int:
    """The rightmost leaf below ``index`` (the index itself for a leaf)."""
    if not index & 1:
        return index
    if not depth:
        depth = _depth(index)
    return ((_offset(index, depth) + 1) << (depth + 1)) - 2


def spans(index: int, depth: int | None = None) -> tuple[int, int]:
    if not index & 1:
        return (index, index)
    if not depth:
        depth = _depth(index)
    o = _offset(index, depth)
    return (o << (depth + 1), ((o + 1) << (depth + 1)) - 2)


def count(index: int, depth: int | None = None) -> int:
    """The number of nodes in the subtree rooted at ``index`` (itself included)."""
    if not index & 1:
        return 1
    if not depth:
        depth = _depth(index)
    return (2 << depth) - 1


def count_leaves(index: int) -> int:
    return (count(index) + 1) >> 1


def next_leaf(index: int) -> int:
    factor = 1
    r = index
    while r & 1:
        r = (r - 1) >> 1
        factor *= 2
    return index + factor + 1


def full_roots(index: int) -> list[int]:
    """The roots of the complete trees covering the leaves before leaf index ``index`` (even)."""
    if index & 1:
        raise BadArgumentError("You can only look up roots for depth(0) blocks")
    result: list[int] = []
    n = index >> 1
    off = 0
    while n:
        factor = 1 << (n.bit_length() - 1)
        result.append(off + factor - 1)
        off += 2 * factor
        n -= factor
    return result


def future_roots(index: int) -> list[int]:
    """The roots a tree of leaf-index width ``index`` will grow (JS ``futureRoots``).

    Transcribed with floats like JS (halving ``factor`` can reach 1/2 there); every value is a
    dyadic rational well inside a double's precision, so the results are exact.
    """
    if index & 1:
        raise BadArgumentError("You can only look up future roots for depth(0) blocks")
    result: list[int] = []
    factor = 1.0
    while factor * 2 <= index:
        factor *= 2
    if factor * 2 - 2 == index:
        return result
    pos = factor / 2 - 1
    while pos + factor / 2 - 1 != index:
        pos += factor
        while pos + factor / 2 - 1 > index:
            factor /= 2
            pos -= factor / 2
        result.append(int(pos - factor / 2))
    return result


def patch(from_: int, to: int) -> list[int]:
    """The nodes to send to grow a tree of ``from_`` leaf-index width to ``to`` (JS ``patch``)."""
    if from_ == 0 or from_ >= to:
        return []
    roots = full_roots(from_)
    target = full_roots(to)
    i = 0
    while i < len(target):
        if i >= len(roots) or roots[i] != target[i]:
            break
        i += 1
    out: list[int] = []
    if i < len(roots):
        prev = len(roots) - 1
        ite = Iterator(roots[prev])
        prev -= 1
        while ite.index != target[i]:
            ite.sibling()
            if prev >= 0 and ite.index == roots[prev]:
                prev -= 1
            else:
                out.append(ite.index)
            out.append(ite.parent())
        i += 1
    out.extend(target[i:])
    return out


class Iterator:
    """A cursor over the tree (JS ``flat.iterator``): ``index``, ``offset`` and ``factor``
    (``2 ** (depth + 1)``)."""

    __slots__ = ("factor", "index", "offset")

    def __init__(self, index: int = 0) -> None:
        self.index = 0
        self.offset = 0
        self.factor = 0
        self.seek(index)

    def __repr__(self) -> str:
        return f"Iterator(index={self.index}, offset={self.offset}, factor={self.factor})"

    def seek(self, index: int) -> None:
        self.index = index
        if index & 1:
            d = _depth(index)
            self.offset = _offset(index, d)
            self.factor = 2 << d
        else:
            self.offset = index >> 1
            self.factor = 2

    def is_left(self) -> bool:
        return not self.offset & 1

    def is_right(self) -> bool:
        return bool(self.offset & 1)

    def is_root(self, length: int) -> bool:
        half = self.factor >> 1
        current_length = 1 + (self.index + half - 1) // 2
        if length < current_length:
            return False
        factor = self.factor * 2
        idx = self.index - half if self.offset & 1 else self.index + half
        parent_length = 1 + (idx + (factor >> 1) - 1) // 2
        return parent_length > length

    def contains(self, index: int) -> bool:
        half = self.factor >> 1
        if index > self.index:
            return index < self.index + half
        if index < self.index:
            return index > self.index - half
        return True

    def prev(self) -> int:
        if not self.offset:
            return self.index
        self.offset -= 1
        self.index -= self.factor
        return self.index

    def next(self) -> int:
        self.offset += 1
        self.index += self.factor
        return self.index

    def count(self) -> int:
        if not self.index & 1:
            return 1
        return self.factor - 1

    def count_leaves(self) -> int:
        return (self.count() + 1) >> 1

    def sibling(self) -> int:
        if self.offset & 1:
            return self.prev()
        return self.next()

    def parent(self) -> int:
        half = self.factor >> 1
        if self.offset & 1:
            self.index -= half
            self.offset = (self.offset - 1) >> 1
        else:
            self.index += half
            self.offset >>= 1
        self.factor *= 2
        return self.index

    def left_span(self) -> int:
        self.index = self.index - (self.factor >> 1) + 1
        self.offset = self.index >> 1
        self.factor = 2
        return self.index

    def peek_left_span(self) -> int:
        return self.index - (self.factor >> 1) + 1

    def right_span(self) -> int:
        self.index = self.index + (self.factor >> 1) - 1
        self.offset = self.index >> 1
        self.factor = 2
        return self.index

    def peek_right_span(self) -> int:
        return self.index + (self.factor >> 1) - 1

    def left_child(self) -> int:
        if self.factor == 2:
            return self.index
        self.factor >>= 1
        self.index -= self.factor >> 1
        self.offset *= 2
        return self.index

    def right_child(self) -> int:
        if self.factor == 2:
            return self.index
        self.factor >>= 1
        self.index += self.factor >> 1
        self.offset = 2 * self.offset + 1
        return self.index

    def next_tree(self) -> int:
        self.index = self.index + (self.factor >> 1) + 1
        self.offset = self.index >> 1
        self.factor = 2
        return self.index

    def prev_tree(self) -> int:
        if not self.offset:
            self.index = 0
            self.factor = 2
        else:
            self.index = self.index - (self.factor >> 1) - 1
            self.offset = self.index >> 1
            self.factor = 2
        return self.index

    def full_root(self, index: int) -> bool:
        """Grow this (leaf) position into the largest full root that fits before ``index``."""
        if index <= self.index or self.index & 1:
            return False
        while index > self.index + self.factor + (self.factor >> 1):
            self.index += self.factor >> 1
            self.factor *= 2
            self.offset >>= 1
        return True


def iterator(index: int = 0) -> Iterator:
    return Iterator(index)

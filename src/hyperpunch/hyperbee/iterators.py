"""Range, history and diff iteration over one bee version (JS ``hyperbee/iterators/*``).

Invariants:

* :class:`RangeIterator` yields the live entries with ``gt``/``gte`` < key < ``lt``/``lte`` in key
  order (``reverse``: descending), at most ``limit`` (``-1``: all), from the version its batch
  sees; :meth:`RangeIterator.snapshot` describes its position as JS's extension checkpoint
  (``seq, offset, i`` triples) and an iterator opened from a checkpoint resumes there.
* :class:`HistoryIterator` yields ``(type, entry)`` per block in ``[gte, lt)`` (negative bounds
  count from the version; ``live`` follows appends) as ``HistoryEntry``.
* :class:`DiffIterator` yields ``DiffEntry(left, right)`` for every key whose entry differs between
  two versions, skipping shared subtrees by ``(seq, offset)`` identity as JS does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hyperpunch.hyperbee.batch import Batch
from hyperpunch.hyperbee.tree import BlockEntry, Entry, TreeNode, check_depth

__all__ = ["DiffEntry", "DiffIterator", "HistoryEntry", "HistoryIterator", "RangeIterator", "RangeSnapshot"]


E = TypeVar("E")


class _Entries(Generic[E]):
    """What the range, history and diff iterators share: opened on first ``__anext__``, closed (and
    ``on_close`` run once) when exhausted or by :meth:`aclose`."""

    opened: bool
    _on_close: Callable[[], Any] | None

    async def open(self) -> None:
        raise NotImplementedError

    async def next(self) -> E | None:
        raise NotImplementedError

    def __aiter__(self) -> _Entries[E]:
        return self

    async def __anext__(self) -> E:
        if not self.opened:
            await self.open()
        entry = await self.next()
        if entry is None:
            await self.aclose()
            raise StopAsyncIteration
        return entry

    async def aclose(self) -> None:
        cb, self._on_close = self._on_close, None
        if cb is not None:
            r = cb()
            if r is not None:
                await r


@dataclass(frozen=True, slots=True)
class RangeSnapshot:
    version: int
    gte: bytes | None
    gt: bytes | None
    lte: bytes | None
    lt: bytes | None
    limit: int
    reverse: bool
    ended: bool
    checkpoint: tuple[int, ...]


class _Frame:
    __slots__ = ("i", "node")

    def __init__(self, node: TreeNode, i: int) -> None:
        self.node = node
        self.i = i


class RangeIterator(_Entries[Entry]):
    def __init__(
        self,
        batch: Batch,
        *,
        gt: bytes | None = None,
        gte: bytes | None = None,
        lt: bytes | None = None,
        lte: bytes | None = None,
        reverse: bool = False,
        limit: int = -1,
        checkpoint: tuple[int, ...] = (),
        on_close: Callable[[], Any] | None = None,
    ) -> None:
        self.batch = batch
        self.stack: list[_Frame] = []
        self.opened = False
        self._limit = limit
        self._g_incl = gt is None
        self._g_key = gt if gt is not None else gte
        self._l_incl = lt is None
        self._l_key = lt if lt is not None else lte
        self._reverse = reverse
        self._checkpoint = checkpoint or None
        self._nexting = False
        self._on_close = on_close

    def snapshot(self, version: int | None = None) -> RangeSnapshot:
        checkpoint: list[int] = []
        for s in self.stack:
            i = s.i
            if self._nexting and s is self.stack[-1]:
                i = i + 1 if self._reverse else i - 1
            if s.node.block is None or i < 0:
                continue
            checkpoint += (s.node.block.seq, s.node.offset, i)
        return RangeSnapshot(
            self.batch.version if version is None else version,
            self._g_key if self._g_incl else None,
            None if self._g_incl else self._g_key,
            self._l_key if self._l_incl else None,
            None if self._l_incl else self._l_key,
            self._limit,
            self._reverse,
            self.opened and not checkpoint,
            tuple(checkpoint) if self.opened else (),
        )

    async def open(self) -> None:
        await self._open()
        self.opened = True

    async def _open(self) -> None:
        if self._checkpoint:
            cp = self._checkpoint
            for j in range(0, len(cp) - 2, 3):
                block = await self.batch.get_block(cp[j])
                self.stack.append(_Frame(block.get_tree_node(cp[j + 1]), cp[j + 2]))
            return
        self._nexting = True
        node = await self.batch.get_root(False)
        if node is None:
            self._nexting = False
            return
        incl = self._l_incl if self._reverse else self._g_incl
        start = self._l_key if self._reverse else self._g_key
        if start is None:
            self.stack.append(_Frame(node, len(node.keys) << 1 if self._reverse else 0))
            self._nexting = False
            return
        depth = 0
        while True:
            depth += 1
            check_depth(depth)
            entry = _Frame(node, len(node.keys) << 1 if self._reverse else 0)
            s, e, c = 0, len(node.keys), 0
            while s < e:
                mid = (s + e) >> 1
                k = await node.get_key(mid)
                c = -1 if start < k else (1 if start > k else 0)
                if c == 0:
                    entry.i = mid * 2 + 1 if incl else mid * 2 + (0 if self._reverse else 2)
                    self.stack.append(entry)
                    self._nexting = False
                    return
                if c < 0:
                    e = mid
                else:
                    s = mid + 1
            i = e if c < 0 else s
            entry.i = 2 * i + (-1 if self._reverse else 1)
            if 0 <= entry.i <= len(node.keys) << 1:
                self.stack.append(entry)
            if not node.children:
                self._nexting = False
                return
            node = await node.get_child_node(i)

    async def next(self) -> Entry | None:
        block = await self.next_block()
        return None if block is None else self.batch.final(block)

    async def next_block(self) -> BlockEntry | None:
        self._nexting = True
        end = self._g_key if self._reverse else self._l_key
        incl = self._g_incl if self._reverse else self._l_incl
        reverse = self._reverse
        stack = self.stack
        while stack and (self._limit == -1 or self._limit > 0):
            top = stack[-1]
            is_key = (top.i & 1) == 1
            if reverse:
                if top.i < 0:
                    n = len(top.node.keys)
                else:
                    n = top.i >> 1
                    top.i -= 1
            else:
                n = top.i >> 1
                top.i += 1
            if not is_key:
                if not top.node.children:
                    continue
                node = await top.node.get_child_node(n)
                check_depth(len(stack) + 1)
                stack.append(_Frame(node, len(node.keys) << 1 if reverse else 0))
                continue
            if n >= len(top.node.keys):
                stack.pop()
                continue
            block = await self.batch.get_block(top.node.keys[n].seq)
            if end is not None:
                k = block.key
                c = -1 if k < end else (1 if k > end else 0)
                if (not incl) if c == 0 else (c < 0 if reverse else c > 0):
                    self._limit = 0
                    break
            if self._limit > 0:
                self._limit -= 1
            self._nexting = False
            return block
        self._nexting = False
        return None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    type: str  # "put" | "del"
    seq: int
    key: Any
    value: Any


class HistoryIterator(_Entries[HistoryEntry]):
    def __init__(
        self,
        batch: Batch,
        *,
        gt: int | None = None,
        gte: int | None = None,
        lt: int | None = None,
        lte: int | None = None,
        reverse: bool = False,
        limit: int = -1,
        live: bool = False,
        on_close: Callable[[], Any] | None = None,
    ) -> None:
        if live and reverse:
            raise ValueError("Cannot have both live and reverse enabled")
        self.batch = batch
        self.opts = (gt, gte, lt, lte)
        self.live = live
        self.reverse = reverse
        self.limit = limit
        self.gte = 0
        self.lt = 0
        self.opened = False
        self._on_close = on_close

    async def open(self) -> None:
        await self.batch.get_root(False)
        version = self.batch.version
        gt, gte, lt, lte = self.opts
        if gt:
            self.gte = (gt + version if gt < 0 else gt) + 1
        else:
            g = gte or 1
            self.gte = g + version if g < 0 else g
        if self.live:
            self.lt = -1
        elif lte == 0 or lt == 0:
            self.lt = 0
        elif lte:
            self.lt = (lte + version if lte < 0 else lte) + 1
        else:
            x = lt or version
            self.lt = x + version if x < 0 else x
        self.opened = True

    async def next(self) -> HistoryEntry | None:
        if self.limit == 0:
            return None
        if self.limit > 0:
            self.limit -= 1
        if self.lt != -1 and self.gte >= self.lt:
            return None
        if self.reverse:
            if self.lt <= 1:
                return None
            self.lt -= 1
            block = await self.batch.get_block(self.lt)
        else:
            block = await self.batch.get_block(self.gte)
            self.gte += 1
        e = self.batch.final(block)
        return HistoryEntry("del" if block.is_deletion() else "put", e.seq, e.key, e.value)


def _cmp(a: bytes | None, b: bytes | None) -> int:
    if a is None:
        return 1 if b is not None else 0
    if b is None:
        return -1
    return -1 if a < b else (1 if a > b else 0)


class _SubTree:
    __slots__ = ("i", "is_key", "n", "node", "offset", "parent", "seq")

    def __init__(self, node: TreeNode, parent: _SubTree | None) -> None:
        self.node = node
        self.parent = parent
        self.is_key = not node.children
        self.i = 1 if self.is_key else 0
        self.n = 0
        if self.is_key:
            self.seq = node.keys[0].seq if node.keys else 0
            self.offset = 0
        else:
            child = node.children[0]
            self.seq = child.seq
            self.offset = child.offset

    def next(self) -> bool:
        self.i += 1
        self.is_key = (self.i & 1) == 1
        if not self.is_key and not self.node.children:
            self.i += 1
        return self.update()

    async def bisect(self, key: bytes, incl: bool) -> bool:
        node = self.node
        s, e, c = 0, len(node.keys), 0
        while s < e:
            mid = (s + e) >> 1
            c = _cmp(key, await node.get_key(mid))
            if c == 0:
                self.i = mid * 2 + 1 if incl else mid * 2 + (2 if node.children else 3)
                return True
            if c < 0:
                e = mid
            else:
                s = mid + 1
        i = e if c < 0 else s
        self.i = 2 * i + (0 if node.children else 1)
        return not node.children

    def update(self) -> bool:
        self.is_key = (self.i & 1) == 1
        self.n = self.i >> 1
        node = self.node
        if self.n >= (len(node.keys) if self.is_key else len(node.children)):
            return False
        if self.is_key:
            self.seq = node.keys[self.n].seq
            self.offset = 0
        else:
            child = node.children[self.n]
            self.seq = child.seq
            self.offset = child.offset
        return True

    async def key(self) -> bytes | None:
        if self.n < len(self.node.keys):
            return await self.node.get_key(self.n)
        return None if self.parent is None else await self.parent.key()

    async def compare(self, tree: _SubTree) -> int:
        return _cmp(await self.key(), await tree.key())


class _TreeIterator:
    def __init__(self, batch: Batch, gt: bytes | None, gte: bool, lt: bytes | None, lte: bool) -> None:
        self.batch = batch
        self.stack: list[_SubTree] = []
        self.lt = lt
        self.lte = lte
        self.gt = gt
        self.gte = gte
        self.seeking = gt is not None

    async def open(self) -> None:
        node = await self.batch.get_root(False)
        if node is None or not node.keys:
            return
        tree = _SubTree(node, None)
        if self.seeking and not await self._seek(tree):
            return
        self.stack.append(tree)

    async def _seek(self, tree: _SubTree) -> bool:
        assert self.gt is not None
        done = await tree.bisect(self.gt, self.gte)
        oob = not tree.update()
        if done or oob:
            self.seeking = False
            if oob:
                return False
        return True

    def peek(self) -> _SubTree | None:
        return self.stack[-1] if self.stack else None

    def skip(self) -> None:
        if self.stack and not self.stack[-1].next():
            self.stack.pop()

    async def next_key(self) -> Entry | None:
        n: BlockEntry | None = None
        while self.stack and n is None:
            n = await self.next()
        if n is None:
            return None
        if self.lt is None:
            return self.batch.final(n)
        c = _cmp(n.key, self.lt)
        if c <= 0 if self.lte else c < 0:
            return self.batch.final(n)
        self.stack = []
        return None

    async def next(self) -> BlockEntry | None:
        if not self.stack:
            return None
        top = self.stack[-1]
        is_key, n, seq = top.is_key, top.n, top.seq
        if not top.next():
            self.stack.pop()
        if is_key:
            self.seeking = False
            return await self.batch.get_block(seq)
        child = await top.node.get_child_node(n)
        check_depth(len(self.stack) + 1)
        tree = _SubTree(child, top)
        if self.seeking and not await self._seek(tree):
            return None
        self.stack.append(tree)
        return None


@dataclass(frozen=True, slots=True)
class DiffEntry:
    left: Entry | None
    right: Entry | None


class DiffIterator(_Entries[DiffEntry]):
    def __init__(
        self,
        left: Batch,
        right: Batch,
        *,
        gt: bytes | None = None,
        gte: bytes | None = None,
        lt: bytes | None = None,
        lte: bytes | None = None,
        limit: int = -1,
        on_close: Callable[[], Any] | None = None,
    ) -> None:
        g, g_incl = gt if gt is not None else gte, gte is not None
        lk, l_incl = lt if lt is not None else lte, lte is not None
        self.left = _TreeIterator(left, g, g_incl, lk, l_incl)
        self.right = _TreeIterator(right, g, g_incl, lk, l_incl)
        self.limit = limit
        self.opened = False
        self._on_close = on_close

    async def open(self) -> None:
        await self.left.open()
        await self.right.open()
        self.opened = True

    async def next(self) -> DiffEntry | None:
        if self.limit == 0:
            return None
        res = await self._next()
        if res is None or (res.left is None and res.right is None):
            return None
        self.limit -= 1
        return res

    async def _next(self) -> DiffEntry | None:
        a, b = self.left, self.right
        while True:
            lt, rt = a.peek(), b.peek()
            if lt is None and rt is None:
                return None
            if lt is None:
                return DiffEntry(None, await b.next_key())
            if rt is None:
                return DiffEntry(await a.next_key(), None)
            if lt.seq == rt.seq and lt.is_key == rt.is_key and lt.offset == rt.offset:
                a.skip()
                b.skip()
                continue
            c = await lt.compare(rt)
            if lt.is_key and not rt.is_key:
                await b.next()
                continue
            if not lt.is_key and rt.is_key:
                await a.next()
                continue
            if lt.is_key and rt.is_key:
                if c == 0:
                    return DiffEntry(await a.next_key(), await b.next_key())
                if c < 0:
                    return DiffEntry(await a.next_key(), None)
                return DiffEntry(None, await b.next_key())
            if c == 0:
                await a.next()
                await b.next()
            elif c < 0:
                await b.next()
            else:
                await a.next()

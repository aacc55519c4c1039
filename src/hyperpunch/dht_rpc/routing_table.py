"""Kademlia routing table (JS ``kademlia-routing-table`` 1.0) and the DHT's node records.

Invariants:

* 256 rows (one per bit of the 32-byte id); a node lives in row ``i`` where ``i`` is the index of
  the first bit in which its id differs from the table id (255 for our own id).
* A row holds at most ``k`` (default 20) nodes sorted by id bytes; adding a known id replaces the
  record in place; adding to a full row calls ``on_full(node, row)`` and is refused.
* :meth:`RoutingTable.closest` walks rows from the target's row down to row 0, then upwards, taking
  each row's nodes in sorted order, until ``k`` are found (the JS order, byte for byte).
* :class:`NodeSet` keeps nodes ordered by last activity (JS ``time-ordered-set``).
"""

from __future__ import annotations

import random as _random
from bisect import bisect_left, insort
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hyperpunch.dht_rpc.errors import DHTRPCLocalError
from hyperpunch.encoding import Address

__all__ = ["Node", "NodeSet", "RoutingTable", "Row"]


@dataclass(slots=True, eq=False)
class Node:
    """A routing-table entry (dht-rpc's node record). ``tick`` fields count DHT ticks."""

    id: bytes
    host: str
    port: int
    token: bytes | None = None
    to: Address | None = None
    sampled: int = 0
    added: int = 0
    pinged: int = 0
    seen: int = 0
    down_hints: int = 0

    @property
    def address(self) -> Address:
        return Address(self.host, self.port)


class Row:
    """One bucket: nodes whose id shares exactly ``index`` leading bits with the table id."""

    __slots__ = ("_ids", "index", "nodes", "table")

    def __init__(self, table: RoutingTable, index: int) -> None:
        self.table = table
        self.index = index
        self.nodes: list[Node] = []
        self._ids: list[bytes] = []

    def add(self, node: Node) -> bool:
        ids = self._ids
        i = bisect_left(ids, node.id)
        if i < len(ids) and ids[i] == node.id:
            self.nodes[i] = node
            return True
        if len(ids) >= self.table.k:
            if self.table.on_full is not None:
                self.table.on_full(node, self)
            return False
        ids.insert(i, node.id)
        self.nodes.insert(i, node)
        return True

    def remove(self, id: bytes) -> bool:
        ids = self._ids
        i = bisect_left(ids, id)
        if i < len(ids) and ids[i] == id:
            del ids[i]
            del self.nodes[i]
            return True
        return False

    def get(self, id: bytes) -> Node | None:
        ids = self._ids
        i = bisect_left(ids, id)
        if i < len(ids) and ids[i] == id:
            return self.nodes[i]
        return None


class RoutingTable:
    """Rows of nodes around ``id``. ``on_full(node, row)`` is called when a full row refuses a node."""

    __slots__ = ("_filled", "_id_int", "_rng", "id", "k", "on_full", "rows", "size")

    def __init__(self, id: bytes, *, k: int = 20, rng: _random.Random | None = None) -> None:
        if len(id) != 32:
            raise DHTRPCLocalError("routing table id must be 32 bytes")
        self.id = id
        self.k = k
        self.size = 0
        self.rows: list[Row | None] = [None] * (len(id) * 8)
        self.on_full: Callable[[Node, Row], None] | None = None
        self._id_int = int.from_bytes(id, "big")
        self._rng = rng or _random.Random()
        # indices of the non-empty rows, ascending: closest() visits only these
        self._filled: list[int] = []

    def _diff(self, id: bytes) -> int:
        x = int.from_bytes(id, "big") ^ self._id_int
        if x == 0:
            return len(self.rows) - 1
        return len(self.rows) - x.bit_length()

    def add(self, node: Node) -> bool:
        i = self._diff(node.id)
        row = self.rows[i]
        if row is None:
            row = self.rows[i] = Row(self, i)
        n = len(row.nodes)
        if not row.add(node):
            return False
        if n == 0:
            insort(self._filled, i)
        self.size += len(row.nodes) - n
        return True

    def remove(self, id: bytes) -> bool:
        i = self._diff(id)
        row = self.rows[i]
        if row is None or not row.remove(id):
            return False
        if not row.nodes:
            self._filled.remove(i)
        self.size -= 1
        return True

    def get(self, id: bytes) -> Node | None:
        row = self.rows[self._diff(id)]
        return None if row is None else row.get(id)

    def has(self, id: bytes) -> bool:
        return self.get(id) is not None

    def random(self) -> Node | None:
        n = int(self._rng.random() * self.size)
        for i in self._filled:
            row = self.rows[i]
            assert row is not None
            if n < len(row.nodes):
                return row.nodes[n]
            n -= len(row.nodes)
        return None

    def closest(self, id: bytes, k: int | None = None) -> list[Node]:
        if not k:
            k = self.k
        result: list[Node] = []
        filled = self._filled
        rows = self.rows
        # rows d, d-1, ..., 0, then d+1, ..., 255, skipping empty ones (the JS walk, byte for byte)
        split = bisect_left(filled, self._diff(id) + 1)
        for j in range(split - 1, -1, -1):
            row = rows[filled[j]]
            assert row is not None
            result.extend(row.nodes[: k - len(result)])
            if len(result) >= k:
                return result
        for j in range(split, len(filled)):
            row = rows[filled[j]]
            assert row is not None
            result.extend(row.nodes[: k - len(result)])
            if len(result) >= k:
                return result
        return result

    def to_array(self) -> list[Node]:
        return self.closest(self.id, 1 << 30)

    def __len__(self) -> int:
        return self.size


class NodeSet:
    """Nodes ordered oldest → latest by last activity; re-adding moves a node to the latest end."""

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d: dict[int, Node] = {}

    def has(self, node: Node) -> bool:
        return id(node) in self._d

    def add(self, node: Node) -> Node:
        d = self._d
        d.pop(id(node), None)
        d[id(node)] = node
        return node

    def remove(self, node: Node) -> Node:
        self._d.pop(id(node), None)
        return node

    @property
    def oldest(self) -> Node | None:
        return next(iter(self._d.values()), None)

    @property
    def latest(self) -> Node | None:
        return next(reversed(self._d.values()), None)

    def oldest_first(self) -> Iterator[Node]:
        return iter(list(self._d.values()))

    def latest_first(self) -> Iterator[Node]:
        return iter(list(reversed(self._d.values())))

    def to_array(self, *, limit: int | None = None, reverse: bool = False) -> list[Node]:
        vals = list(reversed(self._d.values())) if reverse else list(self._d.values())
        return vals if limit is None else vals[:limit]

    def __len__(self) -> int:
        return len(self._d)

"""Beyond JS: a change stream of one collection's documents (over the root bee's ``watch``).

``DB.watch(name)`` returns a :class:`ChangeStream`: ``async for changes in stream`` yields, after
each bee version that touched the collection's documents, the list of :class:`Change`\\ s
(``"put"`` with the new document, ``"del"`` with only the id), in key order.

Invariants: a change is reported once, in the first batch after the version that made it; index
entries and other collections do not wake the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from hyperpunch.docdb.codec import decode_document


@dataclass(frozen=True, slots=True)
class Change:
    op: str  # "put" | "del"
    id: ObjectId
    doc: dict[str, Any] | None


class ChangeStream:
    def __init__(self, root_bee: Any, collection: str) -> None:
        self.prefix = collection.encode() + b"\x00doc\x00"
        self.lt = self.prefix[:-1] + b"\x01"
        self.watcher = root_bee.watch(gt=self.prefix, lt=self.lt)

    def __aiter__(self) -> ChangeStream:
        return self

    async def __anext__(self) -> list[Change]:
        current, previous = await self.watcher.__anext__()
        out: list[Change] = []
        async for d in current.diff(previous.checkout(previous.version), gt=self.prefix, lt=self.lt):
            if d.left is None:
                out.append(Change("del", ObjectId(bytes(d.right.key)[len(self.prefix) :]), None))
            else:
                oid = ObjectId(bytes(d.left.key)[len(self.prefix) :])
                out.append(Change("put", oid, decode_document(bytes(d.left.value))))
        return out

    async def aclose(self) -> None:
        await self.watcher.aclose()

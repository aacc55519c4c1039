"""The document DB over an Autobase: hello-peers' "Autodeebee" adapter (APP-LAYER §3.7).

Wiring (every writer of the base the same way)::

    base = open_base(store, bootstrap)          # Autobase(open=open_view, apply=apply_ops)
    await base.ready()
    db = DB(AutoBee(base))                      # a DB like any other
    await db.collection("todo").insert({...})   # appends ops; applied locally at once
    await base.update()                         # other writers' ops, linearized

:class:`AutoBee` looks like a Hyperbee to :class:`hyperpunch.docdb.DB`: ``put``/``delete`` (and a
batch's ``flush``) append ops to the Autobase instead of writing; ``sub(name)`` returns an
adapter with a longer prefix; reads go to the view Hyperbee (``base.view``) as it is: they do not
update the base (call ``base.update()``, or :meth:`AutoBee.update`, to take in other writers'
ops; a read never changes the view under a running range, hello-peers' behaviour too).

An op is the BSON ``{type: "put", key, value, prefix}`` / ``{type: "del", key, prefix}`` (key,
value and prefix as Binary subtype 0, prefix = the sub's prefix bytes) as hello-peers writes it;
``{type: "addWriter", key, indexer}`` adds a writer. :func:`apply_ops` is the Autobase ``apply``:
one view batch per call (hello-peers' ``view.batch({update: false})``), key = prefix + key, put or
delete; an addWriter op calls ``host.add_writer``. The view therefore holds exactly what
hyperbeedeebee would write (documents, index definitions and index entries, §3.2), and a JS
Autobase with the same apply (``interop/scripts/docdb-autobase-peer.js``) builds the same view
core (key, length, tree hash). A node that is not an op is skipped (the view does not change),
so a hostile writer cannot stop the base; hello-peers' skip of nodes with an ``id`` field (an
Autobase 6 artefact) is not reproduced.

Limits (of the op model, the same in JS): ops are blind writes, so two writers editing the *same*
document concurrently can leave an index entry of the losing version (every peer still holds the
same view); an index created while another writer inserts misses that writer's documents. Writes
to different documents and indexes created before the concurrent writes stay consistent.

Invariants: :func:`encode_op` equals hello-peers' ``BSON.serialize`` of the op (vectors); applying
the same linearized nodes gives the same view entries and view core on every writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import bson

from hyperpunch.autobase import Autobase
from hyperpunch.corestore import Corestore
from hyperpunch.docdb.codec import decode_document, encode_document
from hyperpunch.docdb.errors import CorruptEntryError
from hyperpunch.hyperbee import Entry, Hyperbee
from hyperpunch.hypercore import Hypercore

__all__ = [
    "VIEW_NAME",
    "AutoBee",
    "apply_ops",
    "decode_op",
    "encode_add_writer",
    "encode_op",
    "open_base",
    "open_view",
]

SEP = b"\x00"
VIEW_NAME = "db"  # the view core's name (JS ``store.get('db')``)


def encode_op(kind: str, key: bytes, value: bytes | None, prefix: bytes) -> bytes:
    """hello-peers' op: BSON ``{type, key, value, prefix}`` (no ``value`` for a del)."""
    op: dict[str, Any] = {"type": kind, "key": bson.Binary(key, 0)}
    if value is not None:
        op["value"] = bson.Binary(value, 0)
    op["prefix"] = bson.Binary(prefix, 0)
    return encode_document(op)


def encode_add_writer(key: bytes, *, indexer: bool = True) -> bytes:
    return encode_document({"type": "addWriter", "key": bson.Binary(key, 0), "indexer": indexer})


def decode_op(data: bytes) -> tuple[str, bytes, bytes | None]:
    """``(type, full key = prefix + key, value)`` of an op; :class:`CorruptEntryError` if not one."""
    op = decode_document(data)
    kind = op.get("type")
    key, prefix, value = op.get("key"), op.get("prefix", b""), op.get("value")
    if isinstance(key, str):
        key = key.encode()
    if isinstance(prefix, str):
        prefix = prefix.encode()
    if kind not in ("put", "del", "addWriter") or not isinstance(key, bytes) or not isinstance(prefix, bytes):
        raise CorruptEntryError(f"not an autodeebee op: {op!r}")
    if kind == "put" and not isinstance(value, bytes):
        raise CorruptEntryError("autodeebee put without a value")
    return kind, bytes(prefix) + bytes(key), None if value is None else bytes(value)


class ViewStore(Protocol):
    """What :func:`open_view` needs of the Autobase's view store."""

    def core(self, name: str) -> Hypercore: ...


class ApplyHost(Protocol):
    async def add_writer(self, key: bytes, *, indexer: bool = True) -> None: ...


class ApplyNode(Protocol):
    @property
    def value(self) -> Any: ...


def open_view(store: ViewStore) -> Hyperbee:
    """The Autobase ``open``: JS ``new Hyperbee(store.get('db'), {keyEncoding: 'binary',
    valueEncoding: 'binary', extension: false})``."""
    return Hyperbee(store.core(VIEW_NAME), key_encoding="binary", value_encoding="binary", extension=False)


async def apply_ops(nodes: Sequence[ApplyNode], view: Hyperbee, host: ApplyHost) -> None:
    """The Autobase ``apply`` of a multi-writer DB: the nodes' ops in one view batch; a node
    that is not an op is skipped."""
    async with view.batch() as batch:  # flushed at the end, dropped if apply fails
        for node in nodes:
            if node.value is None:
                continue
            raw = bytes(node.value)
            try:
                kind, key, value = decode_op(raw)
            except CorruptEntryError:
                continue
            if kind == "addWriter":
                if len(key) == 32:
                    await host.add_writer(key, indexer=decode_document(raw).get("indexer", True) is not False)
            elif kind == "put":
                await batch.put(key, value)
            else:
                await batch.delete(key)


def open_base(store: Corestore, bootstrap: bytes | None = None, **options: Any) -> Autobase:
    """An :class:`~hyperpunch.autobase.Autobase` whose view is the DB's Hyperbee (``options``
    go to the Autobase: ``ack_interval``, ``ack_threshold``)."""
    return Autobase(store, bootstrap, open=open_view, apply=apply_ops, **options)


class Base(Protocol):
    """What the adapter needs of an Autobase (opened by :func:`open_base`)."""

    @property
    def view(self) -> Any: ...
    async def append(self, value: Any) -> int: ...
    async def update(self) -> None: ...


class _OpBatch:
    """A DB write: its ops go to the base as one Autobase batch on ``flush``."""

    def __init__(self, bee: AutoBee) -> None:
        self.bee = bee
        self.ops: list[bytes] = []

    async def put(self, key: Any, value: Any = None) -> None:
        self.ops.append(encode_op("put", _b(key), _b(value), self.bee.prefix))

    async def delete(self, key: Any) -> None:
        self.ops.append(encode_op("del", _b(key), None, self.bee.prefix))

    async def flush(self) -> None:
        if self.ops:
            ops, self.ops = self.ops, []
            await self.bee.base.append(ops)


def _b(v: Any) -> bytes:
    return v.encode() if isinstance(v, str) else bytes(v)


class AutoBee:
    """A bee-shaped adapter over an Autobase opened by :func:`open_base` (see the module
    docstring). ``prefix``: the sub's key prefix (``name + b"\\0"`` per level)."""

    def __init__(self, base: Base, prefix: bytes = b"") -> None:
        self.base = base
        self.prefix = prefix

    @property
    def view(self) -> Hyperbee:
        """The view Hyperbee (the whole bee, not only this sub)."""
        view: Hyperbee = self.base.view
        return view

    async def update(self) -> None:
        """Take in the other writers' ops (``base.update()``)."""
        await self.base.update()

    def sub(self, name: Any) -> AutoBee:
        return AutoBee(self.base, self.prefix + _b(name) + SEP)

    def batch(self) -> _OpBatch:
        return _OpBatch(self)

    async def put(self, key: Any, value: Any = None) -> None:
        await self.base.append(encode_op("put", _b(key), _b(value), self.prefix))

    async def delete(self, key: Any) -> None:
        await self.base.append(encode_op("del", _b(key), None, self.prefix))

    async def get(self, key: Any) -> Entry | None:
        e = await self.view.get(self.prefix + _b(key))
        return None if e is None else Entry(e.seq, _b(key), e.value)

    def range(self, *, gt: Any = None, lt: Any = None, reverse: bool = False) -> AsyncIterator[Entry]:
        return self._range(gt, lt, reverse)

    async def _range(self, gt: Any, lt: Any, reverse: bool) -> AsyncIterator[Entry]:
        p = self.prefix
        lo = p + (_b(gt) if gt is not None else b"")
        hi = p + _b(lt) if lt is not None else (p[:-1] + bytes([p[-1] + 1]) if p else None)
        async for e in self.view.range(gt=lo if (gt is not None or p) else None, lt=hi, reverse=reverse):
            yield Entry(e.seq, bytes(e.key)[len(p) :], e.value)

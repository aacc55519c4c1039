"""The document DB over an Autobase: hello-peers' "Autodeebee" adapter (APP-LAYER §3.7).

:class:`AutoBee` looks like a Hyperbee to :class:`hyperpunch.docdb.DB`: ``put``/``delete`` (and a
batch's ``flush``) append ops to the Autobase instead of writing; ``sub(name)`` returns an
adapter with a longer prefix; reads first bring the view up to date, then go to the view's
Hyperbee. An op is the BSON ``{type: "put", key, value, prefix}`` / ``{type: "del", key, prefix}``
(key, value and prefix as Binary subtype 0, prefix = the sub's prefix bytes) as hello-peers writes
it; :func:`apply_ops` is the Autobase ``apply``: it appends each op to the linearized op view and
``{type: "addWriter", key, indexer}`` ops call ``host.add_writer``.

What holds (limited by the autobase sketch, whose views are in-memory op logs that it truncates
on reorder): the view Hyperbee is derived from the linearized op log: new ops are applied in one
bee batch per sync; when the autobase reordered (the log no longer starts with what was applied),
the view bee is rebuilt from the whole log. Every writer's view therefore holds exactly the §3.2
layout of the same linearized writes. Not JS autobase yet: the view is not a signed view core a JS
peer could replicate, and hello-peers' skip of nodes with an ``id`` field is not reproduced.

Invariants: :func:`encode_op` equals hello-peers' ``BSON.serialize`` of the op (vectors); applying
the same op sequence gives the same view entries on every writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import bson

from hyperpunch.docdb.codec import decode_document, encode_document
from hyperpunch.docdb.errors import CorruptEntryError
from hyperpunch.hyperbee import Entry, Hyperbee
from hyperpunch.hypercore import Hypercore

SEP = b"\x00"


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


class OpView(Protocol):
    """The autobase view the ops are appended to (``MemoryView``)."""

    @property
    def length(self) -> int: ...
    async def append(self, value: Any) -> int: ...
    async def get(self, index: int) -> Any: ...


class ApplyHost(Protocol):
    async def add_writer(self, key: bytes, *, indexer: bool = True) -> None: ...


class ApplyNode(Protocol):
    @property
    def value(self) -> Any: ...


async def apply_ops(nodes: Sequence[ApplyNode], view: OpView, host: ApplyHost) -> None:
    """The Autobase ``apply`` of a multi-writer DB."""
    for node in nodes:
        raw = bytes(node.value)
        kind, key, _ = decode_op(raw)
        if kind == "addWriter":
            await host.add_writer(key, indexer=bool(decode_document(raw).get("indexer", True)))
            continue
        await view.append(raw)


class Base(Protocol):
    """What the adapter needs of an Autobase."""

    @property
    def view(self) -> Any: ...
    async def append(self, value: Any) -> int: ...
    async def update(self) -> None: ...


class _Root:
    """The view Hyperbee derived from the linearized op log, shared by every sub-adapter."""

    def __init__(self, base: Base) -> None:
        self.base = base
        self.applied: list[bytes] = []
        self.bee: Hyperbee | None = None

    async def _fresh_bee(self) -> Hyperbee:
        bee = Hyperbee(Hypercore(None))
        await bee.ready()
        return bee

    async def sync(self) -> Hyperbee:
        await self.base.update()
        view: OpView = self.base.view
        log = [bytes(await view.get(i)) for i in range(view.length)]
        n = len(self.applied)
        if self.bee is None or log[:n] != self.applied:
            self.bee = await self._fresh_bee()
            self.applied = []
            n = 0
        if len(log) > n:
            batch = self.bee.batch()
            for raw in log[n:]:
                kind, key, value = decode_op(raw)
                if kind == "put":
                    await batch.put(key, value)
                elif kind == "del":
                    await batch.delete(key)
            await batch.flush()
            self.applied = log
        return self.bee


class _OpBatch:
    def __init__(self, bee: AutoBee) -> None:
        self.bee = bee
        self.ops: list[bytes] = []

    async def put(self, key: Any, value: Any = None) -> None:
        self.ops.append(encode_op("put", _b(key), _b(value), self.bee.prefix))

    async def delete(self, key: Any) -> None:
        self.ops.append(encode_op("del", _b(key), None, self.bee.prefix))

    async def flush(self) -> None:
        if self.ops:
            await self.bee.root.base.append(self.ops)
            self.ops = []


def _b(v: Any) -> bytes:
    return v.encode() if isinstance(v, str) else bytes(v)


class AutoBee:
    """A bee-shaped adapter over an Autobase (see the module docstring)."""

    def __init__(self, base: Base, *, _root: _Root | None = None, _prefix: bytes = b"") -> None:
        self.root = _root or _Root(base)
        self.prefix = _prefix

    def sub(self, name: Any) -> AutoBee:
        return AutoBee(self.root.base, _root=self.root, _prefix=self.prefix + _b(name) + SEP)

    def batch(self) -> _OpBatch:
        return _OpBatch(self)

    async def put(self, key: Any, value: Any = None) -> None:
        await self.root.base.append(encode_op("put", _b(key), _b(value), self.prefix))

    async def delete(self, key: Any) -> None:
        await self.root.base.append(encode_op("del", _b(key), None, self.prefix))

    async def get(self, key: Any) -> Entry | None:
        bee = await self.root.sync()
        return await bee.get(self.prefix + _b(key))

    def range(self, *, gt: Any = None, lt: Any = None, reverse: bool = False) -> AsyncIterator[Entry]:
        return self._range(gt, lt, reverse)

    async def _range(self, gt: Any, lt: Any, reverse: bool) -> AsyncIterator[Entry]:
        bee = await self.root.sync()
        p = self.prefix
        lo = p + (_b(gt) if gt is not None else b"")
        hi = p + _b(lt) if lt is not None else (p[:-1] + bytes([p[-1] + 1]) if p else None)
        async for e in bee.range(gt=lo if (gt is not None or p) else None, lt=hi, reverse=reverse):
            yield Entry(e.seq, bytes(e.key)[len(p) :], e.value)

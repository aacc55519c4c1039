"""The document database over a Hyperbee: :class:`DB`, :class:`Collection`, :class:`Cursor`.

The adapter half of the package: it reads and writes the bee; every decision (matching, index
choice, keys, updates) is made by the pure functions of :mod:`hyperpunch.docdb.query`.

Layout (hyperbeedeebee 2.0.0): collection ``c`` is ``bee.sub(c)``; documents at
``c\\0doc\\0<12-byte id>`` (BSON), index metadata at ``c\\0idxs\\0<name>`` (BSON
``{version, name, fields, opts}``), index entries at ``c\\0idx\\0<name>\\0<CBOR key>`` -> id bytes.

Invariants: JS hyperbeedeebee reads what this writes and vice versa. With ``atomic=False`` the
bee receives the same operations in the same flush groups as JS (the document put, then one
batch per index), so the blocks are byte-identical to JS's; with ``atomic=True`` (the default) a
write and all of its index entries land in one bee batch: all or nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bson import ObjectId

from hyperpunch.docdb.codec import decode_document, decode_key, encode_document, js_value
from hyperpunch.docdb.errors import (
    CorruptEntryError,
    DocIndexError,
    DuplicateKeyError,
    InvalidDocumentError,
    InvalidQueryError,
    NoIndexForSortError,
    NotFoundError,
    UniqueIndexError,
)
from hyperpunch.docdb.query import (
    INDEX_VERSION,
    IndexPlan,
    Sort,
    compile_query,
    doc_from_index_key,
    index_entries,
    index_subquery,
    matches_query,
    perform_update,
    plan_hinted,
    plan_index,
    prefix_range,
    project,
    query_prefix,
    upsert_seed,
    validate_query,
)
from hyperpunch.docdb.watch import ChangeStream

SEP = b"\x00"


class WriteBatch(Protocol):
    async def put(self, key: Any, value: Any = None) -> None: ...
    async def delete(self, key: Any) -> None: ...
    async def flush(self) -> None: ...


class Entry(Protocol):
    @property
    def key(self) -> Any: ...
    @property
    def value(self) -> Any: ...


class Bee(Protocol):
    """What the DB needs of a bee (a Hyperbee, or a multi-writer adapter that looks like one)."""

    def sub(self, prefix: Any) -> Any: ...
    async def get(self, key: Any) -> Any: ...
    def range(self, *, gt: Any = None, lt: Any = None, reverse: bool = False) -> Any: ...
    def batch(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class UpdateResult:
    n_matched: int
    n_upserted: int
    n_modified: int


@dataclass(frozen=True, slots=True)
class DeleteResult:
    n_deleted: int


class DB:
    """A MongoDB-like database on a Hyperbee (JS ``new DB(bee)``)."""

    def __init__(self, bee: Any, *, atomic: bool = True) -> None:
        self.bee = bee
        self.atomic = atomic
        self._collections: dict[str, Collection] = {}

    def collection(self, name: str) -> Collection:
        if not isinstance(name, str) or not name:
            raise InvalidQueryError(f"a collection name must be a non-empty string, got {name!r}")
        c = self._collections.get(name)
        if c is None:
            c = Collection(name, self.bee.sub(name), atomic=self.atomic)
            self._collections[name] = c
        return c

    def watch(self, name: str) -> ChangeStream:
        """Beyond JS: the changes of collection ``name``'s documents (needs a root Hyperbee)."""
        return ChangeStream(self.bee, name)

    async def aclose(self) -> None:
        close = getattr(self.bee, "aclose", None)
        if close is not None:
            await close()


def _doc_key(oid: ObjectId) -> bytes:
    return b"doc" + SEP + oid.binary


def _idx_prefix(name: str) -> bytes:
    return b"idx" + SEP + name.encode() + SEP


class _Writer:
    """Collects the bee operations of one DB write, then applies them atomically or JS-grouped."""

    def __init__(self, bee: Any, atomic: bool) -> None:
        self.bee = bee
        self.atomic = atomic
        self.groups: list[list[tuple[bytes, bytes | None]]] = []

    def single(self, key: bytes, value: bytes | None) -> None:
        self.groups.append([(key, value)])

    def group(self, ops: list[tuple[bytes, bytes | None]]) -> None:
        self.groups.append(ops)

    async def commit(self) -> None:
        if self.atomic:
            ops = [op for g in self.groups for op in g]
            if ops:
                await self._apply(ops)
            return
        for g in self.groups:
            if len(g) == 1 and not isinstance(g, _Batched):
                k, v = g[0]
                if v is None:
                    await self.bee.delete(k)
                else:
                    await self.bee.put(k, v)
            else:
                await self._apply(g)

    async def _apply(self, ops: list[tuple[bytes, bytes | None]]) -> None:
        b = self.bee.batch()
        for k, v in ops:
            if v is None:
                await b.delete(k)
            else:
                await b.put(k, v)
        await b.flush()


class _Batched(list[tuple[bytes, bytes | None]]):
    """A group JS writes through ``bee.batch()`` even when it holds one operation."""


class Collection:
    """A collection of documents (JS ``db.collection(name)``)."""

    def __init__(self, name: str, bee: Any, *, atomic: bool = True) -> None:
        self.name = name
        self.bee = bee
        self.atomic = atomic
        self.docs = bee.sub("doc")
        self.idxs = bee.sub("idxs")
        self.idx = bee.sub("idx")

    # --- reads ---------------------------------------------------------------------------------

    async def get_raw(self, oid: bytes) -> dict[str, Any] | None:
        entry = await self.docs.get(oid)
        if entry is None or entry.value is None:
            return None
        return decode_document(bytes(entry.value))

    def find(
        self, query: Mapping[str, Any] | None = None, projection: Mapping[str, Any] | None = None
    ) -> Cursor:
        q = {} if query is None else query
        validate_query(q)
        return Cursor(self, q, projection=projection)

    async def find_one(self, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        results = await self.find(query).limit(1).to_list()
        if not results:
            raise NotFoundError("not found")
        return results[0]

    async def list_indexes(self) -> list[dict[str, Any]]:
        out = []
        async for entry in self.idxs.range():
            index = decode_document(bytes(entry.value))
            if not isinstance(index.get("name"), str) or not isinstance(index.get("fields"), list):
                raise CorruptEntryError(f"index metadata {bytes(entry.key)!r} has no name/fields")
            out.append(index)
        return out

    async def index_exists(self, name: str) -> bool:
        return await self.idxs.get(name.encode()) is not None

    async def get_index(self, name: str) -> dict[str, Any]:
        entry = await self.idxs.get(name.encode())
        if entry is None:
            raise DocIndexError("Invalid index")
        return decode_document(bytes(entry.value))

    # --- writes --------------------------------------------------------------------------------

    def _check_doc(self, doc: Any) -> dict[str, Any]:
        if not isinstance(doc, Mapping):
            raise InvalidDocumentError(f"a document must be a mapping, got {type(doc).__name__}")
        d: dict[str, Any] = js_value(doc)
        return d

    async def _unique_check(
        self, writer_docs: list[dict[str, Any]], indexes: Sequence[Mapping[str, Any]], ignore: set[bytes]
    ) -> None:
        for index in indexes:
            opts = index.get("opts")
            if not (isinstance(opts, Mapping) and opts.get("unique")):
                continue
            fields = list(index["fields"])
            seen: set[bytes] = set()
            for doc in writer_docs:
                for key in index_entries(doc, fields):
                    values = decode_key(key)[: len(fields)]
                    prefix = query_prefix(dict(zip(fields, values, strict=True)), fields, fields)
                    gt, lt = prefix_range(prefix)
                    sub = self.idx.sub(index["name"])
                    async for entry in sub.range(gt=gt, lt=lt):
                        other = decode_key(bytes(entry.key))
                        if other[: len(fields)] == values and bytes(entry.value) not in ignore:
                            raise UniqueIndexError(f"Duplicate Key error in unique index {index['name']}")
                    if prefix in seen:
                        raise UniqueIndexError(f"Duplicate Key error in unique index {index['name']}")
                    seen.add(prefix)

    async def insert(self, raw_doc: Any) -> dict[str, Any]:
        if raw_doc is None:
            raise InvalidDocumentError("No Document Supplied")
        doc = self._check_doc(raw_doc)
        if not doc.get("_id"):
            doc = {**doc, "_id": ObjectId()}
        oid = doc["_id"]
        if not isinstance(oid, ObjectId):
            raise InvalidDocumentError(f"_id must be an ObjectId, got {type(oid).__name__}")
        if await self.docs.get(oid.binary) is not None:
            raise DuplicateKeyError("Duplicate Key error, try using .update?")
        value = encode_document(doc)
        indexes = await self.list_indexes()
        await self._unique_check([doc], indexes, set())
        w = _Writer(self.bee, self.atomic)
        w.single(_doc_key(oid), value)
        for index in indexes:
            keys = index_entries(doc, index["fields"])
            if keys:
                p = _idx_prefix(index["name"])
                w.group(_Batched((p + k, oid.binary) for k in keys))
        await w.commit()
        return doc

    async def update(
        self,
        query: Mapping[str, Any] | None = None,
        update: Any = None,
        *,
        upsert: bool = False,
        multi: bool = False,
        hint: str | None = None,
    ) -> UpdateResult:
        q = {} if query is None else query
        u: Any = {} if update is None else update
        cursor = self.find(q)
        if hint:
            cursor = cursor.hint(hint)
        if not multi:
            cursor = cursor.limit(1)
        indexes = await self.list_indexes()
        matched = await cursor.to_list()
        n_matched = n_modified = n_upserted = 0
        for doc in matched:
            n_matched += 1
            new_doc = js_value(perform_update(doc, u))
            if new_doc.get("_id") != doc["_id"] or not isinstance(new_doc.get("_id"), ObjectId):
                raise InvalidDocumentError("an update cannot change or remove _id")
            oid: ObjectId = doc["_id"]
            value = encode_document(new_doc)
            await self._unique_check([new_doc], indexes, {oid.binary})
            w = _Writer(self.bee, self.atomic)
            w.single(_doc_key(oid), value)
            for index in indexes:
                p = _idx_prefix(index["name"])
                old = index_entries(doc, index["fields"])
                if old:
                    w.group(_Batched((p + k, None) for k in old))
                new = index_entries(new_doc, index["fields"])
                if new:
                    w.group(_Batched((p + k, oid.binary) for k in new))
            await w.commit()
            n_modified += 1
        if not n_modified and upsert:
            seed = upsert_seed(q)
            await self.insert(perform_update(seed, u))
            n_upserted += 1
        return UpdateResult(n_matched, n_upserted, n_modified)

    async def delete(
        self, query: Mapping[str, Any] | None = None, *, multi: bool = False, hint: str | None = None
    ) -> DeleteResult:
        cursor = self.find({} if query is None else query)
        if hint:
            cursor = cursor.hint(hint)
        if not multi:
            cursor = cursor.limit(1)
        indexes = await self.list_indexes()
        n = 0
        for doc in await cursor.to_list():
            oid: ObjectId = doc["_id"]
            w = _Writer(self.bee, self.atomic)
            w.single(_doc_key(oid), None)
            for index in indexes:
                keys = index_entries(doc, index["fields"])
                if keys:
                    p = _idx_prefix(index["name"])
                    w.group(_Batched((p + k, None) for k in keys))
            await w.commit()
            n += 1
        return DeleteResult(n)

    async def create_index(
        self, fields: Sequence[str], *, rebuild: bool = False, version: str = INDEX_VERSION, **opts: Any
    ) -> str | None:
        if isinstance(fields, str) or not fields or not all(isinstance(f, str) and f for f in fields):
            raise DocIndexError("index fields must be a non-empty list of field names")
        name = ",".join(fields)
        if await self.index_exists(name) and not rebuild:
            existing = await self.get_index(name)
            if existing.get("version") == version:
                return None
        meta = encode_document(
            js_value({"version": version, "name": name, "fields": list(fields), "opts": opts})
        )
        w = _Writer(self.bee, self.atomic)
        w.single(b"idxs" + SEP + name.encode(), meta)
        docs = await self.find().to_list()
        if opts.get("unique"):
            await self._unique_check(docs, [{"name": name, "fields": list(fields), "opts": opts}], set())
        p = _idx_prefix(name)
        for doc in docs:
            keys = index_entries(doc, list(fields))
            if keys:
                w.group(_Batched((p + k, doc["_id"].binary) for k in keys))
        await w.commit()
        return name


class Cursor:
    """A lazy query (JS ``Cursor``): ``limit``/``skip``/``sort``/``hint`` return new cursors;
    ``async for`` runs it; ``await cursor`` (or ``to_list()``) collects it."""

    def __init__(
        self,
        collection: Collection,
        query: Mapping[str, Any],
        *,
        limit: float = float("inf"),
        skip: int = 0,
        sort: Sort | None = None,
        hint: str | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> None:
        self.collection = collection
        self.query = query
        self._limit = limit
        self._skip = skip
        self._sort = sort
        self._hint = hint
        self._projection = projection

    def _with(self, **kw: Any) -> Cursor:
        opts: dict[str, Any] = {
            "limit": self._limit,
            "skip": self._skip,
            "sort": self._sort,
            "hint": self._hint,
            "projection": self._projection,
        }
        opts.update(kw)
        return Cursor(self.collection, self.query, **opts)

    def limit(self, n: float) -> Cursor:
        return self._with(limit=n)

    def skip(self, n: int) -> Cursor:
        return self._with(skip=n)

    def sort(self, field: str, direction: int = 1) -> Cursor:
        return self._with(sort=Sort(field, direction))

    def hint(self, name: str) -> Cursor:
        return self._with(hint=name)

    def project(self, projection: Mapping[str, Any]) -> Cursor:
        return self._with(projection=projection)

    async def count(self) -> int:
        n = 0
        async for _ in self:
            n += 1
        return n

    async def to_list(self) -> list[dict[str, Any]]:
        return [d async for d in self]

    def __await__(self) -> Generator[Any, None, list[dict[str, Any]]]:
        return self.to_list().__await__()

    async def plan(self) -> IndexPlan | None:
        """The index this cursor reads (None: a scan of the documents)."""
        if self._hint:
            return plan_hinted(self.query, await self.collection.get_index(self._hint), self._sort)
        return plan_index(self.query, await self.collection.list_indexes(), self._sort)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._run()

    async def _run(self) -> AsyncIterator[dict[str, Any]]:
        proj = self._projection
        async for doc in self._docs():
            yield project(doc, proj) if proj else doc

    async def _docs(self) -> AsyncIterator[dict[str, Any]]:
        query = self.query
        coll = self.collection
        qid = query.get("_id")
        if isinstance(qid, ObjectId):
            doc = await coll.get_raw(qid.binary)
            if doc is not None and matches_query(doc, query):
                yield doc
            return
        limit, to_skip = self._limit, self._skip
        seen: set[bytes] = set()
        count = skipped = 0
        plan = await self.plan()
        match = compile_query(query)
        if plan is not None:
            key_match = compile_query(index_subquery(query, plan.fields))
            gt = query_prefix(query, plan.prefix_fields, plan.fields)
            lt: bytes | None = None
            if gt:
                gt, lt = prefix_range(gt)
            reverse = self._sort is not None and self._sort.direction == -1
            source = coll.idx.sub(plan.name).range(gt=gt or None, lt=lt, reverse=reverse)
            async for entry in source:
                key_doc = doc_from_index_key(decode_key(bytes(entry.key)), plan.fields)
                if not key_match(key_doc):
                    continue
                raw_id = bytes(entry.value)
                doc = await coll.get_raw(raw_id)
                if doc is None:
                    raise CorruptEntryError(f"index {plan.name} points to a missing document {raw_id.hex()}")
                oid = doc.get("_id")
                if not isinstance(oid, ObjectId):
                    raise CorruptEntryError("stored document has no ObjectId _id")
                if oid.binary in seen or not match(doc):
                    continue
                if to_skip > skipped:
                    skipped += 1
                    continue
                seen.add(oid.binary)
                count += 1
                yield doc
                if count >= limit:
                    return
        elif self._sort is None:
            async for entry in coll.docs.range():
                # match on the faster plain decoding (binaries match nothing either way), then
                # decode a match as stored (binaries as js-bson Binary objects)
                if not match(decode_document(entry.value, as_stored=False)):
                    continue
                doc = decode_document(entry.value)
                oid = doc.get("_id")
                if not isinstance(oid, ObjectId):
                    raise CorruptEntryError("stored document has no ObjectId _id")
                if oid.binary in seen:
                    continue
                if to_skip > skipped:
                    skipped += 1
                    continue
                seen.add(oid.binary)
                count += 1
                yield doc
                if count >= limit:
                    return
        else:
            raise NoIndexForSortError(f'No indexes found to sort for field "{self._sort.field}"')

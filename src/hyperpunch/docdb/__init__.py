"""hyperpunch.docdb: a MongoDB-like document database on a Hyperbee, the layout of JS
hyperbeedeebee 2.0.0 (BSON documents, CBOR index keys), readable and writable by it.

Layers: :mod:`errors`, :mod:`codec` (BSON/CBOR bytes, sans-IO), :mod:`query` (matching, updates,
index keys and index choice, sans-IO), :mod:`db` (:class:`DB`/:class:`Collection`/:class:`Cursor`
over a bee), :mod:`watch` (a change stream, beyond JS) and :mod:`multiwriter` (:class:`AutoBee`:
the same DB over an Autobase, hello-peers "Autodeebee" ops).

Floor: above ``hyperbee`` and ``autobase`` (:mod:`multiwriter` opens an
:class:`~hyperpunch.autobase.Autobase` whose view is the DB's Hyperbee: :func:`open_base`).

Invariants: see :mod:`db` (layout, atomic writes) and :mod:`query` (JS semantics).
"""

from __future__ import annotations

from hyperpunch.docdb.codec import ObjectId
from hyperpunch.docdb.db import DB, Collection, Cursor, DeleteResult, UpdateResult
from hyperpunch.docdb.errors import (
    CorruptEntryError,
    DocDBError,
    DocDBLocalError,
    DocDBRemoteError,
    DocIndexError,
    DocumentTooLargeError,
    DuplicateKeyError,
    InvalidDocumentError,
    InvalidQueryError,
    InvalidUpdateError,
    NoIndexForSortError,
    NotFoundError,
    UniqueIndexError,
)
from hyperpunch.docdb.multiwriter import AutoBee, apply_ops, open_base
from hyperpunch.docdb.watch import Change, ChangeStream

__all__ = [
    "DB",
    "AutoBee",
    "Change",
    "ChangeStream",
    "Collection",
    "CorruptEntryError",
    "Cursor",
    "DeleteResult",
    "DocDBError",
    "DocDBLocalError",
    "DocDBRemoteError",
    "DocIndexError",
    "DocumentTooLargeError",
    "DuplicateKeyError",
    "InvalidDocumentError",
    "InvalidQueryError",
    "InvalidUpdateError",
    "NoIndexForSortError",
    "NotFoundError",
    "ObjectId",
    "UniqueIndexError",
    "UpdateResult",
    "apply_ops",
    "open_base",
]

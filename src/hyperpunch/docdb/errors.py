"""Typed errors of the document database.

Local errors are the caller's mistakes (a bad document, query or update); remote errors are
about what is stored in the bee (an entry that is not a valid document, index or index key),
which may have been written by someone else. Messages equal the JS hyperbeedeebee ones where JS
has one.
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError


class DocDBError(HyperpunchError):
    """Base class of every document-database error."""


class DocDBLocalError(DocDBError, LocalError):
    """The caller asked for something invalid."""


class DocDBRemoteError(DocDBError, RemoteError):
    """The stored data is not what the layout says (foreign or corrupted entries)."""


class InvalidDocumentError(DocDBLocalError):
    """Not a mapping, a non-string key, an ``_id`` that is not an ObjectId, an unencodable value."""


class DocumentTooLargeError(InvalidDocumentError):
    """The BSON of a document exceeds the 16 MiB BSON limit."""


class DuplicateKeyError(DocDBLocalError):
    """``insert`` of an ``_id`` that is already stored (JS: "Duplicate Key error, try using .update?")."""


class InvalidQueryError(DocDBLocalError):
    """An unknown ``$`` operator or a malformed operand (JS: "Invalid Query Type $x")."""


class InvalidUpdateError(DocDBLocalError):
    """An update operand the operator cannot apply."""


class DocIndexError(DocDBLocalError):
    """Unknown index, or an index that cannot serve the requested sort."""


class NoIndexForSortError(DocIndexError):
    """``sort`` on a field no index can serve (JS: 'No indexes found to sort for field "f"')."""


class UniqueIndexError(DuplicateKeyError):
    """A write would give two documents the same key in a unique index."""


class NotFoundError(DocDBLocalError):
    """``find_one`` matched nothing (JS: "not found")."""


class CorruptEntryError(DocDBRemoteError):
    """A stored document, index metadata or index key does not decode."""

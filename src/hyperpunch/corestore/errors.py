"""Errors raised by :mod:`hyperpunch.corestore`.

Invariants: everything raised on purpose by this layer is a :class:`CorestoreError`; caller misuse
and local storage problems (a closed store, a corrupted or foreign primary key, a name that derives
nothing) are :class:`LocalError` subclasses. ``code`` carries the JS code where corestore / hypercore
has one (``STORAGE_EMPTY``, ``ERR_ASSERTION``); JS's plain ``Error`` cases get descriptive codes.
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError

__all__ = [
    "CorestoreClosedError",
    "CorestoreError",
    "CorestoreLocalError",
    "InvalidCoreOptionsError",
    "PrimaryKeyCorruptError",
    "PrimaryKeyMismatchError",
    "StorageEmptyError",
    "UnsafePrimaryKeyError",
]


class CorestoreError(HyperpunchError):
    """Base of the corestore layer's errors."""

    code = "CORESTORE_ERROR"


class CorestoreLocalError(CorestoreError, LocalError):
    """The caller misused the store, or its local storage is unusable."""


class CorestoreClosedError(CorestoreLocalError):
    """The store (or the root store of this session/namespace) is closed (JS: "Corestore is closed")."""

    code = "CORESTORE_CLOSED"


class InvalidCoreOptionsError(CorestoreLocalError):
    """``get`` was given nothing to derive a core from (JS: "Could not derive discovery from input")."""

    code = "BAD_ARGUMENT"


class StorageEmptyError(CorestoreLocalError):
    """``get(discovery_key=...)`` / ``create_if_missing=False`` of a core not in storage."""

    code = "STORAGE_EMPTY"


class PrimaryKeyCorruptError(CorestoreLocalError):
    """The persisted primary key file is damaged: refusing to guess (every named key depends on it)."""

    code = "STORAGE_CORRUPT"


class PrimaryKeyMismatchError(CorestoreLocalError):
    """An explicit primary key differs from the stored one (JS: "Another corestore is stored here")."""

    code = "STORAGE_CONFLICT"


class UnsafePrimaryKeyError(CorestoreLocalError):
    """Passing ``primary_key`` requires ``unsafe=True`` (JS ``ASSERTION``)."""

    code = "ERR_ASSERTION"

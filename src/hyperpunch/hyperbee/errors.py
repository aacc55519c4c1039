"""Errors raised by :mod:`hyperpunch.hyperbee`.

Invariants: everything raised on purpose by this layer is a :class:`HyperbeeError`. Blocks that are
not valid hyperbee nodes, indexes pointing past the core or into a cycle (bytes that came from a
writer, local or remote) are :class:`HyperbeeRemoteError` subclasses; caller misuse (a read-only
bee, a closed bee, a bad encoding) are :class:`HyperbeeLocalError` subclasses. ``code`` is the JS
code where hyperbee / hypercore-errors has one (``DECODING_ERROR``, ``BLOCK_NOT_AVAILABLE``).
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError

__all__ = [
    "BeeClosedError",
    "BlockNotAvailableError",
    "CorruptTreeError",
    "HyperbeeDecodingError",
    "HyperbeeError",
    "HyperbeeLocalError",
    "HyperbeeRemoteError",
    "ReadOnlyError",
]


class HyperbeeError(HyperpunchError):
    """Base of the hyperbee layer's errors."""

    code = "HYPERBEE_ERROR"


class HyperbeeLocalError(HyperbeeError, LocalError):
    """The caller misused the bee."""


class HyperbeeRemoteError(HyperbeeError, RemoteError):
    """The blocks of the bee's core do not form a valid tree."""


class ReadOnlyError(HyperbeeLocalError):
    """A write on a read-only bee, a checkout, or a core without a key pair (JS: "Hyperbee is marked
    as read-only" / ``SESSION_NOT_WRITABLE``)."""

    code = "SESSION_NOT_WRITABLE"


class BeeClosedError(HyperbeeLocalError):
    """The bee is closed (JS: "Bee closed")."""

    code = "BEE_CLOSED"


class BlockNotAvailableError(HyperbeeLocalError):
    """A block the tree needs is not stored and could not be fetched (JS ``BLOCK_NOT_AVAILABLE``)."""

    code = "BLOCK_NOT_AVAILABLE"


class HyperbeeDecodingError(HyperbeeRemoteError):
    """A block is not a valid hyperbee header / node (JS ``DECODING_ERROR``)."""

    code = "DECODING_ERROR"


class CorruptTreeError(HyperbeeRemoteError):
    """A node's index points past the version it belongs to, at a level that does not exist, or
    into a cycle of child pointers."""

    code = "CORRUPT_TREE"

"""Errors raised by :mod:`hyperpunch.hypercore`, carrying the JS ``hypercore-errors`` codes.

Invariants: everything raised on purpose by this layer is a :class:`HypercoreError`; errors caused
by bytes or proofs from a peer (a bad signature, a proof that does not verify, a manifest that does
not hash to the key) are :class:`RemoteError` subclasses; caller misuse and local storage failures
are :class:`LocalError` subclasses. ``code`` is the JS code string (``"INVALID_PROOF"``, ...).
Message decoders raise :class:`hyperpunch.encoding.DecodeError` (a RemoteError) instead.
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError

__all__ = [
    "AssertionFailedError",
    "BadArgumentError",
    "BlockNotAvailableError",
    "BlockRequestTimeoutError",
    "DecodingError",
    "HypercoreError",
    "HypercoreLocalError",
    "HypercoreRemoteError",
    "InvalidCapabilityError",
    "InvalidChecksumError",
    "InvalidOperationError",
    "InvalidProofError",
    "InvalidSignatureError",
    "RequestCancelledError",
    "RequestTimeoutError",
    "SessionClosedError",
    "SessionNotWritableError",
    "SnapshotNotAvailableError",
    "StorageConflictError",
    "StorageCorruptError",
    "StorageEmptyError",
    "StorageFullError",
    "WriteFailedError",
]


class HypercoreError(HyperpunchError):
    """Base of the hypercore layer's errors (JS ``HypercoreError``)."""

    code = "HYPERCORE_ERROR"


class HypercoreLocalError(HypercoreError, LocalError):
    """The caller misused the API, or local storage failed."""


class HypercoreRemoteError(HypercoreError, RemoteError):
    """Data from a peer failed verification."""


class BadArgumentError(HypercoreLocalError):
    code = "BAD_ARGUMENT"


class AssertionFailedError(HypercoreLocalError):
    """An internal invariant was broken (JS ``ERR_ASSERTION``)."""

    code = "ERR_ASSERTION"


class InvalidOperationError(HypercoreLocalError):
    """An operation that cannot be done in the current state (a proof request out of range, ...).

    JS also throws ``INVALID_OPERATION`` from proof verification when a proof's nodes are not the
    ones expected; there it is raised as :class:`InvalidProofError` (a remote error) instead, with
    this class's code kept available through ``code``.
    """

    code = "INVALID_OPERATION"


class BlockNotAvailableError(HypercoreLocalError):
    code = "BLOCK_NOT_AVAILABLE"


class SessionClosedError(HypercoreLocalError):
    code = "SESSION_CLOSED"


class SessionNotWritableError(HypercoreLocalError):
    code = "SESSION_NOT_WRITABLE"


class BlockRequestTimeoutError(HypercoreLocalError):
    """A ``get(wait=True)`` did not get its block within its ``timeout`` (JS ``REQUEST_TIMEOUT``)."""

    code = "REQUEST_TIMEOUT"


# the name this error was exported under before (``hyperpunch.hypercore.RequestTimeoutError``)
RequestTimeoutError = BlockRequestTimeoutError


class RequestCancelledError(HypercoreLocalError):
    code = "REQUEST_CANCELLED"


class SnapshotNotAvailableError(HypercoreLocalError):
    code = "SNAPSHOT_NOT_AVAILABLE"


class StorageEmptyError(HypercoreLocalError):
    code = "STORAGE_EMPTY"


class StorageConflictError(HypercoreLocalError):
    code = "STORAGE_CONFLICT"


class StorageCorruptError(HypercoreLocalError):
    """The stored state is inconsistent or damaged (a block or tree node that does not hash to
    what the signed tree says, a missing node the head needs, metadata that does not decode).

    ``key`` is the core's key and ``index`` the block (or ``node``: the tree node) that is
    damaged, when known.
    """

    code = "STORAGE_CORRUPT"

    def __init__(
        self,
        message: str,
        *,
        key: bytes | None = None,
        index: int | None = None,
        node: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.key = key
        self.index = index
        self.node = node


class WriteFailedError(HypercoreLocalError):
    code = "WRITE_FAILED"


class StorageFullError(WriteFailedError):
    """A write hit a full disk (ENOSPC / SQLite ``SQLITE_FULL``): nothing of it was stored, the
    core is as it was before the call, and the same write succeeds once space is freed."""

    code = "STORAGE_FULL"


class InvalidSignatureError(HypercoreRemoteError):
    code = "INVALID_SIGNATURE"


class InvalidProofError(HypercoreRemoteError):
    code = "INVALID_PROOF"


class InvalidChecksumError(HypercoreRemoteError):
    code = "INVALID_CHECKSUM"


class InvalidCapabilityError(HypercoreRemoteError):
    code = "INVALID_CAPABILITY"


class DecodingError(HypercoreRemoteError):
    """A stored block does not decode with the session's value encoding."""

    code = "DECODING_ERROR"

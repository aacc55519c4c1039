"""Autobase errors. JS autobase throws plain ``Error``s with fixed messages; the codes here name
them (``NOT_WRITABLE`` for ``'Not writable'``, ...) so logs from mixed networks read alike.

Invariants: a bad block, record or DAG coming from a peer is a :class:`RemoteError`
(:class:`AutobaseRemoteError`, or :class:`~hyperpunch.encoding.DecodeError` from the codecs); a
misuse by the caller is a :class:`LocalError`.
"""

from __future__ import annotations

from hyperpunch.errors import LocalError, RemoteError

__all__ = [
    "AutobaseClosingError",
    "AutobaseLocalError",
    "AutobaseRemoteError",
    "CorruptedDagError",
    "EncryptionKeyError",
    "NotWritableError",
]


class AutobaseLocalError(LocalError):
    """The caller misused an autobase API."""

    code = "AUTOBASE_ERROR"


class NotWritableError(AutobaseLocalError):
    """JS ``'Not writable'``: append on a base whose local writer is not (yet) a member."""

    code = "NOT_WRITABLE"


class AutobaseClosingError(AutobaseLocalError):
    """JS ``'Autobase is closing'``."""

    code = "AUTOBASE_CLOSING"


class AutobaseRemoteError(RemoteError):
    """A writer core holds something autobase refuses (a bad batch, an unknown version)."""

    code = "AUTOBASE_REMOTE_ERROR"


class CorruptedDagError(AutobaseRemoteError):
    """JS ``'Corrupted DAG'`` / ``'Batch is linked partially, which is not allowed'``."""

    code = "CORRUPTED_DAG"


class EncryptionKeyError(AutobaseRemoteError):
    """A writer block that does not decode once decrypted with the base's encryption key (a
    wrong key, or a writer core that is not this base's), or an encrypted base opened without
    its key (the bootstrap writer's first block does not decode). Block encryption is not
    authenticated, so this is what a wrong key looks like; nothing of such a block is used."""

    code = "ENCRYPTION_KEY"

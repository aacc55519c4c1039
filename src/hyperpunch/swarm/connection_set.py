"""Connections by remote public key, and the duplicate-connection rule (JS ``connection-set.js`` and
``Hyperswarm._handleServerConnection``).

Invariants: pure. At most one connection per remote key is tracked; deleting a connection that is
no longer the tracked one for its key is a no-op. :func:`keep_new_connection` is byte-for-byte the
JS tie-break, so mixed JS/Python swarms converge on one connection per pair: keep the new one when
the existing one has already read *and* written bytes (the peer lost it and reconnected), else keep
the connection whose ``is_initiator`` equals ``local_public_key > remote_public_key``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

__all__ = ["ConnectionSet", "HasRemoteKey", "keep_new_connection"]


class HasRemoteKey(Protocol):
    @property
    def remote_public_key(self) -> bytes | None: ...


C = TypeVar("C", bound=HasRemoteKey)


def keep_new_connection(
    *,
    existing_bytes_read: int,
    existing_bytes_written: int,
    local_public_key: bytes,
    remote_public_key: bytes,
    new_is_initiator: bool,
) -> bool:
    """JS: ``existingIsOutdated || (compare(conn.publicKey, conn.remotePublicKey) > 0) === conn.isInitiator``."""
    existing_is_outdated = existing_bytes_read > 0 and existing_bytes_written > 0
    expected_initiator = bytes(local_public_key) > bytes(remote_public_key)
    return existing_is_outdated or expected_initiator == new_is_initiator


class ConnectionSet(Generic[C]):
    def __init__(self) -> None:
        self._by_key: dict[bytes, C] = {}

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[C]:
        return iter(list(self._by_key.values()))

    def has(self, public_key: bytes) -> bool:
        return bytes(public_key) in self._by_key

    def get(self, public_key: bytes) -> C | None:
        return self._by_key.get(bytes(public_key))

    def add(self, conn: C) -> None:
        key = conn.remote_public_key
        assert key is not None
        self._by_key[bytes(key)] = conn

    def delete(self, conn: C) -> None:
        key = conn.remote_public_key
        if key is None:
            return
        if self._by_key.get(bytes(key)) is conn:
            del self._by_key[bytes(key)]

"""Value types of :mod:`hyperpunch.crypto` (kept apart so their generated ``__hash__`` sees the builtin
``hash``, not ``hyperpunch.crypto.hash``). Invariant: immutable; secret keys never appear in repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An Ed25519 signing key pair; ``secret_key`` is 64 bytes: ``seed || public_key``."""

    public_key: bytes
    secret_key: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class BoxKeyPair:
    """A Curve25519 ``crypto_box`` key pair (32-byte keys) for :func:`encrypt` / :func:`decrypt`."""

    public_key: bytes
    secret_key: bytes = field(repr=False)


class HashNode(Protocol):
    """Anything with a flat-tree ``index``, a byte ``size`` and a 32-byte ``hash``."""

    @property
    def index(self) -> int: ...

    @property
    def size(self) -> int: ...

    @property
    def hash(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class TreeNode:
    """A Merkle tree node: flat-tree ``index``, total byte ``size`` below it, 32-byte ``hash``."""

    index: int
    size: int
    hash: bytes

"""hyperpunch.corestore: Corestore 7.12.5 for Python (JS ``corestore``).

Invariants: named-core key derivation is byte-identical to JS (:mod:`.keys`); the primary key is
persisted crash-safely and refused when damaged (:mod:`.primary_key`); :class:`Corestore` keeps one
open core per discovery key, shared by all sessions, keeps every core of a directory store in one
SQLite database, and replicates every core over one Protomux per connection (:mod:`.store`).
"""

from __future__ import annotations

from hyperpunch.corestore.errors import (
    CorestoreClosedError,
    CorestoreError,
    CorestoreLocalError,
    InvalidCoreOptionsError,
    PrimaryKeyCorruptError,
    PrimaryKeyMismatchError,
    StorageEmptyError,
    UnsafePrimaryKeyError,
)
from hyperpunch.corestore.keys import (
    DEFAULT_NAMESPACE,
    NS,
    CoreIdentity,
    create_key_pair,
    default_manifest,
    derive_seed,
    generate_namespace,
    named_core,
)
from hyperpunch.corestore.primary_key import load_or_create_primary_key
from hyperpunch.corestore.store import Corestore

__all__ = [
    "DEFAULT_NAMESPACE",
    "NS",
    "CoreIdentity",
    "Corestore",
    "CorestoreClosedError",
    "CorestoreError",
    "CorestoreLocalError",
    "InvalidCoreOptionsError",
    "PrimaryKeyCorruptError",
    "PrimaryKeyMismatchError",
    "StorageEmptyError",
    "UnsafePrimaryKeyError",
    "create_key_pair",
    "default_manifest",
    "derive_seed",
    "generate_namespace",
    "load_or_create_primary_key",
    "named_core",
]

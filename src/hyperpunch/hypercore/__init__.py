"""hyperpunch.hypercore: the sans-IO data structures of Hypercore 11.37.1.

Invariants: every encoding, hash, signature and proof is byte-identical to the JS reference
(``hypercore/lib``, ``flat-tree``, ``hypercore-crypto``); nothing in this package does network
I/O; storage calls are synchronous, fast and atomic per :class:`storage.WriteBatch`.

Modules: :mod:`flat_tree` (tree index math), :mod:`caps` (capabilities and signables),
:mod:`structs` (tree node, manifest and multisig codecs), :mod:`messages` (wire codecs),
:mod:`manifest` (core keys, verifier, signing), :mod:`merkle` (Merkle tree, verification, reorgs),
:mod:`merkle_proof` (proof generation), :mod:`bitfield` (block bitfield), :mod:`storage` (SQLite
and memory stores), :mod:`errors` (``HypercoreError`` with the JS codes).

The user-facing class is :class:`Hypercore` (:mod:`session`), an async context manager over one
shared :class:`~hyperpunch.hypercore.core.Core` per storage.
"""

from __future__ import annotations

from hyperpunch.hypercore import bitfield, caps, flat_tree, manifest, merkle, messages, storage
from hyperpunch.hypercore.bitfield import Bitfield
from hyperpunch.hypercore.core import (
    Core,
    RequestCancelledError,
    RequestTimeoutError,
    SessionClosedError,
    SessionNotWritableError,
    SnapshotNotAvailableError,
)
from hyperpunch.hypercore.encryption import DefaultEncryption
from hyperpunch.hypercore.errors import (
    BadArgumentError,
    BlockNotAvailableError,
    HypercoreError,
    InvalidChecksumError,
    InvalidOperationError,
    InvalidProofError,
    InvalidSignatureError,
    StorageConflictError,
    StorageEmptyError,
)
from hyperpunch.hypercore.manifest import Verifier, default_signer_manifest, manifest_hash
from hyperpunch.hypercore.merkle import MerkleTree, MerkleTreeBatch, ReorgBatch
from hyperpunch.hypercore.messages import Manifest, Proof
from hyperpunch.hypercore.replication import Replicator, replicate
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.hypercore.storage import MemoryStorage, SQLiteStorage, WriteBatch, open_tree

__all__ = [
    "BadArgumentError",
    "Bitfield",
    "BlockNotAvailableError",
    "Core",
    "DefaultEncryption",
    "Hypercore",
    "HypercoreError",
    "InvalidChecksumError",
    "InvalidOperationError",
    "InvalidProofError",
    "InvalidSignatureError",
    "Manifest",
    "MemoryStorage",
    "MerkleTree",
    "MerkleTreeBatch",
    "Proof",
    "ReorgBatch",
    "Replicator",
    "RequestCancelledError",
    "RequestTimeoutError",
    "SQLiteStorage",
    "SessionClosedError",
    "SessionNotWritableError",
    "SnapshotNotAvailableError",
    "StorageConflictError",
    "StorageEmptyError",
    "Verifier",
    "WriteBatch",
    "bitfield",
    "caps",
    "default_signer_manifest",
    "flat_tree",
    "manifest",
    "manifest_hash",
    "merkle",
    "messages",
    "open_tree",
    "replicate",
    "storage",
]

"""hyperpunch.hypercore: Hypercore 11.37.1, the append-only log, and its replication.

Invariants: every encoding, hash, signature and proof is byte-identical to the JS reference
(``hypercore/lib``, ``flat-tree``, ``hypercore-crypto``); storage calls are synchronous, fast and
atomic per :class:`storage.WriteBatch`.

Layers, bottom up: the sans-IO data structures (:mod:`flat_tree` tree index math, :mod:`caps`
capabilities and signables, :mod:`structs` / :mod:`messages` codecs, :mod:`manifest` core keys and
signing, :mod:`merkle` with :mod:`merkle_nodes` / :mod:`merkle_verify` / :mod:`merkle_proof` the
Merkle tree, :mod:`bitfield`, :mod:`storage` SQLite and memory stores (records in
:mod:`storage_records`; :mod:`sqlite_store`: one SQLite database holds every core of a store),
:mod:`errors` with the JS codes); :mod:`core` (:class:`Core`, the sans-IO state of one open
core); :mod:`replication` (the sans-IO replicator, its peers and its asyncio entry point
:func:`replicate`); and the asyncio face, :class:`Hypercore` (:mod:`session`, an async context
manager over one shared :class:`Core` per storage) with its :mod:`streams` and :mod:`extensions`.
"""

from __future__ import annotations

from hyperpunch.hypercore import bitfield, caps, flat_tree, manifest, merkle, messages, storage
from hyperpunch.hypercore.bitfield import Bitfield
from hyperpunch.hypercore.core import Core
from hyperpunch.hypercore.encryption import DefaultEncryption
from hyperpunch.hypercore.errors import (
    BadArgumentError,
    BlockNotAvailableError,
    BlockRequestTimeoutError,
    DecodingError,
    HypercoreError,
    InvalidChecksumError,
    InvalidOperationError,
    InvalidProofError,
    InvalidSignatureError,
    RequestCancelledError,
    RequestTimeoutError,
    SessionClosedError,
    SessionNotWritableError,
    SnapshotNotAvailableError,
    StorageConflictError,
    StorageCorruptError,
    StorageEmptyError,
    StorageFullError,
    WriteFailedError,
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
    "BlockRequestTimeoutError",
    "Core",
    "DecodingError",
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
    "StorageCorruptError",
    "StorageEmptyError",
    "StorageFullError",
    "Verifier",
    "WriteBatch",
    "WriteFailedError",
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

"""Autobase key derivation (JS ``autobase/lib/store.js`` ``_createManifest``,
``_createSystemManifest``, ``_deriveNamespace``; ``lib/boot.js`` for the base key).

* The base key is the creator's local writer core key: corestore core ``'local'`` of the store
  (default namespace); the discovery key is that core's discovery key. A writer signs views with
  its core's key pair public key (not its core key, which is its manifest's hash).
* A view core (``name``; ``'_system'`` is the system view, ``'_encryption'`` the encryption view)
  is a Hypercore 11 manifest: one signer per indexer (its public key, and the namespace
  ``H(NS_SIGNER_NAMESPACE || uint(1) || base key || H(encryption key or b'') || entropy ||
  name)``), quorum ``min(n, n // 2 + 1)``, patches allowed. ``entropy`` defaults to the first
  indexer's own manifest signer namespace (hypercore's default namespace for corestore cores).
  With no indexer yet, the manifest has no signer and a prologue ``(H(base key || name), 0)``.
  When the indexer set changes, each view moves to a new core whose prologue is its content so
  far (tree hash, length); the system view's new core is likewise prologued by the system view.

Invariants: pure functions of their inputs (no I/O); for the same base key, indexer signers,
name, entropy, encryption key, manifest version, links and user data they give the manifest
(hence the core key) JS gives.
"""

from __future__ import annotations

from collections.abc import Sequence

from hyperpunch import crypto
from hyperpunch.corestore import DEFAULT_NAMESPACE, named_core
from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import caps, manifest_hash
from hyperpunch.hypercore.manifest import create_manifest
from hyperpunch.hypercore.messages import Manifest, Prologue, Signer

__all__ = [
    "DEFAULT_MANIFEST_VERSION",
    "INDEX_VERSION",
    "NS_ENCRYPTION",
    "NS_HASH_KEY",
    "NS_SIGNER_NAMESPACE",
    "NS_VIEW_BLOCK_KEY",
    "BaseIdentity",
    "base_identity",
    "derive_namespace",
    "indexer_signer",
    "local_writer",
    "system_manifest",
    "tree_hash",
    "view_key",
    "view_manifest",
]

DEFAULT_MANIFEST_VERSION = 1
INDEX_VERSION = 1
NS_SIGNER_NAMESPACE, NS_VIEW_BLOCK_KEY, NS_HASH_KEY, NS_ENCRYPTION = crypto.namespace("autobase", 4)
_INDEX_VERSION_BYTES = bytes([INDEX_VERSION])  # c.encode(c.uint, 1)


class BaseIdentity:
    """The key and discovery key of the base a store creates (bootstrap null), its local writer
    core key and that core's signing public key (what view manifests name as the signer)."""

    __slots__ = ("discovery_key", "key", "local_key", "local_public_key")

    def __init__(self, key: bytes, discovery_key: bytes, local_key: bytes, local_public_key: bytes) -> None:
        self.key = key
        self.discovery_key = discovery_key
        self.local_key = local_key
        self.local_public_key = local_public_key


def local_writer(primary_key: bytes) -> BaseIdentity:
    """The local writer of a Corestore with ``primary_key`` (its ``'local'`` core), as the base
    it would create: ``key`` is then the local core key."""
    local = named_core(primary_key, DEFAULT_NAMESPACE, "local")
    return BaseIdentity(local.key, local.discovery_key, local.key, local.key_pair.public_key)


base_identity = local_writer


def tree_hash(blocks: Sequence[bytes]) -> bytes:
    """The Hypercore tree hash of a core holding ``blocks`` (what a prologue names)."""
    stack: list[TreeNode] = []
    for i, block in enumerate(blocks):
        stack.append(TreeNode(2 * i, len(block), crypto.data(block)))
        while len(stack) >= 2 and _depth(stack[-1].index) == _depth(stack[-2].index):
            b = stack.pop()
            a = stack.pop()
            stack.append(TreeNode((a.index + b.index) // 2, a.size + b.size, crypto.parent(a, b)))
    return crypto.tree(stack)


def _depth(index: int) -> int:
    d = 0
    while index & 1:
        index >>= 1
        d += 1
    return d


def indexer_signer(public_key: bytes, namespace: bytes = caps.DEFAULT_NAMESPACE) -> Signer:
    """An indexer's own core manifest signer (what JS reads as ``manifest.signers[0]``): a
    corestore writer core signs in hypercore's default namespace."""
    return Signer(public_key=public_key, namespace=namespace)


def derive_namespace(
    base_key: bytes, name: str, entropy: bytes, encryption_key: bytes | None = None
) -> bytes:
    """The signer namespace of view ``name`` (JS ``_deriveNamespace``)."""
    encryption_id = crypto.hash(encryption_key or b"")
    return crypto.hash(
        [NS_SIGNER_NAMESPACE, _INDEX_VERSION_BYTES, base_key, encryption_id, entropy, name.encode()]
    )


def view_manifest(
    base_key: bytes,
    indexers: Sequence[Signer],
    name: str,
    *,
    entropy: bytes | None = None,
    version: int = DEFAULT_MANIFEST_VERSION,
    prologue: Prologue | None = None,
    linked: Sequence[bytes] | None = None,
    manifest_data: bytes | None = None,
    encryption_key: bytes | None = None,
) -> Manifest:
    """The manifest of view ``name`` signed by ``indexers`` (JS ``_createManifest``, then
    hypercore's ``createManifest`` as ``store.get({ manifest })`` applies it)."""
    if not indexers:
        prologue = Prologue(crypto.hash([base_key, name.encode()]), 0)
    elif prologue is not None and prologue.length == 0:
        prologue = None
    if indexers and entropy is None:
        entropy = indexers[0].namespace
    signers = []
    for idx in indexers:
        assert entropy is not None
        ns = derive_namespace(base_key, name, entropy, encryption_key)
        signers.append(Signer(public_key=idx.public_key, namespace=ns))
    n = len(signers)
    # normalised as corestore/hypercore do (Verifier.createManifest): no empty ``linked``
    return create_manifest(
        signers,
        version=version,
        quorum=min(n, (n >> 1) + 1),
        allow_patch=True,
        prologue=prologue,
        linked=list(linked or []) if version > 1 else None,
        user_data=manifest_data,
    )


def system_manifest(
    base_key: bytes,
    indexers: Sequence[Signer],
    *,
    entropy: bytes | None = None,
    version: int = DEFAULT_MANIFEST_VERSION,
    manifest_data: bytes | None = None,
    encryption_key: bytes | None = None,
) -> Manifest:
    """The system view's manifest (JS ``_createSystemManifest``): from manifest version 2 on it
    links the encryption view's key."""
    linked: list[bytes] = []
    if version > DEFAULT_MANIFEST_VERSION:
        enc = view_manifest(
            base_key,
            indexers,
            "_encryption",
            entropy=entropy,
            version=version,
            linked=[],
            manifest_data=manifest_data,
            encryption_key=encryption_key,
        )
        linked.append(manifest_hash(enc))
    return view_manifest(
        base_key,
        indexers,
        "_system",
        entropy=entropy,
        version=version,
        linked=linked,
        manifest_data=manifest_data,
        encryption_key=encryption_key,
    )


def view_key(
    base_key: bytes,
    indexer_public_keys: Sequence[bytes],
    name: str,
    *,
    prologue: Prologue | None = None,
    entropy: bytes | None = None,
    encryption_key: bytes | None = None,
) -> bytes:
    """The core key of view ``name`` of a version-1 base whose indexers are corestore writer
    cores signing with ``indexer_public_keys`` (system order). ``prologue``: the view's content
    when the indexer set last changed (``(tree_hash(blocks), len(blocks))``); the system view
    (``'_system'``) of a fresh indexer set has none."""
    signers = [indexer_signer(k) for k in indexer_public_keys]
    if name == "_system" and prologue is None:
        m = system_manifest(base_key, signers, entropy=entropy, encryption_key=encryption_key)
    else:
        m = view_manifest(
            base_key, signers, name, prologue=prologue, entropy=entropy, encryption_key=encryption_key
        )
    return manifest_hash(m)

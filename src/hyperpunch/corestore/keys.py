"""Corestore key derivation (JS ``corestore/index.js``: ``deriveSeed``, ``createKeyPair``,
``generateNamespace``), byte for byte.

Invariants:

* ``NS = crypto.namespace("corestore", 1)[0]``; the default namespace is 32 zero bytes.
* The seed of core ``name`` in namespace ``ns`` is ``BLAKE2b-256(key=primary_key, NS || ns || utf8(name))``;
  its key pair is the Ed25519 key pair of that seed; its manifest is the default single-signer
  manifest of version ``manifest_version`` (JS ``opts.manifestVersion || 1``); its core key is the
  manifest hash and its discovery key ``crypto.discovery_key(core_key)``.
* A child namespace is ``BLAKE2b-256(parent_ns || utf8(name))`` (unkeyed).
* Everything here is pure: no I/O, no state.
"""

from __future__ import annotations

from hashlib import blake2b

from hyperpunch import crypto
from hyperpunch.corestore.errors import CorestoreLocalError
from hyperpunch.crypto import KeyPair
from hyperpunch.hypercore import manifest as man
from hyperpunch.hypercore.messages import Manifest

__all__ = [
    "DEFAULT_NAMESPACE",
    "NS",
    "CoreIdentity",
    "create_key_pair",
    "default_manifest",
    "derive_seed",
    "generate_namespace",
    "named_core",
]

NS: bytes = crypto.namespace("corestore", 1)[0]
DEFAULT_NAMESPACE: bytes = bytes(32)


def _utf8(name: str | bytes) -> bytes:
    if isinstance(name, str):
        return name.encode()
    if isinstance(name, bytes | bytearray | memoryview):
        return bytes(name)
    raise CorestoreLocalError(f"a name must be str or bytes, not {type(name).__name__}", code="BAD_ARGUMENT")


def _check32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != 32:
        raise CorestoreLocalError(f"{what} must be 32 bytes", code="BAD_ARGUMENT")
    return bytes(value)


def derive_seed(primary_key: bytes, namespace: bytes, name: str | bytes) -> bytes:
    """The 32-byte Ed25519 seed of core ``name`` in ``namespace`` (JS ``deriveSeed``)."""
    h = blake2b(digest_size=32, key=_check32(primary_key, "primary key"))
    h.update(NS)
    h.update(_check32(namespace, "namespace"))
    h.update(_utf8(name))
    return h.digest()


def create_key_pair(primary_key: bytes, namespace: bytes, name: str | bytes) -> KeyPair:
    """The key pair of core ``name`` in ``namespace`` (JS ``createKeyPair``)."""
    return crypto.key_pair(derive_seed(primary_key, namespace, name))


def generate_namespace(namespace: bytes, name: str | bytes) -> bytes:
    """The child namespace ``name`` of ``namespace`` (JS ``generateNamespace``)."""
    h = blake2b(digest_size=32)
    h.update(_check32(namespace, "namespace"))
    h.update(_utf8(name))
    return h.digest()


def default_manifest(public_key: bytes, manifest_version: int = 1) -> Manifest:
    """The manifest corestore gives a core made from a key pair: one ed25519 signer in the
    default hypercore namespace, version ``manifest_version or 1`` (JS ``_auth``)."""
    version = manifest_version or 1
    if version == 1:
        return man.default_signer_manifest(public_key)
    return man.create_manifest([public_key], version=version)


class CoreIdentity:
    """Key pair, manifest, core key and discovery key of a named core."""

    __slots__ = ("discovery_key", "key", "key_pair", "manifest")

    def __init__(self, key_pair: KeyPair, manifest: Manifest) -> None:
        self.key_pair = key_pair
        self.manifest = manifest
        self.key = man.manifest_hash(manifest)
        self.discovery_key = crypto.discovery_key(self.key)


def named_core(
    primary_key: bytes, namespace: bytes, name: str | bytes, manifest_version: int = 1
) -> CoreIdentity:
    """Everything that identifies core ``name`` of a store (no I/O)."""
    kp = create_key_pair(primary_key, namespace, name)
    return CoreIdentity(kp, default_manifest(kp.public_key, manifest_version))

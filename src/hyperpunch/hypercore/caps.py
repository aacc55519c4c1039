"""Hypercore capabilities (JS ``hypercore/lib/caps.js``): the namespaced constants and the
signable / capability hashes built from them.

Invariants: ``TREE``, ``REPLICATE_INITIATOR``, ``REPLICATE_RESPONDER``, ``MANIFEST``,
``DEFAULT_NAMESPACE`` and ``DEFAULT_ENCRYPTION`` are ``namespace("hypercore", 6)`` in that order;
``tree_signable`` is the 112-byte ``TREE || manifestHash || treeHash || u64 length || u64 fork``
and ``replicate`` is ``H_{handshakeHash}(REPLICATE_x || key)``, byte-identical to JS.
"""

from __future__ import annotations

import hashlib
import struct

from hyperpunch import crypto
from hyperpunch.hypercore.errors import BadArgumentError

__all__ = [
    "DEFAULT_ENCRYPTION",
    "DEFAULT_NAMESPACE",
    "MANIFEST",
    "REPLICATE_INITIATOR",
    "REPLICATE_RESPONDER",
    "TREE",
    "replicate",
    "tree_signable",
    "tree_signable_compat",
]

(
    TREE,
    REPLICATE_INITIATOR,
    REPLICATE_RESPONDER,
    MANIFEST,
    DEFAULT_NAMESPACE,
    DEFAULT_ENCRYPTION,
) = crypto.namespace("hypercore", 6)

_U64x2 = struct.Struct("<QQ")


def _check32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != 32:
        raise BadArgumentError(f"{what} must be 32 bytes")
    return bytes(value)


def _u64x2(length: int, fork: int) -> bytes:
    try:
        return _U64x2.pack(length, fork)
    except struct.error as err:
        raise BadArgumentError(f"length/fork must be uint64: {length!r}/{fork!r}") from err


def replicate(is_initiator: bool, key: bytes, handshake_hash: bytes) -> bytes:
    """The replication capability proving knowledge of ``key`` on this Noise session.

    ``BLAKE2b-256(key=handshake_hash, (REPLICATE_INITIATOR or REPLICATE_RESPONDER) || key)``.
    """
    h = hashlib.blake2b(
        REPLICATE_INITIATOR if is_initiator else REPLICATE_RESPONDER,
        digest_size=32,
        key=bytes(handshake_hash),
    )
    h.update(key)
    return h.digest()


def tree_signable(manifest_hash: bytes, tree_hash: bytes, length: int, fork: int) -> bytes:
    """What a v1+ signer signs: ``TREE || manifest_hash || tree_hash || u64 length || u64 fork``."""
    return (
        TREE
        + _check32(manifest_hash, "manifest hash")
        + _check32(tree_hash, "tree hash")
        + _u64x2(length, fork)
    )


def tree_signable_compat(tree_hash: bytes, length: int, fork: int, no_header: bool = False) -> bytes:
    """The legacy (v0 / compat) signable: ``[TREE ||] tree_hash || u64 length || u64 fork``."""
    body = _check32(tree_hash, "tree hash") + _u64x2(length, fork)
    return body if no_header else TREE + body

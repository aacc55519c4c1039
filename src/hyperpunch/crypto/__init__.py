"""hypercore-crypto 3.7 for Python: keys, signatures, BLAKE2b hashes and Merkle tree hashing.

Invariants:

* Every function is byte-identical to ``hypercore-crypto`` 3.7 (libsodium under both): Ed25519 key
  pairs whose 64-byte secret key is ``seed || public_key``, detached signatures, BLAKE2b-256
  hashes (libsodium ``crypto_generichash`` = ``hashlib.blake2b(digest_size=32)``), namespaces and
  the leaf / parent / root-set tree hashes with their 0x00 / 0x01 / 0x02 type prefixes.
* Functions that look at bytes a peer may have chosen never raise for them: :func:`verify`
  answers ``False`` (wrong lengths, bad signature, invalid point), :func:`decrypt` answers ``None``.
* Caller mistakes (a 31-byte seed, a negative size) raise :class:`CryptoError` subclasses, which
  are :class:`hyperpunch.errors.LocalError`.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable, Sequence

import nacl.bindings as _nb
import nacl.exceptions as _nexc

from hyperpunch.crypto._types import BoxKeyPair, HashNode, KeyPair, TreeNode
from hyperpunch.crypto.errors import CryptoError, InvalidArgumentError, InvalidKeyError

__all__ = [
    "PUBLIC_KEY_BYTES",
    "SEAL_BYTES",
    "SECRET_KEY_BYTES",
    "SEED_BYTES",
    "SIGNATURE_BYTES",
    "BoxKeyPair",
    "CryptoError",
    "HashNode",
    "InvalidArgumentError",
    "InvalidKeyError",
    "KeyPair",
    "TreeNode",
    "data",
    "decrypt",
    "discovery_key",
    "encrypt",
    "encryption_key_pair",
    "hash",
    "key_pair",
    "namespace",
    "parent",
    "random_bytes",
    "sign",
    "tree",
    "tree_leaf",
    "validate_key_pair",
    "verify",
]

PUBLIC_KEY_BYTES = 32
SECRET_KEY_BYTES = 64
SEED_BYTES = 32
SIGNATURE_BYTES = 64
SEAL_BYTES = 48  # crypto_box_SEALBYTES: ephemeral public key (32) + MAC (16)

_HYPERCORE = b"hypercore"
_U64 = struct.Struct("<Q")
_U64x2 = struct.Struct("<QQ")
_blake2b = hashlib.blake2b


def _as_bytes(value: bytes, what: str) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise InvalidArgumentError(f"{what} must be bytes, not {type(value).__name__}")


# --- keys and signatures -------------------------------------------------------------------------


def key_pair(seed: bytes | None = None) -> KeyPair:
    """A new Ed25519 key pair; deterministic when a 32-byte ``seed`` is given (``keyPair(seed)``)."""
    if seed is None:
        pk, sk = _nb.crypto_sign_keypair()
        return KeyPair(pk, sk)
    seed = _as_bytes(seed, "seed")
    if len(seed) != SEED_BYTES:
        raise InvalidKeyError(f"seed must be {SEED_BYTES} bytes, got {len(seed)}")
    pk, sk = _nb.crypto_sign_seed_keypair(seed)
    return KeyPair(pk, sk)


def validate_key_pair(kp: KeyPair) -> bool:
    """True when ``kp.public_key`` is the public half of ``kp.secret_key`` (``validateKeyPair``).

    Like libsodium's ``crypto_sign_ed25519_sk_to_pk`` this compares with the public key stored in
    the second half of the secret key. A secret key of the wrong length gives ``False``.
    """
    sk = kp.secret_key
    if len(sk) != SECRET_KEY_BYTES:
        return False
    return bytes(sk[32:]) == bytes(kp.public_key)


def sign(message: bytes, secret_key: bytes) -> bytes:
    """The 64-byte detached Ed25519 signature of ``message``."""
    secret_key = _as_bytes(secret_key, "secret_key")
    if len(secret_key) != SECRET_KEY_BYTES:
        raise InvalidKeyError(f"secret key must be {SECRET_KEY_BYTES} bytes, got {len(secret_key)}")
    signed: bytes = _nb.crypto_sign(_as_bytes(message, "message"), secret_key)
    return signed[:SIGNATURE_BYTES]


def verify(message: bytes, signature: bytes, public_key: bytes) -> bool:
    """True when ``signature`` is valid for ``message`` under ``public_key``; never raises."""
    try:
        if len(signature) != SIGNATURE_BYTES or len(public_key) != PUBLIC_KEY_BYTES:
            return False
        _nb.crypto_sign_open(bytes(signature) + bytes(message), bytes(public_key))
    except (_nexc.CryptoError, TypeError, ValueError):
        return False
    return True


# --- sealed boxes ----------------------------------------------------------------------------------


def encryption_key_pair(seed: bytes | None = None) -> BoxKeyPair:
    """A ``crypto_box`` key pair (``encryptionKeyPair``); deterministic from a 32-byte seed."""
    if seed is None:
        pk, sk = _nb.crypto_box_keypair()
        return BoxKeyPair(pk, sk)
    seed = _as_bytes(seed, "seed")
    if len(seed) != SEED_BYTES:
        raise InvalidKeyError(f"seed must be {SEED_BYTES} bytes, got {len(seed)}")
    pk, sk = _nb.crypto_box_seed_keypair(seed)
    return BoxKeyPair(pk, sk)


def encrypt(message: bytes, public_key: bytes) -> bytes:
    """Seal ``message`` to a ``crypto_box`` public key (anonymous sender), as ``encrypt``."""
    public_key = _as_bytes(public_key, "public_key")
    if len(public_key) != 32:
        raise InvalidKeyError(f"box public key must be 32 bytes, got {len(public_key)}")
    sealed: bytes = _nb.crypto_box_seal(_as_bytes(message, "message"), public_key)
    return sealed


def decrypt(ciphertext: bytes, key_pair: BoxKeyPair) -> bytes | None:
    """Open a sealed box with ``key_pair``; ``None`` when it is too short or does not open."""
    pk = _as_bytes(key_pair.public_key, "public_key")
    sk = _as_bytes(key_pair.secret_key, "secret_key")
    if len(pk) != 32 or len(sk) != 32:
        raise InvalidKeyError("box key pair must hold 32-byte keys")
    if len(ciphertext) < SEAL_BYTES:
        return None
    try:
        plain: bytes = _nb.crypto_box_seal_open(bytes(ciphertext), pk, sk)
    except (_nexc.CryptoError, TypeError, ValueError):
        return None
    return plain


# --- hashes ----------------------------------------------------------------------------------------


def hash(data: bytes | Iterable[bytes]) -> bytes:
    """BLAKE2b-256 of ``data``, or of the concatenation of a list of buffers."""
    if isinstance(data, bytes | bytearray | memoryview):
        return _blake2b(data, digest_size=32).digest()
    if isinstance(data, str):
        raise InvalidArgumentError("hash() takes bytes or a list of bytes, not str")
    h = _blake2b(digest_size=32)
    try:
        for part in data:
            h.update(part)
    except TypeError as err:
        raise InvalidArgumentError("hash() takes bytes or a list of bytes") from err
    return h.digest()


def discovery_key(public_key: bytes) -> bytes:
    """``BLAKE2b-256(key=public_key, "hypercore")``: the public name of a core/topic."""
    if not isinstance(public_key, bytes | bytearray | memoryview) or len(public_key) != 32:
        raise InvalidKeyError("Must pass a 32 byte buffer")
    return _blake2b(_HYPERCORE, digest_size=32, key=public_key).digest()


def namespace(name: str | bytes, count_or_ids: int | Sequence[int]) -> list[bytes]:
    """``H(H(name) || byte(id))`` for ids ``0..count-1`` or the given ids (each taken mod 256)."""
    if isinstance(count_or_ids, int):
        if count_or_ids < 0:
            raise InvalidArgumentError("namespace count must be >= 0")
        ids: Sequence[int] = range(count_or_ids)
    else:
        ids = count_or_ids
    raw = name.encode() if isinstance(name, str) else _as_bytes(name, "name")
    ns = _blake2b(raw, digest_size=32).digest()
    out: list[bytes] = []
    for i in ids:
        if not isinstance(i, int):
            raise InvalidArgumentError(f"namespace ids must be integers, got {type(i).__name__}")
        out.append(_blake2b(ns + bytes((i & 0xFF,)), digest_size=32).digest())
    return out


def _u64(n: int) -> bytes:
    try:
        return _U64.pack(n)
    except struct.error as err:
        raise InvalidArgumentError(f"not a uint64: {n!r}") from err


def data(data: bytes) -> bytes:
    """Leaf hash: ``H(0x00 || uint64LE(len(data)) || data)`` (``crypto.data``)."""
    h = _blake2b(b"\x00" + _U64.pack(len(data)), digest_size=32)
    h.update(data)
    return h.digest()


tree_leaf = data


def parent(a: HashNode, b: HashNode) -> bytes:
    """Parent hash ``H(0x01 || uint64LE(a.size + b.size) || left.hash || right.hash)``.

    The node with the smaller flat-tree index goes first, whichever order they are passed in.
    """
    if a.index > b.index:
        a, b = b, a
    h = _blake2b(b"\x01" + _u64(a.size + b.size), digest_size=32)
    h.update(a.hash)
    h.update(b.hash)
    return h.digest()


def tree(roots: Iterable[HashNode]) -> bytes:
    """Root-set hash ``H(0x02 || for each root: hash || uint64LE(index) || uint64LE(size))``."""
    h = _blake2b(b"\x02", digest_size=32)
    for r in roots:
        h.update(r.hash)
        try:
            h.update(_U64x2.pack(r.index, r.size))
        except struct.error as err:
            raise InvalidArgumentError(f"bad tree root index/size: {r.index!r}/{r.size!r}") from err
    return h.digest()


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the operating system's CSPRNG (what libsodium's ``randombytes_buf`` uses)."""
    if n < 0:
        raise InvalidArgumentError("random_bytes needs n >= 0")
    return os.urandom(n)

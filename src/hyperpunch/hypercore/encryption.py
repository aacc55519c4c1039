"""Hypercore block encryption (JS ``hypercore/lib/default-encryption.js``), byte-compatible.

Invariants:

* An encrypted block is stored (and sent on the wire, and hashed into the Merkle tree) as
  ``padding(8) || xsalsa20_xor(block, nonce, block_key)``. The 8-byte padding is the core's fork
  id (uint64 LE) blinded with ``xsalsa20(blinding_key, nonce = index_le64 || 0^16)``; the block
  nonce is ``index_le64 || padding || 0^8``. Decryption needs only the index and the block key.
* Keys: ``block_key = BLAKE2b-256(DEFAULT_ENCRYPTION || core_key || encryption_key)`` (or the
  encryption key itself when ``block=True``; the legacy ``compat`` derivation is the keyed hash
  ``BLAKE2b-256(key=core_key, encryption_key)``); ``blinding_key = BLAKE2b-256(block_key)``.
* XSalsa20 is libsodium's ``crypto_stream_xsalsa20_xor``, reached through the symbols of PyNaCl's
  compiled module (PyNaCl itself does not wrap it); no pure-Python cipher.
"""

from __future__ import annotations

import ctypes
import hashlib
import struct

from nacl import _sodium as sodium_extension

from hyperpunch.hypercore.caps import DEFAULT_ENCRYPTION
from hyperpunch.hypercore.errors import BadArgumentError

__all__ = ["PADDING", "DefaultEncryption", "block_encryption_key", "xsalsa20_xor"]

PADDING = 8

_lib = ctypes.CDLL(sodium_extension.__file__)
_xor = _lib.crypto_stream_xsalsa20_xor
_xor.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulonglong,
    ctypes.c_char_p,
    ctypes.c_char_p,
]
_xor.restype = ctypes.c_int
_u64 = struct.Struct("<Q")
_ZERO16 = bytes(16)
_ZERO8 = bytes(8)


def xsalsa20_xor(data: bytes, nonce: bytes, key: bytes) -> bytes:
    """libsodium ``crypto_stream_xor`` (XSalsa20): ``data`` XOR the key stream."""
    if len(nonce) != 24 or len(key) != 32:
        raise BadArgumentError("xsalsa20 needs a 24-byte nonce and a 32-byte key")
    n = len(data)
    out = ctypes.create_string_buffer(n) if n else None
    if out is None:
        return b""
    _xor(out, bytes(data), n, nonce, key)
    return out.raw


def block_encryption_key(core_key: bytes, encryption_key: bytes) -> bytes:
    """JS ``Hypercore.blockEncryptionKey(key, encryptionKey)``."""
    h = hashlib.blake2b(digest_size=32)
    h.update(DEFAULT_ENCRYPTION)
    h.update(core_key)
    h.update(encryption_key)
    return h.digest()


class DefaultEncryption:
    """The default block cipher of a core (``encryptionKey`` in JS)."""

    __slots__ = ("blinding_key", "block_key", "compat", "key")

    def __init__(
        self, encryption_key: bytes, core_key: bytes, *, block: bool = False, compat: bool = False
    ) -> None:
        if len(encryption_key) != 32:
            raise BadArgumentError("encryption key must be 32 bytes")
        self.key = bytes(encryption_key)
        self.compat = compat
        if block:
            self.block_key = self.key
        elif compat:
            self.block_key = hashlib.blake2b(self.key, digest_size=32, key=core_key).digest()
        else:
            self.block_key = block_encryption_key(core_key, self.key)
        self.blinding_key = hashlib.blake2b(self.block_key, digest_size=32).digest()

    @staticmethod
    def padding() -> int:
        return PADDING

    def encrypt(self, index: int, block: bytes, fork: int) -> bytes:
        """``block`` (plaintext, without padding) as stored: blinded fork || ciphertext."""
        idx = _u64.pack(index)
        padding = xsalsa20_xor(_u64.pack(fork), idx + _ZERO16, self.blinding_key)
        return padding + xsalsa20_xor(block, idx + padding + _ZERO8, self.block_key)

    def decrypt(self, index: int, stored: bytes) -> bytes:
        """The plaintext of a stored block (padding dropped)."""
        if len(stored) < PADDING:
            raise BadArgumentError("encrypted block is shorter than its padding")
        nonce = _u64.pack(index) + bytes(stored[:PADDING]) + _ZERO8
        return xsalsa20_xor(bytes(stored[PADDING:]), nonce, self.block_key)

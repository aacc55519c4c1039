"""The secret-stream cryptography: libsodium secretstream, stream ids, send boxes, capabilities.

Invariants:

* Data frames are libsodium ``crypto_secretstream_xchacha20poly1305`` with ``TAG_MESSAGE`` and no
  additional data, exactly as ``sodium-secretstream`` 1.2 does: the push key is the Noise ``tx``,
  the pull key the Noise ``rx``; a ciphertext is ``len(plaintext) + 17`` bytes.
* :meth:`Push.frame` writes the uint24 length prefix and encrypts straight into one buffer (one
  allocation, no copy of the plaintext); :meth:`Pull.decrypt` reads the frame body in place.
* ``stream_id(hash, is_initiator) = BLAKE2b-256(key=hash, NS_INITIATOR | NS_RESPONDER)`` and the
  unordered-send keys are ``BLAKE2b-256(key=hash, NS_<role> || NS_SEND)``, with
  ``[NS_INITIATOR, NS_RESPONDER, NS_SEND] = namespace("hyperswarm/secret-stream", 3)``.
* Unordered datagrams are ``counter(8) || crypto_secretbox_easy(msg, nonce=counter || 0*16)``;
  the 8-byte counter starts random and is incremented (libsodium, little endian) before each box.
  :meth:`SendBox.open` answers ``None`` for anything that does not authenticate (JS drops them).
* ``replication_capability`` is hypercore's ``caps.replicate``:
  ``BLAKE2b-256(key=hash, REPLICATE_INITIATOR | REPLICATE_RESPONDER || core_key)``.

libsodium is reached through PyNaCl's compiled cffi module (``nacl._sodium``) so that frames are
encrypted and decrypted in place; PyNaCl's public wrappers copy every message twice.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Final

from nacl._sodium import ffi, lib

from hyperpunch.crypto import namespace
from hyperpunch.secretstream.errors import (
    DecryptionFailedError,
    InvalidMessageError,
    InvalidOptionError,
    MessageTooLargeError,
    SendNonceExhaustedError,
)
from hyperpunch.secretstream.framing import MAX_FRAME_BODY, BytesLike

__all__ = [
    "ABYTES",
    "HEADER_BYTES",
    "ID_HEADER_BYTES",
    "KEY_BYTES",
    "MAX_ATOMIC_WRITE",
    "MAX_PLAINTEXT",
    "NS_INITIATOR",
    "NS_RESPONDER",
    "NS_SEND",
    "Pull",
    "Push",
    "SendBox",
    "replication_capability",
    "send_keys",
    "stream_id",
]

ABYTES: Final = int(lib.crypto_secretstream_xchacha20poly1305_abytes())  # 17
HEADER_BYTES: Final = int(lib.crypto_secretstream_xchacha20poly1305_headerbytes())  # 24
KEY_BYTES: Final = int(lib.crypto_secretstream_xchacha20poly1305_keybytes())  # 32
STATE_BYTES: Final = int(lib.crypto_secretstream_xchacha20poly1305_statebytes())
TAG_MESSAGE: Final = int(lib.crypto_secretstream_xchacha20poly1305_tag_message())
TAG_FINAL: Final = int(lib.crypto_secretstream_xchacha20poly1305_tag_final())
STREAM_ID_BYTES: Final = 32
ID_HEADER_BYTES: Final = STREAM_ID_BYTES + HEADER_BYTES  # 56
MAX_ATOMIC_WRITE: Final = MAX_FRAME_BODY  # JS MAX_ATOMIC_WRITE = 256 ** 3 - 1 (frame body bytes)
MAX_PLAINTEXT: Final = MAX_ATOMIC_WRITE - ABYTES
SECRETBOX_MACBYTES: Final = 16
SECRETBOX_NONCEBYTES: Final = 24
SEND_COUNTER_BYTES: Final = 8

NS_INITIATOR, NS_RESPONDER, NS_SEND = namespace("hyperswarm/secret-stream", 3)
_REPLICATE_INITIATOR, _REPLICATE_RESPONDER = namespace("hypercore", 6)[1:3]

_NULL = ffi.NULL
_push = lib.crypto_secretstream_xchacha20poly1305_push
_pull = lib.crypto_secretstream_xchacha20poly1305_pull
_from_buffer = ffi.from_buffer
_ffi_buffer = ffi.buffer
_blake2b = hashlib.blake2b


def _key(value: BytesLike, size: int, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidOptionError(f"{what} must be bytes, not {type(value).__name__}")
    raw = bytes(value)
    if len(raw) < size:
        raise InvalidOptionError(f"{what} must be at least {size} bytes, got {len(raw)}")
    return raw[:size]


def stream_id(handshake_hash: BytesLike, is_initiator: bool) -> bytes:
    """The 32-byte stream id a side of role ``is_initiator`` sends in its header frame."""
    return _blake2b(
        NS_INITIATOR if is_initiator else NS_RESPONDER, digest_size=32, key=bytes(handshake_hash)
    ).digest()


def send_keys(handshake_hash: BytesLike, is_initiator: bool) -> tuple[bytes, bytes]:
    """``(encrypt_key, decrypt_key)`` for unordered datagrams, for the side ``is_initiator``."""
    key = bytes(handshake_hash)
    to_responder = _blake2b(NS_INITIATOR + NS_SEND, digest_size=32, key=key).digest()
    to_initiator = _blake2b(NS_RESPONDER + NS_SEND, digest_size=32, key=key).digest()
    return (to_responder, to_initiator) if is_initiator else (to_initiator, to_responder)


def replication_capability(handshake_hash: BytesLike, is_initiator: bool, core_key: BytesLike) -> bytes:
    """hypercore's replication capability proving knowledge of ``core_key`` on this connection.

    A peer sends the value for its own role (``is_initiator`` of its secret stream); the receiver
    computes the value for the *remote* role and compares.
    """
    h = _blake2b(
        _REPLICATE_INITIATOR if is_initiator else _REPLICATE_RESPONDER,
        digest_size=32,
        key=bytes(handshake_hash),
    )
    h.update(core_key)
    return h.digest()


class Push:
    """The encrypting half: ``sodium-secretstream``'s ``Push`` plus the frame prefix."""

    __slots__ = ("_state", "header")

    def __init__(self, key: BytesLike, header: BytesLike | None = None) -> None:
        key = _key(key, KEY_BYTES, "secretstream key")
        self._state: Any = ffi.new("unsigned char[]", STATE_BYTES)
        if header is None:
            out = ffi.new("unsigned char[]", HEADER_BYTES)
            lib.crypto_secretstream_xchacha20poly1305_init_push(self._state, out, key)
            self.header: bytes = bytes(ffi.buffer(out, HEADER_BYTES))
        else:
            # init_pull with a chosen header yields the exact state init_push makes when its random
            # header comes out equal to it: reproducible transcripts for tests and vectors.
            fixed = bytes(header)
            if len(fixed) != HEADER_BYTES:
                raise InvalidOptionError(f"secretstream header must be {HEADER_BYTES} bytes")
            lib.crypto_secretstream_xchacha20poly1305_init_pull(self._state, fixed, key)
            self.header = fixed

    def frame(self, plaintext: BytesLike) -> bytearray:
        """``uint24(len + 17) || push(plaintext)``: one data frame, ready for the wire."""
        size = len(plaintext) if type(plaintext) is not memoryview else plaintext.nbytes
        body = size + ABYTES
        if body > MAX_ATOMIC_WRITE:
            raise MessageTooLargeError(
                f"Message is too large for an atomic write. Max size is {MAX_ATOMIC_WRITE} bytes."
            )
        out = bytearray(body + 3)
        out[0] = body & 0xFF
        out[1] = (body >> 8) & 0xFF
        out[2] = body >> 16
        src = plaintext if type(plaintext) is bytes else _from_buffer(plaintext)
        _push(self._state, _from_buffer(out) + 3, _NULL, src, size, _NULL, 0, TAG_MESSAGE)
        return out

    def encrypt(self, plaintext: BytesLike) -> bytes:
        """The bare ciphertext of one message (no frame prefix)."""
        return bytes(self.frame(plaintext))[3:]


class Pull:
    """The decrypting half: ``sodium-secretstream``'s ``Pull`` (the tag is read but not acted on, as in JS)."""

    __slots__ = ("_cap", "_out", "_state", "_tag", "final")

    def __init__(self, key: BytesLike, header: BytesLike) -> None:
        key = _key(key, KEY_BYTES, "secretstream key")
        raw = bytes(header)
        if len(raw) != HEADER_BYTES:
            raise InvalidOptionError(f"secretstream header must be {HEADER_BYTES} bytes")
        self._state: Any = ffi.new("unsigned char[]", STATE_BYTES)
        self._tag: Any = ffi.new("unsigned char *")
        # plaintext scratch, grown to the largest message seen (not preallocated: a connection that
        # only ever carries small messages keeps a small one)
        self._cap = 0
        self._out: Any = None
        self.final = False
        lib.crypto_secretstream_xchacha20poly1305_init_pull(self._state, raw, key)

    def decrypt(self, ciphertext: BytesLike) -> bytes:
        """Authenticate and decrypt one frame body; raise a RemoteError when it is bad."""
        size = len(ciphertext) if type(ciphertext) is not memoryview else ciphertext.nbytes
        if size < ABYTES:
            raise InvalidMessageError("Invalid message received: shorter than the 17-byte overhead")
        mlen = size - ABYTES
        if mlen > self._cap or self._out is None:
            self._cap = max(mlen, 256)
            self._out = ffi.new("unsigned char[]", self._cap)
        out = self._out
        src = ciphertext if type(ciphertext) is bytes else _from_buffer(ciphertext)
        rc = _pull(self._state, out, _NULL, self._tag, src, size, _NULL, 0)
        del src  # a buffer export held by a traceback's frame would make a GC cycle unclearable
        if rc != 0:
            raise DecryptionFailedError("ciphertext did not authenticate (tampered, reordered or replayed)")
        self.final = self._tag[0] == TAG_FINAL
        return _ffi_buffer(out, mlen)[:]  # type: ignore[no-any-return]


class SendBox:
    """The unordered-datagram crypto of one side (``_boxMessage`` / ``_onmessage`` in JS)."""

    __slots__ = ("_counter", "_decrypt_key", "_encrypt_key", "_initial")

    def __init__(
        self, handshake_hash: BytesLike, is_initiator: bool, counter: BytesLike | None = None
    ) -> None:
        self._encrypt_key, self._decrypt_key = send_keys(handshake_hash, is_initiator)
        start = os.urandom(SEND_COUNTER_BYTES) if counter is None else bytes(counter)
        if len(start) != SEND_COUNTER_BYTES:
            raise InvalidOptionError("send counter must be 8 bytes")
        self._initial = start
        self._counter = ffi.new("unsigned char[]", start)

    @property
    def encrypt_key(self) -> bytes:
        return self._encrypt_key

    @property
    def decrypt_key(self) -> bytes:
        return self._decrypt_key

    def box(self, message: BytesLike) -> bytes:
        """``counter(8) || secretbox(message)`` after incrementing the counter."""
        lib.sodium_increment(self._counter, SEND_COUNTER_BYTES)
        counter = bytes(ffi.buffer(self._counter, SEND_COUNTER_BYTES))
        if counter == self._initial:
            raise SendNonceExhaustedError("udp send nonce exchausted")
        msg = bytes(message)
        nonce = counter + bytes(SECRETBOX_NONCEBYTES - SEND_COUNTER_BYTES)
        out = ffi.new("unsigned char[]", SECRETBOX_MACBYTES + len(msg))
        lib.crypto_secretbox_easy(out, msg, len(msg), nonce, self._encrypt_key)
        return counter + bytes(ffi.buffer(out))

    def open(self, datagram: BytesLike) -> bytes | None:
        """The plaintext of a datagram from the peer, or ``None`` when it is invalid."""
        raw = bytes(datagram)
        if len(raw) < SECRETBOX_NONCEBYTES or len(raw) - SEND_COUNTER_BYTES < SECRETBOX_MACBYTES:
            return None
        nonce = raw[:SEND_COUNTER_BYTES] + bytes(SECRETBOX_NONCEBYTES - SEND_COUNTER_BYTES)
        ciphertext = raw[SEND_COUNTER_BYTES:]
        mlen = len(ciphertext) - SECRETBOX_MACBYTES
        out = ffi.new("unsigned char[]", max(mlen, 1))
        if lib.crypto_secretbox_open_easy(out, ciphertext, len(ciphertext), nonce, self._decrypt_key) != 0:
            return None
        return bytes(ffi.buffer(out, mlen))

"""Encrypted holepunch payloads and address tokens (JS ``hyperdht/lib/secure-payload.js``).

Invariants:

* ``encrypt(p)`` = ``nonce(24, random) || crypto_secretbox_easy(encode(holepunchPayload, p))``
  under the 32-byte holepunch secret of the connection (see ``noise_wrap.holepunch_secret``).
* ``decrypt(b)`` never raises for peer bytes: it answers ``None`` when ``b`` is too short (the
  plaintext must be at least one byte: ``len(b) > 40``), fails authentication, or its plaintext
  does not decode; trailing plaintext bytes are ignored, as JS does.
* ``token(addr)`` = ``BLAKE2b-256(utf8(addr.host), key=local_secret)``; the local secret is 32
  random bytes per object (fixed only in tests).
"""

from __future__ import annotations

import hashlib
import os

import nacl.bindings as _nb
import nacl.exceptions as _nexc

from hyperpunch.dht.errors import DHTLocalError
from hyperpunch.dht.messages import HolepunchPayload, holepunch_payload
from hyperpunch.encoding import Address, DecodeError, State, encode, utf8_bytes

__all__ = ["NONCE_BYTES", "SecurePayload"]

NONCE_BYTES = 24
MAC_BYTES = 16
_secretbox = _nb.crypto_secretbox_easy
_secretbox_open = _nb.crypto_secretbox_open_easy


def _key32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != 32:
        raise DHTLocalError(f"{what} must be 32 bytes", code="INVALID_KEY")
    return bytes(value)


class SecurePayload:
    """Seals and opens :class:`HolepunchPayload` messages with a shared holepunch secret."""

    __slots__ = ("_local_secret", "_shared_secret")

    def __init__(self, holepunch_secret: bytes, *, local_secret: bytes | None = None) -> None:
        self._shared_secret = _key32(holepunch_secret, "holepunch secret")
        self._local_secret = os.urandom(32) if local_secret is None else _key32(local_secret, "local secret")

    def encrypt(self, payload: HolepunchPayload, *, nonce: bytes | None = None) -> bytes:
        """Seal ``payload`` (``nonce`` is random unless given, for reproducible tests only)."""
        if nonce is None:
            nonce = os.urandom(NONCE_BYTES)
        elif len(nonce) != NONCE_BYTES:
            raise DHTLocalError(f"nonce must be {NONCE_BYTES} bytes", code="INVALID_NONCE")
        plain = encode(holepunch_payload, payload)
        return bytes(nonce) + _secretbox(plain, bytes(nonce), self._shared_secret)

    def decrypt(self, data: bytes) -> HolepunchPayload | None:
        """Open ``data``; ``None`` if it is not a sealed holepunch payload for this secret."""
        data = bytes(data)
        if len(data) - MAC_BYTES <= NONCE_BYTES:
            return None
        try:
            plain = _secretbox_open(data[NONCE_BYTES:], data[:NONCE_BYTES], self._shared_secret)
        except (_nexc.CryptoError, ValueError, TypeError):
            return None
        try:
            return holepunch_payload.decode(State(0, len(plain), plain))
        except DecodeError:
            return None

    def token(self, addr: Address | str) -> bytes:
        """The address token for ``addr`` (only its host counts, as in JS ``token(addr)``)."""
        host = addr if isinstance(addr, str) else addr[0]
        return hashlib.blake2b(utf8_bytes(host), digest_size=32, key=self._local_secret).digest()

"""Errors raised by :mod:`hyperpunch.crypto`.

Every error here is the caller's fault (a key of the wrong length, a negative tree size): the
crypto helpers never raise for *remote* bytes. ``verify`` answers ``False`` and ``decrypt``
answers ``None`` for anything a peer could have sent.
"""

from __future__ import annotations

from hyperpunch.errors import LocalError


class CryptoError(LocalError):
    """Base of the crypto layer's errors."""

    code = "CRYPTO_ERROR"


class InvalidKeyError(CryptoError):
    """A key, seed or secret key has the wrong length or shape."""

    code = "INVALID_KEY"


class InvalidArgumentError(CryptoError):
    """Some other argument is out of range (a negative size, an id that is not an integer)."""

    code = "INVALID_ARGUMENT"

"""Errors raised by :mod:`hyperpunch.noise`.

Invariant: bytes from the peer can only ever produce :class:`HandshakeInvalidError` (a
:class:`~hyperpunch.errors.RemoteError`, code ``HANDSHAKE_INVALID`` as hyperdht reports it);
calling the state machine out of turn or with bad arguments produces a
:class:`~hyperpunch.errors.LocalError` subclass.
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError


class NoiseError(HyperpunchError):
    """Base of the Noise layer's errors (every concrete one is also Local- or RemoteError)."""

    code = "NOISE_ERROR"


class HandshakeInvalidError(NoiseError, RemoteError):
    """The peer's handshake message is truncated, tampered, or carries an invalid key."""

    code = "HANDSHAKE_INVALID"


class NoiseStateError(NoiseError, LocalError):
    """send/recv called out of turn, after completion, or after the handshake failed."""

    code = "NOISE_INVALID_STATE"


class NoiseArgumentError(NoiseError, LocalError):
    """A bad argument: wrong key length, unknown pattern, missing remote static key, payload too big."""

    code = "NOISE_INVALID_ARGUMENT"

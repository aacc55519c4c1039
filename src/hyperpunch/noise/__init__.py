"""Noise handshakes (XX, IK) over Ed25519 keys, wire-identical to noise-handshake + noise-curve-ed.

Invariants: sans-IO (bytes in, bytes out, no clocks); peer bytes only ever raise
:class:`HandshakeInvalidError` (a RemoteError); misuse raises LocalError subclasses. See
:mod:`hyperpunch.noise.handshake` for the protocol details.
"""

from __future__ import annotations

from hyperpunch.noise.errors import HandshakeInvalidError, NoiseArgumentError, NoiseError, NoiseStateError
from hyperpunch.noise.handshake import HASHLEN, MAX_MESSAGE_LEN, NoiseState, Pattern

__all__ = [
    "HASHLEN",
    "MAX_MESSAGE_LEN",
    "HandshakeInvalidError",
    "NoiseArgumentError",
    "NoiseError",
    "NoiseState",
    "NoiseStateError",
    "Pattern",
]

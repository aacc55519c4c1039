"""The root of hyperpunch's error hierarchy.

Every layer defines its own error classes under these roots. Two branches matter to users:

* :class:`LocalError`: the caller or this process did something wrong (bad argument, use after
  close, value out of range). Fix the calling code.
* :class:`RemoteError`: a peer (or bytes that came from outside) broke the protocol: a truncated
  frame, a bad signature, a tampered ciphertext. Drop the peer; nothing local is corrupted.

Each error carries ``code``: the JavaScript reference's error code string where JS has one
(for example ``"HANDSHAKE_INVALID"``), so logs from mixed networks read alike.
"""

from __future__ import annotations


class HyperpunchError(Exception):
    """Base of every error hyperpunch raises on purpose."""

    code: str = "HYPERPUNCH_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {super().__str__()}"


class LocalError(HyperpunchError):
    """The local caller misused an API, or a local resource failed."""


class RemoteError(HyperpunchError):
    """A peer, or bytes from outside, violated the protocol."""

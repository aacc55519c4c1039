"""Errors of :mod:`hyperpunch.swarm` (JS ``hyperswarm`` throws plain ``Error``s; the messages match).

Invariants: caller misuse (a bad topic, use after destroy) is a :class:`SwarmLocalError`; a peer
dropped by the swarm's policy (duplicate connection, firewalled) is a :class:`SwarmRemoteError`.
"""

from __future__ import annotations

from hyperpunch.errors import LocalError, RemoteError

__all__ = [
    "DuplicateConnectionError",
    "FirewalledPeerError",
    "MissingTopicError",
    "SwarmDestroyedError",
    "SwarmLocalError",
    "SwarmRemoteError",
]


class SwarmLocalError(LocalError):
    code = "SWARM_ERROR"


class SwarmRemoteError(RemoteError):
    code = "SWARM_ERROR"


class MissingTopicError(SwarmLocalError):
    code = "ERR_MISSING_TOPIC"

    def __init__(self, message: str = "Topic is required and must be a 32-byte buffer") -> None:
        super().__init__(message)


class SwarmDestroyedError(SwarmLocalError):
    code = "ERR_DESTROYED"

    def __init__(self, message: str = "Swarm has been destroyed") -> None:
        super().__init__(message)


class DuplicateConnectionError(SwarmRemoteError):
    code = "ERR_DUPLICATE"

    def __init__(self, message: str = "Duplicate connection") -> None:
        super().__init__(message)


class FirewalledPeerError(SwarmRemoteError):
    code = "ERR_FIREWALL"

    def __init__(self, message: str = "Peer is firewalled") -> None:
        super().__init__(message)

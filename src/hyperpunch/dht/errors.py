"""Errors of :mod:`hyperpunch.dht` (JS ``hyperdht/lib/errors.js``).

Invariants: every JS ``DHTError`` code has exactly one class here, carrying the JS code string and
default message; each class is either a :class:`DHTLocalError` (this process or its caller: a
second ``listen``, a destroyed node) or a :class:`DHTRemoteError` (the peer, a relay or the
network did not do its part: bad replies, failed holepunch, server error). ``ERRORS_BY_CODE``
maps a JS code to its class.
"""

from __future__ import annotations

from typing import ClassVar

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError

__all__ = [
    "ERRORS_BY_CODE",
    "AlreadyListeningError",
    "BadHandshakeReplyError",
    "BadHolepunchReplyError",
    "CannotHolepunchError",
    "DHTError",
    "DHTLocalError",
    "DHTRemoteError",
    "DuplicateConnectionError",
    "HandshakeInvalidError",
    "HandshakeUnfinishedError",
    "HolepunchAbortedError",
    "HolepunchDoubleRandomizedNatsError",
    "HolepunchInvalidError",
    "HolepunchProbeTimeoutError",
    "KeypairAlreadyUsedError",
    "NodeDestroyedError",
    "PeerConnectionFailedError",
    "PeerNotFoundError",
    "RelayAbortedError",
    "RemoteAbortedError",
    "RemoteNotHolepunchableError",
    "RemoteNotHolepunchingError",
    "ServerErrorError",
    "ServerIncompatibleError",
    "StreamNotConnectedError",
    "SuspendedError",
    "dht_error",
]


class DHTError(HyperpunchError):
    """Base of the HyperDHT errors; ``code`` is the JS code, ``default_message`` JS's text."""

    code = "DHT_ERROR"
    default_message: ClassVar[str] = "DHT error"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(self.default_message if message is None else message, code=code)


class DHTLocalError(DHTError, LocalError):
    """The local node or its caller is at fault (misuse, shut down, suspended)."""


class DHTRemoteError(DHTError, RemoteError):
    """A peer, relay or DHT node failed or broke the protocol."""


class BadHandshakeReplyError(DHTRemoteError):
    code = "BAD_HANDSHAKE_REPLY"
    default_message = "Bad handshake reply"


class BadHolepunchReplyError(DHTRemoteError):
    code = "BAD_HOLEPUNCH_REPLY"
    default_message = "Bad holepunch reply"


class HolepunchAbortedError(DHTRemoteError):
    code = "HOLEPUNCH_ABORTED"
    default_message = "Holepunch aborted"


class HolepunchInvalidError(DHTRemoteError):
    code = "HOLEPUNCH_INVALID"
    default_message = "Invalid holepunch payload"


class HolepunchProbeTimeoutError(DHTRemoteError):
    code = "HOLEPUNCH_PROBE_TIMEOUT"
    default_message = "Holepunching probe did not finish in time"


class HolepunchDoubleRandomizedNatsError(DHTRemoteError):
    code = "HOLEPUNCH_DOUBLE_RANDOMIZED_NATS"
    default_message = "Both remote and local NATs are randomized"


class CannotHolepunchError(DHTRemoteError):
    code = "CANNOT_HOLEPUNCH"
    default_message = "Cannot holepunch to remote"


class RemoteNotHolepunchingError(DHTRemoteError):
    code = "REMOTE_NOT_HOLEPUNCHING"
    default_message = "Remote is not holepunching"


class RemoteNotHolepunchableError(DHTRemoteError):
    code = "REMOTE_NOT_HOLEPUNCHABLE"
    default_message = "Remote is not holepunchable"


class RemoteAbortedError(DHTRemoteError):
    code = "REMOTE_ABORTED"
    default_message = "Remote aborted"


class HandshakeUnfinishedError(DHTLocalError):
    """``final()`` was called before the Noise handshake completed (caller misuse)."""

    code = "HANDSHAKE_UNFINISHED"
    default_message = "Handshake did not finish"


class HandshakeInvalidError(DHTRemoteError):
    code = "HANDSHAKE_INVALID"
    default_message = "Received invalid handshake"


class AlreadyListeningError(DHTLocalError):
    code = "ALREADY_LISTENING"
    default_message = "Already listening"


class KeypairAlreadyUsedError(DHTLocalError):
    code = "KEYPAIR_ALREADY_USED"
    default_message = "Keypair already used"


class NodeDestroyedError(DHTLocalError):
    code = "NODE_DESTROYED"
    default_message = "Node destroyed"


class PeerConnectionFailedError(DHTRemoteError):
    code = "PEER_CONNECTION_FAILED"
    default_message = "Could not connect to peer"


class PeerNotFoundError(DHTRemoteError):
    code = "PEER_NOT_FOUND"
    default_message = "Peer not found"


class StreamNotConnectedError(DHTLocalError):
    code = "STREAM_NOT_CONNECTED"
    default_message = "Stream is not connected"


class ServerIncompatibleError(DHTRemoteError):
    code = "SERVER_INCOMPATIBLE"
    default_message = "Server is using an incompatible version"


class ServerErrorError(DHTRemoteError):
    code = "SERVER_ERROR"
    default_message = "Server returned an error"


class DuplicateConnectionError(DHTRemoteError):
    code = "DUPLICATE_CONNECTION"
    default_message = "Duplicate connection"


class RelayAbortedError(DHTRemoteError):
    code = "RELAY_ABORTED"
    default_message = "Relay aborted"


class SuspendedError(DHTLocalError):
    code = "SUSPENDED"
    default_message = "Suspended"


ERRORS_BY_CODE: dict[str, type[DHTError]] = {
    cls.code: cls
    for cls in (
        BadHandshakeReplyError,
        BadHolepunchReplyError,
        HolepunchAbortedError,
        HolepunchInvalidError,
        HolepunchProbeTimeoutError,
        HolepunchDoubleRandomizedNatsError,
        CannotHolepunchError,
        RemoteNotHolepunchingError,
        RemoteNotHolepunchableError,
        RemoteAbortedError,
        HandshakeUnfinishedError,
        HandshakeInvalidError,
        AlreadyListeningError,
        KeypairAlreadyUsedError,
        NodeDestroyedError,
        PeerConnectionFailedError,
        PeerNotFoundError,
        StreamNotConnectedError,
        ServerIncompatibleError,
        ServerErrorError,
        DuplicateConnectionError,
        RelayAbortedError,
        SuspendedError,
    )
}


def dht_error(code: str, message: str | None = None) -> DHTError:
    """An instance of the class for JS ``code`` (like ``DHTError.CODE(msg)``); unknown codes raise KeyError."""
    return ERRORS_BY_CODE[code](message)

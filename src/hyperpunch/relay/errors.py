"""Errors of the dht-relay layer, split Local/Remote like the rest of hyperpunch.

Invariants: each error's ``code`` is what a relayed client sees in a ``destroy`` message (the
message text is ``"<code>: <message>"``, as JS ``err.message`` of hyperdht errors reads).
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError

__all__ = [
    "HandshakeDeniedError",
    "LimitExceededError",
    "NonCustodialRequiredError",
    "RelayClosedError",
    "RelayError",
    "RelayLocalError",
    "RelayProtocolError",
    "RelayRemoteError",
]


class RelayError(HyperpunchError):
    """Base of the relay errors."""

    code = "RELAY_ERROR"


class RelayLocalError(RelayError, LocalError):
    """The local side misused the relay API or closed it."""


class RelayRemoteError(RelayError, RemoteError):
    """The other side of the relay connection failed or broke the protocol."""


class RelayClosedError(RelayLocalError):
    code = "RELAY_CLOSED"

    def __init__(self, message: str = "The relay connection is closed") -> None:
        super().__init__(message)


class RelayProtocolError(RelayRemoteError):
    code = "RELAY_PROTOCOL_ERROR"


class LimitExceededError(RelayRemoteError):
    """A relayed client went over one of its per-client limits."""

    code = "RELAY_LIMIT_EXCEEDED"


class NonCustodialRequiredError(RelayRemoteError):
    """The relay runs with ``require_non_custodial`` and the client sent a secret key."""

    code = "NON_CUSTODIAL_REQUIRED"

    def __init__(self) -> None:
        super().__init__(
            "this relay refuses custodial clients: it never takes a secret key (use custodial: false)"
        )


class HandshakeDeniedError(RelayRemoteError):
    """A non-custodial client's firewall refused an incoming peer (JS ``'Handshake denied'``)."""

    code = "HANDSHAKE_DENIED"

    def __init__(self) -> None:
        super().__init__("Handshake denied")

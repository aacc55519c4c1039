"""Errors of the dht-rpc layer.

Invariants: every error ``hyperpunch.dht_rpc`` raises on purpose is a :class:`DHTRPCError`; ``code``
is the JS ``DHTError`` code string where dht-rpc has one (``REQUEST_TIMEOUT``,
``REQUEST_DESTROYED``, ``IO_SUSPENDED``). Caller misuse and local shutdown are
:class:`DHTRPCLocalError`; a peer that does not answer is a :class:`DHTRPCRemoteError`.

A response carrying a non-zero ``error`` field is *not* an exception (as in JS, where
``dht.request`` resolves with ``res.error`` set); the wire error codes are :data:`OK`,
:data:`UNKNOWN_COMMAND` and :data:`INVALID_TOKEN`.
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError

OK = 0
UNKNOWN_COMMAND = 1
INVALID_TOKEN = 2


class DHTRPCError(HyperpunchError):
    """Base of every dht-rpc error."""

    code = "DHT_RPC_ERROR"


class DHTRPCLocalError(DHTRPCError, LocalError):
    """The local node was misused or is shutting down."""

    code = "DHT_RPC_LOCAL_ERROR"


class DHTRPCRemoteError(DHTRPCError, RemoteError):
    """The network or a peer failed us."""

    code = "DHT_RPC_REMOTE_ERROR"


class RequestTimeoutError(DHTRPCRemoteError):
    """No response after all retries (JS ``REQUEST_TIMEOUT``)."""

    code = "REQUEST_TIMEOUT"

    def __init__(self, message: str = "Request timed out") -> None:
        super().__init__(message)


class RequestDestroyedError(DHTRPCLocalError):
    """The request was cancelled locally, e.g. by closing the node (JS ``REQUEST_DESTROYED``)."""

    code = "REQUEST_DESTROYED"

    def __init__(self, message: str = "Request destroyed") -> None:
        super().__init__(message)


class IOSuspendedError(DHTRPCLocalError):
    """The node's I/O was suspended while the request was in flight (JS ``IO_SUSPENDED``)."""

    code = "IO_SUSPENDED"

    def __init__(self, message: str = "I/O suspended") -> None:
        super().__init__(message)


class NodeDestroyedError(DHTRPCLocalError):
    """The node is closed (JS throws ``Error('Node destroyed')``)."""

    code = "DESTROYED"

    def __init__(self, message: str = "Node destroyed") -> None:
        super().__init__(message)


class QueryError(DHTRPCRemoteError):
    """A query could not complete, e.g. no closest node accepted the commit."""

    code = "QUERY_FAILED"

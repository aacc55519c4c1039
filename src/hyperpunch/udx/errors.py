"""Errors of the UDX layer.

Invariants: every error raised on purpose by ``hyperpunch.udx`` is a :class:`UDXError`; local misuse
is a :class:`UDXLocalError`, anything caused by bytes from the network is a :class:`UDXRemoteError`.
``code`` carries the libudx/udx-native errno-style string (``ECONNRESET``, ``ETIMEDOUT``, ...).
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError


class UDXError(HyperpunchError):
    """Base of every UDX error."""

    code = "UDX_ERROR"


class UDXLocalError(UDXError, LocalError):
    """The caller misused the UDX API (write after end, not connected, closed socket...)."""

    code = "UDX_LOCAL_ERROR"


class UDXRemoteError(UDXError, RemoteError):
    """The peer or the network ended the stream abnormally."""

    code = "UDX_REMOTE_ERROR"


class UDXDecodeError(UDXRemoteError):
    """A datagram is not a well-formed UDX packet."""

    code = "UDX_DECODE_ERROR"


class StreamResetError(UDXRemoteError):
    """The peer destroyed the stream (DESTROY packet)."""

    code = "ECONNRESET"


class StreamTimeoutError(UDXRemoteError):
    """A packet was not acknowledged after the maximum number of retransmission timeouts."""

    code = "ETIMEDOUT"


class StreamStateError(UDXLocalError):
    """Operation not allowed in the stream's current state."""

    code = "ERR_STREAM_STATE"

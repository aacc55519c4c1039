"""Errors of :mod:`hyperpunch.sdk` (one hierarchy; hyper-sdk 4.5.1 throws plain ``Error``s, so the
codes are ours)."""

from __future__ import annotations

from hyperpunch.errors import LocalError

__all__ = [
    "DNSLinkError",
    "InvalidKeyError",
    "InvalidURLError",
    "SDKClosedError",
    "SDKError",
    "StorageLockedError",
]


class SDKError(LocalError):
    """Base of the SDK's errors."""

    code = "SDK_ERROR"


class InvalidKeyError(SDKError, ValueError):
    """Not a name, URL or key ``get`` accepts (a non-32-byte buffer, a 64-character non-hex key)."""

    code = "INVALID_KEY"


class InvalidURLError(SDKError, ValueError):
    """A ``hyper://`` URL whose host is neither an encoded key nor a domain."""

    code = "INVALID_URL"


class DNSLinkError(SDKError):
    """A domain without a ``_dnslink`` TXT record pointing at a hyper key, or a failed lookup."""

    code = "DNSLINK_UNRESOLVED"


class SDKClosedError(SDKError):
    """The SDK was used after ``close()``."""

    code = "SDK_CLOSED"


class StorageLockedError(SDKError):
    """The storage directory is already open in another SDK (this process or another)."""

    code = "STORAGE_LOCKED"

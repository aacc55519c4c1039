"""UDX: reliable, congestion-controlled streams and raw datagrams over one UDP socket.

Wire-compatible with udx-native/libudx. ``core`` is the sans-IO stream state machine (``mtu`` its
path MTU search, ``congestion`` its RTT/NewReno state), ``packet`` the header codec; ``stream``
(the byte stream, which declares the socket seam), ``socket`` and ``transport`` are the asyncio
adapter.
"""

from __future__ import annotations

from hyperpunch.udx.core import StreamCore
from hyperpunch.udx.errors import (
    StreamResetError,
    StreamStateError,
    StreamTimeoutError,
    UDXDecodeError,
    UDXError,
    UDXLocalError,
    UDXRemoteError,
)

__all__ = [
    "StreamCore",
    "StreamResetError",
    "StreamStateError",
    "StreamTimeoutError",
    "UDXDecodeError",
    "UDXError",
    "UDXLocalError",
    "UDXRemoteError",
]

"""hyperpunch.protomux: JS ``protomux`` 3.12.1, many channels over one secret stream.

Invariants: every frame is byte-identical to what JS protomux writes for the same calls (one
stream message = one frame ``uint channel · uint type · payload``; channel 0 carries BATCH, OPEN,
REJECT and CLOSE); channels pair by protocol name + id; any undecodable frame or protocol
violation from the peer destroys the whole mux, as in JS. :class:`ProtomuxCore` is the sans-IO
state machine, :class:`Protomux` its asyncio adapter over a secret stream.

Usage::

    from hyperpunch import encoding as c
    from hyperpunch.protomux import Protomux, MessageSpec

    async with Protomux(stream) as mux:
        channel = mux.create_channel(
            "my-protocol", handshake=c.string,
            messages=[MessageSpec(c.string, on_message=lambda value, ch: print(value))],
            on_open=lambda handshake, ch: print("remote handshake", handshake),
        )
        channel.open("hello")
        channel.messages[0].send("hi")
"""

from __future__ import annotations

from hyperpunch.protomux.channel import Channel, ChannelHost, ChannelOptions, Message, MessageSpec
from hyperpunch.protomux.core import MAX_BATCH, MAX_BUFFERED, Host, ProtomuxCore, to_key
from hyperpunch.protomux.errors import (
    BatchTooDeepError,
    ChannelClosedError,
    ChannelNotOpenError,
    ControlChannelOpenError,
    InvalidOpenError,
    InvalidRejectError,
    MuxDestroyedError,
    ProtomuxError,
    ProtomuxLocalError,
    ProtomuxRemoteError,
    UnbalancedUncorkError,
)
from hyperpunch.protomux.memory import CorePair, MemoryHost, MemoryStream, memory_stream_pair
from hyperpunch.protomux.mux import MessageQueue, MessageStream, Protomux, wait_destroyed, wait_opened

__all__ = [
    "MAX_BATCH",
    "MAX_BUFFERED",
    "BatchTooDeepError",
    "Channel",
    "ChannelClosedError",
    "ChannelHost",
    "ChannelNotOpenError",
    "ChannelOptions",
    "ControlChannelOpenError",
    "CorePair",
    "Host",
    "InvalidOpenError",
    "InvalidRejectError",
    "MemoryHost",
    "MemoryStream",
    "Message",
    "MessageQueue",
    "MessageSpec",
    "MessageStream",
    "MuxDestroyedError",
    "Protomux",
    "ProtomuxCore",
    "ProtomuxError",
    "ProtomuxLocalError",
    "ProtomuxRemoteError",
    "UnbalancedUncorkError",
    "memory_stream_pair",
    "to_key",
    "wait_destroyed",
    "wait_opened",
]

"""Errors raised by :mod:`hyperpunch.protomux`.

Invariants:

* Anything the peer got wrong is a :class:`ProtomuxRemoteError` (a
  :class:`hyperpunch.errors.RemoteError`) or an encoding :class:`~hyperpunch.encoding.DecodeError`
  (also a RemoteError): a truncated frame, an OPEN reusing a live channel slot, a REJECT for an
  id we never offered. As in JS protomux 3.12.1, every such fault destroys the whole mux (the
  stream); the error is kept as :attr:`ProtomuxCore.error`.
* Anything the local caller got wrong is a :class:`ProtomuxLocalError`.
* JS protomux throws plain ``Error``s without codes; the ``code`` strings here are descriptive
  and each class names the JS message it stands for.
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError

__all__ = [
    "BatchTooDeepError",
    "ChannelClosedError",
    "ChannelNotOpenError",
    "ControlChannelOpenError",
    "InvalidOpenError",
    "InvalidRejectError",
    "MuxDestroyedError",
    "ProtomuxError",
    "ProtomuxLocalError",
    "ProtomuxRemoteError",
    "UnbalancedUncorkError",
]


class ProtomuxError(HyperpunchError):
    """Base of every protomux error: ``except ProtomuxError`` catches both branches."""

    code = "PROTOMUX_ERROR"


class ProtomuxRemoteError(RemoteError, ProtomuxError):
    """The peer broke the protomux protocol; the mux is destroyed."""

    code = "PROTOMUX_REMOTE_ERROR"


class ProtomuxLocalError(LocalError, ProtomuxError):
    """The local caller misused the protomux API."""

    code = "PROTOMUX_LOCAL_ERROR"


class InvalidOpenError(ProtomuxRemoteError):
    """An OPEN named a remote id already in use or more than one past the table (JS: "Invalid open message")."""

    code = "INVALID_OPEN_MESSAGE"


class ControlChannelOpenError(ProtomuxRemoteError):
    """An OPEN with remote id 0 (the control channel); JS fails encoding its reject and destroys."""

    code = "INVALID_OPEN_MESSAGE"


class InvalidRejectError(ProtomuxRemoteError):
    """A REJECT for a local id that has no pending outgoing OPEN (JS: "Invalid reject message")."""

    code = "INVALID_REJECT_MESSAGE"


class BatchTooDeepError(ProtomuxRemoteError):
    """Batches nested inside batches past a sane depth (JS never sends nested batches)."""

    code = "BATCH_TOO_DEEP"


class MuxDestroyedError(ProtomuxLocalError):
    """The mux (its stream) is destroyed or closed."""

    code = "MUX_DESTROYED"


class ChannelNotOpenError(ProtomuxLocalError):
    """A message was sent, or a close asked for, on a channel that was never opened locally."""

    code = "CHANNEL_NOT_OPEN"


class ChannelClosedError(ProtomuxLocalError):
    """The channel is closed (open after close, or a second open)."""

    code = "CHANNEL_CLOSED"


class UnbalancedUncorkError(ProtomuxLocalError):
    """``uncork()`` without a matching ``cork()``."""

    code = "UNBALANCED_UNCORK"

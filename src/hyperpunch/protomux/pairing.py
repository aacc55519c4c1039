"""The pairing state a protomux core keeps per protocol key and per remote channel id (sans-IO).

Invariants:

* :class:`ProtocolInfo` is one pairing key (``protocol##hex(id)`` and its aliases): ``opened``
  counts local channels that sent OPEN and are not closed, ``outgoing`` holds local ids whose OPEN
  awaits the remote's, ``incoming`` remote ids whose OPEN awaits a local channel, ``pairing`` the
  ``pair()`` handlers still running for it.
* :class:`RemoteSlot` is one remote channel id: the remote's OPEN (``state``, its handshake bytes)
  until a local channel takes it, the messages buffered meanwhile (``pending``), then the paired
  ``session``.
* :class:`Pending` is a minimal promise: callbacks run once, in order, when it resolves.
* The channel type is a parameter (``C``): this module imports nothing of protomux.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Generic, TypeGuard, TypeVar

from hyperpunch.encoding import DecodeState

__all__ = ["Pending", "ProtocolInfo", "RemoteSlot", "is_awaitable"]

C = TypeVar("C")


def is_awaitable(value: object) -> TypeGuard[Awaitable[object]]:
    """A handler's result the host must run (a coroutine or any other awaitable)."""
    return value is not None and inspect.isawaitable(value)


class Pending:
    """A minimal promise: the core's stand-in for the JS promises it waits on."""

    __slots__ = ("callbacks", "done")

    def __init__(self) -> None:
        self.done = False
        self.callbacks: list[Callable[[], None]] = []

    def resolve(self) -> None:
        if self.done:
            return
        self.done = True
        callbacks, self.callbacks = self.callbacks, []
        for cb in callbacks:
            cb()

    def then(self, cb: Callable[[], None]) -> None:
        if self.done:
            cb()
        else:
            self.callbacks.append(cb)


class ProtocolInfo(Generic[C]):
    """Pairing state of one protocol key (JS ``Protomux._infos`` entry)."""

    __slots__ = (
        "aliases",
        "id",
        "incoming",
        "key",
        "last_channel",
        "opened",
        "outgoing",
        "pairing",
        "protocol",
    )

    def __init__(self, key: str, protocol: str, id: bytes | None) -> None:
        self.key = key
        self.protocol = protocol
        self.aliases: list[str] = []
        self.id = id
        self.pairing = 0
        self.opened = 0
        self.incoming: list[int] = []
        self.outgoing: list[int] = []
        self.last_channel: C | None = None


class RemoteSlot(Generic[C]):
    """One remote channel id (JS ``Protomux._remote`` entry)."""

    __slots__ = ("pending", "session", "state")

    def __init__(
        self,
        state: DecodeState | None,
        pending: list[tuple[int, DecodeState]] | None,
        session: C | None,
    ) -> None:
        self.state = state
        self.pending = pending
        self.session = session

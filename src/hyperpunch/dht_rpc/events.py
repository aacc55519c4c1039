"""What a :class:`~hyperpunch.dht_rpc.core.DHTCore` reports, as typed events.

Invariants: every event is a frozen, slotted dataclass; ``name`` is the JS dht-rpc event name and
``args()`` the arguments JS passes to its listeners (the asyncio node's ``on(name, fn)`` calls
``fn(*event.args())``). The core returns them in the order they happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hyperpunch.dht_rpc.routing_table import Node

__all__ = [
    "AddNode",
    "Close",
    "DHTEvent",
    "Ephemeral",
    "Listening",
    "NatUpdate",
    "NetworkUpdate",
    "Persistent",
    "Ready",
    "RemoveNode",
    "Resume",
    "Suspend",
    "Wakeup",
]


@dataclass(frozen=True, slots=True)
class Listening:
    """The sockets are bound and the node ticks."""

    name: ClassVar[str] = "listening"

    def args(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Ready:
    """The bootstrap walk is over (JS ``ready``)."""

    name: ClassVar[str] = "ready"

    def args(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Persistent:
    """The node became persistent: its id is now H(public host:port)."""

    name: ClassVar[str] = "persistent"

    def args(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Ephemeral:
    """An adaptive node went back to ephemeral (after a wake-up)."""

    name: ClassVar[str] = "ephemeral"

    def args(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class NatUpdate:
    """The NAT sampler's view of our public address changed."""

    host: str | None
    port: int
    name: ClassVar[str] = "nat-update"

    def args(self) -> tuple[object, ...]:
        return (self.host, self.port)


@dataclass(frozen=True, slots=True)
class AddNode:
    """A node entered the routing table."""

    node: Node
    name: ClassVar[str] = "add-node"

    def args(self) -> tuple[object, ...]:
        return (self.node,)


@dataclass(frozen=True, slots=True)
class RemoveNode:
    """A node left the routing table."""

    node: Node
    name: ClassVar[str] = "remove-node"

    def args(self) -> tuple[object, ...]:
        return (self.node,)


@dataclass(frozen=True, slots=True)
class Wakeup:
    """A gap between ticks looked like a wake-up from sleep (or :meth:`resume`)."""

    name: ClassVar[str] = "wakeup"

    def args(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Suspend:
    name: ClassVar[str] = "suspend"

    def args(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Resume:
    name: ClassVar[str] = "resume"

    def args(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Close:
    """The core was destroyed."""

    name: ClassVar[str] = "close"

    def args(self) -> tuple[object, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class NetworkUpdate:
    """``online``/``degraded`` changed (network health)."""

    name: ClassVar[str] = "network-update"

    def args(self) -> tuple[object, ...]:
        return ()


DHTEvent = (
    Listening
    | Ready
    | Persistent
    | Ephemeral
    | NatUpdate
    | AddNode
    | RemoveNode
    | Wakeup
    | Suspend
    | Resume
    | Close
    | NetworkUpdate
)

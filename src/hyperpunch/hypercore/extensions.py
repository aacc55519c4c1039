"""User extensions of a Hypercore session (JS ``core.registerExtension(name, handlers)``).

Invariants: an :class:`Extension` is identified by its ``name`` within a session; messages are
encoded with its encoding (by default compact-encoding ``buffer``, a length-prefixed frame, as JS
hypercore's ``registerExtension`` without an encoding) and handed to a peer object's
``extension(name, message_bytes)`` method (the replicator's peer implements it on the wire).
Incoming messages arrive through :meth:`Extension.receive`, which decodes them and calls
``on_message(message, peer)``; a message that does not decode is dropped (a remote error,
logged), never raised into the replicator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from hyperpunch.errors import RemoteError
from hyperpunch.hypercore.encodings import ValueEncoding

__all__ = ["Extension", "ExtensionPeer", "ExtensionSession"]

log = logging.getLogger(__name__)


class ExtensionPeer(Protocol):
    def extension(self, name: str, message: bytes) -> None: ...


class ExtensionSession(Protocol):
    """The session an extension belongs to (a :class:`..session.Hypercore`)."""

    @property
    def peers(self) -> Sequence[Any]: ...

    @property
    def extensions(self) -> dict[str, Extension]: ...


class Extension:
    def __init__(
        self,
        session: ExtensionSession,
        name: str,
        encoding: ValueEncoding,
        on_message: Callable[[Any, Any], object] | None,
    ) -> None:
        self.session = session
        self.name = name
        self.encoding = encoding
        self.on_message = on_message
        self.destroyed = False

    def encode(self, message: Any) -> bytes:
        return self.encoding.encode(message)

    def send(self, message: Any, peer: ExtensionPeer) -> None:
        """Send ``message`` to one peer."""
        if not self.destroyed:
            peer.extension(self.name, self.encode(message))

    def broadcast(self, message: Any) -> None:
        """Send ``message`` to every peer of the core."""
        if self.destroyed:
            return
        data = self.encode(message)
        for peer in self.session.peers:
            peer.extension(self.name, data)

    def destroy(self) -> None:
        self.destroyed = True
        if self.session.extensions.get(self.name) is self:
            del self.session.extensions[self.name]

    def receive(self, data: bytes, peer: Any) -> None:
        """A peer sent this extension ``data``: decode it and call ``on_message``."""
        if self.destroyed or self.on_message is None:
            return
        try:
            message = self.encoding.decode(data)
        except RemoteError:
            log.warning("dropping extension %r message that does not decode", self.name)
            return
        self.on_message(message, peer)

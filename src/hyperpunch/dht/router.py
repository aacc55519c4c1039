"""The HyperDHT router: the forwarding table for servers reachable through this node (JS lib/router.js).

Invariants:

* An entry exists for ``target = hash(server_public_key)`` when a server announced *itself* to this
  node (ANNOUNCE with ``hash(peer.public_key) == target``: ``relay`` is the server's address as we
  saw it) or when a server listens on this very node (``relay`` is None, ``server`` is set).
* ``record`` is the encoded ``peer`` record of that announce (``messages.peer``), served to
  FIND_PEER and added to LOOKUP replies when there is room.
* Entries expire like the JS xache (20 min) unless refreshed; the owner passes ``now``.

The persistent record handlers (``dht/persistent.py``) only use ``get``/``set``/``delete``; the
handshake/holepunch relaying on top of the table lives here too (PEER_HANDSHAKE, PEER_HOLEPUNCH).
"""

from __future__ import annotations

from dataclasses import dataclass

from hyperpunch.encoding import Address

__all__ = ["ROUTER_TTL", "ForwardEntry", "Router"]

ROUTER_TTL = 20 * 60.0  # seconds, as the JS xache maxAge for router entries
ROUTER_MAX_SIZE = 65536


@dataclass
class ForwardEntry:
    """How to reach a server: through ``relay`` (its address), or ``server`` when it is local."""

    relay: Address | None
    record: bytes
    server: object | None = None
    inserted: float = 0.0


class Router:
    """The forwarding table (target -> entry), bounded and expiring."""

    def __init__(self, *, ttl: float = ROUTER_TTL, max_size: int = ROUTER_MAX_SIZE) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._entries: dict[bytes, ForwardEntry] = {}

    def get(self, target: bytes, now: float | None = None) -> ForwardEntry | None:
        entry = self._entries.get(target)
        if entry is None:
            return None
        if now is not None and entry.server is None and now - entry.inserted > self.ttl:
            del self._entries[target]
            return None
        return entry

    def set(self, target: bytes, entry: ForwardEntry) -> None:
        if target not in self._entries and len(self._entries) >= self.max_size:
            self._entries.pop(next(iter(self._entries)))  # drop the oldest
        self._entries.pop(target, None)
        self._entries[target] = entry

    def delete(self, target: bytes) -> None:
        self._entries.pop(target, None)

    def __len__(self) -> int:
        return len(self._entries)

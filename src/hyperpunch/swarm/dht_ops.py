"""How the swarm reaches its DHT: the :class:`SwarmDHT` it needs and the :class:`DHTOps` adapter
that gives topic discovery its :class:`~hyperpunch.swarm.discovery.DiscoveryDHT` face.

Invariants:

* A :class:`~hyperpunch.dht.HyperDHT` runs the announce and lookup-and-unannounce queries of
  :mod:`hyperpunch.dht.queries`; any other :class:`SwarmDHT` (a test double) must bring its own
  ``announce_query`` / ``lookup_and_unannounce`` or the call is a ``TypeError`` naming the missing
  method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from hyperpunch.crypto import KeyPair
from hyperpunch.dht import HyperDHT, queries
from hyperpunch.secretstream import SecretStream
from hyperpunch.swarm.discovery import TopicQuery

__all__ = ["DHTOps", "SwarmDHT", "SwarmServer"]


class SwarmServer(Protocol):
    """The DHT server the swarm listens with (:class:`hyperpunch.dht.Server` has it)."""

    async def listen(self, key_pair: KeyPair | None = None) -> None: ...

    async def aclose(self) -> None: ...


class SwarmDHT(Protocol):
    """What the swarm uses of its DHT: :class:`hyperpunch.dht.HyperDHT`, or a test double that also
    has ``announce_query`` / ``lookup_and_unannounce`` (``on``/``off``/``online`` are optional)."""

    def create_server(
        self,
        *,
        firewall: Callable[[bytes, Any, Any], bool] | None = None,
        on_connection: Callable[[SecretStream], None] | None = None,
    ) -> SwarmServer: ...

    async def connect(
        self,
        remote_public_key: bytes,
        *,
        key_pair: KeyPair | None = None,
        relay_through: bytes | None = None,
        relay_addresses: list[Any] | None = None,
    ) -> SecretStream: ...

    def lookup(self, target: bytes) -> Any: ...

    async def unannounce(self, target: bytes, key_pair: KeyPair) -> None: ...

    async def aclose(self) -> None: ...


def _double(dht: SwarmDHT, name: str) -> Callable[..., TopicQuery]:
    """A test double's own query method (a HyperDHT runs hyperpunch.dht.queries instead)."""
    fn: Callable[..., TopicQuery] | None = getattr(dht, name, None)
    if fn is None:
        raise TypeError(f"{type(dht).__name__} is not a HyperDHT and has no {name}()")
    return fn


class DHTOps:
    """The :class:`~hyperpunch.swarm.discovery.DiscoveryDHT` face of a :class:`SwarmDHT`."""

    def __init__(self, dht: SwarmDHT) -> None:
        self.dht = dht

    def announce(self, topic: bytes, key_pair: KeyPair, relays: list[Any], *, clear: bool) -> TopicQuery:
        dht = self.dht
        if isinstance(dht, HyperDHT):
            return queries.announce_query(
                dht, topic, key_pair, relays, clear=clear, persistent=dht.persistent
            )
        query: TopicQuery = _double(dht, "announce_query")(topic, key_pair, relays, clear=clear)
        return query

    def lookup_and_unannounce(self, topic: bytes, key_pair: KeyPair) -> TopicQuery:
        dht = self.dht
        if isinstance(dht, HyperDHT):
            return queries.lookup_and_unannounce(dht, topic, key_pair)
        query: TopicQuery = _double(dht, "lookup_and_unannounce")(topic, key_pair)
        return query

    def lookup(self, topic: bytes) -> TopicQuery:
        query: TopicQuery = self.dht.lookup(topic)
        return query

    async def unannounce(self, topic: bytes, key_pair: KeyPair) -> None:
        await self.dht.unannounce(topic, key_pair)

"""Firewall detection and ephemeral -> persistent promotion (JS ``_updateNetworkState`` and
``_checkIfFirewalled`` in dht-rpc ``index.js``), as :class:`NetworkState`.

Invariants:

* :class:`NetworkState` owns what it decides with: the NAT sampler, the adaptive node's stable
  tick count and last seen host, the samples taken from id-less (bootstrap) nodes and the
  listeners on the server socket. It reaches the node core only through the :class:`Prober`
  Protocol declared here (the core satisfies it; this module does not import the core).
* A node is declared reachable (``firewalled = False``) only when PING_NAT probes to up to 5
  recent nodes (plus the bootstrap nodes when fewer) come back **on the server socket** (at least
  3 of 5, or 1 when fewer were asked), from the same public host the NAT sampler reports and with
  the public port equal to the local server port. Promotion to persistent additionally needs a
  consistent (host, port) and rebuilds the routing table around ``H(host:port)``.
* ``update``'s ``cb`` is called exactly once with whether the state was updated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from hyperpunch.dht_rpc.errors import DHTRPCError
from hyperpunch.dht_rpc.events import DHTEvent, NatUpdate, Persistent
from hyperpunch.dht_rpc.messages import peer_id
from hyperpunch.dht_rpc.nat_sampler import NatSampler
from hyperpunch.dht_rpc.requests import OutgoingRequest, Peer, Response
from hyperpunch.dht_rpc.routing_table import Node

__all__ = ["MORE_STABLE_TICKS", "STABLE_TICKS", "NetworkState", "Prober"]

STABLE_TICKS = 240
MORE_STABLE_TICKS = 3 * STABLE_TICKS  # recheck the network after ~1 h

ServerListener = Callable[[str, int], None]


class Prober(Protocol):
    """What :class:`NetworkState` needs of the node core."""

    @property
    def destroyed(self) -> bool: ...

    @property
    def ephemeral(self) -> bool: ...

    @property
    def firewalled(self) -> bool: ...

    @property
    def server_port(self) -> int: ...

    @property
    def bootstrap_nodes(self) -> list[tuple[str, int]]: ...

    @property
    def table_id(self) -> bytes: ...

    def recent_nodes(self) -> Iterable[Node]:
        """The routing table's nodes, most recently seen first."""
        ...

    def ping_nat(
        self,
        to: Peer,
        on_response: Callable[[Response, OutgoingRequest], None],
        on_error: Callable[[DHTRPCError, OutgoingRequest], None],
    ) -> OutgoingRequest | None:
        """PING_NAT ``to`` asking for a reply to our server port (``None``: not sent)."""
        ...

    def set_reachable(self) -> None:
        """Clear ``firewalled``."""
        ...

    def set_persistent(self) -> None:
        """Clear ``ephemeral``."""
        ...

    def rebuild_table(self, new_id: bytes) -> None:
        """Re-create the routing table around ``new_id``, keeping the nodes that fit."""
        ...

    def emit(self, event: DHTEvent) -> None: ...


def _noop(_updated: bool) -> None:
    return None


class NetworkState:
    """The NAT view and the adaptive persistence of one node. See the module docstring."""

    def __init__(self, prober: Prober, *, adaptive: bool) -> None:
        self.prober = prober
        self.nat = NatSampler()
        self.stable_ticks = STABLE_TICKS if adaptive else 0
        self.last_host: str | None = None
        self.none_persistent_samples: list[tuple[str, int]] = []
        self.server_listeners: list[ServerListener] = []

    # -- samples -------------------------------------------------------------------------------

    def add_sample(self, host: str, port: int) -> None:
        """A node told us the address it saw us at."""
        nat = self.nat
        prev = (nat.host, nat.port)
        nat.add(host, port)
        if prev != (nat.host, nat.port):
            self.prober.emit(NatUpdate(nat.host, nat.port))

    def sample_bootstrap(self, from_: Peer, to: tuple[str, int]) -> None:
        """An id-less node (a bootstrapper) replied: sample it once, at most one per bootstrap node."""
        samples = self.none_persistent_samples
        if len(samples) >= max(1, len(self.prober.bootstrap_nodes)):
            return
        key = (from_.host, from_.port)
        if key in samples:
            return
        samples.append(key)
        self.add_sample(to[0], to[1])

    def on_server_datagram(self, host: str, port: int) -> None:
        for fn in list(self.server_listeners):
            fn(host, port)

    # -- ticks ---------------------------------------------------------------------------------

    def on_wakeup(self) -> None:
        self.stable_ticks = MORE_STABLE_TICKS
        self.last_host = None

    def tick(self) -> None:
        """One tick of an adaptive, still ephemeral node: after enough stable ticks, try to promote."""
        self.stable_ticks -= 1
        if self.stable_ticks <= 0:
            if self.last_host == self.nat.host:
                self.stable_ticks = MORE_STABLE_TICKS
            else:
                self.update(False, _noop)

    # -- promotion -----------------------------------------------------------------------------

    def update(self, only_firewall: bool, cb: Callable[[bool], None]) -> None:
        """JS ``_updateNetworkState``: probe the firewall if needed, then maybe become persistent."""
        prober = self.prober
        if not prober.ephemeral or (only_firewall and not prober.firewalled):
            cb(False)
            return
        host, port = self.nat.host, self.nat.port
        if not only_firewall:
            self.stable_ticks = MORE_STABLE_TICKS
            self.last_host = host
        if host is None or port == 0:
            cb(False)
            return
        sampler = NatSampler() if prober.firewalled else self.nat

        def proceed(firewalled: bool) -> None:
            if prober.destroyed or firewalled:
                cb(False)
                return
            prober.set_reachable()
            if not prober.ephemeral or host != self.nat.host or port != self.nat.port:
                cb(False)
                return
            if sampler.host != host or sampler.port == 0:
                cb(False)
                return
            new_id = peer_id(sampler.host, sampler.port)
            if not only_firewall:
                prober.set_persistent()
            if sampler is not self.nat:
                prev = (self.nat.host, self.nat.port)
                self.none_persistent_samples = []
                self.nat = sampler
                if prev != (sampler.host, sampler.port):
                    prober.emit(NatUpdate(sampler.host, sampler.port))
            if prober.table_id != new_id:
                prober.rebuild_table(new_id)
            if not prober.ephemeral:
                prober.emit(Persistent())
            cb(True)

        if prober.firewalled:
            self.check_if_firewalled(sampler, proceed)
        else:
            proceed(False)

    def check_if_firewalled(self, sampler: NatSampler, cb: Callable[[bool], None]) -> None:
        """JS ``_checkIfFirewalled``: PING_NAT recent nodes; ``cb(True)`` if we look firewalled."""
        prober = self.prober
        nodes: list[Peer] = []
        for n in prober.recent_nodes():
            if len(nodes) >= 5:
                break
            nodes.append(Peer(n.host, n.port, n.id))
        if len(nodes) < 5:
            nodes.extend(Peer(h, p, peer_id(h, p)) for h, p in prober.bootstrap_nodes)
        if not nodes:
            cb(True)
            return
        hosts: set[str] = set()

        def onmessage(host: str, _port: int) -> None:
            hosts.add(host)

        self.server_listeners.append(onmessage)
        replies: list[Response] = []
        missing = len(nodes)

        def finish() -> None:
            if onmessage in self.server_listeners:
                self.server_listeners.remove(onmessage)
            count = 0
            for res in replies:
                if res.from_.host in hosts:
                    count += 1
                    sampler.add(res.to.host, res.to.port)
            if (
                count < (3 if len(nodes) >= 5 else 1)
                or sampler.host is None
                or self.nat.host != sampler.host
                or sampler.port == 0
                or sampler.port != prober.server_port
            ):
                cb(True)
            else:
                cb(False)

        def onsuccess(res: Response, _req: OutgoingRequest) -> None:
            nonlocal missing
            replies.append(res)
            missing -= 1
            if missing == 0:
                finish()

        def onerror(_e: DHTRPCError, _req: OutgoingRequest) -> None:
            nonlocal missing
            missing -= 1
            if missing == 0:
                finish()

        for node in nodes:
            if prober.ping_nat(node, onsuccess, onerror) is None:
                finish()
                return

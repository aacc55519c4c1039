"""NAT analysis from address samples (JS ``hyperdht/lib/nat.js``), sans-IO.

Invariants:

* :class:`NatAnalysis` is pure: ``add(addr, from_)`` records how the node ``from_`` saw us (``addr``);
  each node counts once. The firewall kind follows the JS decision table exactly: ``OPEN`` when the
  DHT node is not firewalled, else nothing before 3 samples, then ``CONSISTENT`` (one address seen
  3+ times, or two hosts each seen twice), ``RANDOM`` (only singletons, or one host with conflicting
  ports), or still ``UNKNOWN``.
* ``frozen`` stops further updates (a result already told to the peer must not change under it).
* ``analyzing`` is "done" once the analysis is conclusive or ``min_samples`` have arrived; the
  asyncio side (:class:`~hyperpunch.dht.holepuncher.Holepuncher`) awaits :attr:`done` as an event.
"""

from __future__ import annotations

from dataclasses import dataclass

from hyperpunch.dht.constants import Firewall
from hyperpunch.encoding import Address

__all__ = ["NatAnalysis", "Sample"]


@dataclass(slots=True)
class Sample:
    host: str
    port: int
    hits: int = 1


def _add_sample(samples: list[Sample], host: str, port: int) -> None:
    for i, s in enumerate(samples):
        if s.port != port or s.host != host:
            continue
        s.hits += 1
        while i > 0:  # keep the list sorted by hits, most first
            prev = samples[i - 1]
            if prev.hits >= s.hits:
                return
            samples[i - 1], samples[i] = s, prev
            i -= 1
        return
    samples.append(Sample(host, port))


class NatAnalysis:
    """What our NAT does to this socket's mapping, from the addresses DHT nodes report."""

    __slots__ = (
        "_samples_full",
        "_samples_host",
        "_visited",
        "addresses",
        "done",
        "firewall",
        "firewalled",
        "frozen",
        "min_samples",
        "sampled",
    )

    def __init__(self, firewalled: bool, *, min_samples: int = 4) -> None:
        self.firewalled = firewalled
        self.min_samples = min_samples
        self._samples_host: list[Sample] = []
        self._samples_full: list[Sample] = []
        self._visited: dict[str, int] = {}  # "host:port" -> 1 (pinged) / 2 (sampled)
        self.sampled = 0
        self.firewall = Firewall.UNKNOWN if firewalled else Firewall.OPEN
        self.addresses: list[Address] | None = None
        self.frozen = False
        self.done = False

    def visit(self, host: str, port: int) -> bool:
        """Mark a node as pinged; False if it was already used for a sample."""
        ref = f"{host}:{port}"
        if ref in self._visited:
            return False
        self._visited[ref] = 1
        return True

    def add(self, addr: Address | tuple[str, int], from_: Address | tuple[str, int]) -> None:
        ref = f"{from_[0]}:{from_[1]}"
        if self._visited.get(ref) == 2:
            return
        self._visited[ref] = 2
        _add_sample(self._samples_host, addr[0], 0)
        _add_sample(self._samples_full, addr[0], addr[1])
        self.sampled += 1
        if (self.sampled >= 3 or not self.firewalled) and not self.frozen:
            self.update()
        if self.firewall in (Firewall.CONSISTENT, Firewall.OPEN) or self.sampled >= self.min_samples:
            self.done = True

    def finish(self) -> None:
        """No more samples will come (JS resolves ``analyzing`` after the last skipped ping)."""
        self.done = True

    def destroy(self) -> None:
        self.min_samples = 0
        self.done = True

    def freeze(self) -> None:
        self.frozen = True

    def unfreeze(self) -> None:
        self.frozen = False
        self._update_firewall()
        self._update_addresses()

    def update(self) -> None:
        if self.firewalled and self.firewall == Firewall.OPEN:
            self.firewall = Firewall.UNKNOWN
        self._update_firewall()
        self._update_addresses()

    def _update_firewall(self) -> None:
        if not self.firewalled:
            self.firewall = Firewall.OPEN
            return
        if self.sampled < 3:
            return
        top = self._samples_full[0].hits
        if top >= 3:
            self.firewall = Firewall.CONSISTENT
            return
        if top == 1:
            self.firewall = Firewall.RANDOM
            return
        # top == 2
        if len(self._samples_host) == 1 and self.sampled > 3:
            self.firewall = Firewall.RANDOM
            return
        if len(self._samples_host) > 1 and self._samples_full[1].hits > 1:
            self.firewall = Firewall.CONSISTENT
            return
        if self.sampled > 4:
            self.firewall = Firewall.RANDOM

    def _update_addresses(self) -> None:
        fw = self.firewall
        if fw == Firewall.UNKNOWN:
            self.addresses = None
        elif fw == Firewall.RANDOM:
            self.addresses = [Address(self._samples_host[0].host, self._samples_host[0].port)]
        elif fw == Firewall.CONSISTENT:
            out: list[Address] = []
            for s in self._samples_full:
                if s.hits >= 2 or len(out) < 2:
                    out.append(Address(s.host, s.port))
            self.addresses = out
        # OPEN: JS leaves the addresses as they were (null until sampled as consistent)

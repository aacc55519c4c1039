"""Path MTU probing for one UDX stream (libudx's DPLPMTUD-style search), sans-IO.

Invariants:
* The MTU starts at ``MTU_BASE`` for a (new) address family and only grows, by ``MTU_STEP`` up to
  ``mtu_max``, when a padded probe packet is acknowledged.
* The search starts once data was first acknowledged; ``MTU_MAX_PROBES`` lost probes in a row end
  it at the current MTU. At most one probe is wanted at a time.
* ``max_payload`` is always ``mtu`` minus the IPv4/IPv6, UDP and UDX header overhead.
"""

from __future__ import annotations

from hyperpunch.udx.packet import IPV4_OVERHEAD, IPV6_OVERHEAD, MTU_BASE, MTU_MAX, MTU_MAX_PROBES, MTU_STEP

__all__ = ["MtuSearch"]


class MtuSearch:
    """The MTU of one stream's path and the probe search that grows it."""

    __slots__ = (
        "done",
        "fails",
        "ipv6",
        "max_payload",
        "mtu",
        "mtu_max",
        "probe_size",
        "searching",
        "wanted",
    )

    def __init__(self, mtu_max: int = MTU_MAX) -> None:
        self.mtu_max = mtu_max
        self.reset(False)

    def reset(self, ipv6: bool) -> None:
        """A new path (connect or change of remote): back to the base MTU, no search yet."""
        self.ipv6 = ipv6
        self.mtu = MTU_BASE
        self.searching = False
        self.done = False
        self.wanted = False  # the next full-sized data packet should be a padded probe
        self.probe_size = MTU_BASE + MTU_STEP
        self.fails = 0
        self.max_payload = MTU_BASE - (IPV6_OVERHEAD if ipv6 else IPV4_OVERHEAD)

    def start(self) -> None:
        """Data was acknowledged: start searching unless already searching or done."""
        if not self.searching and not self.done:
            self.searching = True
            self.wanted = True

    def take_probe(self) -> int:
        """The padding that turns the next full-sized packet into a probe (0: no probe)."""
        pad = self.probe_size - self.mtu
        if 0 < pad <= 255:
            self.wanted = False
            return pad
        return 0

    def on_probe_acked(self) -> None:
        self.fails = 0
        size = self.probe_size
        if size <= self.mtu:
            return
        self.mtu = size
        self.max_payload = size - (IPV6_OVERHEAD if self.ipv6 else IPV4_OVERHEAD)
        if size >= self.mtu_max:
            self.done = True
            self.wanted = False
        else:
            self.probe_size = min(size + MTU_STEP, self.mtu_max)
            self.wanted = True

    def on_probe_lost(self) -> None:
        if self.done:
            return
        self.fails += 1
        if self.fails >= MTU_MAX_PROBES:
            self.done = True
            self.wanted = False
        else:
            self.wanted = True

"""Classify the path a connection took from the address the peer observed (fixed address plan).

Invariant: classification depends only on the lab's address plan, never on timing or on what the
software under test reports about itself: a LAN address means LAN, a NAT router's WAN address means
hole-punched through that router, a relay host's address means relayed, another public host's
address means a direct connection to a public host.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from netlab.topology import AddressPlan


class PathKind(enum.Enum):
    LAN = "lan"  # a private LAN address: both peers behind the same NAT, talking directly
    HOLEPUNCHED = "holepunched"  # a NAT router's WAN address: traffic crossed that NAT
    RELAYED = "relayed"  # a relay host's address
    PUBLIC = "public"  # a bootstrap/public host talking from its own address
    UNKNOWN = "unknown"  # not an address of this lab


@dataclass(frozen=True)
class PathInfo:
    kind: PathKind
    name: str | None  # the LAN host, the NAT router, the relay or public host; None when unknown
    addr: str


Observed = str | Sequence[str | int]


def parse_addr(observed: Observed) -> str:
    """Accept "ip", "ip:port", a socket address tuple or a JSON ``[ip, port]``; return the IPv4 address."""
    if not isinstance(observed, str):
        return str(observed[0])
    host, sep, port = observed.rpartition(":")
    if sep and port.isdigit() and "." in host:
        return host
    return observed


def classify(plan: AddressPlan, observed: Observed) -> PathInfo:
    addr = parse_addr(observed)
    for router in plan.routers.values():
        if addr == router.wan_addr:
            return PathInfo(PathKind.HOLEPUNCHED, router.name, addr)
    for host in plan.hosts.values():
        if addr != host.addr:
            continue
        if host.role == "nat-host":
            return PathInfo(PathKind.LAN, host.name, addr)
        if host.role == "relay":
            return PathInfo(PathKind.RELAYED, host.name, addr)
        return PathInfo(PathKind.PUBLIC, host.name, addr)
    return PathInfo(PathKind.UNKNOWN, None, addr)

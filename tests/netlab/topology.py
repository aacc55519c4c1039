"""Declarative topology of a NAT lab and its fixed address plan.

Invariants: every name is short (interface names derived from it stay within the kernel's 15 bytes),
unique across the lab, and maps to exactly one network namespace; addresses are a pure function of
the declaration order, so a test can classify any observed address without asking the lab.

Address plan:
- the "internet" is 10.99.0.0/24 on a bridge: bootstrap hosts ``boot1..`` at .11.., relays
  ``relay1..`` at .31.., public hosts ``pub1..`` at .51.., NAT router WAN sides at .101..;
- NAT router number N (1-based, declaration order) owns LAN 192.168.N.0/24, its LAN side is .1 and
  its hosts ``<nat name>1..`` are .11...
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

NatKind = Literal["cone", "symmetric"]
NAT_KINDS: tuple[NatKind, ...] = ("cone", "symmetric")

INTERNET_PREFIX = "10.99.0"
INTERNET_CIDR = f"{INTERNET_PREFIX}.0/24"
_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,7}$")


@dataclass(frozen=True)
class NatSpec:
    """One NAT router (``kind``) with ``hosts`` hosts on its own LAN (named ``<name>1``, ``<name>2``...)."""

    name: str
    kind: NatKind = "cone"
    hosts: int = 1


@dataclass(frozen=True)
class Topology:
    """Public hosts on the internet bridge plus NAT routers; see the module docstring for addresses."""

    bootstrap: int = 3
    relays: int = 1
    public: int = 1
    nats: tuple[NatSpec, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class HostPlan:
    """A host namespace: ``role`` is "bootstrap", "relay", "public" or "nat-host"."""

    name: str
    role: str
    addr: str
    nat: str | None = None  # the NAT router's name for hosts behind one
    gateway: str | None = None


@dataclass(frozen=True)
class RouterPlan:
    name: str
    kind: NatKind
    index: int  # 1-based; the LAN is 192.168.<index>.0/24
    wan_addr: str
    lan_addr: str
    lan_cidr: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class AddressPlan:
    hosts: dict[str, HostPlan]
    routers: dict[str, RouterPlan]


def plan(topology: Topology) -> AddressPlan:
    """Validate ``topology`` and compute every host's and router's addresses."""
    if not 0 <= topology.bootstrap <= 19 or not 0 <= topology.relays <= 19 or not 0 <= topology.public <= 49:
        raise ValueError("bootstrap/relays must be 0..19 and public 0..49")
    if len(topology.nats) > 99:
        raise ValueError("at most 99 NAT routers")
    hosts: dict[str, HostPlan] = {}
    routers: dict[str, RouterPlan] = {}

    def add_host(host: HostPlan) -> None:
        if host.name in hosts or host.name in routers:
            raise ValueError(f"duplicate lab name {host.name!r}")
        hosts[host.name] = host

    for i in range(1, topology.bootstrap + 1):
        add_host(HostPlan(f"boot{i}", "bootstrap", f"{INTERNET_PREFIX}.{10 + i}"))
    for i in range(1, topology.relays + 1):
        add_host(HostPlan(f"relay{i}", "relay", f"{INTERNET_PREFIX}.{30 + i}"))
    for i in range(1, topology.public + 1):
        add_host(HostPlan(f"pub{i}", "public", f"{INTERNET_PREFIX}.{50 + i}"))
    for index, nat in enumerate(topology.nats, start=1):
        if not _NAME_RE.match(nat.name) or nat.name.startswith(("boot", "relay", "pub", "inet")):
            raise ValueError(f"bad NAT name {nat.name!r}: 1-8 chars [a-z0-9], not a reserved host prefix")
        if nat.kind not in NAT_KINDS:
            raise ValueError(f"bad NAT kind {nat.kind!r}: one of {NAT_KINDS}")
        if not 1 <= nat.hosts <= 9:
            raise ValueError("a NAT has 1..9 hosts behind it")
        if nat.name in routers or nat.name in hosts:
            raise ValueError(f"duplicate lab name {nat.name!r}")
        lan = f"192.168.{index}"
        names = tuple(f"{nat.name}{j}" for j in range(1, nat.hosts + 1))
        routers[nat.name] = RouterPlan(
            name=nat.name,
            kind=nat.kind,
            index=index,
            wan_addr=f"{INTERNET_PREFIX}.{100 + index}",
            lan_addr=f"{lan}.1",
            lan_cidr=f"{lan}.0/24",
            hosts=names,
        )
        for j, host_name in enumerate(names, start=1):
            add_host(HostPlan(host_name, "nat-host", f"{lan}.{10 + j}", nat=nat.name, gateway=f"{lan}.1"))
    return AddressPlan(hosts=hosts, routers=routers)

"""A network lab for tests: network namespaces with real iptables NAT (root only, never skipped).

Invariants: a lab lives only inside its own namespaces (``<prefix>-*``), is always torn down by its
context manager, and fails loudly (``NetLabUnavailable``) when the machine cannot run it.

Usage::

    from netlab import NatSpec, NetLab, Topology

    topo = Topology(nats=(NatSpec("a", "cone"), NatSpec("b", "symmetric", hosts=2)))
    with NetLab(topo) as lab:                   # or: async with NetLab(topo) as lab
        proc = lab.popen("a1", ["python3", "-c", "..."])   # or: await lab.spawn(...)
        lab.addr("b2"), lab.wan_addr("a"), lab.classify(("10.99.0.101", 4000))
"""

from netlab.lab import (
    APT_PACKAGES,
    NetLab,
    NetLabError,
    NetLabUnavailable,
    check_prerequisites,
    list_namespaces,
    remove_prefix,
    sweep_stale,
)
from netlab.paths import PathInfo, PathKind, classify
from netlab.topology import INTERNET_CIDR, NatKind, NatSpec, Topology
from netlab.udptool import udptool_argv

__all__ = [
    "APT_PACKAGES",
    "INTERNET_CIDR",
    "NatKind",
    "NatSpec",
    "NetLab",
    "NetLabError",
    "NetLabUnavailable",
    "PathInfo",
    "PathKind",
    "Topology",
    "check_prerequisites",
    "classify",
    "list_namespaces",
    "remove_prefix",
    "sweep_stale",
    "udptool_argv",
]

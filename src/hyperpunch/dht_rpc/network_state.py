"""Firewall detection and ephemeral -> persistent promotion (JS ``_updateNetworkState`` and
``_checkIfFirewalled`` in dht-rpc ``index.js``), as callback-driven steps over a :class:`DHTCore`.

Invariants: a node is declared reachable (``firewalled = False``) only when PING_NAT probes to up
to 5 recent nodes (plus the bootstrap nodes when fewer) come back **on the server socket** (at
least 3 of 5, or 1 when fewer were asked), from the same public host the NAT sampler reports and
with the public port equal to the local server port. Promotion to persistent additionally needs a
consistent (host, port) and rebuilds the routing table around ``H(host:port)``. ``cb`` is called
exactly once with whether the state was updated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hyperpunch.dht_rpc.errors import DHTRPCError
from hyperpunch.dht_rpc.io import OutgoingRequest, Peer, Response
from hyperpunch.dht_rpc.messages import PING_NAT, peer_id
from hyperpunch.dht_rpc.nat_sampler import NatSampler
from hyperpunch.dht_rpc.routing_table import RoutingTable

if TYPE_CHECKING:
    from hyperpunch.dht_rpc.core import DHTCore

__all__ = ["check_if_firewalled", "update_network_state"]

MORE_STABLE_TICKS = 3 * 240  # as in core.py: recheck the network after ~1 h


def update_network_state(core: DHTCore, only_firewall: bool, cb: Callable[[bool], None]) -> None:
    if not core.ephemeral or (only_firewall and not core.firewalled):
        cb(False)
        return
    host, port = core._nat.host, core._nat.port
    if not only_firewall:
        core._stable_ticks = MORE_STABLE_TICKS
        core._last_host = host
    if host is None or port == 0:
        cb(False)
        return
    sampler = NatSampler() if core.firewalled else core._nat

    def proceed(firewalled: bool) -> None:
        if core.destroyed or firewalled:
            cb(False)
            return
        core.firewalled = core.io.firewalled = False
        if not core.ephemeral or host != core._nat.host or port != core._nat.port:
            cb(False)
            return
        if sampler.host != host or sampler.port == 0:
            cb(False)
            return
        new_id = peer_id(sampler.host, sampler.port)
        if not only_firewall:
            core.ephemeral = core.io.ephemeral = False
        if sampler is not core._nat:
            prev = (core._nat.host, core._nat.port)
            core._none_persistent_samples = []
            core._nat = sampler
            if prev != (sampler.host, sampler.port):
                core.on_event("nat-update", sampler.host, sampler.port)
        if core.table.id != new_id:
            old_nodes = core.table.to_array()
            core.table = core.io.table = RoutingTable(new_id, rng=core.rng)
            core.table.on_full = core._on_full_row
            for node in old_nodes:
                if node.id == new_id:
                    continue
                if not core.table.add(node):
                    core.nodes.remove(node)
            if core.bootstrapped:
                core.refresh()
        if not core.ephemeral:
            core.on_event("persistent")
        cb(True)

    if core.firewalled:
        check_if_firewalled(core, sampler, proceed)
    else:
        proceed(False)


def check_if_firewalled(core: DHTCore, sampler: NatSampler, cb: Callable[[bool], None]) -> None:
    nodes: list[Peer] = []
    for n in core.nodes.latest_first():
        if len(nodes) >= 5:
            break
        nodes.append(Peer(n.host, n.port, n.id))
    if len(nodes) < 5:
        nodes.extend(Peer(h, p, peer_id(h, p)) for h, p in core.bootstrap_nodes)
    if not nodes:
        cb(True)
        return
    hosts: set[str] = set()

    def onmessage(host: str, _port: int) -> None:
        hosts.add(host)

    core._server_listeners.append(onmessage)
    value = core.server_port.to_bytes(2, "little")
    replies: list[Response] = []
    missing = len(nodes)

    def finish() -> None:
        if onmessage in core._server_listeners:
            core._server_listeners.remove(onmessage)
        count = 0
        for res in replies:
            if res.from_.host in hosts:
                count += 1
                sampler.add(res.to.host, res.to.port)
        if (
            count < (3 if len(nodes) >= 5 else 1)
            or sampler.host is None
            or core._nat.host != sampler.host
            or sampler.port == 0
            or sampler.port != core.server_port
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
        if core.make_request(node, False, True, PING_NAT, None, value, None, onsuccess, onerror) is None:
            finish()
            return

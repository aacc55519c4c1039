"""hyperpunch.swarm: Hyperswarm 4.17.2 for Python (JS ``hyperswarm``).

Invariants: the policy parts are sans-IO and driven by ``now`` (:mod:`.peer_info`,
:mod:`.retry_timer`, :mod:`.queue`, :mod:`.connection_set`, the :class:`RefreshSchedule` of
:mod:`.discovery`); :class:`Hyperswarm` composes them with a HyperDHT and owns every task it
starts. The duplicate-connection rule is JS's, so mixed JS/Python swarms keep one connection per
pair.
"""

from __future__ import annotations

from hyperpunch.swarm.connection_set import ConnectionSet, keep_new_connection
from hyperpunch.swarm.discovery import PeerDiscovery, PeerDiscoverySession, RefreshSchedule
from hyperpunch.swarm.errors import (
    DuplicateConnectionError,
    FirewalledPeerError,
    MissingTopicError,
    SwarmDestroyedError,
    SwarmLocalError,
    SwarmRemoteError,
)
from hyperpunch.swarm.peer_info import PeerInfo
from hyperpunch.swarm.queue import ShuffledPriorityQueue
from hyperpunch.swarm.retry_timer import BulkTimer, RetryTimer
from hyperpunch.swarm.swarm import MAX_PARALLEL, MAX_PEERS, Hyperswarm

__all__ = [
    "MAX_PARALLEL",
    "MAX_PEERS",
    "BulkTimer",
    "ConnectionSet",
    "DuplicateConnectionError",
    "FirewalledPeerError",
    "Hyperswarm",
    "MissingTopicError",
    "PeerDiscovery",
    "PeerDiscoverySession",
    "PeerInfo",
    "RefreshSchedule",
    "RetryTimer",
    "ShuffledPriorityQueue",
    "SwarmDestroyedError",
    "SwarmLocalError",
    "SwarmRemoteError",
    "keep_new_connection",
]

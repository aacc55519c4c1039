"""HyperDHT 6.34 constants (JS ``hyperdht/lib/constants.js`` plus the module-level numbers of
``router.js``, ``holepuncher.js``, ``server.js``, ``connect.js``, ``persistent.js`` and ``index.js``).

Invariants: every value equals the JS one (the namespaces and commands are checked against the
pinned reference in tests/dht); durations are in **milliseconds** as in JS, so a sans-IO core can
add them to a ``now`` measured in ms. Nothing here does I/O.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from hyperpunch.crypto import namespace
from hyperpunch.dht.errors import DHTLocalError
from hyperpunch.encoding import Address

__all__ = [
    "BIRTHDAY_SOCKETS",
    "BOOTSTRAP_NODES",
    "CONNECTION_KEEP_ALIVE",
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_CACHE_MAX_AGE",
    "DEFAULT_CACHE_MAX_SIZE",
    "DEFAULT_PORT",
    "DEFAULT_TTL",
    "HANDSHAKE_CLEAR_WAIT",
    "HANDSHAKE_INITIAL_TIMEOUT",
    "HOLEPUNCH",
    "HOLEPUNCH_TTL",
    "LINGER_TIME",
    "MAX_BUMP_DRIFT",
    "MAX_RELAY_ADDRESSES",
    "MAX_REOPENS",
    "MIN_ACTIVE_RELAYS",
    "MUTABLE_MAX_AGE",
    "NS_ANNOUNCE",
    "NS_MUTABLE_PUT",
    "NS_PEER_HANDSHAKE",
    "NS_PEER_HOLEPUNCH",
    "NS_PLUGIN",
    "NS_UNANNOUNCE",
    "PASSIVE_CONNECT_TIMEOUT",
    "RANDOM_PUNCHES_LIMIT",
    "RANDOM_PUNCH_INTERVAL",
    "RANDOM_PUNCH_TRIES",
    "RELAY_KEEP_ALIVE",
    "RELAY_TIMEOUT",
    "Command",
    "Error",
    "Firewall",
    "HandshakeMode",
    "HolepunchMode",
    "parse_bootstrap_node",
]


class Command(IntEnum):
    """HyperDHT commands carried in dht-rpc requests (``COMMANDS``)."""

    PEER_HANDSHAKE = 0
    PEER_HOLEPUNCH = 1
    FIND_PEER = 2
    LOOKUP = 3
    ANNOUNCE = 4
    UNANNOUNCE = 5
    MUTABLE_PUT = 6
    MUTABLE_GET = 7
    IMMUTABLE_PUT = 8
    IMMUTABLE_GET = 9
    PLUGIN = 10


class Firewall(IntEnum):
    """NAT / firewall kinds (``FIREWALL``), ordered: ``>= RANDOM`` means randomised ports."""

    UNKNOWN = 0
    OPEN = 1
    CONSISTENT = 2
    RANDOM = 3


class Error(IntEnum):
    """Error codes of the noise / holepunch payloads and of storage replies (``ERROR``)."""

    NONE = 0
    ABORTED = 1
    VERSION_MISMATCH = 2
    TRY_LATER = 3
    SEQ_REUSED = 16
    SEQ_TOO_LOW = 17


class HandshakeMode(IntEnum):
    """``mode`` of a PEER_HANDSHAKE message (``router.js`` FROM_CLIENT ... REPLY)."""

    FROM_CLIENT = 0
    FROM_SERVER = 1
    FROM_RELAY = 2
    FROM_SECOND_RELAY = 3
    REPLY = 4


# PEER_HOLEPUNCH uses the same mode numbers as PEER_HANDSHAKE in router.js.
HolepunchMode = HandshakeMode

# namespace('hyperswarm/dht', [ANNOUNCE, UNANNOUNCE, MUTABLE_PUT, PEER_HANDSHAKE, PEER_HOLEPUNCH, PLUGIN])
(
    NS_ANNOUNCE,
    NS_UNANNOUNCE,
    NS_MUTABLE_PUT,
    NS_PEER_HANDSHAKE,
    NS_PEER_HOLEPUNCH,
    NS_PLUGIN,
) = namespace(
    "hyperswarm/dht",
    [
        Command.ANNOUNCE,
        Command.UNANNOUNCE,
        Command.MUTABLE_PUT,
        Command.PEER_HANDSHAKE,
        Command.PEER_HOLEPUNCH,
        Command.PLUGIN,
    ],
)

BOOTSTRAP_NODES: Final[tuple[str, ...]] = (
    "88.99.3.86@node1.hyperdht.org:49737",
    "142.93.90.113@node2.hyperdht.org:49737",
    "138.68.147.8@node3.hyperdht.org:49737",
)


def parse_bootstrap_node(spec: str) -> tuple[Address, str | None]:
    """Split ``"ip@hostname:port"`` (or ``"host:port"``) into the address to use and the hostname.

    The IP before ``@`` is the address to contact (the hostname is kept for re-resolution), as
    dht-rpc does for its bootstrap strings.
    """
    hostpart, sep, port_s = spec.rpartition(":")
    if not sep or not port_s.isdigit():
        raise DHTLocalError(f"bootstrap node needs host:port, got {spec!r}", code="INVALID_BOOTSTRAP")
    ip, at, name = hostpart.partition("@")
    return Address(ip, int(port_s)), (name if at else None)


DEFAULT_BOOTSTRAP: Final[tuple[Address, ...]] = tuple(parse_bootstrap_node(s)[0] for s in BOOTSTRAP_NODES)
DEFAULT_PORT: Final = 49737  # index.js: opts.port || 49737

# --- index.js -----------------------------------------------------------------------------------
CONNECTION_KEEP_ALIVE: Final = 5000
RANDOM_PUNCH_INTERVAL: Final = 20000  # at least 20 s between random (birthday) punches
RANDOM_PUNCHES_LIMIT: Final = 1  # _randomPunchLimit: one random punch at a time
DEFAULT_CACHE_MAX_SIZE: Final = 65536
DEFAULT_CACHE_MAX_AGE: Final = 20 * 60 * 1000  # records, router entries, refreshes, bumps
MUTABLE_MAX_AGE: Final = 48 * 60 * 60 * 1000  # mutables and immutables

# --- persistent.js / announcer.js ----------------------------------------------------------------
MAX_BUMP_DRIFT: Final = 60_000  # a stored bump may be at most 60 s ahead of the node's clock
MAX_RELAY_ADDRESSES: Final = 3  # relayAddresses of an announced peer are cut to 3
MIN_ACTIVE_RELAYS: Final = 3  # announcer MIN_ACTIVE

# --- holepuncher.js ------------------------------------------------------------------------------
BIRTHDAY_SOCKETS: Final = 256
HOLEPUNCH: Final = b"\x00"  # the 1-byte punch datagram
HOLEPUNCH_TTL: Final = 5  # low TTL used to open a NAT session without reaching the peer
DEFAULT_TTL: Final = 64
MAX_REOPENS: Final = 3
RANDOM_PUNCH_TRIES: Final = 1750  # ~35 s at one per 20 ms

# --- server.js / connect.js / socket-pool.js -----------------------------------------------------
HANDSHAKE_CLEAR_WAIT: Final = 10000
HANDSHAKE_INITIAL_TIMEOUT: Final = 10000
RELAY_TIMEOUT: Final = 15000  # give up on a blind relay pairing after 15 s
RELAY_KEEP_ALIVE: Final = 5000
PASSIVE_CONNECT_TIMEOUT: Final = 10000  # client waits 10 s for an OPEN server to connect back
LINGER_TIME: Final = 3000

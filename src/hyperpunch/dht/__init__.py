"""hyperpunch.dht: the network-free parts of HyperDHT 6.34 (JS ``hyperdht``).

Invariants: everything here is pure (no sockets, no clocks, no tasks) and byte-exact with the
pinned JS reference: :mod:`~hyperpunch.dht.constants` (commands, namespaces, modes, error codes),
:mod:`~hyperpunch.dht.messages` (every codec of ``lib/messages.js``),
:mod:`~hyperpunch.dht.noise_wrap` (the connect IK handshake), :mod:`~hyperpunch.dht.secure_payload`
(encrypted holepunch payloads), :mod:`~hyperpunch.dht.records` (mutable / immutable / announce
signatures) and :mod:`~hyperpunch.dht.errors` (the ``DHTError`` codes, split Local/Remote).
"""

from __future__ import annotations

from hyperpunch.dht.constants import Command, Error, Firewall, HandshakeMode, HolepunchMode
from hyperpunch.dht.errors import DHTError, DHTLocalError, DHTRemoteError
from hyperpunch.dht.noise_wrap import NoiseWrap, NoiseWrapResult
from hyperpunch.dht.secure_payload import SecurePayload

__all__ = [
    "Command",
    "DHTError",
    "DHTLocalError",
    "DHTRemoteError",
    "Error",
    "Firewall",
    "HandshakeMode",
    "HolepunchMode",
    "NoiseWrap",
    "NoiseWrapResult",
    "SecurePayload",
]

# --- networked HyperDHT (helper "dht-connect") ---------------------------------------------------
from hyperpunch.dht.node import HyperDHT
from hyperpunch.dht.server import Server

__all__ += ["HyperDHT", "Server"]

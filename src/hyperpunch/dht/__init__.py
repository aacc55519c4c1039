"""hyperpunch.dht: HyperDHT 6.34 (JS ``hyperdht``): the node, connect and listen, on dht-rpc.

Invariants:

* The wire parts are pure (no sockets, no clocks, no tasks) and byte-exact with the pinned JS
  reference: :mod:`~hyperpunch.dht.constants` (commands, namespaces, modes, error codes),
  :mod:`~hyperpunch.dht.messages` (every codec of ``lib/messages.js``),
  :mod:`~hyperpunch.dht.noise_wrap` (the connect IK handshake),
  :mod:`~hyperpunch.dht.secure_payload` (encrypted holepunch payloads),
  :mod:`~hyperpunch.dht.records` (mutable / immutable / announce signatures),
  :mod:`~hyperpunch.dht.errors` (the ``DHTError`` codes, split Local/Remote) and the sans-IO
  storage core :mod:`~hyperpunch.dht.persistent` (``now`` and the wall clock are passed in).
* The networked node is asyncio: :class:`HyperDHT` (:mod:`~hyperpunch.dht.node`) and its helpers
  (:mod:`.connect`, :mod:`.server`, :mod:`.holepuncher`, :mod:`.announcer`, :mod:`.relay`), which
  see the node only through :class:`~hyperpunch.dht.context.NodeContext`.
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

# --- the networked node ---------------------------------------------------------------------------
from hyperpunch.dht.node import HyperDHT
from hyperpunch.dht.server import Server

__all__ += ["HyperDHT", "Server"]

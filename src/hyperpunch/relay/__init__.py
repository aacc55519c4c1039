"""hyperpunch.relay: HyperDHT for clients without UDP, wire-compatible with ``@hyperswarm/dht-relay`` 0.4.3.

Invariants:

* :mod:`~hyperpunch.relay.messages` holds the 28 message codecs of the one Protomux channel
  ``@hyperswarm/dht-relay`` (byte-exact with JS ``lib/messages.js``);
  :mod:`~hyperpunch.relay.transport` maps one WebSocket message to one Protomux frame (JS
  ``ws.js``); :mod:`~hyperpunch.relay.session` is the relay side of one client (JS
  ``lib/node-proxy.js``), :mod:`~hyperpunch.relay.server` serves WebSocket clients through one
  HyperDHT node.
* Custodial clients hand the relay their secret key: the relay sees their plaintext and could
  act as them. ``require_non_custodial`` refuses them.
"""

from __future__ import annotations

from hyperpunch.relay.client import RelayedDHT, RelayedQuery, RelayedServer
from hyperpunch.relay.errors import (
    LimitExceededError,
    NonCustodialRequiredError,
    RelayClosedError,
    RelayError,
    RelayLocalError,
    RelayProtocolError,
    RelayRemoteError,
)
from hyperpunch.relay.server import RelayServer
from hyperpunch.relay.session import IdCounter, RelayLimits, RelaySession
from hyperpunch.relay.stream import RelayedStream
from hyperpunch.relay.transport import WebSocketStream
from hyperpunch.relay.web import HttpHandler, HttpReply, static_handler

__all__ = [
    "HttpHandler",
    "HttpReply",
    "IdCounter",
    "LimitExceededError",
    "NonCustodialRequiredError",
    "RelayClosedError",
    "RelayError",
    "RelayLimits",
    "RelayLocalError",
    "RelayProtocolError",
    "RelayRemoteError",
    "RelayServer",
    "RelaySession",
    "RelayedDHT",
    "RelayedQuery",
    "RelayedServer",
    "RelayedStream",
    "WebSocketStream",
    "static_handler",
]

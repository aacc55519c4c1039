"""What the client (:mod:`.connect`) and the server (:mod:`.server`) share about connection paths.

Invariants:

* A connection takes one path: ``"direct"``, ``"lan"``, ``"holepunched"`` or ``"relayed"``;
  :func:`path_info` is the ``stream.user_data["dht"]`` both sides publish for it.
* A relayed connection that moves to a punched path keeps its relay :data:`RELAY_LINGER` seconds
  after the move (:func:`close_relay_after`), so the peer's packets still crossing it arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from hyperpunch.dht.messages import NoisePayload
from hyperpunch.encoding import Address
from hyperpunch.secretstream import SecretStream
from hyperpunch.udx.socket import UDXSocket

__all__ = [
    "RELAY_LINGER",
    "FirewallFn",
    "HolepunchFn",
    "close_relay_after",
    "noop",
    "path_info",
    "udx_of",
]

RELAY_LINGER = 5.0  # seconds a relay stays up after a connection moved to a direct path

# (remote firewall, local firewall, remote addresses, local addresses) -> punch or not
HolepunchFn = Callable[[int, int, list[Any], "list[Address] | None"], bool]
# (remote public key, remote payload, client address) -> True (or awaitable True) rejects
FirewallFn = Callable[[bytes, NoisePayload, Address], "bool | Awaitable[bool]"]


def path_info(path: str, host: str, port: int, remote_public_key: bytes | None) -> dict[str, Any]:
    """The ``stream.user_data["dht"]`` of a connection that took ``path`` to ``(host, port)``."""
    return {
        "path": path,
        "relayed": path == "relayed",
        "holepunched": path == "holepunched",
        "lan": path == "lan",
        "remote_address": (host, port),
        "remote_public_key": remote_public_key,
    }


async def close_relay_after(changed: asyncio.Future[None], relay_stream: SecretStream | None) -> None:
    """Close the relay once the stream moved and the peer had time to move too.

    JS closes its relay when traffic shows up on the direct path; until the peer switched, its
    packets (and the acks it waits for) still cross the relay, so ours stays up a little longer.
    """
    with contextlib.suppress(Exception):
        await changed
    await asyncio.sleep(RELAY_LINGER)
    if relay_stream is not None:
        relay_stream.close()


def udx_of(handle: object) -> UDXSocket | None:
    """The UDX socket under a dht-rpc socket handle (None for any other handle)."""
    sock = getattr(handle, "udx_socket", None)
    return sock if isinstance(sock, UDXSocket) else None


def noop() -> None:
    return None

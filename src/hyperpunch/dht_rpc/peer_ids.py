"""Memoised DHT ids of ``host:port`` addresses (a BLAKE2b each, asked for on every datagram).

Invariants:
* ``cached_peer_id(host, port) == messages.peer_id(host, port)`` always; only successes are kept.
* The memo is bounded (``MAX_ENTRIES``; cleared whole when full), so hostile traffic from many
  addresses costs at most what it did without it.
"""

from __future__ import annotations

from hyperpunch.dht_rpc.messages import peer_id

__all__ = ["MAX_ENTRIES", "cached_peer_id", "checked_id"]

MAX_ENTRIES = 4096

_ids: dict[tuple[str, int], bytes] = {}


def cached_peer_id(host: str, port: int) -> bytes:
    """``peer_id(host, port)``, from the memo when it was computed before."""
    key = (host, port)
    found = _ids.get(key)
    if found is None:
        found = peer_id(host, port)
        if len(_ids) >= MAX_ENTRIES:
            _ids.clear()
        _ids[key] = found
    return found


def checked_id(id: bytes | None, host: str, port: int) -> bytes | None:
    """``id`` if it is the id of ``host:port``, else ``None`` (``messages.validate_id``, memoised)."""
    if id is None:
        return None
    try:
        expected = cached_peer_id(host, port)
    except Exception:  # a non-IPv4 source can never carry a valid id
        return None
    return expected if expected == id else None

"""Server-side HyperDHT record storage (JS ``hyperdht/lib/persistent.js``), sans-IO.

Invariants (as JS 6.34):

* Only a node with an id (non-ephemeral) stores: :meth:`Persistent.on_request` returns ``False``
  while ``dht.id`` is ``None`` (dht-rpc then answers UNKNOWN_COMMAND), and for every command that
  is not a storage command.
* Writes (ANNOUNCE, UNANNOUNCE, MUTABLE_PUT, IMMUTABLE_PUT) need a token (dht-rpc has already
  checked that it is one of ours) and a valid proof: the Ed25519 signature over the exact JS
  signable (announce / unannounce signables bind target, our id, the token and the peer record),
  ``target == H(public_key)`` for mutables, ``target == H(value)`` for immutables. Anything that
  fails is dropped silently (no reply), exactly as JS does; only the mutable sequence rules answer
  with an error code (SEQ_REUSED 16, SEQ_TOO_LOW 17).
* An announce of ``H(peer.public_key) == target`` ("announce self") becomes a Router entry whose
  relay is the announcer's address; other announces go to the record cache. Relay addresses are
  cut to 3 after the signature check. A LOOKUP answers at most 20 random records (+ the router
  record when there is room) and the target's bump.
* Memory is bounded like the JS caches: every store is generational (xache / record-cache):
  entries live between 2/3 and 4/3 of their max age (20 min for records, bumps and refreshes,
  48 h for mutables and immutables) and each store keeps at most ~2x its max size entries
  (65536, halved for mutables and immutables). JS has no value-size limit and neither do we: a
  value is bounded by the datagram it came in (a JS node never receives more than 2048 bytes, the
  udx-native receive buffer; a Python node takes what its socket delivers). As in JS an empty value
  is a value (JS Buffers are truthy), only an absent one is ``None``.
* Time only enters through ``now`` (seconds, the caller's monotonic clock, also used for Router
  entries) and ``wall_clock()`` (ms since the epoch, only for the announce ``bump`` drift check),
  which the adapter passes in: this module imports no clock.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from hyperpunch.dht.constants import (
    DEFAULT_CACHE_MAX_AGE,
    DEFAULT_CACHE_MAX_SIZE,
    MAX_BUMP_DRIFT,
    MAX_RELAY_ADDRESSES,
    MUTABLE_MAX_AGE,
    Command,
    Error,
)
from hyperpunch.dht.messages import (
    Announce,
    MutableGetResponse,
    Peer,
    announce,
    encode_lookup_raw_reply,
    mutable_get_response,
    mutable_put_request,
    peer,
)
from hyperpunch.dht.records import verify_announce, verify_mutable, verify_unannounce
from hyperpunch.dht.router import ForwardEntry, Router
from hyperpunch.dht_rpc.requests import IncomingRequest
from hyperpunch.encoding import DecodeError, EncodeError, State, decode, encode, uint

__all__ = ["GenerationalCache", "Persistent", "RecordCache"]

K = TypeVar("K")
V = TypeVar("V")

_STORAGE_COMMANDS = frozenset(
    {
        Command.FIND_PEER,
        Command.LOOKUP,
        Command.ANNOUNCE,
        Command.UNANNOUNCE,
        Command.MUTABLE_PUT,
        Command.MUTABLE_GET,
        Command.IMMUTABLE_PUT,
        Command.IMMUTABLE_GET,
        Command.PLUGIN,
    }
)

LOOKUP_MAX_RECORDS = 20  # persistent.js onlookup: records.get(k, 20)


def _h(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


class _HasId(Protocol):
    @property
    def id(self) -> bytes | None: ...


class _Ticker:
    """The ``setInterval(gcAuto, ceil(2/3 maxAge))`` of the JS caches, driven by ``now`` (s)."""

    __slots__ = ("_next", "tick")

    def __init__(self, max_age_ms: float) -> None:
        self.tick = math.ceil(2 / 3 * max_age_ms) / 1000.0 if 0 < max_age_ms < math.inf else 0.0
        self._next: float | None = None

    def due(self, now: float) -> int:
        """How many auto-gc ticks passed up to ``now`` (0 when disabled; at most 3 are reported)."""
        if not self.tick:
            return 0
        if self._next is None:
            self._next = now + self.tick
            return 0
        if now < self._next:
            return 0
        n = int((now - self._next) // self.tick) + 1
        self._next += n * self.tick
        return min(n, 3)


class GenerationalCache(Generic[K, V]):
    """JS ``xache``: two generations; ``get`` promotes an old entry; a gc drops the oldest one.

    A gc runs when the latest generation reaches ``max_size`` and on every tick (2/3 of
    ``max_age``) unless one already ran since the previous tick.
    """

    __slots__ = ("_gced", "_latest", "_oldest", "_ticker", "max_size")

    def __init__(self, max_size: int, max_age_ms: float) -> None:
        self.max_size = max_size
        self._latest: dict[K, V] = {}
        self._oldest: dict[K, V] = {}
        self._gced = False
        self._ticker = _Ticker(max_age_ms)

    def __len__(self) -> int:
        return len(self._latest) + len(self._oldest)

    def advance(self, now: float) -> None:
        for _ in range(self._ticker.due(now)):
            if not self._gced:
                self._gc()
            self._gced = False

    def _gc(self) -> None:
        self._gced = True
        self._oldest = self._latest
        self._latest = {}

    def get(self, k: K) -> V | None:
        v = self._latest.get(k)
        if v is not None:
            return v
        v = self._oldest.pop(k, None)
        if v is not None:
            self._latest[k] = v
        return v

    def set(self, k: K, v: V) -> None:
        self._latest[k] = v
        self._oldest.pop(k, None)
        if len(self._latest) >= self.max_size:
            self._gc()

    def delete(self, k: K) -> bool:
        return self._latest.pop(k, None) is not None or self._oldest.pop(k, None) is not None

    def clear(self) -> None:
        self._gced = True
        self._latest.clear()
        self._oldest.clear()


class _RecordSet:
    """JS ``RecordSet``: an indexable list plus key -> index, O(1) add / swap-remove."""

    __slots__ = ("index", "keys", "values")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.values: list[bytes] = []
        self.index: dict[bytes, int] = {}

    def add(self, key: bytes, value: bytes) -> bool:
        if key in self.index:
            return False
        self.index[key] = len(self.keys)
        self.keys.append(key)
        self.values.append(value)
        return True

    def remove(self, key: bytes) -> bool:
        i = self.index.pop(key, None)
        if i is None:
            return False
        last_key = self.keys.pop()
        last_value = self.values.pop()
        if i < len(self.keys):
            self.keys[i] = last_key
            self.values[i] = last_value
            self.index[last_key] = i
        return True


class _RecordStore:
    __slots__ = ("records", "size")

    def __init__(self) -> None:
        self.records: dict[bytes, _RecordSet] = {}
        self.size = 0

    def add(self, name: bytes, key: bytes, value: bytes) -> bool:
        r = self.records.get(name)
        if r is None:
            r = self.records[name] = _RecordSet()
        if not r.add(key, value):
            return False
        self.size += 1
        return True

    def remove(self, name: bytes, key: bytes) -> None:
        r = self.records.get(name)
        if r is None or not r.remove(key):
            return
        self.size -= 1
        if not r.keys:
            del self.records[name]


class RecordCache:
    """JS ``record-cache``: per-name sets of records (keyed by public key), fresh + stale generations.

    Adding an existing key keeps the first value (as JS); removing and re-adding replaces it.
    """

    __slots__ = ("_fresh", "_gced", "_rng", "_stale", "_ticker", "max_size")

    def __init__(self, max_size: int, max_age_ms: float, rng: random.Random | None = None) -> None:
        self.max_size = max_size
        self._fresh = _RecordStore()
        self._stale = _RecordStore()
        self._gced = False
        self._ticker = _Ticker(max_age_ms)
        self._rng = rng or random.Random()

    def __len__(self) -> int:
        return self._fresh.size + self._stale.size

    def advance(self, now: float) -> None:
        for _ in range(self._ticker.due(now)):
            if not self._gced:
                self._gc()
            self._gced = False

    def _gc(self) -> None:
        self._stale = self._fresh
        self._fresh = _RecordStore()
        self._gced = True

    def add(self, name: bytes, key: bytes, value: bytes) -> None:
        self._stale.remove(name, key)
        if self._fresh.add(name, key, value) and self._fresh.size > self.max_size:
            self._gc()

    def remove(self, name: bytes, key: bytes) -> None:
        self._fresh.remove(name, key)
        self._stale.remove(name, key)

    def clear(self) -> None:
        self._gc()
        self._gc()

    def get(self, name: bytes, n: int = 0) -> list[bytes]:
        """Up to ``n`` (all when 0) records of ``name``, chosen at random (O(n), as JS)."""
        a = self._fresh.records.get(name)
        b = self._stale.records.get(name)
        av: list[bytes] = a.values if a is not None else []
        bv: list[bytes] = b.values if b is not None else []
        total = len(av) + len(bv)
        if not n or n >= total:
            out = av + bv
            self._rng.shuffle(out)
            return out
        la = len(av)
        return [av[i] if i < la else bv[i - la] for i in self._rng.sample(range(total), n)]


class Persistent:
    """The storage handlers of one HyperDHT node. Feed it requests with :meth:`on_request`.

    ``dht`` is anything with an ``id`` (the node's id, ``None`` while ephemeral); ``router`` is
    the node's :class:`~hyperpunch.dht.router.Router` (announce-self entries go there).
    """

    def __init__(
        self,
        dht: _HasId,
        router: Router,
        *,
        max_size: int = DEFAULT_CACHE_MAX_SIZE,
        max_age: float | None = None,
        wall_clock: Callable[[], float],
        rng: random.Random | None = None,
    ) -> None:
        """``max_size`` / ``max_age`` (ms) are JS ``opts.maxSize`` / ``opts.maxAge``."""
        age = max_age or DEFAULT_CACHE_MAX_AGE
        long_age = max_age or MUTABLE_MAX_AGE
        self.dht = dht
        self.router = router
        self.wall_clock = wall_clock
        self.records = RecordCache(max_size, age, rng)
        self.bumps: GenerationalCache[bytes, int] = GenerationalCache(max_size, age)
        self.refreshes: GenerationalCache[bytes, tuple[bytes, bytes, bool]] = GenerationalCache(max_size, age)
        self.mutables: GenerationalCache[bytes, tuple[int, bytes]] = GenerationalCache(
            max_size // 2, long_age
        )
        self.immutables: GenerationalCache[bytes, bytes] = GenerationalCache(max_size // 2, long_age)
        self._now = 0.0

    # -- entry point -----------------------------------------------------------------------------

    def advance(self, now: float) -> None:
        """Let the caches age to ``now`` (seconds)."""
        self._now = now
        self.records.advance(now)
        self.bumps.advance(now)
        self.refreshes.advance(now)
        self.mutables.advance(now)
        self.immutables.advance(now)

    def on_request(self, req: IncomingRequest, now: float) -> bool:
        """Handle a storage command (JS ``HyperDHT.onrequest`` minus the router commands).

        Returns ``True`` when the command is a storage command and this node stores (the request
        may still be dropped without a reply, as JS does for invalid ones), else ``False``.
        """
        if req.internal or req.command not in _STORAGE_COMMANDS or self.dht.id is None:
            return False
        self.advance(now)
        cmd = req.command
        if cmd == Command.LOOKUP:
            self.on_lookup(req)
        elif cmd == Command.FIND_PEER:
            self.on_find_peer(req)
        elif cmd == Command.ANNOUNCE:
            self.on_announce(req)
        elif cmd == Command.UNANNOUNCE:
            self.on_unannounce(req)
        elif cmd == Command.MUTABLE_PUT:
            self.on_mutable_put(req)
        elif cmd == Command.MUTABLE_GET:
            self.on_mutable_get(req)
        elif cmd == Command.IMMUTABLE_PUT:
            self.on_immutable_put(req)
        elif cmd == Command.IMMUTABLE_GET:
            self.on_immutable_get(req)
        # PLUGIN: no plugins are registered here; JS then drops the request without a reply.
        return True

    # -- announces -------------------------------------------------------------------------------

    def on_lookup(self, req: IncomingRequest) -> None:
        target = req.target
        if target is None:
            return
        records = self.records.get(target, LOOKUP_MAX_RECORDS)
        bump = self.bumps.get(target) or 0
        fwd = self.router.get(target, self._now)
        if fwd is not None and len(records) < LOOKUP_MAX_RECORDS:
            records.append(fwd.record)
        req.reply(encode_lookup_raw_reply(records, bump) if records else None)

    def on_find_peer(self, req: IncomingRequest) -> None:
        target = req.target
        if target is None:
            return
        fwd = self.router.get(target, self._now)
        req.reply(fwd.record if fwd is not None else None)

    def unannounce(self, target: bytes, public_key: bytes) -> None:
        """Forget ``public_key``'s record under ``target`` (and its router entry if it is its own)."""
        if _h(public_key) == target:
            self.router.delete(target)
        self.records.remove(target, public_key)

    def on_unannounce(self, req: IncomingRequest) -> None:
        target, token, node_id = req.target, req.token, self.dht.id
        if target is None or token is None or node_id is None:
            return
        unann = _decode_announce(req.value)
        if unann is None or unann.peer is None or unann.signature is None:
            return
        if not verify_unannounce(target, token, node_id, unann):
            return
        self.unannounce(target, unann.peer.public_key)
        req.reply(None, token=False, closer_nodes=False)

    def _on_refresh(self, token: bytes, req: IncomingRequest) -> None:
        key = _h(token)
        r = self.refreshes.get(key)
        if r is None:
            return
        k, record, announce_self = r
        public_key = record[:32]
        if announce_self:
            self.router.set(k, ForwardEntry(req.from_.address, record, None, self._now))
            self.records.remove(k, public_key)
        else:
            self.records.add(k, public_key, record)
        self.refreshes.delete(key)
        self.refreshes.set(token, r)
        req.reply(None, token=False, closer_nodes=False)

    def on_announce(self, req: IncomingRequest) -> None:
        target, token, node_id = req.target, req.token, self.dht.id
        if target is None or token is None or node_id is None:
            return
        ann = _decode_announce(req.value)
        if ann is None:
            return
        p = ann.peer
        if p is None:
            if ann.refresh is not None:
                self._on_refresh(ann.refresh, req)
            return
        if ann.signature is None or not verify_announce(target, token, node_id, ann):
            return
        if len(p.relay_addresses) > MAX_RELAY_ADDRESSES:
            p = Peer(p.public_key, p.relay_addresses[:MAX_RELAY_ADDRESSES])
        try:
            record = encode(peer, p)
        except EncodeError:  # cannot happen for a decoded, verified peer; never crash on it
            return
        announce_self = _h(p.public_key) == target
        if announce_self:
            self.router.set(target, ForwardEntry(req.from_.address, record, None, self._now))
            self.records.remove(target, p.public_key)
        else:
            current = self.bumps.get(target) or 0
            if ann.bump > current and ann.bump <= self.wall_clock() + MAX_BUMP_DRIFT:
                self.bumps.set(target, ann.bump)
            self.records.add(target, p.public_key, record)
        if ann.refresh is not None:
            self.refreshes.set(ann.refresh, (target, record, announce_self))
        req.reply(None, token=False, closer_nodes=False)

    # -- mutable / immutable values -------------------------------------------------------------

    def on_mutable_get(self, req: IncomingRequest) -> None:
        target, value = req.target, req.value
        if target is None or value is None:
            return
        try:
            seq = uint.decode(State(0, len(value), bytes(value)))
        except DecodeError:
            return
        local = self.mutables.get(target)
        if local is None:
            req.reply(None)
            return
        local_seq, encoded = local
        req.reply(None if local_seq < seq else encoded)

    def on_mutable_put(self, req: IncomingRequest) -> None:
        target, token, value = req.target, req.token, req.value
        if target is None or token is None or value is None:
            return
        try:
            p = decode(mutable_put_request, value)
        except DecodeError:
            return
        if _h(p.public_key) != target:
            return
        if not verify_mutable(p.signature, p.seq, p.value, p.public_key):
            return
        local = self.mutables.get(target)
        if local is not None:
            local_seq, local_encoded = local
            if local_seq == p.seq and p.value != decode(mutable_get_response, local_encoded).value:
                req.error(Error.SEQ_REUSED)
                return
            if p.seq < local_seq:
                req.error(Error.SEQ_TOO_LOW)
                return
        encoded = encode(mutable_get_response, MutableGetResponse(p.seq, p.value, p.signature))
        self.mutables.set(target, (p.seq, encoded))  # kept encoded, as JS (the reply as is)
        req.reply(None)

    def on_immutable_get(self, req: IncomingRequest) -> None:
        target = req.target
        if target is None:
            return
        req.reply(self.immutables.get(target))

    def on_immutable_put(self, req: IncomingRequest) -> None:
        target, token, value = req.target, req.token, req.value
        if target is None or token is None or value is None:
            return
        if _h(value) != target:
            return
        self.immutables.set(target, bytes(value))
        req.reply(None)

    def destroy(self) -> None:
        """Drop everything (JS ``destroy``)."""
        self.records.clear()
        self.refreshes.clear()
        self.mutables.clear()
        self.immutables.clear()
        self.bumps.clear()

    def stats(self) -> dict[str, int]:
        return {
            "records": len(self.records),
            "bumps": len(self.bumps),
            "refreshes": len(self.refreshes),
            "mutables": len(self.mutables),
            "immutables": len(self.immutables),
        }


def _decode_announce(value: bytes | None) -> Announce | None:
    if value is None:
        return None
    try:
        return decode(announce, value)
    except DecodeError:
        return None

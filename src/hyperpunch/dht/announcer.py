"""A listening server announcing itself (JS ``hyperdht/lib/announcer.js``).

Invariants:

* An update runs FIND_PEER toward ``target = H(public_key)`` and sends a signed ANNOUNCE (peer
  record with no relay addresses) to the 3 closest repliers; those that accept become ``relays``
  (``RelayInfo(relay_address=node, peer_address=how it saw us)``, given to connecting clients as
  the holepunch relays) and the first 3 are ``relay_addresses``.
* In the background it pings its relays every 3 s and re-announces after ~5 min (100 rounds), or
  at once when fewer than ``min(3, n)`` relays answer. Relays dropped between updates are
  unannounced; :meth:`stop` cancels the loop and unannounces everything.
* ``record`` is the encoded peer record served by this node's router for FIND_PEER / LOOKUP.
* With ``sign`` the records are signed by it (a non-custodial relay client) instead of with the
  key pair's secret key.
* The node is seen only through :class:`~hyperpunch.dht.context.NodeContext`; the background
  loop is a task the node owns (``spawn``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from hyperpunch.crypto import KeyPair
from hyperpunch.dht.constants import MIN_ACTIVE_RELAYS, Command
from hyperpunch.dht.context import NodeContext
from hyperpunch.dht.handshake import AnnounceSigner
from hyperpunch.dht.messages import Announce, Peer, RelayInfo, announce, peer
from hyperpunch.dht.records import sign_announce, sign_unannounce
from hyperpunch.dht_rpc import DHTRPCError, Response
from hyperpunch.encoding import Address, encode

__all__ = ["Announcer"]

_log = logging.getLogger(__name__)

PING_ROUNDS = 100
PING_INTERVAL = 3.0


class Announcer:
    def __init__(
        self, dht: NodeContext, key_pair: KeyPair, target: bytes, *, sign: AnnounceSigner | None = None
    ) -> None:
        self.sign = sign
        self.dht = dht
        self.key_pair = key_pair
        self.target = target
        self.relays: list[RelayInfo] = []
        self.relay_addresses: list[Address] = []
        self.stopped = False
        self.record = encode(peer, Peer(key_pair.public_key, []))
        self._closest_nodes: list[Any] | None = None
        self._server_relays: list[dict[str, Address]] = [{}, {}, {}]
        self._refreshing = False
        self._wake = asyncio.Event()
        self._background_task: asyncio.Task[None] | None = None

    def is_relay(self, addr: tuple[str, int]) -> bool:
        key = f"{addr[0]}:{addr[1]}"
        return any(key in m for m in self._server_relays)

    def refresh(self) -> None:
        if not self.stopped:
            self._refreshing = True
            self._wake.set()

    async def start(self) -> None:
        if self.stopped:
            return
        await self._update()
        if not self.stopped:
            self._background_task = self.dht.spawn(self._background())

    async def stop(self) -> None:
        self.stopped = True
        self._wake.set()
        task = self._background_task
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await self._unannounce_all(list(self._server_relays[2].values()))

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _background(self) -> None:
        while not self.dht.destroyed and not self.stopped:
            try:
                self._refreshing = False
                for _ in range(PING_ROUNDS):
                    if self.stopped or self._refreshing:
                        break
                    relays = list(self._server_relays[2].values())
                    results = await asyncio.gather(
                        *(self.dht.ping(a) for a in relays), return_exceptions=True
                    )
                    active = sum(1 for r in results if not isinstance(r, BaseException))
                    if active < min(len(relays), MIN_ACTIVE_RELAYS):
                        self.refresh()
                    if self.stopped:
                        return
                    if not self._refreshing:
                        await self._pause(PING_INTERVAL)
                if not self.stopped:
                    await self._update()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.debug("announcer round failed", exc_info=True)
                await self._pause(PING_INTERVAL)

    def _cycle(self) -> None:
        tmp = self._server_relays[0]
        self._server_relays[0] = self._server_relays[1]
        self._server_relays[1] = self._server_relays[2]
        self._server_relays[2] = tmp
        tmp.clear()

    async def _update(self) -> None:
        self._cycle()
        opts: dict[str, Any] = {}
        if self._closest_nodes:
            opts["nodes"] = self._closest_nodes
        q = self.dht.find_peer(self.target, hash=False, **opts)
        with contextlib.suppress(DHTRPCError):
            await q.finished()
        if self.stopped:
            return
        relays: list[RelayInfo] = []
        relay_addresses: list[Address] = []
        if not self.dht.firewalled:
            addr = self.dht.remote_address()
            if addr is not None:
                relay_addresses.append(addr)
        replies = list(q.closest_replies)[:3]
        await asyncio.gather(
            *(self._commit(r, relays, relay_addresses) for r in replies), return_exceptions=True
        )
        if self.stopped:
            return
        self._closest_nodes = list(q.closest_nodes)
        self.relays = relays
        self.relay_addresses = relay_addresses
        removed = [v for k, v in self._server_relays[1].items() if k not in self._server_relays[2]]
        await self._unannounce_all(removed)

    async def _commit(self, msg: Response, relays: list[RelayInfo], relay_addresses: list[Address]) -> None:
        if msg.token is None or msg.from_.id is None:
            return
        ann = Announce(peer=Peer(self.key_pair.public_key, []))
        if self.sign is not None:
            sig = await self.sign(False, self.target, msg.token, msg.from_.id)
        else:
            sig = sign_announce(self.target, msg.token, msg.from_.id, ann, self.key_pair)
        value = encode(announce, Announce(peer=ann.peer, signature=sig))
        res = await self.dht.request(
            msg.from_.address, Command.ANNOUNCE, target=self.target, value=value, token=msg.token
        )
        if res.error != 0:
            return
        addr = msg.from_.address
        if len(relay_addresses) < 3:
            relay_addresses.append(addr)
        relays.append(RelayInfo(addr, msg.to))
        self._server_relays[2][f"{addr[0]}:{addr[1]}"] = addr

    async def _unannounce_all(self, relays: list[Address]) -> None:
        if relays:
            await asyncio.gather(*(self._unannounce(a) for a in relays), return_exceptions=True)

    async def _unannounce(self, to: Address) -> None:
        if self.dht.destroyed:
            return
        res = await self.dht.request(to, Command.FIND_PEER, target=self.target)
        if res.token is None or res.from_.id is None or not res.value:
            return
        unann = Announce(peer=Peer(self.key_pair.public_key, []))
        if self.sign is not None:
            sig = await self.sign(True, self.target, res.token, res.from_.id)
        else:
            sig = sign_unannounce(self.target, res.token, res.from_.id, unann, self.key_pair)
        await self.dht.request(
            to,
            Command.UNANNOUNCE,
            target=self.target,
            value=encode(announce, Announce(peer=unann.peer, signature=sig)),
            token=res.token,
        )

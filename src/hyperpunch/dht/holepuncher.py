"""UDP hole punching (JS ``hyperdht/lib/holepuncher.js``).

Invariants:

* The decisions are pure functions: :func:`punch_strategy` (which punch to run for a local and a
  remote firewall kind), :func:`coerce_firewall`, :func:`match_address`, :func:`random_port`.
* A :class:`Holepuncher` owns its pooled sockets (released on :meth:`destroy`), its NAT sampling
  and its background punch tasks (cancelled on :meth:`destroy`). ``on_connect(socket, port, host)``
  fires at most once, on the initiator, for the first punch datagram received; the responder
  answers every punch datagram with one of its own. ``on_abort()`` fires once if it is destroyed
  before connecting.
* :class:`RandomPunchThrottle` is JS's random-punch throttle (sans-IO: the caller passes ``now``):
  at most ``limit`` random punches at once, ``interval`` seconds after the last one ended.
* The node is reached only through the :class:`PunchHost` seam (no import of the node).
* Strategies (as JS): consistent<->consistent probes every remote address once a second (10
  tries); consistent->random sends to random ports of the remote's verified host every 20 ms
  (1750 tries); random->consistent opens up to 256 "birthday" sockets toward the remote's
  verified address with a low TTL, then keeps cycling through them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket as _socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from hyperpunch.aio import TaskOwner
from hyperpunch.dht.constants import (
    BIRTHDAY_SOCKETS,
    DEFAULT_TTL,
    HOLEPUNCH,
    HOLEPUNCH_TTL,
    MAX_REOPENS,
    RANDOM_PUNCH_TRIES,
    Firewall,
)
from hyperpunch.dht.nat import NatAnalysis
from hyperpunch.dht.socket_pool import SocketPool, SocketRef, send_ttl
from hyperpunch.dht_rpc import DHTCore, Response, Session
from hyperpunch.encoding import Address
from hyperpunch.udx.socket import UDXSocket

__all__ = [
    "Holepuncher",
    "PunchHost",
    "RandomPunchThrottle",
    "RemoteAddress",
    "coerce_firewall",
    "is_bogon",
    "is_private",
    "is_reserved",
    "local_addresses",
    "match_address",
    "punch_strategy",
    "random_port",
]

OnConnect = Callable[[UDXSocket, int, str], None]


@dataclass(slots=True)
class RemoteAddress:
    host: str
    port: int
    verified: bool = False


def _octets(host: str) -> tuple[int, int, int, int] | None:
    parts = host.split(".")
    if len(parts) != 4:
        return None
    try:
        a, b, c, d = (int(x) for x in parts)
    except ValueError:
        return None
    return a, b, c, d


def is_private(host: str) -> bool:
    """JS ``bogon.isPrivate`` (IPv4 only: 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16)."""
    o = _octets(host)
    if o is None:
        return False
    a, b = o[0], o[1]
    return (
        a == 10
        or (a == 100 and 64 <= b <= 127)
        or a == 127
        or (a == 169 and b == 254)
        or (a == 172 and 16 <= b <= 31)
        or (a == 192 and b == 168)
    )


def is_reserved(host: str) -> bool:
    """JS ``bogon.isReserved`` for IPv4 (0/8, 192.0.0/24, test nets, 198.18/15, multicast, 240/4)."""
    o = _octets(host)
    if o is None:
        return ":" in host and host.strip("[]") in ("::", "::1")
    a, b, c, _d = o
    return (
        a == 0
        or (a == 192 and b == 0 and c in (0, 2))
        or (a == 198 and 18 <= b <= 19)
        or (a == 198 and b == 51 and c == 100)
        or (a == 203 and b == 0 and c == 113)
        or a >= 224
    )


def is_bogon(host: str) -> bool:
    return is_private(host) or is_reserved(host)


def coerce_firewall(fw: int) -> int:
    return Firewall.CONSISTENT if fw == Firewall.OPEN else fw


def punch_strategy(local: int, remote: int, has_verified: bool) -> str | None:
    """``"consistent"``, ``"random_probes"``, ``"birthday"`` or None (cannot punch)."""
    local, remote = coerce_firewall(local), coerce_firewall(remote)
    if local == Firewall.CONSISTENT and remote == Firewall.CONSISTENT:
        return "consistent"
    if not has_verified:
        return None
    if local == Firewall.CONSISTENT and remote >= Firewall.RANDOM:
        return "random_probes"
    if local >= Firewall.RANDOM and remote == Firewall.CONSISTENT:
        return "birthday"
    return None


class RandomPunchThrottle:
    """JS's random-punch throttle: at most ``limit`` random punches at once, and a new one only
    ``interval`` seconds after the last one ended (``last`` = 0: none yet). Sans-IO: ``now`` is
    the caller's loop time."""

    __slots__ = ("active", "interval", "last", "limit")

    def __init__(self, interval: float, limit: int = 1) -> None:
        self.interval = interval
        self.limit = limit
        self.active = 0
        self.last = 0.0

    def allowed(self, now: float) -> bool:
        if self.active >= self.limit:
            return False
        return self.last <= 0 or now - self.last >= self.interval

    def begin(self) -> None:
        """A random punch starts (counts against ``limit`` until :meth:`end` or :meth:`cancel`)."""
        self.active += 1

    def end(self, now: float) -> None:
        """The random punch connected (or gave up after punching) at ``now``."""
        self.active -= 1
        self.last = now

    def cancel(self) -> None:
        """Release a slot taken by :meth:`begin` without recording a punch."""
        self.active -= 1


class PunchHost(Protocol):
    """What a :class:`Holepuncher` needs of its node (the node satisfies it structurally)."""

    @property
    def core(self) -> DHTCore: ...

    @property
    def firewalled(self) -> bool: ...

    @property
    def socket_pool(self) -> SocketPool: ...

    @property
    def nat_factory(self) -> Callable[[bool], NatAnalysis]: ...

    @property
    def punch_throttle(self) -> RandomPunchThrottle: ...

    @property
    def stats_punches(self) -> dict[str, int]: ...

    def loop_time(self) -> float: ...

    async def ping_from(self, to: tuple[str, int], ref: SocketRef, session: Session | None) -> Response: ...


def random_port(rng: random.Random | None = None) -> int:
    r = (rng or random).random()
    return int(1000 + r * 64536)


def _interfaces_v4() -> list[str]:
    """Non-loopback IPv4 addresses of this host (best effort, no extra dependency)."""
    out: list[str] = []
    try:
        import fcntl
        import struct

        s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        try:
            for _idx, name in _socket.if_nameindex():
                try:
                    req = struct.pack("256s", name.encode()[:15])
                    res = fcntl.ioctl(s.fileno(), 0x8915, req)  # SIOCGIFADDR
                except OSError:
                    continue
                host = _socket.inet_ntoa(res[20:24])
                if not host.startswith("127.") and host not in out:
                    out.append(host)
        finally:
            s.close()
    except (ImportError, OSError):
        return out
    return out


def local_addresses(sock: UDXSocket) -> list[Address]:
    """JS ``localAddresses(socket)``: the socket's port on every external IPv4 interface."""
    host, port = sock.address()
    if host == "127.0.0.1":
        return [Address(host, port)]
    addrs = [Address(h, port) for h in _interfaces_v4()]
    return addrs or [Address("127.0.0.1", port)]


def match_address(mine: list[Address], theirs: list[Address]) -> Address | None:
    """The remote LAN address sharing the longest dotted prefix with one of ours (JS ``matchAddress``)."""
    if not theirs:
        return None
    best_segment, best = 1, None
    for local in mine:
        a = local[0].split(".")
        for remote in theirs:
            b = remote[0].split(".")
            if a[0] == b[0]:
                if best_segment == 1:
                    best_segment, best = 2, remote
                if a[1:2] == b[1:2]:
                    if best_segment == 2:
                        best_segment, best = 3, remote
                    if a[2:3] == b[2:3]:
                        return remote
    return best


def _noop_connect(_s: UDXSocket, _p: int, _h: str) -> None:
    return None


def _noop() -> None:
    return None


class Holepuncher:
    """One side's punching state for one connection attempt. Create with :meth:`create`."""

    def __init__(
        self,
        dht: PunchHost,
        session: Session | None,
        is_initiator: bool,
        remote_firewall: int,
        ref: SocketRef,
    ) -> None:
        self.dht = dht
        self.session = session
        self.is_initiator = is_initiator
        self.on_connect: OnConnect = _noop_connect
        self.on_abort: Callable[[], None] = _noop
        self.punching = False
        self.connected = False
        self.destroyed = False
        self.randomized = False
        self.remote_firewall = remote_firewall
        self.remote_addresses: list[RemoteAddress] = []
        self.remote_holepunching = False
        self._wake = asyncio.Event()
        self._tasks = TaskOwner("holepuncher")
        self._reopening: asyncio.Future[bool] | None = None
        self._punching: asyncio.Future[bool] | None = None
        self._all_holders: list[SocketRef] = []
        self._holder = self._add_ref(ref)
        self.nat = dht.nat_factory(dht.firewalled)
        self._nat_done = asyncio.Event()
        self._spawn(self._auto_sample(self.nat, self._nat_done, ref))

    @classmethod
    async def create(
        cls,
        dht: PunchHost,
        session: Session | None,
        is_initiator: bool,
        remote_firewall: int = Firewall.UNKNOWN,
    ) -> Holepuncher:
        ref = await dht.socket_pool.acquire()
        return cls(dht, session, is_initiator, remote_firewall, ref)

    @property
    def socket(self) -> UDXSocket:
        return self._holder.socket

    @property
    def ref(self) -> SocketRef:
        return self._holder

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro)

    async def _pause(self, seconds: float) -> None:
        if self.destroyed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    # -- NAT sampling ---------------------------------------------------------------------------

    async def _auto_sample(self, nat: NatAnalysis, done: asyncio.Event, ref: SocketRef) -> None:
        try:
            for _attempt in range(2):
                nodes = list(self.dht.core.nodes.latest_first())
                skip = 5 if len(nodes) >= 8 else 0
                pings: list[Coroutine[Any, Any, None]] = []
                for node in nodes:
                    if nat.sampled + len(pings) >= nat.min_samples:
                        break
                    if skip > 0:
                        skip -= 1
                        continue
                    if not nat.visit(node.host, node.port):
                        continue
                    pings.append(self._sample(nat, done, ref, (node.host, node.port)))
                if pings:
                    await asyncio.gather(*pings)
                if nat.done or nat.sampled >= nat.min_samples:
                    break
        finally:
            nat.finish()
            done.set()

    async def _sample(
        self, nat: NatAnalysis, done: asyncio.Event, ref: SocketRef, to: tuple[str, int]
    ) -> None:
        try:
            res = await self.dht.ping_from(to, ref, self.session)
        except Exception:
            return
        nat.add(res.to, res.from_.address)
        if nat.done:
            done.set()

    async def analyze(self, allow_reopen: bool) -> bool:
        await self._nat_done.wait()
        if self._unstable():
            if not allow_reopen:
                return False
            if self._reopening is None:
                self._reopening = asyncio.get_running_loop().create_future()
                return await self._once(self._reopening, self._reopen())
            return await self._reopening
        return True

    @staticmethod
    async def _once(fut: asyncio.Future[bool], coro: Coroutine[Any, Any, bool]) -> bool:
        res = False
        try:
            res = await coro
        finally:
            if not fut.done():
                fut.set_result(res)
        return res

    def _unstable(self) -> bool:
        fw = self.nat.firewall
        return (self.remote_firewall >= Firewall.RANDOM and fw >= Firewall.RANDOM) or fw == Firewall.UNKNOWN

    async def _reset(self) -> None:
        prev = self._holder
        self._all_holders.pop()
        self._holder = self._add_ref(await self.dht.socket_pool.acquire())
        prev.release()
        self.nat.destroy()
        self.nat = self.dht.nat_factory(self.dht.firewalled)
        self._nat_done = asyncio.Event()
        self._spawn(self._auto_sample(self.nat, self._nat_done, self._holder))

    async def _reopen(self) -> bool:
        i = 0
        while self._unstable() and i < MAX_REOPENS and not self._done() and not self.punching:
            await self._reset()
            await self._nat_done.wait()
            i += 1
        return coerce_firewall(self.nat.firewall) == Firewall.CONSISTENT

    # -- remote state ---------------------------------------------------------------------------

    def update_remote(
        self, *, punching: bool, firewall: int, addresses: list[Address] | None, verified: str | None
    ) -> None:
        out: list[RemoteAddress] = []
        for addr in addresses or ():
            out.append(RemoteAddress(addr[0], addr[1], verified == addr[0] or self._is_verified(addr[0])))
        self.remote_firewall = firewall
        self.remote_addresses = out
        self.remote_holepunching = punching

    def _is_verified(self, host: str) -> bool:
        return any(a.verified and a.host == host for a in self.remote_addresses)

    # -- datagrams ------------------------------------------------------------------------------

    def ping(self, addr: tuple[str, int], sock: UDXSocket | None = None) -> None:
        send_ttl(sock or self._holder.socket, HOLEPUNCH, addr[1], addr[0], DEFAULT_TTL)

    def open_session(self, addr: tuple[str, int], sock: UDXSocket | None = None) -> None:
        send_ttl(sock or self._holder.socket, HOLEPUNCH, addr[1], addr[0], HOLEPUNCH_TTL)

    def _add_ref(self, ref: SocketRef) -> SocketRef:
        self._all_holders.append(ref)
        ref.on_holepunch_message = self._on_holepunch_message
        return ref

    def _on_holepunch_message(self, _data: bytes, addr: tuple[str, int], ref: SocketRef) -> None:
        if not self.is_initiator:
            send_ttl(ref.socket, HOLEPUNCH, addr[1], addr[0], DEFAULT_TTL)
            return
        if self.connected:
            return
        self.connected = True
        self.punching = False
        for r in self._all_holders:
            if r is not ref:
                r.release()
        self._all_holders = [ref]
        self._decrement_randomized()
        self.on_connect(ref.socket, addr[1], addr[0])

    def _done(self) -> bool:
        return self.destroyed or self.connected

    # -- punching -------------------------------------------------------------------------------

    async def punch(self) -> bool:
        if self._punching is None:
            self._punching = asyncio.get_running_loop().create_future()
            return await self._once(self._punching, self._punch())
        return await self._punching

    async def _punch(self) -> bool:
        if self._done() or not self.remote_addresses:
            return False
        self.punching = True
        verified = next((a for a in self.remote_addresses if a.verified), None)
        strategy = punch_strategy(self.nat.firewall, self.remote_firewall, verified is not None)
        stats: dict[str, int] = self.dht.stats_punches
        if strategy == "consistent":
            stats["consistent"] += 1
            self._spawn(self._consistent_probe())
            return True
        if strategy is None or verified is None:
            return False
        stats["random"] += 1
        self._increment_randomized()
        if strategy == "random_probes":
            self._spawn(self._random_probes(verified))
            return True
        await self._open_birthday_sockets(verified)
        if self.punching:
            self._spawn(self._keep_alive_random_nat(verified))
        return True

    async def _consistent_probe(self) -> None:
        if not self.is_initiator:
            await self._pause(1.0)  # the server's "fast open" ping just went out
        tries = 0
        while self.punching and tries < 10:
            tries += 1
            for addr in self.remote_addresses:
                if not addr.verified and (tries & 3) != 0:
                    continue
                self.ping((addr.host, addr.port))
            if self.punching:
                await self._pause(1.0)
        self._auto_destroy()

    async def _random_probes(self, remote: RemoteAddress) -> None:
        tries = RANDOM_PUNCH_TRIES
        while self.punching and tries > 0:
            tries -= 1
            self.ping((remote.host, random_port()))
            if self.punching:
                await self._pause(0.02)
        self._auto_destroy()

    async def _keep_alive_random_nat(self, remote: RemoteAddress) -> None:
        i = 0
        low_ttl_rounds = 1
        await self._pause(0.1)
        tries = RANDOM_PUNCH_TRIES
        while self.punching and tries > 0:
            tries -= 1
            if i >= len(self._all_holders):
                i = 0
                if low_ttl_rounds > 0:
                    low_ttl_rounds -= 1
            if not self._all_holders:
                break
            sock = self._all_holders[i].socket
            i += 1
            send_ttl(
                sock,
                HOLEPUNCH,
                remote.port,
                remote.host,
                HOLEPUNCH_TTL if low_ttl_rounds > 0 else DEFAULT_TTL,
            )
            if self.punching:
                await self._pause(0.02)
        self._auto_destroy()

    async def _open_birthday_sockets(self, remote: RemoteAddress) -> None:
        while self.punching and len(self._all_holders) < BIRTHDAY_SOCKETS:
            ref = self._add_ref(await self.dht.socket_pool.acquire())
            if self.destroyed:
                ref.release()
                return
            send_ttl(ref.socket, HOLEPUNCH, remote.port, remote.host, HOLEPUNCH_TTL)

    def _auto_destroy(self) -> None:
        if not self.connected:
            self.destroy()

    def _increment_randomized(self) -> None:
        if not self.randomized:
            self.randomized = True
            self.dht.punch_throttle.begin()

    def _decrement_randomized(self) -> None:
        if self.randomized:
            self.randomized = False
            self.dht.punch_throttle.end(self.dht.loop_time())

    def destroy(self) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        self.punching = False
        self._wake.set()
        current = asyncio.current_task()
        for task in list(self._tasks.tasks):  # cancelled now; they end on their own
            if task is not current:
                task.cancel()
        for ref in self._all_holders:
            ref.release()
        self._all_holders = []
        self.nat.destroy()
        self._nat_done.set()
        if not self.connected:
            self._decrement_randomized()
            self.on_abort()

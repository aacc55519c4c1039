"""A HyperDHT server: accept encrypted connections on a key pair (JS ``hyperdht/lib/server.js``).

Invariants:

* :meth:`Server.listen` registers ``H(public_key)`` in the node's router with this server as the
  hook owner, then announces itself (:class:`~hyperpunch.dht.announcer.Announcer`).
* One handshake slot per distinct client noise message (a retransmitted handshake gets the same
  reply); slots are freed ``HANDSHAKE_CLEAR_WAIT`` after they are settled. The slot index is the
  holepunch ``id`` given to the client.
* The firewall callback runs before anything is allocated for the client; a true (or raising)
  firewall drops the handshake silently, as JS does.
* A connection exists once the client's first UDX packet reaches the raw stream (its firewall hook
  connects the stream to that socket and address) or once we connect to an OPEN client; the
  secret stream then runs with the handshake's keys (preset handshake, no extra round trip).
* With ``relay_through`` (ours or the client's) the handshake also pairs through a blind relay;
  a relayed connection keeps its puncher, and a punched path found later moves the stream off the
  relay (JS ``confirmDirectUpgrade``).
* ``stream.user_data["dht"]`` carries the path like the client's (see :mod:`.connect`).
* Every timer and task is owned (one :class:`~hyperpunch.aio.TaskOwner`; :meth:`aclose` runs
  once, :class:`~hyperpunch.aio.CloseOnce`); :meth:`aclose` stops the announcer, destroys
  punchers and pending raw streams, and cancels the connection tasks; open connections stay open,
  as in JS, owned by the DHT node, which destroys them when it closes.
* The node is seen only through :class:`~hyperpunch.dht.context.NodeContext`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import heapq
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.crypto import KeyPair
from hyperpunch.crypto import hash as _hash
from hyperpunch.dht.announcer import Announcer
from hyperpunch.dht.constants import (
    HANDSHAKE_CLEAR_WAIT,
    HANDSHAKE_INITIAL_TIMEOUT,
    Error,
    Firewall,
)
from hyperpunch.dht.context import NodeContext
from hyperpunch.dht.errors import AlreadyListeningError, KeypairAlreadyUsedError, NodeDestroyedError
from hyperpunch.dht.handshake import (
    AnnounceSigner,
    CreateHandshake,
    CreateStream,
    Handshake,
    default_stream,
    local_handshake,
)
from hyperpunch.dht.holepuncher import (
    Holepuncher,
    is_private,
    local_addresses,
    match_address,
)
from hyperpunch.dht.messages import (
    HolepunchInfo,
    HolepunchPayload,
    NoisePayload,
    RelayThroughInfo,
    SecretStreamInfo,
    UdxInfo,
)
from hyperpunch.dht.noise_wrap import NoiseWrapResult
from hyperpunch.dht.paths import FirewallFn, HolepunchFn, close_relay_after, noop, path_info, udx_of
from hyperpunch.dht.relay import relay_connection, relay_token
from hyperpunch.dht.router import ForwardEntry
from hyperpunch.dht.secure_payload import SecurePayload
from hyperpunch.dht.socket_pool import attach_stream
from hyperpunch.dht_rpc import IncomingRequest
from hyperpunch.encoding import Address
from hyperpunch.secretstream import SecretStream
from hyperpunch.udx.socket import UDXSocket
from hyperpunch.udx.stream import UDXStream

__all__ = ["Server"]

_log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Handshake:
    """Server-side state of one connection attempt (JS ``hs``)."""

    id: int
    key: bytes
    round: int = 0
    reply: bytes | None = None
    puncher: Holepuncher | None = None
    payload: SecurePayload | None = None
    raw_stream: UDXStream | None = None
    prepunching: asyncio.TimerHandle | None = None
    clearing: asyncio.TimerHandle | None = None
    reply_from_puncher: bool = False
    aborted: bool = False
    relay_token: bytes | None = None
    relay_stream: SecretStream | None = None
    relayed: bool = False  # connected through the relay; a direct path may still replace it
    stream: SecretStream | None = None
    remote_payload: NoisePayload | None = None
    result: NoiseWrapResult | None = None
    client_lan: list[Address] = field(default_factory=list)
    on_socket: Callable[[UDXSocket, int, str], None] | None = None


class Server:
    """Accepts connections for one key pair; see :meth:`HyperDHT.create_server`."""

    def __init__(
        self,
        dht: NodeContext,
        *,
        firewall: FirewallFn | None = None,
        on_connection: Callable[[SecretStream], Awaitable[None] | None] | None = None,
        share_local_address: bool = True,
        holepunch: HolepunchFn | bool | None = None,
        relay_through: bytes | Callable[[], bytes | None] | None = None,
        create_handshake: CreateHandshake | None = None,
        create_stream: CreateStream | None = None,
    ) -> None:
        self.dht = dht
        self.firewall = firewall
        self.create_handshake = create_handshake or local_handshake
        self.create_stream = create_stream or default_stream
        self.on_connection = on_connection
        self.relay_through = relay_through
        self.target: bytes | None = None
        self.closed = False
        self.connections: set[SecretStream] = set()
        self._holepunch_fn: HolepunchFn | None = holepunch if callable(holepunch) else None
        self._never_punch = holepunch is False
        self._share_local_address = share_local_address
        self._key_pair: KeyPair | None = None
        self._announcer: Announcer | None = None
        self._connects: dict[bytes, asyncio.Future[_Handshake | None]] = {}
        self._holepunches: list[_Handshake | None] = []
        # indices of the None slots (a min-heap; entries past the end are stale, dropped on claim)
        self._free_slots: list[int] = []
        self._listening = False
        self._close_once = CloseOnce(self._close)
        self._tasks = TaskOwner("dht server")
        # accepted connections not yet taken by ``async for``; a connection leaves it when it ends,
        # so a server nobody iterates does not keep every stream it ever accepted
        self._accepted: collections.deque[SecretStream] = collections.deque()
        self._accepted_event = asyncio.Event()

    # -- public ------------------------------------------------------------------------------------

    @property
    def public_key(self) -> bytes | None:
        return None if self._key_pair is None else self._key_pair.public_key

    @property
    def listening(self) -> bool:
        return self._listening

    @property
    def relay_addresses(self) -> list[Address]:
        return [] if self._announcer is None else self._announcer.relay_addresses

    def refresh(self) -> None:
        """Announce again now (JS ``server.refresh()``; the node calls it when it comes online)."""
        if self._announcer is not None:
            self._announcer.refresh()

    def address(self) -> dict[str, Any] | None:
        if self._key_pair is None:
            return None
        return {"public_key": self._key_pair.public_key, "host": self.dht.host, "port": self.dht.port}

    async def listen(self, key_pair: KeyPair | None = None, *, sign: AnnounceSigner | None = None) -> None:
        """Listen on ``key_pair``; with ``sign``, announce records are signed by it (the secret key
        may then be absent: a non-custodial relay client, with ``create_handshake``)."""
        if self._listening:
            raise AlreadyListeningError()
        if self.dht.destroyed:
            raise NodeDestroyedError()
        key_pair = key_pair or self.dht.default_key_pair
        self._listening = True
        await self.dht.bind()
        for s in self.dht.listening:
            if s is not self and s.public_key is not None and s.public_key == key_pair.public_key:
                self._listening = False
                raise KeypairAlreadyUsedError()
        self.dht.listening.add(self)
        self.target = _hash(key_pair.public_key)
        self._key_pair = key_pair
        self._announcer = Announcer(self.dht, key_pair, self.target, sign=sign)
        self.dht.router.set(
            self.target, ForwardEntry(None, self._announcer.record, self, self.dht.loop_time())
        )
        try:
            await self._announcer.start()
        except BaseException:
            await self.aclose()
            raise

    @property
    def closing(self) -> bool:
        """:meth:`aclose` has started: no new handshake or holepunch is answered."""
        return self._close_once.started

    async def aclose(self) -> None:
        await self._close_once()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> Server:
        return self

    async def __anext__(self) -> SecretStream:
        while not self._accepted:
            if self.closed:
                raise StopAsyncIteration
            self._accepted_event.clear()
            await self._accepted_event.wait()
        return self._accepted.popleft()

    async def _close(self) -> None:
        self.dht.listening.discard(self)
        if self.target is not None and self.dht.router.get(self.target) is not None:
            entry = self.dht.router.get(self.target)
            if entry is not None and entry.server is self:
                self.dht.router.delete(self.target)
        self._clear_all()
        await self._tasks.aclose()
        if self._announcer is not None:
            with contextlib.suppress(Exception):
                await self._announcer.stop()
        self._announcer = None
        self._listening = False
        self.closed = True
        self._accepted_event.set()

    def _clear_all(self) -> None:
        while self._holepunches:
            h = self._holepunches.pop()
            if h is None:
                continue
            if h.puncher is not None:
                h.puncher.on_abort = noop
                h.puncher.destroy()
            for timer in (h.clearing, h.prepunching):
                if timer is not None:
                    timer.cancel()
            if h.raw_stream is not None and not h.relayed:  # a relayed connection stays up
                h.raw_stream.destroy()
                self.dht.release_raw_stream(h.raw_stream)
                h.raw_stream = None
        for fut in self._connects.values():
            if not fut.done():
                fut.cancel()
        self._connects.clear()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        if self._tasks.closed:  # closed: a connection living on belongs to the node
            return self.dht.spawn(coro)
        return self._tasks.spawn(coro)

    # -- handshake ---------------------------------------------------------------------------------

    async def on_peer_handshake(
        self, noise: bytes, peer_address: Address | None, req: IncomingRequest
    ) -> tuple[bytes, object | None] | None:
        if self.closing or self._key_pair is None:
            return None
        k = bytes(noise)
        fut = self._connects.get(k)
        if fut is None:  # set in the same tick: a flood of copies makes one slot
            fut = asyncio.get_running_loop().create_future()
            self._connects[k] = fut
            task = self._spawn(
                self._add_handshake(k, noise, peer_address or req.from_.address, req, peer_address is None)
            )
            task.add_done_callback(functools.partial(_settle, fut))
        h = await asyncio.shield(fut)
        if h is None or h.reply is None or self.closing:
            return None
        sock = h.puncher.ref.wrapper if (h.reply_from_puncher and h.puncher is not None) else None
        return h.reply, sock

    def _local_addresses(self) -> list[Address]:
        sock = self.dht.server_udx_socket
        return [] if sock is None else local_addresses(sock)

    async def _add_handshake(
        self, k: bytes, noise: bytes, client_address: Address, req: IncomingRequest, direct: bool
    ) -> _Handshake | None:
        """JS ``_addHandshake``: read the client's noise, ask the firewall, reply, then prepare
        the path (direct, LAN, relay, holepunch). The steps are the methods below."""
        hs = self._claim_slot(k)
        assert self._key_pair is not None
        try:
            wrap = self.create_handshake(self._key_pair, None)
            remote = await wrap.recv(noise)
        except Exception:  # bytes that fail Noise, or an external handshake that refused it
            self._clear_later(hs)
            return None
        remote_public_key = wrap.remote_public_key
        if remote_public_key is None or self.closing:
            self._clear_later(hs)
            return None
        if await self._rejects(remote_public_key, remote, client_address) or self.closing:
            self._clear_later(hs)
            return None
        hs.remote_payload = remote
        hs.client_lan = [a for a in remote.addresses4 if is_private(a[0])]
        replied = await self._write_reply(hs, wrap, remote)
        if replied is None:
            return None
        error, our_remote, relay_through = replied
        if error != Error.NONE:
            self._destroy_raw(hs)
            self._clear_later(hs)
            return hs
        return await self._prepare_path(hs, remote, req, client_address, direct, our_remote, relay_through)

    def _claim_slot(self, k: bytes) -> _Handshake:
        """The handshake takes the first free slot; its index is the holepunch ``id``."""
        slots, free = self._holepunches, self._free_slots
        hid = len(slots)
        while free:  # the lowest free slot, as JS's indexOf(null), without scanning every slot
            i = heapq.heappop(free)
            if i < len(slots) and slots[i] is None:
                hid = i
                break
        hs = _Handshake(hid, k)
        if hid == len(self._holepunches):
            self._holepunches.append(hs)
        else:
            self._holepunches[hid] = hs
        return hs

    async def _rejects(self, remote_public_key: bytes, remote: NoisePayload, client_address: Address) -> bool:
        """The user's firewall: True (or raising) drops the handshake silently."""
        if self.firewall is None:
            return False
        try:
            res = self.firewall(remote_public_key, remote, client_address)
            if inspect.isawaitable(res):
                res = await res
            return bool(res)
        except Exception:
            _log.debug("server firewall raised; dropping the handshake", exc_info=True)
            return True

    async def _write_reply(
        self, hs: _Handshake, wrap: Handshake, remote: NoisePayload
    ) -> tuple[int, Address | None, bytes | None] | None:
        """Allocate the raw stream and write our noise reply into ``hs.reply``.

        Returns ``(error, our remote address, relay_through)``, or None when the reply failed."""
        assert self._announcer is not None
        if remote.version != 1:
            error = Error.VERSION_MISMATCH
        elif remote.udx is None:
            error = Error.ABORTED
        else:
            error = Error.NONE
        our_remote = self.dht.remote_address()
        addresses: list[Address] = []
        if our_remote is not None:
            addresses.append(our_remote)
        if self._share_local_address:
            addresses.extend(self._local_addresses())
        if error == Error.NONE:
            hs.raw_stream = self.dht.create_raw_stream(
                firewall=lambda s, p, h: self._raw_firewall(hs, s, p, h)
            )
        relay_addresses = self.relay_addresses
        relay_through = self.relay_through() if callable(self.relay_through) else self.relay_through
        if relay_through is not None:
            hs.relay_token = relay_token()
        try:
            hs.reply = await wrap.send(
                NoisePayload(
                    error=error,
                    firewall=Firewall.OPEN if our_remote is not None else Firewall.UNKNOWN,
                    holepunch=None
                    if our_remote is not None
                    else HolepunchInfo(hs.id, list(self._announcer.relays)),
                    addresses4=addresses,
                    udx=UdxInfo(hs.raw_stream.id if hs.raw_stream is not None else 0, 0, False),
                    secret_stream=SecretStreamInfo(),
                    relay_through=(
                        RelayThroughInfo(relay_through, hs.relay_token)
                        if relay_through is not None and hs.relay_token is not None
                        else None
                    ),
                    relay_addresses=list(relay_addresses) if relay_addresses else None,
                )
            )
            hs.result = wrap.final()
        except Exception:
            _log.debug("server handshake reply failed", exc_info=True)
            self._destroy_raw(hs)
            self._clear_later(hs)
            return None
        return error, our_remote, relay_through

    async def _prepare_path(
        self,
        hs: _Handshake,
        remote: NoisePayload,
        req: IncomingRequest,
        client_address: Address,
        direct: bool,
        our_remote: Address | None,
        relay_through: bytes | None,
    ) -> _Handshake | None:
        """After a good reply: connect to an OPEN client at once, or start the relay and get a
        holepuncher ready (LAN clients and firewalled servers), with the initial timeout armed."""
        assert hs.result is not None
        if remote.firewall == Firewall.OPEN or direct:
            sock = udx_of(req.socket) if direct else self.dht.udx_socket
            self.dht.stats_punches["open"] += 1
            if sock is not None:
                self._on_socket(hs, sock, client_address[1], client_address[0], "direct")
            return hs

        if relay_through is not None or remote.relay_through is not None:
            self._start_relay(hs, relay_through, remote)

        loop = asyncio.get_running_loop()
        server_address = req.to
        if (
            not direct
            and client_address[0] == server_address[0]
            and hs.client_lan
            and self._share_local_address
            and match_address(self._local_addresses(), hs.client_lan) is not None
        ):
            hs.payload = SecurePayload(hs.result.holepunch_secret)
            await self._setup_holepuncher(hs, remote.firewall)
            hs.prepunching = loop.call_later(HANDSHAKE_INITIAL_TIMEOUT / 1000, self._on_abort, hs)
            return hs

        if self.closing:
            self._clear_later(hs)
            return None

        if our_remote is not None or self._never_punch:
            hs.prepunching = loop.call_later(HANDSHAKE_INITIAL_TIMEOUT / 1000, self._on_abort, hs)
            return hs

        hs.payload = SecurePayload(hs.result.holepunch_secret)
        await self._setup_holepuncher(hs, remote.firewall)
        hs.reply_from_puncher = True
        puncher = hs.puncher
        assert puncher is not None
        hs.prepunching = loop.call_later(HANDSHAKE_INITIAL_TIMEOUT / 1000, puncher.destroy)
        return hs

    async def _setup_holepuncher(self, hs: _Handshake, remote_firewall: int) -> None:
        if hs.puncher is not None:
            return
        puncher = await Holepuncher.create(self.dht, self.dht.session(), False, remote_firewall)
        if self.closing:
            puncher.destroy()
            return
        hs.puncher = puncher
        puncher.on_connect = lambda s, p, h: self._on_socket(hs, s, p, h, "holepunched")
        puncher.on_abort = lambda: self._on_abort(hs)

    def _raw_firewall(self, hs: _Handshake, sock: UDXSocket, port: int, host: str) -> bool:
        if not 0 < port < 65536:
            return True
        self._on_socket(hs, sock, port, host, None)
        return False

    def _on_socket(
        self,
        hs: _Handshake,
        sock: UDXSocket,
        port: int,
        host: str,
        path: str | None,
        remote_id: int | None = None,
    ) -> None:
        raw = hs.raw_stream
        if raw is None or hs.result is None or hs.remote_payload is None:
            return
        udx = hs.remote_payload.udx
        assert udx is not None
        if hs.relayed:
            if path != "relayed":
                self._upgrade(hs, raw, sock, port, host, udx.id)
            return
        self._clear_later(hs)
        if hs.prepunching is not None:
            hs.prepunching.cancel()
            hs.prepunching = None
        raw.connect(sock, udx.id if remote_id is None else remote_id, port, host)
        stream = self.create_stream(False, hs.result, self.dht.connection_keep_alive)
        if path is None:
            path = self._classify(hs, sock, port, host)
        stream.user_data = {"dht": path_info(path, host, port, hs.result.remote_public_key)}
        hs.stream = stream
        attach_stream(raw, stream.protocol)
        self._accept(stream, raw, hs)
        if path == "relayed" and hs.puncher is not None and not hs.puncher.destroyed:
            hs.relayed = True  # keep punching: a direct path replaces the relay (JS confirmDirectUpgrade)
            return
        hs.raw_stream = None
        self._stop_puncher(hs)

    def _classify(self, hs: _Handshake, sock: UDXSocket, port: int, host: str) -> str:
        """The path of a connection the client opened (its first packet reached ``sock``)."""
        if _is_lan(host, port, hs.client_lan):
            return "lan"
        on_puncher = sock is not self.dht.server_udx_socket and sock is not self.dht.udx_socket
        return "holepunched" if on_puncher else "direct"

    def _upgrade(
        self, hs: _Handshake, raw: UDXStream, sock: UDXSocket, port: int, host: str, rid: int
    ) -> None:
        hs.raw_stream = None
        hs.relayed = False
        changed = raw.change_remote(sock, rid, port, host)
        if hs.stream is not None and isinstance(hs.stream.user_data, dict):
            hs.stream.user_data["dht"].update(
                path="holepunched",
                relayed=False,
                holepunched=True,
                remote_address=(host, port),
                upgraded_from_relay=True,
            )
        self._spawn(close_relay_after(changed, hs.relay_stream))
        self._stop_puncher(hs)

    def _stop_puncher(self, hs: _Handshake) -> None:
        if hs.puncher is not None:
            hs.puncher.on_abort = noop
            hs.puncher.destroy()

    def _accept(self, stream: SecretStream, raw: UDXStream, hs: _Handshake) -> None:
        self.connections.add(stream)
        self._accepted.append(stream)
        self._accepted_event.set()
        self._spawn(self._run_connection(stream, raw, hs))

    async def _run_connection(self, stream: SecretStream, raw: UDXStream, hs: _Handshake) -> None:
        try:
            if self.on_connection is not None:
                try:
                    res = self.on_connection(stream)
                    if inspect.isawaitable(res):
                        await res
                except Exception:
                    _log.exception("on_connection callback failed")
            with contextlib.suppress(Exception):
                await stream.wait_closed()
        except asyncio.CancelledError:
            self.connections.discard(stream)
            if not raw.closed:
                # the server closed while the connection lives on (as in JS): the DHT node still
                # owns its raw stream and destroys it on close; waiting for it here would hang
                raise
            self._connection_ended(stream, raw, hs)
            raise
        self.connections.discard(stream)
        with contextlib.suppress(Exception):
            await raw.wait_closed()
        self._connection_ended(stream, raw, hs)

    def _connection_ended(self, stream: SecretStream, raw: UDXStream, hs: _Handshake) -> None:
        with contextlib.suppress(ValueError):
            self._accepted.remove(stream)
        self.dht.release_raw_stream(raw)
        if hs.raw_stream is raw:  # relayed, never upgraded
            hs.raw_stream = None
            hs.relayed = False
            self._stop_puncher(hs)
        if hs.relay_stream is not None:
            hs.relay_stream.close()

    def _on_abort(self, hs: _Handshake) -> None:
        hs.aborted = True
        if hs.prepunching is not None:
            hs.prepunching.cancel()
            hs.prepunching = None
        if hs.puncher is not None:
            hs.puncher.on_abort = noop
            hs.puncher.destroy()
        if hs.relay_token is None:  # else the blind relay may still pair this raw stream
            self._destroy_raw(hs)
            self._clear_later(hs)

    def _start_relay(self, hs: _Handshake, relay_through: bytes | None, remote: NoisePayload) -> None:
        if relay_through is not None and hs.relay_token is not None:
            is_initiator, public_key, token = True, relay_through, hs.relay_token
        elif remote.relay_through is not None:
            is_initiator = False
            public_key, token = remote.relay_through.public_key, remote.relay_through.token
        else:
            return
        hs.relay_token = token
        self.dht.stats_relaying["attempts"] += 1
        self._spawn(self._relay(hs, public_key, is_initiator, token))

    async def _relay(self, hs: _Handshake, public_key: bytes, is_initiator: bool, token: bytes) -> None:
        raw = hs.raw_stream
        if raw is None:
            return
        try:
            stream, sock, port, host, remote_id = await relay_connection(
                self.dht, public_key, is_initiator, token, raw, keep_alive=self.dht.connection_keep_alive
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.debug("blind relay pairing failed", exc_info=True)
            self.dht.stats_relaying["aborts"] += 1
            if hs.aborted:
                self._destroy_raw(hs)
                self._clear_later(hs)
            return
        if hs.raw_stream is not raw:
            stream.abort()  # connected directly meanwhile
            return
        self.dht.stats_relaying["successes"] += 1
        hs.relay_stream = stream
        self._on_socket(hs, sock, port, host, "relayed", remote_id)

    def _destroy_raw(self, hs: _Handshake) -> None:
        raw = hs.raw_stream
        if raw is not None:
            hs.raw_stream = None
            raw.destroy()
            self.dht.release_raw_stream(raw)

    def _clear_later(self, hs: _Handshake) -> None:
        if hs.clearing is not None or self.closing:
            return
        with contextlib.suppress(RuntimeError):
            hs.clearing = asyncio.get_running_loop().call_later(HANDSHAKE_CLEAR_WAIT / 1000, self._clear, hs)

    def _clear(self, hs: _Handshake) -> None:
        if hs.id >= len(self._holepunches) or self._holepunches[hs.id] is not hs:
            return
        self._holepunches[hs.id] = None
        heapq.heappush(self._free_slots, hs.id)
        while self._holepunches and self._holepunches[-1] is None:
            self._holepunches.pop()
        self._connects.pop(hs.key, None)

    # -- holepunch ---------------------------------------------------------------------------------

    async def on_peer_holepunch(
        self, id: int, payload: bytes, peer_address: Address, req: IncomingRequest
    ) -> tuple[bytes, object | None] | None:
        h = self._holepunches[id] if 0 <= id < len(self._holepunches) else None
        if h is None or self.closing:
            return None
        if h.payload is None:
            return self._abort(h)
        remote = h.payload.decrypt(payload)
        if remote is None:
            return None
        p = h.puncher
        if p is None:
            return self._abort(h)
        announcer = self._announcer
        is_server_relay = announcer is not None and announcer.is_relay(req.from_.address)
        if remote.error != Error.NONE:
            if remote.round >= h.round:
                h.round = remote.round
            return self._abort(h)
        token = h.payload.token(peer_address)
        echoed = is_server_relay and remote.remote_token is not None and remote.remote_token == token
        if udx_of(req.socket) is p.socket:
            p.nat.add(req.to, req.from_.address)
        if remote.round >= h.round:
            h.round = remote.round
            p.update_remote(
                punching=remote.punching,
                firewall=remote.firewall,
                addresses=remote.addresses,
                verified=peer_address[0] if echoed else None,
            )
        stable = await p.analyze(False)
        if p.destroyed:
            return None
        if not p.remote_holepunching and not stable:
            stable = await p.analyze(True)
            if p.destroyed:
                return None
            if not stable:
                return self._abort(h)
        if (
            p.nat.firewall in (Firewall.OPEN, Firewall.CONSISTENT)
            and remote.remote_address is not None
            and any(
                a[0] == remote.remote_address[0] and a[1] == remote.remote_address[1]
                for a in p.nat.addresses or ()
            )
        ):
            p.ping(peer_address)  # fast mode
        if p.remote_holepunching:
            if self._holepunch_fn is not None and not self._holepunch_fn(
                p.remote_firewall, p.nat.firewall, p.remote_addresses, p.nat.addresses
            ):
                return None if p.destroyed else self._abort(h)
            if h.prepunching is not None:
                h.prepunching.cancel()
                h.prepunching = None
            dht = self.dht
            random_nat = p.remote_firewall >= Firewall.RANDOM or p.nat.firewall >= Firewall.RANDOM
            if random_nat and not dht.punch_throttle.allowed(dht.loop_time()):
                dht.stats_punches["try_later"] += 1
                if h.relay_token is None:
                    return self._abort(h, Error.TRY_LATER)
                return self._reply(h, p, Error.TRY_LATER, is_server_relay, token, remote)
            punching = await p.punch()
            if p.destroyed:
                return None
            if not punching:
                return self._abort(h)
        if p.nat.firewall != Firewall.UNKNOWN:
            p.nat.freeze()
        return self._reply(h, p, Error.NONE, is_server_relay, token, remote)

    def _reply(
        self,
        h: _Handshake,
        p: Holepuncher,
        error: int,
        is_server_relay: bool,
        token: bytes,
        remote: HolepunchPayload,
    ) -> tuple[bytes, object | None]:
        assert h.payload is not None
        return (
            h.payload.encrypt(
                HolepunchPayload(
                    error=error,
                    firewall=p.nat.firewall,
                    round=h.round,
                    connected=p.connected,
                    punching=p.punching,
                    addresses=p.nat.addresses,
                    remote_address=None,
                    token=token if is_server_relay else None,
                    remote_token=remote.token,
                )
            ),
            p.ref.wrapper,
        )

    def _abort(self, h: _Handshake, error: int = Error.ABORTED) -> tuple[bytes, object | None] | None:
        if h.payload is None:
            if h.puncher is not None:
                h.puncher.destroy()
            return None
        payload = h.payload.encrypt(HolepunchPayload(error=error, firewall=Firewall.UNKNOWN, round=h.round))
        if h.puncher is not None:
            h.puncher.destroy()
        return payload, self.dht.socket


def _settle(fut: asyncio.Future[Any], task: asyncio.Task[Any]) -> None:
    if fut.done():
        return
    if task.cancelled():
        fut.set_result(None)
    elif task.exception() is not None:
        _log.debug("handshake failed", exc_info=task.exception())
        fut.set_result(None)
    else:
        fut.set_result(task.result())


def _is_lan(host: str, port: int, lan: list[Address]) -> bool:
    return any(a[0] == host and a[1] == port for a in lan)

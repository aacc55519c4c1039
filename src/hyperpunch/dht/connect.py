"""Connecting to a HyperDHT server by public key (JS ``hyperdht/lib/connect.js``).

Invariants:

* The flow is JS's: FIND_PEER toward ``H(public_key)``; PEER_HANDSHAKE (Noise IK, our payload
  names our raw UDX stream id) through the nodes that answer, at most 2 at a time, until one
  reply completes the handshake; then either connect at once (the server is OPEN, or the node we
  asked *was* the server), race the LAN shortcut (same public host: ping the server's private
  address), or hole punch (probe round, then punch round over PEER_HOLEPUNCH with encrypted
  payloads) -- or wait for an OPEN server to reach us. With ``relay_through`` (ours or the
  server's) a blind-relay pairing races all of that (:mod:`~hyperpunch.dht.relay`).
* The raw stream is claimed once (``_on_socket``): the first path that works wins and every other
  one is stopped (puncher destroyed, session requests destroyed) -- except that a relayed win
  keeps the puncher going, and a later punched path moves the live stream off the relay
  (``change_remote``; the relay connection closes once drained), as JS ``confirmDirectUpgrade``.
* :func:`connect` returns the :class:`SecretStream` once a path is chosen and its keys are set
  (JS emits ``open`` at the same point); on failure it raises a
  :class:`~hyperpunch.dht.errors.DHTError` with the JS code and leaves nothing running: the
  attempt's tasks belong to one :class:`~hyperpunch.aio.TaskOwner`, closed when it ends. A relayed
  stream's remaining punching is a task owned by the node.
* The node is seen only through :class:`~hyperpunch.dht.context.NodeContext`.
* ``stream.user_data["dht"]`` says how it connected: ``path`` in {"direct", "lan", "holepunched",
  "relayed"} plus ``relayed``, ``holepunched``, ``lan``, ``remote_address``,
  ``remote_public_key`` and, after an upgrade, ``upgraded_from_relay``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from hyperpunch.aio import TaskOwner
from hyperpunch.crypto import KeyPair
from hyperpunch.crypto import hash as _hash
from hyperpunch.dht.constants import PASSIVE_CONNECT_TIMEOUT, Error, Firewall
from hyperpunch.dht.context import NodeContext
from hyperpunch.dht.errors import (
    CannotHolepunchError,
    DHTError,
    HandshakeInvalidError,
    HolepunchAbortedError,
    HolepunchDoubleRandomizedNatsError,
    HolepunchInvalidError,
    HolepunchProbeTimeoutError,
    NodeDestroyedError,
    PeerConnectionFailedError,
    PeerNotFoundError,
    RelayAbortedError,
    RemoteAbortedError,
    RemoteNotHolepunchableError,
    RemoteNotHolepunchingError,
    ServerErrorError,
    ServerIncompatibleError,
)
from hyperpunch.dht.handshake import CreateHandshake, CreateStream, Handshake, default_stream, local_handshake
from hyperpunch.dht.holepuncher import (
    Holepuncher,
    is_bogon,
    is_reserved,
    local_addresses,
    match_address,
)
from hyperpunch.dht.messages import (
    HolepunchPayload,
    NoisePayload,
    RelayInfo,
    RelayThroughInfo,
    SecretStreamInfo,
    UdxInfo,
)
from hyperpunch.dht.noise_wrap import NoiseWrapResult
from hyperpunch.dht.paths import HolepunchFn, close_relay_after, noop, path_info, udx_of
from hyperpunch.dht.peer_rpc import HolepunchReply, peer_handshake, peer_holepunch
from hyperpunch.dht.relay import relay_connection, relay_token
from hyperpunch.dht.secure_payload import SecurePayload
from hyperpunch.dht.socket_pool import attach_stream
from hyperpunch.dht_rpc.transport import DatagramSocket
from hyperpunch.encoding import Address
from hyperpunch.secretstream import SecretStream
from hyperpunch.udx.socket import UDXSocket
from hyperpunch.udx.stream import UDXStream

__all__ = ["connect"]

_log = logging.getLogger(__name__)

OPEN_TIMEOUT = 30.0  # seconds for the secret-stream headers once a path is chosen


@dataclass(slots=True)
class _ConnectInfo:
    relayed: bool
    relay_address: Address
    client_address: Address
    server_address: Address
    payload: NoisePayload


def _addr(a: tuple[str, int]) -> Address:
    return Address(str(a[0]), int(a[1]))


def _diff(a: tuple[str, int], b: tuple[str, int]) -> bool:
    return a[0] != b[0] or a[1] != b[1]


class _Connector:
    def __init__(
        self,
        dht: NodeContext,
        public_key: bytes,
        key_pair: KeyPair,
        *,
        relay_addresses: list[Address] | None,
        local_connection: bool,
        fast_open: bool,
        holepunch: HolepunchFn | None,
        relay_through: bytes | None = None,
        create_handshake: CreateHandshake | None = None,
        create_stream: CreateStream | None = None,
    ) -> None:
        self.dht = dht
        self.create_stream = create_stream or default_stream
        self.relay_through = relay_through
        self.relay_token: bytes | None = relay_token() if relay_through is not None else None
        self.relay_pending = False
        self.relayed_claim = False  # connected through the relay, still punching for a direct path
        self.relay_stream: SecretStream | None = None
        self.stream: SecretStream | None = None
        self.settled = asyncio.Event()  # no punching left to wait for
        self.public_key = public_key
        self.target = _hash(public_key)
        self.session = dht.session()
        self.relay_addresses = relay_addresses or []
        self.remote_relay_addresses: list[Address] = []
        self.round = 0
        self.handshake: Handshake | None = (create_handshake or local_handshake)(key_pair, public_key)
        self.request: asyncio.Future[bytes] | None = None  # our first noise message, made once
        self.receiving = False  # a reply is being read (an external handshake takes a round trip)
        self.lan = local_connection
        self.fast_open = fast_open
        self.holepunch_fn = holepunch
        self.firewall = Firewall.UNKNOWN
        self.raw: UDXStream | None = dht.create_raw_stream(firewall=self._raw_firewall)
        self.connect_info: _ConnectInfo | None = None
        self.hs: NoiseWrapResult | None = None
        self.puncher: Holepuncher | None = None
        self.payload: SecurePayload | None = None
        self.server_socket: tuple[UDXSocket, int, str] | None = None
        self.result: asyncio.Future[SecretStream] = asyncio.get_running_loop().create_future()
        self.tasks = TaskOwner("dht connect")
        self.wake = asyncio.Event()
        self.last_error: BaseException | None = None

    # -- state ------------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        if self.puncher is not None and self.puncher.connected:
            return True
        if not self.result.done():
            return False
        # relayed but still punching for a direct path: not done (JS isDone)
        return not (self.relayed_claim and self.puncher is not None and not self.puncher.destroyed)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        if self.tasks.closed:  # cleaned up: what is left belongs to the node
            return self.dht.spawn(coro)
        return self.tasks.spawn(coro)

    def fail(self, err: BaseException) -> None:
        if self.result.done() or self.done:
            return
        if self.puncher is not None and not self.puncher.destroyed:
            return  # the puncher is still working; its abort reports
        if self.relay_pending:
            return  # waiting for the blind relay
        self.session.destroy()
        self.result.set_exception(err)

    async def sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)

    async def cleanup(self) -> None:
        self.wake.set()
        await self.tasks.aclose()
        if self.puncher is not None:
            self.puncher.on_abort = noop
            self.puncher.destroy()
        self.session.destroy()
        if self.raw is not None and not self.relayed_claim:  # never claimed
            self.raw.destroy()
            self.dht.release_raw_stream(self.raw)
            self.raw = None

    # -- claiming the raw stream ------------------------------------------------------------------

    def _raw_firewall(self, sock: UDXSocket, port: int, host: str) -> bool:
        if self.connect_info is not None and self.hs is not None:
            self._on_socket(sock, port, host, "holepunched" if self._is_pool_socket(sock) else "direct")
        else:
            self.server_socket = (sock, port, host)
        return False

    def _is_pool_socket(self, sock: UDXSocket) -> bool:
        return sock is not self.dht.server_udx_socket and sock is not self.dht.udx_socket

    def _on_socket(
        self, sock: UDXSocket, port: int, host: str, path: str, remote_id: int | None = None
    ) -> None:
        raw = self.raw
        info, hs = self.connect_info, self.hs
        if raw is None or info is None or hs is None or info.payload.udx is None:
            return
        if self.relayed_claim:
            if path != "relayed":
                self._upgrade(raw, sock, port, host, path, info.payload.udx.id)
            return
        rid = info.payload.udx.id if remote_id is None else remote_id
        if info.payload.relay_addresses:
            self.dht.relay_addresses_cache.set(self.public_key, info.payload.relay_addresses)
        elif self.remote_relay_addresses:
            self.dht.relay_addresses_cache.set(self.public_key, self.remote_relay_addresses)
        raw.connect(sock, rid, port, host)
        stream = self.create_stream(True, hs, self.dht.connection_keep_alive)
        stream.user_data = {"dht": path_info(path, host, port, hs.remote_public_key)}
        attach_stream(raw, stream.protocol)
        self.stream = stream
        self.dht.spawn(_forget_when_closed(self.dht, raw, lambda: self.relay_stream))
        if not self.result.done():
            self.result.set_result(stream)
        if path == "relayed" and self.puncher is not None and not self.puncher.destroyed:
            # keep punching: a direct path found later replaces the relay (JS confirmDirectUpgrade)
            self.relayed_claim = True
            return
        self.raw = None
        self._stop_puncher()

    def _upgrade(self, raw: UDXStream, sock: UDXSocket, port: int, host: str, path: str, rid: int) -> None:
        """Move a relayed connection onto a direct path (the relay is closed once it is drained)."""
        self.raw = None
        self.relayed_claim = False
        changed = raw.change_remote(sock, rid, port, host)
        if self.stream is not None and isinstance(self.stream.user_data, dict):
            info = self.stream.user_data["dht"]
            info.update(
                path=path,
                relayed=False,
                holepunched=path == "holepunched",
                lan=path == "lan",
                remote_address=(host, port),
                upgraded_from_relay=True,
            )
        self.dht.spawn(close_relay_after(changed, self.relay_stream))
        self._stop_puncher()

    def _stop_puncher(self) -> None:
        if self.puncher is not None:
            self.puncher.on_abort = noop
            self.puncher.destroy()
        self.settled.set()

    # -- finding the server and the handshake ----------------------------------------------------

    async def find_and_connect(self) -> None:
        relay_addresses: list[Address] | None = list(self.relay_addresses) or None
        if relay_addresses is None:
            cached = self.dht.relay_addresses_cache.get(self.public_key)
            if cached:
                relay_addresses = list(cached)
        route = self.dht.router.get(self.target)
        if route is not None and route.relay is not None:
            relay_addresses = [route.relay]
        pre = bool(relay_addresses)
        sem = asyncio.Semaphore(3 if pre else 2)
        attempts = 0
        running: set[asyncio.Task[Any]] = set()

        async def attempt(addrs: list[Address]) -> None:
            try:
                for a in addrs:
                    if self.done or self.connect_info is not None:
                        return
                    self.remote_relay_addresses.append(a)
                    try:
                        await self.connect_through_node(a, None)
                    except asyncio.CancelledError:
                        raise
                    except Exception as err:
                        self.last_error = err
            finally:
                sem.release()

        def launch(addrs: list[Address]) -> None:
            t = self.spawn(attempt(addrs))
            running.add(t)
            t.add_done_callback(running.discard)

        if pre and relay_addresses is not None:
            await sem.acquire()
            launch(relay_addresses)
        tries = 2 if relay_addresses is not None else 1
        for _ in range(tries):
            if self.done or self.connect_info is not None:
                break
            q = self.dht.find_peer(
                self.target, hash=False, session=self.session, nodes=relay_addresses, retries=3
            )
            try:
                async for data in q:
                    await sem.acquire()
                    if self.done:
                        sem.release()
                        return
                    if self.connect_info is not None:
                        sem.release()
                        break
                    frm = data.from_.address
                    if pre and relay_addresses and any(not _diff(frm, r) for r in relay_addresses):
                        sem.release()
                        continue
                    attempts += 1
                    launch([frm])
            finally:
                await q.aclose()
            relay_addresses = None
            if attempts and running:
                await asyncio.gather(*running, return_exceptions=True)
        if running:
            await asyncio.gather(*list(running), return_exceptions=True)
        if self.done:
            return
        if self.connect_info is None:
            if isinstance(self.last_error, DHTError) and not attempts:
                raise self.last_error
            raise PeerConnectionFailedError() if attempts else PeerNotFoundError()

    async def connect_through_node(self, address: Address, socket: DatagramSocket | None) -> None:
        handshake = self.handshake
        if handshake is None:
            return
        if self.request is None:
            addr = self.dht.remote_address()
            addresses4: list[Address] = []
            if addr is not None:
                addresses4.append(addr)
            server_sock = self.dht.server_udx_socket
            if self.lan and server_sock is not None:
                addresses4.extend(local_addresses(server_sock))
            self.firewall = Firewall.OPEN if addr is not None else Firewall.UNKNOWN
            assert self.raw is not None
            self.request = self.spawn(
                handshake.send(
                    NoisePayload(
                        error=Error.NONE,
                        firewall=self.firewall,
                        addresses4=addresses4,
                        udx=UdxInfo(self.raw.id, 0, False),
                        secret_stream=SecretStreamInfo(),
                        relay_through=(
                            RelayThroughInfo(self.relay_through, self.relay_token)
                            if self.relay_through is not None and self.relay_token is not None
                            else None
                        ),
                    )
                )
            )
        request = await asyncio.shield(self.request)
        reply = await peer_handshake(
            self.dht, self.target, request, address, socket=socket, session=self.session
        )
        if self.done or self.connect_info is not None or self.handshake is not handshake or self.receiving:
            return
        self.receiving = True
        try:
            payload = await handshake.recv(reply.noise)
        except Exception as err:
            raise HandshakeInvalidError() from err
        finally:
            self.receiving = False
        if self.done or self.connect_info is not None or self.handshake is not handshake:
            return
        if payload.version != 1:
            self.fail(ServerIncompatibleError())
            return
        if payload.error != Error.NONE:
            self.fail(ServerErrorError())
            return
        if payload.udx is None:
            self.fail(ServerErrorError("Server did not send UDX data"))
            return
        self.handshake = None
        try:
            self.hs = handshake.final()
        except Exception as err:  # an external handshake that did not complete
            self.fail(HandshakeInvalidError(str(err)))
            return
        self.request = None
        self.connect_info = _ConnectInfo(
            reply.relayed, _addr(address), _addr(reply.client_address), _addr(reply.server_address), payload
        )
        self.payload = SecurePayload(self.hs.holepunch_secret)
        if payload.relay_through is not None or self.relay_through is not None:
            self._start_relay(payload)
        if self.server_socket is not None:
            sock, port, host = self.server_socket
            self._on_socket(sock, port, host, "direct")
            return
        if not reply.relayed:
            via = udx_of(socket) or self.dht.udx_socket
            if via is not None:
                self._on_socket(via, address[1], address[0], "direct")
        self.session.destroy()

    # -- blind relay ----------------------------------------------------------------------------

    def _start_relay(self, payload: NoisePayload) -> None:
        if payload.relay_through is not None:
            is_initiator = False
            public_key, token = payload.relay_through.public_key, payload.relay_through.token
        else:
            assert self.relay_through is not None and self.relay_token is not None
            is_initiator, public_key, token = True, self.relay_through, self.relay_token
        self.relay_token = token
        self.relay_pending = True
        self.dht.stats_relaying["attempts"] += 1
        self.spawn(self._relay(public_key, is_initiator, token))

    async def _relay(self, public_key: bytes, is_initiator: bool, token: bytes) -> None:
        raw = self.raw
        if raw is None:
            self.relay_pending = False
            return
        try:
            stream, sock, port, host, remote_id = await relay_connection(
                self.dht, public_key, is_initiator, token, raw, keep_alive=self.dht.connection_keep_alive
            )
        except asyncio.CancelledError:
            self.relay_pending = False
            raise
        except Exception as err:
            self.relay_pending = False
            self.dht.stats_relaying["aborts"] += 1
            self.fail(err if isinstance(err, DHTError) else RelayAbortedError(str(err)))
            return
        self.relay_pending = False
        if self.raw is not raw or self.done:
            stream.abort()  # a direct path won meanwhile
            return
        self.dht.stats_relaying["successes"] += 1
        self.relay_stream = stream
        self._on_socket(sock, port, host, "relayed", remote_id)

    # -- after the handshake ----------------------------------------------------------------------

    async def holepunch(self) -> None:
        info = self.connect_info
        assert info is not None and self.payload is not None
        relay_address, server_address, client_address, payload = (
            info.relay_address,
            info.server_address,
            info.client_address,
            info.payload,
        )
        remote_holepunchable = payload.holepunch is not None and len(payload.holepunch.relays) > 0
        relayed = _diff(server_address, relay_address)

        if payload.firewall == Firewall.OPEN or (relayed and not remote_holepunchable):
            addr = next((a for a in payload.addresses4 if not is_bogon(a[0])), server_address)
            sock = self.dht.udx_socket
            if sock is not None:
                self.dht.stats_punches["open"] += 1
                self._on_socket(sock, addr[1], addr[0], "direct")
                return

        if self.firewall == Firewall.OPEN:  # the server connects to us
            await self.sleep(PASSIVE_CONNECT_TIMEOUT / 1000)
            self.session.destroy()
            self.fail(HolepunchAbortedError())
            return

        if self.lan and relayed and client_address[0] == server_address[0]:
            server_addresses = [a for a in payload.addresses4 if not is_reserved(a[0])]
            server_sock = self.dht.server_udx_socket
            if server_addresses and server_sock is not None:
                mine = local_addresses(server_sock)
                target = match_address(mine, server_addresses) or server_addresses[0]
                self.spawn(self._lan_ping(server_sock, target, remote_holepunchable))
                if not remote_holepunchable:
                    return

        if not remote_holepunchable or payload.holepunch is None:
            self.fail(CannotHolepunchError())
            return

        puncher = await Holepuncher.create(self.dht, self.session, True, payload.firewall)
        if self.done:
            puncher.destroy()
            return
        self.puncher = puncher
        puncher.on_connect = lambda s, p, h: self._on_socket(s, p, h, "holepunched")
        puncher.on_abort = self._on_punch_abort
        server_relay = _pick_server_relay(payload.holepunch.relays, relay_address)

        try:
            probe = await self.probe_round(server_address if self.fast_open else None, server_relay, True)
        except Exception as err:
            self._destroy_puncher()
            self.fail(err)
            return
        if self.done or probe is None:
            return
        token, peer_address = probe
        if not _diff(server_relay.relay_address, relay_address) and _diff(server_address, peer_address):
            server_address = peer_address
            puncher.open_session(server_address)
        if self.holepunch_fn is not None and not self.holepunch_fn(
            puncher.remote_firewall, puncher.nat.firewall, puncher.remote_addresses, puncher.nat.addresses
        ):
            await self.abort(server_relay, HolepunchAbortedError("Client aborted holepunch"))
            return
        try:
            await self.round_punch(server_address, token, relay_address, server_relay)
        except Exception as err:
            self._destroy_puncher()
            self.fail(err)

    def _on_punch_abort(self) -> None:
        self.settled.set()
        self.session.destroy()
        self.fail(HolepunchAbortedError())

    def _destroy_puncher(self) -> None:
        if self.puncher is not None:
            self.puncher.destroy()
        self.session.destroy()

    async def _lan_ping(self, sock: UDXSocket, addr: Address, remote_holepunchable: bool) -> None:
        try:
            await self.dht.ping(addr)
        except Exception:
            if not remote_holepunchable:
                self.fail(HolepunchAbortedError())
            return
        if self.done:
            return
        self._on_socket(sock, addr[1], addr[0], "lan")

    async def update_holepunch(
        self, peer_address: Address, relay_addr: Address, payload: HolepunchPayload
    ) -> tuple[bool, HolepunchReply, HolepunchPayload] | None:
        info, puncher, secure = self.connect_info, self.puncher, self.payload
        assert info is not None and puncher is not None and secure is not None
        assert info.payload.holepunch is not None
        hp = await peer_holepunch(
            self.dht,
            self.target,
            info.payload.holepunch.id,
            secure.encrypt(payload),
            peer_address,
            relay_addr,
            socket=puncher.ref.wrapper,
            session=self.session,
        )
        if self.done:
            return None
        remote = secure.decrypt(hp.payload)
        if remote is None:
            raise HolepunchInvalidError()
        if remote.error == Error.TRY_LATER and self.relay_token is not None and payload.punching:
            return True, hp, remote
        if remote.error != Error.NONE:
            raise RemoteAbortedError(f"Remote aborted with error code {remote.error}")
        echoed = (
            remote.remote_token is not None
            and payload.token is not None
            and remote.remote_token == payload.token
        )
        puncher.update_remote(
            punching=remote.punching,
            firewall=remote.firewall,
            addresses=remote.addresses,
            verified=peer_address[0] if echoed else None,
        )
        return False, hp, remote

    async def probe_round(
        self, server_address: Address | None, server_relay: RelayInfo, retry: bool
    ) -> tuple[bytes | None, Address] | None:
        puncher = self.puncher
        assert puncher is not None
        if server_address is not None:
            puncher.open_session(server_address)
        if self.done:
            return None
        round_ = self.round
        self.round += 1
        reply = await self.update_holepunch(
            server_relay.peer_address,
            server_relay.relay_address,
            HolepunchPayload(
                error=Error.NONE,
                firewall=puncher.nat.firewall,
                round=round_,
                addresses=puncher.nat.addresses,
                remote_address=server_address,
            ),
        )
        if self.done or reply is None:
            return None
        _later, hp, remote = reply
        peer_address, token = hp.peer_address, remote.token
        puncher.nat.add(hp.to, hp.from_)
        if puncher.remote_firewall == Firewall.UNKNOWN:
            await self.sleep(1.0)
            if self.done:
                return None
        stable = await puncher.analyze(False)
        if self.done:
            return None
        if not stable:
            stable = await puncher.analyze(True)
            if self.done:
                return None
            if stable:
                return await self.probe_round(server_address, server_relay, False)
        if (puncher.remote_firewall == Firewall.UNKNOWN or token is None) and retry:
            return await self.probe_round(server_address, server_relay, False)
        if puncher.remote_firewall == Firewall.UNKNOWN or puncher.nat.firewall == Firewall.UNKNOWN:
            await self.abort(server_relay, HolepunchProbeTimeoutError())
            return None
        if puncher.remote_firewall >= Firewall.RANDOM and puncher.nat.firewall >= Firewall.RANDOM:
            await self.abort(server_relay, HolepunchDoubleRandomizedNatsError())
            return None
        return token, peer_address

    async def round_punch(
        self,
        server_address: Address,
        remote_token: bytes | None,
        client_relay: Address,
        server_relay: RelayInfo,
    ) -> None:
        puncher, secure, dht = self.puncher, self.payload, self.dht
        assert puncher is not None and secure is not None
        puncher.nat.freeze()
        is_random = puncher.remote_firewall >= Firewall.RANDOM or puncher.nat.firewall >= Firewall.RANDOM
        throttle = dht.punch_throttle
        if is_random and not throttle.allowed(dht.loop_time()):
            raise HolepunchAbortedError()  # waiting for a slot needs a blind relay (relay_through)
        if is_random:
            throttle.begin()
        round_ = self.round
        self.round += 1
        try:
            reply = await self.update_holepunch(
                server_address,
                client_relay,
                HolepunchPayload(
                    error=Error.NONE,
                    firewall=puncher.nat.firewall,
                    round=round_,
                    punching=True,
                    addresses=puncher.nat.addresses,
                    token=secure.token(server_address),
                    remote_token=remote_token,
                ),
            )
        finally:
            if is_random:
                throttle.cancel()
        if self.done or reply is None:
            return
        if reply[0]:
            raise HolepunchAbortedError()
        if not puncher.remote_holepunching:
            raise RemoteNotHolepunchingError()
        if not await puncher.punch():
            raise RemoteNotHolepunchableError()

    async def abort(self, server_relay: RelayInfo, err: BaseException) -> None:
        with contextlib.suppress(Exception):
            round_ = self.round
            self.round += 1
            await self.update_holepunch(
                server_relay.peer_address,
                server_relay.relay_address,
                HolepunchPayload(error=Error.ABORTED, firewall=Firewall.UNKNOWN, round=round_),
            )
        self._destroy_puncher()
        self.fail(err)

    async def run(self) -> SecretStream:
        try:
            # finish bootstrapping first: the firewall state we advertise in the handshake must not
            # flip (UNKNOWN -> OPEN) while the connection is being set up
            await self.dht.ready()
            await self.find_and_connect()
        except DHTError as err:
            self.fail(err)
        except Exception as err:
            self.fail(PeerConnectionFailedError(str(err)))
        if not self.done and self.connect_info is None:
            self.fail(HandshakeInvalidError())
        if not self.done and self.connect_info is not None:
            self.spawn(self._holepunch_safe())
        stream = await self.result
        try:
            await asyncio.wait_for(stream.wait_open(), OPEN_TIMEOUT)
        except BaseException:
            stream.abort()
            raise
        return stream

    async def linger(self, stream: SecretStream) -> None:
        """After returning a relayed stream: wait for the punch to end (upgrade or give up)."""
        try:
            settled = asyncio.ensure_future(self.settled.wait())
            closed = asyncio.ensure_future(stream.wait_closed())
            try:
                await asyncio.wait({settled, closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in (settled, closed):
                    t.cancel()
                await asyncio.gather(settled, closed, return_exceptions=True)
        finally:
            self.relayed_claim = False
            self.raw = None  # claimed by the relayed stream: not ours to destroy
            await self.cleanup()

    async def _holepunch_safe(self) -> None:
        try:
            await self.holepunch()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self._destroy_puncher()
            self.fail(err)


async def _forget_when_closed(
    dht: NodeContext, raw: UDXStream, relay_stream: Callable[[], SecretStream | None]
) -> None:
    """Forget ``raw`` once closed, and close the relay stream the connection used, if any."""
    try:
        await raw.wait_closed()
    except Exception:
        pass
    finally:
        dht.release_raw_stream(raw)
        relay = relay_stream()
        if relay is not None:
            relay.close()


def _pick_server_relay(relays: list[RelayInfo], client_relay: Address) -> RelayInfo:
    for r in relays:
        if not _diff(r.relay_address, client_relay):
            return r
    return relays[0]


async def connect(
    dht: NodeContext,
    remote_public_key: bytes,
    *,
    key_pair: KeyPair | None = None,
    relay_through: bytes | None = None,
    relay_addresses: list[Address] | None = None,
    local_connection: bool = True,
    fast_open: bool = True,
    holepunch: HolepunchFn | None = None,
    create_handshake: CreateHandshake | None = None,
    create_stream: CreateStream | None = None,
) -> SecretStream:
    """Connect to ``remote_public_key`` through ``dht``; see the module docstring.

    ``create_handshake`` / ``create_stream`` let someone else do the Noise steps and run the stream
    (:mod:`~hyperpunch.dht.handshake`; a non-custodial relay)."""
    if dht.destroyed:
        raise NodeDestroyedError()
    await dht.bind()
    c = _Connector(
        dht,
        bytes(remote_public_key),
        key_pair or dht.default_key_pair,
        relay_addresses=relay_addresses,
        local_connection=local_connection,
        fast_open=fast_open,
        holepunch=holepunch,
        relay_through=relay_through,
        create_handshake=create_handshake,
        create_stream=create_stream,
    )
    try:
        stream = await c.run()
    except BaseException:
        dht.stats_connects["failed"] += 1
        await c.cleanup()
        raise
    if c.relayed_claim:
        dht.spawn(c.linger(stream))  # keeps punching for a direct path, owned by the node
    else:
        await c.cleanup()
    path = stream.user_data["dht"]["path"]
    dht.stats_connects[path] = dht.stats_connects.get(path, 0) + 1
    return stream

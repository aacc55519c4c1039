"""A relayed HyperDHT client in Python (JS ``@hyperswarm/dht-relay`` ``lib/node.js``).

Invariants:

* :class:`RelayedDHT` has HyperDHT's face (``connect``, ``create_server`` → ``listen``/``aclose``,
  ``lookup``, ``announce``, ``unannounce``, ``announce_query``, ``lookup_and_unannounce``,
  ``aclose``), so a Hyperswarm runs over it; every DHT operation is done by the relay.
* One WebSocket, one Protomux channel ``@hyperswarm/dht-relay``; the ``handshake`` is the first
  message. Every table (streams, servers, queries, handshakes, signees) is emptied when the
  WebSocket closes: open streams fail with :class:`~hyperpunch.relay.errors.RelayClosedError`.
* Custodial (``custodial=True``): the secret key goes to the relay, which runs Noise,
  secret-stream and signing; streams are :class:`~hyperpunch.relay.stream.RelayedStream`.
* Non-custodial (the default): the key stays here. The relay asks for each Noise IK step
  (``noiseSend``/``noiseReceive`` → ``noiseReply``) and each announce signature
  (``signAnnounce``/``signUnannounce`` → ``signature``); streams are real
  :class:`~hyperpunch.secretstream.SecretStream` s over the relayed ciphertext, so the relay sees
  no plaintext. The server firewall runs here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import connect as ws_connect

from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.crypto import KeyPair
from hyperpunch.crypto import key_pair as make_key_pair
from hyperpunch.dht.constants import NS_PEER_HOLEPUNCH
from hyperpunch.dht.messages import Announce as AnnounceRecord
from hyperpunch.dht.messages import NoisePayload, noise_payload
from hyperpunch.dht.messages import Peer as PeerRecord
from hyperpunch.dht.noise_wrap import NOISE_PROLOGUE
from hyperpunch.dht.queries import LookupResult
from hyperpunch.dht.records import sign_announce, sign_unannounce
from hyperpunch.dht_rpc.requests import Peer as NodePeer
from hyperpunch.encoding import Address, DecodeError, decode
from hyperpunch.errors import HyperpunchError
from hyperpunch.noise import NoiseState
from hyperpunch.protomux import Channel, MessageSpec, Protomux
from hyperpunch.relay import messages as m
from hyperpunch.relay.errors import RelayClosedError, RelayProtocolError
from hyperpunch.relay.messages import MessageType as T
from hyperpunch.relay.session import PROTOCOL, IdCounter
from hyperpunch.relay.stream import RelayedStream, RelayedTransport
from hyperpunch.relay.transport import WebSocketStream
from hyperpunch.secretstream import PresetHandshake, SecretStream, stream_id

__all__ = ["RelayedDHT", "RelayedQuery", "RelayedServer"]

FirewallFn = Callable[[bytes, NoisePayload, Any], "bool | Awaitable[bool]"]
OnConnection = Callable[[Any], "Awaitable[None] | None"]

_ids = IdCounter()  # JS lib/id.js: one counter per process


def _hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


class RelayedQuery:
    """A lookup / announce / unannounce run by the relay: iterate it for
    :class:`~hyperpunch.dht.queries.LookupResult` items; ``finished()`` waits for the end."""

    def __init__(self, client: RelayedDHT, qid: int) -> None:
        self.client = client
        self.id = qid
        self._items: asyncio.Queue[LookupResult | None] = asyncio.Queue()
        self._done = False

    def on_result(self, data: bytes) -> None:
        try:
            a = decode(m.ANNOUNCERS, data)
        except DecodeError:
            return
        peers = [PeerRecord(p.public_key, list(p.relay_addresses)) for p in a.peers]
        from_ = NodePeer(a.from_.address.host, a.from_.address.port, a.from_.id)
        self._items.put_nowait(
            LookupResult(a.token, from_, Address(a.to.address.host, a.to.address.port), peers)
        )

    def on_finished(self) -> None:
        if not self._done:
            self._done = True
            self._items.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[LookupResult]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[LookupResult]:
        while True:
            item = await self._items.get()
            if item is None:
                self._items.put_nowait(None)
                return
            yield item

    async def finished(self) -> None:
        async for _ in self:
            pass

    async def to_list(self) -> list[LookupResult]:
        return [x async for x in self]

    def destroy(self) -> None:
        """Stop waiting (the relay has no message to stop a query; it ends on its own)."""
        self.client.forget_query(self.id)
        self.on_finished()

    async def aclose(self) -> None:
        self.destroy()

    async def __aenter__(self) -> RelayedQuery:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.destroy()


@dataclass(slots=True)
class _Handshake:
    noise: NoiseState
    is_initiator: bool
    key_pair: KeyPair
    stream: RelayedStream | None = None
    server: RelayedServer | None = None
    remote_public_key: bytes | None = None


class RelayedServer:
    """A server listening through the relay (JS ``lib/server.js``)."""

    def __init__(
        self, client: RelayedDHT, firewall: FirewallFn | None, on_connection: OnConnection | None
    ) -> None:
        self.client = client
        self.firewall = firewall
        self.on_connection = on_connection
        self.alias = _ids()
        self.remote_alias: int | None = None
        self.key_pair: KeyPair | None = None
        self.address: Address | None = None
        self.closed = False
        self.connections: set[Any] = set()
        loop = asyncio.get_running_loop()
        self._listening: asyncio.Future[None] = loop.create_future()
        self._closed = asyncio.Event()
        self._accepted: asyncio.Queue[Any] = asyncio.Queue()

    @property
    def public_key(self) -> bytes | None:
        return None if self.key_pair is None else self.key_pair.public_key

    @property
    def listening(self) -> bool:
        return self._listening.done() and not self.closed

    async def listen(self, key_pair: KeyPair | None = None) -> None:
        if self.key_pair is not None:
            await asyncio.shield(self._listening)
            return
        self.key_pair = key_pair or self.client.default_key_pair
        self.client.start_listen(self)
        await asyncio.shield(self._listening)

    def on_listening(self, remote_alias: int, address: Address) -> None:
        self.remote_alias = remote_alias
        self.address = address
        if not self._listening.done():
            self._listening.set_result(None)

    def on_closed(self) -> None:
        self.closed = True
        if not self._listening.done():
            self._listening.set_exception(RelayClosedError("the relay closed the server"))
            self._listening.exception()
        self._closed.set()
        self._accepted.put_nowait(None)

    async def rejects(self, remote_public_key: bytes, payload: NoisePayload) -> bool:
        if self.firewall is None:
            return False
        try:
            res = self.firewall(remote_public_key, payload, None)
            if inspect.isawaitable(res):
                res = await res
            return bool(res)
        except Exception:
            return True

    def accepted(self, conn: Any) -> None:
        self.connections.add(conn)
        self._accepted.put_nowait(conn)
        if self.on_connection is not None:
            self.client.run_callback(self.on_connection, conn)

    async def aclose(self) -> None:
        if self.closed:
            return
        if self.remote_alias is None or not self.client.send(T.CLOSE, m.Close(self.alias)):
            self.on_closed()
            return
        await self._closed.wait()

    def __aiter__(self) -> RelayedServer:
        return self

    async def __anext__(self) -> Any:
        conn = await self._accepted.get()
        if conn is None:
            self._accepted.put_nowait(None)
            raise StopAsyncIteration
        return conn

    async def __aenter__(self) -> RelayedServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class RelayedDHT:
    """HyperDHT through a ``@hyperswarm/dht-relay`` relay at ``url``: ``async with RelayedDHT(url)``."""

    def __init__(self, url: str, key_pair: KeyPair | None = None, *, custodial: bool = False) -> None:
        self.url = url
        self.custodial = custodial
        self.default_key_pair = key_pair or make_key_pair()
        self.destroyed = False
        self.ws: WebSocketStream | None = None
        self.mux: Protomux | None = None
        self.channel: Channel | None = None
        self._tasks = TaskOwner("relayed dht")
        self._close_once = CloseOnce(self._close)
        self._connecting: dict[int, RelayedStream] = {}  # our alias -> stream not yet open
        self._connections: dict[int, RelayedStream] = {}  # the relay's alias -> stream
        self._secret: dict[int, SecretStream] = {}  # our alias -> non-custodial secret stream
        self._opening: dict[int, RelayedServer] = {}  # our alias -> server not yet listening
        self._servers: dict[int, RelayedServer] = {}  # the relay's alias -> server
        self._queries: dict[int, RelayedQuery] = {}
        self._handshakes: dict[int, _Handshake] = {}
        self._signees: dict[int, tuple[bytes, KeyPair]] = {}
        self._keys: dict[int, KeyPair] = {}  # our alias -> the key pair of a connect
        self._ready: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    @staticmethod
    def key_pair(seed: bytes | None = None) -> KeyPair:
        return make_key_pair(seed)

    async def ready(self) -> None:
        if self._ready is None:
            self._ready = self._tasks.spawn(self._open())
        await asyncio.shield(self._ready)

    async def _open(self) -> None:
        ws = await ws_connect(self.url, max_size=None, compression=None, ping_interval=None)
        self.ws = WebSocketStream(ws)
        self.mux = Protomux(self.ws)
        handlers: dict[int, Callable[[Any], None]] = {
            T.PING: self._on_ping,
            T.CONNECTION: self._on_connection,
            T.INCOMING: self._on_incoming,
            T.DESTROY: self._on_destroy,
            T.LISTENING: self._on_listening,
            T.CLOSED: self._on_closed,
            T.OPEN: self._on_open,
            T.END: self._on_end,
            T.DATA: self._on_data,
            T.RESULT: self._on_result,
            T.FINISHED: self._on_finished,
            T.SIGN_ANNOUNCE: lambda v: self._on_sign(v, announce=True),
            T.SIGN_UNANNOUNCE: lambda v: self._on_sign(v, announce=False),
            T.NOISE_SEND: self._on_noise_send,
            T.NOISE_RECEIVE: self._on_noise_receive,
        }

        def spec(i: int, codec: Any) -> MessageSpec:
            handler = handlers.get(i)
            if handler is None:
                return MessageSpec(codec, auto_batch=False)
            return MessageSpec(codec, on_message=lambda v, _c: self._guard(handler, v), auto_batch=False)

        channel = self.mux.create_channel(
            PROTOCOL,
            messages=[spec(i, c) for i, c in enumerate(m.MESSAGES)],
            on_close=lambda _r, _c: self._tasks.spawn(self.aclose()) if not self._tasks.closed else None,
        )
        if channel is None:
            raise RelayProtocolError("could not open the relay channel")
        self.channel = channel
        channel.open()
        kp = self.default_key_pair
        self.send(
            T.HANDSHAKE, m.Handshake(self.custodial, kp.public_key, kp.secret_key if self.custodial else None)
        )

    def _guard(self, handler: Callable[[Any], None], value: Any) -> None:
        try:
            handler(value)
        except (HyperpunchError, ValueError, KeyError) as err:  # a bad message from the relay
            self._tasks.spawn(self._fail(RelayProtocolError(f"bad message from the relay: {err!r}")))

    async def _fail(self, err: HyperpunchError) -> None:
        for s in [*self._connecting.values(), *self._connections.values()]:
            s.fail(err)
        await self.aclose()

    async def aclose(self) -> None:
        await self._close_once()

    async def _close(self) -> None:
        self.destroyed = True
        err = RelayClosedError()
        for s in [*self._connecting.values(), *self._connections.values()]:
            s.fail(err)
        for secret in list(self._secret.values()):
            secret.abort()
        for srv in [*self._opening.values(), *self._servers.values()]:
            srv.on_closed()
        for q in list(self._queries.values()):
            q.on_finished()
        for tbl in (
            self._connecting,
            self._connections,
            self._secret,
            self._opening,
            self._servers,
            self._queries,
        ):
            tbl.clear()
        self._handshakes.clear()
        self._signees.clear()
        if self.mux is not None:
            await self.mux.aclose()
        if self.ws is not None:
            await self.ws.aclose()
        await self._tasks.aclose()

    async def __aenter__(self) -> RelayedDHT:
        await self.ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- StreamHost (the seam of RelayedStream) -----------------------------------------------------

    def send(self, type_: int, value: Any) -> bool:
        ch = self.channel
        if ch is None or ch.closed or self.destroyed:
            return False
        ch.messages[type_].send(value)
        return True

    def send_data(self, alias: int, chunks: list[bytes]) -> None:
        self.send(T.DATA, m.Data(alias, chunks))

    def send_end(self, alias: int) -> None:
        self.send(T.END, m.End(alias))

    def send_destroy(self, alias: int, paired: bool) -> None:
        if paired:  # JS lib/stream.js: only a paired stream tells the relay
            self.send(T.DESTROY, m.Destroy(True, alias))

    def forget_stream(self, stream: RelayedStream) -> None:
        self._connecting.pop(stream.alias, None)
        if stream.remote_alias is not None and self._connections.get(stream.remote_alias) is stream:
            del self._connections[stream.remote_alias]
        self._secret.pop(stream.alias, None)
        self._keys.pop(stream.alias, None)

    def pause_reading(self) -> None:
        if self.ws is not None:
            self.ws.pause_reading()

    def resume_reading(self) -> None:
        if self.ws is not None:
            self.ws.resume_reading()

    async def drain(self) -> None:
        if self.ws is not None:
            await self.ws.drain()

    def forget_query(self, qid: int) -> None:
        self._queries.pop(qid, None)
        self._signees.pop(qid, None)

    def run_callback(self, fn: OnConnection, conn: Any) -> None:
        res = fn(conn)
        if inspect.isawaitable(res):
            self._tasks.spawn(_await(res))

    # -- connect -------------------------------------------------------------------------------------

    async def connect(
        self,
        remote_public_key: bytes,
        *,
        key_pair: KeyPair | None = None,
        timeout: float | None = None,
        **_opts: Any,
    ) -> Any:
        """Connect to the server on ``remote_public_key`` through the relay; returns once open.
        (HyperDHT's other options, e.g. ``relay_addresses``, are the relay's business: ignored.)"""
        await self.ready()
        kp = key_pair or self.default_key_pair
        alias = _ids()
        stream = RelayedStream(
            self, alias, is_initiator=True, public_key=kp.public_key, remote_public_key=remote_public_key
        )
        self._connecting[alias] = stream
        self._keys[alias] = kp
        sk = kp.secret_key if self.custodial else None
        self.send(T.CONNECT, m.Connect(self.custodial, alias, kp.public_key, bytes(remote_public_key), sk))
        try:
            await asyncio.wait_for(self._wait_connected(stream), timeout)
        except BaseException:
            stream.abort()
            secret = self._secret.pop(alias, None)
            if secret is not None:
                secret.abort()
            raise
        return self._secret.get(alias, stream)

    async def _wait_connected(self, stream: RelayedStream) -> None:
        await stream.wait_open()
        secret = self._secret.get(stream.alias)
        if secret is not None:
            await secret.wait_open()

    # -- servers -------------------------------------------------------------------------------------

    def create_server(
        self, *, firewall: FirewallFn | None = None, on_connection: OnConnection | None = None, **_opts: Any
    ) -> RelayedServer:
        return RelayedServer(self, firewall, on_connection)

    def start_listen(self, server: RelayedServer) -> None:
        self._tasks.spawn(self._listen(server))

    async def _listen(self, server: RelayedServer) -> None:
        await self.ready()
        kp = server.key_pair
        assert kp is not None
        self._opening[server.alias] = server
        self._signees[server.alias] = (_hash(kp.public_key), kp)
        sk = kp.secret_key if self.custodial else None
        self.send(T.LISTEN, m.Listen(self.custodial, server.alias, kp.public_key, sk))

    # -- queries -------------------------------------------------------------------------------------

    def _query(self, type_: int, topic: bytes, key_pair: KeyPair | None) -> RelayedQuery:
        q = RelayedQuery(self, _ids())
        self._queries[q.id] = q
        self._tasks.spawn(self._start_query(type_, q, bytes(topic), key_pair))
        return q

    async def _start_query(self, type_: int, q: RelayedQuery, topic: bytes, kp: KeyPair | None) -> None:
        try:
            await self.ready()
        except BaseException:
            q.on_finished()
            raise
        if kp is None:
            sent = self.send(T.LOOKUP, m.Lookup(q.id, topic))
        else:
            self._signees[q.id] = (topic, kp)
            sk = kp.secret_key if self.custodial else None
            sent = self.send(type_, m.Announce(self.custodial, q.id, topic, kp.public_key, sk))
        if not sent:
            q.on_finished()

    def lookup(self, target: bytes, **_opts: Any) -> RelayedQuery:
        return self._query(T.LOOKUP, target, None)

    def announce_query(
        self,
        target: bytes,
        key_pair: KeyPair,
        relay_addresses: list[Any] | None = None,
        *,
        clear: bool = False,
    ) -> RelayedQuery:
        return self._query(T.ANNOUNCE, target, key_pair)

    def lookup_and_unannounce(self, target: bytes, key_pair: KeyPair) -> RelayedQuery:
        return self._query(T.UNANNOUNCE, target, key_pair)

    async def announce(
        self, target: bytes, key_pair: KeyPair, relay_addresses: list[Any] | None = None, **_o: Any
    ) -> None:
        await self.announce_query(target, key_pair, relay_addresses).finished()

    async def unannounce(self, target: bytes, key_pair: KeyPair) -> None:
        await self.lookup_and_unannounce(target, key_pair).finished()

    # -- messages from the relay ---------------------------------------------------------------------

    def _on_ping(self, _msg: None) -> None:
        self.send(T.PONG, None)

    def _on_open(self, msg: m.Open) -> None:
        stream = self._connecting.pop(msg.remote_alias, None)
        if stream is None:
            return
        self._connections[msg.alias] = stream
        if msg.custodial:
            stream.on_open(msg.alias, msg.handshake_hash)
            return
        hs = self._handshakes.pop(msg.handshake_id or 0, None)
        if hs is None:
            stream.fail(RelayProtocolError("open names an unknown handshake"))
            return
        preset = _preset(hs)
        secret = SecretStream(True, handshake=preset)
        self._secret[stream.alias] = secret
        RelayedTransport(stream, secret.protocol)
        stream.on_open(msg.alias, preset.hash)

    def _on_destroy(self, msg: m.Destroy) -> None:
        stream = self._connections.get(msg.alias) if msg.paired else self._connecting.get(msg.alias)
        if stream is not None:
            stream.on_remote_destroy(msg.error)

    def _on_end(self, msg: m.End) -> None:
        stream = self._connections.get(msg.alias)
        if stream is not None:
            stream.on_remote_end()

    def _on_data(self, msg: m.Data) -> None:
        stream = self._connections.get(msg.alias)
        if stream is not None:
            stream.on_remote_data(msg.data)

    def _on_listening(self, msg: m.Listening) -> None:
        server = self._opening.pop(msg.remote_alias, None)
        if server is None:
            return
        self._servers[msg.alias] = server
        server.on_listening(msg.alias, msg.address)

    def _on_closed(self, msg: m.Closed) -> None:
        server = self._servers.pop(msg.alias, None)
        if server is not None:
            self._signees.pop(server.alias, None)
            server.on_closed()

    def _on_incoming(self, msg: m.Incoming) -> None:
        server = self._servers.get(msg.server_alias)
        if server is None:
            return
        self._tasks.spawn(self._firewall(server, msg))

    async def _firewall(self, server: RelayedServer, msg: m.Incoming) -> None:
        try:
            payload = decode(noise_payload, msg.payload)
            deny = await server.rejects(msg.remote_public_key, payload)
        except DecodeError:
            deny = True
        self.send(T.DENY if deny else T.ACCEPT, m.Deny(msg.id) if deny else m.Accept(msg.id))

    def _on_connection(self, msg: m.Connection) -> None:
        server = self._servers.get(msg.server_alias)
        if server is None or server.key_pair is None:
            return
        alias = _ids()
        stream = RelayedStream(
            self,
            alias,
            is_initiator=False,
            public_key=server.key_pair.public_key,
            remote_public_key=msg.remote_public_key,
        )
        self._connections[msg.alias] = stream
        self.send(T.CONNECTED, m.Connected(alias, msg.alias))
        if msg.custodial:
            stream.on_open(msg.alias, msg.handshake_hash)
            server.accepted(stream)
            return
        hs = self._handshakes.pop(msg.handshake_id or 0, None)
        if hs is None:
            stream.fail(RelayProtocolError("connection names an unknown handshake"))
            return
        preset = _preset(hs)
        stream.on_open(msg.alias, preset.hash)
        secret = SecretStream(False, handshake=preset)
        RelayedTransport(stream, secret.protocol)
        server.accepted(secret)

    def _on_result(self, msg: m.Result) -> None:
        q = self._queries.get(msg.id)
        if q is not None:
            q.on_result(msg.data)

    def _on_finished(self, msg: m.Finished) -> None:
        q = self._queries.pop(msg.id, None)
        if q is not None:
            self._signees.pop(msg.id, None)
            q.on_finished()

    def _on_sign(self, msg: m.SignAnnounce, *, announce: bool) -> None:
        signee = self._signees.get(msg.signee)
        if signee is None or msg.peer_id is None:
            return
        target, kp = signee
        record = AnnounceRecord(PeerRecord(kp.public_key, list(msg.relay_addresses)))
        sign = sign_announce if announce else sign_unannounce
        self.send(T.SIGNATURE, m.Signature(msg.id, sign(target, msg.token, msg.peer_id, record, kp)))

    def _on_noise_send(self, msg: m.NoiseSend) -> None:
        if msg.is_initiator:
            stream = self._connecting.get(msg.remote_stream_alias or 0)
            if stream is None or stream.remote_public_key is None:
                return
            kp = self._key_pair_of(stream)
            noise = NoiseState(
                "IK", True, kp, prologue=NOISE_PROLOGUE, remote_static=stream.remote_public_key
            )
            hs = _Handshake(noise, True, kp, stream=stream, remote_public_key=stream.remote_public_key)
            self._handshakes[msg.id] = hs
        else:
            found = self._handshakes.get(msg.id)
            if found is None:
                return
            hs = found
        self._noise_step(msg.id, hs, hs.noise.send(msg.payload))

    def _on_noise_receive(self, msg: m.NoiseReceive) -> None:
        if msg.is_initiator:
            found = self._handshakes.get(msg.id)
            if found is None:
                return
            self._noise_step(msg.id, found, found.noise.recv(msg.payload))
            return
        server = self._servers.get(msg.server_alias or 0)
        if server is None or server.key_pair is None:
            return
        noise = NoiseState("IK", False, server.key_pair, prologue=NOISE_PROLOGUE)
        hs = _Handshake(noise, False, server.key_pair, server=server)
        self._handshakes[msg.id] = hs
        plain = noise.recv(msg.payload)
        hs.remote_public_key = noise.remote_static
        self._tasks.spawn(self._responder_firewall(msg.id, hs, server, plain))

    async def _responder_firewall(
        self, hid: int, hs: _Handshake, server: RelayedServer, plain: bytes
    ) -> None:
        rpk = hs.remote_public_key or bytes(32)
        try:
            deny = await server.rejects(rpk, decode(noise_payload, plain))
        except DecodeError:
            deny = True
        if deny:
            self._handshakes.pop(hid, None)
            self.send(T.NOISE_REPLY, m.NoiseReply(False, False, hid, b"", rpk))
            return
        self._noise_step(hid, hs, plain)

    def _noise_step(self, hid: int, hs: _Handshake, payload: bytes) -> None:
        noise = hs.noise
        if noise.complete and noise.hash is not None:
            reply = m.NoiseReply(
                hs.is_initiator,
                True,
                hid,
                payload,
                None,
                stream_id(noise.hash, True),
                _holepunch_secret(noise.hash),
            )
        else:
            rpk = None if hs.is_initiator else (noise.remote_static or bytes(32))
            reply = m.NoiseReply(hs.is_initiator, False, hid, payload, rpk)
        self.send(T.NOISE_REPLY, reply)

    def _key_pair_of(self, stream: RelayedStream) -> KeyPair:
        if stream.public_key == self.default_key_pair.public_key:
            return self.default_key_pair
        kp = self._keys.get(stream.alias)
        if kp is None:
            raise RelayProtocolError("no key pair for this connection")
        return kp


def _preset(hs: _Handshake) -> PresetHandshake:
    n = hs.noise
    if not n.complete or n.hash is None or n.tx is None or n.rx is None or n.remote_static is None:
        raise RelayProtocolError("the relayed Noise handshake is not complete")
    return PresetHandshake(
        tx=n.tx, rx=n.rx, hash=n.hash, public_key=hs.key_pair.public_key, remote_public_key=n.remote_static
    )


def _holepunch_secret(handshake_hash: bytes) -> bytes:
    return hashlib.blake2b(NS_PEER_HOLEPUNCH, digest_size=32, key=handshake_hash).digest()


async def _await(aw: Awaitable[Any]) -> None:
    with contextlib.suppress(Exception):
        await aw

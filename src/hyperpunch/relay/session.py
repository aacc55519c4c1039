"""One relayed client on the relay side (JS ``lib/node-proxy.js`` and the proxies it makes).

Invariants:

* A session is one Protomux channel ``@hyperswarm/dht-relay`` over one message stream (a
  WebSocket); everything it opens (DHT streams, servers, queries, firewall and signature
  requests) is recorded in its own tables and freed in :meth:`RelaySession.aclose`, which runs
  once, whatever ended the session (the client left, its frames did not decode, it went over a
  limit, the relay shut down). Every task belongs to the session's :class:`TaskOwner`.
* Nothing a client sends can raise out of a handler: bad values close that session only.
* Messages before the client's ``handshake`` are ignored (as JS, which builds its proxy then).
* Aliases, query ids and request ids come from one :class:`IdCounter` shared by all sessions
  (JS ``lib/id.js``: one process-wide counter from 1, wrapping to 1 at 2^32).
* Backpressure: a DHT stream's data is read only while the WebSocket queue is under its high
  water mark; while a DHT stream we write to is paused, reading the WebSocket stops.
* Custody: custodial requests (a secret key) run hyperdht with that key; with
  ``require_non_custodial`` they are refused with ``NON_CUSTODIAL_REQUIRED``. Non-custodial
  connect and listen run hyperdht with the client doing each Noise step
  (:class:`~hyperpunch.relay.noncustodial.ClientHandshake`), announce records signed by the client,
  the firewall in the client, and stream bytes relayed as the client's ciphertext.
  :attr:`RelaySession.secret_keys_seen` counts the secret keys a client ever sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.crypto import KeyPair
from hyperpunch.dht import HyperDHT, Server
from hyperpunch.dht import queries as dht_queries
from hyperpunch.dht.messages import NoisePayload, noise_payload
from hyperpunch.dht_rpc import QueryStream
from hyperpunch.encoding import Address, encode
from hyperpunch.errors import HyperpunchError
from hyperpunch.protomux import Channel, MessageSpec, Protomux
from hyperpunch.relay import messages as m
from hyperpunch.relay.errors import (
    LimitExceededError,
    NonCustodialRequiredError,
    RelayClosedError,
    RelayProtocolError,
)
from hyperpunch.relay.messages import MessageType as T
from hyperpunch.relay.noncustodial import ClientHandshake, handshake_id, raw_stream
from hyperpunch.relay.signed import signed_announce, signed_unannounce
from hyperpunch.relay.transport import WebSocketStream
from hyperpunch.secretstream import SecretStream

__all__ = ["HEARTBEAT", "PROTOCOL", "IdCounter", "RelayLimits", "RelaySession"]

log = logging.getLogger(__name__)

PROTOCOL = "@hyperswarm/dht-relay"
HEARTBEAT = 15.0  # seconds between pings (JS lib/protocol.js heartbeatFrequency)
SIGNATURE_TIMEOUT = 30.0  # seconds a client has to sign an announce record
_ZERO32 = bytes(32)


class IdCounter:
    """JS ``lib/id.js``: ids from 1 upward, wrapping to 1 at 2^32."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 1

    def __call__(self) -> int:
        n = self._next
        self._next = n + 1 if n + 1 < 1 << 32 else 1
        return n


@dataclass(frozen=True, slots=True)
class RelayLimits:
    """Per-client limits; going over one closes the request (or, for rate, the client) with a
    ``RELAY_LIMIT_EXCEEDED`` error."""

    max_streams: int = 1024
    max_servers: int = 64
    max_queries: int = 64
    max_pending: int = 1024  # firewall and signature requests waiting for the client
    max_frame: int = 8 << 20  # one WebSocket message
    high_water: int = 1 << 20  # bytes queued toward the client before DHT reads pause
    message_rate: float = 20_000.0  # messages per second, sustained
    message_burst: float = 40_000.0
    heartbeat: float = HEARTBEAT  # seconds between pings; no pong for 3 of them closes the client


@dataclass(slots=True)
class _Stream:
    """A DHT stream relayed for the client: ``alias`` is ours, ``remote_alias`` the client's."""

    alias: int
    remote_alias: int | None
    stream: SecretStream | None = None
    closed_by_client: bool = False


@dataclass(slots=True)
class _Server:
    alias: int
    remote_alias: int
    server: Server
    custodial: bool
    firewall: dict[int, asyncio.Future[bool]] = field(default_factory=dict)


class RelaySession:
    """The relay side of one client connection; ``await session.run()`` serves it to the end."""

    def __init__(
        self,
        dht: HyperDHT,
        stream: WebSocketStream,
        *,
        ids: IdCounter,
        limits: RelayLimits | None = None,
        require_non_custodial: bool = False,
    ) -> None:
        self.dht = dht
        self.stream = stream
        self.limits = limits or RelayLimits()
        self.require_non_custodial = require_non_custodial
        self.handshake: m.Handshake | None = None
        self.error: BaseException | None = None
        self._ids = ids
        self._loop = asyncio.get_running_loop()
        self._tasks = TaskOwner("relay session")
        self._close_once = CloseOnce(self._close)
        self._done = asyncio.Event()
        # tables, keyed like JS: by the alias the client uses in its messages
        self._connecting: dict[int, _Stream] = {}  # client connect alias -> stream being opened
        self._connections: dict[int, _Stream] = {}  # client alias -> relayed stream
        self._incoming: dict[int, _Stream] = {}  # our alias of a server connection not yet "connected"
        self._servers: dict[int, _Server] = {}  # client server alias -> server
        self._queries: dict[int, QueryStream] = {}
        self._signatures: dict[int, asyncio.Future[bytes]] = {}
        self._handshakes: dict[int, ClientHandshake] = {}  # non-custodial Noise steps in flight
        self.secret_keys_seen = 0
        self._pending = 0
        self._tokens = self.limits.message_burst
        self._last = self._loop.time()
        self._last_alive = self._loop.time()
        self.mux = Protomux(stream)
        self._handlers: dict[int, Callable[[Any], None]] = {
            T.HANDSHAKE: self._on_handshake,
            T.PONG: self._on_pong,
            T.PING: self._on_ping,
            T.CONNECT: self._on_connect,
            T.CONNECTED: self._on_connected,
            T.DENY: self._on_deny,
            T.ACCEPT: self._on_accept,
            T.DESTROY: self._on_destroy,
            T.LISTEN: self._on_listen,
            T.CLOSE: self._on_close,
            T.END: self._on_end,
            T.DATA: self._on_data,
            T.LOOKUP: self._on_lookup,
            T.ANNOUNCE: self._on_announce,
            T.UNANNOUNCE: self._on_unannounce,
            T.SIGNATURE: self._on_signature,
            T.NOISE_REPLY: self._on_noise_reply,
        }
        specs = [
            MessageSpec(codec, on_message=self._dispatcher(i), auto_batch=False)
            for i, codec in enumerate(m.MESSAGES)
        ]
        channel = self.mux.create_channel(PROTOCOL, messages=specs, on_close=self._on_channel_close)
        if channel is None:
            raise RelayProtocolError("could not open the relay channel")
        self.channel: Channel = channel
        channel.open()

    # -- lifecycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until the client leaves (or :meth:`aclose`); then free everything."""
        self._tasks.spawn(self._heartbeat())
        self._tasks.spawn(self._watch_stream())
        try:
            await self._done.wait()
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        await self._close_once()

    @property
    def open_resources(self) -> int:
        """Streams, servers, queries and requests still held (0 once closed)."""
        return (
            len(self._connecting)
            + len(self._connections)
            + len(self._incoming)
            + len(self._servers)
            + len(self._queries)
            + len(self._handshakes)
            + self._pending
        )

    def fail(self, err: BaseException) -> None:
        """Close this client's session because of ``err`` (kept in :attr:`error`)."""
        if self.error is None:
            self.error = err
        log.debug("relay client closed: %s", err)
        self._done.set()

    async def _watch_stream(self) -> None:
        await self.stream.wait_closed()
        self._done.set()

    async def _heartbeat(self) -> None:
        interval = self.limits.heartbeat
        while True:
            await asyncio.sleep(interval)
            if self._loop.time() - self._last_alive > 3 * interval:
                self.fail(RelayProtocolError("the client did not answer pings"))
                return
            self._send(T.PING, None)

    def _on_channel_close(self, _remote: bool, _channel: Channel) -> None:
        self._done.set()

    async def _close(self) -> None:
        self._done.set()
        for s in [*self._connecting.values(), *self._connections.values(), *self._incoming.values()]:
            if s.stream is not None:
                s.stream.abort()
        self._connecting.clear()
        self._connections.clear()
        self._incoming.clear()
        for sig in self._signatures.values():
            if not sig.done():
                sig.set_exception(RelayClosedError())
                sig.exception()
        self._signatures.clear()
        handshakes = list(self._handshakes.values())
        self._handshakes.clear()
        for hs in handshakes:
            hs.close(RelayClosedError())
        for q in self._queries.values():
            q.destroy()
        self._queries.clear()
        servers = list(self._servers.values())
        self._servers.clear()
        for srv in servers:
            for fut in srv.firewall.values():
                if not fut.done():
                    fut.set_result(True)
        await self._tasks.aclose()
        for srv in servers:
            with contextlib.suppress(Exception):
                await srv.server.aclose()
        self._pending = 0
        if isinstance(self.error, HyperpunchError):
            # a clear reason for the client (WebSocket close code 1008: policy violation)
            self.stream.close_code = 1008
            self.stream.close_reason = _utf8_prefix(str(self.error), 120)
        await self.mux.aclose()
        await self.stream.aclose()

    # -- input -----------------------------------------------------------------------------------

    def _dispatcher(self, type_: int) -> Callable[[Any, Channel], None]:
        def on_message(value: Any, _channel: Channel) -> None:
            if self._done.is_set():
                return
            now = self._loop.time()
            self._tokens = min(
                self.limits.message_burst, self._tokens + (now - self._last) * self.limits.message_rate
            )
            self._last = now
            self._tokens -= 1
            if self._tokens < 0:
                self.fail(LimitExceededError(f"more than {self.limits.message_rate:.0f} messages per second"))
                return
            if type_ != T.HANDSHAKE and self.handshake is None:
                return  # JS builds its proxy on the handshake: earlier messages go nowhere
            if getattr(value, "secret_key", None) is not None:
                self.secret_keys_seen += 1
            handler = self._handlers.get(type_)
            if handler is None:
                return  # relay-to-client types, or not for us: ignored as JS does
            try:
                handler(value)
            except HyperpunchError as err:
                self.fail(err)
            except Exception as err:  # a value no handler could use: this client is broken
                self.fail(RelayProtocolError(f"bad {type(value).__name__} message: {err!r}"))

        return on_message

    def _send(self, type_: int, value: Any) -> None:
        self.send_message(type_, value)

    def send_message(self, type_: int, value: object) -> bool:
        """Send one message to the client; False once the session is closing."""
        if self._done.is_set() or self.channel.closed:
            return False
        self.channel.messages[type_].send(value)
        return True

    # -- non-custodial handshakes ----------------------------------------------------------------

    def _client_handshake(
        self,
        public_key: bytes,
        remote_public_key: bytes | None,
        *,
        remote_stream_alias: int | None = None,
        server_alias: int | None = None,
    ) -> ClientHandshake:
        if len(self._handshakes) >= self.limits.max_pending:
            raise LimitExceededError(
                f"too many handshakes waiting for the client (limit {self.limits.max_pending})"
            )
        hs = ClientHandshake(
            self,
            self._ids(),
            is_initiator=remote_stream_alias is not None,
            public_key=public_key,
            remote_public_key=remote_public_key,
            remote_stream_alias=remote_stream_alias,
            server_alias=server_alias,
        )
        if self._done.is_set():
            hs.close(RelayClosedError())
        else:
            self._handshakes[hs.id] = hs
        return hs

    def forget_handshake(self, hid: int) -> None:
        self._handshakes.pop(hid, None)

    def _on_noise_reply(self, msg: m.NoiseReply) -> None:
        hs = self._handshakes.get(msg.id)
        if hs is not None:
            hs.on_reply(msg)

    def _custody_ok(self, custodial: bool) -> bool:
        return not (custodial and self.require_non_custodial)

    def _on_handshake(self, msg: m.Handshake) -> None:
        if self.handshake is not None:
            return
        if msg.custodial and self.require_non_custodial:
            raise NonCustodialRequiredError()
        self.handshake = msg
        self._last_alive = self._loop.time()

    def _on_ping(self, _msg: None) -> None:
        self._send(T.PONG, None)
        self._last_alive = self._loop.time()

    def _on_pong(self, _msg: None) -> None:
        self._last_alive = self._loop.time()

    # -- connect ---------------------------------------------------------------------------------

    def _stream_count(self) -> int:
        return len(self._connecting) + len(self._connections) + len(self._incoming)

    def _on_connect(self, msg: m.Connect) -> None:
        if msg.alias in self._connecting or msg.alias in self._connections:
            raise RelayProtocolError(f"connect reuses alias {msg.alias}")
        error: HyperpunchError | None = None
        if not self._custody_ok(msg.custodial):
            error = NonCustodialRequiredError()
        elif self._stream_count() >= self.limits.max_streams:
            error = LimitExceededError(f"too many streams (limit {self.limits.max_streams})")
        if error is not None:
            self._send(T.DESTROY, m.Destroy(False, msg.alias, str(error)))
            return
        entry = _Stream(self._ids(), msg.alias)
        self._connecting[msg.alias] = entry
        self._tasks.spawn(self._connect(entry, msg))

    async def _connect(self, entry: _Stream, msg: m.Connect) -> None:
        assert entry.remote_alias is not None
        try:
            if msg.secret_key is not None:
                kp = KeyPair(msg.public_key, msg.secret_key)
                stream = await self.dht.connect(msg.remote_public_key, key_pair=kp)
            else:
                alias = msg.alias

                def handshake(key_pair: KeyPair, remote: bytes | None) -> ClientHandshake:
                    return self._client_handshake(key_pair.public_key, remote, remote_stream_alias=alias)

                stream = await self.dht.connect(
                    msg.remote_public_key,
                    key_pair=KeyPair(msg.public_key, b""),  # the secret key stays with the client
                    create_handshake=handshake,
                    create_stream=raw_stream,
                )
        except Exception as err:  # a HyperDHT error, or keys the client made up
            if self._connecting.pop(entry.remote_alias, None) is entry and not entry.closed_by_client:
                self._send(T.DESTROY, m.Destroy(False, entry.remote_alias, _message(err)))
            return
        if self._connecting.pop(entry.remote_alias, None) is not entry or entry.closed_by_client:
            stream.abort()
            return
        entry.stream = stream
        self._connections[entry.remote_alias] = entry
        hid = handshake_id(stream)
        if hid is None:
            self._send(T.OPEN, m.Open(True, entry.alias, entry.remote_alias, stream.handshake_hash, None))
        else:
            self._send(T.OPEN, m.Open(False, entry.alias, entry.remote_alias, None, hid))
        await self._pump(entry, stream)

    async def _pump(self, entry: _Stream, stream: SecretStream) -> None:
        """DHT stream -> client: one ``data`` per message, ``end`` at its end, ``destroy`` on error."""
        try:
            while True:
                try:
                    data = await stream.read()
                except HyperpunchError as err:
                    if not entry.closed_by_client:
                        self._send(T.DESTROY, m.Destroy(True, entry.alias, str(err)))
                    return
                if data is None:
                    break
                self._send(T.DATA, m.Data(entry.alias, [data]))
                if self.stream.buffered > self.limits.high_water:
                    await self.stream.drain()
            if stream.error is None and not entry.closed_by_client:
                self._send(T.END, m.End(entry.alias))
            await stream.wait_closed()
        finally:
            self._forget(entry)

    def _forget(self, entry: _Stream) -> None:
        for table in (self._connections, self._connecting):
            for key, value in list(table.items()):
                if value is entry:
                    del table[key]
        self._incoming.pop(entry.alias, None)

    def _on_destroy(self, msg: m.Destroy) -> None:
        entry = self._connections.get(msg.alias) if msg.paired else self._connecting.get(msg.alias)
        if entry is None and not msg.paired:
            entry = self._connecting.get(msg.alias)
        if entry is None:
            return
        entry.closed_by_client = True
        if entry.stream is not None:
            entry.stream.abort()

    def _on_end(self, msg: m.End) -> None:
        entry = self._connections.get(msg.alias)
        if entry is not None and entry.stream is not None:
            entry.stream.write_eof()

    def _on_data(self, msg: m.Data) -> None:
        entry = self._connections.get(msg.alias)
        if entry is None or entry.stream is None:
            return
        stream = entry.stream
        try:
            for chunk in msg.data:
                stream.write(chunk)
        except HyperpunchError as err:
            self._send(T.DESTROY, m.Destroy(True, entry.alias, str(err)))
            entry.closed_by_client = True
            stream.abort()
            return
        if stream.write_paused:
            self.stream.pause_reading()
            self._tasks.spawn(self._resume_when_drained(stream))

    async def _resume_when_drained(self, stream: SecretStream) -> None:
        try:
            with contextlib.suppress(HyperpunchError):
                await stream.drain()
        finally:
            self.stream.resume_reading()

    # -- servers ---------------------------------------------------------------------------------

    def _on_listen(self, msg: m.Listen) -> None:
        if msg.alias in self._servers:
            raise RelayProtocolError(f"listen reuses alias {msg.alias}")
        if not self._custody_ok(msg.custodial):
            raise NonCustodialRequiredError()
        if len(self._servers) >= self.limits.max_servers:
            raise LimitExceededError(f"too many servers (limit {self.limits.max_servers})")
        alias = self._ids()
        holder: list[_Server] = []

        async def firewall(remote_public_key: bytes, payload: NoisePayload, _addr: Address) -> bool:
            return await self._ask_firewall(holder[0], remote_public_key, payload)

        def on_connection(stream: SecretStream) -> None:
            self._on_server_connection(holder[0], stream)

        def handshake(key_pair: KeyPair, _remote: bytes | None) -> ClientHandshake:
            return self._client_handshake(key_pair.public_key, None, server_alias=alias)

        custodial = msg.secret_key is not None
        if custodial:
            server = self.dht.create_server(firewall=firewall, on_connection=on_connection)
        else:  # the client runs the firewall inside its handshake, and signs the announces
            server = self.dht.create_server(
                on_connection=on_connection, create_handshake=handshake, create_stream=raw_stream
            )
        entry = _Server(alias, msg.alias, server, custodial)
        holder.append(entry)
        self._servers[msg.alias] = entry
        self._tasks.spawn(self._listen(entry, KeyPair(msg.public_key, msg.secret_key or b"")))

    async def _listen(self, entry: _Server, key_pair: KeyPair) -> None:
        async def sign(unannounce: bool, _target: bytes, token: bytes, node_id: bytes) -> bytes:
            return await self.request_signature(entry.remote_alias, unannounce, token, node_id)

        try:
            await entry.server.listen(key_pair, sign=None if entry.custodial else sign)
        except Exception as err:  # a HyperDHT error, or keys the client made up
            # JS sends nothing for a failed listen; we close the server so the client is not left
            # with a half-open one, and log why
            log.debug("relayed listen failed: %s", err)
            self._servers.pop(entry.remote_alias, None)
            self._send(T.CLOSED, m.Closed(entry.alias))
            return
        host = self.dht.host or "0.0.0.0"
        if ":" in host:
            host = "0.0.0.0"
        self._send(T.LISTENING, m.Listening(entry.alias, entry.remote_alias, Address(host, self.dht.port)))

    async def _ask_firewall(self, entry: _Server, remote_public_key: bytes, payload: NoisePayload) -> bool:
        if self._done.is_set() or self._pending >= self.limits.max_pending:
            return True
        rid = self._ids()
        fut: asyncio.Future[bool] = self._loop.create_future()
        entry.firewall[rid] = fut
        self._pending += 1
        try:
            self._send(
                T.INCOMING, m.Incoming(rid, entry.alias, remote_public_key, encode(noise_payload, payload))
            )
            return await fut
        finally:
            entry.firewall.pop(rid, None)
            self._pending = max(0, self._pending - 1)

    def _resolve_firewall(self, rid: int, deny: bool) -> None:
        for srv in self._servers.values():
            fut = srv.firewall.get(rid)
            if fut is not None:
                if not fut.done():
                    fut.set_result(deny)
                return

    def _on_deny(self, msg: m.Deny) -> None:
        self._resolve_firewall(msg.id, True)

    def _on_accept(self, msg: m.Accept) -> None:
        self._resolve_firewall(msg.id, False)

    def _on_server_connection(self, srv: _Server, stream: SecretStream) -> None:
        if self._done.is_set() or self._stream_count() >= self.limits.max_streams:
            stream.abort()
            return
        entry = _Stream(self._ids(), None, stream)
        self._incoming[entry.alias] = entry
        rpk = stream.remote_public_key or _ZERO32
        hid = handshake_id(stream)
        if hid is None:
            self._send(
                T.CONNECTION, m.Connection(True, entry.alias, srv.alias, rpk, stream.handshake_hash, None)
            )
        else:
            self._send(T.CONNECTION, m.Connection(False, entry.alias, srv.alias, rpk, None, hid))
        self._tasks.spawn(self._pump(entry, stream))

    def _on_connected(self, msg: m.Connected) -> None:
        entry = self._incoming.pop(msg.remote_alias, None)
        if entry is None:
            return
        if msg.alias in self._connections or msg.alias in self._connecting:
            raise RelayProtocolError(f"connected reuses alias {msg.alias}")
        entry.remote_alias = msg.alias
        self._connections[msg.alias] = entry

    def _on_close(self, msg: m.Close) -> None:
        entry = self._servers.get(msg.alias)
        if entry is not None:
            self._tasks.spawn(self._close_server(entry))

    async def _close_server(self, entry: _Server) -> None:
        try:
            await entry.server.aclose()
        finally:
            if self._servers.get(entry.remote_alias) is entry:
                del self._servers[entry.remote_alias]
            for fut in entry.firewall.values():
                if not fut.done():
                    fut.set_result(True)
            self._send(T.CLOSED, m.Closed(entry.alias))

    # -- queries ---------------------------------------------------------------------------------

    def _start_query(self, qid: int, query: QueryStream) -> None:
        self._queries[qid] = query
        self._tasks.spawn(self._run_query(qid, query))

    def _check_query(self, qid: int) -> None:
        if qid in self._queries:
            raise RelayProtocolError(f"query id {qid} is already running")
        if len(self._queries) >= self.limits.max_queries:
            raise LimitExceededError(f"too many queries (limit {self.limits.max_queries})")

    async def _run_query(self, qid: int, query: QueryStream) -> None:
        try:
            async for item in query:
                res: dht_queries.LookupResult = item
                self._send(T.RESULT, m.Result(qid, encode(m.ANNOUNCERS, _announcers(res))))
                if self.stream.buffered > self.limits.high_water:
                    await self.stream.drain()
        except HyperpunchError as err:  # JS swallows query errors: only "finished" is sent
            log.debug("relayed query failed: %s", err)
        finally:
            if self._queries.get(qid) is query:
                del self._queries[qid]
                self._send(T.FINISHED, m.Finished(qid))

    def _on_lookup(self, msg: m.Lookup) -> None:
        self._check_query(msg.id)
        self._start_query(msg.id, self.dht.lookup(msg.topic))

    def _announce_key_pair(self, msg: m.Announce) -> KeyPair | None:
        """The client's key pair (custodial), or None: the client signs (non-custodial)."""
        if not self._custody_ok(msg.custodial):
            raise NonCustodialRequiredError()
        if msg.custodial and msg.secret_key is not None:
            return KeyPair(msg.public_key, msg.secret_key)
        return None

    def _on_announce(self, msg: m.Announce) -> None:
        self._check_query(msg.id)
        kp = self._announce_key_pair(msg)
        if kp is None:
            q = signed_announce(self.dht, _QuerySigner(self, msg.id), msg.topic, msg.public_key)
        else:
            q = dht_queries.announce_query(self.dht, msg.topic, kp, [], persistent=self.dht.persistent)
        self._start_query(msg.id, q)

    def _on_unannounce(self, msg: m.Announce) -> None:
        self._check_query(msg.id)
        kp = self._announce_key_pair(msg)
        if kp is None:
            q = signed_unannounce(self.dht, _QuerySigner(self, msg.id), msg.topic, msg.public_key)
        else:
            q = dht_queries.lookup_and_unannounce(self.dht, msg.topic, kp, persistent=self.dht.persistent)
        self._start_query(msg.id, q)

    # -- signatures (non-custodial) --------------------------------------------------------------

    async def request_signature(self, signee: int, unannounce: bool, token: bytes, peer_id: bytes) -> bytes:
        """Ask the client to sign an (un)announce record for ``signee`` (a query id or server alias)."""
        if self._done.is_set():
            raise RelayClosedError()
        if self._pending >= self.limits.max_pending:
            raise LimitExceededError(
                f"too many requests waiting for the client (limit {self.limits.max_pending})"
            )
        rid = self._ids()
        fut: asyncio.Future[bytes] = self._loop.create_future()
        self._signatures[rid] = fut
        self._pending += 1
        try:
            type_ = T.SIGN_UNANNOUNCE if unannounce else T.SIGN_ANNOUNCE
            self._send(type_, m.SignAnnounce(rid, signee, token, peer_id, []))
            return await asyncio.wait_for(fut, SIGNATURE_TIMEOUT)
        finally:
            self._signatures.pop(rid, None)
            self._pending = max(0, self._pending - 1)

    def _on_signature(self, msg: m.Signature) -> None:
        fut = self._signatures.get(msg.id)
        if fut is not None and not fut.done():
            fut.set_result(bytes(msg.signature))

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro)


class _QuerySigner:
    """The :class:`~hyperpunch.relay.signed.Signer` of one query: requests name its id."""

    __slots__ = ("_session", "_signee")

    def __init__(self, session: RelaySession, signee: int) -> None:
        self._session = session
        self._signee = signee

    def request_signature(self, unannounce: bool, token: bytes, peer_id: bytes) -> Awaitable[bytes]:
        return self._session.request_signature(self._signee, unannounce, token, peer_id)

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        return self._session.spawn(coro)


def _announcers(res: dht_queries.LookupResult) -> m.Announcers:
    return m.Announcers(
        res.token if res.token is not None and len(res.token) == 32 else _ZERO32,
        m.AnnouncerNode(res.from_.id, Address(res.from_.host, res.from_.port)),
        m.AnnouncerNode(None, Address(res.to.host, res.to.port)),
        [m.AnnouncerPeer(p.public_key, list(p.relay_addresses)) for p in res.peers],
    )


def _utf8_prefix(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (a WebSocket close reason is <= 123)."""
    return text.encode()[:limit].decode(errors="ignore")


def _message(err: BaseException) -> str:
    """The error text a client sees (JS ``err.message``: ``"CODE: message"`` for hyperdht errors)."""
    if isinstance(err, HyperpunchError):
        return str(err)
    return (
        f"PEER_CONNECTION_FAILED: {err}" if str(err) else "PEER_CONNECTION_FAILED: Could not connect to peer"
    )

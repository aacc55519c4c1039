"""Blind relaying (JS ``blind-relay`` 1.x as used by hyperdht 6.34 ``relayThrough``).

Invariants:

* The protocol is a protomux channel ``"blind-relay"`` whose id is the *client's* public key,
  with two messages: ``pair {flags(bit0 = isInitiator), token: fixed32, id: uint, seq: uint}``
  and ``unpair {flags, token}``. Both ends of a connection send ``pair`` with the same 32-byte
  token and opposite ``isInitiator``; the relay answers each with the id of the UDX stream it
  created for it and relays every packet between the two streams (it never sees plaintext: the
  end-to-end secret stream rides inside).
* :class:`BlindRelayClient` pairs one raw stream per token; :func:`relay_connection` is the
  connect/server glue: connect to the relay by key, pair, then connect the raw stream to the
  relay's address with the relay's stream id. Everything it starts is owned by its caller's task.
  It reaches the node only through the :class:`RelayDialer` seam (``connect`` by public key).
* :class:`RelayAddressCache` remembers, per server public key, the relay addresses its last
  connection advertised (JS ``_relayAddressesCache``), tried first on the next connect.
* :class:`BlindRelayServer` matches pairings across sessions, creates the two relay streams and
  links them with ``UDXStream.relay_to``; a session ending cancels its pending pairings and
  destroys its links.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hyperpunch.dht.errors import RelayAbortedError
from hyperpunch.encoding import Address, Codec, DecodeState, EncodeState, fixed32, uint
from hyperpunch.protomux import Channel, MessageSpec, Protomux
from hyperpunch.secretstream import SecretStream
from hyperpunch.udx.socket import UDXSocket
from hyperpunch.udx.stream import UDXStream

__all__ = [
    "BlindRelayClient",
    "BlindRelayServer",
    "BlindRelaySession",
    "Pair",
    "RelayAddressCache",
    "RelayDialer",
    "Unpair",
    "pair_message",
    "relay_connection",
    "relay_token",
    "unpair_message",
]

PROTOCOL = "blind-relay"


def relay_token() -> bytes:
    return os.urandom(32)


class RelayDialer(Protocol):
    """How :func:`relay_connection` reaches the relay: the node's connect by public key."""

    async def connect(self, remote_public_key: bytes, *, timeout: float | None = None) -> SecretStream: ...


class RelayAddressCache:
    """Relay addresses last advertised by each server (by public key), for the next connect."""

    __slots__ = ("_by_key",)

    def __init__(self) -> None:
        self._by_key: dict[bytes, list[Address]] = {}

    def get(self, public_key: bytes) -> list[Address] | None:
        return self._by_key.get(public_key)

    def set(self, public_key: bytes, addresses: list[Address]) -> None:
        self._by_key[public_key] = list(addresses)

    def __len__(self) -> int:
        return len(self._by_key)


@dataclass(frozen=True, slots=True)
class Pair:
    is_initiator: bool
    token: bytes
    id: int
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Unpair:
    token: bytes


class _Pair(Codec[Pair]):
    """``bitfield(7) flags (1 byte, bit 0 = isInitiator) · fixed32 token · uint id · uint seq``."""

    __slots__ = ()

    def preencode(self, state: EncodeState, m: Pair) -> None:
        state.end += 1 + 32
        uint.preencode(state, m.id)
        uint.preencode(state, m.seq)

    def encode(self, state: EncodeState, m: Pair) -> None:
        uint.encode(state, 1 if m.is_initiator else 0)
        fixed32.encode(state, m.token)
        uint.encode(state, m.id)
        uint.encode(state, m.seq)

    def decode(self, state: DecodeState) -> Pair:
        flags = uint.decode(state)
        token = fixed32.decode(state)
        id_ = uint.decode(state)
        return Pair((flags & 1) != 0, token, id_, uint.decode(state))


class _Unpair(Codec[Unpair]):
    __slots__ = ()

    def preencode(self, state: EncodeState, m: Unpair) -> None:
        state.end += 1 + 32

    def encode(self, state: EncodeState, m: Unpair) -> None:
        uint.encode(state, 0)
        fixed32.encode(state, m.token)

    def decode(self, state: DecodeState) -> Unpair:
        uint.decode(state)
        return Unpair(fixed32.decode(state))


pair_message: Codec[Pair] = _Pair()
unpair_message: Codec[Unpair] = _Unpair()


class BlindRelayClient:
    """The client side of a blind-relay session over a secret stream to the relay."""

    def __init__(self, stream: SecretStream, *, id: bytes | None = None) -> None:
        self.stream = stream
        self.mux = Protomux.from_stream(stream)
        self._requests: dict[bytes, tuple[bool, asyncio.Future[int]]] = {}
        channel = self.mux.create_channel(
            PROTOCOL,
            id=id,
            messages=[MessageSpec(pair_message, on_message=self._on_pair), unpair_message],
            on_close=self._on_close,
        )
        if channel is None:
            raise RelayAbortedError("blind-relay channel could not be created")
        self.channel: Channel = channel
        channel.open()

    def _on_pair(self, m: Pair, _channel: Channel) -> None:
        req = self._requests.get(m.token)
        if req is None or req[0] != m.is_initiator:
            return
        if not req[1].done():
            req[1].set_result(m.id)

    def _on_close(self, _remote: bool, _channel: Channel) -> None:
        for _init, fut in self._requests.values():
            if not fut.done():
                fut.set_exception(RelayAbortedError("blind-relay channel closed"))
                fut.exception()

    async def pair(self, is_initiator: bool, token: bytes, stream: UDXStream) -> int:
        """Ask the relay to pair ``stream`` under ``token``; the relay's stream id for it."""
        if token in self._requests:
            raise RelayAbortedError("already pairing this token")
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._requests[token] = (is_initiator, fut)
        try:
            self.channel.messages[0].send(Pair(is_initiator, token, stream.id, 0))
            return await fut
        finally:
            self._requests.pop(token, None)

    def unpair(self, token: bytes) -> None:
        with contextlib.suppress(Exception):
            self.channel.messages[1].send(Unpair(token))


def _raw_of(stream: SecretStream) -> UDXStream | None:
    raw = stream.get_extra_info("udx_stream")
    return raw if isinstance(raw, UDXStream) else None


async def relay_connection(
    dht: RelayDialer,
    relay_public_key: bytes,
    is_initiator: bool,
    token: bytes,
    raw: UDXStream,
    *,
    keep_alive: float = 5.0,
    timeout: float = 15.0,
) -> tuple[SecretStream, UDXSocket, int, str, int]:
    """Connect to the relay, pair ``raw`` and return ``(relay stream, socket, port, host, remote_id)``.

    The caller connects ``raw`` with those values (JS ``relayConnection`` ondata) and owns the
    relay stream (close it when the relayed connection ends).
    """
    relay_stream = await dht.connect(relay_public_key, timeout=timeout)
    try:
        relay_stream.set_keep_alive(keep_alive)
        client = BlindRelayClient(relay_stream, id=relay_stream.public_key)
        remote_id = await asyncio.wait_for(client.pair(is_initiator, token, raw), timeout)
        relay_raw = _raw_of(relay_stream)
        if (
            relay_raw is None
            or not isinstance(relay_raw.socket, UDXSocket)
            or relay_raw.remote_address is None
        ):
            raise RelayAbortedError("the relay connection has no UDX stream")
        host, port = relay_raw.remote_address
        return relay_stream, relay_raw.socket, port, host, remote_id
    except BaseException:
        relay_stream.abort()
        raise


# --- relay server ---------------------------------------------------------------------------------


class _Link:
    def __init__(self, session: BlindRelaySession, is_initiator: bool, remote_id: int) -> None:
        self.session = session
        self.is_initiator = is_initiator
        self.remote_id = remote_id
        self.stream: UDXStream | None = None

    def create_stream(self, create: Callable[..., UDXStream]) -> UDXStream:
        def firewall(sock: UDXSocket, port: int, host: str) -> bool:
            if self.stream is not None and not self.stream.connected:
                self.stream.connect(sock, self.remote_id, port, host)
            return False

        self.stream = create(firewall=firewall)
        return self.stream

    def destroy(self) -> None:
        if self.stream is not None:
            self.stream.destroy()
            self.stream = None


class BlindRelaySession:
    """One client of a :class:`BlindRelayServer` (its ``blind-relay`` channel)."""

    def __init__(self, server: BlindRelayServer, stream: SecretStream, id: bytes | None) -> None:
        self.server = server
        self.stream = stream
        self.mux = Protomux.from_stream(stream)
        self.pairing: set[bytes] = set()
        self.links: dict[bytes, _Link] = {}
        channel = self.mux.create_channel(
            PROTOCOL,
            id=id,
            messages=[
                MessageSpec(pair_message, on_message=self._on_pair),
                MessageSpec(unpair_message, on_message=self._on_unpair),
            ],
            on_close=self._on_close,
        )
        if channel is None:
            raise RelayAbortedError("blind-relay channel could not be created")
        self.channel: Channel = channel
        channel.open()

    def _on_pair(self, m: Pair, _channel: Channel) -> None:
        server = self.server
        links = server._pairing.get(m.token)
        if links is None:
            links = [None, None]
            server._pairing[m.token] = links
        elif links[int(m.is_initiator)] is not None:
            return
        self.pairing.add(m.token)
        links[int(m.is_initiator)] = _Link(self, m.is_initiator, m.id)
        a, b = links
        if a is None or b is None:
            return
        del server._pairing[m.token]
        for link in (a, b):
            link.create_stream(server.create_stream)
        assert a.stream is not None and b.stream is not None
        a.stream.relay_to(b.stream)
        b.stream.relay_to(a.stream)
        server.stats["pairings"] += 1
        for link in (a, b):
            sess = link.session
            sess.pairing.discard(m.token)
            sess.links[m.token] = link
            assert link.stream is not None
            sess.channel.messages[0].send(Pair(link.is_initiator, m.token, link.stream.id, 0))

    def _on_unpair(self, m: Unpair, _channel: Channel) -> None:
        links = self.server._pairing.pop(m.token, None)
        if links is not None:
            for link in links:
                if link is not None:
                    link.session.pairing.discard(m.token)
            return
        link = self.links.pop(m.token, None)
        if link is not None:
            link.destroy()

    def _on_close(self, _remote: bool, _channel: Channel) -> None:
        for token in self.pairing:
            self.server._pairing.pop(token, None)
        self.pairing.clear()
        for link in self.links.values():
            link.destroy()
        self.links.clear()
        self.server.sessions.discard(self)


class BlindRelayServer:
    """Relays paired UDX streams; ``accept(stream)`` each secret stream that connects to it."""

    def __init__(self, create_stream: Callable[..., UDXStream]) -> None:
        self.create_stream = create_stream
        self._pairing: dict[bytes, list[_Link | None]] = {}
        self.sessions: set[BlindRelaySession] = set()
        self.stats: dict[str, int] = {"sessions": 0, "pairings": 0}

    def accept(self, stream: SecretStream, *, id: bytes | None = None) -> BlindRelaySession:
        session = BlindRelaySession(self, stream, id if id is not None else stream.remote_public_key)
        self.sessions.add(session)
        self.stats["sessions"] += 1
        return session

    async def aclose(self) -> None:
        for session in list(self.sessions):
            for link in session.links.values():
                link.destroy()
            with contextlib.suppress(Exception):
                await session.mux.aclose()
        self.sessions.clear()
        self._pairing.clear()

"""Non-custodial connections on the relay: the client does every Noise step and runs its own
secret stream; the relay moves ciphertext (JS ``lib/handshake-proxy.js``, ``lib/stream-proxy.js``).

Invariants:

* :class:`ClientHandshake` is a :class:`~hyperpunch.dht.handshake.Handshake` whose ``send`` and
  ``recv`` are ``noiseSend`` / ``noiseReceive`` messages answered by the client's ``noiseReply``
  (one outstanding step at a time). An empty reply payload to ``recv`` is the client's firewall
  refusing the peer ("Handshake denied"); a client that leaves, or does not answer within
  :data:`NOISE_TIMEOUT`, fails the step. The relay never sees a secret key or stream key:
  :meth:`ClientHandshake.final` carries the remote key, the remote stream id and the holepunch
  secret the client computed, and empty ``hash``/``tx``/``rx``.
* :func:`raw_stream` is the ``create_stream`` that goes with it: a
  :class:`~hyperpunch.secretstream.SecretStream` driven by :class:`PassthroughCore`, which
  neither frames nor encrypts. Each chunk the UDX stream delivers is one "message" (forwarded
  to the client as one ``data`` chunk); each write goes to the UDX stream unchanged. It is open
  at once (the client's secret-stream header is its first data).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from hyperpunch.dht.messages import NoisePayload, noise_payload
from hyperpunch.dht.noise_wrap import NoiseWrapResult
from hyperpunch.encoding import decode, encode
from hyperpunch.errors import HyperpunchError
from hyperpunch.relay import messages as m
from hyperpunch.relay.errors import HandshakeDeniedError, RelayProtocolError
from hyperpunch.relay.messages import MessageType as T
from hyperpunch.secretstream import SecretStream
from hyperpunch.secretstream.core import (
    Closed,
    Event,
    HandshakeComplete,
    Message,
    PresetHandshake,
    RemoteEnded,
    SecretStreamCore,
)
from hyperpunch.secretstream.errors import StreamClosedError

__all__ = [
    "NOISE_TIMEOUT",
    "ClientHandshake",
    "ClientHandshakeResult",
    "NoiseLink",
    "PassthroughCore",
    "handshake_id",
    "raw_stream",
]

NOISE_TIMEOUT = 30.0  # seconds the client has to answer one Noise step
_ZERO32 = bytes(32)
_ZERO64 = bytes(64)


class NoiseLink(Protocol):
    """What a :class:`ClientHandshake` needs from its session."""

    def send_message(self, type_: int, value: object) -> bool: ...

    def forget_handshake(self, hid: int) -> None: ...


class ClientHandshake:
    """One connect (initiator) or incoming-connection (responder) handshake done by the client."""

    def __init__(
        self,
        link: NoiseLink,
        hid: int,
        *,
        is_initiator: bool,
        public_key: bytes,
        remote_public_key: bytes | None,
        remote_stream_alias: int | None = None,
        server_alias: int | None = None,
    ) -> None:
        self.link = link
        self.id = hid
        self.is_initiator = is_initiator
        self.public_key = public_key
        self._remote_public_key = remote_public_key
        self.remote_stream_alias = remote_stream_alias
        self.server_alias = server_alias
        self.remote_id: bytes | None = None
        self.holepunch_secret: bytes | None = None
        self._reply: asyncio.Future[m.NoiseReply] | None = None

    @property
    def remote_public_key(self) -> bytes | None:
        return self._remote_public_key

    def on_reply(self, msg: m.NoiseReply) -> None:
        fut = self._reply
        if fut is not None and not fut.done():
            fut.set_result(msg)

    def close(self, err: BaseException) -> None:
        """The session is going away: fail the step in flight."""
        fut = self._reply
        if fut is not None and not fut.done():
            fut.set_exception(err)
            fut.exception()

    async def _step(self, type_: int, value: object) -> m.NoiseReply:
        if self._reply is not None and not self._reply.done():
            raise RelayProtocolError("a Noise step is already waiting for the client")
        fut: asyncio.Future[m.NoiseReply] = asyncio.get_running_loop().create_future()
        self._reply = fut
        if not self.link.send_message(type_, value):
            self.link.forget_handshake(self.id)
            raise StreamClosedError("the relay client is gone")
        try:
            reply = await asyncio.wait_for(fut, NOISE_TIMEOUT)
        except BaseException:
            self.link.forget_handshake(self.id)
            raise
        if reply.remote_public_key is not None:
            self._remote_public_key = bytes(reply.remote_public_key)
        if reply.complete:
            self.remote_id = reply.remote_id
            self.holepunch_secret = reply.holepunch_secret
            self.link.forget_handshake(self.id)
        return reply

    async def send(self, payload: NoisePayload) -> bytes:
        msg = m.NoiseSend(
            self.is_initiator, self.id, encode(noise_payload, payload), self.remote_stream_alias
        )
        return bytes((await self._step(T.NOISE_SEND, msg)).payload)

    async def recv(self, message: bytes) -> NoisePayload:
        msg = m.NoiseReceive(self.is_initiator, self.id, bytes(message), self.server_alias)
        reply = await self._step(T.NOISE_RECEIVE, msg)
        if not reply.payload:
            self.link.forget_handshake(self.id)
            raise HandshakeDeniedError()
        return decode(noise_payload, bytes(reply.payload))

    def final(self) -> ClientHandshakeResult:
        if self.holepunch_secret is None or self._remote_public_key is None:
            raise RelayProtocolError("the client did not complete the handshake")
        return ClientHandshakeResult(
            is_initiator=self.is_initiator,
            public_key=self.public_key,
            remote_public_key=self._remote_public_key,
            remote_id=self.remote_id or _ZERO32,
            holepunch_secret=self.holepunch_secret,
            hash=b"",
            rx=b"",
            tx=b"",
            handshake_id=self.id,
        )


@dataclass(frozen=True, slots=True)
class ClientHandshakeResult(NoiseWrapResult):
    """A client-done handshake's result: no stream keys, but the id the client knows it by."""

    handshake_id: int = 0


class PassthroughCore(SecretStreamCore):
    """A :class:`SecretStreamCore` that moves bytes unchanged (the client holds the keys)."""

    def __init__(
        self, is_initiator: bool, public_key: bytes, remote_public_key: bytes, handshake_id: int = 0
    ) -> None:
        # the base is built in preset mode only to be valid; none of its state is used
        super().__init__(
            is_initiator,
            handshake=PresetHandshake(_ZERO32, _ZERO32, _ZERO64, public_key, remote_public_key),
        )
        self.public_key = public_key
        self.remote_public_key = remote_public_key
        self.handshake_id = handshake_id
        self._pt_started = False
        self._pt_failed = False
        self._pt_ended_local = False
        self._pt_ended_remote = False

    @property
    def established(self) -> bool:
        return self._pt_started and not self._pt_failed

    @property
    def opened(self) -> bool:
        return self._pt_started

    @property
    def failed(self) -> bool:
        return self._pt_failed

    @property
    def has_data_to_send(self) -> bool:
        return False

    @property
    def ended_local(self) -> bool:
        return self._pt_ended_local

    @property
    def send_box(self) -> None:
        return None

    def start(self, now: float = 0.0) -> list[Event]:
        self._pt_started = True
        assert self.public_key is not None and self.remote_public_key is not None
        return [HandshakeComplete(self.public_key, self.remote_public_key, _ZERO64)]

    def data_to_send(self) -> bytes:
        return b""

    def receive_data(self, data: bytes | bytearray | memoryview, now: float = 0.0) -> list[Event]:
        if self._pt_failed or self._pt_ended_remote or not len(data):
            return []
        return [Message(bytes(data))]

    def receive_eof(self) -> list[Event]:
        if self._pt_failed or self._pt_ended_remote:
            return []
        self._pt_ended_remote = True
        return [RemoteEnded()]

    def send(self, plaintext: bytes | bytearray | memoryview, now: float | None = None) -> bytearray:
        if self._pt_failed or self._pt_ended_local:
            raise StreamClosedError("cannot write: the stream is closed")
        return bytearray(plaintext)

    def send_keep_alive(self, now: float | None = None) -> bytearray:
        return bytearray()  # the client's own secret stream keeps itself alive

    def end(self) -> None:
        self._pt_ended_local = True

    def fail(self, error: HyperpunchError) -> list[Event]:
        if self._pt_failed:
            return []
        self._pt_failed = True
        self.error = error
        return [Closed(error)]

    def next_deadline(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> list[Event]:
        return []


def raw_stream(is_initiator: bool, result: NoiseWrapResult, _keep_alive: float) -> SecretStream:
    """The ``create_stream`` of a non-custodial connection: ciphertext in, ciphertext out."""
    hid = result.handshake_id if isinstance(result, ClientHandshakeResult) else 0
    core = PassthroughCore(is_initiator, result.public_key, result.remote_public_key, hid)
    return SecretStream(is_initiator, core=core)


def handshake_id(stream: SecretStream) -> int | None:
    """The client's handshake id of a non-custodial stream (None for a custodial one)."""
    core = stream.core
    return core.handshake_id if isinstance(core, PassthroughCore) else None

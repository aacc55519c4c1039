"""Who does the Noise IK steps of a HyperDHT connection, and what stream runs over it
(JS hyperdht's ``createHandshake`` / ``createSecretStream`` hooks of ``connect`` and ``createServer``).

Invariants:

* By default the node does the handshake itself (:class:`LocalHandshake` over
  :class:`~hyperpunch.dht.noise_wrap.NoiseWrap`) and the connection is a
  :class:`~hyperpunch.secretstream.SecretStream` keyed by it (:func:`default_stream`).
* An external handshake (a non-custodial relay client holds the secret key) does each step
  elsewhere: ``send``/``recv`` are awaitable and may take a round trip. Its :meth:`Handshake.final`
  returns what the DHT needs to find a path (the remote key, the remote stream id and the
  holepunch secret); it has no stream keys (``hash``/``tx``/``rx`` are empty), so it must come
  with a ``create_stream`` that does not need them.
* ``recv`` raising means the handshake is refused or broken: the connect fails, the server drops
  the handshake silently (as for its firewall).
* ``sign`` (:data:`AnnounceSigner`) is the same seam for a server's announce records: given the
  bytes hyperdht would sign, it returns the signature (the client signs, the relay never holds
  the key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from hyperpunch.crypto import KeyPair
from hyperpunch.dht.messages import NoisePayload
from hyperpunch.dht.noise_wrap import NoiseWrap, NoiseWrapResult
from hyperpunch.secretstream import SecretStream

__all__ = [
    "AnnounceSigner",
    "CreateHandshake",
    "CreateStream",
    "Handshake",
    "LocalHandshake",
    "default_stream",
    "local_handshake",
]


class Handshake(Protocol):
    """One side of the connect handshake; the client (initiator) sends first."""

    @property
    def remote_public_key(self) -> bytes | None: ...

    async def send(self, payload: NoisePayload) -> bytes: ...

    async def recv(self, message: bytes) -> NoisePayload: ...

    def final(self) -> NoiseWrapResult: ...


CreateHandshake = Callable[[KeyPair, "bytes | None"], Handshake]
"""``(our key pair, remote public key or None for a server) -> Handshake``."""

CreateStream = Callable[[bool, NoiseWrapResult, float], SecretStream]
"""``(is_initiator, handshake result, keep-alive seconds) -> the stream over the raw UDX stream``."""

AnnounceSigner = Callable[[bool, bytes, bytes, bytes], Awaitable[bytes]]
"""``(unannounce, target, token, node id) -> signature`` of a server's peer record."""


class LocalHandshake:
    """The node's own handshake: :class:`NoiseWrap` behind the awaitable interface."""

    __slots__ = ("wrap",)

    def __init__(self, key_pair: KeyPair, remote_public_key: bytes | None) -> None:
        self.wrap = NoiseWrap(key_pair, remote_public_key)

    @property
    def remote_public_key(self) -> bytes | None:
        return self.wrap.remote_public_key

    async def send(self, payload: NoisePayload) -> bytes:
        return self.wrap.send(payload)

    async def recv(self, message: bytes) -> NoisePayload:
        return self.wrap.recv(message)

    def final(self) -> NoiseWrapResult:
        return self.wrap.final()


def local_handshake(key_pair: KeyPair, remote_public_key: bytes | None) -> Handshake:
    return LocalHandshake(key_pair, remote_public_key)


def default_stream(is_initiator: bool, result: NoiseWrapResult, keep_alive: float) -> SecretStream:
    """A secret stream keyed by the handshake (JS ``defaultCreateSecretStream``)."""
    return SecretStream(is_initiator, handshake=result.preset_handshake(), keep_alive=keep_alive)

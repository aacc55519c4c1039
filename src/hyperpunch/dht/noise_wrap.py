"""The Noise IK handshake of a HyperDHT connection (JS ``hyperdht/lib/noise-wrap.js``), sans-IO.

Invariants:

* Pattern IK over Ed25519 (:class:`hyperpunch.noise.NoiseState`), prologue ``NS_PEER_HANDSHAKE``;
  the side given the remote public key is the initiator (the client).
* Each handshake message carries one encoded :class:`~hyperpunch.dht.messages.NoisePayload`.
  ``recv`` raises :class:`hyperpunch.noise.HandshakeInvalidError` for bytes that fail the Noise
  step and :class:`hyperpunch.encoding.DecodeError` for a payload that does not decode (both
  are RemoteErrors); either way the wrap is dead, as in JS.
* ``final()`` is only possible once the handshake is complete (else
  :class:`~hyperpunch.dht.errors.HandshakeUnfinishedError`) and returns the keys for the
  secret-stream preset handshake, the remote stream id and the holepunch secret
  ``BLAKE2b-256(NS_PEER_HOLEPUNCH, key=handshake_hash)``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from hyperpunch.crypto import KeyPair
from hyperpunch.dht.constants import NS_PEER_HANDSHAKE, NS_PEER_HOLEPUNCH
from hyperpunch.dht.errors import HandshakeUnfinishedError
from hyperpunch.dht.messages import NoisePayload, noise_payload
from hyperpunch.encoding import decode, encode
from hyperpunch.noise import NoiseState
from hyperpunch.secretstream import PresetHandshake, stream_id

__all__ = ["NOISE_PROLOGUE", "NoiseWrap", "NoiseWrapResult", "holepunch_secret"]

NOISE_PROLOGUE = NS_PEER_HANDSHAKE


def holepunch_secret(handshake_hash: bytes) -> bytes:
    """The key of the encrypted holepunch payloads: ``H_{handshake_hash}(NS_PEER_HOLEPUNCH)``."""
    return hashlib.blake2b(NS_PEER_HOLEPUNCH, digest_size=32, key=handshake_hash).digest()


@dataclass(frozen=True, slots=True)
class NoiseWrapResult:
    """What JS ``NoiseWrap.final()`` returns (``streamId`` is never set in JS, so it is absent)."""

    is_initiator: bool
    public_key: bytes
    remote_public_key: bytes
    remote_id: bytes
    holepunch_secret: bytes = field(repr=False)
    hash: bytes
    rx: bytes = field(repr=False)
    tx: bytes = field(repr=False)

    def preset_handshake(self) -> PresetHandshake:
        """The keys for a secret stream over the connection (JS ``opts.handshake``)."""
        return PresetHandshake(
            tx=self.tx,
            rx=self.rx,
            hash=self.hash,
            public_key=self.public_key,
            remote_public_key=self.remote_public_key,
        )


class NoiseWrap:
    """One side of the connect handshake: ``send(payload) -> bytes``, ``recv(bytes) -> payload``.

    The client (``remote_public_key`` given) sends first; the server receives, then answers.
    ``ephemeral_key_pair`` is for reproducible tests only.
    """

    __slots__ = ("handshake", "is_initiator", "key_pair", "remote_public_key")

    def __init__(
        self,
        key_pair: KeyPair,
        remote_public_key: bytes | None = None,
        *,
        ephemeral_key_pair: KeyPair | None = None,
    ) -> None:
        self.is_initiator = remote_public_key is not None
        self.remote_public_key = None if remote_public_key is None else bytes(remote_public_key)
        self.key_pair = key_pair
        self.handshake = NoiseState(
            "IK",
            self.is_initiator,
            key_pair,
            prologue=NOISE_PROLOGUE,
            remote_static=self.remote_public_key,
            ephemeral_key_pair=ephemeral_key_pair,
        )

    @property
    def complete(self) -> bool:
        return self.handshake.complete

    def send(self, payload: NoisePayload) -> bytes:
        return self.handshake.send(encode(noise_payload, payload))

    def recv(self, message: bytes) -> NoisePayload:
        plain = self.handshake.recv(message)
        payload = decode(noise_payload, plain)
        self.remote_public_key = self.handshake.remote_static
        return payload

    def final(self) -> NoiseWrapResult:
        hs = self.handshake
        if not hs.complete or hs.hash is None or hs.tx is None or hs.rx is None:
            raise HandshakeUnfinishedError()
        remote = hs.remote_static
        if remote is None:  # pragma: no cover - IK always knows it when complete
            raise HandshakeUnfinishedError()
        return NoiseWrapResult(
            is_initiator=self.is_initiator,
            public_key=self.key_pair.public_key,
            remote_public_key=remote,
            remote_id=stream_id(hs.hash, not self.is_initiator),
            holepunch_secret=holepunch_secret(hs.hash),
            hash=hs.hash,
            rx=hs.rx,
            tx=hs.tx,
        )

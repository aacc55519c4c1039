"""Sans-IO Noise XX / IK handshake over Ed25519 keys, byte-exact with noise-handshake 4.2 + noise-curve-ed 2.1.

Invariants:

* Protocol name ``Noise_<XX|IK>_Ed25519_ChaChaPoly_BLAKE2b``; HASHLEN 64 (BLAKE2b-512); ``h`` starts
  as the zero-padded name, ``ck = h``; the prologue is mixed first, then (IK) the responder's static
  public key on both sides.
* DH(local, remote) = ``crypto_scalarmult_ed25519_noclamp(clamp(SHA-512(seed)[0:32]), remote)``;
  libsodium refuses small-order / non-canonical points: that is the peer's fault, so it raises
  :class:`HandshakeInvalidError`, like every other problem with received bytes.
* HKDF = RFC 5869 with HMAC-BLAKE2b and empty info; ChaCha20-Poly1305 IETF with nonce
  ``0^4 || uint32le(n) || 0^4`` and ``h`` as AD; one ciphertext is at most 65535 bytes.
* The state only moves forward: a message either applies fully or the state is dead (every later
  call raises :class:`NoiseStateError`). A payload that is too big is refused *before* anything
  changes, so the caller may retry with a smaller one.
* Once ``complete``: ``tx``/``rx`` are 32-byte keys (initiator tx = k1), ``hash`` is the 64-byte
  handshake hash, ``remote_static`` the peer's Ed25519 public key. Ephemeral secrets are dropped.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

import nacl.bindings as _nb
import nacl.exceptions as _nexc

from hyperpunch.crypto import KeyPair, key_pair
from hyperpunch.noise.errors import HandshakeInvalidError, NoiseArgumentError, NoiseStateError

__all__ = [
    "DHLEN",
    "HASHLEN",
    "MAX_MESSAGE_LEN",
    "PKLEN",
    "NoiseState",
    "dh",
    "hkdf",
    "scalar_from_secret_key",
]

HASHLEN = 64
DHLEN = 32
PKLEN = 32
MACLEN = 16
MAX_MESSAGE_LEN = 65535

Pattern = Literal["XX", "IK"]

# Message patterns: "e", "s" and the DH tokens. The IK pre-message "<- s" is handled in __init__.
_PATTERNS: dict[str, tuple[tuple[str, ...], ...]] = {
    "XX": (("e",), ("e", "ee", "s", "es"), ("s", "se")),
    "IK": (("e", "es", "s", "ss"), ("e", "ee", "se")),
}

# (local key is static, remote key is static) per DH token, for initiator and responder.
_DH_KEYS: dict[bool, dict[str, tuple[bool, bool]]] = {
    True: {"ee": (False, False), "es": (False, True), "se": (True, False), "ss": (True, True)},
    False: {"ee": (False, False), "es": (True, False), "se": (False, True), "ss": (True, True)},
}

_ZERO4 = b"\x00\x00\x00\x00"
_EMPTY = b""
_blake2b = hashlib.blake2b
_sha512 = hashlib.sha512
_hmac_digest = hmac.digest
_aead_encrypt = _nb.crypto_aead_chacha20poly1305_ietf_encrypt
_aead_decrypt = _nb.crypto_aead_chacha20poly1305_ietf_decrypt
_scalarmult = _nb.crypto_scalarmult_ed25519_noclamp


def scalar_from_secret_key(secret_key: bytes) -> bytes:
    """The clamped Ed25519 scalar libsodium derives from the 32-byte seed half of ``secret_key``."""
    sk = bytearray(_sha512(secret_key[:32]).digest()[:32])
    sk[0] &= 248
    sk[31] &= 127
    sk[31] |= 64
    return bytes(sk)


def dh(scalar: bytes, remote_public_key: bytes) -> bytes:
    """noise-curve-ed DH: scalar times the remote Edwards point; raises on an invalid point."""
    try:
        out: bytes = _scalarmult(scalar, remote_public_key)
    except (_nexc.CryptoError, TypeError, ValueError) as err:
        raise HandshakeInvalidError("invalid remote public key (DH failed)") from err
    return out


def hkdf(chaining_key: bytes, input_key_material: bytes) -> tuple[bytes, bytes]:
    """noise-handshake's HKDF with empty info: two 64-byte outputs."""
    prk = _hmac_digest(chaining_key, input_key_material, "blake2b")
    out1 = _hmac_digest(prk, b"\x01", "blake2b")
    out2 = _hmac_digest(prk, out1 + b"\x02", "blake2b")
    return out1, out2


def _nonce(n: int) -> bytes:
    return _ZERO4 + n.to_bytes(4, "little") + _ZERO4


def _check_key_pair(kp: KeyPair, what: str) -> None:
    if not isinstance(kp.public_key, bytes) or len(kp.public_key) != PKLEN:
        raise NoiseArgumentError(f"{what} public key must be {PKLEN} bytes")
    if not isinstance(kp.secret_key, bytes) or len(kp.secret_key) != 64:
        raise NoiseArgumentError(f"{what} secret key must be 64 bytes")


class NoiseState:
    """One side of a Noise XX or IK handshake (sans-IO: ``send`` makes bytes, ``recv`` eats them).

    The initiator calls ``send`` first. XX takes three messages, IK two. ``recv`` returns the
    decrypted payload; when the last message is sent or received, ``complete`` becomes true.
    """

    __slots__ = (
        "_ck",
        "_dh_cache",
        "_e",
        "_e_scalar",
        "_failed",
        "_h",
        "_k",
        "_n",
        "_patterns",
        "_re",
        "_s_scalar",
        "_step",
        "complete",
        "hash",
        "initiator",
        "pattern",
        "remote_static",
        "rx",
        "static_key_pair",
        "tx",
    )

    def __init__(
        self,
        pattern: Pattern,
        initiator: bool,
        static_key_pair: KeyPair,
        *,
        prologue: bytes = b"",
        remote_static: bytes | None = None,
        ephemeral_key_pair: KeyPair | None = None,
    ) -> None:
        patterns = _PATTERNS.get(pattern)
        if patterns is None:
            raise NoiseArgumentError(f"unsupported Noise pattern {pattern!r} (XX and IK are)")
        _check_key_pair(static_key_pair, "static")
        if ephemeral_key_pair is None:
            ephemeral_key_pair = key_pair()
        else:
            _check_key_pair(ephemeral_key_pair, "ephemeral")

        self.pattern: Pattern = pattern
        self.initiator: bool = bool(initiator)
        self.static_key_pair: KeyPair = static_key_pair
        self.complete: bool = False
        self.tx: bytes | None = None
        self.rx: bytes | None = None
        self.hash: bytes | None = None
        self.remote_static: bytes | None = None

        self._patterns = patterns
        self._step = 0
        self._failed = False
        self._s_scalar = scalar_from_secret_key(static_key_pair.secret_key)
        self._e: KeyPair | None = ephemeral_key_pair
        self._e_scalar: bytes | None = scalar_from_secret_key(ephemeral_key_pair.secret_key)
        self._re: bytes | None = None
        self._k: bytes | None = None
        self._n = 0
        self._dh_cache: dict[str, bytes] = {}

        protocol = f"Noise_{pattern}_Ed25519_ChaChaPoly_BLAKE2b".encode()
        self._h = protocol.ljust(HASHLEN, b"\x00")  # the name fits in HASHLEN bytes
        self._ck = self._h
        self._mix_hash(bytes(prologue))

        if pattern == "IK":  # pre-message "<- s": the responder's static key
            if self.initiator:
                if remote_static is None:
                    raise NoiseArgumentError("IK initiator needs the responder's static public key")
                if (
                    not isinstance(remote_static, bytes | bytearray | memoryview)
                    or len(remote_static) != PKLEN
                ):
                    raise NoiseArgumentError(f"remote static key must be {PKLEN} bytes")
                self.remote_static = bytes(remote_static)
                self._mix_hash(self.remote_static)
                # both DHs of the first message are known now: compute them up front, so a bad
                # key the caller passed in is reported here, as the caller's error
                try:
                    self._dh_cache["es"] = self._dh("es")
                    self._dh_cache["ss"] = self._dh("ss")
                except HandshakeInvalidError as err:
                    raise NoiseArgumentError("remote static key is not a valid Ed25519 public key") from err
            else:
                self._mix_hash(static_key_pair.public_key)

    # --- symmetric state ------------------------------------------------------------------------

    def _mix_hash(self, data: bytes) -> None:
        self._h = _blake2b(self._h + data).digest()

    def _mix_key(self, token: str) -> None:
        shared = self._dh_cache.pop(token, None)
        if shared is None:
            shared = self._dh(token)
        ck, k = hkdf(self._ck, shared)
        self._ck = ck
        self._k = k[:32]
        self._n = 0

    def _dh(self, token: str) -> bytes:
        local_static, remote_static = _DH_KEYS[self.initiator][token]
        scalar = self._s_scalar if local_static else self._e_scalar
        remote = self.remote_static if remote_static else self._re
        if scalar is None or remote is None:  # cannot happen with the fixed patterns
            raise NoiseStateError(f"missing key for {token}")
        return dh(scalar, remote)

    def _encrypt_and_hash(self, plaintext: bytes) -> bytes:
        k = self._k
        if k is None:
            ct = plaintext
        else:
            ct = _aead_encrypt(plaintext, self._h, _nonce(self._n), k)
            self._n += 1
        self._mix_hash(ct)
        return ct

    def _decrypt_and_hash(self, ct: bytes) -> bytes:
        k = self._k
        if k is None:
            plain = ct
        else:
            if len(ct) > MAX_MESSAGE_LEN:
                raise HandshakeInvalidError(f"ciphertext length {len(ct)} exceeds {MAX_MESSAGE_LEN}")
            if len(ct) < MACLEN:
                raise HandshakeInvalidError("ciphertext shorter than its tag")
            try:
                plain = _aead_decrypt(ct, self._h, _nonce(self._n), k)
            except (_nexc.CryptoError, TypeError, ValueError) as err:
                raise HandshakeInvalidError("handshake message failed authentication") from err
            self._n += 1
        self._mix_hash(ct)
        return plain

    # --- the handshake ----------------------------------------------------------------------------

    def _check_turn(self, sending: bool) -> tuple[str, ...]:
        if self._failed:
            raise NoiseStateError("the handshake already failed")
        if self.complete:
            raise NoiseStateError("the handshake is already complete")
        my_turn = (self._step % 2 == 0) == self.initiator
        if my_turn != sending:
            raise NoiseStateError(f"it is not this side's turn to {'send' if sending else 'receive'}")
        return self._patterns[self._step]

    def send(self, payload: bytes = b"") -> bytes:
        """The next handshake message, carrying ``payload`` (encrypted once a key exists)."""
        tokens = self._check_turn(True)
        if not isinstance(payload, bytes):
            if not isinstance(payload, bytearray | memoryview):
                raise NoiseArgumentError("payload must be bytes")
            payload = bytes(payload)
        # the payload is encrypted iff a key exists by then: already, or via a DH token in this message
        will_have_key = self._k is not None or any(len(t) == 2 for t in tokens)
        if will_have_key and len(payload) + MACLEN > MAX_MESSAGE_LEN:
            raise NoiseArgumentError(
                f"ciphertext length of {len(payload) + MACLEN} exceeds maximum Noise message length of 65535"
            )
        try:
            out: list[bytes] = []
            for tok in tokens:
                if tok == "e":
                    e = self._e
                    assert e is not None
                    self._mix_hash(e.public_key)
                    out.append(e.public_key)
                elif tok == "s":
                    out.append(self._encrypt_and_hash(self.static_key_pair.public_key))
                else:
                    self._mix_key(tok)
            out.append(self._encrypt_and_hash(payload))
        except BaseException:
            self._failed = True
            raise
        self._advance()
        return _EMPTY.join(out)

    def recv(self, message: bytes) -> bytes:
        """Process the peer's next handshake message and return its decrypted payload."""
        tokens = self._check_turn(False)
        if not isinstance(message, bytes):
            if not isinstance(message, bytearray | memoryview):
                raise NoiseArgumentError("message must be bytes")
            message = bytes(message)
        try:
            off = 0
            size = len(message)
            for tok in tokens:
                if tok == "e":
                    if size - off < PKLEN:
                        raise HandshakeInvalidError("handshake message too short (ephemeral key)")
                    self._re = message[off : off + PKLEN]
                    off += PKLEN
                    self._mix_hash(self._re)
                elif tok == "s":
                    klen = PKLEN + MACLEN if self._k is not None else PKLEN
                    if size - off < klen:
                        raise HandshakeInvalidError("handshake message too short (static key)")
                    self.remote_static = self._decrypt_and_hash(message[off : off + klen])
                    off += klen
                else:
                    self._mix_key(tok)
            payload = self._decrypt_and_hash(message[off:])
            self._precompute_next()
        except BaseException:
            self._failed = True
            raise
        self._advance()
        return payload

    def _precompute_next(self) -> None:
        # A DH in our next message whose keys are all known now is computed here, so an invalid
        # remote key is reported by recv() (remote fault) rather than by the following send().
        nxt = self._step + 1
        if nxt >= len(self._patterns):
            return
        for tok in self._patterns[nxt]:
            if len(tok) != 2:
                continue
            _local_static, remote_static = _DH_KEYS[self.initiator][tok]
            if (self.remote_static if remote_static else self._re) is not None:
                self._dh_cache[tok] = self._dh(tok)

    def _advance(self) -> None:
        self._step += 1
        if self._step < len(self._patterns):
            return
        k1, k2 = hkdf(self._ck, _EMPTY)
        k1, k2 = k1[:32], k2[:32]
        self.tx = k1 if self.initiator else k2
        self.rx = k2 if self.initiator else k1
        self.hash = self._h
        self.complete = True
        self._e = None
        self._e_scalar = None
        self._re = None
        self._k = None
        self._dh_cache.clear()

    def __repr__(self) -> str:
        role = "initiator" if self.initiator else "responder"
        return f"NoiseState({self.pattern}, {role}, step={self._step}, complete={self.complete})"

"""Sans-IO core of ``@hyperswarm/secret-stream`` 6.9.2: bytes in, events and bytes out, no clocks.

Invariants:

* Wire order per side: Noise handshake frames (XX by default: the initiator sends m1 on
  :meth:`SecretStreamCore.start`), then exactly one 56-byte header frame
  ``stream_id(own role) || push_header``, then data frames ``uint24(len + 17) || ciphertext``.
  With a preset handshake (hyperdht) the Noise phase is skipped and ``start`` emits the header.
* Outgoing handshake/header/keepalive bytes collect in an outbox drained by
  :meth:`~SecretStreamCore.data_to_send`; :meth:`~SecretStreamCore.send` returns the data frame
  directly (the hot path). Frames leave in call order, so the header always precedes data.
* The remote public key is checked (``remote_public_key`` option, then the ``firewall`` hook)
  the moment the Noise state learns it, before this side sends anything more (for an XX
  initiator: before m3 reveals its own identity).
* Any protocol violation ends the core in the failed state and is reported once as
  :class:`Closed` carrying a :class:`~hyperpunch.errors.RemoteError`; bytes received later are
  ignored and :meth:`~SecretStreamCore.send` raises :class:`StreamClosedError`.
* Time is only what the caller passes as ``now`` (seconds, monotonic). Keepalive: an empty
  encrypted message once nothing was written for ``keep_alive`` seconds; timeout: failure once
  nothing was received for ``timeout`` seconds. :meth:`~SecretStreamCore.next_deadline` says when
  to call :meth:`~SecretStreamCore.handle_timer`. With keepalive on (or
  ``filter_zero_byte_messages``) received empty messages are swallowed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

from hyperpunch.crypto import KeyPair
from hyperpunch.crypto import key_pair as make_key_pair
from hyperpunch.errors import HyperpunchError
from hyperpunch.noise import NoiseState
from hyperpunch.secretstream.cipher import (
    ID_HEADER_BYTES,
    KEY_BYTES,
    STREAM_ID_BYTES,
    Pull,
    Push,
    SendBox,
    stream_id,
)
from hyperpunch.secretstream.errors import (
    FirewalledError,
    HandshakeFailedError,
    HandshakeIncompleteError,
    HandshakeNotDoneError,
    InvalidHeaderError,
    InvalidHeaderMessageError,
    InvalidOptionError,
    RemotePublicKeyMismatchError,
    StreamClosedError,
    StreamTimeoutError,
    TruncatedFrameError,
)
from hyperpunch.secretstream.framing import BytesLike, FrameDecoder, frame_header

__all__ = [
    "Closed",
    "Event",
    "Firewall",
    "HandshakeComplete",
    "Message",
    "PresetHandshake",
    "RemoteEnded",
    "SecretStreamCore",
    "SecretStreamOptions",
]

Firewall: TypeAlias = Callable[[bytes], bool]
"""Called with the remote public key as soon as it is known; return True to refuse the peer."""


@dataclass(frozen=True, slots=True)
class PresetHandshake:
    """Keys from a handshake done elsewhere (hyperdht's IK): JS ``opts.handshake``."""

    tx: bytes
    rx: bytes
    hash: bytes
    public_key: bytes
    remote_public_key: bytes


@dataclass(frozen=True, slots=True)
class HandshakeComplete:
    """Keys are established and this side's header is queued: data may be sent (JS ``connect``)."""

    public_key: bytes
    remote_public_key: bytes
    handshake_hash: bytes


@dataclass(frozen=True, slots=True)
class Message:
    """One decrypted application message (one write on the remote side)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class RemoteEnded:
    """The peer ended its side of the stream cleanly (half close); this side may still send."""


@dataclass(frozen=True, slots=True)
class Closed:
    """The core failed (``error`` set) or timed out; nothing more will be received or sent."""

    error: HyperpunchError | None = field(default=None)


Event: TypeAlias = HandshakeComplete | Message | RemoteEnded | Closed


@dataclass(frozen=True, slots=True)
class SecretStreamOptions:
    """The configuration of one side of a secret stream, taken by the core and its adapters.

    ``key_pair`` is this side's static Ed25519 key pair (random when omitted). ``pattern`` is the
    Noise pattern ("XX", or "IK" with ``remote_public_key`` on the initiator); ``remote_public_key``
    is the peer key to insist on. ``handshake`` skips the Noise phase (keys from hyperdht).
    ``keep_alive`` / ``timeout`` are in seconds (0 = off); ``filter_zero_byte_messages`` swallows
    received empty messages (keepalive implies it); ``firewall`` may refuse the remote key.
    ``ephemeral_key_pair``, ``push_header`` and ``send_counter`` pin values that are otherwise
    random, for reproducible transcripts in tests.
    """

    key_pair: KeyPair | None = None
    remote_public_key: bytes | None = None
    pattern: str = "XX"
    handshake: PresetHandshake | None = None
    keep_alive: float = 0.0
    timeout: float = 0.0
    filter_zero_byte_messages: bool = False
    firewall: Firewall | None = None
    ephemeral_key_pair: KeyPair | None = None
    push_header: bytes | None = None
    send_counter: bytes | None = None

    def with_changes(self, changes: dict[str, Any]) -> SecretStreamOptions:
        """These options with ``changes`` (keyword options by name) applied; unknown names raise
        :class:`TypeError`, as an unknown keyword argument does."""
        return replace(self, **changes) if changes else self


DEFAULT_OPTIONS = SecretStreamOptions()

_HANDSHAKE, _HEADER, _OPEN, _FAILED = range(4)


def _exact(value: BytesLike, size: int, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidOptionError(f"{what} must be bytes, not {type(value).__name__}")
    raw = bytes(value)
    if len(raw) != size:
        raise InvalidOptionError(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


def _handshake_failed(cause: Exception) -> HandshakeFailedError:
    error = HandshakeFailedError(f"Noise handshake failed: {cause}")
    cause.__traceback__ = None  # kept as the cause, without frames
    error.__cause__ = cause
    return error


class SecretStreamCore:
    """One side of a secret stream, as a state machine driven by the caller.

    ``is_initiator`` picks the Noise role (and, in preset mode, the stream-id role). The rest is
    a :class:`SecretStreamOptions`, or its fields as keyword arguments (applied over ``options``).
    """

    def __init__(
        self, is_initiator: bool, options: SecretStreamOptions | None = None, **changes: Any
    ) -> None:
        opts = (options or DEFAULT_OPTIONS).with_changes(changes)
        key_pair = opts.key_pair
        remote_public_key = opts.remote_public_key
        pattern = opts.pattern
        handshake = opts.handshake
        firewall = opts.firewall
        push_header = opts.push_header
        if not isinstance(is_initiator, bool):
            raise InvalidOptionError("is_initiator should be a boolean")
        self.is_initiator = is_initiator
        self.remote_public_key: bytes | None = (
            None if remote_public_key is None else _exact(remote_public_key, 32, "remote_public_key")
        )
        self._expected_remote = self.remote_public_key
        self.public_key: bytes | None = None
        self.handshake_hash: bytes | None = None
        self.keep_alive = 0.0
        self.timeout = 0.0
        self.options = opts
        self._filter_zero = bool(opts.filter_zero_byte_messages)
        self._firewall = firewall
        self._push_header = None if push_header is None else _exact(push_header, 24, "push_header")
        self._send_counter = opts.send_counter
        self._preset = handshake
        self._noise: NoiseState | None = None
        self._key_checked = False

        if handshake is None:
            if pattern not in ("XX", "IK"):
                raise InvalidOptionError(f"unsupported handshake pattern {pattern!r} (XX and IK are)")
            if pattern == "IK" and is_initiator and self._expected_remote is None:
                raise InvalidOptionError("the IK pattern needs remote_public_key on the initiator")
            kp = key_pair if key_pair is not None else make_key_pair()
            try:
                self._noise = NoiseState(
                    pattern,  # type: ignore[arg-type]
                    is_initiator,
                    kp,
                    prologue=b"",
                    remote_static=self._expected_remote if pattern == "IK" else None,
                    ephemeral_key_pair=opts.ephemeral_key_pair,
                )
            except HyperpunchError as err:
                raise InvalidOptionError(f"bad handshake options: {err}") from err
            self.public_key = kp.public_key

        self._state = _HANDSHAKE
        self._decoder = FrameDecoder()
        self._outbox: list[bytes | bytearray] = []
        self._push: Push | None = None
        self._pull: Pull | None = None
        self._rx_key: bytes | None = None
        self._send_box: SendBox | None = None
        self._started = False
        self._ended_local = False
        self._ended_remote = False
        self.error: HyperpunchError | None = None
        self._last_write = 0.0
        self._last_read = 0.0
        self.raw_bytes_read = 0
        self.raw_bytes_written = 0
        self.set_keep_alive(opts.keep_alive)
        self.set_timeout(opts.timeout)

    # --- properties ------------------------------------------------------------------------------

    @property
    def established(self) -> bool:
        """Keys exist and our header is queued: :meth:`send` works."""
        return self._push is not None and self._state != _FAILED

    @property
    def opened(self) -> bool:
        """The remote header arrived too: received data frames can be decrypted."""
        return self._state == _OPEN

    @property
    def failed(self) -> bool:
        return self._state == _FAILED

    @property
    def has_data_to_send(self) -> bool:
        """Handshake, header or keepalive bytes wait in the outbox (:meth:`data_to_send`)."""
        return bool(self._outbox)

    @property
    def ended_local(self) -> bool:
        """:meth:`end` was called: this side writes no more."""
        return self._ended_local

    @property
    def send_box(self) -> SendBox | None:
        """The unordered-datagram crypto, once the handshake hash is known."""
        return self._send_box

    # --- configuration ---------------------------------------------------------------------------

    def set_keep_alive(self, seconds: float, now: float | None = None) -> None:
        """Send an empty message after ``seconds`` without writes (0 = off); implies zero filtering."""
        if seconds < 0:
            raise InvalidOptionError("keep_alive must be >= 0")
        self.keep_alive = float(seconds)
        if seconds > 0:
            self._filter_zero = True
        if now is not None:
            self._last_write = now

    def set_timeout(self, seconds: float, now: float | None = None) -> None:
        """Fail after ``seconds`` without received bytes (0 = off)."""
        if seconds < 0:
            raise InvalidOptionError("timeout must be >= 0")
        self.timeout = float(seconds)
        if now is not None:
            self._last_read = now

    # --- driving ---------------------------------------------------------------------------------

    def start(self, now: float = 0.0) -> list[Event]:
        """Begin: the initiator queues Noise m1; a preset handshake queues the header at once."""
        if self._started:
            raise InvalidOptionError("start() called twice")
        self._started = True
        self._last_read = self._last_write = now
        if self._preset is not None:
            p = self._preset
            try:
                self._setup(
                    _exact(p.tx, KEY_BYTES, "handshake.tx"),
                    _exact(p.rx, KEY_BYTES, "handshake.rx"),
                    _exact(p.hash, 64, "handshake.hash"),
                    _exact(p.public_key, 32, "handshake.public_key"),
                    _exact(p.remote_public_key, 32, "handshake.remote_public_key"),
                    now,
                )
            except InvalidOptionError:
                self._state = _FAILED
                raise
            events: list[Event] = []
            self._check_remote_key(p.remote_public_key, events)
            if self._state == _FAILED:
                return events
            return [self._handshake_event()]
        if self.is_initiator:
            noise = self._noise
            assert noise is not None
            self._queue_frame(noise.send())
        return []

    def data_to_send(self) -> bytes:
        """Handshake, header and keepalive bytes queued since the last call (b"" when none)."""
        if not self._outbox:
            return b""
        out = b"".join(self._outbox)
        self._outbox.clear()
        return out

    def receive_data(self, data: BytesLike, now: float = 0.0) -> list[Event]:
        """Feed raw bytes from the transport; returns what they caused, in order."""
        if self._state == _FAILED or self._ended_remote:
            return []
        self._last_read = now
        frames = self._decoder.feed(data)
        if self._state == _OPEN:
            return self._decrypt_frames(frames, [])
        events: list[Event] = []
        for i, frame in enumerate(frames):
            if self._state == _OPEN:
                return self._decrypt_frames(frames[i:], events)
            if self._state == _FAILED:
                break
            self._setup_frame(frame, now, events)
        return events

    def _decrypt_frames(self, frames: list[memoryview | bytearray], events: list[Event]) -> list[Event]:
        pull = self._pull
        assert pull is not None
        filter_zero = self._filter_zero
        for frame in frames:
            self.raw_bytes_read += len(frame)
            try:
                plain = pull.decrypt(frame)
            except HyperpunchError as err:
                return self._fail(err, events)
            if plain or not filter_zero:
                events.append(Message(plain))
        return events

    def receive_eof(self) -> list[Event]:
        """The transport's read side ended: a clean end only between frames and after the header."""
        if self._state == _FAILED or self._ended_remote:
            return []
        self._ended_remote = True
        events: list[Event] = []
        if self._state != _OPEN:
            return self._fail(
                HandshakeIncompleteError("the stream ended before the handshake and header exchange"), events
            )
        if self._decoder.has_partial:
            return self._fail(
                TruncatedFrameError(f"the stream ended inside a frame ({self._decoder.buffered} bytes)"),
                events,
            )
        return [RemoteEnded()]

    def send(self, plaintext: BytesLike, now: float | None = None) -> bytearray:
        """Encrypt one message into one frame for the wire (raises LocalError on misuse)."""
        push = self._push
        if push is None or self._state == _FAILED or self._ended_local:
            if self._state == _FAILED or self._ended_local:
                raise StreamClosedError("cannot write: the stream is closed") from self.error
            raise HandshakeNotDoneError("cannot encrypt before the handshake completes")
        frame = push.frame(plaintext)
        self.raw_bytes_written += len(frame)
        if now is not None:
            self._last_write = now
        return frame

    def send_keep_alive(self, now: float | None = None) -> bytearray:
        """An empty encrypted message (what the keepalive timer sends)."""
        return self.send(b"", now)

    def end(self) -> None:
        """This side will write no more (the adapter then half-closes the transport)."""
        self._ended_local = True

    def fail(self, error: HyperpunchError) -> list[Event]:
        """Fail the core from outside (transport error); returns the :class:`Closed` event."""
        if self._state == _FAILED:
            return []
        return self._fail(error, [])

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`handle_timer` has work to do, or ``None``."""
        if self._state == _FAILED or not self._started:
            return None
        deadline: float | None = None
        if self.timeout > 0 and not self._ended_remote:
            deadline = self._last_read + self.timeout
        if self.keep_alive > 0 and self._push is not None and not self._ended_local:
            ka = self._last_write + self.keep_alive
            if deadline is None or ka < deadline:
                deadline = ka
        return deadline

    def handle_timer(self, now: float) -> list[Event]:
        """Run due timers: a timeout fails the core; a keepalive queues an empty message."""
        if self._state == _FAILED or not self._started:
            return []
        if self.timeout > 0 and not self._ended_remote and now >= self._last_read + self.timeout:
            return self._fail(StreamTimeoutError("Stream timed out"), [])
        if (
            self.keep_alive > 0
            and self._push is not None
            and not self._ended_local
            and now >= self._last_write + self.keep_alive
        ):
            self._outbox.append(self.send_keep_alive(now))
        return []

    # --- internals -------------------------------------------------------------------------------

    def _queue_frame(self, body: bytes) -> None:
        self._outbox.append(frame_header(len(body)))
        self._outbox.append(body)

    def _fail(self, error: HyperpunchError, events: list[Event]) -> list[Event]:
        self._state = _FAILED
        # the error outlives this call: drop its traceback so no frame (and no buffer) stays alive
        error.__traceback__ = None
        self.error = error
        self._outbox.clear()
        events.append(Closed(error))
        return events

    def _handshake_event(self) -> HandshakeComplete:
        assert self.public_key is not None
        assert self.remote_public_key is not None
        assert self.handshake_hash is not None
        return HandshakeComplete(self.public_key, self.remote_public_key, self.handshake_hash)

    def _check_remote_key(self, remote: bytes, events: list[Event]) -> None:
        if self._key_checked:
            return
        self._key_checked = True
        expected = self._expected_remote
        if expected is not None and not hmac.compare_digest(expected, remote):
            self._fail(
                RemotePublicKeyMismatchError(
                    f"the peer's public key is {remote.hex()}, expected {expected.hex()}"
                ),
                events,
            )
            return
        if self._firewall is not None and self._firewall(remote):
            self._fail(FirewalledError(f"the firewall refused the peer {remote.hex()}"), events)

    def _setup_frame(self, frame: memoryview | bytearray, now: float, events: list[Event]) -> None:
        noise = self._noise
        if self._state == _HANDSHAKE:
            assert noise is not None
            try:
                noise.recv(bytes(frame))
            except Exception as err:  # JS: any failure of the Noise recv destroys the stream
                self._fail(_handshake_failed(err), events)
                return
            if noise.remote_static is not None:
                self._check_remote_key(noise.remote_static, events)
                if self._state == _FAILED:
                    return
            if not noise.complete:
                try:
                    self._queue_frame(noise.send())
                except Exception as err:
                    self._fail(_handshake_failed(err), events)
                    return
            if noise.complete:
                self._complete_noise(noise, now, events)
            return
        # _HEADER: exactly one 56-byte frame, stream id of the remote role, then push header
        if len(frame) != ID_HEADER_BYTES:
            self._fail(
                InvalidHeaderMessageError(
                    f"Invalid header message received: {len(frame)} bytes, expected {ID_HEADER_BYTES}"
                ),
                events,
            )
            return
        raw = bytes(frame)
        assert self.handshake_hash is not None
        if not hmac.compare_digest(
            raw[:STREAM_ID_BYTES], stream_id(self.handshake_hash, not self.is_initiator)
        ):
            self._fail(InvalidHeaderError("Invalid header received: wrong stream id"), events)
            return
        assert self._rx_key is not None
        self._pull = Pull(self._rx_key, raw[STREAM_ID_BYTES:])
        self._rx_key = None
        self._state = _OPEN

    def _complete_noise(self, noise: NoiseState, now: float, events: list[Event]) -> None:
        assert noise.tx is not None and noise.rx is not None and noise.hash is not None
        assert noise.remote_static is not None and self.public_key is not None
        self._noise = None
        self._setup(noise.tx, noise.rx, noise.hash, self.public_key, noise.remote_static, now)
        events.append(self._handshake_event())

    def _setup(
        self, tx: bytes, rx: bytes, hash_: bytes, public_key: bytes, remote: bytes, now: float
    ) -> None:
        self._push = Push(tx, self._push_header)
        self._rx_key = rx
        self.public_key = public_key
        self.remote_public_key = remote
        self.handshake_hash = hash_
        self._send_box = SendBox(hash_, self.is_initiator, self._send_counter)
        self._queue_frame(stream_id(hash_, self.is_initiator) + self._push.header)
        self._state = _HEADER
        self._last_write = now

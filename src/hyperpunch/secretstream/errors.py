"""Errors raised by :mod:`hyperpunch.secretstream`.

Invariants:

* Anything the peer (or the bytes on the wire) got wrong is a :class:`SecretStreamRemoteError`
  (a :class:`hyperpunch.errors.RemoteError`): a failed Noise handshake, a bad header frame or
  stream id, a frame too short to hold a ciphertext, a ciphertext that does not authenticate,
  an unexpected remote public key, silence past the timeout, the stream ending mid-frame.
* Anything the local caller got wrong is a :class:`SecretStreamLocalError`
  (a :class:`hyperpunch.errors.LocalError`): a write after close, a message too large for one
  frame, bad options.
* The JS reference (``@hyperswarm/secret-stream`` 6.9.2) throws plain ``Error``s without codes;
  the ``code`` strings here are descriptive and each names the JS message it stands for.
"""

from __future__ import annotations

from hyperpunch.errors import LocalError, RemoteError


class SecretStreamRemoteError(RemoteError):
    """The peer or the wire broke the secret-stream protocol."""

    code = "SECRET_STREAM_REMOTE_ERROR"


class HandshakeFailedError(SecretStreamRemoteError):
    """A Noise handshake message did not decode or authenticate (JS: "Noise handshake failed")."""

    code = "HANDSHAKE_FAILED"


class InvalidHeaderMessageError(SecretStreamRemoteError):
    """The header frame is not exactly 56 bytes (JS: "Invalid header message received")."""

    code = "INVALID_HEADER_MESSAGE"


class InvalidHeaderError(SecretStreamRemoteError):
    """The header frame's stream id is not the remote role's id (JS: "Invalid header received")."""

    code = "INVALID_HEADER"


class InvalidMessageError(SecretStreamRemoteError):
    """A data frame is shorter than the 17-byte ciphertext overhead (JS: "Invalid message received")."""

    code = "INVALID_MESSAGE"


class DecryptionFailedError(SecretStreamRemoteError):
    """A data frame did not authenticate: tampered, reordered or replayed ciphertext."""

    code = "DECRYPTION_FAILED"


class RemotePublicKeyMismatchError(SecretStreamRemoteError):
    """The peer proved a static key other than the expected ``remote_public_key``."""

    code = "REMOTE_PUBLIC_KEY_MISMATCH"


class FirewalledError(SecretStreamRemoteError):
    """The ``firewall`` hook refused the peer's public key."""

    code = "FIREWALLED"


class StreamTimeoutError(SecretStreamRemoteError):
    """Nothing arrived from the peer within the timeout (JS: "Stream timed out")."""

    code = "STREAM_TIMED_OUT"


class TruncatedFrameError(SecretStreamRemoteError):
    """The transport ended in the middle of a frame."""

    code = "TRUNCATED_FRAME"


class HandshakeIncompleteError(SecretStreamRemoteError):
    """The transport ended or closed before the handshake and header exchange finished."""

    code = "HANDSHAKE_INCOMPLETE"


class ConnectionLostError(SecretStreamRemoteError):
    """The underlying transport failed (reset, I/O error)."""

    code = "CONNECTION_LOST"


class SecretStreamLocalError(LocalError):
    """The local caller misused a secret stream."""

    code = "SECRET_STREAM_LOCAL_ERROR"


class StreamClosedError(SecretStreamLocalError):
    """Write or send after the stream ended, closed or failed."""

    code = "STREAM_CLOSED"


class MessageTooLargeError(SecretStreamLocalError):
    """A message does not fit one frame (JS: "Message is too large for an atomic write")."""

    code = "MESSAGE_TOO_LARGE"


class HandshakeNotDoneError(SecretStreamLocalError):
    """Encrypting before the handshake finished (the sans-IO core has no write queue)."""

    code = "HANDSHAKE_NOT_DONE"


class InvalidOptionError(SecretStreamLocalError):
    """A constructor option has the wrong type, length or combination."""

    code = "INVALID_OPTION"


class SendNonceExhaustedError(SecretStreamLocalError):
    """The unordered-send counter wrapped around to its start (JS: "udp send nonce exchausted")."""

    code = "SEND_NONCE_EXHAUSTED"

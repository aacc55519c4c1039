"""``@hyperswarm/secret-stream`` 6.9.2 for Python: Noise-authenticated, encrypted byte streams.

Invariants:

* Wire-identical to the JS reference: uint24 LE frames; a Noise handshake (XX by default, empty
  prologue, Ed25519 static keys) or a preset one (hyperdht); one 56-byte ``stream_id || header``
  frame each way; then libsodium secretstream (xchacha20poly1305) messages, one per write.
* :class:`SecretStreamCore` is the sans-IO protocol; :class:`SecretStream` is its asyncio adapter
  over any transport with the asyncio Transport/Protocol shape (TCP now, UDX later; see
  :mod:`hyperpunch.secretstream.stream` for the exact interface).
* Peer faults are :class:`SecretStreamRemoteError` (RemoteError), caller faults
  :class:`SecretStreamLocalError` (LocalError).
"""

from __future__ import annotations

from hyperpunch.secretstream.cipher import (
    ABYTES,
    ID_HEADER_BYTES,
    MAX_ATOMIC_WRITE,
    MAX_PLAINTEXT,
    NS_INITIATOR,
    NS_RESPONDER,
    NS_SEND,
    Pull,
    Push,
    SendBox,
    replication_capability,
    send_keys,
    stream_id,
)
from hyperpunch.secretstream.core import (
    Closed,
    Event,
    Firewall,
    HandshakeComplete,
    Message,
    PresetHandshake,
    RemoteEnded,
    SecretStreamCore,
    SecretStreamOptions,
)
from hyperpunch.secretstream.errors import (
    ConnectionLostError,
    DecryptionFailedError,
    FirewalledError,
    HandshakeFailedError,
    HandshakeIncompleteError,
    HandshakeNotDoneError,
    InvalidHeaderError,
    InvalidHeaderMessageError,
    InvalidMessageError,
    InvalidOptionError,
    MessageTooLargeError,
    RemotePublicKeyMismatchError,
    SecretStreamLocalError,
    SecretStreamRemoteError,
    SendNonceExhaustedError,
    StreamClosedError,
    StreamTimeoutError,
    TruncatedFrameError,
)
from hyperpunch.secretstream.framing import FrameDecoder, encode_frame, frame_header
from hyperpunch.secretstream.server import SecretStreamServer, serve
from hyperpunch.secretstream.stream import (
    ByteStreamTransport,
    DatagramTransport,
    SecretStream,
    SecretStreamProtocol,
)

__all__ = [
    "ABYTES",
    "ID_HEADER_BYTES",
    "MAX_ATOMIC_WRITE",
    "MAX_PLAINTEXT",
    "NS_INITIATOR",
    "NS_RESPONDER",
    "NS_SEND",
    "ByteStreamTransport",
    "Closed",
    "ConnectionLostError",
    "DatagramTransport",
    "DecryptionFailedError",
    "Event",
    "Firewall",
    "FirewalledError",
    "FrameDecoder",
    "HandshakeComplete",
    "HandshakeFailedError",
    "HandshakeIncompleteError",
    "HandshakeNotDoneError",
    "InvalidHeaderError",
    "InvalidHeaderMessageError",
    "InvalidMessageError",
    "InvalidOptionError",
    "Message",
    "MessageTooLargeError",
    "PresetHandshake",
    "Pull",
    "Push",
    "RemoteEnded",
    "RemotePublicKeyMismatchError",
    "SecretStream",
    "SecretStreamCore",
    "SecretStreamLocalError",
    "SecretStreamOptions",
    "SecretStreamProtocol",
    "SecretStreamRemoteError",
    "SecretStreamServer",
    "SendBox",
    "SendNonceExhaustedError",
    "StreamClosedError",
    "StreamTimeoutError",
    "TruncatedFrameError",
    "encode_frame",
    "frame_header",
    "replication_capability",
    "send_keys",
    "serve",
    "stream_id",
]

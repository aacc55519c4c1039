"""Unit tests of the sans-IO secret-stream core, driven in memory."""

from __future__ import annotations

import os

import pytest
from secretstream_helpers import SEED_I, SEED_R, Side, connect, deliver, make_pair, pump, send

from hyperpunch.crypto import key_pair
from hyperpunch.errors import LocalError, RemoteError
from hyperpunch.secretstream import (
    MAX_PLAINTEXT,
    Closed,
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
    PresetHandshake,
    RemoteEnded,
    RemotePublicKeyMismatchError,
    SecretStreamCore,
    SecretStreamOptions,
    SendBox,
    SendNonceExhaustedError,
    StreamClosedError,
    StreamTimeoutError,
    TruncatedFrameError,
    encode_frame,
    replication_capability,
    stream_id,
)

PK_I = key_pair(SEED_I).public_key
PK_R = key_pair(SEED_R).public_key


def established(**opts: object) -> tuple[Side, Side]:
    a, b = make_pair(**opts)
    sa, sb = connect(a, b)
    assert sa.core.established and sb.core.established
    assert sa.core.opened and sb.core.opened
    return sa, sb


def the_error(side: Side) -> BaseException:
    (closed,) = side.closed
    assert closed.error is not None
    assert side.core.failed
    return closed.error


# --- handshake and data ----------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["XX", "IK"])
def test_handshake_both_roles_and_messages(pattern: str) -> None:
    kw = {"initiator": {"remote_public_key": PK_R}} if pattern == "IK" else {}
    a, b = established(pattern=pattern, **kw)
    assert a.core.remote_public_key == PK_R and b.core.remote_public_key == PK_I
    assert a.core.public_key == PK_I and b.core.public_key == PK_R
    assert a.core.handshake_hash is not None and len(a.core.handshake_hash) == 64
    assert a.core.handshake_hash == b.core.handshake_hash
    assert len(a.handshakes) == len(b.handshakes) == 1
    send(a, b, b"one")
    send(b, a, b"two")
    send(a, b, b"")  # keepalive off: an empty message is delivered
    send(a, b, os.urandom(70000))
    assert b.messages[:2] == [b"one", b""] and len(b.messages[2]) == 70000
    assert a.messages == [b"two"]


def test_random_keys_when_no_key_pair() -> None:
    a, b = connect(SecretStreamCore(True), SecretStreamCore(False))
    assert a.core.remote_public_key == b.core.public_key
    assert b.core.remote_public_key == a.core.public_key
    assert a.core.public_key != b.core.public_key


def test_ids_on_the_wire_and_capability_symmetry() -> None:
    a, b = established()
    h = a.core.handshake_hash
    assert h is not None
    # the header frame follows the noise frames; it carries the sender's own role id
    assert stream_id(h, True) in bytes(a.wire) and stream_id(h, False) in bytes(b.wire)
    key = os.urandom(32)
    # each side sends its own role's capability; the other checks it with the remote role
    assert replication_capability(h, a.core.is_initiator, key) == replication_capability(
        b.core.handshake_hash or b"", not b.core.is_initiator, key
    )
    assert replication_capability(h, True, key) != replication_capability(h, False, key)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1000])
def test_any_chunking(chunk: int) -> None:
    a, b = make_pair()
    sa, sb = Side(a), Side(b)
    sa.events += a.start()
    sb.events += b.start()
    pump(sa, sb, chunk=chunk)
    msgs = [os.urandom(n) for n in (0, 1, 17, 300, 4000)]
    for m in msgs:
        send(sa, sb, m, chunk=chunk)
    assert sb.messages == msgs


def test_preset_mode_both_roles() -> None:
    tx, rx, h = os.urandom(32), os.urandom(32), os.urandom(64)
    a = SecretStreamCore(True, handshake=PresetHandshake(tx, rx, h, PK_I, PK_R))
    b = SecretStreamCore(False, handshake=PresetHandshake(rx, tx, h, PK_R, PK_I))
    sa, sb = Side(a), Side(b)
    sa.events += a.start()
    # preset: established at start, header queued at once, no noise frames
    assert a.established and len(sa.handshakes) == 1
    assert len(a.data_to_send()) == 3 + 56
    a2 = SecretStreamCore(True, handshake=PresetHandshake(tx, rx, h, PK_I, PK_R))
    sa = Side(a2)
    sa.events += a2.start()
    sb.events += b.start()
    pump(sa, sb)
    send(sa, sb, b"x")
    send(sb, sa, b"y")
    assert sb.messages == [b"x"] and sa.messages == [b"y"]
    assert a2.remote_public_key == PK_R and b.handshake_hash == h


def test_preset_mode_roles_must_differ() -> None:
    tx, rx, h = os.urandom(32), os.urandom(32), os.urandom(64)
    a = SecretStreamCore(True, handshake=PresetHandshake(tx, rx, h, PK_I, PK_R))
    b = SecretStreamCore(True, handshake=PresetHandshake(rx, tx, h, PK_R, PK_I))
    sa, sb = Side(a), Side(b)
    sa.events += a.start()
    sb.events += b.start()
    header_a, header_b = a.data_to_send(), b.data_to_send()
    deliver(sa, header_b)
    deliver(sb, header_a)
    # both claim the initiator role: each sees the initiator id where it expects the responder's
    assert isinstance(the_error(sa), InvalidHeaderError)
    assert isinstance(the_error(sb), InvalidHeaderError)


# --- keepalive and timeout on a virtual clock ------------------------------------------------------


def test_keep_alive_virtual_clock() -> None:
    a, b = make_pair(keep_alive=5.0)
    sa, sb = connect(a, b, now=100.0)
    assert a.next_deadline() == 105.0
    assert a.handle_timer(104.9) == [] and a.data_to_send() == b""
    send(sa, sb, b"data", now=103.0)  # a write pushes the keepalive back
    assert a.next_deadline() == 108.0
    assert a.handle_timer(105.0) == [] and a.data_to_send() == b""
    assert a.handle_timer(108.0) == []
    frame = a.data_to_send()
    assert len(frame) == 3 + 17 and frame[:3] == (17).to_bytes(3, "little")
    assert a.next_deadline() == 113.0
    deliver(sb, frame)
    assert sb.messages == [b"data"]  # the keepalive was swallowed (keep_alive > 0 filters)


def test_keep_alive_reaches_peer_without_filter_as_empty_message() -> None:
    a, b = make_pair(initiator={"keep_alive": 1.0})
    _, sb = connect(a, b)
    a.handle_timer(1.0)
    deliver(sb, a.data_to_send())
    assert sb.messages == [b""]


def test_filter_zero_byte_messages_without_keep_alive() -> None:
    a, b = make_pair(responder={"filter_zero_byte_messages": True})
    sa, sb = connect(a, b)
    send(sa, sb, b"")
    send(sa, sb, b"z")
    assert sb.messages == [b"z"]


def test_timeout_virtual_clock() -> None:
    a, b = make_pair(responder={"timeout": 10.0})
    sa, sb = connect(a, b, now=0.0)
    assert b.next_deadline() == 10.0
    send(sa, sb, b"tick", now=7.0)
    assert b.next_deadline() == 17.0
    assert b.handle_timer(16.0) == []
    events = b.handle_timer(17.0)
    assert len(events) == 1 and isinstance(events[0], Closed)
    assert isinstance(events[0].error, StreamTimeoutError) and isinstance(events[0].error, RemoteError)
    assert b.next_deadline() is None
    with pytest.raises(StreamClosedError):
        b.send(b"late")


def test_timeout_during_handshake() -> None:
    a = SecretStreamCore(True, timeout=2.0)
    a.start(0.0)
    assert a.next_deadline() == 2.0
    (closed,) = a.handle_timer(2.5)
    assert isinstance(closed, Closed) and isinstance(closed.error, StreamTimeoutError)


def test_set_keep_alive_and_timeout_validate() -> None:
    with pytest.raises(InvalidOptionError):
        SecretStreamCore(True, keep_alive=-1)
    with pytest.raises(InvalidOptionError):
        SecretStreamCore(True, timeout=-1)


def test_options_object_and_keyword_overrides() -> None:
    opts = SecretStreamOptions(keep_alive=5.0, timeout=2.0)
    a = SecretStreamCore(True, opts)
    assert (a.keep_alive, a.timeout) == (5.0, 2.0)
    b = SecretStreamCore(True, opts, timeout=3.0)  # keywords apply over the options object
    assert (b.keep_alive, b.timeout) == (5.0, 3.0)
    assert b.options == SecretStreamOptions(keep_alive=5.0, timeout=3.0)
    with pytest.raises(TypeError):
        SecretStreamCore(True, no_such_option=1)


# --- end of stream ---------------------------------------------------------------------------------


def test_clean_eof_after_open() -> None:
    a, b = established()
    send(a, b, b"last")
    assert b.core.receive_eof() == [RemoteEnded()]
    # this side may still write after the peer ended (half close)
    send(b, a, b"reply")
    assert a.messages == [b"reply"]


def test_eof_inside_a_frame_is_truncation() -> None:
    a, b = established()
    frame = bytes(a.core.send(b"hello world"))
    deliver(b, frame[:-3])
    (closed,) = b.core.receive_eof()
    assert isinstance(closed, Closed) and isinstance(closed.error, TruncatedFrameError)


def test_eof_inside_a_length_prefix_is_truncation() -> None:
    a, b = established()
    deliver(b, bytes(a.core.send(b"hi"))[:2])
    (closed,) = b.core.receive_eof()
    assert isinstance(closed, Closed) and isinstance(closed.error, TruncatedFrameError)


def test_eof_during_handshake() -> None:
    a, b = make_pair()
    b.start()
    b.receive_data((a.start() and b"") or a.data_to_send())
    (closed,) = b.receive_eof()
    assert isinstance(closed, Closed) and isinstance(closed.error, HandshakeIncompleteError)


# --- bad bytes from the peer -----------------------------------------------------------------------


def test_garbled_handshake_message() -> None:
    _, b = make_pair()
    sb = Side(b)
    sb.events += b.start()
    deliver(sb, encode_frame(b"\x00" * 5))  # shorter than an ephemeral key
    assert isinstance(the_error(sb), HandshakeFailedError)
    assert b.data_to_send() == b""  # nothing answered


def test_tampered_handshake_message() -> None:
    a, b = make_pair()
    sa, sb = Side(a), Side(b)
    sa.events += a.start()
    sb.events += b.start()
    deliver(sb, a.data_to_send())
    m2 = bytearray(b.data_to_send())
    m2[40] ^= 0x01  # inside the encrypted static key
    deliver(sa, bytes(m2))
    assert isinstance(the_error(sa), HandshakeFailedError)


def header_stage() -> tuple[Side, Side, bytes]:
    """Run the handshake, but hold back the initiator's header frame (the last 59 bytes it wrote)."""
    a, b = make_pair()
    sa, sb = Side(a), Side(b)
    sa.events += a.start()
    sb.events += b.start()
    deliver(sb, a.data_to_send())  # m1
    deliver(sa, b.data_to_send())  # m2
    out = a.data_to_send()  # m3 + header
    m3, header = out[:-59], out[-59:]
    deliver(sb, m3)
    return sa, sb, header


def test_header_with_wrong_length() -> None:
    _, sb, header = header_stage()
    deliver(sb, encode_frame(header[3:] + b"\x00"))
    assert isinstance(the_error(sb), InvalidHeaderMessageError)


def test_header_with_wrong_id() -> None:
    _, sb, header = header_stage()
    body = bytearray(header[3:])
    body[0] ^= 0xFF
    deliver(sb, encode_frame(bytes(body)))
    assert isinstance(the_error(sb), InvalidHeaderError)


def test_correct_header_opens() -> None:
    _, sb, header = header_stage()
    deliver(sb, header)
    assert sb.core.opened and not sb.closed


def test_frame_shorter_than_overhead() -> None:
    _, b = established()
    deliver(b, encode_frame(b"\x00" * 16))
    err = the_error(b)
    assert isinstance(err, InvalidMessageError) and isinstance(err, RemoteError)


def test_tampered_ciphertext_closes_with_clear_error() -> None:
    a, b = established()
    send(a, b, b"fine")
    frame = bytearray(a.core.send(b"secret"))
    frame[6] ^= 0x01
    later = bytes(a.core.send(b"after"))
    deliver(b, bytes(frame) + later)
    err = the_error(b)
    assert isinstance(err, DecryptionFailedError) and err.code == "DECRYPTION_FAILED"
    assert "DECRYPTION_FAILED" in str(err)
    assert b.messages == [b"fine"]  # nothing after the bad frame
    assert b.core.receive_data(later) == []  # a failed core ignores further bytes
    with pytest.raises(StreamClosedError):
        b.core.send(b"x")


def test_replayed_frame_fails() -> None:
    a, b = established()
    frame = send(a, b, b"once")
    deliver(b, frame)
    assert isinstance(the_error(b), DecryptionFailedError)


def test_messages_before_the_error_in_the_same_chunk_are_kept() -> None:
    a, b = established()
    good = bytes(a.core.send(b"good"))
    deliver(b, good + encode_frame(b"\x01" * 20))
    assert b.messages == [b"good"]
    assert isinstance(the_error(b), DecryptionFailedError)


# --- remote key checks -----------------------------------------------------------------------------


def test_xx_initiator_refuses_wrong_remote_key_before_revealing_itself() -> None:
    other = key_pair(bytes([0x33]) * 32).public_key
    a, b = make_pair(initiator={"remote_public_key": other})
    sa, sb = Side(a), Side(b)
    sa.events += a.start()
    sb.events += b.start()
    deliver(sb, a.data_to_send())
    deliver(sa, b.data_to_send())
    err = the_error(sa)
    assert isinstance(err, RemotePublicKeyMismatchError) and isinstance(err, RemoteError)
    assert other.hex() in str(err) and PK_R.hex() in str(err)
    assert a.data_to_send() == b""  # m3 (with our static key) was never sent
    assert not sa.handshakes


def test_xx_responder_refuses_wrong_remote_key() -> None:
    other = key_pair(bytes([0x33]) * 32).public_key
    a, b = make_pair(responder={"remote_public_key": other})
    sa, sb = Side(a), Side(b)
    sa.events += a.start()
    sb.events += b.start()
    pump(sa, sb)
    assert isinstance(the_error(sb), RemotePublicKeyMismatchError)
    assert not sb.handshakes
    assert not sa.core.opened  # the responder never sent its header


def test_expected_remote_key_accepted() -> None:
    a, b = established(initiator={"remote_public_key": PK_R}, responder={"remote_public_key": PK_I})
    assert not a.closed and not b.closed


def test_ik_with_wrong_responder_key_fails_handshake() -> None:
    other = key_pair(bytes([0x33]) * 32).public_key
    a, b = make_pair(pattern="IK", initiator={"remote_public_key": other})
    sa, sb = Side(a), Side(b)
    sa.events += a.start()
    sb.events += b.start()
    pump(sa, sb)
    assert isinstance(the_error(sb), HandshakeFailedError)


def test_preset_mode_checks_expected_key() -> None:
    tx, rx, h = os.urandom(32), os.urandom(32), os.urandom(64)
    a = SecretStreamCore(True, handshake=PresetHandshake(tx, rx, h, PK_I, PK_R), remote_public_key=PK_I)
    (closed,) = a.start()
    assert isinstance(closed, Closed) and isinstance(closed.error, RemotePublicKeyMismatchError)
    assert a.data_to_send() == b""


@pytest.mark.parametrize("refuse", [True, False])
def test_firewall_hook(refuse: bool) -> None:
    seen: list[bytes] = []

    def firewall(remote: bytes) -> bool:
        seen.append(remote)
        return refuse

    a, b = make_pair(responder={"firewall": firewall})
    sa, sb = connect(a, b)
    assert seen == [PK_I]
    if refuse:
        assert isinstance(the_error(sb), FirewalledError)
        assert not sa.core.opened
    else:
        assert sb.core.opened and not sb.closed


# --- local misuse ----------------------------------------------------------------------------------


def test_local_errors() -> None:
    a = SecretStreamCore(True)
    with pytest.raises(HandshakeNotDoneError):
        a.send(b"too early")
    sa, _ = established()
    with pytest.raises(MessageTooLargeError) as info:
        sa.core.send(bytes(MAX_PLAINTEXT + 1))
    assert isinstance(info.value, LocalError)
    assert len(sa.core.send(memoryview(bytes(10)))) == 30
    sa.core.end()
    with pytest.raises(StreamClosedError):
        sa.core.send(b"after end")
    with pytest.raises(InvalidOptionError):
        SecretStreamCore(True, pattern="NN")
    with pytest.raises(InvalidOptionError):
        SecretStreamCore(True, pattern="IK")  # IK needs the responder's key
    with pytest.raises(InvalidOptionError):
        SecretStreamCore(True, remote_public_key=b"short")
    with pytest.raises(InvalidOptionError):
        SecretStreamCore(1)  # type: ignore[arg-type]


def test_largest_message_fits_one_frame() -> None:
    a, b = established()
    big = os.urandom(MAX_PLAINTEXT)
    frame = a.core.send(big)
    assert len(frame) == 3 + 0xFFFFFF
    deliver(b, bytes(frame))
    assert b.messages == [big]


def test_send_nonce_exhaustion() -> None:
    box = SendBox(os.urandom(64), True, bytes(8))
    box._initial = (2).to_bytes(8, "little")  # pretend the counter went all the way round
    box.box(b"1")  # counter 1
    with pytest.raises(SendNonceExhaustedError):
        box.box(b"2")  # counter 2 == start

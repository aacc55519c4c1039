"""The relay messages against the captured JS vectors (APP-LAYER.md §1.4, compact-encoding 2.19.2)."""

from __future__ import annotations

from typing import Any

import pytest

from hyperpunch.encoding import Address, DecodeError, decode, encode
from hyperpunch.relay import messages as m
from hyperpunch.relay.messages import MESSAGES
from hyperpunch.relay.messages import MessageType as T


def x(b: int, n: int) -> bytes:
    return bytes([b]) * n


VECTORS: list[tuple[int, Any, bytes]] = [
    (T.HANDSHAKE, m.Handshake(True, x(0x11, 32), x(0x22, 64)), b"\x01" + x(0x11, 32) + x(0x22, 64)),
    (T.HANDSHAKE, m.Handshake(False, x(0x11, 32)), b"\x00" + x(0x11, 32)),
    (
        T.CONNECT,
        m.Connect(True, 1, x(0x11, 32), x(0x33, 32), x(0x22, 64)),
        bytes.fromhex("0101000000") + x(0x11, 32) + x(0x22, 64) + x(0x33, 32),
    ),
    (
        T.CONNECT,
        m.Connect(False, 1, x(0x11, 32), x(0x33, 32)),
        bytes.fromhex("0001000000") + x(0x11, 32) + x(0x33, 32),
    ),
    (
        T.CONNECTION,
        m.Connection(True, 5, 4, x(0x33, 32), x(0x44, 64)),
        bytes.fromhex("010500000004000000") + x(0x33, 32) + x(0x44, 64),
    ),
    (
        T.CONNECTION,
        m.Connection(False, 5, 4, x(0x33, 32), None, 9),
        bytes.fromhex("000500000004000000") + x(0x33, 32) + bytes.fromhex("09000000"),
    ),
    (T.CONNECTED, m.Connected(2, 5), bytes.fromhex("0200000005000000")),
    (
        T.INCOMING,
        m.Incoming(6, 4, x(0x33, 32), b"\x01\x02"),
        bytes.fromhex("0600000004000000") + x(0x33, 32) + b"\x02\x01\x02",
    ),
    (T.DENY, m.Deny(6), bytes.fromhex("06000000")),
    (T.ACCEPT, m.Accept(6), bytes.fromhex("06000000")),
    (T.DESTROY, m.Destroy(True, 2), bytes.fromhex("0102000000")),
    (
        T.DESTROY,
        m.Destroy(False, 1, "PEER_NOT_FOUND"),
        bytes.fromhex("02010000000e504545525f4e4f545f464f554e44"),
    ),
    (T.LISTEN, m.Listen(False, 3, x(0x11, 32)), bytes.fromhex("0003000000") + x(0x11, 32)),
    (
        T.LISTENING,
        m.Listening(4, 3, Address("127.0.0.1", 49737)),
        bytes.fromhex("04000000030000007f00000149c2"),
    ),
    (T.CLOSE, m.Close(3), bytes.fromhex("03000000")),
    (T.CLOSED, m.Closed(4), bytes.fromhex("04000000")),
    (T.OPEN, m.Open(True, 2, 1, x(0x44, 64)), bytes.fromhex("010200000001000000") + x(0x44, 64)),
    (T.OPEN, m.Open(False, 2, 1, None, 9), bytes.fromhex("00020000000100000009000000")),
    (T.END, m.End(1), bytes.fromhex("01000000")),
    (T.DATA, m.Data(1, [b"ping", b""]), bytes.fromhex("01000000020470696e6700")),
    (T.RESULT, m.Result(7, b"\xab\xcd"), bytes.fromhex("0700000002abcd")),
    (T.FINISHED, m.Finished(7), bytes.fromhex("07000000")),
    (T.LOOKUP, m.Lookup(7, x(0x55, 32)), bytes.fromhex("07000000") + x(0x55, 32)),
    (
        T.ANNOUNCE,
        m.Announce(False, 8, x(0x55, 32), x(0x11, 32)),
        bytes.fromhex("0008000000") + x(0x55, 32) + x(0x11, 32),
    ),
    (
        T.UNANNOUNCE,
        m.Announce(True, 8, x(0x55, 32), x(0x11, 32), x(0x22, 64)),
        bytes.fromhex("0108000000") + x(0x55, 32) + x(0x11, 32) + x(0x22, 64),
    ),
    (
        T.SIGN_ANNOUNCE,
        m.SignAnnounce(10, 8, x(0x66, 32), x(0x77, 32), [Address("10.0.0.1", 1)]),
        bytes.fromhex("0a00000008000000")
        + x(0x66, 32)
        + b"\x20"
        + x(0x77, 32)
        + bytes.fromhex("010a0000010100"),
    ),
    (T.SIGNATURE, m.Signature(10, x(0x88, 64)), bytes.fromhex("0a00000040") + x(0x88, 64)),
    (T.NOISE_SEND, m.NoiseSend(True, 9, b"\xaa", 1), bytes.fromhex("01090000000100000001aa")),
    (T.NOISE_SEND, m.NoiseSend(False, 9, b"\xaa"), bytes.fromhex("000900000001aa")),
    (T.NOISE_RECEIVE, m.NoiseReceive(False, 9, b"\xbb", 4), bytes.fromhex("00090000000400000001bb")),
    (
        T.NOISE_REPLY,
        m.NoiseReply(False, False, 9, b"\xcc", x(0x33, 32)),
        bytes.fromhex("000900000001cc") + x(0x33, 32),
    ),
    (
        T.NOISE_REPLY,
        m.NoiseReply(True, True, 9, b"\xcc", None, x(0x99, 32), x(0xAA, 32)),
        bytes.fromhex("030900000001cc") + x(0x99, 32) + x(0xAA, 32),
    ),
    (
        T.NOISE_REPLY,
        m.NoiseReply(False, False, 9, b"", x(0x33, 32)),
        bytes.fromhex("000900000000") + x(0x33, 32),
    ),
]


@pytest.mark.parametrize(("type_", "value", "wire"), VECTORS)
def test_vector(type_: int, value: Any, wire: bytes) -> None:
    assert encode(MESSAGES[type_], value) == wire
    assert decode(MESSAGES[type_], wire, exact=True) == value


def test_announcers_vector() -> None:
    value = m.Announcers(
        x(0x66, 32),
        m.AnnouncerNode(x(0x77, 32), Address("1.2.3.4", 5)),
        m.AnnouncerNode(None, Address("5.6.7.8", 9)),
        [m.AnnouncerPeer(x(0x11, 32), [])],
    )
    wire = (
        x(0x66, 32)
        + b"\x20"
        + x(0x77, 32)
        + bytes.fromhex("01020304050000050607080900")
        + b"\x01"
        + x(0x11, 32)
        + b"\x00"
    )
    assert encode(m.ANNOUNCERS, value) == wire
    assert decode(m.ANNOUNCERS, wire) == value


def test_truncated_frames_raise_decode_error_only() -> None:
    for type_, _value, wire in VECTORS:
        for cut in range(len(wire)):
            with pytest.raises(DecodeError):
                decode(MESSAGES[type_], wire[:cut], exact=True)

"""UDX wire format: the 20-byte header, flags and 32-bit sequence arithmetic.

Invariants: all integers are little-endian; a stream packet is >= 20 bytes, starts with magic 0xFF
and version 1; sequence numbers compare with the signed 32-bit difference so they wrap at 2**32.
Layout (libudx ``udx_write_header``): magic u8, version u8, type u8, data_offset u8, remote id u32,
receive window u32, seq u32, ack u32, then SACK pairs (u32 start, u32 end-exclusive) when the SACK
flag is set, then ``data_offset`` bytes of padding, then the payload.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from hyperpunch.udx.errors import UDXDecodeError

MAGIC = 0xFF
VERSION = 1
HEADER_SIZE = 20

FLAG_DATA = 0x01
FLAG_END = 0x02
FLAG_SACK = 0x04
FLAG_MESSAGE = 0x08
FLAG_DESTROY = 0x10
FLAG_HEARTBEAT = 0x20
FLAG_DATA_OR_END = FLAG_DATA | FLAG_END

MAX_SACKS = 50
MTU_BASE = 1200
MTU_MAX = 1500
MTU_STEP = 32
MTU_MAX_PROBES = 3
IPV4_OVERHEAD = 20 + 8 + HEADER_SIZE
IPV6_OVERHEAD = 40 + 8 + HEADER_SIZE

HEADER = struct.Struct("<BBBBIIII")
SACK_PAIR = struct.Struct("<II")
U32 = 0xFFFFFFFF


def seq_diff(a: int, b: int) -> int:
    """Signed 32-bit difference ``a - b`` (positive when ``a`` is after ``b``)."""
    d = (a - b) & U32
    return d - 0x100000000 if d & 0x80000000 else d


def seq_add(a: int, n: int) -> int:
    return (a + n) & U32


@dataclass(frozen=True, slots=True)
class Header:
    """A decoded header. ``sacks`` lists (start, end) pairs; ``payload_offset`` indexes the datagram."""

    type: int
    data_offset: int
    stream_id: int
    rwnd: int
    seq: int
    ack: int
    sacks: tuple[tuple[int, int], ...]
    payload_offset: int


def is_stream_packet(buf: bytes | bytearray | memoryview) -> bool:
    """True when the datagram looks like UDX (length, magic, version); the id is not checked."""
    return len(buf) >= HEADER_SIZE and buf[0] == MAGIC and buf[1] == VERSION


def peek_stream_id(buf: bytes | bytearray | memoryview) -> int:
    return int.from_bytes(buf[4:8], "little")


def decode_header(buf: bytes | bytearray | memoryview) -> Header:
    """Decode a stream packet header, its SACK blocks and where the payload starts.

    SACK blocks fill the space before the padding (libudx: when data_offset is set and smaller
    than the rest, the blocks occupy data_offset bytes; otherwise the whole rest).
    """
    n = len(buf)
    if n < HEADER_SIZE:
        raise UDXDecodeError("datagram shorter than the UDX header")
    magic, version, type_, data_offset, stream_id, rwnd, seq, ack = HEADER.unpack_from(buf, 0)
    if magic != MAGIC or version != VERSION:
        raise UDXDecodeError("bad UDX magic or version")
    rest = n - HEADER_SIZE
    sacks: tuple[tuple[int, int], ...] = ()
    if type_ & FLAG_SACK:
        sack_len = data_offset if 0 < data_offset < rest else rest
        count = min(sack_len // 8, MAX_SACKS)
        sacks = tuple(SACK_PAIR.unpack_from(buf, HEADER_SIZE + 8 * i) for i in range(count))
    if data_offset > rest:
        raise UDXDecodeError("data_offset points past the end of the datagram")
    return Header(type_, data_offset, stream_id, rwnd, seq, ack, sacks, HEADER_SIZE + data_offset)


def encode_sacks(seqs: Iterable[int], base: int) -> bytes:
    """The SACK pairs for the out-of-order packets ``seqs`` above ``base`` (the cumulative ack):
    runs of consecutive sequence numbers, lowest first, at most ``MAX_SACKS``; ``b""`` if none."""
    ranges: list[tuple[int, int]] = []
    run_start = run_end = -1
    for off in sorted(seq_diff(s, base) for s in seqs):
        if off == run_end:
            run_end += 1
            continue
        if run_start >= 0:
            ranges.append((run_start, run_end))
            if len(ranges) >= MAX_SACKS:
                break
        run_start, run_end = off, off + 1
    if run_start >= 0 and len(ranges) < MAX_SACKS:
        ranges.append((run_start, run_end))
    return b"".join(SACK_PAIR.pack((base + s) & U32, (base + e) & U32) for s, e in ranges)


def decode_sacks(
    buf: bytes | bytearray | memoryview, n: int, data_offset: int, base: int, top: int
) -> list[tuple[int, int]]:
    """The valid SACK ranges ``[start, end)`` of a SACK packet of ``n`` bytes: at most ``MAX_SACKS``
    pairs from the body (before the data offset, when there is one), keeping only ranges inside
    ``(base, top]`` — the cumulative ack and our next seq (libudx's ``udx_sack_is_valid``, made
    robust to 2**31 distances, so a hostile block cannot make the caller loop)."""
    rest = n - HEADER_SIZE
    sack_len = data_offset if 0 < data_offset < rest else rest
    span = seq_diff(top, base)
    ranges: list[tuple[int, int]] = []
    for i in range(min(sack_len // 8, MAX_SACKS)):
        s, e = SACK_PAIR.unpack_from(buf, HEADER_SIZE + 8 * i)
        if 0 <= seq_diff(s, base) < seq_diff(e, base) <= span:
            ranges.append((s, e))
    return ranges


def encode_header(type_: int, stream_id: int, rwnd: int, seq: int, ack: int, data_offset: int = 0) -> bytes:
    return HEADER.pack(MAGIC, VERSION, type_, data_offset, stream_id, rwnd, seq, ack)


def encode_packet(
    type_: int,
    stream_id: int,
    rwnd: int,
    seq: int,
    ack: int,
    payload: bytes = b"",
    sacks: tuple[tuple[int, int], ...] = (),
    padding: int = 0,
) -> bytes:
    """Build a whole datagram (tests and slow paths; the stream core has its own fast path)."""
    if sacks:
        type_ |= FLAG_SACK
    body = b"".join(SACK_PAIR.pack(s & U32, e & U32) for s, e in sacks[:MAX_SACKS])
    return (
        encode_header(type_, stream_id, rwnd & U32, seq & U32, ack & U32, padding)
        + body
        + bytes(padding)
        + payload
    )


class SentPacket:
    """A DATA/END packet awaiting acknowledgement."""

    __slots__ = ("flags", "lost", "payload", "probe", "sacked", "seq", "transmits", "xmit_ts")

    def __init__(self, seq: int, flags: int, payload: memoryview | bytes, now: float) -> None:
        self.seq = seq
        self.flags = flags
        self.payload = payload
        self.xmit_ts = now
        self.transmits = 1
        self.sacked = False
        self.lost = False
        self.probe = False

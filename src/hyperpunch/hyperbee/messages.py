"""The hyperbee block codecs (JS ``hyperbee/lib/messages.js``, protocol-buffers generated).

Invariants:

* Every encoder writes exactly the bytes the JS generated encoder writes for the same object:
  fields in tag order, packed repeated varints (a packed field with no elements is omitted, a
  ``YoloIndex`` level is always written, even empty), optional fields omitted when ``None``.
* Every decoder accepts what the JS decoder accepts for well-typed input, skips unknown fields of
  wire types 0, 1, 2 and 5, and raises :class:`hyperpunch.encoding.DecodeError` (a RemoteError) on
  anything else: truncation, a varint longer than 10 bytes, a known field with the wrong wire
  type, a missing required field, a group. It never raises anything else on any input.

Messages: block 0 is a :class:`Header` (``protocol = "hyperbee"``); every later block is a
:class:`Node` (``index`` holds an encoded :class:`YoloIndex`: per tree level of the node's changed
subtree, key seqs and ``(seq, offset)`` child pairs); :class:`ExtensionMessage` is the
``hyperbee`` hypercore extension's message (``cache`` / ``get`` / ``iterator``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperpunch.encoding import DecodeError

__all__ = [
    "CacheMessage",
    "ExtensionMessage",
    "GetMessage",
    "Header",
    "IteratorMessage",
    "Level",
    "Metadata",
    "Node",
    "decode_extension",
    "decode_header",
    "decode_index",
    "decode_node",
    "encode_extension",
    "encode_header",
    "encode_index",
    "encode_node",
]


# --- primitives ----------------------------------------------------------------------------


def _varint(n: int, out: bytearray) -> None:
    if n < 0:
        raise ValueError("varint must be >= 0")
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _varint_len(n: int) -> int:
    size = 1
    while n > 0x7F:
        n >>= 7
        size += 1
    return size


def _read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    if pos >= end:
        raise DecodeError("truncated varint")
    b = buf[pos]
    if b < 0x80:
        return b, pos + 1
    result = b & 0x7F
    shift = 7
    pos += 1
    while True:
        if pos >= end:
            raise DecodeError("truncated varint")
        if shift > 63:
            raise DecodeError("varint too long")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _read_bytes(buf: bytes, pos: int, end: int) -> tuple[bytes, int]:
    n, pos = _read_varint(buf, pos, end)
    stop = pos + n
    if stop > end:
        raise DecodeError("truncated bytes field")
    return buf[pos:stop], stop


def _skip(wire: int, buf: bytes, pos: int, end: int) -> int:
    if wire == 0:
        return _read_varint(buf, pos, end)[1]
    if wire == 1:
        pos += 8
    elif wire == 2:
        n, pos = _read_varint(buf, pos, end)
        pos += n
    elif wire == 5:
        pos += 4
    else:
        raise DecodeError(f"unsupported wire type {wire}")
    if pos > end:
        raise DecodeError("truncated field")
    return pos


def _read_packed(buf: bytes, pos: int, end: int, out: list[int]) -> int:
    n, pos = _read_varint(buf, pos, end)
    stop = pos + n
    if stop > end:
        raise DecodeError("truncated packed field")
    append = out.append
    while pos < stop:
        b = buf[pos]
        if b < 0x80:
            append(b)
            pos += 1
        else:
            v, pos = _read_varint(buf, pos, stop)
            append(v)
    return stop


def _write_bytes(tag: int, value: bytes, out: bytearray) -> None:
    out.append(tag)
    _varint(len(value), out)
    out += value


def _write_packed(tag: int, values: list[int], out: bytearray) -> None:
    if not values:
        return
    body = bytearray()
    append = body.append
    for v in values:
        if 0 <= v < 0x80:
            append(v)
        else:
            _varint(v, body)
    out.append(tag)
    _varint(len(body), out)
    out += body


def _expect(wire: int, want: int, name: str) -> None:
    if wire != want:
        raise DecodeError(f"field {name} has wire type {wire}, expected {want}")


# --- YoloIndex ------------------------------------------------------------------------------


@dataclass(slots=True)
class Level:
    """One level of a node's index: key seqs and flattened ``(seq, offset)`` child pairs."""

    keys: list[int] = field(default_factory=list)
    children: list[int] = field(default_factory=list)


def encode_index(levels: list[Level]) -> bytes:
    out = bytearray()
    for level in levels:
        body = bytearray()
        _write_packed(10, level.keys, body)
        _write_packed(18, level.children, body)
        out.append(10)
        _varint(len(body), out)
        out += body
    return bytes(out)


def _decode_level(buf: bytes, pos: int, end: int) -> Level:
    level = Level()
    while pos < end:
        prefix, pos = _read_varint(buf, pos, end)
        tag, wire = prefix >> 3, prefix & 7
        if tag == 1:
            _expect(wire, 2, "keys")
            pos = _read_packed(buf, pos, end, level.keys)
        elif tag == 2:
            _expect(wire, 2, "children")
            pos = _read_packed(buf, pos, end, level.children)
        else:
            pos = _skip(wire, buf, pos, end)
    return level


def decode_index(buf: bytes) -> list[Level]:
    levels: list[Level] = []
    pos, end = 0, len(buf)
    while pos < end:
        prefix, pos = _read_varint(buf, pos, end)
        tag, wire = prefix >> 3, prefix & 7
        if tag == 1:
            _expect(wire, 2, "levels")
            n, pos = _read_varint(buf, pos, end)
            stop = pos + n
            if stop > end:
                raise DecodeError("truncated level")
            levels.append(_decode_level(buf, pos, stop))
            pos = stop
        else:
            pos = _skip(wire, buf, pos, end)
    return levels


# --- Node -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """One tree block: the key/value written at this seq and the index of the changed subtree."""

    index: bytes
    key: bytes
    value: bytes | None = None


def encode_node(key: bytes, value: bytes | None, index: bytes) -> bytes:
    out = bytearray()
    _write_bytes(10, index, out)
    _write_bytes(18, key, out)
    if value is not None:
        _write_bytes(26, value, out)
    return bytes(out)


def decode_node(buf: bytes) -> Node:
    index: bytes | None = None
    key: bytes | None = None
    value: bytes | None = None
    pos, end = 0, len(buf)
    while pos < end:
        prefix, pos = _read_varint(buf, pos, end)
        tag, wire = prefix >> 3, prefix & 7
        if tag == 1:
            _expect(wire, 2, "index")
            index, pos = _read_bytes(buf, pos, end)
        elif tag == 2:
            _expect(wire, 2, "key")
            key, pos = _read_bytes(buf, pos, end)
        elif tag == 3:
            _expect(wire, 2, "value")
            value, pos = _read_bytes(buf, pos, end)
        else:
            pos = _skip(wire, buf, pos, end)
    if index is None or key is None:
        raise DecodeError("node is missing its index or key")
    return Node(index, key, value)


# --- Header ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Metadata:
    content_feed: bytes | None = None
    user_data: bytes | None = None


@dataclass(frozen=True, slots=True)
class Header:
    protocol: str = "hyperbee"
    metadata: Metadata | None = None


def encode_header(header: Header) -> bytes:
    out = bytearray()
    _write_bytes(10, header.protocol.encode(), out)
    md = header.metadata
    if md is not None:
        body = bytearray()
        if md.content_feed is not None:
            _write_bytes(10, md.content_feed, body)
        if md.user_data is not None:
            _write_bytes(18, md.user_data, body)
        _write_bytes(18, bytes(body), out)
    return bytes(out)


def _decode_metadata(buf: bytes) -> Metadata:
    content_feed: bytes | None = None
    user_data: bytes | None = None
    pos, end = 0, len(buf)
    while pos < end:
        prefix, pos = _read_varint(buf, pos, end)
        tag, wire = prefix >> 3, prefix & 7
        if tag == 1:
            _expect(wire, 2, "contentFeed")
            content_feed, pos = _read_bytes(buf, pos, end)
        elif tag == 2:
            _expect(wire, 2, "userData")
            user_data, pos = _read_bytes(buf, pos, end)
        else:
            pos = _skip(wire, buf, pos, end)
    return Metadata(content_feed, user_data)


def decode_header(buf: bytes) -> Header:
    protocol: str | None = None
    metadata: Metadata | None = None
    pos, end = 0, len(buf)
    while pos < end:
        prefix, pos = _read_varint(buf, pos, end)
        tag, wire = prefix >> 3, prefix & 7
        if tag == 1:
            _expect(wire, 2, "protocol")
            raw, pos = _read_bytes(buf, pos, end)
            protocol = raw.decode("utf-8", "replace")
        elif tag == 2:
            _expect(wire, 2, "metadata")
            raw, pos = _read_bytes(buf, pos, end)
            metadata = _decode_metadata(raw)
        else:
            pos = _skip(wire, buf, pos, end)
    if protocol is None:
        raise DecodeError("header is missing its protocol")
    return Header(protocol, metadata)


# --- Extension ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CacheMessage:
    start: int
    end: int
    blocks: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class GetMessage:
    version: int = 0
    key: bytes | None = None


@dataclass(frozen=True, slots=True)
class IteratorMessage:
    version: int = 0
    gte: bytes | None = None
    gt: bytes | None = None
    lte: bytes | None = None
    lt: bytes | None = None
    limit: int = 0
    reverse: bool = False
    checkpoint: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ExtensionMessage:
    cache: CacheMessage | None = None
    get: GetMessage | None = None
    iterator: IteratorMessage | None = None


def _encode_cache(m: CacheMessage) -> bytes:
    out = bytearray([8])
    _varint(m.start, out)
    out.append(16)
    _varint(m.end, out)
    _write_packed(26, list(m.blocks), out)
    return bytes(out)


def _encode_get(m: GetMessage) -> bytes:
    out = bytearray([8])
    _varint(m.version, out)
    if m.key is not None:
        _write_bytes(18, m.key, out)
    return bytes(out)


def _encode_iterator(m: IteratorMessage) -> bytes:
    out = bytearray([8])
    _varint(m.version, out)
    for tag, v in ((18, m.gte), (26, m.gt), (34, m.lte), (42, m.lt)):
        if v is not None:
            _write_bytes(tag, v, out)
    out.append(48)
    _varint(m.limit, out)
    out.append(56)
    out.append(1 if m.reverse else 0)
    _write_packed(66, list(m.checkpoint), out)
    return bytes(out)


def encode_extension(m: ExtensionMessage) -> bytes:
    out = bytearray()
    if m.cache is not None:
        _write_bytes(10, _encode_cache(m.cache), out)
    if m.get is not None:
        _write_bytes(18, _encode_get(m.get), out)
    if m.iterator is not None:
        _write_bytes(26, _encode_iterator(m.iterator), out)
    return bytes(out)


def _decode_cache(buf: bytes) -> CacheMessage:
    start: int | None = None
    stop: int | None = None
    blocks: list[int] = []
    pos, end = 0, len(buf)
    while pos < end:
        prefix, pos = _read_varint(buf, pos, end)
        tag, wire = prefix >> 3, prefix & 7
        if tag == 1:
            _expect(wire, 0, "start")
            start, pos = _read_varint(buf, pos, end)
        elif tag == 2:
            _expect(wire, 0, "end")
            stop, pos = _read_varint(buf, pos, end)
        elif tag == 3:
            _expect(wire, 2, "blocks")
            pos = _read_packed(buf, pos, end, blocks)
        else:
            pos = _skip(wire, buf, pos, end)
    if start is None or stop is None:
        raise DecodeError("cache message is missing start or end")
    return CacheMessage(start, stop, tuple(blocks))


def _decode_get(buf: bytes) -> GetMessage:
    version = 0
    key: bytes | None = None
    pos, end = 0, len(buf)
    while pos < end:
        prefix, pos = _read_varint(buf, pos, end)
        tag, wire = prefix >> 3, prefix & 7
        if tag == 1:
            _expect(wire, 0, "version")
            version, pos = _read_varint(buf, pos, end)
        elif tag == 2:
            _expect(wire, 2, "key")
            key, pos = _read_bytes(buf, pos, end)
        else:
            pos = _skip(wire, buf, pos, end)
    return GetMessage(version, key)


def _decode_iterator(buf: bytes) -> IteratorMessage:
    version = limit = 0
    reverse = False
    ranges: dict[int, bytes] = {}
    checkpoint: list[int] = []
    pos, end = 0, len(buf)
    while pos < end:
        prefix, pos = _read_varint(buf, pos, end)
        tag, wire = prefix >> 3, prefix & 7
        if tag in (1, 6, 7):
            _expect(wire, 0, "varint")
            v, pos = _read_varint(buf, pos, end)
            if tag == 1:
                version = v
            elif tag == 6:
                limit = v
            else:
                reverse = v != 0
        elif 2 <= tag <= 5:
            _expect(wire, 2, "range")
            ranges[tag], pos = _read_bytes(buf, pos, end)
        elif tag == 8:
            _expect(wire, 2, "checkpoint")
            pos = _read_packed(buf, pos, end, checkpoint)
        else:
            pos = _skip(wire, buf, pos, end)
    return IteratorMessage(
        version,
        ranges.get(2),
        ranges.get(3),
        ranges.get(4),
        ranges.get(5),
        limit,
        reverse,
        tuple(checkpoint),
    )


def decode_extension(buf: bytes) -> ExtensionMessage:
    cache: CacheMessage | None = None
    get: GetMessage | None = None
    iterator: IteratorMessage | None = None
    pos, end = 0, len(buf)
    while pos < end:
        prefix, pos = _read_varint(buf, pos, end)
        tag, wire = prefix >> 3, prefix & 7
        if 1 <= tag <= 3:
            _expect(wire, 2, "message")
            raw, pos = _read_bytes(buf, pos, end)
            if tag == 1:
                cache = _decode_cache(raw)
            elif tag == 2:
                get = _decode_get(raw)
            else:
                iterator = _decode_iterator(raw)
        else:
            pos = _skip(wire, buf, pos, end)
    return ExtensionMessage(cache, get, iterator)

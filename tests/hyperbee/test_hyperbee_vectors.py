"""hyperbee 2.27.3 reference vectors (interop/vectors/hyperbee.js): every message encodes and decodes
exactly as JS, extension messages are framed as hypercore frames them, and a fixed sequence of
operations writes the same blocks."""

from __future__ import annotations

from typing import Any

from hyperpunch.encoding import buffer, decode
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hyperbee.messages import (
    CacheMessage,
    ExtensionMessage,
    GetMessage,
    Header,
    IteratorMessage,
    Level,
    Metadata,
    decode_extension,
    decode_header,
    decode_index,
    decode_node,
    encode_extension,
    encode_header,
    encode_index,
    encode_node,
)
from hyperpunch.hypercore import Hypercore
from refvectors import section

V = section("hyperbee")


def _b(h: str | None) -> bytes | None:
    return None if h is None else bytes.fromhex(h)


def test_headers() -> None:
    for v in V["headers"]:
        md = Metadata(_b(v["contentFeed"]), _b(v["userData"])) if v["hasMetadata"] else None
        h = Header(v["protocol"], md)
        assert encode_header(h).hex() == v["encoded"]
        assert decode_header(bytes.fromhex(v["encoded"])) == h


def test_indexes_and_nodes() -> None:
    for v in V["indexes"]:
        levels = [Level(lv["keys"], lv["children"]) for lv in v["levels"]]
        assert encode_index(levels).hex() == v["encoded"]
        assert decode_index(bytes.fromhex(v["encoded"])) == levels
    for v in V["nodes"]:
        raw = encode_node(bytes.fromhex(v["key"]), _b(v["value"]), bytes.fromhex(v["index"]))
        assert raw.hex() == v["encoded"]
        n = decode_node(raw)
        assert (n.key.hex(), None if n.value is None else n.value.hex(), n.index.hex()) == (
            v["key"],
            v["value"],
            v["index"],
        )


def _ext(m: dict[str, Any]) -> ExtensionMessage:
    if "cache" in m:
        c = m["cache"]
        return ExtensionMessage(cache=CacheMessage(c["start"], c["end"], tuple(c["blocks"])))
    if "get" in m:
        g = m["get"]
        return ExtensionMessage(get=GetMessage(g["version"], _b(g["key"])))
    i = m["iterator"]
    return ExtensionMessage(
        iterator=IteratorMessage(
            i["version"],
            _b(i["gte"]),
            _b(i["gt"]),
            _b(i["lte"]),
            _b(i["lt"]),
            i["limit"],
            i["reverse"],
            tuple(i["checkpoint"]),
        )
    )


def test_extension_messages_and_framing() -> None:
    for v in V["extension"]:
        m = _ext(v["message"])
        raw = encode_extension(m)
        assert raw.hex() == v["encoded"]
        assert decode_extension(raw) == m
        # hypercore frames an extension registered without an encoding (compact ``buffer``)
        framed = Hypercore(None).register_extension("hyperbee").encode(raw)
        assert framed.hex() == v["framed"]
        assert decode(buffer, bytes.fromhex(v["framed"])) == raw


async def test_fixed_ops_write_the_same_blocks() -> None:
    async with Hyperbee(Hypercore(None)) as db:
        for op, k, *rest in V["ops"]:
            if op == "put":
                await db.put(k.encode(), rest[0].encode())
            else:
                await db.delete(k.encode())
        got = [(await db.core.get(i)).hex() for i in range(db.core.length)]
    assert got == V["blocks"]

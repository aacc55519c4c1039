"""What ``SDK.get`` accepts, parsed without I/O (hyper-sdk 4.5.1 ``resolveNameOrKeyToOpts``,
``stringToKey``, ``makeTopicKey``, ``resolveDNSToKey``'s TXT parsing; ``z32`` 1.x), byte for byte.

Invariants:

* A non-string must be exactly 32 bytes: it is the core key. A string starting ``hyper://`` is a
  URL: a host containing a dot is a DNSLink domain (resolved elsewhere), any other host must decode
  as a key. Any other string of 52 characters that decodes as z-base-32, or of 64 hex characters,
  is a key; everything else (including a 52-character non-z32 string) is a core *name*.
* A string topic is ``BLAKE2b-256(BLAKE2b-256(utf8(name)) || 0x00)`` (hypercore-crypto
  ``namespace(name, 1)[0]``); a URL is ``hyper://<z32 of the key>/``.
* Pure functions: no clock, no asyncio, no DNS.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass

from hyperpunch import crypto
from hyperpunch.sdk.errors import InvalidKeyError, InvalidURLError

__all__ = [
    "DNSLINK_TXT_PREFIX",
    "HYPER_PROTOCOL_SCHEME",
    "Target",
    "core_url",
    "parse_dnslink",
    "parse_target",
    "string_to_key",
    "topic_key",
    "z32_decode",
    "z32_encode",
]

HYPER_PROTOCOL_SCHEME = "hyper://"
DNSLINK_TXT_PREFIX = "dnslink=/hyper/"
Z32_ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769"
_Z32_REVERSE = {c: i for i, c in enumerate(Z32_ALPHABET)}
_HEX = frozenset(string.hexdigits)


def z32_encode(data: bytes) -> str:
    """z-base-32 of ``data`` (JS ``z32.encode``: 5 bits a character, zero-padded at the end)."""
    out = []
    acc = 0
    bits = 0
    for byte in bytes(data):
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append(Z32_ALPHABET[(acc >> bits) & 31])
    if bits:
        out.append(Z32_ALPHABET[(acc << (5 - bits)) & 31])
    return "".join(out)


def z32_decode(text: str) -> bytes:
    """The bytes of z-base-32 ``text`` (JS ``z32.decode``: leftover bits dropped); raises
    :class:`InvalidKeyError` on a character outside the alphabet."""
    acc = 0
    bits = 0
    out = bytearray()
    for pos, ch in enumerate(text):
        v = _Z32_REVERSE.get(ch)
        if v is None:
            raise InvalidKeyError(f'Invalid character in base32 input: "{ch}" at position {pos}')
        acc = ((acc << 5) | v) & 0xFFF
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)


def string_to_key(text: str) -> bytes | None:
    """A 52-character z-base-32 or 64-character hex key, else ``None`` (JS ``stringToKey``).

    A 64-character string that is not hex raises :class:`InvalidKeyError` (JS would go on with a
    truncated buffer and fail later in Corestore)."""
    if len(text) == 52:
        try:
            return z32_decode(text)
        except InvalidKeyError:
            return None  # JS: "not formatted properly, probs a name"
    if len(text) == 64:
        if not _HEX.issuperset(text):
            raise InvalidKeyError(f"{text!r} has 64 characters but is not a hex key")
        return bytes.fromhex(text)
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """What a ``get`` argument names: exactly one of ``key``, ``name`` or ``domain`` (DNSLink)."""

    key: bytes | None = None
    name: str | None = None
    domain: str | None = None


def _url_host(url: str) -> str:
    rest = url[len(HYPER_PROTOCOL_SCHEME) :]
    for sep in "/?#":
        rest = rest.split(sep, 1)[0]
    rest = rest.rsplit("@", 1)[-1]  # userinfo
    if rest.startswith("["):
        raise InvalidURLError(f"{url!r}: an IP address is not a hyper key or domain")
    return rest.split(":", 1)[0]


def parse_target(value: object) -> Target:
    """Parse what ``SDK.get`` accepts (see the module docstring)."""
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) != 32:
            raise InvalidKeyError("Must specify a name, url, or a 32 byte buffer with a key")
        return Target(key=raw)
    if not isinstance(value, str):
        raise InvalidKeyError("Must specify a name, url, or a 32 byte buffer with a key")
    if value.startswith(HYPER_PROTOCOL_SCHEME):
        host = _url_host(value)
        if "." in host:
            return Target(domain=host.lower())
        try:
            key = string_to_key(host)
        except InvalidKeyError:
            key = None
        if key is None:
            raise InvalidURLError("URLs must have either an encoded key or a valid DNSlink domain")
        return Target(key=key)
    key = string_to_key(value)
    if key is not None:
        return Target(key=key)
    if value == "":
        raise InvalidKeyError("a core name must not be empty")
    return Target(name=value)


def topic_key(topic: str | bytes) -> bytes:
    """The 32-byte swarm topic of ``topic``: a string is hashed (JS ``makeTopicKey``), 32 bytes
    are used as they are."""
    if isinstance(topic, str):
        return crypto.namespace(topic, 1)[0]
    if isinstance(topic, bytes | bytearray | memoryview) and len(topic) == 32:
        return bytes(topic)
    raise InvalidKeyError("a topic must be a string or 32 bytes")


def core_url(key: bytes) -> str:
    """``hyper://<z32 key>/`` (hyper-sdk's ``url`` getter)."""
    return f"{HYPER_PROTOCOL_SCHEME}{z32_encode(key)}/"


def parse_dnslink(records: Iterable[str], prefix: str = DNSLINK_TXT_PREFIX) -> str | None:
    """The key text of the first TXT record starting with ``prefix`` (a trailing ``/`` removed),
    or ``None`` (JS ``resolveDNSToKey``; an empty record ends the search, as there)."""
    for raw in records:
        if not raw:
            return None
        if raw.startswith(prefix):
            return raw[len(prefix) : -1] if raw.endswith("/") else raw[len(prefix) :]
    return None

"""Network address codecs: compact-encoding 3.5.2's ``ipv4``, ``ipv6``, ``ip`` and their
``...Address`` forms (the same wire forms as compact-encoding-net 1.3.0).

Invariants:

* ``ipv4``: 4 raw bytes. ``ipv4_address``: ipv4 then the port as uint16 LE (6 bytes).
* ``ipv6``: 16 raw bytes, decoded as eight lowercase hex groups without zero compression
  (``0:0:0:0:0:0:0:1``), exactly as JS prints them. ``ipv6_address``: ipv6 then uint16 LE port.
* ``ip``: a family byte (6 if the host contains ``:``, else 4) then the address; ``ip_address``
  adds the uint16 LE port. The decoder reads IPv4 for family byte 4 and IPv6 for any other byte,
  as JS does. (JS also returns the raw family byte; here ``Address.family`` is derived from the
  host, so a family byte other than 4 or 6 is not reported back.)
* Addresses decode to :class:`Address` ``(host, port)``, a NamedTuple usable directly as an
  asyncio/socket address; the encoders accept any ``(host, port)`` pair.
* Encoders refuse a host that is not a valid address (``EncodeError``) where JS would silently
  write garbage; for valid hosts (dotted quad, leading zeros allowed; RFC 4291 text without
  embedded IPv4 or zone) the bytes equal JS's. Ports follow uint16: 0 … 2^53-1, low 16 bits kept.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

from hyperpunch.encoding.codec import Codec, DecodeState, EncodeState
from hyperpunch.encoding.errors import EncodeError
from hyperpunch.encoding.numbers import MAX_SAFE_UINT, out_of_bounds, uint16

__all__ = [
    "Address",
    "cached_address",
    "ip",
    "ip_address",
    "ipv4",
    "ipv4_address",
    "ipv6",
    "ipv6_address",
    "make_address",
    "pack_ipv4",
    "pack_ipv6",
    "port",
    "port_range_error",
]

_BE8H = struct.Struct(">8H")
_PORT = struct.Struct("<H")
_HEX8 = ":".join(["%x"] * 8)  # JS prints each group in hex, no zero compression
_inet_pton = socket.inet_pton
_inet_ntoa = socket.inet_ntoa
_AF_INET = socket.AF_INET
_AF_INET6 = socket.AF_INET6

port: Codec[int] = uint16


class Address(NamedTuple):
    """A host and port, as JS's ``{ host, port }``; ``family`` is 6 for an IPv6 host, else 4."""

    host: str
    port: int

    @property
    def family(self) -> int:
        return 6 if ":" in self.host else 4


_new_address = tuple.__new__  # builds an Address without NamedTuple's Python-level __new__


_HOSTS: dict[bytes, str] = {}  # 4 address bytes -> dotted quad; peers and our own address repeat
_HOSTS_MAX = 4096


def _ipv4_host(four: bytes) -> str:
    host = _HOSTS.get(four)
    if host is None:
        host = _inet_ntoa(four)
        if len(_HOSTS) >= _HOSTS_MAX:
            _HOSTS.clear()
        _HOSTS[four] = host
    return host


# 6 wire bytes (ipv4 + port LE) -> Address. Addresses are immutable and repeat, so decoding one
# is usually a dict lookup; the cache is bounded and simply emptied when full.
_ADDRESSES: dict[bytes, Address] = {}
_ADDRESSES_MAX = 4096


def make_address(six: bytes) -> Address:
    a: Address = _new_address(Address, (_ipv4_host(six[:4]), six[4] | six[5] << 8))
    if len(_ADDRESSES) >= _ADDRESSES_MAX:
        _ADDRESSES.clear()
    _ADDRESSES[six] = a
    return a


cached_address = _ADDRESSES.get


def pack_ipv4(host: str) -> bytes:
    """The 4 bytes JS's ipv4 encoder writes for a dotted-quad ``host``."""
    try:
        return _inet_pton(_AF_INET, host)
    except (OSError, TypeError, ValueError):
        pass
    parts = host.split(".") if isinstance(host, str) else []
    if len(parts) == 4 and all(p.isascii() and p.isdigit() and int(p) <= 255 for p in parts):
        return bytes(int(p) for p in parts)  # leading zeros: JS reads "010" as 10
    raise EncodeError(f"not an IPv4 address: {host!r}")


def pack_ipv6(host: str) -> bytes:
    """The 16 bytes JS's ipv6 encoder writes for ``host`` (no embedded IPv4, no zone)."""
    if isinstance(host, str) and "." not in host and "%" not in host:
        try:
            return _inet_pton(_AF_INET6, host)
        except (OSError, ValueError):
            pass
    raise EncodeError(f"not an IPv6 address in the form JS encodes: {host!r}")


def port_range_error(value: object) -> EncodeError:
    return EncodeError(f"port must be between 0 and {MAX_SAFE_UINT} (got {value!r})")


def _check_port(value: int) -> int:
    if not 0 <= value <= MAX_SAFE_UINT:
        raise port_range_error(value)
    return value & 0xFFFF


class _Ipv4(Codec[str]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: str) -> None:
        state.end += 4

    def encode(self, state: EncodeState, value: str) -> None:
        s = state.start
        state.buffer[s : s + 4] = pack_ipv4(value)
        state.start = s + 4

    def decode(self, state: DecodeState) -> str:
        s = state.start
        if state.end - s < 4:
            raise out_of_bounds()
        state.start = s + 4
        return _ipv4_host(state.buffer[s : s + 4])


class _Ipv6(Codec[str]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: str) -> None:
        state.end += 16

    def encode(self, state: EncodeState, value: str) -> None:
        s = state.start
        state.buffer[s : s + 16] = pack_ipv6(value)
        state.start = s + 16

    def decode(self, state: DecodeState) -> str:
        s = state.start
        if state.end - s < 16:
            raise out_of_bounds()
        state.start = s + 16
        return _HEX8 % _BE8H.unpack_from(state.buffer, s)


class _Ipv4Address(Codec[Address]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: Address) -> None:
        state.end += 6

    def encode(self, state: EncodeState, value: Address) -> None:
        host, p = value
        try:
            b = _inet_pton(_AF_INET, host)
        except (OSError, TypeError, ValueError):
            b = pack_ipv4(host)
        if not 0 <= p <= MAX_SAFE_UINT:
            raise port_range_error(p)
        s = state.start
        buf = state.buffer
        buf[s : s + 4] = b
        buf[s + 4] = p & 0xFF
        buf[s + 5] = (p >> 8) & 0xFF
        state.start = s + 6

    def decode(self, state: DecodeState) -> Address:
        s = state.start
        if state.end - s < 6:
            raise out_of_bounds()
        state.start = e = s + 6
        six = state.buffer[s:e]
        return cached_address(six) or make_address(six)


class _Ipv6Address(Codec[Address]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: Address) -> None:
        state.end += 18

    def encode(self, state: EncodeState, value: Address) -> None:
        host, p = value
        s = state.start
        buf = state.buffer
        buf[s : s + 16] = pack_ipv6(host)
        _PORT.pack_into(buf, s + 16, _check_port(p))
        state.start = s + 18

    def decode(self, state: DecodeState) -> Address:
        s = state.start
        if state.end - s < 18:
            raise out_of_bounds()
        buf = state.buffer
        state.start = s + 18
        host = _HEX8 % _BE8H.unpack_from(buf, s)
        return _new_address(Address, (host, buf[s + 16] | buf[s + 17] << 8))


def _pack_ip(host: str) -> bytes:
    if ":" in host:
        return b"\x06" + pack_ipv6(host)
    return b"\x04" + pack_ipv4(host)


class _Ip(Codec[str]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: str) -> None:
        state.end += 17 if ":" in value else 5

    def encode(self, state: EncodeState, value: str) -> None:
        b = _pack_ip(value)
        s = state.start
        state.buffer[s : s + len(b)] = b
        state.start = s + len(b)

    def decode(self, state: DecodeState) -> str:
        s = state.start
        if s >= state.end:
            raise out_of_bounds()
        state.start = s + 1
        if state.buffer[s] == 4:
            return ipv4.decode(state)
        return ipv6.decode(state)


class _IpAddress(Codec[Address]):
    __slots__ = ()

    def preencode(self, state: EncodeState, value: Address) -> None:
        state.end += 19 if ":" in value[0] else 7

    def encode(self, state: EncodeState, value: Address) -> None:
        host, p = value
        b = _pack_ip(host)
        s = state.start
        e = s + len(b)
        buf = state.buffer
        buf[s:e] = b
        _PORT.pack_into(buf, e, _check_port(p))
        state.start = e + 2

    def decode(self, state: DecodeState) -> Address:
        host = ip.decode(state)
        return _new_address(Address, (host, uint16.decode(state)))


ipv4: Codec[str] = _Ipv4()
ipv6: Codec[str] = _Ipv6()
ipv4_address: Codec[Address] = _Ipv4Address()
ipv6_address: Codec[Address] = _Ipv6Address()
ip: Codec[str] = _Ip()
ip_address: Codec[Address] = _IpAddress()

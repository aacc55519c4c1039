"""Properties of hyperpunch.dht.messages: every codec round-trips, its preencode size is exact,
and decoding arbitrary bytes gives a value or DecodeError, never another exception."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperpunch.dht import messages as m
from hyperpunch.encoding import Address, Codec, DecodeError, decode, encode

uints = st.integers(0, 2**53 - 1)
small = st.integers(0, 0xFC)  # flags-like fields JS sizes as one byte
b32 = st.binary(min_size=32, max_size=32)
b64 = st.binary(min_size=64, max_size=64)
blob = st.binary(max_size=300)
ipv4 = st.builds(Address, st.ip_addresses(v=4).map(str), st.integers(0, 0xFFFF))
ipv6 = st.builds(
    Address,
    st.ip_addresses(v=6).map(lambda a: ":".join(f"{int(g, 16):x}" for g in a.exploded.split(":"))),
    st.integers(0, 0xFFFF),
)
ipv4s = st.lists(ipv4, max_size=4)

relay_infos = st.builds(m.RelayInfo, ipv4, ipv4)
holepunch_infos = st.builds(m.HolepunchInfo, uints, st.lists(relay_infos, max_size=3))
udx_infos = st.builds(m.UdxInfo, uints, uints, st.booleans())
relay_through = st.builds(m.RelayThroughInfo, b32, b32)
noise_payloads = st.builds(
    m.NoisePayload,
    st.just(1),
    small,
    small,
    st.none() | holepunch_infos,
    ipv4s,
    st.lists(ipv6, max_size=3),
    st.none() | udx_infos,
    st.none() | st.just(m.SecretStreamInfo()),
    st.none() | relay_through,
    st.none() | ipv4s,
)
holepunch_payloads = st.builds(
    m.HolepunchPayload,
    small,
    small,
    uints,
    st.booleans(),
    st.booleans(),
    st.none() | ipv4s,
    st.none() | ipv4,
    st.none() | b32,
    st.none() | b32,
)
peers_ = st.builds(m.Peer, b32, ipv4s)
STRATEGIES: list[tuple[str, Codec[Any], st.SearchStrategy[Any]]] = [
    ("handshake", m.handshake, st.builds(m.Handshake, small, blob, st.none() | ipv4, st.none() | ipv4)),
    ("holepunch", m.holepunch, st.builds(m.Holepunch, small, uints, blob, st.none() | ipv4)),
    ("noise_payload", m.noise_payload, noise_payloads),
    ("holepunch_payload", m.holepunch_payload, holepunch_payloads),
    ("peer", m.peer, peers_),
    ("peers", m.peers, st.lists(peers_, max_size=4)),
    ("lookup_raw_reply", m.lookup_raw_reply, st.builds(m.LookupReply, st.lists(peers_, max_size=4), uints)),
    (
        "announce",
        m.announce,
        st.builds(m.Announce, st.none() | peers_, st.none() | b32, st.none() | b64, uints),
    ),
    ("mutable_signable", m.mutable_signable, st.builds(m.MutableSignable, uints, blob)),
    ("mutable_put_request", m.mutable_put_request, st.builds(m.MutablePutRequest, b32, uints, blob, b64)),
    ("mutable_get_response", m.mutable_get_response, st.builds(m.MutableGetResponse, uints, blob, b64)),
    (
        "plugin_request",
        m.plugin_request,
        st.builds(m.PluginRequest, st.text(max_size=20), uints, uints, st.none() | blob),
    ),
    ("relay_info", m.relay_info, relay_infos),
    ("holepunch_info", m.holepunch_info, holepunch_infos),
    ("udx_info", m.udx_info, udx_infos),
    ("relay_through_info", m.relay_through_info, relay_through),
]


def _no_surrogates(v: Any) -> bool:
    return not (isinstance(v, m.PluginRequest) and any(0xD800 <= ord(ch) <= 0xDFFF for ch in v.plugin))


@pytest.mark.parametrize(("name", "codec", "strategy"), STRATEGIES, ids=[s[0] for s in STRATEGIES])
def test_round_trip(name: str, codec: Codec[Any], strategy: st.SearchStrategy[Any]) -> None:
    @settings(max_examples=80, deadline=None)
    @given(strategy.filter(_no_surrogates))
    def check(value: Any) -> None:
        data = encode(codec, value)
        assert decode(codec, data, exact=True) == value
        assert encode(codec, decode(codec, data)) == data

    check()


@pytest.mark.parametrize(("name", "codec", "strategy"), STRATEGIES, ids=[s[0] for s in STRATEGIES])
def test_random_bytes_only_decode_error(
    name: str, codec: Codec[Any], strategy: st.SearchStrategy[Any]
) -> None:
    @settings(max_examples=150, deadline=None)
    @given(st.binary(max_size=200))
    def check(data: bytes) -> None:
        with contextlib.suppress(DecodeError):
            decode(codec, data)

    check()


@pytest.mark.parametrize(("name", "codec", "strategy"), STRATEGIES, ids=[s[0] for s in STRATEGIES])
def test_truncations_only_decode_error(
    name: str, codec: Codec[Any], strategy: st.SearchStrategy[Any]
) -> None:
    @settings(max_examples=40, deadline=None)
    @given(strategy.filter(_no_surrogates), st.data())
    def check(value: Any, data: st.DataObject) -> None:
        enc = encode(codec, value)
        cut = data.draw(st.integers(0, max(0, len(enc) - 1)))
        with contextlib.suppress(DecodeError):
            decode(codec, enc[:cut])

    check()

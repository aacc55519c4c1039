"""Hypercore wire messages, manifests and multisig containers against the JS encoders, plus
Hypothesis round trips and decode fuzzing (only DecodeError may escape)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hc_helpers import data_msg, hb, manifest, node
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperpunch.crypto import TreeNode
from hyperpunch.encoding import Codec, DecodeError, decode, encode
from hyperpunch.hypercore import messages as m
from refvectors import section

V: dict[str, Any] = section("hypercore")["messages"]


def _value(kind: str, j: dict[str, Any]) -> Any:
    if kind == "handshake":
        return m.Handshake(hb(j["capability"]), j["seeks"])
    if kind == "sync":
        return m.Sync(
            j["fork"],
            j["length"],
            j["remoteLength"],
            j["canUpgrade"],
            j["uploading"],
            j["downloading"],
            j["hasManifest"],
            j["allowPush"],
        )
    if kind == "request":

        def rb(x: Any) -> m.RequestBlock | None:
            return m.RequestBlock(x["index"], x["nodes"]) if x else None

        return m.Request(
            j["id"],
            j["fork"],
            rb(j["block"]),
            rb(j["hash"]),
            m.RequestSeek(j["seek"]["bytes"], j["seek"]["padding"]) if j["seek"] else None,
            m.RequestUpgrade(j["upgrade"]["start"], j["upgrade"]["length"]) if j["upgrade"] else None,
            j["manifest"],
            j["priority"],
        )
    if kind == "cancel":
        return m.Cancel(j["request"])
    if kind == "data":
        return data_msg(j)
    if kind == "noData":
        return m.NoData(j["request"], j["reason"])
    if kind == "want":
        return m.Want(j["start"], j["length"], j["any"])
    if kind == "unwant":
        return m.Unwant(j["start"], j["length"], j["any"])
    if kind == "range":
        return m.Range(j["start"], j["length"], j["drop"])
    if kind == "bitfield":
        return m.Bitfield(j["start"], j["bitfield"])
    if kind == "reorgHint":
        return m.ReorgHint(j["from"], j["to"], j["ancestors"])
    if kind == "extension":
        return m.Extension(j["name"], hb(j["message"]))
    raise AssertionError(kind)


CODECS: dict[str, Codec[Any]] = {
    "handshake": m.handshake,
    "sync": m.sync,
    "request": m.request,
    "cancel": m.cancel,
    "data": m.data,
    "noData": m.no_data,
    "want": m.want,
    "unwant": m.unwant,
    "range": m.range_,
    "bitfield": m.bitfield,
    "reorgHint": m.reorg_hint,
    "extension": m.extension,
}


def test_every_wire_type_has_vectors() -> None:
    assert {w["type"] for w in V["wire"]} == set(CODECS)


@pytest.mark.parametrize("i", range(len(V["wire"])))
def test_wire_vectors(i: int) -> None:
    w = V["wire"][i]
    codec = CODECS[w["type"]]
    value = _value(w["type"], w["value"])
    assert encode(codec, value).hex() == w["encoded"]
    assert decode(codec, hb(w["encoded"]), exact=True) == value


def test_lenient_short_forms() -> None:
    for w in V["lenient"]:
        got = decode(CODECS[w["type"]], hb(w["encoded"]), exact=True)
        js = w["value"]
        if w["type"] == "noData":
            assert got == m.NoData(js["request"], js["reason"])
        elif w["type"] == "range":
            assert got == m.Range(js["start"], js["length"], js["drop"])
        else:
            assert (got.start, got.length, got.any) == (js["start"], js["length"], js["any"])


def test_multisig_vectors() -> None:
    for v in V["multisig"]["v1"]:
        val = m.MultiSignature(
            [m.MultisigInput(p["signer"], hb(p["signature"]), p["patch"]) for p in v["value"]["proofs"]],
            [node(n) for n in v["value"]["patch"]],
        )
        assert encode(m.multi_signature, val).hex() == v["encoded"]
        assert decode(m.multi_signature, hb(v["encoded"])) == val
    for v in V["multisig"]["v0"]:
        val0 = m.MultiSignatureV0(
            [
                m.MultisigInputV0(
                    p["signer"],
                    hb(p["signature"]),
                    m.PatchV0(p["patch"]["start"], p["patch"]["length"], p["patch"]["nodes"])
                    if p["patch"]
                    else None,
                )
                for p in v["value"]["proofs"]
            ],
            [node(n) for n in v["value"]["patch"]],
        )
        assert encode(m.multi_signature_v0, val0).hex() == v["encoded"]
        assert decode(m.multi_signature_v0, hb(v["encoded"])) == val0


MV: dict[str, Any] = section("hypercore")["manifests"]


def test_manifest_vectors() -> None:
    for v in MV["manifests"]:
        man = manifest(v["manifest"])
        assert encode(m.manifest, man).hex() == v["encoded"]
        assert decode(m.manifest, hb(v["encoded"]), exact=True) == manifest(v["decoded"])


def test_manifest_bad_encodings_match_js() -> None:
    for v in MV["bad"]:
        try:
            decode(m.manifest, hb(v["encoded"]))
            ok = True
        except DecodeError:
            ok = False
        assert ok == v["ok"], v["encoded"]


# --- Hypothesis ---------------------------------------------------------------------------------

u = st.integers(min_value=0, max_value=2**53 - 1)
small = st.integers(min_value=0, max_value=2**32)
b32 = st.binary(min_size=32, max_size=32)
tree_nodes = st.lists(st.builds(TreeNode, u, u, b32), max_size=4)
signers = st.lists(st.builds(m.Signer, b32, b32), max_size=3)


@st.composite
def manifests(draw: st.DrawFn) -> m.Manifest:
    version = draw(st.integers(min_value=0, max_value=3))
    ss = draw(signers)
    if version == 0:
        kind = draw(st.integers(0, 2))
        if kind == 0:
            return m.Manifest(0, 0, [], prologue=m.Prologue(draw(b32), 0))
        if kind == 1:
            return m.Manifest(0, 1, [draw(st.builds(m.Signer, b32, b32))])
        q = draw(small)
        allow = draw(st.booleans())
        if q == 1 and len(ss) == 1 and not allow:
            allow = True
        return m.Manifest(0, q, ss, allow_patch=allow)
    return m.Manifest(
        version,
        draw(small),
        ss,
        allow_patch=draw(st.booleans()),
        prologue=draw(st.none() | st.builds(m.Prologue, b32, u)),
        linked=draw(st.none() | st.lists(b32, max_size=2)),
        user_data=draw(st.none() | st.binary(max_size=20)),
    )


opt = st.none
requests = st.builds(
    m.Request,
    u,
    u,
    opt() | st.builds(m.RequestBlock, u, u),
    opt() | st.builds(m.RequestBlock, u, u),
    opt() | st.builds(m.RequestSeek, u, u),
    opt() | st.builds(m.RequestUpgrade, u, u),
    st.booleans(),
    u,
)
datas = st.builds(
    m.Data,
    u,
    u,
    opt() | st.builds(m.DataBlock, u, st.binary(max_size=40), tree_nodes),
    opt() | st.builds(m.DataHash, u, tree_nodes),
    opt() | st.builds(m.DataSeek, u, tree_nodes),
    opt()
    | st.builds(m.DataUpgrade, u, u, tree_nodes, tree_nodes, opt() | st.binary(min_size=1, max_size=70)),
    opt() | manifests(),
)
STRATEGIES: dict[str, Any] = {
    "handshake": st.builds(m.Handshake, b32, st.booleans()),
    "sync": st.builds(
        m.Sync, u, u, u, st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans()
    ),
    "request": requests,
    "cancel": st.builds(m.Cancel, u),
    "data": datas,
    "noData": st.builds(m.NoData, u, u),
    "want": st.builds(m.Want, u, u, st.booleans()),
    "unwant": st.builds(m.Unwant, u, u, st.booleans()),
    "range": st.builds(m.Range, u, u, st.booleans()),
    "bitfield": st.builds(m.Bitfield, u, st.lists(st.integers(0, 2**32 - 1), max_size=8)),
    "reorgHint": st.builds(m.ReorgHint, u, u, u),
    "extension": st.builds(m.Extension, st.text(max_size=10), st.binary(max_size=20)),
}


@pytest.mark.parametrize("kind", sorted(CODECS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip(kind: str, data: st.DataObject) -> None:
    value = data.draw(STRATEGIES[kind])
    enc = encode(CODECS[kind], value)
    assert decode(CODECS[kind], enc, exact=True) == value


@settings(max_examples=100, deadline=None)
@given(manifests())
def test_manifest_round_trip(man: m.Manifest) -> None:
    assert decode(m.manifest, encode(m.manifest, man), exact=True) == man


ALL_CODECS: list[Codec[Any]] = [*CODECS.values(), m.manifest, m.multi_signature, m.multi_signature_v0, m.node]


@pytest.mark.parametrize("codec", ALL_CODECS, ids=lambda c: type(c).__name__)
@settings(max_examples=150, deadline=None)
@given(raw=st.binary(max_size=120))
def test_fuzz_decode_only_decode_error(codec: Codec[Any], raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(codec, raw)


@pytest.mark.parametrize("kind", ["data", "request"])
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_fuzz_truncated_and_flipped(kind: str, data: st.DataObject) -> None:
    enc = encode(CODECS[kind], data.draw(STRATEGIES[kind]))
    cut = data.draw(st.integers(0, len(enc)))
    for raw in (enc[:cut], enc[:cut] + bytes([enc[cut] ^ 0xFF]) + enc[cut + 1 :] if cut < len(enc) else enc):
        with contextlib.suppress(DecodeError):
            decode(CODECS[kind], raw)

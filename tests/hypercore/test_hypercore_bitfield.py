"""The in-memory bitfield against JS lib/bitfield.js (same op list, same query answers, same
``want`` words and ``toBuffer`` bytes), plus a model-based Hypothesis check."""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hyperpunch import crypto
from hyperpunch.hypercore.bitfield import Bitfield
from refvectors import section

V: dict[str, Any] = section("hypercore")["bitfield"]


def _apply(b: Bitfield) -> None:
    for op in V["ops"]:
        if op[0] == "set":
            b.set(op[1], op[2])
        else:
            b.set_range(op[1], op[2], op[3])


def _want_hashes(b: Bitfield, start: int, length: int) -> list[tuple[int, int, str]]:
    return [
        (w.start, len(w.words), crypto.hash(struct.pack(f"<{len(w.words)}I", *w.words)).hex())
        for w in b.want(start, length)
    ]


def test_queries_match_js() -> None:
    b = Bitfield()
    _apply(b)
    snap = V["snapshots"][0]
    for p, get, fs, fu, ls, lu, hs, hu, cs, cu in snap["queries"]:
        assert b.get(p) == get, p
        assert b.first_set(p) == fs, p
        assert b.first_unset(p) == fu, p
        assert b.last_set(p) == ls, p
        assert b.last_unset(p) == lu, p
        assert b.has_set(p, 1000) == hs, p
        assert b.has_unset(p, 1000) == hu, p
        assert b.count_set(p, 5000) == cs, p
        assert b.count_unset(p, 70000) == cu, p
    assert crypto.hash(b.to_buffer(4300000)).hex() == snap["buffer"]


def test_want_matches_js() -> None:
    b = Bitfield()
    _apply(b)
    got = []
    for q in [[0, 100], [5, 64], [0, 70000], [32768, 1], [2097000, 5000], [0, 4300000]]:
        got += [[*q, *w] for w in _want_hashes(b, q[0], q[1])]
    expected = [[*w["query"], w["start"], w["words"], w["hash"]] for w in V["snapshots"][0]["wants"]]
    assert got == expected


def test_resume_from_buffer_matches_js() -> None:
    b = Bitfield()
    _apply(b)
    r = V["resumed"]
    resumed = Bitfield(b.to_buffer(r["length"]))
    for p, get, fs, fu, ls in r["queries"]:
        assert (resumed.get(p), resumed.first_set(p), resumed.first_unset(p), resumed.last_set(p)) == (
            get,
            fs,
            fu,
            ls,
        ), p
    assert [list(x) for x in _want_hashes(resumed, 0, 300000)] == [
        [w["start"], w["words"], w["hash"]] for w in r["wants"]
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 140000), st.integers(0, 79999), st.booleans()),
        max_size=12,
    ),
    st.lists(st.integers(0, 230000), min_size=1, max_size=10),
)
def test_against_a_set_model(ops: list[tuple[int, int, bool]], probes: list[int]) -> None:
    size = 300000  # larger than any op reaches, so "unset past the end" holds in the model too
    b = Bitfield()
    model = bytearray(size)  # one byte per bit: 1 = set
    for start, length, value in ops:
        b.set_range(start, start + length, value)
        end = min(start + length, size)
        model[start:end] = (b"\x01" if value else b"\x00") * (end - start)
    for p in probes:
        assert b.get(p) == (model[p] == 1)
        assert b.first_set(p) == model.find(1, p)
        fu = model.find(0, p)
        assert b.first_unset(p) == (fu if fu != -1 else size)
        assert b.last_set(p) == model.rfind(1, 0, p + 1)
        assert b.last_unset(p) == model.rfind(0, 0, p + 1)
        assert b.count_set(p, 40000) == model.count(1, p, p + 40000)
        assert b.has_set(p, 500) == (model.find(1, p, p + 500) != -1)
        assert b.has_unset(p, 500) == (model.find(0, p, p + 500) != -1)
    copy = Bitfield(b.to_buffer(size))
    assert all(copy.get(i) == (model[i] == 1) for i in range(0, size, 97))
    merged = Bitfield()
    merged.merge(b, 150000)
    assert merged.count_set(0, size) == model.count(1, 0, 150000)
    assert all(merged.get(i) == (model[i] == 1 and i < 150000) for i in range(0, size, 89))


def test_large_ranges_are_fast_enough_to_be_practical() -> None:
    b = Bitfield()
    b.set_range(0, 50_000_000, True)
    b.set(12_345_678, False)
    assert b.first_unset(0) == 12_345_678
    assert b.count_set(0, 50_000_000) == 50_000_000 - 1
    assert b.last_set(10**9) == 49_999_999
    assert b.first_unset(12_345_679) == 50_000_000

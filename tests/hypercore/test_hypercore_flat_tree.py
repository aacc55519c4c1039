"""flat-tree math against the JS reference (tests/vectors/reference.json, section hypercore.flat)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperpunch.hypercore import flat_tree as flat
from hyperpunch.hypercore.errors import BadArgumentError
from refvectors import section

V: dict[str, Any] = section("hypercore")["flat"]


def test_node_functions_match_js() -> None:
    assert len(V["nodes"]) > 300
    for n in V["nodes"]:
        i = n["index"]
        assert flat.depth(i) == n["depth"], i
        assert flat.offset(i) == n["offset"], i
        assert flat.parent(i) == n["parent"], i
        assert flat.sibling(i) == n["sibling"], i
        ch = flat.children(i)
        assert (list(ch) if ch is not None else None) == n["children"], i
        assert flat.left_child(i) == n["leftChild"], i
        assert flat.right_child(i) == n["rightChild"], i
        assert flat.left_span(i) == n["leftSpan"], i
        assert flat.right_span(i) == n["rightSpan"], i
        assert list(flat.spans(i)) == n["spans"], i
        assert flat.count(i) == n["count"], i
        assert flat.count_leaves(i) == n["countLeaves"], i
        assert flat.next_leaf(i) == n["nextLeaf"], i


def test_index_of_depth_offset() -> None:
    for d, o, i in V["indexOf"]:
        assert flat.index(d, o) == i


def test_full_and_future_roots() -> None:
    for r in V["roots"]:
        assert flat.full_roots(r["index"]) == r["fullRoots"], r["index"]
        assert flat.future_roots(r["index"]) == r["futureRoots"], r["index"]
    with pytest.raises(BadArgumentError):
        flat.full_roots(3)
    with pytest.raises(BadArgumentError):
        flat.future_roots(5)


def test_patch() -> None:
    for a, b, expected in V["patches"]:
        assert flat.patch(a, b) == expected, (a, b)


def test_iterator_walks() -> None:
    ops = {
        "parent": "parent",
        "sibling": "sibling",
        "leftChild": "left_child",
        "rightChild": "right_child",
        "next": "next",
        "prev": "prev",
        "leftSpan": "left_span",
        "rightSpan": "right_span",
        "nextTree": "next_tree",
        "prevTree": "prev_tree",
    }
    for walk in V["walks"]:
        ite = flat.Iterator(walk["start"])
        for op, ret, index, offset, factor, is_left, count, leaves, pls, prs in walk["steps"]:
            assert getattr(ite, ops[op])() == ret, (walk["start"], op)
            assert (ite.index, ite.offset, ite.factor) == (index, offset, factor)
            assert ite.is_left() == is_left
            assert ite.count() == count
            assert ite.count_leaves() == leaves
            assert ite.peek_left_span() == pls
            assert ite.peek_right_span() == prs


def test_iterator_queries() -> None:
    for q in V["queries"]:
        ite = flat.Iterator(q["start"])
        assert [ite.contains(i) for i in range(48)] == q["contains"]
        assert [ite.is_root(length) for length in range(24)] == q["isRoot"]


def test_full_root_walks() -> None:
    for w in V["fullRootWalks"]:
        seen = []
        ite = flat.Iterator(0)
        while ite.full_root(w["to"]):
            seen.append([ite.index, ite.factor])
            ite.next_tree()
        assert seen == w["roots"]


@given(st.integers(min_value=0, max_value=2**52))
def test_parent_child_relations(i: int) -> None:
    p = flat.parent(i)
    ch = flat.children(p)
    assert ch is not None and i in ch
    assert flat.sibling(flat.sibling(i)) == i
    assert flat.index(flat.depth(i), flat.offset(i)) == i
    lo, hi = flat.spans(i)
    assert lo == flat.left_span(i) and hi == flat.right_span(i)
    assert (hi - lo) // 2 + 1 == flat.count_leaves(i)


@given(st.integers(min_value=0, max_value=2**40))
def test_full_roots_cover_leaves(n: int) -> None:
    roots = flat.full_roots(2 * n)
    assert sum(flat.count_leaves(r) for r in roots) == n
    expect = 0
    for r in roots:
        assert flat.left_span(r) == expect
        expect = flat.right_span(r) + 2

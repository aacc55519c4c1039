"""Autobase's topolist tests (holepunchto/autobase ``test/topolist.js``, 26 tests) ported to
the Python :class:`~hyperpunch.autobase.topolist.Topolist`: stable ordering, change tracking
(``shared``/``undo``), shifting indexed nodes in and out of order, optimistic nodes, the nine
"any insertion order gives the reference order" regressions (their DAGs as data), and the fuzz
test as a seeded property."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperpunch.autobase.topolist import Topolist


class _Writer:
    __slots__ = ("key",)

    def __init__(self, key: bytes) -> None:
        self.key = key


class N:
    """JS ``makeNode``: every node gets its own writer object (so no two nodes share one)."""

    def __init__(self, key: str, length: int, deps: list[N], *, optimistic: bool = False) -> None:
        self.writer = _Writer(key.encode())
        self.length = length
        self.dependents: dict[Any, None] = {}
        self.dependencies = deps
        self.optimistic = optimistic
        self.value = key + str(length)
        self.index = 0
        self.yielded = False
        for d in deps:
            d.dependents[self] = None

    def __repr__(self) -> str:
        return self.value


def tip_of(*nodes: N) -> Topolist[Any]:
    t: Topolist[Any] = Topolist()
    for n in nodes:
        t.add(n)
    return t


def test_stable_ordering() -> None:
    a0 = N("a", 0, [])
    b0 = N("b", 0, [a0])
    c0 = N("c", 0, [a0])
    c1 = N("c", 1, [])
    for order in ([a0, c0, c1, b0], [a0, c0, b0, c1], [a0, c0, c1, b0]):
        assert tip_of(*order).tip == [a0, b0, c0, c1]


def test_can_track_changes() -> None:
    a0 = N("a", 0, [])
    c0 = N("c", 0, [a0])
    c1 = N("c", 1, [])
    tip = tip_of(a0, c0, c1)
    tip.mark()
    b0 = N("b", 0, [a0])
    tip.add(b0)
    assert (tip.undo, tip.shared) == (2, 1)
    b1 = N("b", 1, [c1])
    tip.add(b1)
    assert (tip.undo, tip.shared) == (2, 1)
    tip.mark()
    d0 = N("d", 0, [c1])
    tip.add(d0)
    assert (tip.undo, tip.shared) == (0, 5)
    c2 = N("c", 2, [c1])
    tip.add(c2)
    assert (tip.undo, tip.shared) == (0, 5)
    u = tip.flush()
    assert (u.shared, u.undo, u.length) == (5, 0, 7)


def _chain(c0_deps_a0: bool = True, b0_dep: str = "a0") -> dict[str, N]:
    """The seven-node DAG most shift tests use: a0, c0(a0), c1, b0(a0), b1(c1), d0(c1), c2(c1)."""
    a0 = N("a", 0, [])
    c0 = N("c", 0, [a0] if c0_deps_a0 else [])
    c1 = N("c", 1, [])
    b0 = N("b", 0, [a0])
    b1 = N("b", 1, [c1])
    d0 = N("d", 0, [c1])
    c2 = N("c", 2, [c1])
    return {"a0": a0, "c0": c0, "c1": c1, "b0": b0, "b1": b1, "d0": d0, "c2": c2}


def _marked(n: dict[str, N], first: list[str], then: list[str]) -> Topolist[Any]:
    tip = tip_of(*(n[k] for k in first))
    tip.mark()
    assert (tip.undo, tip.shared) == (0, len(first))
    for k in then:
        tip.add(n[k])
    return tip


def _flush(tip: Topolist[Any], n: dict[str, N], names: list[str]) -> Any:
    for k in names:
        n[k].yielded = True
    return tip.flush([n[k] for k in names])


STD_FIRST = ["a0", "c0", "c1", "b0", "b1"]


@pytest.mark.parametrize(
    ("name", "yielded", "undo", "shared", "tip_len"),
    [
        ("can shift", ["a0"], 0, 5, None),
        ("can shift out of order", ["c0"], 5, 0, 6),
        ("can multiple shift", ["a0", "b0"], 0, 5, None),
        ("can multiple shift partially out of order", ["a0", "c0"], 4, 1, None),
        ("shift whole chain", ["a0", "b0", "c0", "c1", "b1", "c2", "d0"], 0, 5, None),
        ("shift whole chain out of order", ["a0", "c0", "b0", "c1", "b1", "c2", "d0"], 4, 1, None),
    ],
)
def test_shifts(name: str, yielded: list[str], undo: int, shared: int, tip_len: int | None) -> None:
    n = _chain()
    tip = _marked(n, STD_FIRST, ["d0", "c2"])
    u = _flush(tip, n, yielded)
    assert (u.undo, u.shared, len(u.indexed), u.length) == (undo, shared, len(yielded), 7), name
    if tip_len is not None:
        assert len(u.tip) == tip_len


def test_can_multiple_shift_out_of_order() -> None:
    a0 = N("a", 0, [])
    c0 = N("c", 0, [])
    c1 = N("c", 1, [])
    b0 = N("b", 0, [c0])
    b1 = N("b", 1, [c1])
    n = {"a0": a0, "c0": c0, "c1": c1, "b0": b0, "b1": b1}
    tip = tip_of(a0, c0, c1, b0, b1)
    tip.mark()
    tip.add(N("d", 0, [c1]))
    assert (tip.undo, tip.shared) == (0, 5)
    tip.add(N("c", 2, [c1]))
    assert (tip.undo, tip.shared) == (0, 5)
    u = _flush(tip, n, ["c0", "b0"])
    assert (u.undo, u.shared, len(u.indexed), u.length) == (5, 0, 2, 7)


def test_can_shift_multiple_times() -> None:
    n = _chain()
    tip = _marked(n, STD_FIRST, ["d0", "c2"])
    u = tip.flush([n["a0"]])  # JS does not mark a0 yielded here
    assert (u.undo, u.shared, len(u.indexed)) == (0, 5, 1)
    u2 = _flush(tip, n, ["b0"])
    assert (u2.undo, u2.shared, len(u2.indexed)) == (0, 6, 1)
    assert u.length == 7


def test_reorder_then_shift() -> None:
    n = _chain()
    tip = _marked(n, ["a0", "c0", "c1", "d0", "c2"], ["b0", "b1"])
    assert (tip.undo, tip.shared) == (4, 1)
    u = _flush(tip, n, ["a0", "b0", "c0", "c1", "b1", "c2", "d0"])
    assert (u.undo, u.shared, len(u.indexed), u.length) == (4, 1, 7, 7)


def _b_first() -> dict[str, N]:
    a0 = N("a", 0, [])
    b0 = N("b", 0, [])
    c0 = N("c", 0, [b0])
    c1 = N("c", 1, [])
    b1 = N("b", 1, [c1])
    d0 = N("d", 0, [c1])
    c2 = N("c", 2, [c1])
    return {"a0": a0, "b0": b0, "c0": c0, "c1": c1, "b1": b1, "d0": d0, "c2": c2}


@pytest.mark.parametrize(
    ("yielded", "indexed"),
    [(["a0"], 1), (["a0", "b0", "c0", "c1", "c2", "b1"], 6)],
    ids=["add reorder then shift", "reorder then shift reordered"],
)
def test_add_reorder_then_shift(yielded: list[str], indexed: int) -> None:
    n = _b_first()
    tip = _marked(n, ["b0", "c0", "c1", "b1", "d0", "c2"], ["a0"])
    assert (tip.undo, tip.shared) == (6, 0)
    u = _flush(tip, n, yielded)
    assert (u.undo, u.shared, len(u.indexed), u.length) == (6, 0, indexed, 7)


def test_with_versions() -> None:
    # JS gives c1 and c2 a "version" the topolist no longer reads
    a0 = N("a", 0, [])
    b0 = N("b", 0, [])
    c0 = N("c", 0, [b0])
    c1 = N("c", 1, [])
    b1 = N("b", 1, [c0])
    d0 = N("d", 0, [c0])
    c2 = N("c", 2, [d0])
    d1 = N("d", 1, [])
    tip = tip_of(b0, c0, c1, b1, d0, c2, a0)
    assert tip.tip[-1] is c2
    tip.mark()
    tip.add(d1)
    assert tip.undo == 0


def test_optimistic() -> None:
    x0 = N("x", 0, [])
    h0 = N("h", 0, [], optimistic=True)
    i0 = N("i", 0, [h0])
    a0 = N("a", 0, [], optimistic=True)
    b0 = N("b", 0, [], optimistic=True)
    d0 = N("d", 0, [a0, x0])
    c0 = N("c", 0, [a0, b0, i0])
    e0 = N("e", 0, [a0])
    tip = tip_of(x0, h0, i0, b0, a0, c0)
    assert tip.tip == [h0, i0, a0, b0, c0, x0]
    tip.mark()
    tip.add(d0)
    assert tip.tip == [h0, i0, a0, b0, c0, x0, d0]
    assert (tip.undo, tip.shared) == (0, 6)
    tip.mark()
    tip.add(e0)
    assert tip.tip == [a0, e0, h0, i0, b0, c0, x0, d0]
    assert (tip.undo, tip.shared) == (7, 0)
    assert tip.tip == tip_of(h0, x0, a0, i0, e0, d0, b0, c0).tip  # sanity check


def test_optimistic_2() -> None:
    h0 = N("h", 0, [])
    i0 = N("i", 0, [h0])
    a0 = N("a", 0, [], optimistic=True)
    b0 = N("b", 0, [a0], optimistic=True)
    c0 = N("c", 0, [a0], optimistic=True)
    d0 = N("d", 0, [c0, b0], optimistic=True)
    e0 = N("e", 0, [d0])
    assert tip_of(h0, i0, a0, c0, b0, d0, e0).tip == [a0, b0, c0, d0, e0, h0, i0]


# "topolist - optimistic 3" .. "optimistic 11": a DAG ("name:dep,dep", optimistic names end in
# "o") whose reference order is its definition order, and the insertion order that once differed
BUG_CASES: dict[str, tuple[str, str]] = {
    "optimistic 3": (
        "n0o n1o n2:n1o n3 n4 n5:n4,n2,n3 n6:n4,n1o,n2 n7:n0o,n2 n8:n3,n1o",
        "n0o n4 n3 n1o n8 n2 n6 n5 n7",
    ),
    "optimistic 4": (
        "n0o n1o n2:n1o n3:n0o,n2 n4",
        "n0o n1o n4 n2 n3",
    ),
    "optimistic 5": (
        "n0 n1 n2:n1 n3o:n1 n4:n2,n1,n3o n5:n0,n1 n6:n2,n5 n7:n4 n8:n2,n3o n9o:n4 n10o:n1,n9o n11o:n1 n12:n3o,n7 n13:n8,n4,n6",
        "n1 n11o n0 n3o n2 n8 n4 n5 n7 n6 n12 n13 n9o n10o",
    ),
    "optimistic 6": (
        "n0 n1 n2:n1,n0 n3:n1,n2,n0 n4:n3,n1 n5o:n1 n6 n7:n6 n8 n9o:n5o n10:n5o n11 n12:n3,n7 n13o:n12,n9o n14:n6,n0 n15:n10,n3 n16:n6,n3,n10 n17o:n3,n11",
        "n8 n6 n11 n7 n0 n14 n1 n2 n5o n10 n9o n3 n4 n15 n16 n17o n12 n13o",
    ),
    "optimistic 7": (
        "n0 n1:n0 n2o:n1 n3o:n2o,n1 n4 n5o:n4 n6:n5o n7:n0 n8o:n6 n9:n0 n10:n7 n11 n12:n0 n13:n2o n14o:n1,n7,n2o n15:n4,n2o n16o:n1 n17:n13,n9,n16o n18:n0 n19 n20:n19,n10,n13 n21:n1,n18 n22:n18,n7 n23:n3o,n0 n24o:n11,n2o,n19 n25 n26:n17,n9 n27:n23 n28:n13,n24o n29:n13 n30:n2o n31:n0",
        "n4 n19 n25 n0 n18 n9 n31 n7 n10 n12 n5o n6 n1 n16o n21 n2o n3o n23 n30 n15 n11 n8o n13 n27 n17 n14o n22 n20 n26 n24o n28 n29",
    ),
    "optimistic 8": (
        "n0 n1 n2:n1 n3:n1,n2 n4:n0,n1,n3 n5:n0,n4 n6:n5,n3,n4 n7o n8:n2 n9 n10:n5 n11:n6,n9 n12:n4 n13:n8,n4 n14:n1,n2 n15:n4,n8 n16:n12 n17:n7o,n13 n18:n15,n10,n0 n19:n7o n20o:n12,n1 n21:n5,n9 n22:n2,n18,n15 n23o:n8 n24:n21,n7o n25:n0,n7o",
        "n7o n1 n2 n0 n14 n19 n8 n9 n25 n23o n3 n4 n13 n15 n17 n5 n21 n10 n18 n24 n22 n6 n11 n12 n16 n20o",
    ),
    "optimistic 9": (
        "n0 n1:n0 n2 n3o n4o:n2,n3o,n1 n5o:n4o,n0 n6:n5o,n0 n7:n1 n8:n4o,n3o",
        "n3o n2 n0 n1 n4o n5o n7 n6 n8",
    ),
    "optimistic 10": (
        "n0 n1o:n0 n2o:n1o n3 n4:n1o,n2o n5:n4,n3 n6 n7:n1o n8:n0,n3,n5 n9:n7,n3 n10o:n2o n11 n12:n3 n13:n7 n14 n15:n10o,n11 n16:n11",
        "n14 n3 n12 n6 n11 n0 n1o n2o n7 n10o n13 n15 n4 n5 n8 n9 n16",
    ),
    "optimistic 11": (
        "n0 n1 n2o n3:n1,n2o,n0 n4:n0,n3 n5 n6 n7 n8o n9o:n4 n10:n1,n7,n4 n11:n7,n3,n0 n12:n3 n13:n3,n1,n7 n14:n11,n1,n5 n15o:n7,n10,n9o n16o:n5,n9o n17:n7 n18:n15o,n2o,n17 n19",
        "n1 n2o n6 n19 n7 n8o n0 n5 n17 n3 n4 n10 n11 n12 n14 n9o n15o n13 n18 n16o",
    ),
    "fuzz": (
        "",
        "",
    ),
}


def build(spec: str) -> dict[str, N]:
    nodes: dict[str, N] = {}
    for entry in spec.split():
        name, _, deps = entry.partition(":")
        nodes[name] = N(name, 0, [nodes[d] for d in deps.split(",") if d], optimistic=name.endswith("o"))
    return nodes


@pytest.mark.parametrize("name", list(BUG_CASES))
def test_optimistic_insertion_order(name: str) -> None:
    spec, bug = BUG_CASES[name]
    nodes = build(spec)
    ref = tip_of(*nodes.values())
    assert tip_of(*(nodes[k] for k in bug.split())).print() == ref.print()


def _random_dag(rng: random.Random) -> list[N]:
    """JS ``makeRandomNode``: up to 3 distinct earlier heads, 15% optimistic."""
    nodes: list[N] = []
    size = rng.randrange(1, 21)
    while len(nodes) < size:
        heads: list[N] = []
        want = rng.randint(0, min(len(nodes), 3))
        while len(heads) < want:
            r = rng.choice(nodes)
            if r not in heads:
                heads.append(r)
        optimistic = rng.random() < 0.15
        nodes.append(N(f"n{len(nodes)}{'o' if optimistic else ''}", 0, heads, optimistic=optimistic))
    return nodes


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_fuzz_any_topological_order_gives_the_same_tip(seed: int) -> None:
    rng = random.Random(seed)
    nodes = _random_dag(rng)
    ref = tip_of(*nodes).print()
    for _ in range(20):
        left = list(nodes)
        tip: Topolist[Any] = Topolist()
        while left:
            r = rng.choice(left)
            if any(d in left for d in r.dependencies):
                continue
            left.remove(r)
            tip.add(r)
        assert tip.print() == ref

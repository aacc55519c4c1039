"""The apply state: after every linearizer update, carrying out the plan (truncate, then apply
the batches) leaves the view equal to the linearized order (indexed nodes, then the tip), with
the values of the reorderable part undone and re-applied when a node sorts in before them."""

from __future__ import annotations

from typing import Any

import pytest

from hyperpunch.autobase.apply_state import ApplyNode, ApplyState
from hyperpunch.autobase.linearizer import Linearizer
from hyperpunch.autobase.memory import MemoryWriter, writer_key
from hyperpunch.autobase.node import DagNode
from refvectors import section

DAGS: list[dict[str, Any]] = section("autobase")["linearizer"]


class Harness:
    """A linearizer, a list view and the apply state, as an adapter would wire them."""

    def __init__(self, writers: list[str], indexers: list[str]) -> None:
        self.writers = {w: MemoryWriter(w, writer_key(w), indexer=w in indexers) for w in writers}
        self.linearizer = Linearizer([self.writers[w] for w in indexers])
        self.state = ApplyState([0])
        self.view: list[Any] = []
        self.nodes: dict[str, DagNode] = {}
        self.undone = 0
        self.indexed: list[DagNode] = []

    def apply(self, nodes: list[ApplyNode]) -> None:
        for n in nodes:
            self.view.append(n.value)

    def add(self, writer: str, deps: list[str], value: Any = "", batch: int = 1) -> None:
        w = self.writers[writer]
        for i in range(batch):
            name = f"{writer}{w.length}"
            node = w.append(
                name if value == "" else value, [self.nodes[d] for d in deps] if i == 0 else [], batch - i
            )
            self.nodes[name] = node
            self.linearizer.add_head(node)
        u = self.linearizer.update()
        if u is None:
            return
        plan = self.state.plan(u)
        if plan.truncate_to is not None:
            self.undone += len(self.view) - plan.truncate_to[0]
            del self.view[plan.truncate_to[0] :]
        for planned in plan.batches:
            self.apply(planned.nodes)
            self.state.applied(planned, [len(self.view)])
        self.state.settle()
        self.indexed.extend(u.indexed)
        for n in u.indexed:
            if n.batch == 1:
                w2 = n.writer
                assert isinstance(w2, MemoryWriter)
                w2.shift()
        expected = [n.value for n in [*self.indexed, *u.tip] if n.value is not None]
        assert self.view == expected


def test_reorder_undoes_and_reapplies() -> None:
    h = Harness(["a", "b"], ["a", "b"])
    h.add("b", [])
    assert h.view == ["b0"]
    h.add("a", [])  # concurrent and lower key: sorts first, b0 is undone and re-applied
    assert h.view == ["a0", "b0"]
    assert h.undone == 1
    h.add("b", ["a0"])
    h.add("a", ["b1"])
    h.add("b", ["a1"])
    assert h.view[:2] == ["a0", "b0"] and len(h.indexed) > 0


def test_acks_never_reach_apply() -> None:
    h = Harness(["a", "b"], ["a", "b"])
    h.add("a", [])
    h.add("b", ["a0"], value=None)
    h.add("a", ["b0"], value=None)
    h.add("b", ["a1"])
    assert None not in h.view and h.view[0] == "a0"


@pytest.mark.parametrize("dag", DAGS, ids=[d["name"] for d in DAGS])
def test_view_follows_the_linearized_order(dag: dict[str, Any]) -> None:
    h = Harness(dag["writers"], dag["indexers"])
    names = {}
    for entry in dag["spec"]:
        head, _, deps = entry.partition(":")
        batch = int(head.split("*", 1)[1]) if "*" in head else 1
        before = h.writers[head[0]].length
        h.add(head[0], [d for d in deps.split(",") if d], None if head.endswith("!") else "", batch)
        for i in range(batch):
            names[h.nodes[f"{head[0]}{before + i}"]] = f"{head[0]}{before + i}"
    assert [names[n] for n in h.indexed] == dag["indexed"]

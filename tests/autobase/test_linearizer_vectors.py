"""The sans-IO linearizer against autobase's own Linearizer (section ``autobase.linearizer`` of
tests/vectors/reference.json): the DAGs of autobase's reference linearizer tests and 40 seeded
random DAGs, built node by node with in-memory writers on both sides; every update (shared, undo,
length, indexed and tip order) and the final heads must be JS's."""

from __future__ import annotations

from typing import Any

import pytest

from hyperpunch.autobase.memory import DagDriver
from refvectors import section

DAGS: list[dict[str, Any]] = section("autobase")["linearizer"]


def test_vector_set_is_complete() -> None:
    assert len(DAGS) == 14 + 40
    assert sum(1 for d in DAGS if d["indexed"]) > 30  # most DAGs index something


@pytest.mark.parametrize("dag", DAGS, ids=[d["name"] for d in DAGS])
def test_same_updates_as_js(dag: dict[str, Any]) -> None:
    driver = DagDriver(dag["writers"], dag["indexers"]).run(dag["spec"])
    got = [
        {"shared": s.shared, "undo": s.undo, "length": s.length, "indexed": s.indexed, "tip": s.tip}
        for s in driver.steps
    ]
    assert got == dag["steps"]
    assert driver.indexed == dag["indexed"]
    heads = [f"{h.key[:1].hex()}:{h.length}" for h in driver.linearizer.get_heads()]
    assert heads == dag["heads"]

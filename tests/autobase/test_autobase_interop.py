"""JS -> Python: a three-writer JS Autobase (interop/scripts/autobase-writers.js: writer a, the
only indexer, adds b and c; all append concurrently in rounds and replicate) is read back as raw
writer-core blocks; the Python linearizer, fed those blocks, indexes every node and yields the
values in exactly the order of the JS view."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hyperpunch.autobase.memory import MemoryWriter
from hyperpunch.autobase.replay import Replayer
from jsref import run_node_json


@pytest.fixture(scope="module", params=[4, 7])
def js_base(request: pytest.FixtureRequest) -> Any:
    return run_node_json("autobase-writers.js", str(request.param))


def _values(indexed: list[Any]) -> list[Any]:
    out = []
    for node in indexed:
        if node.value is None:
            continue  # acks never reach apply
        value = json.loads(node.value)
        if isinstance(value, dict) and "add" in value:
            continue  # add-writer messages change the system, not the view
        out.append(value)
    return out


def test_python_indexes_js_writers_in_js_order(js_base: Any) -> None:
    assert js_base["peersAgree"] and js_base["signedLength"] == js_base["viewLength"] > 0
    indexers = [bytes.fromhex(k) for k in js_base["indexers"]]
    replay = Replayer(indexers)
    for w in js_base["writers"]:
        replay.feed(bytes.fromhex(w["key"]), [bytes.fromhex(b) for b in w["blocks"]])
    replay.run()
    indexed = replay.indexed
    total = sum(len(w["blocks"]) for w in js_base["writers"])
    assert len(indexed) == total  # everything JS indexed, once
    assert _values(indexed) == js_base["view"]
    for w in replay.writers.values():
        assert isinstance(w, MemoryWriter) and w.indexed == w.length


def test_feed_order_does_not_change_the_order(js_base: Any) -> None:
    indexers = [bytes.fromhex(k) for k in js_base["indexers"]]
    replay = Replayer(indexers)
    for w in reversed(js_base["writers"]):  # other writers first, block by block
        replay.feed(bytes.fromhex(w["key"]), [bytes.fromhex(b) for b in w["blocks"]])
    replay.run()
    assert _values(replay.indexed) == js_base["view"]

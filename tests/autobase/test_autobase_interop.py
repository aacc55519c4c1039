"""JS -> Python: a three-writer JS Autobase (interop/scripts/autobase-writers.js: writer a, the
only indexer, adds b and c; all append concurrently in rounds and replicate) is read back as raw
writer-core blocks; the Python linearizer, fed those blocks, indexes every node and yields the
values in exactly the order of the JS view."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hyperpunch.autobase.memory import MemoryWriter
from hyperpunch.autobase.messages import oplog_message
from hyperpunch.autobase.replay import Replayer
from hyperpunch.encoding import decode
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


def _adds(node: Any) -> list[tuple[bytes, bool]]:
    """What the JS script's apply adds for a node: ``{add: <hex key>, indexer}``."""
    if node.value is None:
        return []
    value = json.loads(node.value)
    if isinstance(value, dict) and "add" in value:
        return [(bytes.fromhex(value["add"]), bool(value.get("indexer")))]
    return []


def test_python_follows_js_indexer_changes() -> None:
    """b and c become indexers (JS reboots its linearizer as each one's first node is indexed):
    Python, following the same system bookkeeping, indexes every node in the JS view's order."""
    js = run_node_json("autobase-writers.js", "6", "indexers")
    assert js["peersAgree"] and js["signedLength"] == js["viewLength"] > 0
    assert len(js["indexers"]) == 3
    replay = Replayer([bytes.fromhex(js["key"])], adds=_adds)
    for w in js["writers"]:
        replay.feed(bytes.fromhex(w["key"]), [bytes.fromhex(b) for b in w["blocks"]])
    replay.run()
    assert replay.system is not None
    assert [k.hex() for k in replay.system.indexer_keys] == js["indexers"]
    assert replay.reboots >= 2
    assert _values(replay.indexed) == js["view"]
    # what is left unindexed is only the indexers' last acks (they wait for further acks)
    indexed = {(n.writer.key, n.length) for n in replay.indexed}
    for w in js["writers"]:
        for i, block in enumerate(w["blocks"]):
            if (bytes.fromhex(w["key"]), i + 1) not in indexed:
                assert decode(oplog_message, bytes.fromhex(block)).node.value is None

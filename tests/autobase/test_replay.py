"""The Replayer converges: each DAG of the reference vectors, written out as oplog blocks and
fed writer by writer in shuffled order and in chunks (running between chunks), is indexed in
exactly the order JS autobase's Linearizer gave when the DAG was built node by node."""

from __future__ import annotations

import random
from typing import Any

import pytest

from hyperpunch.autobase.memory import DagDriver, writer_key
from hyperpunch.autobase.messages import Node, OplogMessage, oplog_message
from hyperpunch.autobase.replay import Replayer
from hyperpunch.encoding import encode
from refvectors import section

DAGS: list[dict[str, Any]] = section("autobase")["linearizer"]


def _blocks(dag: dict[str, Any]) -> dict[bytes, list[bytes]]:
    driver = DagDriver(dag["writers"], dag["indexers"]).run(dag["spec"])
    out: dict[bytes, list[tuple[int, bytes]]] = {}
    for node in driver.nodes.values():
        value = None if node.value is None else str(node.value).encode()
        block = encode(oplog_message, OplogMessage(Node(list(node.actual_heads), node.batch, value)))
        out.setdefault(node.writer.key, []).append((node.length, block))
    return {k: [b for _, b in sorted(v)] for k, v in out.items()}


@pytest.mark.parametrize("dag", DAGS, ids=[d["name"] for d in DAGS])
def test_any_feed_order_gives_the_js_order(dag: dict[str, Any]) -> None:
    blocks = _blocks(dag)
    for seed in range(4):
        rng = random.Random(seed)
        replay = Replayer([writer_key(w) for w in dag["indexers"]])
        cursors = dict.fromkeys(blocks, 0)
        keys = list(blocks)
        rng.shuffle(keys)
        while any(cursors[k] < len(blocks[k]) for k in keys):
            k = rng.choice([k for k in keys if cursors[k] < len(blocks[k])])
            n = rng.randint(1, 3)
            replay.feed(k, blocks[k][cursors[k] : cursors[k] + n])
            cursors[k] += n
            if rng.random() < 0.5:
                replay.run()
        replay.run()
        got = [f"{n.writer.key[:1].decode()}{n.length - 1}" for n in replay.indexed]
        assert got == dag["indexed"], seed


def test_an_indexer_change_inside_a_batch_reboots_after_the_batch() -> None:
    """The bootstrap's first node completes it as an indexer (a JS indexer update), but JS sees
    the update only once the whole batch is applied: the batch (here: its second node adds a
    writer) is indexed once, never split, and what it added stays."""
    a, b = b"a" * 32, b"b" * 32
    adds = {(a, 2): [(b, True)]}
    replay = Replayer([a], adds=lambda n: adds.get((n.writer.key, n.length), []))
    first = encode(oplog_message, OplogMessage(Node([], 2, b"add b")))
    second = encode(oplog_message, OplogMessage(Node([], 1, b"put")))
    replay.feed(a, [first, second])
    replay.run()
    assert [(n.writer.key, n.length) for n in replay.indexed] == [(a, 1), (a, 2)]
    assert replay.reboots == 1
    assert replay.system is not None and replay.system.pending == [b]

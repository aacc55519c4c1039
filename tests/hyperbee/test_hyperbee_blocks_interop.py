"""Block-for-block identity with JS hyperbee 2.27.3: the same seeded random operation sequences
(puts, cas puts, overwrites, deletes forcing merges and borrows, batches, subs, binary keys of
1-300 bytes) applied by JS and by hyperpunch write identical blocks.

The default suite runs 20 sequences of 1 500 operations; ``HYPERPUNCH_FULL=1`` runs the issue's
20 sequences of 10 000.
"""

from __future__ import annotations

import os

import pytest
from bee_ops import apply_ops, blocks_of, gen_ops

from hyperpunch.hyperbee import Metadata
from hyperpunch.hypercore import Hypercore
from jsref import run_node_json

pytestmark = pytest.mark.interop

FULL = os.environ.get("HYPERPUNCH_FULL") == "1"
N_OPS = 10_000 if FULL else 1_500
SEEDS = list(range(20))


def _first_diff(a: list[str], b: list[str]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"block {i} differs:\n js {x}\n py {y}"
    return f"lengths differ: js {len(a)} py {len(b)}"


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_ops_write_identical_blocks(seed: int) -> None:
    ops = gen_ops(seed, N_OPS)
    js = run_node_json("hyperbee-ops.js", input_obj={"ops": ops}, timeout=600)["blocks"]
    async with Hypercore(None) as core:
        db = await apply_ops(core, ops)
        py = await blocks_of(core)
        await db.aclose()
    assert len(js) > N_OPS // 2
    assert py == js, _first_diff(js, py)


async def test_header_metadata_identical() -> None:
    md = {"contentFeed": "11" * 32, "userData": "cafe"}
    ops = gen_ops(99, 30)
    js = run_node_json("hyperbee-ops.js", input_obj={"ops": ops, "metadata": md})["blocks"]
    async with Hypercore(None) as core:
        db = await apply_ops(
            core, ops, Metadata(bytes.fromhex(md["contentFeed"]), bytes.fromhex(md["userData"]))
        )
        py = await blocks_of(core)
        await db.aclose()
    assert py == js, _first_diff(js, py)

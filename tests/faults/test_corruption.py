"""Seeded storage corruption (issue 18): random bit flips, truncated files, deleted rows, flipped
bits in stored values and zeroed pages, on single cores (47 runs) and on a 100-core store (3 runs).

For every run: reading the damaged copy never gives a wrong block (each block is right, missing,
or a ``StorageCorruptError`` naming the core); a database SQLite itself cannot read is salvaged
(every readable row kept); then, with the intact writer as a peer, the damaged core heals to full
length and every block verifies. Only damage to what identifies a core (its key pair, its signed
head's roots) may stay, reported as ``StorageCorruptError`` when opened, never replaced.
"""

from __future__ import annotations

import asyncio
import random
import shutil
from pathlib import Path

import pytest
from faults_helpers import KINDS, block, damage, heal, linked, read_all

from hyperpunch import crypto
from hyperpunch.corestore import Corestore
from hyperpunch.hypercore import StorageCorruptError
from hyperpunch.hypercore.salvage import needs_salvage, salvage
from hyperpunch.hypercore.session import Hypercore

N = 300
SINGLE_RUNS = 47
STORE_CORES = 100
STORE_BLOCKS = 12


def expected_blocks(n: int) -> list[bytes]:
    return [block(i, 8 + 4 * (i % 40)) for i in range(n)]


async def _write(path: Path, seed: int, values: list[bytes]) -> bytes:
    async with Hypercore(path, key_pair=crypto.key_pair(seed.to_bytes(32, "little"))) as w:
        for i in range(0, len(values), 50):
            await w.append(values[i : i + 50])
        assert w.key is not None
        return w.key


async def _single_run(tmp: Path, seed: int) -> str:
    """One seeded run; returns its outcome: ``healed`` or ``reported``."""
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    values = expected_blocks(N)
    a, b = tmp / f"a{seed}", tmp / f"b{seed}"
    key = await _write(a, seed, values)
    shutil.copytree(a, b)
    what = damage(b / "core.db", kind, rng)
    try:  # reading the damaged copy as it is: right, missing or reported, never wrong
        async with Hypercore(b) as damaged:
            await read_all(damaged, values)
    except StorageCorruptError:
        pass
    if needs_salvage(b / "core.db"):
        salvage(b / "core.db")
        assert (b / "core.db.damaged").exists()
    try:
        async with Hypercore(b, key) as r, Hypercore(a) as w:
            r.core.check_stored()  # what fsck does: verify everything, drop what is damaged
            await heal(r, w)
            assert r.length == N, what
            right, missing, reported = await read_all(r, values)
            assert (right, missing, reported) == (N, 0, 0), what
        async with Hypercore(b, key) as again:  # what healed is stored
            assert await read_all(again, values) == (N, 0, 0), what
        return "healed"
    except StorageCorruptError as err:
        assert err.key == key, what
        # only the identity or the signed head's roots may be beyond repair
        assert any(w in str(err) for w in ("key pair", "discovery key", "roots", "manifest", "signature")), (
            what,
            err,
        )
        assert kind == "flip", (what, err)
        return "reported"


async def test_seeded_single_core_corruption(tmp_path: Path) -> None:
    outcomes = [await _single_run(tmp_path, seed) for seed in range(SINGLE_RUNS)]
    healed = outcomes.count("healed")
    # every non-flip run heals; flips may hit a key pair or the roots (reported)
    assert healed >= SINGLE_RUNS - sum(1 for s in range(SINGLE_RUNS) if KINDS[s % len(KINDS)] == "flip")
    assert healed >= 40, outcomes


async def _store_run(tmp: Path, seed: int) -> tuple[int, int]:
    rng = random.Random(1000 + seed)
    a, b = tmp / f"sa{seed}", tmp / f"sb{seed}"
    values = expected_blocks(STORE_BLOCKS)
    keys: list[bytes] = []
    async with Corestore(a, primary_key=seed.to_bytes(32, "little"), unsafe=True) as store:
        for c in range(STORE_CORES):
            core = await store.get(name=f"core-{c}")
            await core.append(values)
            assert core.key is not None
            keys.append(core.key)
            await core.aclose()
    shutil.copytree(a, b)
    kind = ("blobs", "rows", "flip")[seed % 3]
    what = damage(b / "corestore.db", kind, rng)
    if needs_salvage(b / "corestore.db"):
        salvage(b / "corestore.db")
    healed = reported = 0
    async with Corestore(a) as good, Corestore(b) as bad:
        for k in keys:
            w = await good.get(key=k)
            try:
                r = await bad.get(key=k)
            except StorageCorruptError as err:
                assert err.key == k
                reported += 1
                await w.aclose()
                continue
            try:
                await read_all(r, values)
                r.core.check_stored()
                async with linked(w, r), asyncio.timeout(20):
                    await r.download(0, STORE_BLOCKS).done()
                assert await read_all(r, values) == (STORE_BLOCKS, 0, 0), what
                healed += 1
            finally:
                await r.aclose()
                await w.aclose()
    return healed, reported


@pytest.mark.parametrize("seed", range(3))
async def test_seeded_corestore_corruption(tmp_path: Path, seed: int) -> None:
    healed, reported = await _store_run(tmp_path, seed)
    assert healed + reported == STORE_CORES
    assert healed >= STORE_CORES - 3

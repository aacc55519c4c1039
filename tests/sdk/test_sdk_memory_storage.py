"""``SDK(storage=None)`` keeps cores in :class:`MemoryStorage`: the same random write batches
applied to it and to the on-disk SQLite storage (single-core and store database) read back the
same after every batch and after reopening; and the same Hypercore/Corestore session history gives
the same cores in memory and on disk."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hyperpunch import crypto
from hyperpunch.corestore import Corestore
from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import Hypercore
from hyperpunch.hypercore import manifest as man
from hyperpunch.hypercore.sqlite_store import SQLiteStorage, StoreDatabase
from hyperpunch.hypercore.storage import MemoryStorage
from hyperpunch.hypercore.storage_records import CoreAuth, CoreHead, CoreHints, WriteBatch

KP = crypto.key_pair(bytes([9]) * 32)
MANIFEST = man.default_signer_manifest(KP.public_key)
KEY = man.manifest_hash(MANIFEST)
N = 40  # indexes used by the random batches


def random_batch(rng: random.Random) -> WriteBatch:
    wb = WriteBatch()
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(12)
        i = rng.randrange(N)
        j = rng.randrange(i, N + 1)
        if op == 0:
            wb.put_block(i, rng.randbytes(rng.randrange(0, 50)))
        elif op == 1:
            wb.delete_block(i)
        elif op == 2:
            wb.delete_block_range(i, j)
        elif op == 3:
            wb.put_tree_node(TreeNode(i, rng.randrange(1000), rng.randbytes(32)))
        elif op == 4:
            wb.delete_tree_node_range(i, j)
        elif op == 5:
            wb.put_bitfield_page(i % 4, rng.randbytes(32))
        elif op == 6:
            wb.delete_bitfield_page_range(i % 4, j % 5)
        elif op == 7:
            wb.set_head(
                CoreHead(rng.randrange(3), i, rng.randbytes(32), rng.choice([None, rng.randbytes(64)]))
            )
        elif op == 8:
            wb.set_hints(CoreHints(i, j))
        elif op == 9:
            wb.put_user_data(f"k{i % 5}", rng.randbytes(rng.randrange(1, 9)))
        elif op == 10:
            wb.delete_user_data(f"k{i % 5}")
        else:
            wb.delete_tree_node(i)
    return wb


def state(s: Any) -> dict[str, Any]:
    return {
        "auth": s.get_auth(),
        "head": s.get_head(),
        "hints": s.get_hints(),
        "blocks": {i: s.get_block(i) for i in range(N + 1)},
        "nodes": {i: (s.get_tree_node(i), s.has_tree_node(i)) for i in range(N + 1)},
        "pages": dict(s.bitfield_pages()),
        "page": {i: s.get_bitfield_page(i) for i in range(6)},
        "user": dict(s.user_data()),
        "user_get": {f"k{i}": s.get_user_data(f"k{i}") for i in range(6)},
    }


def test_random_batches_read_back_the_same(tmp_path: Path) -> None:
    for seed in range(6):
        rng = random.Random(seed)
        mem = MemoryStorage()
        single = SQLiteStorage(tmp_path / f"single-{seed}")
        db = StoreDatabase(tmp_path / f"store-{seed}.db")
        stores: list[Any] = [mem, single, db.core(b"core")]
        auth = WriteBatch()
        auth.set_auth(CoreAuth(KEY, crypto.discovery_key(KEY), MANIFEST, KP))
        try:
            for s in stores:
                s.write(auth)
            for step in range(60):
                wb = random_batch(rng)
                for s in stores:
                    s.write(wb)
                want = state(stores[0])
                for s in stores[1:]:
                    assert state(s) == want, (seed, step)
                if step % 20 == 19:  # reopen: the state survives, in memory as on disk
                    stores[0] = stores[0].reopen()
                    stores[1].close()
                    stores[1] = SQLiteStorage(tmp_path / f"single-{seed}")
                    for s in stores[1:]:
                        assert state(s) == state(stores[0])
        finally:
            stores[1].close()
            db.close()


async def history(core: Hypercore) -> None:
    await core.append([b"a", b"bb", b"ccc"])
    await core.set_user_data("note", b"kept")
    await core.truncate(2)
    await core.append([b"d", b"e"])


async def snapshot(core: Hypercore) -> tuple[Any, ...]:
    blocks = [await core.get(i) for i in range(core.length)]
    return (core.key, core.length, core.fork, core.byte_length, blocks, core.core.tree.hash(),
            await core.get_user_data("note"))  # fmt: skip


async def test_hypercore_and_corestore_in_memory_match_disk(tmp_path: Path) -> None:
    async with Hypercore(None, key_pair=KP) as mem, Hypercore(str(tmp_path / "core"), key_pair=KP) as disk:
        await history(mem)
        await history(disk)
        assert await snapshot(mem) == await snapshot(disk)
    key = bytes([1]) * 32
    async with (
        Corestore(None, primary_key=key, unsafe=True, compat=True) as ms,
        Corestore(tmp_path / "store", primary_key=key, unsafe=True, compat=True) as ds,
    ):
        snaps = []
        for store in (ms, ds):
            core = await store.get(name="named")
            await history(core)
            await core.aclose()  # closed: kept in storage, reopened from it
            again = await store.get(name="named")
            snaps.append(await snapshot(again))
        assert snaps[0] == snaps[1]
        assert snaps[0][0] == (await ms.create_key_pair("named")).public_key  # a compat core

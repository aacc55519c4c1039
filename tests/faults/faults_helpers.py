"""Helpers for the storage fault tests: deterministic blocks, damaging a store's database in
seeded ways, and reading a damaged core the way a user would."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

from hyperpunch.hypercore import StorageCorruptError
from hyperpunch.hypercore.replication import replicate
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.protomux import Protomux, memory_stream_pair

PAGE = 4096
KINDS = ("flip", "truncate", "rows", "blobs", "page")


def block(i: int, size: int = 64) -> bytes:
    """Block ``i``: uint32 LE ``i`` repeated (the JS peer script uses the same function)."""
    return (i & 0xFFFFFFFF).to_bytes(4, "little") * (size // 4)


def damage(db: Path, kind: str, rng: random.Random) -> str:
    """Damage the SQLite file ``db`` (closed, checkpointed) in a seeded way; returns what was done."""
    size = db.stat().st_size
    if kind == "flip":  # 30-40 random bits past the first page
        data = bytearray(db.read_bytes())
        n = rng.randint(30, 40)
        for _ in range(n):
            pos = rng.randrange(PAGE, size)
            data[pos] ^= 1 << rng.randrange(8)
        db.write_bytes(bytes(data))
        return f"flipped {n} bits"
    if kind == "truncate":
        cut = rng.randrange(PAGE, size)
        with db.open("r+b") as f:
            f.truncate(cut)
        return f"truncated to {cut} of {size}"
    if kind == "page":  # one whole page past the first zeroed
        pages = size // PAGE
        p = rng.randrange(1, pages)
        with db.open("r+b") as f:
            f.seek(p * PAGE)
            f.write(bytes(PAGE))
        return f"zeroed page {p} of {pages}"
    conn = sqlite3.connect(db)
    try:
        if kind == "rows":  # deleted block / tree rows (the database stays well-formed)
            table = rng.choice(("blocks", "tree"))
            rows = [r[0] for r in conn.execute(f"SELECT rowid FROM {table}")]
            gone = rng.sample(rows, min(len(rows), rng.randint(1, 6)))
            conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(r,) for r in gone])
            conn.commit()
            return f"deleted {len(gone)} rows of {table}"
        # blobs: bits flipped inside stored block / node values (the database stays well-formed)
        table, col = rng.choice((("blocks", "data"), ("tree", "hash")))
        rows = conn.execute(f"SELECT rowid, {col} FROM {table}").fetchall()
        hit = rng.sample(rows, min(len(rows), rng.randint(1, 5)))
        for rowid, value in hit:
            b = bytearray(value)
            if b:
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            conn.execute(f"UPDATE {table} SET {col} = ? WHERE rowid = ?", (bytes(b), rowid))
        conn.commit()
        return f"flipped a bit in {len(hit)} {table} values"
    finally:
        conn.close()


async def read_all(core: Hypercore, expected: list[bytes]) -> tuple[int, int, int]:
    """Read every block without waiting: returns (right, missing, reported). A wrong block or an
    error other than ``StorageCorruptError`` fails the caller's test."""
    right = missing = reported = 0
    for i in range(core.length):
        try:
            got = await core.get(i, wait=False)
        except StorageCorruptError as err:
            assert err.key == core.key or err.key is None
            reported += 1
            continue
        if got is None:
            assert not await core.has(i), f"block {i}: None although the bitfield has it"
            missing += 1
        else:
            assert got == expected[i], f"block {i} is wrong: {got!r}"
            right += 1
    return right, missing, reported


@contextlib.asynccontextmanager
async def linked(a: Hypercore, b: Hypercore) -> AsyncIterator[None]:
    """``a`` and ``b`` replicating over an in-memory stream."""
    s1, s2 = memory_stream_pair()
    ma, mb = Protomux(s1), Protomux(s2)
    replicate(a, ma, is_initiator=True, handshake_hash=b"\x07" * 64)
    replicate(b, mb, is_initiator=False, handshake_hash=b"\x07" * 64)
    try:
        yield
    finally:
        await ma.aclose()
        await mb.aclose()


async def heal(core: Hypercore, source: Hypercore, timeout: float = 20) -> None:
    """Download every block of ``core`` from ``source`` over a link."""
    async with linked(source, core), asyncio.timeout(timeout):
        await core.download(0, source.length).done()

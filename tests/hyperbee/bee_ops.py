"""Seeded random hyperbee operation sequences, applied by hyperpunch (and by JS in
``interop/scripts/hyperbee-ops.js``): puts, cas puts, overwrites, deletes that force merges and
borrows, batches and sub keys, with keys of 1-300 bytes including binary."""

from __future__ import annotations

import random
from typing import Any

from hyperpunch.hyperbee import Entry, Hyperbee, Metadata
from hyperpunch.hypercore import Hypercore


def _rand_key(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.6:
        n = rng.randint(1, 6)
        return bytes(rng.choice(b"abcdefgh") for _ in range(n))
    if r < 0.9:
        return rng.randbytes(rng.randint(1, 24))
    return rng.randbytes(rng.randint(25, 300))


def _rand_value(rng: random.Random) -> str | None:
    r = rng.random()
    if r < 0.02:
        return None
    if r < 0.05:
        return ""
    return rng.randbytes(rng.randint(1, 48)).hex()


def gen_ops(seed: int, n: int) -> list[dict[str, Any]]:
    """``n`` operations (a batch counts as its size)."""
    rng = random.Random(seed)
    pool: list[bytes] = []
    live: dict[bytes, None] = {}
    subs = [b"s", b"sub", b"\x00", b"\xff"]
    ops: list[dict[str, Any]] = []

    def one(in_batch: bool) -> dict[str, Any]:
        r = rng.random()
        # phases: grow, then shrink, to force merges and borrows
        phase = (len(ops) // 400) % 3
        del_p = 0.15 if phase == 0 else (0.6 if phase == 2 else 0.35)
        op: dict[str, Any]
        if r < del_p and live:
            k = rng.choice(list(live)) if rng.random() < 0.9 else _rand_key(rng)
            live.pop(k, None)
            op = {"del": k.hex()}
        else:
            k = rng.choice(pool) if pool and rng.random() < 0.3 else _rand_key(rng)
            pool.append(k)
            live[k] = None
            op = {"put": [k.hex(), _rand_value(rng)]}
        if rng.random() < 0.1:
            op["cas"] = True
        if rng.random() < 0.08:
            op["sub"] = rng.choice(subs).hex()
        return op

    count = 0
    while count < n:
        if rng.random() < 0.04:
            size = min(rng.randint(1, 40), n - count)
            ops.append({"batch": [one(True) for _ in range(size)]})
            count += size
        else:
            ops.append(one(False))
            count += 1
    return ops


def _cas(prev: Entry, nxt: Entry) -> bool:
    return bool(prev.value != nxt.value)


async def apply_ops(core: Hypercore, ops: list[dict[str, Any]], metadata: Metadata | None = None) -> Hyperbee:
    """Apply ``ops`` to a new bee on ``core`` (left open: the caller closes it)."""
    db = Hyperbee(core, metadata=metadata, close_core=False)
    await db.ready()
    for op in ops:
        if "batch" in op:
            b = db.batch()
            for o in op["batch"]:
                prefix = bytes.fromhex(o["sub"]) + b"\x00" if o.get("sub") is not None else b""
                cas = _cas if o.get("cas") else None
                if "put" in o:
                    k, v = o["put"]
                    await b.put(prefix + bytes.fromhex(k), None if v is None else bytes.fromhex(v), cas=cas)
                else:
                    await b.delete(prefix + bytes.fromhex(o["del"]), cas=cas)
            await b.flush()
            continue
        target = db.sub(bytes.fromhex(op["sub"])) if op.get("sub") is not None else db
        cas = _cas if op.get("cas") else None
        if "put" in op:
            k, v = op["put"]
            await target.put(bytes.fromhex(k), None if v is None else bytes.fromhex(v), cas=cas)
        else:
            await target.delete(bytes.fromhex(op["del"]), cas=cas)
    return db


async def blocks_of(core: Hypercore) -> list[str]:
    return [(await core.get(i)).hex() for i in range(core.length)]

"""Cross-implementation reads over Hyperswarm on a local DHT: a JS-written bee read by hyperpunch
and a hyperpunch-written bee read by JS give identical results on 500 random get / range / history
/ diff queries (250 each way), and the reader sees the writer's later puts (live)."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hypercore_swarm.core_helpers import JsPeer, eventually, local_dht, py_peer
from hyperpunch.hyperbee import Hyperbee
from jsref import spawn_node

pytestmark = pytest.mark.interop


@contextlib.asynccontextmanager
async def js_bee(
    bootstrap: str, key: bytes | None = None, **extra: Any
) -> AsyncIterator[tuple[JsPeer, dict[str, Any]]]:
    opts: dict[str, Any] = {"bootstrap": [bootstrap], **extra}
    if key is not None:
        opts["key"] = key.hex()
    async with spawn_node("hyperbee-swarm-peer.js", json.dumps(opts)) as proc:
        peer = JsPeer(proc)
        try:
            ready = await peer.expect("ready")
            await peer.expect("flushed")
            yield peer, ready
        finally:
            await peer.close()


def gen_writes(rng: random.Random, n_put: int, n_del: int) -> tuple[list[list[Any]], list[str]]:
    keys = sorted({rng.randbytes(rng.randint(1, 12)).hex() for _ in range(n_put)})
    ops: list[list[Any]] = [["put", k, rng.randbytes(rng.randint(0, 20)).hex()] for k in keys]
    rng.shuffle(ops)
    for k in rng.sample(keys, n_del):
        ops.append(["del", k])
    return ops, keys


def gen_queries(
    rng: random.Random, keys: list[str], version: int, n: int, versions: list[int]
) -> list[dict[str, Any]]:
    """``versions``: the versions at batch ends (a checkout inside a batch has no root in JS either)."""
    out: list[dict[str, Any]] = []

    def key() -> str:
        return rng.choice(keys) if rng.random() < 0.7 else rng.randbytes(rng.randint(1, 8)).hex()

    for _ in range(n):
        t = rng.choice(["get", "get", "range", "history", "diff"])
        q: dict[str, Any] = {"type": t}
        if t == "get":
            q["key"] = key()
        elif t == "range":
            a, b = sorted([key(), key()])
            q[rng.choice(["gt", "gte"])] = a
            if rng.random() < 0.8:
                q[rng.choice(["lt", "lte"])] = b
            q["reverse"] = rng.random() < 0.3
            if rng.random() < 0.5:
                q["limit"] = rng.randint(1, 40)
        elif t == "history":
            lo = rng.randint(1, version - 1)
            q["gte"] = lo
            q["lt"] = rng.randint(lo, min(version, lo + 60))
            q["reverse"] = rng.random() < 0.3
        else:
            q["other"] = rng.choice(versions)
            if rng.random() < 0.5:
                a, b = sorted([key(), key()])
                q["gte"], q["lt"] = a, b
        out.append(q)
    return out


def _e(e: Any) -> Any:
    return None if e is None else [e.seq, e.key.hex(), None if e.value is None else e.value.hex()]


def _b(q: dict[str, Any], name: str) -> bytes | None:
    v = q.get(name)
    return None if v is None else bytes.fromhex(v)


async def run_query(snap: Hyperbee, q: dict[str, Any]) -> Any:
    t = q["type"]
    if t == "get":
        return _e(await snap.get(bytes.fromhex(q["key"])))
    if t == "history":
        return [
            [h.type, h.seq, h.key.hex(), None if h.value is None else h.value.hex()]
            async for h in snap.history(gte=q["gte"], lt=q["lt"], reverse=bool(q.get("reverse")))
        ]
    rng = {k: _b(q, k) for k in ("gt", "gte", "lt", "lte")}
    if t == "range":
        return [
            _e(e)
            async for e in snap.range(
                gt=rng["gt"],
                gte=rng["gte"],
                lt=rng["lt"],
                lte=rng["lte"],
                reverse=bool(q.get("reverse")),
                limit=q.get("limit", -1),
            )
        ]
    diff = snap.diff(q["other"], gt=rng["gt"], gte=rng["gte"], lt=rng["lt"], lte=rng["lte"])
    return [[_e(d.left), _e(d.right)] async for d in diff]


async def test_js_writer_python_reader(tmp_path: Any) -> None:
    rng = random.Random(1)
    async with local_dht() as bs, js_bee(bs) as (js, ready):
        ops, keys = gen_writes(rng, 1500, 300)
        versions = [1]
        for i in range(0, len(ops), 400):
            version = (await js.call({"cmd": "write", "ops": ops[i : i + 400]}, "written"))["version"]
            versions.append(version)
        key = bytes.fromhex(ready["key"])
        async with py_peer(bs, key=key) as core:
            db = Hyperbee(core, close_core=False)
            await db.ready()
            await eventually(lambda: bool(core.peers), what="the JS writer")
            while core.length < version:
                await core.update()
            queries = gen_queries(rng, keys, version, 250, versions)
            expected = (
                await js.call({"cmd": "query", "version": version, "queries": queries}, "results", 120)
            )["results"]
            snap = db.checkout(version)
            got = [await run_query(snap, q) for q in queries]
            await snap.aclose()
            for q, g, x in zip(queries, got, expected, strict=True):
                assert g == x, q
            # live: a later put is seen by the reader
            await js.call({"cmd": "write", "ops": [["put", "ff00", "beef"]]}, "written")
            found: list[Any] = []

            async def probe() -> bool:
                found.append(await db.get(b"\xff\x00"))
                return found[-1] is not None

            for _ in range(100):
                if await probe():
                    break
            assert found[-1] is not None and found[-1].value == b"\xbe\xef"
            await db.aclose()


async def test_python_writer_js_reader() -> None:
    rng = random.Random(2)
    async with local_dht() as bs, py_peer(bs) as core:
        db = Hyperbee(core, close_core=False)
        await db.ready()
        ops, keys = gen_writes(rng, 1500, 300)
        versions = [1]
        for i in range(0, len(ops), 400):
            versions.append(db.version)
            async with db.batch() as b:
                for op in ops[i : i + 400]:
                    if op[0] == "put":
                        await b.put(bytes.fromhex(op[1]), bytes.fromhex(op[2]))
                    else:
                        await b.delete(bytes.fromhex(op[1]))
        version = db.version
        assert core.key is not None
        async with js_bee(bs, core.key) as (js, _):
            await js.call({"cmd": "wait-version", "version": version}, "version", 120)
            queries = gen_queries(rng, keys, version, 250, versions)
            snap = db.checkout(version)
            expected = [await run_query(snap, q) for q in queries]
            await snap.aclose()
            got = (await js.call({"cmd": "query", "version": version, "queries": queries}, "results", 120))[
                "results"
            ]
            for q, g, x in zip(queries, got, expected, strict=True):
                assert g == x, q
            # live: a later put is seen by the JS reader
            await db.put(b"\xff\x01", b"\x01\x02")
            await js.call({"cmd": "wait-version", "version": db.version}, "version", 60)
            res = (await js.call({"cmd": "get", "key": "ff01"}, "results"))["results"][0]
            assert res == [db.version - 1, "ff01", "0102"]
        await db.aclose()

"""Corestore behaviour on one machine: primary key persistence, named cores, namespaces, sessions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hyperpunch import crypto
from hyperpunch.corestore import (
    Corestore,
    CorestoreClosedError,
    InvalidCoreOptionsError,
    PrimaryKeyCorruptError,
    PrimaryKeyMismatchError,
    StorageEmptyError,
    UnsafePrimaryKeyError,
    generate_namespace,
    load_or_create_primary_key,
)
from hyperpunch.corestore.primary_key import FILE_NAME, encode_primary_key
from hyperpunch.corestore.store import CORES_DIR, STORE_DB
from hyperpunch.hypercore import Hypercore
from refvectors import section

V: dict[str, Any] = section("corestore")
PK = bytes.fromhex(V["cases"][0]["primaryKey"])


def _case(name: str, path: list[str]) -> dict[str, Any]:
    for c in V["cases"]:
        if c["primaryKey"] == PK.hex() and c["name"] == name and c["namespacePath"] == path:
            found: dict[str, Any] = c
            return found
    raise KeyError(name)


async def test_store_gives_js_keys(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as store:
        core = await store.get(name="main")
        assert core.key is not None and core.key.hex() == _case("main", [])["key"]
        assert (
            core.discovery_key is not None and core.discovery_key.hex() == _case("main", [])["discoveryKey"]
        )
        assert core.writable
        inner = store.namespace("ns").namespace("inner")
        c2 = await inner.get(name="long")
        assert c2.key is not None and c2.key.hex() == _case("long", ["ns", "inner"])["key"]
        kp = await inner.create_key_pair("long")
        assert kp.public_key.hex() == _case("long", ["ns", "inner"])["publicKey"]
        # an empty name is no name (JS refuses it too)
        with pytest.raises(InvalidCoreOptionsError):
            await store.get(name="")


async def test_key_pair_core_matches_js(tmp_path: Path) -> None:
    fk = V["fromKeyPair"]
    async with Corestore(tmp_path / "s") as store:
        core = await store.get(key_pair=crypto.key_pair(bytes.fromhex(fk["seed"])))
        assert core.key is not None and core.key.hex() == fk["key"]
        assert core.discovery_key is not None and core.discovery_key.hex() == fk["discoveryKey"]
        assert core.writable


async def test_reopen_same_keys_and_data(tmp_path: Path) -> None:
    d = tmp_path / "s"
    async with Corestore(d) as store:
        pk = store.primary_key
        a = await store.get(name="a")
        await a.append([b"one", b"two"])
        key_a = a.key
        b = await store.namespace("x").get(name="a")
        key_b = b.key
        assert key_a != key_b
    assert (d / FILE_NAME).is_file()
    async with Corestore(d) as store:
        assert store.primary_key == pk
        a = await store.get(name="a")
        assert a.key == key_a and a.length == 2 and a.writable
        assert await a.get(1) == b"two"
        b = await store.namespace("x").get(name="a")
        assert b.key == key_b
        # by key only: same core, opened from storage
        assert len(store.list()) == 2
        assert {k.hex() for k in store.list()} == {a.discovery_key.hex(), b.discovery_key.hex()}  # type: ignore[union-attr]


async def test_one_database_per_store_and_older_core_directories(tmp_path: Path) -> None:
    """Every core of a store lives in ``corestore.db``; a core an older version stored in its own
    ``cores/<discovery key>/`` directory still opens from there, alongside the others."""
    d = tmp_path / "s"
    async with Corestore(d) as store:
        a = await store.get(name="a")
        await a.append(b"in the store database")
        dk_a = a.discovery_key
    assert (d / STORE_DB).is_file() and not (d / CORES_DIR).exists()
    key_pair = crypto.key_pair(b"\x07" * 32)
    async with Hypercore(d / CORES_DIR / "pending", key_pair=key_pair) as old:
        await old.append(b"in its own directory")
        dk_old = old.discovery_key
        key_old = old.key
    assert dk_old is not None and dk_a is not None
    (d / CORES_DIR / "pending").rename(d / CORES_DIR / dk_old.hex())
    async with Corestore(d) as store:
        assert set(store.list()) == {dk_a, dk_old}
        assert store.has_core(dk_old) and store.has_core(dk_a)
        old_again = await store.get(key_old)
        assert await old_again.get(0) == b"in its own directory" and old_again.writable
        a = await store.get(name="a")
        assert await a.get(0) == b"in the store database"


async def test_get_by_key_and_discovery_key(tmp_path: Path) -> None:
    d = tmp_path / "s"
    async with Corestore(d) as store:
        a = await store.get(name="a")
        await a.append(b"hello")
        key, dk = a.key, a.discovery_key
        assert key is not None and dk is not None
        await a.aclose()
        by_key = await store.get(key)
        assert by_key.length == 1 and by_key.writable  # the stored key pair comes back
        by_hex = await store.get(key.hex())
        assert by_hex.core is by_key.core
        by_dk = await store.get(discovery_key=dk)
        assert by_dk.core is by_key.core and by_dk.key == key
        with pytest.raises(StorageEmptyError):
            await store.get(discovery_key=b"\x05" * 32)
        with pytest.raises(InvalidCoreOptionsError):
            await store.get()
        with pytest.raises(InvalidCoreOptionsError):
            await store.get("zz" * 32)
        with pytest.raises(InvalidCoreOptionsError):
            await store.get(b"\x01" * 31)
        # a remote-style key we do not have: created read-only on demand, or refused
        other = crypto.hash(b"other")
        with pytest.raises(StorageEmptyError):
            await store.get(other, create_if_missing=False)
        assert crypto.discovery_key(other) not in store.list()
        ro = await store.get(other)
        assert not ro.writable and ro.length == 0


async def test_sessions_share_one_core(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s") as store:
        s1 = await store.get(name="a")
        s2 = await store.get(name="a")
        s3 = await store.session().get(name="a")
        assert s1.core is s2.core is s3.core
        seen: list[int] = []
        s2.on("append", lambda: seen.append(s2.length))
        await s1.append(b"x")
        assert seen == [1] and s3.length == 1
        core = s1.core
        await s1.aclose()
        await s2.aclose()
        assert not core.closed  # s3 still uses it
        assert s3.length == 1
        await s3.aclose()
        # the core closes once its last session is gone, and reopens on demand
        s4 = await store.get(name="a")
        assert s4.length == 1 and await s4.get(0) == b"x"


async def test_view_close_only_closes_its_sessions(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s") as store:
        view = store.session()
        ns = store.namespace("n")
        a = await store.get(name="a")
        va = await view.get(name="a")
        nb = await ns.get(name="b")
        assert ns.ns == generate_namespace(store.ns, "n")
        await view.aclose()
        assert va.closed and not a.closed
        with pytest.raises(CorestoreClosedError):
            await view.get(name="a")
        await a.append(b"still")
        await store.aclose()
        assert a.closed and nb.closed
        with pytest.raises(CorestoreClosedError):
            await ns.get(name="b")
        with pytest.raises(CorestoreClosedError):
            store.namespace("again")


async def test_memory_store() -> None:
    async with Corestore(None) as store:
        a = await store.get(name="a")
        await a.append([b"1", b"2", b"3"])
        key = a.key
        await a.aclose()
        again = await store.get(name="a")
        assert again.key == key and again.length == 3
        assert store.list() == [again.discovery_key]


async def test_explicit_primary_key_rules(tmp_path: Path) -> None:
    with pytest.raises(UnsafePrimaryKeyError):
        Corestore(tmp_path / "s", primary_key=PK)
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as store:
        assert store.primary_key == PK
    async with Corestore(tmp_path / "s") as store:
        assert store.primary_key == PK
    with pytest.raises(PrimaryKeyMismatchError):
        async with Corestore(tmp_path / "s", primary_key=b"\x09" * 32, unsafe=True):
            pass


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-1],
        lambda b: b + b"\x00",
        lambda b: b"XXXX" + b[4:],
        lambda b: b[:4] + b"\x02" + b[5:],
        lambda b: b[:10] + bytes([b[10] ^ 1]) + b[11:],
        lambda b: b"",
    ],
    ids=["short", "long", "magic", "version", "bitflip", "empty"],
)
async def test_corrupt_primary_key_refused(tmp_path: Path, damage: Any) -> None:
    d = tmp_path / "s"
    async with Corestore(d) as store:
        await store.get(name="a")
    path = d / FILE_NAME
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(PrimaryKeyCorruptError):
        async with Corestore(d):
            pass
    with pytest.raises(PrimaryKeyCorruptError):
        load_or_create_primary_key(d)


def test_primary_key_first_writer_wins(tmp_path: Path) -> None:
    k1 = load_or_create_primary_key(tmp_path, b"\x01" * 32)
    k2 = load_or_create_primary_key(tmp_path, b"\x02" * 32)
    assert k1 == k2 == b"\x01" * 32
    assert (tmp_path / FILE_NAME).read_bytes() == encode_primary_key(k1)
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]  # no temporary file left


async def test_closed_store_refuses(tmp_path: Path) -> None:
    store = Corestore(tmp_path / "s")
    await store.ready()
    await store.aclose()
    with pytest.raises(CorestoreClosedError):
        await store.get(name="a")
    with pytest.raises(CorestoreClosedError):
        store.session()


async def test_derived_session_keeps_core_open(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s") as store:
        s1 = await store.get(name="a")
        sub = s1.session()
        await s1.aclose()
        await sub.append(b"via sub-session")  # the core is still open for it
        again = await store.get(name="a")
        assert again.core is sub.core and again.length == 1
        await sub.aclose()
        await again.aclose()
    assert sub.closed


async def test_close_while_opening(tmp_path: Path) -> None:
    store = Corestore(tmp_path / "s")
    await store.ready()
    opening = [asyncio.ensure_future(store.get(name=f"c{i}")) for i in range(5)]
    await asyncio.sleep(0)
    await asyncio.wait_for(store.aclose(), 20)
    results = await asyncio.gather(*opening, return_exceptions=True)
    for r in results:  # each either failed as closed, or was opened and then closed with the store
        assert isinstance(r, CorestoreClosedError) or (not isinstance(r, BaseException) and r.closed)

"""Autobase block encryption (``encryption_key``) against JS autobase 7.28.1: the vectors of
section ``autobase_encryption`` (a JS run with a fixed encryption key under a fixed store primary
key) give the derived block keys, the stored bytes of the first local, view and system blocks and
the view and system cores; Python, making the same run, must store the same bytes and derive the
same cores. Plus: two Python writers of one encrypted base converge, and a peer with a wrong key
or none fails with a typed error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_autobase_js_reader import bee_apply, open_bee
from test_base import apply, open_view, values

from hyperpunch.autobase import Autobase, AutobaseLocalError, EncryptionKeyError, MemoryView, ViewStore, keys
from hyperpunch.autobase.encryption import BaseEncryption, StoredTree, view_block_key, writer_block_key
from hyperpunch.autobase.messages import oplog_message
from hyperpunch.corestore import Corestore
from hyperpunch.encoding import decode
from hyperpunch.hypercore.encryption import DefaultEncryption
from refvectors import section

V: dict[str, Any] = section("autobase_encryption")
ENC = V["encrypted"]
PLAIN = V["plain"]
KEY = bytes.fromhex(ENC["encryptionKey"])


def make(store: Corestore, bootstrap: bytes | None = None, key: bytes | None = KEY) -> Autobase:
    return Autobase(
        store,
        bootstrap,
        open=open_view,
        apply=apply,
        value_encoding="json",
        ack_interval=0,
        encryption_key=key,
    )


def test_block_keys_are_js() -> None:
    base_key = bytes.fromhex(ENC["key"])
    assert ENC["localManifestVersion"] == ENC["viewManifestVersion"] == ENC["systemManifestVersion"] == 1
    assert writer_block_key(KEY, bytes.fromhex(ENC["local"])).hex() == ENC["writerBlockKey"]
    crypt = BaseEncryption(base_key, KEY)
    assert crypt.writer(bytes.fromhex(ENC["local"])).blinding_key.hex() == ENC["writerBlindingKey"]
    for name, expected in ENC["viewBlockKeys"].items():
        assert view_block_key(base_key, KEY, name).hex() == expected
    # the stored view and system blocks are the plain ones encrypted with the view keys (fork 0)
    for name, blocks in (("view", ENC["view"]["blocks"]), ("_system", ENC["system"]["blocks"])):
        for i, b in enumerate(blocks):
            assert crypt.encrypt_view_block(name, i, bytes.fromhex(b["plain"])).hex() == b["raw"]
    # JS's local writer blocks: Python's writer cipher stores the same bytes and reads them back
    local = bytes.fromhex(ENC["local"])
    for i, b in enumerate(ENC["localBlocks"]):
        assert crypt.writer(local).encrypt(i, bytes.fromhex(b["plain"]), 0).hex() == b["raw"]
        assert crypt.decrypt_writer_block(local, i, bytes.fromhex(b["raw"])).hex() == b["plain"]


@pytest.mark.parametrize("run", [ENC, PLAIN], ids=["encrypted", "plain"])
async def test_same_run_stores_js_bytes(tmp_path: Path, run: dict[str, Any]) -> None:
    """Python appends what JS appended (same primary key, same key or none): its local blocks
    are stored encrypted with JS's writer key (Python's oplog blocks themselves are not JS's
    byte for byte: Python checkpoints from the first block, JS from a later one), and the view
    and system cores are JS's (key, length, tree hash: the tree hashes are of the encrypted
    blocks)."""
    key = None if run["encryptionKey"] is None else bytes.fromhex(run["encryptionKey"])
    primary = bytes.fromhex(run["primaryKey"])
    async with Corestore(tmp_path / "s", primary_key=primary, unsafe=True) as store:
        base = make(store, key=key)
        await base.ready()
        try:
            assert base.encryption_key == key
            assert base.key is not None and base.key.hex() == run["key"]
            for v in run["values"]:
                await base.append(v)
            await base.update()
            assert base.local is not None
            assert base.local.padding == (0 if key is None else 8)
            assert base.local.length == len(run["localBlocks"])
            for i in range(base.local.length):
                stored = await base.local.get(i, raw=True)
                plain = await base.local.get(i, value_encoding="binary")
                if key is None:
                    assert stored == plain
                    continue
                # the block stored is the plain block under JS's writer key (fork 0)
                js_key = bytes.fromhex(run["writerBlockKey"])
                assert DefaultEncryption(js_key, b"", block=True).encrypt(i, plain, 0) == stored
                assert stored[8:] != plain
            view = await base.view_core("view")
            assert (view.key.hex(), view.length, view.tree_hash.hex()) == (
                run["view"]["key"],
                run["view"]["length"],
                run["view"]["treeHash"],
            )
            sys_info = await base.system_core()
            assert (sys_info.key.hex(), sys_info.length, sys_info.tree_hash.hex()) == (
                run["system"]["key"],
                run["system"]["indexedLength"],
                run["system"]["treeHash"],
            )
        finally:
            await base.aclose()


def test_encrypted_and_plain_cores_differ() -> None:
    """The key is hashed into the view namespaces: other view and system cores."""
    assert ENC["key"] == PLAIN["key"]
    assert ENC["view"]["key"] != PLAIN["view"]["key"]
    assert ENC["system"]["key"] != PLAIN["system"]["key"]


async def test_two_python_writers_of_an_encrypted_base_converge(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=bytes([3]) * 32, unsafe=True) as root:
        a = make(root.namespace("a"))
        await a.ready()
        assert a.key is not None
        b = make(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": True})
            await a.append({"from": "a"})
            await b.update()
            assert b.writable
            await b.append({"from": "b"})
            for _ in range(3):
                await a.update()
                await a.ack()
                await b.update()
                await b.ack()
            await a.update()
            assert await values(a.view) == await values(b.view)
            assert len(await values(a.view)) == 2
            assert a.indexers == b.indexers == [a.key, b.local.key]
            for name in ("view",):
                ia, ib = await a.view_core(name), await b.view_core(name)
                assert ia == ib and ia.length == 2
            assert await a.system_core() == await b.system_core()
            # what b's core stores is ciphertext: it does not decode as an oplog message
            raw = await b.local.get(0, raw=True)
            with pytest.raises(Exception):  # noqa: B017 - any decode failure
                decode(oplog_message, raw)
            assert decode(oplog_message, await b.local.get(0, value_encoding="binary")).node is not None
        finally:
            await a.aclose()
            await b.aclose()


@pytest.mark.parametrize("other", [bytes([8]) * 32, None], ids=["wrong-key", "no-key"])
async def test_a_peer_with_a_wrong_key_or_none_fails_clearly(tmp_path: Path, other: bytes | None) -> None:
    async with Corestore(tmp_path / "s", primary_key=bytes([4]) * 32, unsafe=True) as root:
        a = make(root.namespace("a"))
        await a.ready()
        assert a.key is not None
        await a.append({"from": "a"})
        b = make(root.namespace("b"), a.key, key=other)
        await b.ready()
        try:
            with pytest.raises(EncryptionKeyError):
                await b.update()
            assert await values(b.view) == []
            assert b.indexed == []
        finally:
            await a.aclose()
            await b.aclose()


async def test_encrypt_derives_js_key_and_a_reopen_needs_no_key(tmp_path: Path) -> None:
    """``encrypt=True`` and no key: the key JS derives from the store (kept in the local core's
    user data, as JS); reopened with no key the base is still encrypted with it and reads its
    own blocks back."""
    gen = V["generated"]
    async with Corestore(tmp_path / "s", primary_key=bytes.fromhex(gen["primaryKey"]), unsafe=True) as store:
        base = Autobase(
            store, open=open_view, apply=apply, value_encoding="json", ack_interval=0, encrypt=True
        )
        await base.ready()
        assert base.local is not None
        assert base.encryption_key is not None and base.encryption_key.hex() == gen["encryptionKey"]
        assert (await base.local.get_user_data("autobase/encryption") or b"").hex() == gen["localUserData"]
        await base.append("v0")
        await base.append("v1")
        key, view = base.key, await base.view_core("view")
        await base.aclose()
    async with Corestore(tmp_path / "s", primary_key=bytes.fromhex(gen["primaryKey"]), unsafe=True) as store:
        again = make(store, key=None)
        await again.ready()
        try:
            assert again.key == key
            assert again.encryption_key is not None and again.encryption_key.hex() == gen["encryptionKey"]
            assert await values(again.view) == ["v0", "v1"]
            assert await again.view_core("view") == view
            await again.append("v2")
            assert await values(again.view) == ["v0", "v1", "v2"]
        finally:
            await again.aclose()


async def test_encrypted_without_a_key_is_refused(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=bytes([2]) * 32, unsafe=True) as store:
        base = Autobase(store, open=open_view, apply=apply, ack_interval=0, encrypted=True)
        with pytest.raises(AutobaseLocalError):
            await base.ready()
        await base.aclose()


def test_stored_tree_hashes_as_a_pass_over_every_block() -> None:
    """The incremental tree of the stored blocks: every prefix's hash is the hash of all the
    stored blocks, through appends, a truncation and a sync that changes a middle block."""
    crypt = BaseEncryption(bytes(32), KEY)

    def cipher(i: int, b: bytes) -> bytes:
        return crypt.encrypt_view_block("v", i, b)

    def expected(blocks: list[bytes], n: int) -> bytes:
        return keys.tree_hash([cipher(i, b) for i, b in enumerate(blocks[:n])])

    tree = StoredTree(cipher)
    blocks = [bytes([i]) * (i + 1) for i in range(13)]
    for b in blocks:
        tree.append(b)
    assert all(tree.tree_hash(n) == expected(blocks, n) for n in range(14))
    tree.truncate(6)
    blocks = blocks[:6] + [b"x" * i for i in range(1, 9)]
    for b in blocks[6:]:
        tree.append(b)
    assert all(tree.tree_hash(n) == expected(blocks, n) for n in range(15))
    blocks[4] = b"changed"
    tree.sync(blocks[:10])
    assert tree.length == 10
    assert all(tree.tree_hash(n) == expected(blocks, n) for n in range(11))
    with pytest.raises(AutobaseLocalError):
        tree.tree_hash(11)


def test_the_key_must_be_32_bytes(tmp_path: Path) -> None:
    with pytest.raises(AutobaseLocalError):
        Autobase(None, open=open_view, apply=apply, encryption_key=b"short")  # type: ignore[arg-type]


async def test_reordered_hyperbee_views_hash_their_stored_blocks(tmp_path: Path) -> None:
    """Two Python writers of an encrypted base with Hyperbee views write concurrently (the
    views are truncated and re-applied on reorders): each tip tree hash is that of every
    view block encrypted afresh, and both end on the same view and system cores."""
    async with Corestore(tmp_path / "s", primary_key=bytes([7]) * 32, unsafe=True) as root:

        def bee(store: Corestore, bootstrap: bytes | None = None) -> Autobase:
            return Autobase(
                store,
                bootstrap,
                open=open_bee,
                apply=bee_apply,
                value_encoding="json",
                ack_interval=0,
                encryption_key=KEY,
            )

        a = bee(root.namespace("a"))
        await a.ready()
        assert a.key is not None
        b = bee(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": True})
            await b.update()
            crypt = BaseEncryption(a.key, KEY)
            for i in range(6):  # concurrent batches: each update reorders the other's nodes in
                await a.append([{"put": f"k{i}", "value": "a"}, {"put": f"a{i}", "value": i}])
                await b.append([{"put": f"k{i}", "value": "b"}, {"del": f"a{i - 1}"}])
                for base in (a, b):
                    await base.update()
                    core = base.view.core
                    info = await base.view_core("view", tip=True)
                    stored = [
                        crypt.encrypt_view_block("view", j, await core.get(j, raw=True))
                        for j in range(info.length)
                    ]
                    assert info.length == core.length and info.tree_hash == keys.tree_hash(stored)
            for _ in range(3):
                await a.ack()
                await b.update()
                await b.ack()
                await a.update()
            assert await a.view_core("view") == await b.view_core("view")
            assert await a.system_core() == await b.system_core()
            assert a.reboots == b.reboots >= 2
            assert a.view.core.fork > 0 and b.view.core.fork > 0  # the views were truncated
        finally:
            await a.aclose()
            await b.aclose()


@pytest.mark.parametrize("kind", ["memory", "core"])
async def test_view_store_hashes_follow_truncations(kind: str) -> None:
    """An encrypted base's view tree hashes after truncations (through the view store, and
    behind its back on the view itself) and different blocks appended in their place."""
    crypt = BaseEncryption(bytes(32), KEY)
    views = ViewStore()
    views.cipher = crypt.encrypt_view_block
    view = views.get("v") if kind == "memory" else views.core("v")
    await views.ready()

    async def check() -> None:
        blocks = (
            view.blocks()
            if isinstance(view, MemoryView)
            else [await view.get(i, raw=True) for i in range(view.length)]
        )
        for n in range(len(blocks) + 1):
            want = keys.tree_hash([crypt.encrypt_view_block("v", i, b) for i, b in enumerate(blocks[:n])])
            assert await views.tree_hash("v", n) == want

    try:
        for i in range(7):
            await view.append(b"first %d" % i)
        await check()
        await views.truncate([3])
        for i in range(5):
            await view.append(b"second %d" % i)
        await check()
        view.truncate(5) if isinstance(view, MemoryView) else await view.truncate(5)
        for i in range(4):  # past the length the hashes were last taken at
            await view.append(b"third %d" % i)
        await check()
    finally:
        await views.aclose()

"""JS <-> Python as writers of one base with a Hyperbee view (the acceptance scenario of issue 13,
over a direct secret stream): a JS peer creates the base and adds the Python peer as an indexer
through an app message; both put and delete concurrently; after acks both bees hold the same
entries and the view core Python derives (key, indexed length, Merkle tree hash) is the one JS
has; so is the indexed system core (key, length, tree hash: Python writes JS's ``_system``
Hyperbee), and JS's signed lengths of the system and view cores (a quorum of both indexers'
checkpoints, so the Python indexer's signatures among them) cover the whole view. The mirror
case too: Python creates the base and adds the JS peer. Each also with block encryption (both
peers given one ``encryption_key``: every writer core is stored encrypted, and the view and system
cores are JS's encrypted cores)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from test_autobase_js_reader import bee_apply, open_bee

from hyperpunch.autobase import Autobase, EncryptionKeyError
from hyperpunch.corestore import Corestore
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore
from hyperpunch.secretstream import SecretStream
from jsref import spawn_node

PK = bytes([6]) * 32
ENCRYPTION_KEY = bytes(range(32))


async def entries(bee: Hyperbee) -> list[list[Any]]:
    return [[e.key, e.value] async for e in bee.range()]


ROUNDS = 30  # ack rounds at most before the views must agree


async def same_system(base: Autobase, state: dict[str, Any]) -> bool:
    """Whether the system core Python wrote is JS's: same key, indexed length and tree hash."""
    sys_info = await base.system_core()
    n = state["systemIndexedLength"]
    return (sys_info.key.hex(), sys_info.length, sys_info.tree_hash.hex()) == (
        state["systemKey"],
        n,
        state["systemIndexedTreeHash"],
    )


async def same_view(base: Autobase, state: dict[str, Any]) -> bool:
    """Whether the Python base shows the JS peer's entries, view core (key, length, tree hash)
    and system core, and JS's signed lengths cover the view."""
    info = await base.view_core("view")
    return (
        await entries(base.view) == state["entries"]
        and (info.key.hex(), info.length, info.tree_hash.hex())
        == (state["viewKey"], state["viewLength"], state["viewTreeHash"])
        and await same_system(base, state)
        and state["viewSignedLength"] == state["viewLength"]
        and state["systemSignedLength"] > 0
    )


async def check_signed(base: Autobase, state: dict[str, Any]) -> None:
    """The system core Python wrote is JS's, and JS committed the indexers' signatures."""
    assert await same_system(base, state)
    assert state["viewSignedLength"] == state["viewLength"]
    assert 0 < state["systemSignedLength"] <= state["systemIndexedLength"]
    # Python's own signed length (the indexers' checkpoints, verified against its system core)
    assert base.signed_length == state["systemSignedLength"]


async def until_length(core: Hypercore, length: int) -> None:
    """Wait (event-driven, bounded) until ``core`` has replicated ``length`` blocks: the JS peer
    appended them, the upgrade may still be on its way."""
    grew = asyncio.Event()

    def on_append(*_: Any) -> None:
        grew.set()

    off = core.on("append", on_append)
    try:
        while core.length < length:
            grew.clear()
            await asyncio.wait_for(grew.wait(), 30)
    finally:
        off()


async def check_encrypted(base: Autobase, state: dict[str, Any], key: bytes | None) -> None:
    """Both peers run with ``key``; an encrypted writer core stores padded ciphertext."""
    assert base.encryption_key == key
    assert state["encryptionKey"] == (None if key is None else key.hex())
    assert base.local is not None and base.local.length > 0
    assert base.local.padding == (0 if key is None else 8)
    stored = await base.local.get(0, raw=True)
    plain = await base.local.get(0, value_encoding="binary")
    assert (stored == plain) == (key is None)


@pytest.mark.parametrize("key", [None, ENCRYPTION_KEY], ids=["plain", "encrypted"])
async def test_js_creates_python_indexer_writes_concurrently(tmp_path: Path, key: bytes | None) -> None:
    opts = {} if key is None else {"encryptionKey": key.hex()}
    async with spawn_node("autobase-bee-peer.js", json.dumps(opts)) as js:
        ready = await js.expect("ready")

        async def js_do(cmd: dict[str, Any], event: str) -> dict[str, Any]:
            await js.send(cmd)
            return await js.expect(event)

        async with Corestore(tmp_path / "py", primary_key=PK, unsafe=True) as root:
            stream = await SecretStream.connect("127.0.0.1", ready["port"])
            mux = root.replicate(stream)
            base = Autobase(
                root,
                bytes.fromhex(ready["key"]),
                open=open_bee,
                apply=bee_apply,
                value_encoding="json",
                ack_interval=0,
                encryption_key=key,
            )
            await base.ready()
            js_core = await root.get(key=bytes.fromhex(ready["key"]))
            try:
                assert base.local is not None and base.local.key is not None and not base.writable
                add = {"add": base.local.key.hex(), "indexer": True}
                await js_do({"cmd": "append", "values": [add, {"put": "k0", "value": "js"}]}, "appended")
                for _ in range(20):  # until the JS blocks arrive (JS's update rounds pace it)
                    await base.update(wait=True)
                    if base.writable:
                        break
                    await js_do({"cmd": "update", "rounds": 1}, "updated")
                assert base.writable
                # concurrent: neither has seen the other's batch
                await js_do(
                    {"cmd": "append", "values": [{"put": "k1", "value": "js"}, {"del": "k0"}]}, "appended"
                )
                await base.append([{"put": "k0", "value": "py"}, {"put": "k2", "value": 2}, {"del": "k1"}])
                state: dict[str, Any] = {}
                for _ in range(ROUNDS):  # ack rounds until both sides agree (replication paces them)
                    await js_do({"cmd": "update"}, "updated")
                    acked = await js_do({"cmd": "ack"}, "acked")
                    await until_length(js_core, acked["length"])
                    await base.update()
                    await base.ack()
                    await js_do({"cmd": "update"}, "updated")
                    await base.update()
                    state = await js_do({"cmd": "state"}, "state")
                    if await same_view(base, state):
                        break
                assert (
                    [k.hex() for k in base.indexers]
                    == state["indexers"]
                    == [ready["key"], base.local.key.hex()]
                )
                assert await entries(base.view) == state["entries"]
                info = await base.view_core("view")
                assert (info.key.hex(), info.length, info.tree_hash.hex()) == (
                    state["viewKey"],
                    state["viewLength"],
                    state["viewTreeHash"],
                )
                await check_signed(base, state)
                await check_encrypted(base, state, key)
            finally:
                await js_core.aclose()
                await base.aclose()
                await mux.aclose()
        await js.send({"cmd": "exit"})
        await js.expect("closed")
        assert await js.wait() == 0


@pytest.mark.parametrize(
    ("js_indexer", "key"),
    [(True, None), (False, None), (True, ENCRYPTION_KEY)],
    ids=["js-indexer", "js-writer", "js-indexer-encrypted"],
)
async def test_python_creates_js_writes_concurrently(
    tmp_path: Path, js_indexer: bool, key: bytes | None
) -> None:
    """The mirror case: Python creates the base and adds the JS peer (as an indexer, or as a
    plain writer so the Python peer is the only indexer, as in the todo app); both put and
    delete concurrently, then ack: same entries and the same view core (key, length, tree hash)
    in both, the system core Python wrote is JS's and JS's signed lengths cover the view (with
    Python as the only indexer, by Python's signatures alone)."""
    async with Corestore(tmp_path / "py", primary_key=PK, unsafe=True) as root:
        base = Autobase(
            root,
            None,
            open=open_bee,
            apply=bee_apply,
            value_encoding="json",
            ack_interval=0,
            encryption_key=key,
        )
        await base.ready()
        assert base.key is not None and base.local is not None
        opts = {"key": base.key.hex()} | ({} if key is None else {"encryptionKey": key.hex()})
        async with spawn_node("autobase-bee-peer.js", json.dumps(opts)) as js:
            ready = await js.expect("ready")

            async def js_do(cmd: dict[str, Any], event: str) -> dict[str, Any]:
                await js.send(cmd)
                return await js.expect(event)

            stream = await SecretStream.connect("127.0.0.1", ready["port"])
            mux = root.replicate(stream)
            js_core = await root.get(key=bytes.fromhex(ready["local"]))
            try:
                await base.append(
                    [{"add": ready["local"], "indexer": js_indexer}, {"put": "k0", "value": "py"}]
                )
                for _ in range(20):  # until JS has the add (its update rounds pace it)
                    await js_do({"cmd": "update", "rounds": 1}, "updated")
                    if (await js_do({"cmd": "state"}, "state"))["writable"]:
                        break
                # concurrent: neither has seen the other's batch
                appended = await js_do(
                    {"cmd": "append", "values": [{"put": "k1", "value": "js"}, {"del": "k0"}]}, "appended"
                )
                await base.append([{"put": "k0", "value": "again"}, {"put": "k2", "value": 2}, {"del": "k1"}])
                await until_length(js_core, appended["length"])
                state: dict[str, Any] = {}
                for _ in range(ROUNDS):  # ack rounds until both sides agree (replication paces them)
                    await base.update()
                    await base.ack()
                    await js_do({"cmd": "update"}, "updated")
                    acked = await js_do({"cmd": "ack"}, "acked")
                    await until_length(js_core, acked["length"])
                    await base.update()
                    await base.ack()
                    await js_do({"cmd": "update"}, "updated")
                    state = await js_do({"cmd": "state"}, "state")
                    if await same_view(base, state):
                        break
                assert state["writable"]
                indexers = [base.key.hex(), ready["local"]] if js_indexer else [base.key.hex()]
                assert [k.hex() for k in base.indexers] == state["indexers"] == indexers
                assert await entries(base.view) == state["entries"]
                info = await base.view_core("view")
                assert (info.key.hex(), info.length, info.tree_hash.hex()) == (
                    state["viewKey"],
                    state["viewLength"],
                    state["viewTreeHash"],
                )
                await check_signed(base, state)
                await check_encrypted(base, state, key)
            finally:
                await js_core.aclose()
                await base.aclose()
                await mux.aclose()
            await js.send({"cmd": "exit"})
            await js.expect("closed")
            assert await js.wait() == 0


@pytest.mark.parametrize("key", [bytes([1]) * 32, None], ids=["wrong-key", "no-key"])
async def test_python_without_the_js_key_fails_clearly(tmp_path: Path, key: bytes | None) -> None:
    """A JS base encrypted with ``ENCRYPTION_KEY``; a Python peer with another key, or none,
    gets :class:`EncryptionKeyError` on update (no noise applied, nothing indexed)."""
    async with spawn_node("autobase-bee-peer.js", json.dumps({"encryptionKey": ENCRYPTION_KEY.hex()})) as js:
        ready = await js.expect("ready")
        await js.send({"cmd": "append", "values": [{"put": "k0", "value": "js"}]})
        await js.expect("appended")
        async with Corestore(tmp_path / "py", primary_key=PK, unsafe=True) as root:
            stream = await SecretStream.connect("127.0.0.1", ready["port"])
            mux = root.replicate(stream)
            base = Autobase(
                root,
                bytes.fromhex(ready["key"]),
                open=open_bee,
                apply=bee_apply,
                value_encoding="json",
                ack_interval=0,
                encryption_key=key,
            )
            await base.ready()
            try:
                with pytest.raises(EncryptionKeyError):
                    await base.update(wait=True)
                assert base.indexed == []
                assert await entries(base.view) == []
            finally:
                await base.aclose()
                await mux.aclose()
        await js.send({"cmd": "exit"})
        await js.expect("closed")
        assert await js.wait() == 0

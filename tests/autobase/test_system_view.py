"""The system view and checkpoints Python writes, without a network (two stores in namespaces of
one storage): the ``_system`` Hyperbee's records decode as JS's info/member records, an
indexer's blocks carry a digest (the system core key) and a checkpoint whose system signature
verifies against that core, a non-indexer's only a digest, ``signed_length`` follows, and a
writer core that grows while it is being read loses no blocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_base import make, values

from hyperpunch import crypto
from hyperpunch.autobase.messages import OplogMessage, info, member, oplog_message
from hyperpunch.autobase.system_state import INFO_KEY, MEMBERS_PREFIX
from hyperpunch.corestore import Corestore
from hyperpunch.encoding import decode
from hyperpunch.hypercore import Hypercore, caps

PK = bytes([9]) * 32


async def blocks(core: Hypercore) -> list[OplogMessage]:
    return [decode(oplog_message, await core.get(i, raw=True)) for i in range(core.length)]


async def test_indexer_blocks_carry_checkpoints_and_digests(tmp_path: Path) -> None:
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root.namespace("a"))
        await a.ready()
        b = make(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert a.local is not None and b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": False})
            await b.update()
            await b.append([{"n": 1}, {"n": 2}])
            await a.update()
            await a.ack()
            sys_info = await a.system_core()
            assert sys_info.length > 0
            # the indexer's last block: the digest names the system core, the checkpoint signs it
            a_blocks = await blocks(a.local)
            last = a_blocks[-1]
            assert last.checkpoint is not None and last.checkpoint.system is not None
            sig = last.checkpoint.system.checkpoint
            assert sig is not None and last.checkpoint.system.checkpointer == 0
            assert sig.length == sys_info.length  # signed everything indexed, its own ack included
            assert a_blocks[0].digest is not None and a_blocks[0].digest.key == sys_info.key
            assert last.digest is not None and last.digest.key is None
            assert last.digest.pointer == len(a_blocks) - 1  # points back to the first block
            kp = a.local.key_pair
            assert kp is not None
            signable = caps.tree_signable(sys_info.key, sys_info.tree_hash, sig.length, 0)
            assert crypto.verify(signable, sig.signature, kp.public_key)
            assert not crypto.verify(signable, sig.signature, b.local.key)  # a real check
            # user view signatures: one per mapped view, at the view's indexed length
            user = last.checkpoint.user
            assert user is not None and len(user) == 1 and user[0].checkpoint is not None
            assert user[0].checkpoint.length == (await a.view_core("view")).length == 2
            assert a.signed_length == sys_info.length
            # a non-indexer writes digests only
            b_blocks = await blocks(b.local)
            assert all(m.checkpoint is None and m.digest is not None for m in b_blocks)
            # the system bee: member records for both writers and the info record
            records: dict[bytes, Any] = {}
            bee = a.system_bee
            async for e in bee.range():
                records[e.key] = e.value
            assert set(records) == {INFO_KEY, MEMBERS_PREFIX + a.local.key, MEMBERS_PREFIX + b.local.key}
            inf = decode(info, records[INFO_KEY])
            assert inf.version == 1 and inf.members == 2
            assert [c.key for c in inf.indexers] == [a.local.key]
            assert [(c.key, c.length) for c in inf.views] == [((await a.view_core("view")).key, 2)]
            mb = decode(member, records[MEMBERS_PREFIX + b.local.key])
            assert (mb.length, mb.is_indexer, mb.is_removed) == (2, False, False)
        finally:
            await a.aclose()
            await b.aclose()


async def test_a_core_growing_while_read_loses_no_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: ``update`` read a writer core up to its length at the start, then recorded
    the length at the end; blocks appended meanwhile were never read (the next ones were then
    numbered wrongly, linking the middle of a batch)."""
    async with Corestore(tmp_path / "s", primary_key=PK, unsafe=True) as root:
        a = make(root.namespace("a"))
        await a.ready()
        b = make(root.namespace("b"), a.key)
        await b.ready()
        try:
            assert b.local is not None and b.local.key is not None
            await a.append({"add": b.local.key.hex(), "indexer": False})
            await b.update()
            await b.append({"n": 1})
            real_get = Hypercore.get
            grew = False

            async def get_and_grow(self: Hypercore, index: int, **kw: Any) -> Any:
                nonlocal grew
                got = await real_get(self, index, **kw)
                if not grew and self.key == b.local.key and self is not b.local:
                    grew = True  # b appends a batch while a reads b's core
                    await b.append([{"n": 2}, {"n": 3}])
                return got

            monkeypatch.setattr(Hypercore, "get", get_and_grow)
            await a.update()
            monkeypatch.undo()
            assert grew
            await a.update()
            assert await values(a.view) == await values(b.view) == [{"n": 1}, {"n": 2}, {"n": 3}]
            await a.ack()  # the only indexer: b's nodes are indexed once a links them
            assert [(k, n) for k, n in a.indexed if k == b.local.key] == [
                (b.local.key, 1),
                (b.local.key, 2),
                (b.local.key, 3),
            ]
        finally:
            await a.aclose()
            await b.aclose()

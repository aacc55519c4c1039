"""The Python Hypercore API (hyperpunch.hypercore.session): local behaviour, sessions, snapshots,
streams, encodings, events, errors with JS codes, the replicator hooks and crash safety."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hyperpunch import crypto
from hyperpunch.hypercore import manifest as man
from hyperpunch.hypercore.core import (
    RequestCancelledError,
    RequestTimeoutError,
    SessionClosedError,
    SessionNotWritableError,
    SnapshotNotAvailableError,
)
from hyperpunch.hypercore.encodings import DecodingError
from hyperpunch.hypercore.errors import (
    BadArgumentError,
    InvalidChecksumError,
    InvalidSignatureError,
    StorageConflictError,
    StorageEmptyError,
)
from hyperpunch.hypercore.merkle import with_block_value
from hyperpunch.hypercore.messages import RequestBlock, RequestUpgrade
from hyperpunch.hypercore.session import Hypercore
from hyperpunch.hypercore.storage import MemoryStorage

KP = crypto.key_pair(b"\x07" * 32)


async def test_append_get_has_lengths() -> None:
    async with Hypercore(key_pair=KP) as core:
        assert core.writable and core.readable
        assert core.key == man.manifest_hash(man.default_signer_manifest(KP.public_key))
        assert core.discovery_key == crypto.discovery_key(core.key)
        assert await core.append(b"hello") == {"length": 1, "byte_length": 5}
        assert await core.append([b"a", b"bc", "déf"]) == {"length": 4, "byte_length": 5 + 1 + 2 + 4}
        assert await core.append([]) == {"length": 4, "byte_length": 12}
        assert core.length == 4 and core.byte_length == 12 and core.contiguous_length == 4
        assert await core.get(0) == b"hello"
        assert await core.get(3) == "déf".encode()
        assert await core.get(3, value_encoding="utf-8") == "déf"
        assert await core.has(0) and await core.has(0, 4) and not await core.has(4)
        assert not await core.has(2, 5)
        assert await core.get(9, wait=False) is None
        info = await core.info()
        assert json.loads(json.dumps(info)) == info
        assert info["length"] == 4 and info["byte_length"] == 12 and info["key"] == core.key.hex()
        with pytest.raises(BadArgumentError):
            await core.get(-1)
    assert not core.readable and not core.writable


async def test_value_encodings() -> None:
    async with Hypercore(key_pair=KP, value_encoding="json") as core:
        await core.append([{"a": 1, "b": [1, 2]}, "x", 3])
        assert await core.get(0) == {"a": 1, "b": [1, 2]}
        assert await core.get(0, raw=True) == b'{"a":1,"b":[1,2]}'
        assert await core.get(1) == "x"
        await core.append(b"not json")  # bytes bypass the encoding (as in JS)
        with pytest.raises(DecodingError) as ei:
            await core.get(3)
        assert ei.value.code == "DECODING_ERROR"
        text = core.session(value_encoding="utf-8")
        assert await text.get(3) == "not json"
        await text.aclose()


async def test_reopen_directory_and_key_conflict(tmp_path: Path) -> None:
    d = tmp_path / "core"
    async with Hypercore(d, key_pair=KP) as core:
        await core.append([b"one", b"two"])
        key, sig = core.key, core.signature
    async with Hypercore(d) as again:
        assert again.key == key and again.length == 2 and again.signature == sig
        assert await again.get(1) == b"two"
        assert again.writable  # the stored key pair is reloaded
        await again.append(b"three")
    async with Hypercore(str(d), key) as same:
        assert same.length == 3
        with pytest.raises(StorageConflictError):  # one Core per directory per process
            await Hypercore(d).ready()
        with pytest.raises(StorageConflictError):  # a conflict does not leave the directory claimed
            await Hypercore(tmp_path / "x" / ".." / "core", b"\x01" * 32).ready()
    with pytest.raises(StorageConflictError) as ei:
        async with Hypercore(d, b"\x01" * 32):
            pass
    assert ei.value.code == "STORAGE_CONFLICT"
    with pytest.raises(StorageEmptyError):
        async with Hypercore(tmp_path / "empty", create_if_missing=False):
            pass


async def test_readonly_core_errors() -> None:
    async with Hypercore(key_pair=KP) as writer:
        key = writer.key
    async with Hypercore(None, key) as reader:
        assert not reader.writable and reader.manifest is None
        with pytest.raises(SessionNotWritableError) as ei:
            await reader.append(b"x")
        assert ei.value.code == "SESSION_NOT_WRITABLE"
        with pytest.raises(SessionNotWritableError):
            await reader.truncate(0)
        assert await reader.get(0, wait=False) is None
        assert await reader.update() is False
        with pytest.raises(RequestTimeoutError) as te:
            await reader.get(0, timeout=0.01)
        assert te.value.code == "REQUEST_TIMEOUT"
    async with Hypercore(key_pair=KP, writable=False) as ro:
        assert not ro.writable
        with pytest.raises(SessionNotWritableError):
            await ro.append(b"x")


async def test_closed_session_and_pending_get() -> None:
    core = Hypercore(key_pair=KP)
    await core.ready()
    other = core.session()
    pending = asyncio.ensure_future(core.get(5))
    await asyncio.sleep(0)
    await core.aclose()
    with pytest.raises(SessionClosedError) as ei:
        await pending
    assert ei.value.code == "SESSION_CLOSED"
    with pytest.raises(SessionClosedError):
        await core.get(0)
    with pytest.raises(SessionClosedError):
        await core.append(b"x")
    # the other session keeps the core open
    await other.append(b"still open")
    assert await other.get(0) == b"still open"
    storage = other.core.storage
    await other.aclose()
    assert isinstance(storage, MemoryStorage) and storage.closed


async def test_get_waits_for_append() -> None:
    async with Hypercore(key_pair=KP) as core:
        waiting = asyncio.ensure_future(core.get(2))
        await asyncio.sleep(0)
        assert not waiting.done()
        await core.append([b"0", b"1"])
        await asyncio.sleep(0)
        assert not waiting.done()
        await core.append(b"2")
        assert await asyncio.wait_for(waiting, 5) == b"2"


async def test_truncate_and_events() -> None:
    async with Hypercore(key_pair=KP) as core:
        seen: list[tuple[Any, ...]] = []
        other = core.session()
        core.on("append", lambda: seen.append(("append", core.length)))
        other.on("truncate", lambda to, fork: seen.append(("truncate", to, fork)))
        once: list[int] = []
        core.once("append", lambda: once.append(1))
        await core.append([b"a", b"b", b"c"])
        await core.append(b"d")
        await core.truncate(2)
        assert core.fork == 1 and core.length == 2 and core.byte_length == 2
        assert not await core.has(2) and await core.get(2, wait=False) is None
        assert core.contiguous_length == 2
        await core.append(b"e")
        assert await core.get(2) == b"e"
        await core.truncate(3, 7)  # same length, explicit fork
        assert core.fork == 7 and core.length == 3
        assert seen == [("append", 3), ("append", 4), ("truncate", 2, 1), ("append", 3), ("truncate", 3, 7)]
        assert once == [1]
        verifier = man.Verifier.from_manifest(core.manifest)  # type: ignore[arg-type]
        assert verifier.verify(core.core.tree.batch(), core.signature)
        await other.aclose()


async def test_snapshot() -> None:
    async with Hypercore(key_pair=KP) as core:
        await core.append([b"a", b"b", b"c"])
        snap = core.snapshot()
        await core.append(b"d")
        assert snap.length == 3 and core.length == 4 and snap.byte_length == 3
        assert not snap.writable
        with pytest.raises(SessionNotWritableError):
            await snap.append(b"x")
        assert [b async for b in snap.read_stream()] == [b"a", b"b", b"c"]
        with pytest.raises(SnapshotNotAvailableError):
            await snap.get(3)
        await core.truncate(1)
        assert await snap.get(0) == b"a"
        with pytest.raises(SnapshotNotAvailableError) as ei:
            await snap.get(1)
        assert ei.value.code == "SNAPSHOT_NOT_AVAILABLE"
        assert await snap.update() is False
        await snap.aclose()


async def test_read_streams() -> None:
    async with Hypercore(key_pair=KP, value_encoding="utf-8") as core:
        await core.append([str(i) for i in range(10)])
        assert [b async for b in core.read_stream()] == [str(i) for i in range(10)]
        assert [b async for b in core.read_stream(3, 6)] == ["3", "4", "5"]

        got: list[str] = []

        async def follow() -> None:
            async for b in core.read_stream(8, live=True):
                got.append(b)
                if len(got) == 4:
                    return

        task = asyncio.ensure_future(follow())
        await asyncio.sleep(0.01)
        await core.append("10")
        await asyncio.sleep(0.01)
        await core.append(["11", "12"])
        await asyncio.wait_for(task, 5)
        assert got == ["8", "9", "10", "11", "12"][:4]


async def test_seek() -> None:
    async with Hypercore(key_pair=KP) as core:
        await core.append([b"aa", b"bbb", b"c", b"dddd"])
        assert await core.seek(0) == (0, 0)
        assert await core.seek(1) == (0, 1)
        assert await core.seek(2) == (1, 0)
        assert await core.seek(5) == (2, 0)
        assert await core.seek(8) == (3, 2)
        assert await core.seek(10) == (4, 0)
        assert await core.seek(11) is None
    async with Hypercore(key_pair=KP, encryption_key=b"\x09" * 32) as enc:
        await enc.append([b"aa", b"bbb", b"c", b"dddd"])
        assert enc.byte_length == 10 and enc.padding == 8
        assert await enc.seek(8) == (3, 2)


async def test_download_and_clear() -> None:
    async with Hypercore(key_pair=KP) as core:
        await core.append([b"0", b"1", b"2"])
        await asyncio.wait_for(core.download(0, 3).done(), 5)
        dl = core.download(0, 5)
        assert dl.missing() == 2
        task = asyncio.ensure_future(dl.done())
        await asyncio.sleep(0)
        await core.append(b"3")
        assert not task.done()
        await core.append(b"4")
        await asyncio.wait_for(task, 5)
        await core.clear(1, 3)
        assert not await core.has(1) and not await core.has(2) and await core.has(3)
        assert await core.get(1, wait=False) is None
        assert core.contiguous_length == 1 and core.length == 5
        dl2 = core.download(0, 5)
        t2 = asyncio.ensure_future(dl2.done())
        await asyncio.sleep(0)
        dl2.destroy()
        with pytest.raises(RequestCancelledError):
            await asyncio.wait_for(t2, 5)


class FakePeer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def extension(self, name: str, message: bytes) -> None:
        self.sent.append((name, message))


class FakeReplicator:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.peers: list[FakePeer] = [FakePeer()]

    def on_append(self, start: int, length: int) -> None:
        self.calls.append(("append", start, length))

    def on_truncate(self, length: int, fork: int) -> None:
        self.calls.append(("truncate", length, fork))

    def on_clear(self, start: int, end: int) -> None:
        self.calls.append(("clear", start, end))

    def want_block(self, index: int) -> None:
        self.calls.append(("want", index))

    def want_range(self, start: int, end: int | None) -> None:
        self.calls.append(("range", start, end))

    def want_upgrade(self, done: Callable[[bool], None]) -> None:
        done(True)

    async def aclose(self) -> None:
        self.calls.append(("closed",))


async def test_replicator_hooks_and_verified_data() -> None:
    async with Hypercore(key_pair=KP, encryption_key=b"\x05" * 32) as writer:
        await writer.append([f"block {i}".encode() for i in range(6)])
        wcore = writer.core
        async with Hypercore(None, writer.key, encryption_key=b"\x05" * 32) as reader:
            rep = FakeReplicator()
            reader.core.replicator = rep
            downloads: list[tuple[int, int, Any]] = []
            reader.on("download", lambda i, n, peer: downloads.append((i, n, peer)))
            appends: list[int] = []
            reader.on("append", lambda: appends.append(reader.length))
            waiting = asyncio.ensure_future(reader.get(4))
            await asyncio.sleep(0)
            assert ("want", 4) in rep.calls

            def proof(i: int, upgrade: bool) -> Any:
                p = wcore.tree.proof(
                    block=RequestBlock(i, 0 if upgrade else reader.core.tree.missing_nodes(2 * i, 6)),
                    upgrade=RequestUpgrade(reader.length, 6 - reader.length) if upgrade else None,
                )
                return with_block_value(p, wcore.storage.get_block(i) or b"")

            # an upgrade needs the manifest to check the signature
            with pytest.raises(InvalidSignatureError):
                reader.core.verify_and_apply(proof(4, True))
            assert reader.core.verify_and_apply(proof(4, True), manifest=writer.manifest, peer="p1")
            assert reader.length == 6 and reader.fork == 0 and reader.manifest == writer.manifest
            assert await asyncio.wait_for(waiting, 5) == b"block 4"
            assert downloads == [(4, len(b"block 4"), "p1")] and appends == [6]
            assert reader.contiguous_length == 0
            for i in (0, 1, 2, 3):
                assert reader.core.verify_and_apply(proof(i, False))
            assert reader.contiguous_length == 5
            assert await reader.tree_hash() == await writer.tree_hash()
            # a tampered block is rejected and nothing is stored
            bad = with_block_value(proof(5, False), b"\x00" * 15)
            with pytest.raises(InvalidChecksumError):
                reader.core.verify_and_apply(bad)
            assert not await reader.has(5)
            assert await reader.update() is True
            d = reader.download(0, 6)
            assert ("range", 0, 6) in rep.calls and d.missing() == 1
            # extensions ride on the replicator's peers
            got: list[tuple[Any, Any]] = []
            ext = reader.register_extension(
                "chat", encoding="json", on_message=lambda m, p: got.append((m, p))
            )
            ext.broadcast({"hi": 1})
            assert rep.peers[0].sent == [("chat", b'{"hi":1}')]
            ext.receive(b'{"yo":2}', "peer")
            ext.receive(b"{not json", "peer")  # dropped
            assert got == [({"yo": 2}, "peer")]
            assert reader.register_extension("chat") is ext
            ext.destroy()
            assert "chat" not in reader.extensions
            peer_events: list[Any] = []
            reader.on("peer-add", peer_events.append)
            reader.core.on_peer("peer-add", "p9")
            assert peer_events == ["p9"]
        assert ("closed",) in rep.calls


async def test_encrypted_roundtrip(tmp_path: Path) -> None:
    ek = b"\x42" * 32
    async with Hypercore(tmp_path / "c", key_pair=KP, encryption_key=ek) as core:
        r = await core.append([b"secret", b"more secret"])
        assert r == {"length": 2, "byte_length": 6 + 11 + 16}
        assert core.byte_length == 17
        raw = await core.get(0, raw=True)
        assert len(raw) == 14 and b"secret" not in raw
        assert await core.get(0) == b"secret"
    async with Hypercore(tmp_path / "c", encryption_key=ek) as again:
        assert await again.get(1) == b"more secret"
    async with Hypercore(tmp_path / "c") as no_key:  # the key is not persisted
        assert await no_key.get(0) == raw


_WRITER = r"""
import asyncio, sys
from hyperpunch import crypto
from hyperpunch.hypercore.session import Hypercore

async def main(d):
    async with Hypercore(d, key_pair=crypto.key_pair(b"\x07" * 32)) as core:
        n = 1
        while True:
            start = core.length
            await core.append([b"v%d." % i * (i % 5 + 1) for i in range(start, start + n)])
            sys.stdout.write(f"{core.length}\n")
            sys.stdout.flush()
            n = n % 9 + 1

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.parametrize("after_lines", [1, 40, 250])
async def test_sigkill_mid_append_reopens_consistent(tmp_path: Path, after_lines: int) -> None:
    d = tmp_path / "core"
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(d)], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    last = 0
    for _ in range(after_lines):
        line = proc.stdout.readline()
        assert line, "writer died"
        last = int(line)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    async with Hypercore(d) as core:
        assert core.length >= last
        verifier = man.Verifier.from_manifest(core.manifest)  # type: ignore[arg-type]
        assert verifier.verify(core.core.tree.batch(), core.signature)
        assert await core.has(0, core.length)
        assert core.contiguous_length == core.length
        for i in range(core.length):
            assert await core.get(i, wait=False) == b"v%d." % i * (i % 5 + 1)
        await core.append(b"after crash")
        assert await core.get(core.length - 1) == b"after crash"


async def test_reader_dir_adopts_matching_key_pair(tmp_path: Path) -> None:
    key = man.manifest_hash(man.default_signer_manifest(KP.public_key))
    d = tmp_path / "r"
    async with Hypercore(d, key) as reader:
        assert not reader.writable
    with pytest.raises(StorageConflictError):
        async with Hypercore(d, key_pair=crypto.key_pair(b"\x08" * 32)):
            pass
    async with Hypercore(d, key_pair=KP) as now_writer:
        assert now_writer.writable and now_writer.manifest is not None
        await now_writer.append(b"x")
    async with Hypercore(d) as again:
        assert again.writable and again.length == 1


def test_append_many_matches_append() -> None:
    import random

    from hc_helpers import DictReader

    from hyperpunch.hypercore.merkle import MerkleTree

    rng = random.Random(5)
    for _ in range(60):
        r1, r2 = DictReader(), DictReader()
        t1, t2 = MerkleTree(r1), MerkleTree(r2)
        for _ in range(rng.randint(1, 5)):
            vals = [rng.randbytes(rng.randint(0, 20)) for _ in range(rng.randint(0, 40))]
            b1, b2 = t1.batch(), t2.batch()
            for v in vals:
                b1.append(v)
            b2.append_many(vals)
            assert (b1.roots, b1.length, b1.byte_length, b1.hash()) == (
                b2.roots,
                b2.length,
                b2.byte_length,
                b2.hash(),
            )
            assert sorted(b1.nodes, key=lambda n: n.index) == sorted(b2.nodes, key=lambda n: n.index)
            b1.commit(r1)
            b2.commit(r2)
            t1.apply(b1)
            t2.apply(b2)


def test_single_signer_fast_path_is_the_multisig_container() -> None:
    from hc_helpers import DictReader

    from hyperpunch.hypercore.merkle import MerkleTree

    manifest = man.default_signer_manifest(KP.public_key)
    verifier_key = man.manifest_hash(manifest)
    verifier = man.Verifier.from_manifest(manifest)
    batch = MerkleTree(DictReader()).batch()
    batch.append(b"x")
    sig = verifier.sign(batch, KP)
    raw = crypto.sign(batch.signable(verifier_key), KP.secret_key)
    assert sig == man.assemble([man.SignatureInput(0, raw)])
    assert verifier.verify(batch, sig)


@pytest.mark.parametrize(
    ("enc", "value", "stored"),
    [
        ("utf-8", "héllo", "héllo".encode()),
        ("ascii", "abc", b"abc"),
        ("hex", "00ff", b"\x00\xff"),
        ("base64", "AP8=", b"\x00\xff"),
        ("json", {"k": ["é", 1.5, None, True]}, '{"k":["é",1.5,null,true]}'.encode()),
        ("ndjson", {"a": 1}, b'{"a":1}\n'),
        ("binary", "text", b"text"),
    ],
)
async def test_named_encodings(enc: str, value: Any, stored: bytes) -> None:
    async with Hypercore(key_pair=KP, value_encoding=enc) as core:
        await core.append(value)
        assert await core.get(0, raw=True) == stored
        expected = value if enc != "binary" else stored
        assert await core.get(0) == expected
    with pytest.raises(BadArgumentError):
        Hypercore(value_encoding="nope")


async def test_reorg_hooks_follow_a_writer_fork() -> None:
    async with Hypercore(key_pair=KP) as writer, Hypercore(None, writer.key) as reader:
        await writer.append([f"v{i}".encode() for i in range(6)])
        w, r = writer.core, reader.core
        assert r.verify_and_apply(
            w.proof(block=RequestBlock(0, 0), upgrade=RequestUpgrade(0, 6)), manifest=writer.manifest
        )
        for i in range(1, 6):
            assert r.verify_and_apply(w.proof(block=RequestBlock(i, r.tree.missing_nodes(2 * i, 6))))
        await writer.truncate(3)
        await writer.append([b"new3", b"new4"])
        # a proof from another fork is not applied directly
        assert not r.verify_and_apply(w.proof(upgrade=RequestUpgrade(0, 5)))
        events: list[tuple[Any, ...]] = []
        reader.on("truncate", lambda to, fork: events.append(("truncate", to, fork)))
        reader.on("append", lambda: events.append(("append", reader.length)))
        batch = r.start_reorg(w.proof(upgrade=RequestUpgrade(0, 5)))
        steps = 0
        while not batch.finished:
            assert batch.want is not None and steps < 20
            batch.update(w.proof(hash=RequestBlock(2 * batch.want.start, batch.want.nodes)))
            steps += 1
        assert r.apply_reorg(batch)
        assert (reader.fork, reader.length) == (1, 5) and events == [("truncate", 3, 1), ("append", 5)]
        assert await reader.has(0, 3) and not await reader.has(3)
        assert reader.contiguous_length == 3
        assert await reader.tree_hash() == await writer.tree_hash()
        for i in (3, 4):
            assert r.verify_and_apply(w.proof(block=RequestBlock(i, r.tree.missing_nodes(2 * i, 5))))
        assert [await reader.get(i) for i in range(5)] == [b"v0", b"v1", b"v2", b"new3", b"new4"]
        assert reader.contiguous_length == 5


async def test_append_with_external_signature() -> None:
    manifest = man.default_signer_manifest(KP.public_key)
    verifier = man.Verifier.from_manifest(manifest)
    async with Hypercore(None, man.manifest_hash(manifest), manifest=manifest) as core:
        assert not core.writable
        batch = core.core.tree.batch()
        batch.append_many([b"a", b"b"])
        sig = verifier.sign(batch, KP)
        with pytest.raises(InvalidSignatureError):
            await core.append([b"a", b"c"], signature=sig)
        assert core.length == 0 and not await core.has(0)
        assert await core.append([b"a", b"b"], signature=sig) == {"length": 2, "byte_length": 2}
        assert core.signature == sig and await core.get(1) == b"b"


@pytest.mark.parametrize("ek", [None, b"\x03" * 32])
async def test_byte_stream(ek: bytes | None) -> None:
    async with Hypercore(key_pair=KP, encryption_key=ek) as core:
        blocks = [b"hello", b"", b" ", b"world", b"!!"]
        await core.append(blocks)
        whole = b"".join(blocks)
        assert b"".join([c async for c in core.byte_stream()]) == whole
        for off in range(len(whole) + 1):
            for n in (0, 1, 3, len(whole)):
                got = b"".join([c async for c in core.byte_stream(off, min(n, len(whole) - off))])
                assert got == whole[off : off + n]
        assert [c async for c in core.byte_stream(3, 5)] == [b"lo", b" ", b"wo"]


async def test_session_before_ready() -> None:
    core = Hypercore(key_pair=KP)
    child = core.session(value_encoding="utf-8")
    snap = core.snapshot()
    async with child:
        assert core.opened and child.key == core.key
        await child.append("x")
        assert await core.get(0) == b"x" and await child.get(0) == "x"
        await snap.ready()
        assert snap.length == 1
    await snap.aclose()
    await core.aclose()
    assert core.closed and not core.readable

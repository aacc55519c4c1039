"""Crash safety of ``hyperpunch core write``: SIGKILLed at seeded moments while appending 100 000
stdin lines (``RUNS`` runs), the core always reopens consistent.

Run ``i`` of ``RUNS`` kills the writer at a seeded random moment inside the ``i``-th equal slice of
the first ``KILL_WINDOW`` seconds after it printed its key, so even a few runs hit the start, the
middle and the end of the write (appending all the lines takes ~1 s on a quiet machine, longer on
a busy one, so the last slices also kill a writer that has just finished). Environment:

* ``HYPERPUNCH_CRASH_RUNS`` (default 8): the number of SIGKILL runs; raise it (e.g. 50) to hunt
  a rare storage bug with finer slices.
* ``HYPERPUNCH_CRASH_SEED`` (default 0x5EED3; decimal or 0x hex): the RNG seed of the kill
  moments and of the sampled reads, to try other kill points.

After each kill the store is reopened with the Hypercore API and checked from storage alone:
the stored head's signature verifies with the core's manifest; the Merkle roots recomputed from
every stored block equal the signed roots (so every block below the length is authenticated) and
the blocks are exactly the first ``length`` input lines; a fresh in-memory reader replicating from
the reopened core verifies proofs for a sample of blocks and the head; the core appends again and
still verifies after another reopen; a restarted CLI writer prints the same key.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from core_helpers import ROOT, local_dht

from hyperpunch.hypercore import Hypercore, MemoryStorage, manifest_hash, open_tree
from hyperpunch.secretstream import SecretStream, serve

TOTAL = 100_000
RUNS = int(os.environ.get("HYPERPUNCH_CRASH_RUNS", "8"))
SEED = int(os.environ.get("HYPERPUNCH_CRASH_SEED", "0x5EED3"), 0)
KILL_WINDOW = 1.5  # seconds after the key line: the kill moments spread over this window
CLI = ["-m", "hyperpunch", "core", "write"]


def line(i: int) -> bytes:
    return f"line {i} {'x' * (i % 11)}".encode()


@contextlib.asynccontextmanager
async def _stream_pair() -> AsyncIterator[tuple[SecretStream, SecretStream]]:
    accepted: asyncio.Queue[SecretStream] = asyncio.Queue()

    async def handler(stream: SecretStream) -> None:
        await accepted.put(stream)
        await stream.wait_closed()

    server = await serve(handler, "127.0.0.1", 0)
    async with server:
        client = await SecretStream.connect("127.0.0.1", server.port)
        responder = await asyncio.wait_for(accepted.get(), 10)
        try:
            yield client, responder
        finally:
            client.close()
            responder.close()


async def _check(directory: Path, rng: random.Random) -> tuple[bytes, int]:
    """Reopen ``directory`` and verify it (see the module docstring); returns (key, length)."""
    async with Hypercore(directory) as core:
        c = core.core
        assert core.key is not None and c.manifest is not None and c.verifier is not None
        assert manifest_hash(c.manifest) == core.key
        length = core.length
        tree = c.tree
        if length:
            assert tree.signature is not None
            assert c.verifier.verify(tree.batch(), tree.signature), "stored head signature"
        blocks = [await core.get(i, wait=False) for i in range(length)]
        assert blocks == [line(i) for i in range(length)], "blocks differ from the input prefix"
        fresh = open_tree(MemoryStorage()).batch()
        fresh.append_many([bytes(b) for b in blocks if b is not None])
        assert fresh.roots == tree.roots and fresh.length == length, "recomputed roots differ"
        assert await core.get(length, wait=False) is None

        # a remote reader verifies proofs (hashes up to the signed roots) and the signed head
        if length:
            async with Hypercore(None, core.key) as reader, _stream_pair() as (a, b):
                core.replicate(a)
                reader.replicate(b)
                sample = sorted({0, length - 1, *(rng.randrange(length) for _ in range(30))})
                for i in sample:
                    got = await asyncio.wait_for(reader.get(i), 30)
                    assert got == line(i)
                assert reader.length == length and reader.fork == core.fork

        # it appends again, and that survives a reopen too
        await core.append(line(length))
        assert core.length == length + 1
        key = core.key
    async with Hypercore(directory) as again:
        assert again.length == length + 1 and again.key == key
        assert await again.get(length, wait=False) == line(length)
        c = again.core
        assert c.verifier is not None and c.tree.signature is not None
        assert c.verifier.verify(c.tree.batch(), c.tree.signature)
    return key, length


async def _cli_writer_key(directory: Path, bootstrap: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *CLI,
        "--storage",
        str(directory),
        "--bootstrap",
        bootstrap,
        "--host",
        "127.0.0.1",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert first.startswith("hypercore key: "), first
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        return bytes.fromhex(first.removeprefix("hypercore key: ").strip())
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_sigkilled_writer_reopens_consistent(tmp_path: Path) -> None:
    assert RUNS >= 1, "HYPERPUNCH_CRASH_RUNS must be 1 or more"
    rng = random.Random(SEED)
    source = tmp_path / "lines.txt"
    source.write_bytes(b"".join(line(i) + b"\n" for i in range(TOTAL)))
    lengths: list[int] = []
    async with local_dht() as bootstrap:
        for run in range(RUNS):
            directory = tmp_path / f"core{run}"
            with source.open("rb") as stdin:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    *CLI,
                    "--storage",
                    str(directory),
                    "--bootstrap",
                    bootstrap,
                    "--host",
                    "127.0.0.1",
                    stdin=stdin,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.DEVNULL,
                    cwd=ROOT,
                )
            try:
                assert proc.stdout is not None
                first = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
                assert first.startswith("hypercore key: "), first
                # a seeded moment inside this run's slice of the kill window
                await asyncio.sleep(rng.uniform(run, run + 1) * KILL_WINDOW / RUNS)
                proc.kill()  # SIGKILL
                await proc.wait()
                assert proc.returncode == -signal.SIGKILL
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            key, length = await _check(directory, rng)
            assert key.hex() == first.removeprefix("hypercore key: ").strip()
            lengths.append(length)
            if run % 5 == 0:  # the CLI reopens it with the same key (and exits cleanly on SIGINT)
                assert await _cli_writer_key(directory, bootstrap) == key
    print(f"lengths at SIGKILL: {lengths}")
    assert any(0 < n < TOTAL for n in lengths), f"no run was killed mid-append: {lengths}"

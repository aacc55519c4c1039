"""``hyperpunch fsck [--repair] DIR``: reports damage, never replaces identity, heals from a writer
found on Hyperswarm (a local testnet), then finds the directory clean."""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import sqlite3
import sys
from pathlib import Path

from faults_helpers import block, damage, read_all

from hyperpunch import crypto
from hyperpunch.corestore import Corestore
from hyperpunch.hypercore.session import Hypercore
from test_cli_dht import HOST, cli, free_udp_port, running

N = 120
VALUES = [block(i, 16 + 4 * (i % 9)) for i in range(N)]


async def run_cli(*args: str, timeout: float = 120) -> tuple[int, list[str], str]:
    proc = await asyncio.create_subprocess_exec(
        *cli(*args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    text = err.decode()
    assert "Traceback" not in text, text
    return proc.returncode, out.decode().splitlines(), text


async def make_core(path: Path) -> bytes:
    async with Hypercore(path, key_pair=crypto.key_pair(b"\x05" * 32)) as w:
        await w.append(VALUES)
        assert w.key is not None
        return w.key


def flip_values(db: Path) -> None:
    """Flip one bit in 3 stored blocks and 2 stored tree nodes (the file stays well-formed)."""
    conn = sqlite3.connect(db)
    try:
        for table, col, rowids in (("blocks", "data", (3, 50, 99)), ("tree", "hash", (10, 77))):
            for r in rowids:
                rowid, v = conn.execute(
                    f"SELECT rowid, {col} FROM {table} ORDER BY rowid LIMIT 1 OFFSET ?", (r,)
                ).fetchone()
                b = bytearray(v)
                b[0] ^= 0x10
                conn.execute(f"UPDATE {table} SET {col} = ? WHERE rowid = ?", (bytes(b), rowid))
        conn.commit()
    finally:
        conn.close()


async def test_fsck_reports_then_repairs_from_a_writer_on_the_swarm(tmp_path: Path) -> None:
    w, r = tmp_path / "w", tmp_path / "r"
    key = await make_core(w)
    shutil.copytree(w, r)
    flip_values(r / "core.db")

    code, out, _ = await run_cli("fsck", str(r))
    assert code == 1, out
    assert out[-1].startswith("fsck: ") and "--repair" in out[-1], out
    assert any(
        line.startswith(f"core {key.hex()}: length {N}, ") and "damaged blocks" in line for line in out
    ), out

    port = free_udp_port()
    network = ["--bootstrap", f"{HOST}:{port}", "--host", HOST]
    async with running(cli("testnet", "--port", str(port), "--host", HOST), "testnet") as testnet:
        await testnet.expect("bootstrap: ")
        async with running(cli("core", "write", "--storage", str(w), *network), "writer") as writer:
            assert (await writer.expect("hypercore key: ")).strip() == key.hex()
            code, out, err = await run_cli("fsck", "--repair", str(r), *network)
            assert code == 0, (out, err)
            assert f"core {key.hex()}: healed from peers" in out, out
            assert out[-1] == "fsck: repaired (1 cores)", out
            assert await writer.stop(signal.SIGTERM) == 0, writer.describe()
        assert await testnet.stop(signal.SIGTERM) == 0

    code, out, _ = await run_cli("fsck", str(r))
    assert (code, out) == (0, ["fsck: clean (1 cores)"])
    async with Hypercore(r, key) as healed:
        assert await read_all(healed, VALUES) == (N, 0, 0)


async def test_fsck_salvage_without_peers_reports_what_is_left(tmp_path: Path) -> None:
    w, r = tmp_path / "w", tmp_path / "r"
    await make_core(w)
    shutil.copytree(w, r)
    damage(r / "core.db", "page", random.Random(4))  # zeroes a page of blocks: SQLite cannot read it
    code, out, _ = await run_cli("fsck", str(r))
    assert code == 1 and "damaged (SQLite cannot read all of it" in out[0], out
    assert not (r / "core.db.damaged").exists()  # nothing changes without --repair
    unreachable = ["--bootstrap", f"{HOST}:{free_udp_port()}", "--host", HOST, "--timeout", "2"]
    code, out, _ = await run_cli("fsck", "--repair", str(r), *unreachable)
    assert code == 1, out
    assert out[0].startswith(f"{r / 'core.db'}: salvaged "), out
    assert (r / "core.db.damaged").exists()
    assert any("blocks still missing" in line for line in out), out


async def test_fsck_store_with_damaged_primary_key_is_reported_not_replaced(tmp_path: Path) -> None:
    d = tmp_path / "store"
    async with Corestore(d) as store:
        core = await store.get(name="a")
        await core.append([b"x", b"y"])
        await core.aclose()
    pk = d / "primary-key"
    data = bytearray(pk.read_bytes())
    data[10] ^= 1
    pk.write_bytes(bytes(data))
    code, out, _ = await run_cli("fsck", "--repair", str(d), "--timeout", "1")
    assert code == 1, out
    assert any("checksum mismatch" in line and "never replaced" in line for line in out), out
    assert pk.read_bytes() == bytes(data)  # untouched


async def test_fsck_bad_directories_are_one_line_errors(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    for target in (tmp_path / "missing", f, tmp_path):
        code, out, err = await run_cli("fsck", str(target))
        assert code == 2 and out == [], (target, out, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("hyperpunch: error: "), err
    assert not (tmp_path / "missing").exists()
    assert sys.executable  # the CLI runs under this interpreter


async def test_core_read_of_a_damaged_copy_prints_only_right_blocks(tmp_path: Path) -> None:
    """The issue's case: ``core read --storage`` on a copy with flipped bits printed wrong blocks.
    Now every printed block is right: damaged ones are fetched again from the writer, with a
    warning on stderr."""
    w, r = tmp_path / "w", tmp_path / "r"
    lines = [f"line-{i}" for i in range(N)]
    async with Hypercore(w, key_pair=crypto.key_pair(b"\x06" * 32)) as core:
        await core.append([x.encode() for x in lines])
        assert core.key is not None
        key = core.key.hex()
    shutil.copytree(w, r)
    flip_values(r / "core.db")
    port = free_udp_port()
    network = ["--bootstrap", f"{HOST}:{port}", "--host", HOST]
    async with running(cli("testnet", "--port", str(port), "--host", HOST), "testnet") as testnet:
        await testnet.expect("bootstrap: ")
        async with running(cli("core", "write", "--storage", str(w), *network), "writer") as writer:
            assert (await writer.expect("hypercore key: ")).strip() == key
            argv = cli("core", "read", key, "--start", "0", "--storage", str(r), *network)
            async with running(argv, "reader") as reader:
                assert await reader.readline(60) == "Skipping 0 earlier blocks...", reader.describe()
                for i, text in enumerate(lines):
                    assert await reader.readline(60) == f"Block {i}: {text}", reader.describe()
                assert await reader.stop(signal.SIGTERM) == 0, reader.describe()
            assert "damaged on disk; fetching again from peers" in reader.stderr, reader.describe()
            assert "Traceback" not in reader.stderr
            assert await writer.stop(signal.SIGTERM) == 0
        assert await testnet.stop(signal.SIGTERM) == 0

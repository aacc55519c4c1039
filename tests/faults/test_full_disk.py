"""A full disk (issue 18), on a 1.5 MiB tmpfs this test mounts (it runs as root, as CI does): an
append that hits ENOSPC is a typed ``StorageFullError``, the core stays consistent and readable,
nothing acknowledged is lost, appends continue once space is freed; opening a core or a store on a
full disk is a typed error too. Also: a storage directory this user may not write (the CLI run as
``nobody`` through ``setpriv``) is one line, no traceback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from faults_helpers import block, linked

from hyperpunch.corestore import Corestore
from hyperpunch.hypercore import Hypercore, StorageFullError
from test_cli_dht import cli


@contextlib.contextmanager
def small_disk(where: Path, size: str = "1536k") -> Iterator[Path]:
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(path: Path) -> None:
    """Write zeros to ``path`` until the disk is full."""
    with path.open("wb") as f:
        try:
            while True:
                f.write(bytes(65536))
                f.flush()
        except OSError as err:
            assert err.errno == 28, err


async def test_append_on_a_full_disk_is_typed_and_loses_nothing(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        spare = disk / "spare"
        spare.write_bytes(bytes(300_000))  # freed later
        d = disk / "core"
        acknowledged: list[bytes] = []
        async with Hypercore(d) as core:
            key = core.key
            n = 0
            while True:
                batch = [block(n + j, 4000) for j in range(8)]
                try:
                    await core.append(batch)
                except StorageFullError as err:
                    assert err.code == "STORAGE_FULL"
                    break
                acknowledged += batch
                n += 8
                assert n < 2000, "the disk never filled"
            # consistent: exactly what was acknowledged, every block readable and verified
            assert core.length == len(acknowledged)
            for i, v in enumerate(acknowledged):
                assert await core.get(i, wait=False) == v
            with contextlib.suppress(StorageFullError):  # still full: the same typed error
                await core.append([block(1, 4000)] * 8)
            assert core.length == len(acknowledged)
            spare.unlink()  # free space: appends continue
            await core.append([b"after the disk was freed"])
            acknowledged.append(b"after the disk was freed")
        async with Hypercore(d) as again:
            assert again.key == key
            assert again.length == len(acknowledged)
            assert again.core.check_stored() == []
            for i in (0, len(acknowledged) // 2, len(acknowledged) - 1):
                assert await again.get(i, wait=False) == acknowledged[i]


async def test_opening_on_a_full_disk_is_typed(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        fill(disk / "filler")
        try:
            await Hypercore(disk / "core").ready()
            raise AssertionError("a core opened on a full disk")
        except StorageFullError:
            pass
        store = Corestore(disk / "store")
        try:
            await store.ready()
            raise AssertionError("a store opened on a full disk")
        except StorageFullError:
            pass
        finally:
            await store.aclose()
        (disk / "filler").unlink()
        async with Corestore(disk / "store") as store2:  # works once there is space
            core = await store2.get(name="a")
            await core.append([b"x"])
            assert core.length == 1
            await core.aclose()


async def test_cli_on_a_full_disk_is_one_line(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        fill(disk / "filler")
        proc = await asyncio.create_subprocess_exec(
            *cli("core", "write", "--storage", str(disk / "w")),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        text = err.decode()
        assert proc.returncode == 1, (out, text)
        assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text
        assert text.startswith("hyperpunch: error: ") and "full" in text, text


async def test_cli_storage_this_user_may_not_write_is_one_line(tmp_path: Path) -> None:
    root_only = tmp_path / "root-only"
    root_only.mkdir(mode=0o700)
    os.chmod(tmp_path, 0o755)
    env = dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(root_only))
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    cases = [
        ("core", "write", "--storage", str(root_only / "w")),
        ("core", "read", "ab" * 32, "--storage", str(root_only / "r")),
        ("store", "write", "--storage", str(root_only / "s")),
        ("fsck", str(root_only)),
    ]
    for args in cases:
        proc = await asyncio.create_subprocess_exec(
            *nobody,
            *cli(*args),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        text = err.decode()
        assert proc.returncode in (1, 2), (args, out, text)
        assert "Traceback" not in text and len(text.strip().splitlines()) == 1, (args, text)
        assert text.startswith("hyperpunch: error: "), (args, text)
    assert list(root_only.iterdir()) == []


async def test_download_on_a_full_disk_pauses_then_continues(tmp_path: Path) -> None:
    """A reader whose disk fills while downloading: a typed ``storage-error`` event (not the
    peer's fault: it stays connected), nothing half-stored; freeing space lets it finish."""
    n = 200
    writer = Hypercore(None)
    await writer.ready()
    await writer.append([block(i, 4000) for i in range(n)])
    with small_disk(tmp_path / "disk") as disk:
        filler = disk / "filler"
        filler.write_bytes(bytes(900_000))
        errors: list[BaseException] = []
        hit = asyncio.Event()

        def on_error(err: BaseException) -> None:
            errors.append(err)
            hit.set()

        async with Hypercore(disk / "r", writer.key) as reader:
            reader.on("storage-error", on_error)
            async with linked(writer, reader):
                download = reader.download(0, n)
                await asyncio.wait_for(hit.wait(), 30)
                assert all(isinstance(e, StorageFullError) for e in errors)
                assert len(reader.peers) == 1  # the peer is not blamed
                stored = [i for i in range(n) if reader.core.bitfield.get(i)]
                assert len(stored) < n
                for i in stored:
                    assert await reader.get(i, wait=False) == block(i, 4000)
                filler.unlink()
                await asyncio.wait_for(download.done(), 60)
            assert reader.core.check_stored() == []
            for i in range(n):
                assert await reader.get(i, wait=False) == block(i, 4000)
    await writer.aclose()

"""``hyperpunch fsck [--repair] DIR``: check a core or store directory, and heal it from peers.

Invariants:

* ``DIR`` is a single core (``core.db``, what ``core write/read --storage`` make) or a store
  (``corestore.db`` and ``primary-key``, what ``store ...`` makes). Anything else is a one-line
  error (exit 2); fsck never creates storage.
* It checks, in order: the database file (SQLite's ``quick_check``); the store's primary key;
  then every core: its identity (key, manifest, key pair), its signed head (roots and signature)
  and every stored block and tree node against the Merkle tree. One line per finding, then
  ``fsck: clean`` or ``fsck: <n> problem(s)``.
* Without ``--repair`` nothing is changed. With it, damaged blocks are marked missing (as any
  read does) and tree nodes that can be rebuilt from what is below them are rebuilt. A damaged primary key, manifest, key pair or signed head is reported
  and never replaced.
* ``--repair``: a database SQLite cannot read is salvaged first (every readable row copied into a
  new file, the damaged one kept as ``<name>.damaged``); then every core with missing blocks joins
  its discovery key on Hyperswarm (``--bootstrap``, ``--host`` as other commands) and downloads
  them, for at most ``--timeout`` seconds. Exit status 0 when nothing is left damaged or missing
  that was stored before, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperpunch.cli.options import (
    CliError,
    Network,
    add_network_options,
    open_swarm,
    parse_bootstrap,
    print_line,
    reporting_dht_status,
    run_command,
)
from hyperpunch.corestore.errors import PrimaryKeyCorruptError
from hyperpunch.corestore.primary_key import FILE_NAME as PRIMARY_KEY_FILE
from hyperpunch.corestore.primary_key import decode_primary_key
from hyperpunch.errors import HyperpunchError
from hyperpunch.hypercore import Hypercore
from hyperpunch.hypercore.salvage import needs_salvage, salvage
from hyperpunch.hypercore.storage import DB_NAME, StoreDatabase

__all__ = ["fsck", "register"]

STORE_DB = "corestore.db"


def register(sub: Any) -> None:
    p = sub.add_parser("fsck", help="check a core or store directory; --repair heals it from peers")
    p.add_argument("storage", help="a core directory (core.db) or a store directory (corestore.db)")
    p.add_argument(
        "--repair", action="store_true", help="salvage the database and fetch damaged blocks again"
    )
    p.add_argument(
        "--timeout", type=float, default=60.0, help="seconds --repair waits for peers (default 60)"
    )
    add_network_options(p)
    p.set_defaults(func=cmd_fsck)


def cmd_fsck(args: argparse.Namespace) -> int:
    bootstrap = parse_bootstrap(args.bootstrap)
    if args.timeout <= 0:
        raise CliError(f"--timeout must be more than 0, got {args.timeout}")
    directory = Path(args.storage).expanduser()
    if not directory.is_dir():
        raise CliError(f"{args.storage} is not a directory")
    if (directory / DB_NAME).is_file():
        db_path = directory / DB_NAME
    elif (directory / STORE_DB).is_file():
        db_path = directory / STORE_DB
    else:
        raise CliError(f"{args.storage} holds no hyperpunch storage ({DB_NAME} or {STORE_DB})")
    return run_command(
        fsck(db_path, repair=args.repair, bootstrap=bootstrap, host=args.host, timeout=args.timeout),
        interrupted=130,
    )


@dataclass
class _Checked:
    label: str
    core: Hypercore
    dropped: list[tuple[int, int]]  # block ranges found damaged and marked missing


async def fsck(db_path: Path, *, repair: bool, bootstrap: Network, host: str, timeout: float) -> int:
    """Run ``fsck`` on the database ``db_path``; returns the exit status."""
    problems = 0  # everything found
    kept = 0  # found and never repaired here (identity, head, primary key)
    if needs_salvage(db_path):
        problems += 1
        if not repair:
            kept += 1
            print_line(f"{db_path}: damaged (SQLite cannot read all of it; --repair salvages it)")
        else:
            report = await asyncio.to_thread(salvage, db_path)
            print_line(
                f"{db_path}: salvaged {sum(report.copied.values())} rows, "
                f"{sum(report.unreadable.values())} unreadable (the damaged file is kept as {db_path.name}.damaged)"
            )
    if db_path.name == STORE_DB:
        key_file = db_path.parent / PRIMARY_KEY_FILE
        try:
            decode_primary_key(key_file.read_bytes(), str(key_file))
        except (FileNotFoundError, PrimaryKeyCorruptError) as err:
            problems += 1
            kept += 1
            what = f"{key_file}: missing" if isinstance(err, FileNotFoundError) else str(err)
            print_line(f"{what} (reported, never replaced: every named core derives from it)")
    try:
        db = StoreDatabase(db_path)
    except HyperpunchError as err:
        print_line(f"{db_path}: cannot be opened: {err}")
        print_line("fsck: the cores cannot be checked")
        return 1
    checked: list[_Checked] = []
    try:
        try:
            names = db.names()
        except HyperpunchError as err:
            names = []
            problems += 1
            kept += 1
            print_line(f"{db_path}: the list of cores cannot be read: {err}")
        for name in names:
            core = Hypercore(db.core(name), create_if_missing=False, writable=False)
            try:
                await core.ready()
            except HyperpunchError as err:
                problems += 1
                kept += 1
                print_line(
                    f"core {name.hex() if name else ''}: {err} (reported, never replaced)".replace(
                        "core :", "core:"
                    )
                )
                await core.aclose()
                continue
            assert core.key is not None
            label = f"core {core.key.hex()}"
            inner = core.core
            inner.check_only = not repair  # without --repair nothing is changed
            bad = inner.check_stored()
            rebuilt = sum(len(d.fixed) for d in inner.damage)
            dropped = [d.blocks for d in inner.damage if d.blocks is not None and d.blocks[1] > d.blocks[0]]
            if inner.damage:
                problems += 1
                print_line(
                    f"{label}: length {core.length}, {len(bad)} damaged blocks marked missing, "
                    f"{rebuilt} tree nodes rebuilt from what is below them"
                )
            checked.append(_Checked(label, core, dropped))
        to_heal = [c for c in checked if c.dropped]
        left = len(to_heal)
        if repair and to_heal:
            left = await _heal(to_heal, bootstrap, host, timeout)
        if problems == 0:
            print_line(f"fsck: clean ({len(checked)} cores)")
            return 0
        if repair and kept == 0 and left == 0:
            print_line(f"fsck: repaired ({len(checked)} cores)")
            return 0
        hint = "" if repair else "; run with --repair to heal"
        print_line(f"fsck: {problems} problem(s), {kept + left} left{hint}")
        return 1
    finally:
        for c in checked:
            await c.core.aclose()
        db.close()


def _missing(c: _Checked) -> int:
    bits = c.core.core.bitfield
    length = c.core.length
    return sum(1 for lo, hi in c.dropped for i in range(lo, min(hi, length)) if not bits.get(i))


async def _length_at_least(core: Hypercore, length: int) -> None:
    """Wait until a peer told ``core`` of ``length`` blocks (a reader whose head was dropped)."""
    grew = asyncio.Event()
    offs = [core.on(event, lambda *_: grew.set()) for event in ("append", "peer-add")]
    try:
        while core.length < length:
            grew.clear()
            await core.update()
            if core.length < length:
                await grew.wait()
    finally:
        for off in offs:
            off()


async def _heal(cores: list[_Checked], bootstrap: Network, host: str, timeout: float) -> int:
    """Fetch the dropped blocks of ``cores`` from peers; returns how many cores still miss some."""
    swarm = open_swarm(bootstrap, host)

    def on_connection(conn: Any, info: Any) -> None:
        for c in cores:
            c.core.replicate(conn)

    swarm.on_connection = on_connection
    async with swarm, reporting_dht_status(swarm.dht, bootstrap):
        for c in cores:
            assert c.core.discovery_key is not None
            swarm.join(c.core.discovery_key, server=True, client=True)
        downloads: list[Any] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.gather(
                    *(_length_at_least(c.core, max(hi for _, hi in c.dropped)) for c in cores)
                )
                downloads = [
                    c.core.download(lo, min(hi, c.core.length)) for c in cores for lo, hi in c.dropped
                ]
                await asyncio.gather(*(d.done() for d in downloads))
        for d in downloads:
            d.destroy()
    left = 0
    for c in cores:
        still = _missing(c)
        if still:
            left += 1
            print_line(f"{c.label}: {still} blocks still missing (no peer sent them in time)")
        else:
            print_line(f"{c.label}: healed from peers")
    return left

"""Salvaging a storage database SQLite itself cannot read any more (a zeroed or truncated page,
flipped bits in its B-tree): every row that can still be read is copied into a fresh database,
which then replaces the damaged file (kept beside it as ``<name>.damaged``).

Invariants:

* Nothing is invented: rows are copied as they are stored; whatever they lost (blocks, tree nodes,
  bitfield pages) is found by read-time verification afterwards and fetched again from peers. A
  core whose identity (``auth``) or head rows are lost stays unopenable (reported, not replaced).
* Unreadable key ranges are found by halving the range until it reads, within a budget of failed
  reads (a damaged page costs about as many reads as it held rows).
* The damaged file is only renamed once the new one is complete and closed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from hyperpunch.hypercore.errors import StorageCorruptError
from hyperpunch.hypercore.sqlite_store import StoreDatabase

__all__ = ["SalvageReport", "salvage"]

FAILED_READ_BUDGET = 200_000
_LO, _HI = -(1 << 63), (1 << 63) - 1

# table -> (columns, the leading key column)
_TABLES: dict[str, tuple[str, str]] = {
    "cores": ("id, name", "id"),
    "meta": ("core, name, value", "core"),
    "user_data": ("core, key, value", "core"),
    "blocks": ("idx, data", "idx"),
    "tree": ("idx, size, hash", "idx"),
    "bitfield": ("page, data", "page"),
}


@dataclass
class SalvageReport:
    """Rows copied per table, and how many key ranges could not be read."""

    copied: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)

    @property
    def lost_anything(self) -> bool:
        return any(self.unreadable.values())


def needs_salvage(path: Path) -> bool:
    """Whether SQLite reports ``path`` as damaged (``PRAGMA quick_check``, or it cannot open it)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return True
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        return rows != [("ok",)]
    except sqlite3.Error:
        return True
    finally:
        conn.close()


def salvage(path: str | os.PathLike[str]) -> SalvageReport:
    """Copy what can be read of the database at ``path`` into a new one that replaces it."""
    src_path = Path(path)
    fresh = src_path.with_name(src_path.name + ".salvage")
    for p in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
        p.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"{src_path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise StorageCorruptError(f"{src_path} cannot be opened at all: {err}") from err
    report = SalvageReport()
    budget = [FAILED_READ_BUDGET]
    try:
        out = StoreDatabase(fresh, background_checkpoints=False)
        try:
            conn = out.conn
            conn.execute("BEGIN")
            for table, (cols, key) in _TABLES.items():
                report.copied[table] = 0
                report.unreadable[table] = 0
                _copy(src, conn, table, cols, key, _LO, _HI, report, budget)
            conn.execute("COMMIT")
        finally:
            out.close()
    finally:
        src.close()
    damaged = src_path.with_name(src_path.name + ".damaged")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{src_path}{suffix}", f"{damaged}{suffix}")
    os.replace(fresh, src_path)
    return report


def _copy(
    src: sqlite3.Connection,
    dst: sqlite3.Connection,
    table: str,
    cols: str,
    key: str,
    lo: int,
    hi: int,
    report: SalvageReport,
    budget: list[int],
) -> None:
    """Copy rows with ``lo <= key <= hi``, halving ranges that do not read."""
    stack = [(lo, hi)]
    marks = ", ".join("?" * len(cols.split(",")))
    while stack:
        a, b = stack.pop()
        try:
            rows = src.execute(
                f"SELECT {cols} FROM {table} WHERE {key} >= ? AND {key} <= ?", (a, b)
            ).fetchall()
        except sqlite3.Error:
            budget[0] -= 1
            if a == b or budget[0] <= 0:
                report.unreadable[table] += 1
                continue
            mid = a + (b - a) // 2
            stack.append((mid + 1, b))
            stack.append((a, mid))
            continue
        sql = f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({marks})"
        for row in rows:
            try:
                dst.execute(sql, row)
            except sqlite3.Error:  # a damaged row (a NULL, a wrong type): left out
                report.unreadable[table] += 1
            else:
                report.copied[table] += 1

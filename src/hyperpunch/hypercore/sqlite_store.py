"""SQLite core storage: one database file (WAL journal, one connection, one writer) holds every
core of a store, as JS corestore 7 keeps a whole store in one RocksDB.

Layout (schema version 2):

* ``cores(id, name)``: one row per core; ``name`` is the core's discovery key in a corestore and
  ``b""`` for the one core of a single-core directory (:class:`SQLiteStorage`). Id 0 is never
  allocated: a core with no row yet reads as empty and gets its row in its first write.
* ``blocks(idx, data)``, ``tree(idx, size, hash)``, ``bitfield(page, data)``: integer keys
  prefixed by the core, ``(core id << INDEX_BITS) + index``, so one B-tree lookup finds a row and a
  core's rows are one contiguous key range (``MAX_INDEX`` blocks / tree nodes / pages per core,
  ``MAX_CORES`` cores per store).
* ``meta(core, name, value)`` (auth, head, hints as compact-encoding) and
  ``user_data(core, key, value)``.
* Version 1 (``core.db`` of one core, unprefixed keys, written before stores shared a database) is
  migrated to version 2 in one transaction the first time it is opened; the core becomes id 1.

Invariants:

* All changes of a :class:`WriteBatch` land in **one** transaction (with the core's row when it is
  its first write): a database reopened after a crash (even SIGKILL mid-write) shows the state of
  the last committed batch of every core, never a mix.
* Calls are serialised by the database's lock, so the connection may be used from any thread (an
  asyncio caller may run calls through ``asyncio.to_thread``).
* A core's storage never reads or writes outside its own key range: indices outside
  ``0 <= i < MAX_INDEX`` read as absent and are refused in writes (:class:`WriteFailedError`).
* The tree node cache is shared by the store and bounded (``NODE_CACHE_MAX`` nodes in all); a
  committed write drops every node it replaced or deleted before the lock is released.
* Memory is bounded per store, not per core: the node cache and SQLite's page cache
  (``CACHE_KIB``) are shared by every core of the database; a core's storage object holds only
  its name and id.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from hyperpunch.crypto import TreeNode
from hyperpunch.encoding import Codec, DecodeError, decode, encode
from hyperpunch.hypercore.errors import StorageCorruptError, StorageFullError, WriteFailedError
from hyperpunch.hypercore.storage_records import (
    AUTH_CODEC,
    HEAD_CODEC,
    HINTS_CODEC,
    CoreAuth,
    CoreHead,
    CoreHints,
    WriteBatch,
    check_batch,
)

__all__ = [
    "DB_NAME",
    "INDEX_BITS",
    "MAX_CORES",
    "MAX_INDEX",
    "SCHEMA_VERSION",
    "SQLiteCoreStorage",
    "SQLiteStorage",
    "StoreDatabase",
    "storage_error",
]

DB_NAME = "core.db"
SCHEMA_VERSION = 2
INDEX_BITS = 42
MAX_INDEX = 1 << INDEX_BITS
MAX_CORES = (1 << (63 - INDEX_BITS)) - 1
NODE_CACHE_MAX = 65536
CACHE_KIB = 32768  # SQLite's page cache per store (its default is 2 MiB)
FALLBACK_CHECKPOINT_PAGES = 4096
CHECKPOINT_BYTES = 1 << 20  # about this much written since the last one asks for a checkpoint
_T = TypeVar("_T")
_SQLITE_FULL = 13
_SQLITE_CORRUPT = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


def storage_error(path: Path, err: BaseException, doing: str) -> WriteFailedError | StorageCorruptError:
    """The typed error for an SQLite / OS failure while ``doing`` something to ``path``: a full
    disk is :class:`StorageFullError`, a damaged file :class:`StorageCorruptError`, anything else
    :class:`WriteFailedError`."""
    code = getattr(err, "sqlite_errorcode", None)
    base = None if code is None else code & 0xFF
    if base == _SQLITE_FULL or (isinstance(err, OSError) and err.errno == errno.ENOSPC):
        return StorageFullError(f"{doing} {path} failed: the disk is full")
    if base in _SQLITE_CORRUPT:
        return StorageCorruptError(f"{path} is damaged ({doing}): {err}")
    return WriteFailedError(f"{doing} {path} failed: {err}")


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Reads: a failing database file is damage (``StorageCorruptError``), never a traceback."""
    try:
        yield
    except sqlite3.Error as err:
        code = getattr(err, "sqlite_errorcode", 0) & 0xFF
        raise StorageCorruptError(f"{path} cannot be read (sqlite error {code}): {err}") from err


_SCHEMA = """
CREATE TABLE IF NOT EXISTS cores (id INTEGER PRIMARY KEY, name BLOB NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS meta (
  core INTEGER NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (core, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tree (idx INTEGER PRIMARY KEY, size INTEGER NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bitfield (page INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS user_data (
  core INTEGER NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (core, key)
) WITHOUT ROWID;
"""

# version 1 -> 2: the single core becomes id 1 (name b''), its keys move into its prefix
_MIGRATE_V1 = f"""
ALTER TABLE meta RENAME TO meta_v1;
ALTER TABLE user_data RENAME TO user_data_v1;
{_SCHEMA}
INSERT INTO cores (id, name) VALUES (1, x'');
INSERT INTO meta (core, name, value) SELECT 1, name, value FROM meta_v1;
INSERT INTO user_data (core, key, value) SELECT 1, key, value FROM user_data_v1;
UPDATE blocks SET idx = idx + {1 << INDEX_BITS};
UPDATE tree SET idx = idx + {1 << INDEX_BITS};
UPDATE bitfield SET page = page + {1 << INDEX_BITS};
DROP TABLE meta_v1;
DROP TABLE user_data_v1;
"""


class StoreDatabase:
    """One SQLite database of many cores (see the module docstring); :meth:`core` gives the
    :class:`SQLiteCoreStorage` of one of them.

    ``durable=True`` sets ``synchronous=FULL`` (a committed batch survives power loss); the default
    ``NORMAL`` keeps every commit across process crashes and stays consistent after power loss.

    WAL checkpoints (copying the log into the database, with its fsyncs) run in one background
    thread shared by every database of the process, on a connection of its own, each time about
    ``CHECKPOINT_BYTES`` were written, so a writer on an event loop does not wait for the disk; the
    writer's connection checkpoints itself only when the log grows past
    ``FALLBACK_CHECKPOINT_PAGES`` (the thread fell behind). ``background_checkpoints=False``
    leaves checkpoints to SQLite's default (the writer, every 1 000 pages).
    """

    def __init__(
        self, path: str | os.PathLike[str], *, durable: bool = False, background_checkpoints: bool = True
    ) -> None:
        self.path = Path(path)
        self.durable = durable
        self._background_checkpoints = background_checkpoints
        self._unchecked_bytes = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            if err.errno == errno.ENOSPC:
                raise StorageFullError(f"cannot create {self.path.parent}: the disk is full") from err
            raise
        self.lock = threading.Lock()
        # tree nodes are read far more than written (every proof reads ~log2(length) of them)
        self.node_cache: dict[int, TreeNode] = {}
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as err:
            raise storage_error(self.path, err, "opening") from err
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StorageCorruptError(f"unknown storage schema version {version}")
            if version == 1:
                conn.executescript(f"BEGIN;{_MIGRATE_V1}PRAGMA user_version={SCHEMA_VERSION};COMMIT;")
            elif version < SCHEMA_VERSION:  # a new database: create the tables in one transaction
                conn.executescript(f"BEGIN;{_SCHEMA}PRAGMA user_version={SCHEMA_VERSION};COMMIT;")
            if background_checkpoints:
                conn.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
                conn.execute(f"PRAGMA journal_size_limit={FALLBACK_CHECKPOINT_PAGES * 4096}")
        except sqlite3.Error as err:
            conn.close()
            if getattr(err, "sqlite_errorcode", 0) & 0xFF == _SQLITE_FULL:
                raise storage_error(self.path, err, "opening") from err
            raise StorageCorruptError(f"cannot open {self.path}: {err}") from err
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise WriteFailedError("storage is closed")
        return self._conn

    @property
    def closed(self) -> bool:
        return self._conn is None

    def core_id(self, name: bytes) -> int:
        """The id of core ``name``, 0 when it has none yet."""
        with self.lock, _reading(self.path):
            row = self.conn.execute("SELECT id FROM cores WHERE name = ?", (bytes(name),)).fetchone()
        return 0 if row is None else int(row[0])

    def has_core(self, name: bytes) -> bool:
        return self.core_id(name) != 0

    def names(self) -> list[bytes]:
        """Every stored core's name, sorted."""
        with self.lock, _reading(self.path):
            rows = self.conn.execute("SELECT name FROM cores ORDER BY name").fetchall()
        return [bytes(r[0]) for r in rows]

    def core(self, name: bytes) -> SQLiteCoreStorage:
        """The storage of core ``name`` (stored or not yet: it is created by its first write)."""
        return SQLiteCoreStorage(self, bytes(name), self.core_id(name))

    def allocate(self, name: bytes) -> int:
        """The id of core ``name``, allocated if needed; call with the lock held, in a transaction."""
        c = self.conn
        row = c.execute("SELECT id FROM cores WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        cursor = c.execute("INSERT INTO cores (name) VALUES (?)", (name,))
        core_id = cursor.lastrowid
        if core_id is None or core_id > MAX_CORES:
            raise OverflowError(f"a store holds at most {MAX_CORES} cores")
        return int(core_id)

    def delete_core(self, name: bytes) -> None:
        """Remove core ``name`` and everything stored for it, in one transaction."""
        with self.lock:
            c = self.conn
            row = c.execute("SELECT id FROM cores WHERE name = ?", (bytes(name),)).fetchone()
            if row is None:
                return
            core_id = int(row[0])
            lo, hi = core_id << INDEX_BITS, (core_id + 1) << INDEX_BITS
            try:
                c.execute("BEGIN IMMEDIATE")
                for table, col in (("blocks", "idx"), ("tree", "idx"), ("bitfield", "page")):
                    c.execute(f"DELETE FROM {table} WHERE {col} >= ? AND {col} < ?", (lo, hi))
                c.execute("DELETE FROM meta WHERE core = ?", (core_id,))
                c.execute("DELETE FROM user_data WHERE core = ?", (core_id,))
                c.execute("DELETE FROM cores WHERE id = ?", (core_id,))
                c.execute("COMMIT")
            except sqlite3.Error as err:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise WriteFailedError(f"deleting a core from {self.path} failed: {err}") from err
            finally:
                self.node_cache.clear()

    def committed(self, nbytes: int) -> None:
        """A write of about ``nbytes`` committed (call with the lock held)."""
        if not self._background_checkpoints:
            return
        self._unchecked_bytes += nbytes
        if self._unchecked_bytes >= CHECKPOINT_BYTES:
            self._unchecked_bytes = 0
            _checkpoints().request(self.path, self.durable)

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self.node_cache.clear()

    def __enter__(self) -> StoreDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _CheckpointWorker:
    """One daemon thread running ``wal_checkpoint(PASSIVE)`` (which never blocks a writer) for the
    databases that asked, each on a short-lived connection of its own."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._cond = threading.Condition()
        self._wanted: dict[Path, bool] = {}  # path -> durable, in request order
        self._thread = threading.Thread(target=self._run, name="sqlite checkpoints", daemon=True)
        self._thread.start()

    def request(self, path: Path, durable: bool) -> None:
        with self._cond:
            if path not in self._wanted:
                self._wanted[path] = durable
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._wanted:
                    self._cond.wait()
                path = next(iter(self._wanted))
                durable = self._wanted.pop(path)
            _checkpoint(path, durable)


def _checkpoint(path: Path, durable: bool) -> None:
    with contextlib.suppress(sqlite3.Error):  # busy or gone: the next request (or the writer) does it
        # mode=rw: a database removed meanwhile is not created again
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None)
        try:
            conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()


_worker: list[_CheckpointWorker] = []
_worker_lock = threading.Lock()


def _checkpoints() -> _CheckpointWorker:
    with _worker_lock:
        if not _worker or _worker[0].pid != os.getpid():  # none yet, or a forked child's copy
            _worker[:] = [_CheckpointWorker()]
        return _worker[0]


def _node(index: int, size: object, hash_: object) -> TreeNode | None:
    """A tree node from a stored row, ``None`` when the row is damaged (wrong types or length)."""
    if not isinstance(size, int) or size < 0 or not isinstance(hash_, bytes) or len(hash_) != 32:
        return None
    return TreeNode(index, size, hash_)


def _clamp(i: int) -> int:
    return 0 if i < 0 else min(i, MAX_INDEX)


def _end(end: int) -> int:
    return MAX_INDEX if end == -1 or end > MAX_INDEX else max(end, 0)


def _check_index(i: int) -> None:
    if not 0 <= i < MAX_INDEX:
        raise OverflowError(f"index {i} is outside 0..2**{INDEX_BITS}")


class SQLiteCoreStorage:
    """The :class:`CoreStorage` of one core in a :class:`StoreDatabase`. Closing it only stops it
    being used; the database closes with its owner."""

    def __init__(self, db: StoreDatabase, name: bytes, core_id: int) -> None:
        self.db = db
        self.name = name
        self._id = core_id
        self._base = core_id << INDEX_BITS
        self._lock = db.lock
        self._cache = db.node_cache
        self._closed = False

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def stored(self) -> bool:
        """Whether the core has anything stored (its first write allocated its row)."""
        return self._id != 0

    @property
    def conn(self) -> sqlite3.Connection:
        if self._closed:
            raise WriteFailedError("storage is closed")
        return self.db.conn

    def _one(self, sql: str, args: tuple[object, ...]) -> Any:
        with self._lock, _reading(self.db.path):
            return self.conn.execute(sql, args).fetchone()

    def _decode_meta(self, name: str, codec: Codec[_T]) -> _T | None:
        row = self._one("SELECT value FROM meta WHERE core = ? AND name = ?", (self._id, name))
        if row is None:
            return None
        try:
            if not isinstance(row[0], bytes):
                raise DecodeError(f"stored value is {type(row[0]).__name__}, not bytes")
            return decode(codec, row[0], exact=True)
        except DecodeError as err:
            raise StorageCorruptError(f"stored {name} does not decode: {err}") from err

    def get_auth(self) -> CoreAuth | None:
        return self._decode_meta("auth", AUTH_CODEC)

    def get_head(self) -> CoreHead | None:
        return self._decode_meta("head", HEAD_CODEC)

    def get_hints(self) -> CoreHints:
        v = self._decode_meta("hints", HINTS_CODEC)
        return v if v is not None else CoreHints()

    def get_block(self, index: int) -> bytes | None:
        if not 0 <= index < MAX_INDEX:
            return None
        row = self._one("SELECT data FROM blocks WHERE idx = ?", (self._base + index,))
        if row is None:
            return None
        if not isinstance(row[0], bytes):
            raise StorageCorruptError(f"{self.path}: block {index} is not stored as bytes", index=index)
        return row[0]

    def get_tree_node(self, index: int) -> TreeNode | None:
        if not 0 <= index < MAX_INDEX:
            return None
        key = self._base + index
        node = self._cache.get(key)
        if node is not None:
            return node
        with (
            self._lock,
            _reading(self.db.path),
        ):  # read and cache under the lock, so a concurrent write cannot go stale
            row = self.conn.execute("SELECT size, hash FROM tree WHERE idx = ?", (key,)).fetchone()
            if row is None:
                return None
            node = _node(index, row[0], row[1])
            if node is None:  # a damaged row reads as absent; verification finds what is missing
                return None
            cache = self._cache
            if len(cache) >= NODE_CACHE_MAX:
                cache.clear()
            cache[key] = node
            return node

    def get_tree_nodes(self, start: int, end: int) -> dict[int, TreeNode]:
        """The stored tree nodes with index in ``[start, end)`` (one range read, not cached)."""
        base = self._base
        with self._lock, _reading(self.db.path):
            rows = self.conn.execute(
                "SELECT idx, size, hash FROM tree WHERE idx >= ? AND idx < ?",
                (base + _clamp(start), base + _end(end)),
            ).fetchall()
        found = (_node(int(i) - base, sz, h) for i, sz, h in rows)
        return {n.index: n for n in found if n is not None}

    def get_tree_nodes_in(self, indices: list[int]) -> dict[int, TreeNode]:
        """The stored tree nodes among ``indices`` (one read, not cached)."""
        base = self._base
        keys = [base + i for i in indices if 0 <= i < MAX_INDEX]
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        with self._lock, _reading(self.db.path):
            rows = self.conn.execute(
                f"SELECT idx, size, hash FROM tree WHERE idx IN ({marks})", keys
            ).fetchall()
        found = (_node(int(i) - base, sz, h) for i, sz, h in rows)
        return {n.index: n for n in found if n is not None}

    def has_tree_node(self, index: int) -> bool:
        if not 0 <= index < MAX_INDEX:
            return False
        return self._one("SELECT 1 FROM tree WHERE idx = ?", (self._base + index,)) is not None

    def get_bitfield_page(self, index: int) -> bytes | None:
        if not 0 <= index < MAX_INDEX:
            return None
        row = self._one("SELECT data FROM bitfield WHERE page = ?", (self._base + index,))
        return None if row is None or not isinstance(row[0], bytes) else row[0]

    def bitfield_pages(self) -> Iterator[tuple[int, bytes]]:
        base = self._base
        with self._lock, _reading(self.db.path):
            rows = self.conn.execute(
                "SELECT page, data FROM bitfield WHERE page >= ? AND page < ? ORDER BY page",
                (base, base + MAX_INDEX),
            ).fetchall()
        return iter([(int(p) - base, d) for p, d in rows if isinstance(d, bytes)])

    def get_user_data(self, key: str) -> bytes | None:
        row = self._one("SELECT value FROM user_data WHERE core = ? AND key = ?", (self._id, key))
        return None if row is None or not isinstance(row[0], bytes) else row[0]

    def user_data(self) -> Iterator[tuple[str, bytes]]:
        with self._lock, _reading(self.db.path):
            rows = self.conn.execute(
                "SELECT key, value FROM user_data WHERE core = ? ORDER BY key", (self._id,)
            ).fetchall()
        return iter([(str(k), v) for k, v in rows if isinstance(v, bytes)])

    def write(self, batch: WriteBatch) -> None:
        """Apply ``batch`` in one transaction (all or nothing)."""
        check_batch(batch)
        with self._lock:
            c = self.conn
            allocated = False
            try:
                c.execute("BEGIN IMMEDIATE")
                if self._id == 0:
                    self._id = self.db.allocate(self.name)
                    self._base = self._id << INDEX_BITS
                    allocated = True
                nbytes = self._apply(c, batch)
                c.execute("COMMIT")
                self.db.committed(nbytes)
            except (sqlite3.Error, OverflowError) as err:
                with contextlib.suppress(sqlite3.Error):
                    if c.in_transaction:
                        c.execute("ROLLBACK")
                if allocated:
                    self._id, self._base = 0, 0
                raise storage_error(self.path, err, "writing to") from err
            finally:
                # whatever happened, the cache may not hold anything the database does not
                cache = self._cache
                if batch.node_ranges or any(n is None for n in batch.nodes.values()):
                    cache.clear()
                else:
                    base = self._base
                    for i in batch.nodes:
                        cache.pop(base + i, None)

    def _apply(self, c: sqlite3.Connection, batch: WriteBatch) -> int:
        """Run ``batch``'s statements; returns about how many bytes they write."""
        base, core = self._base, self._id
        for start, end in batch.block_ranges:
            c.execute(
                "DELETE FROM blocks WHERE idx >= ? AND idx < ?", (base + _clamp(start), base + _end(end))
            )
        for start, end in batch.node_ranges:
            c.execute("DELETE FROM tree WHERE idx >= ? AND idx < ?", (base + _clamp(start), base + _end(end)))
        for start, end in batch.page_ranges:
            c.execute(
                "DELETE FROM bitfield WHERE page >= ? AND page < ?", (base + _clamp(start), base + _end(end))
            )
        for i in batch.blocks:
            _check_index(i)
        puts = [(base + i, v) for i, v in batch.blocks.items() if v is not None]
        if puts:
            c.executemany("INSERT OR REPLACE INTO blocks (idx, data) VALUES (?, ?)", puts)
        dels = [(base + i,) for i, v in batch.blocks.items() if v is None]
        if dels:
            c.executemany("DELETE FROM blocks WHERE idx = ?", dels)
        for i in batch.nodes:
            _check_index(i)
        nodes = [(base + n.index, n.size, n.hash) for n in batch.nodes.values() if n is not None]
        if nodes:
            c.executemany("INSERT OR REPLACE INTO tree (idx, size, hash) VALUES (?, ?, ?)", nodes)
        dels = [(base + i,) for i, n in batch.nodes.items() if n is None]
        if dels:
            c.executemany("DELETE FROM tree WHERE idx = ?", dels)
        for p, d in batch.pages.items():
            _check_index(p)
            if d is None:
                c.execute("DELETE FROM bitfield WHERE page = ?", (base + p,))
            else:
                c.execute("INSERT OR REPLACE INTO bitfield (page, data) VALUES (?, ?)", (base + p, d))
        for k, v in batch.user_data.items():
            if v is None:
                c.execute("DELETE FROM user_data WHERE core = ? AND key = ?", (core, k))
            else:
                c.execute(
                    "INSERT OR REPLACE INTO user_data (core, key, value) VALUES (?, ?, ?)", (core, k, v)
                )
        meta: list[tuple[int, str, bytes]] = []
        if batch.auth is not None:
            meta.append((core, "auth", encode(AUTH_CODEC, batch.auth)))
        if batch.head is not None:
            meta.append((core, "head", encode(HEAD_CODEC, batch.head)))
        if batch.hints is not None:
            meta.append((core, "hints", encode(HINTS_CODEC, batch.hints)))
        if meta:
            c.executemany("INSERT OR REPLACE INTO meta (core, name, value) VALUES (?, ?, ?)", meta)
        if batch.head_deleted:
            c.execute("DELETE FROM meta WHERE core = ? AND name = 'head'", (core,))
        return sum(len(v) for _, v in puts) + 64 * len(nodes) + 4096 * len(batch.pages) + 256

    def close(self) -> None:
        self._closed = True


class SQLiteStorage(SQLiteCoreStorage):
    """A single core in ``<directory>/core.db``: a :class:`StoreDatabase` of that one core (name
    ``b""``), closed with it. A version 1 ``core.db`` is migrated when opened."""

    def __init__(self, directory: str | os.PathLike[str], *, durable: bool = False) -> None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        db = StoreDatabase(path / DB_NAME, durable=durable)
        try:
            core_id = db.core_id(b"")
        except BaseException:
            db.close()
            raise
        super().__init__(db, b"", core_id)

    def close(self) -> None:
        super().close()
        self.db.close()

    def __enter__(self) -> SQLiteStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

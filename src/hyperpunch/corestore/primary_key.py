"""The store's primary key on disk: created once, crash-safe, refused when damaged.

Invariants:

* File ``<store>/primary-key`` holds exactly 69 bytes: magic ``b"HPCS"``, format version ``1``,
  the 32-byte key, then ``BLAKE2b-256`` of the 37 bytes before it. Anything else (short, long,
  bad magic, unknown version, checksum mismatch) raises :class:`PrimaryKeyCorruptError`: every
  named core's key derives from this key, so a guessed or regenerated key would silently fork the
  store's identity.
* Creation is atomic and first-writer-wins: the file is written and fsynced under a temporary
  name, then hard-linked into place (``link`` fails if another process got there first, in which
  case its key is used), and the directory is fsynced. A crash leaves either no file or a whole one.
"""

from __future__ import annotations

import contextlib
import errno
import os
from hashlib import blake2b
from pathlib import Path

from hyperpunch import crypto
from hyperpunch.corestore.errors import PrimaryKeyCorruptError
from hyperpunch.hypercore.errors import StorageFullError

__all__ = ["FILE_NAME", "decode_primary_key", "encode_primary_key", "load_or_create_primary_key"]

FILE_NAME = "primary-key"
_MAGIC = b"HPCS"
_VERSION = 1
_SIZE = len(_MAGIC) + 1 + 32 + 32


def encode_primary_key(key: bytes) -> bytes:
    if len(key) != 32:
        raise ValueError("primary key must be 32 bytes")
    body = _MAGIC + bytes((_VERSION,)) + key
    return body + blake2b(body, digest_size=32).digest()


def decode_primary_key(data: bytes, where: str = FILE_NAME) -> bytes:
    """The key stored in ``data``, or :class:`PrimaryKeyCorruptError`."""
    if len(data) != _SIZE:
        raise PrimaryKeyCorruptError(f"{where}: expected {_SIZE} bytes, found {len(data)}")
    if data[:4] != _MAGIC:
        raise PrimaryKeyCorruptError(f"{where}: not a hyperpunch corestore primary key file")
    if data[4] != _VERSION:
        raise PrimaryKeyCorruptError(f"{where}: unknown format version {data[4]}")
    body, checksum = data[:37], data[37:]
    if blake2b(body, digest_size=32).digest() != checksum:
        raise PrimaryKeyCorruptError(f"{where}: checksum mismatch (the primary key is damaged)")
    return bytes(data[5:37])


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can fsync a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load_or_create_primary_key(directory: str | os.PathLike[str], fresh: bytes | None = None) -> bytes:
    """The primary key stored in ``directory``; if there is none, store ``fresh`` (default: 32
    random bytes) and return it. A full disk is :class:`StorageFullError` (nothing is left behind)."""
    try:
        return _load_or_create(Path(directory), fresh)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise StorageFullError(f"cannot store the primary key in {directory}: the disk is full") from err
        raise


def _load_or_create(d: Path, fresh: bytes | None) -> bytes:
    d.mkdir(parents=True, exist_ok=True)
    path = d / FILE_NAME
    try:
        return decode_primary_key(path.read_bytes(), str(path))
    except FileNotFoundError:
        pass
    key = crypto.random_bytes(32) if fresh is None else bytes(fresh)
    tmp = d / f".{FILE_NAME}.{os.getpid()}.{crypto.random_bytes(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, encode_primary_key(key))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return decode_primary_key(path.read_bytes(), str(path))
        except OSError:  # no hard links here: fall back to a rename (atomic, last writer wins)
            if path.exists():
                return decode_primary_key(path.read_bytes(), str(path))
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(d)
    return key

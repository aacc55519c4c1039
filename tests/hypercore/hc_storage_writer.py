"""Child process for the crash test: appends batches to a SQLite core store forever, printing the
committed length after each batch. The parent SIGKILLs it at an arbitrary moment."""

from __future__ import annotations

import sys

from hyperpunch import crypto
from hyperpunch.hypercore import manifest as man
from hyperpunch.hypercore.storage import (
    CoreAuth,
    CoreHints,
    SQLiteStorage,
    WriteBatch,
    append_blocks,
    load_bitfield,
    open_tree,
)

KP = crypto.key_pair(bytes([0x21]) * 32)
MANIFEST = man.default_signer_manifest(KP.public_key)
VERIFIER = man.Verifier.from_manifest(MANIFEST)


def value(i: int) -> bytes:
    return f"blk{i}.".encode() * (i % 7 + 1)


def main(directory: str) -> None:
    storage = SQLiteStorage(directory)
    if storage.get_auth() is None:
        wb = WriteBatch()
        key = man.manifest_hash(MANIFEST)
        wb.set_auth(CoreAuth(key, crypto.discovery_key(key), MANIFEST, KP))
        storage.write(wb)
    tree = open_tree(storage)
    bits = load_bitfield(storage)
    n = 1
    while True:
        start = tree.length
        values = [value(i) for i in range(start, start + n)]
        append_blocks(
            storage,
            tree,
            values,
            sign=lambda b: VERIFIER.sign(b, KP),
            bitfield=bits,
            hints=CoreHints(tree.length + n),
        )
        sys.stdout.write(f"{tree.length}\n")
        sys.stdout.flush()
        n = n % 13 + 1


if __name__ == "__main__":
    main(sys.argv[1])

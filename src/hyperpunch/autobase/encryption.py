"""Autobase block encryption (JS autobase 7.28.1 ``encryptionKey``, ``lib/encryption.js``).

An autobase opened with a 32-byte encryption key encrypts every core it writes with hypercore's
default block cipher (:class:`~hyperpunch.hypercore.encryption.DefaultEncryption`: 8 bytes of
blinded fork id, then the XSalsa20 ciphertext). In 7.28.1 every core autobase makes has manifest
version 1, so JS takes its *compat* paths throughout (``isCompat``):

* a writer core (the local one, and each remote writer as read): the block key is hypercore's
  ``BLAKE2b-256(DEFAULT_ENCRYPTION || writer core key || encryption key)`` (JS
  ``HypercoreEncryption.deriveKeys(encryptionKey, core.key)``);
* a view core, the system core (``'_system'``) included: the block key is
  ``BLAKE2b-256(NS_VIEW_BLOCK_KEY || bootstrap key || encryption key || name)`` (JS
  ``getCompatBlockKey``), the same for every core the view moves to; the ``'_encryption'`` core
  is never encrypted;
* the blinding key is ``BLAKE2b-256(block key)`` in both cases.

The key also changes every view's signer namespace (``H(encryption key)`` is hashed in, see
:func:`~hyperpunch.autobase.keys.derive_namespace`), so the view and system core keys differ
from an unencrypted base's. JS's newer ``EncryptionView`` scheme (type-1 padding with a key id,
manifest version 2) is not reachable from 7.28.1's defaults and is not implemented here.

The cipher is unauthenticated (as in JS): a wrong key decrypts to noise, so the base checks that
every decrypted writer block decodes as an oplog message and raises
:class:`~hyperpunch.autobase.errors.EncryptionKeyError` where one does not, rather than handing
noise on.

Invariants: view blocks are encrypted with fork id 0 (JS encrypts with the view core's fork,
which stays 0 unless an indexed core is truncated); decryption never needs the fork.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hyperpunch import crypto
from hyperpunch.autobase.errors import AutobaseLocalError, EncryptionKeyError
from hyperpunch.autobase.keys import NS_VIEW_BLOCK_KEY
from hyperpunch.autobase.messages import oplog_message
from hyperpunch.crypto import TreeNode
from hyperpunch.encoding import DecodeError, decode
from hyperpunch.hypercore import HypercoreError, flat_tree
from hyperpunch.hypercore.encryption import DefaultEncryption

__all__ = [
    "KEY_BYTES",
    "BaseEncryption",
    "StoredTree",
    "view_block_key",
    "writer_block_key",
    "writer_blocks",
]

KEY_BYTES = 32


def view_block_key(bootstrap: bytes, encryption_key: bytes, name: str) -> bytes:
    """The block key of view ``name``'s cores (JS ``getCompatBlockKey``)."""
    return crypto.hash([NS_VIEW_BLOCK_KEY, bootstrap, encryption_key, name.encode()])


def writer_block_key(encryption_key: bytes, writer_key: bytes) -> bytes:
    """The block key of writer core ``writer_key`` (JS ``HypercoreEncryption.deriveKeys``)."""
    return DefaultEncryption(encryption_key, writer_key).block_key


class BaseEncryption:
    """The ciphers of one base: per writer core and per view name (cached)."""

    def __init__(self, bootstrap: bytes, encryption_key: bytes) -> None:
        if len(encryption_key) != KEY_BYTES:
            raise AutobaseLocalError("encryption key must be 32 bytes")
        self.bootstrap = bytes(bootstrap)
        self.key = bytes(encryption_key)
        self._writers: dict[bytes, DefaultEncryption] = {}
        self._views: dict[str, DefaultEncryption] = {}

    def writer(self, writer_key: bytes) -> DefaultEncryption:
        enc = self._writers.get(writer_key)
        if enc is None:
            enc = self._writers[writer_key] = DefaultEncryption(self.key, writer_key)
        return enc

    def view(self, name: str) -> DefaultEncryption:
        enc = self._views.get(name)
        if enc is None:
            block_key = view_block_key(self.bootstrap, self.key, name)
            enc = self._views[name] = DefaultEncryption(block_key, b"", block=True)
        return enc

    def decrypt_writer_block(self, writer_key: bytes, index: int, stored: bytes) -> bytes:
        return self.writer(writer_key).decrypt(index, stored)

    def encrypt_view_block(self, name: str, index: int, block: bytes) -> bytes:
        """What view ``name``'s core stores (and hashes) at ``index`` for ``block``."""
        return self.view(name).encrypt(index, block, 0)


class StoredTree:
    """The blocks one view core stores (``cipher(index, block)`` of each plain block) and their
    Merkle nodes, built as blocks come (a tree hash then costs O(log n), not a pass over every
    block); ``truncate`` drops the nodes over the blocks it removes."""

    def __init__(self, cipher: Callable[[int, bytes], bytes]) -> None:
        self._cipher = cipher
        self.plain: list[bytes] = []
        self._nodes: dict[int, TreeNode] = {}

    @property
    def length(self) -> int:
        return len(self.plain)

    def truncate(self, length: int) -> None:
        if length >= len(self.plain):
            return
        del self.plain[length:]
        self._nodes = {i: n for i, n in self._nodes.items() if flat_tree.right_span(i) < 2 * length}

    def append(self, block: bytes) -> None:
        i = len(self.plain)
        self.plain.append(block)
        stored = self._cipher(i, block)
        self._nodes[2 * i] = TreeNode(2 * i, len(stored), crypto.data(stored))

    def sync(self, blocks: Sequence[bytes]) -> None:
        """Hold exactly ``blocks`` (kept up to the first one that differs)."""
        n = min(len(blocks), len(self.plain))
        same = 0
        while same < n and (blocks[same] is self.plain[same] or blocks[same] == self.plain[same]):
            same += 1
        self.truncate(same)
        for block in blocks[same:]:
            self.append(block)

    def _node(self, index: int) -> TreeNode:
        node = self._nodes.get(index)
        if node is None:
            kids = flat_tree.children(index)
            assert kids is not None
            a, b = self._node(kids[0]), self._node(kids[1])
            node = self._nodes[index] = TreeNode(index, a.size + b.size, crypto.parent(a, b))
        return node

    def tree_hash(self, length: int) -> bytes:
        """The tree hash of the first ``length`` stored blocks (``length <= self.length``)."""
        if length > len(self.plain):
            raise AutobaseLocalError(f"tree hash at {length} past the {len(self.plain)} blocks held")
        return crypto.tree([self._node(r) for r in flat_tree.full_roots(2 * length)])


def _decodes(block: bytes) -> bool:
    try:
        decode(oplog_message, block)
    except DecodeError:
        return False
    return True


def writer_blocks(
    crypt: BaseEncryption | None, bootstrap: bytes, key: bytes, start: int, stored: Sequence[bytes]
) -> list[bytes]:
    """Writer ``key``'s stored blocks from index ``start`` as oplog messages: decrypted with
    ``crypt`` (None: the base is not encrypted) and each checked to decode, since a wrong key
    gives noise. Unencrypted, the bootstrap writer's first block must decode (else the base is
    most likely encrypted); other undecodable blocks are the replayer's (it freezes the writer,
    as JS)."""
    if crypt is None:
        if key == bootstrap and start == 0 and stored and not _decodes(stored[0]):
            raise EncryptionKeyError(
                "the bootstrap writer's first block does not decode: is the base encrypted "
                "(no encryption key given)?"
            )
        return list(stored)
    out: list[bytes] = []
    for i, block in enumerate(stored):
        try:
            plain = crypt.decrypt_writer_block(key, start + i, block)
        except HypercoreError:  # shorter than the padding
            plain = b""
        if not _decodes(plain):
            raise EncryptionKeyError(
                f"block {start + i} of writer {key.hex()} does not decode with this encryption "
                "key (a wrong key, or a writer not encrypted with it)"
            )
        out.append(plain)
    return out

"""Core storage records: what a store holds for one core (:class:`CoreAuth`, :class:`CoreHead`,
:class:`CoreHints`), the atomic :class:`WriteBatch`, the :class:`CoreStorage` interface every store
implements, and the compact-encoding codecs the SQLite stores keep metadata in (never pickle).

Invariants:

* A :class:`WriteBatch` is applied by :meth:`CoreStorage.write` as one transaction: range deletions
  first, then puts and single deletions in the order they were made.
* :func:`check_batch` is the one argument check every store runs before writing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from hyperpunch.crypto import KeyPair, TreeNode
from hyperpunch.encoding import Codec, DecodeState, EncodeState, buffer, fixed32, optional_buffer, uint
from hyperpunch.hypercore.errors import BadArgumentError
from hyperpunch.hypercore.messages import Manifest
from hyperpunch.hypercore.messages import manifest as manifest_codec

__all__ = [
    "AUTH_CODEC",
    "HEAD_CODEC",
    "HINTS_CODEC",
    "CoreAuth",
    "CoreHead",
    "CoreHints",
    "CoreStorage",
    "WriteBatch",
    "check_batch",
]


@dataclass(frozen=True, slots=True)
class CoreAuth:
    """Who the core is: ``key`` (the manifest hash), its discovery key, manifest and key pair."""

    key: bytes
    discovery_key: bytes
    manifest: Manifest | None = None
    key_pair: KeyPair | None = None
    encryption_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class CoreHead:
    """The signed tree head: ``root_hash`` is ``crypto.tree(roots)`` at ``length``."""

    fork: int
    length: int
    root_hash: bytes
    signature: bytes | None


@dataclass(frozen=True, slots=True)
class CoreHints:
    contiguous_length: int = 0
    remote_contiguous_length: int = 0


_DELETE = None


@dataclass(slots=True)
class WriteBatch:
    """Pending changes, applied atomically by :meth:`CoreStorage.write` (in call order per kind:
    range deletions first, then puts and single deletions in the order they were made)."""

    auth: CoreAuth | None = None
    head: CoreHead | None = None
    head_deleted: bool = False
    hints: CoreHints | None = None
    blocks: dict[int, bytes | None] = field(default_factory=dict)
    block_ranges: list[tuple[int, int]] = field(default_factory=list)
    nodes: dict[int, TreeNode | None] = field(default_factory=dict)
    node_ranges: list[tuple[int, int]] = field(default_factory=list)
    pages: dict[int, bytes | None] = field(default_factory=dict)
    page_ranges: list[tuple[int, int]] = field(default_factory=list)
    user_data: dict[str, bytes | None] = field(default_factory=dict)

    def set_auth(self, auth: CoreAuth) -> None:
        self.auth = auth

    def set_head(self, head: CoreHead) -> None:
        self.head = head
        self.head_deleted = False

    def delete_head(self) -> None:
        self.head = None
        self.head_deleted = True

    def set_hints(self, hints: CoreHints) -> None:
        self.hints = hints

    def put_block(self, index: int, data: bytes) -> None:
        self.blocks[index] = bytes(data)

    def delete_block(self, index: int) -> None:
        self.blocks[index] = _DELETE

    def delete_block_range(self, start: int, end: int) -> None:
        """Delete blocks ``start <= i < end`` (``end == -1``: to the end)."""
        self.block_ranges.append((start, end))
        for i in [i for i in self.blocks if start <= i and (end == -1 or i < end)]:
            del self.blocks[i]

    def put_tree_node(self, node: TreeNode) -> None:
        self.nodes[node.index] = node

    def delete_tree_node(self, index: int) -> None:
        self.nodes[index] = _DELETE

    def delete_tree_node_range(self, start: int, end: int) -> None:
        self.node_ranges.append((start, end))
        for i in [i for i in self.nodes if start <= i and (end == -1 or i < end)]:
            del self.nodes[i]

    def put_bitfield_page(self, index: int, data: bytes) -> None:
        self.pages[index] = bytes(data)

    def delete_bitfield_page(self, index: int) -> None:
        self.pages[index] = _DELETE

    def delete_bitfield_page_range(self, start: int, end: int) -> None:
        self.page_ranges.append((start, end))
        for i in [i for i in self.pages if start <= i and (end == -1 or i < end)]:
            del self.pages[i]

    def put_user_data(self, key: str, value: bytes) -> None:
        self.user_data[key] = bytes(value)

    def delete_user_data(self, key: str) -> None:
        self.user_data[key] = _DELETE


class CoreStorage(Protocol):
    """The storage interface a Hypercore uses (both stores implement it)."""

    def get_auth(self) -> CoreAuth | None: ...

    def get_head(self) -> CoreHead | None: ...

    def get_hints(self) -> CoreHints: ...

    def get_block(self, index: int) -> bytes | None: ...

    def get_tree_node(self, index: int) -> TreeNode | None: ...

    def has_tree_node(self, index: int) -> bool: ...

    def get_bitfield_page(self, index: int) -> bytes | None: ...

    def bitfield_pages(self) -> Iterator[tuple[int, bytes]]: ...

    def get_user_data(self, key: str) -> bytes | None: ...

    def user_data(self) -> Iterator[tuple[str, bytes]]: ...

    def write(self, batch: WriteBatch) -> None: ...

    def close(self) -> None: ...


# --- metadata encodings -------------------------------------------------------------------------


class _AuthCodec(Codec[CoreAuth]):
    __slots__ = ()

    def preencode(self, state: EncodeState, a: CoreAuth) -> None:
        state.end += 1 + 64
        if a.manifest is not None:
            manifest_codec.preencode(state, a.manifest)
        if a.key_pair is not None:
            buffer.preencode(state, a.key_pair.public_key)
            buffer.preencode(state, a.key_pair.secret_key)
        if a.encryption_key is not None:
            buffer.preencode(state, a.encryption_key)

    def encode(self, state: EncodeState, a: CoreAuth) -> None:
        flags = (
            (1 if a.manifest is not None else 0)
            | (2 if a.key_pair is not None else 0)
            | (4 if a.encryption_key is not None else 0)
        )
        uint.encode(state, flags)
        fixed32.encode(state, a.key)
        fixed32.encode(state, a.discovery_key)
        if a.manifest is not None:
            manifest_codec.encode(state, a.manifest)
        if a.key_pair is not None:
            buffer.encode(state, a.key_pair.public_key)
            buffer.encode(state, a.key_pair.secret_key)
        if a.encryption_key is not None:
            buffer.encode(state, a.encryption_key)

    def decode(self, state: DecodeState) -> CoreAuth:
        flags = uint.decode(state)
        key = fixed32.decode(state)
        dk = fixed32.decode(state)
        man = manifest_codec.decode(state) if flags & 1 else None
        kp = KeyPair(buffer.decode(state), buffer.decode(state)) if flags & 2 else None
        ek = buffer.decode(state) if flags & 4 else None
        return CoreAuth(key, dk, man, kp, ek)


class _HeadCodec(Codec[CoreHead]):
    __slots__ = ()

    def preencode(self, state: EncodeState, h: CoreHead) -> None:
        uint.preencode(state, h.fork)
        uint.preencode(state, h.length)
        state.end += 32
        optional_buffer.preencode(state, h.signature)

    def encode(self, state: EncodeState, h: CoreHead) -> None:
        uint.encode(state, h.fork)
        uint.encode(state, h.length)
        fixed32.encode(state, h.root_hash)
        optional_buffer.encode(state, h.signature)

    def decode(self, state: DecodeState) -> CoreHead:
        return CoreHead(
            uint.decode(state), uint.decode(state), fixed32.decode(state), optional_buffer.decode(state)
        )


class _HintsCodec(Codec[CoreHints]):
    __slots__ = ()

    def preencode(self, state: EncodeState, h: CoreHints) -> None:
        uint.preencode(state, h.contiguous_length)
        uint.preencode(state, h.remote_contiguous_length)

    def encode(self, state: EncodeState, h: CoreHints) -> None:
        uint.encode(state, h.contiguous_length)
        uint.encode(state, h.remote_contiguous_length)

    def decode(self, state: DecodeState) -> CoreHints:
        return CoreHints(uint.decode(state), uint.decode(state))


AUTH_CODEC: Codec[CoreAuth] = _AuthCodec()
HEAD_CODEC: Codec[CoreHead] = _HeadCodec()
HINTS_CODEC: Codec[CoreHints] = _HintsCodec()


def check_batch(batch: WriteBatch) -> None:
    """Refuse a batch no store can hold (checked before any write starts)."""
    if batch.head is not None and len(batch.head.root_hash) != 32:
        raise BadArgumentError("head root hash must be 32 bytes")
    for n in batch.nodes.values():
        if n is not None and len(n.hash) != 32:
            raise BadArgumentError("tree node hash must be 32 bytes")

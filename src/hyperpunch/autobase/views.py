"""The views ``open`` makes on an Autobase: in-memory append-only views (:class:`MemoryView`)
and Hypercores for core-backed views such as a Hyperbee, kept by a :class:`ViewStore`, which also
gives each view's Merkle tree hash as JS's view core has it (of the encrypted blocks, for an
encrypted base).

Invariants: a view's tree hash is of its blocks as encoded (and, with ``cipher``, as stored
encrypted); truncations through :meth:`ViewStore.truncate` or on the view itself are followed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hyperpunch.autobase import keys
from hyperpunch.autobase.encryption import StoredTree
from hyperpunch.autobase.errors import AutobaseLocalError
from hyperpunch.hypercore import Hypercore
from hyperpunch.hypercore.encodings import ValueEncoding, resolve_encoding

__all__ = ["MemoryView", "View", "ViewStore"]


class MemoryView:
    """An in-memory append-only view (``get``/``append``/``truncate``/``length``); values are
    also kept as the blocks JS would write (encoded with ``value_encoding``)."""

    def __init__(self, name: str, value_encoding: str | ValueEncoding = "binary") -> None:
        self.name = name
        self._codec = resolve_encoding(value_encoding)
        self._values: list[Any] = []
        self._blocks: list[bytes] = []

    @property
    def length(self) -> int:
        return len(self._values)

    async def append(self, value: Any) -> int:
        block = self._codec.encode(value)
        self._values.append(value)
        self._blocks.append(block)
        return len(self._values)

    def blocks(self, length: int | None = None) -> list[bytes]:
        """The view's first ``length`` (default: all) blocks, encoded."""
        return self._blocks[: len(self._blocks) if length is None else length]

    async def get(self, index: int) -> Any:
        return self._values[index]

    def truncate(self, length: int) -> None:
        del self._values[length:]
        del self._blocks[length:]


View = MemoryView | Hypercore


class ViewStore:
    """What ``open`` receives: ``get(name)`` makes (or returns) the named in-memory view;
    ``core(name)`` a Hypercore to open a Hyperbee (or any core-backed view) on, the working
    copy of the view's blocks (in memory, its own key; :meth:`Autobase.view_core` gives the key
    JS derives)."""

    def __init__(self) -> None:
        self.views: dict[str, View] = {}
        # an encrypted base: how a view core stores a block (view name, index, block), and per
        # view the stored blocks' tree (with the fork of a core view it was synced at)
        self.cipher: Callable[[str, int, bytes], bytes] | None = None
        self._stored: dict[str, tuple[StoredTree, int]] = {}

    def get(self, name: str, *, value_encoding: str | ValueEncoding = "binary") -> MemoryView:
        view = self.views.get(name)
        if view is None:
            view = self.views[name] = MemoryView(name, value_encoding)
        if not isinstance(view, MemoryView):
            raise AutobaseLocalError(f"view {name!r} is a core view")
        return view

    def core(self, name: str, *, value_encoding: str | ValueEncoding | None = None) -> Hypercore:
        view = self.views.get(name)
        if view is None:
            view = self.views[name] = Hypercore(None, value_encoding=value_encoding)
        if not isinstance(view, Hypercore):
            raise AutobaseLocalError(f"view {name!r} is an in-memory view")
        return view

    @property
    def lengths(self) -> list[int]:
        return [v.length for v in self.views.values()]

    async def ready(self) -> None:
        for view in self.views.values():
            if isinstance(view, Hypercore):
                await view.ready()

    async def tree_hash(self, name: str, length: int) -> bytes:
        view = self.views[name]
        if self.cipher is not None:  # the hash of the blocks as JS's encrypted core stores them
            tree = await self._stored_tree(name, view)
            return tree.tree_hash(length)
        if isinstance(view, MemoryView):
            return keys.tree_hash(view.blocks(length))
        return await view.tree_hash(length) if length else keys.tree_hash([])

    async def _stored_tree(self, name: str, view: View) -> StoredTree:
        cipher = self.cipher
        assert cipher is not None
        tree, fork = self._stored.get(name) or (StoredTree(lambda i, b: cipher(name, i, b)), -1)
        if isinstance(view, MemoryView):
            tree.sync(view.blocks())
        else:  # a core view: unchanged below the tree's length while its fork is the same
            if fork != view.fork or view.length < tree.length:
                tree.sync([await view.get(i, raw=True) for i in range(view.length)])
            for i in range(tree.length, view.length):
                tree.append(await view.get(i, raw=True))
        self._stored[name] = (tree, view.fork if isinstance(view, Hypercore) else 0)
        return tree

    async def truncate(self, lengths: Sequence[int]) -> None:
        for (name, view), length in zip(self.views.items(), lengths, strict=False):
            if isinstance(view, MemoryView):
                view.truncate(length)
            elif view.length > length:
                await view.truncate(length)
                if name in self._stored:  # the stored tree follows: no need to re-read the core
                    tree = self._stored[name][0]
                    tree.truncate(length)
                    self._stored[name] = (tree, view.fork)

    async def aclose(self) -> None:
        for view in self.views.values():
            if isinstance(view, Hypercore):
                await view.aclose()

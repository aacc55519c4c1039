"""The ``_system`` view as JS autobase writes it (JS ``lib/system.js`` and the system parts of
``lib/apply-state.js``), and the signatures an indexer puts in its oplog blocks.

The system view is a Hyperbee (binary keys, no extension) holding one ``MEMBERS`` record per
writer (key ``01 00 || writer key``, a :data:`~hyperpunch.autobase.messages.member`) and the
``info`` record (key ``00 00 'info'``, a :data:`~hyperpunch.autobase.messages.info`), written as
one bee batch per applied writer batch: the member records changed by ``apply`` (not also in the
clock updates), then one per writer whose head moved, then ``info``.

:class:`SystemState` is the pure bookkeeping (JS ``SystemView`` without its bee: heads, members,
pending and active indexers, view mapping) and produces each flush's puts. :class:`SystemCore`
writes them to an in-memory Hypercore through a Hyperbee and tracks the keys JS gives the
system, encryption and user view cores (moved to cores signed by the indexers, prologued by
their content, at every indexer change). Only *indexed* writer batches are fed here: the indexed
prefix of JS's system core is a function of the linearized order alone, so Python writes the
same blocks (tip batches, which JS writes and undoes, never reach a signature).

Invariants: the bee blocks, the info/member records and the derived core keys are JS 7.28.1's
for the same linearized batches and host calls (autobase version 1: no entropy).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from hyperpunch import crypto
from hyperpunch.autobase import keys
from hyperpunch.autobase.encryption import StoredTree
from hyperpunch.autobase.system_state import Signature, SystemBatch, SystemState
from hyperpunch.hyperbee import Hyperbee
from hyperpunch.hypercore import Hypercore, caps
from hyperpunch.hypercore.messages import Prologue

__all__ = ["Signature", "SystemCore"]


SignerOf = Callable[[bytes], bytes]
TreeHashOf = Callable[[int, int], Awaitable[bytes]]  # (user view index, length) -> tree hash
Cipher = Callable[[str, int, bytes], bytes]  # (view name, index, block) -> the stored block


class SystemCore:
    """The system view core Python writes (in memory) and the keys of the system, encryption
    and user view cores as JS derives them. ``names`` are the user views, in open order.
    ``block_encryption_key``: the base's encryption key (it changes the view namespaces);
    ``cipher``: how a view core stores a block (the tree hashes are of the stored blocks)."""

    def __init__(
        self,
        base_key: bytes,
        signer_of: SignerOf,
        tree_hash_of: TreeHashOf,
        *,
        block_encryption_key: bytes | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        self.base_key = base_key
        self._ek = block_encryption_key
        # the blocks JS's encrypted system core stores (the core here is append-only)
        self._stored = None if cipher is None else StoredTree(lambda i, b: cipher("_system", i, b))
        self.state = SystemState()
        self.core = Hypercore(None)
        self.bee = Hyperbee(self.core, extension=False)
        self._signer_of = signer_of
        self._tree_hash_of = tree_hash_of
        self.names: list[str] = []
        self.view_keys: list[bytes] = []
        self.key = keys.view_key(base_key, [], "_system", encryption_key=self._ek)
        self.encryption_key = keys.view_key(base_key, [], "_encryption", encryption_key=self._ek)
        self.indexer_keys: list[bytes] = []  # who signs (the indexed indexer set)
        self.migrations = 0
        self.prologue_length = 0  # the system core's prologue (its length at the last migration)

    async def ready(self, names: Sequence[str]) -> None:
        await self.bee.ready()
        self._names(names)

    def _names(self, names: Sequence[str]) -> None:
        for name in names[len(self.names) :]:
            self.names.append(name)
            self.view_keys.append(keys.view_key(self.base_key, [], name, encryption_key=self._ek))

    @property
    def length(self) -> int:
        return self.core.length

    async def tree_hash(self, length: int | None = None) -> bytes:
        n = self.core.length if length is None else length
        if self._stored is None:
            return await self.core.tree_hash(n) if n else keys.tree_hash([])
        while self._stored.length < n:
            self._stored.append(await self.core.get(self._stored.length, raw=True))
        return self._stored.tree_hash(n)

    async def apply(self, batch: SystemBatch, names: Sequence[str]) -> bool:
        """Write the system flush of one indexed writer batch; returns whether the indexer set
        changed (the cores then moved, as JS ``_premigrate``)."""
        self._names(names)
        if batch.skip:
            return False
        st = self.state
        if st.bootstrapping:
            st.add(self.base_key, is_indexer=True)
        for deps in batch.nodes:
            for d in reversed(deps[1:]):
                if st.linkable(d.key, d.length):
                    st.add_head(d)
            st.add_head(deps[0])
        for op in batch.ops:
            if op.kind == "add":
                st.add(op.key, is_indexer=op.indexer)
            elif op.kind == "remove":
                st.remove(op.key)
            else:
                st.ack(op.key)
        migrated = st.indexer_update
        signers: list[bytes] = []
        if migrated:  # JS _generateNextViews: every view moves to a core the indexers sign
            signers = [self._signer_of(k) for k in st.indexer_keys]
            for i, name in enumerate(self.names):
                length = batch.view_lengths[i] if i < len(batch.view_lengths) else 0
                prologue = Prologue(await self._tree_hash_of(i, length), length) if length else None
                self.view_keys[i] = keys.view_key(
                    self.base_key, signers, name, prologue=prologue, encryption_key=self._ek
                )
        puts = st.flush(self.view_keys, batch.view_lengths)
        b = self.bee.batch()
        for k, v in puts:
            await b.put(k, v)
        await b.flush()
        if migrated:  # JS _premigrate: the system core is prologued by its content so far
            length = self.prologue_length = self.core.length
            self.key = keys.view_key(
                self.base_key,
                signers,
                "_system",
                prologue=Prologue(await self.tree_hash(length), length),
                encryption_key=self._ek,
            )
            self.encryption_key = keys.view_key(
                self.base_key, signers, "_encryption", encryption_key=self._ek
            )
            self.migrations += 1
        self.indexer_keys = st.indexer_keys
        return migrated

    async def sign(
        self, secret_key: bytes
    ) -> tuple[tuple[bytes, int], tuple[bytes, int], list[tuple[bytes, int] | None]]:
        """An indexer's signatures of the system core (at its length), the encryption core (at 0)
        and each mapped user view (at its indexed length), as JS ``_signViewCore``."""
        length = self.core.length
        system = crypto.sign(
            caps.tree_signable(self.key, await self.tree_hash(length), length, 0), secret_key
        )
        enc = crypto.sign(caps.tree_signable(self.encryption_key, keys.tree_hash([]), 0, 0), secret_key)
        user: list[tuple[bytes, int] | None] = [None] * len(self.state.views)
        for i, _name in enumerate(self.names):
            idx = self.state.mapped[i] if i < len(self.state.mapped) else -1
            if idx == -1 or idx >= len(self.state.views):
                continue
            vlen = self.state.views[idx].length
            if not vlen:
                continue
            th = await self._tree_hash_of(i, vlen)
            user[idx] = (crypto.sign(caps.tree_signable(self.view_keys[i], th, vlen, 0), secret_key), vlen)
        return (system, length), (enc, 0), user

    async def aclose(self) -> None:
        await self.bee.aclose()
        await self.core.aclose()

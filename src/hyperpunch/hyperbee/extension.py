"""The ``hyperbee`` hypercore extension (JS ``hyperbee/lib/extension.js``).

Invariants:

* As an answerer: a ``get`` or ``iterator`` request for a version this bee has is replayed on a
  checkout of that version without waiting for blocks, and every block seq the lookup touched is
  sent back to the asking peer in ``cache`` messages of at most 128 seqs (an iterator request does
  at most ``2048 + 128`` blocks of work, skipping the checkpoint's own blocks), as JS does.
* As a reader: a ``cache`` message starts downloads of the named blocks; a lookup that has to wait
  for a block broadcasts a ``get`` for its key first, so peers push the whole path at once.
* On the wire each message is the protobuf bytes inside the frame hypercore gives an extension
  registered without an encoding (compact-encoding ``buffer``), as in JS.
* A message that does not decode, names a version this bee does not have, or whose replay fails
  on bad blocks is dropped: nothing a peer sends raises into the replicator.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from hyperpunch.aio import TaskOwner
from hyperpunch.encoding import DecodeError
from hyperpunch.errors import HyperpunchError
from hyperpunch.hyperbee.messages import (
    CacheMessage,
    ExtensionMessage,
    GetMessage,
    IteratorMessage,
    decode_extension,
    encode_extension,
)
from hyperpunch.hypercore import Hypercore

__all__ = ["BATCH_SIZE", "BeeExtension", "ExtensionHost", "ReplayView"]

log = logging.getLogger(__name__)

FLUSH_BATCH = 128
MAX_PASSIVE_BATCH = 2048
MAX_ACTIVE_BATCH = MAX_PASSIVE_BATCH + FLUSH_BATCH
BATCH_SIZE = MAX_PASSIVE_BATCH


class ReplayView(Protocol):
    """A checkout the extension replays a request on."""

    async def replay_get(self, key: bytes, onseq: Any) -> None: ...

    async def replay_iterator(self, message: IteratorMessage, onseq: Any, more: Any) -> None: ...

    async def aclose(self) -> None: ...


class ExtensionHost(Protocol):
    """The bee the extension belongs to (a :class:`hyperpunch.hyperbee.Hyperbee`)."""

    @property
    def core(self) -> Hypercore: ...

    @property
    def version(self) -> int: ...

    @property
    def tasks(self) -> TaskOwner: ...

    def replay_view(self, version: int) -> ReplayView: ...


class _Outgoing:
    def __init__(self, ext: BeeExtension, peer: Any) -> None:
        self.ext = ext
        self.peer = peer
        self.blocks: list[int] = []
        self.start = 0
        self.end = 0

    def push(self, seq: int) -> None:
        self.blocks.append(seq)
        if len(self.blocks) == 1 or seq < self.start:
            self.start = seq
        if len(self.blocks) == 1 or seq >= self.end:
            self.end = seq + 1
        if len(self.blocks) >= FLUSH_BATCH:
            self.send()
            self.blocks = []
            self.start = self.end = 0

    def send(self) -> None:
        if self.blocks:
            msg = ExtensionMessage(cache=CacheMessage(self.start, self.end, tuple(self.blocks)))
            self.ext.send(encode_extension(msg), self.peer)


class BeeExtension:
    def __init__(self, host: ExtensionHost) -> None:
        self.host = host
        self.handle = host.core.register_extension("hyperbee", on_message=self.on_message)
        self.requests_answered = 0
        self.destroyed = False

    def send(self, data: bytes, peer: Any) -> None:
        if not self.destroyed:
            self.handle.send(data, peer)

    def get(self, version: int, key: bytes) -> None:
        if not self.destroyed:
            self.handle.broadcast(encode_extension(ExtensionMessage(get=GetMessage(version, key))))

    def iterator(self, message: IteratorMessage) -> None:
        if not self.destroyed:
            self.handle.broadcast(encode_extension(ExtensionMessage(iterator=message)))

    def on_message(self, data: Any, peer: Any) -> None:
        if self.destroyed or not isinstance(data, bytes | None):
            return
        try:
            message = decode_extension(data or b"")
        except DecodeError:
            log.debug("dropping an undecodable hyperbee extension message")
            return
        if message.cache is not None:
            self.on_cache(message.cache)
        if message.get is not None:
            self._spawn(self._on_get(message.get, peer))
        if message.iterator is not None:
            self._spawn(self._on_iterator(message.iterator, peer))

    def _spawn(self, coro: Any) -> None:
        try:
            self.host.tasks.spawn(coro)
        except RuntimeError:
            coro.close()

    def on_cache(self, message: CacheMessage) -> None:
        core = self.host.core
        if core.closed or not message.blocks:
            return
        for seq in message.blocks[:MAX_ACTIVE_BATCH]:
            if seq < core.length:
                core.download(seq, seq + 1)

    async def _on_get(self, message: GetMessage, peer: Any) -> None:
        if not message.version or message.version > self.host.version or message.key is None:
            return
        out = _Outgoing(self, peer)
        view = self.host.replay_view(message.version)
        try:
            await view.replay_get(message.key, out.push)
        except HyperpunchError:
            pass
        finally:
            await view.aclose()
            out.send()
            self.requests_answered += 1

    async def _on_iterator(self, message: IteratorMessage, peer: Any) -> None:
        if not message.version or message.version > self.host.version:
            return
        out = _Outgoing(self, peer)
        seen: set[int] = set()
        skip = len(message.checkpoint)

        def onseq(seq: int) -> None:
            nonlocal skip
            if skip:
                skip -= 1
                return
            if seq in seen:
                return
            seen.add(seq)
            out.push(seq)

        view = self.host.replay_view(message.version)
        try:
            await view.replay_iterator(message, onseq, lambda: len(seen) < MAX_ACTIVE_BATCH)
        except HyperpunchError:
            pass
        finally:
            await view.aclose()
            out.send()
            self.requests_answered += 1

    def destroy(self) -> None:
        self.destroyed = True
        self.handle.destroy()

"""Replication of a Hypercore (JS ``lib/replicator.js``): the entry point ``replicate(core_or_session,
stream)`` (JS ``core.replicate(stream)``), the asyncio adapter of the sans-IO replication modules.

Modules: :mod:`.seam` (the Protocols: :class:`ReplicatedCore`, :class:`PeerHost`,
:class:`Scheduler`), :mod:`.replicator` (:class:`Replicator`: peers, what to fetch, from whom),
:mod:`.peer` (one ``hypercore/alpha`` channel), :mod:`.reorg` (forks), :mod:`.apply` (a burst of
block proofs in one write), :mod:`.protocol` (wire constants, capabilities, remote bitfields).

Invariants: one :class:`Replicator` per core, installed on first use in ``core.replicator``; one
Protomux per stream (an existing one on ``stream.user_data`` is reused, so many cores can share a
stream); the ``hypercore/alpha`` channel for the core is opened at most once per mux. Only this
module touches the event loop: it lends the replicator the running loop as its
:class:`Scheduler` (clock, ``call_soon``, ``call_later``) unless the caller passes one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from hyperpunch.hypercore.core import Core
from hyperpunch.hypercore.errors import BadArgumentError
from hyperpunch.hypercore.replication.replicator import Replicator
from hyperpunch.hypercore.replication.seam import PeerHost, ReplicatedCore, Scheduler
from hyperpunch.protomux import Protomux, ProtomuxCore

__all__ = [
    "PeerHost",
    "ReplicatedCore",
    "Replicator",
    "Scheduler",
    "attach_replicator",
    "loop_scheduler",
    "replicate",
]


class CoreHolder(Protocol):
    """A session (:class:`..session.Hypercore`): anything with an open ``core``."""

    @property
    def core(self) -> Core: ...


class _LoopScheduler:
    """An asyncio loop as a :class:`Scheduler`."""

    __slots__ = ("loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def time(self) -> float:
        return self.loop.time()

    def call_soon(self, callback: Callable[[], None], /) -> object:
        return self.loop.call_soon(callback)

    def call_later(self, delay: float, callback: Callable[[], None], /) -> object:
        return self.loop.call_later(delay, callback)


def loop_scheduler() -> Scheduler | None:
    """The running asyncio loop as a :class:`Scheduler` (``None`` outside a loop)."""
    try:
        return _LoopScheduler(asyncio.get_running_loop())
    except RuntimeError:
        return None


def attach_replicator(
    core: Core,
    *,
    scheduler: Scheduler | None = None,
    defer: Callable[[Callable[[], None]], object] | None = None,
) -> Replicator:
    """The core's :class:`Replicator`, made (on the running loop by default) if it has none yet."""
    rep = core.replicator
    if isinstance(rep, Replicator):
        return rep
    if rep is not None:
        raise BadArgumentError("the core already has a different replicator")
    rep = Replicator(core, scheduler=scheduler if scheduler is not None else loop_scheduler(), defer=defer)
    core.replicator = rep
    # work asked for before any peer existed: download() ranges and waiting get() calls
    for start, end in core.take_pending_ranges():
        rep.want_range(start, end)
    for index in core.waiting_blocks():
        rep.want_block(index)
    return rep


def replicate(
    target: CoreHolder | Core,
    stream: Any,
    *,
    is_initiator: bool | None = None,
    handshake_hash: bytes | None = None,
    defer: Callable[[Callable[[], None]], object] | None = None,
    scheduler: Scheduler | None = None,
    keep_alive: bool = True,
    request_timeout: float | None = None,
) -> Any:
    """Replicate ``target`` (a session or a core) over ``stream``: a SecretStream (a Protomux is
    made for it, or the one already on it is reused), a ``Protomux`` or a ``ProtomuxCore``.

    ``is_initiator`` / ``handshake_hash`` default to the stream's. A secret stream that gets its
    mux here also gets a 5 s keep-alive unless ``keep_alive=False`` (JS ``createProtocolStream``).
    ``scheduler`` is the replicator's clock and timers (default: the running loop); ``defer``
    overrides only how its deferred work is scheduled (default: ``scheduler.call_soon``);
    ``request_timeout`` (seconds) bounds how long a request may stay unanswered. Returns the mux.
    """
    core = target if isinstance(target, Core) else target.core
    rep = attach_replicator(core, scheduler=scheduler, defer=defer)
    if request_timeout is not None:
        rep.request_timeout = request_timeout
    if isinstance(stream, Protomux | ProtomuxCore):
        mux: Any = stream
        raw = getattr(stream, "stream", None)
    else:
        fresh = not isinstance(getattr(stream, "user_data", None), Protomux)
        mux = Protomux.from_stream(stream)
        raw = stream
        # like JS createProtocolStream: a stream hypercore sets up gets a 5 s keep-alive
        ss_core = getattr(stream, "core", None)
        if fresh and keep_alive and getattr(ss_core, "keep_alive", None) == 0:
            stream.set_keep_alive(5.0)
    if is_initiator is None:
        role = getattr(raw, "is_initiator", None)
        if role is None:
            raise BadArgumentError("the stream has no is_initiator: pass is_initiator=")
        is_initiator = bool(role)
    if handshake_hash is None:
        handshake_hash = getattr(raw, "handshake_hash", None)
        if handshake_hash is None:
            raise BadArgumentError("the stream has no handshake hash: pass handshake_hash=")
    rep.attach(
        mux,
        is_initiator=is_initiator,
        handshake_hash=handshake_hash,
        remote_public_key=getattr(raw, "remote_public_key", None),
    )
    return mux

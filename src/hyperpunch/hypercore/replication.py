"""The replication entry point: ``replicate(core_or_session, stream)`` (JS ``core.replicate(stream)``).

Invariants: one :class:`Replicator` per core, installed on first use in ``core.replicator``; one
Protomux per stream (an existing one on ``stream.user_data`` is reused, so many cores can share a
stream); the ``hypercore/alpha`` channel for the core is opened at most once per mux.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hyperpunch.hypercore.errors import BadArgumentError
from hyperpunch.hypercore.replicator import Replicator

if TYPE_CHECKING:
    from hyperpunch.hypercore.core import Core
    from hyperpunch.hypercore.session import Hypercore

__all__ = ["Replicator", "replicate"]


def replicate(
    target: Hypercore | Core,
    stream: Any,
    *,
    is_initiator: bool | None = None,
    handshake_hash: bytes | None = None,
    defer: Callable[[Callable[[], None]], None] | None = None,
    keep_alive: bool = True,
    request_timeout: float | None = None,
) -> Any:
    """Replicate ``target`` (a session or a core) over ``stream``: a SecretStream (a Protomux is
    made for it, or the one already on it is reused), a ``Protomux`` or a ``ProtomuxCore``.

    ``is_initiator`` / ``handshake_hash`` default to the stream's. A secret stream that gets its
    mux here also gets a 5 s keep-alive unless ``keep_alive=False`` (JS ``createProtocolStream``).
    ``defer`` schedules the replicator's deferred work (default: ``loop.call_soon``);
    ``request_timeout`` (seconds) bounds how long a request may stay unanswered. Returns the mux.
    """
    from hyperpunch.hypercore.core import Core
    from hyperpunch.protomux import Protomux, ProtomuxCore

    core = target if isinstance(target, Core) else target.core
    rep = core.replicator
    if not isinstance(rep, Replicator):
        if rep is not None:
            raise BadArgumentError("the core already has a different replicator")
        rep = Replicator(core, defer=defer)
        core.replicator = rep
        # work asked for before any peer existed: download() ranges and waiting get() calls
        for start, end in core.take_pending_ranges():
            rep.want_range(start, end)
        for index in core.waiting_blocks():
            rep.want_block(index)
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

"""Sans-IO protomux 3.12.1: many message-oriented channels over one message stream.

Invariants (the model of JS ``protomux/index.js``; every frame written is byte-identical):

* One stream message is one frame: ``uint channel · uint type · payload``. ``channel`` is the
  sender's local id (1-based); 0 is the control channel with types 0 BATCH, 1 OPEN, 2 REJECT,
  3 CLOSE. Empty frames are ignored, unknown types and unknown channel ids are ignored.
* Channels pair by ``protocol + "##" + hex(id)`` (plus aliases): both sides send OPEN; the
  second OPEN to arrive fully opens the channel and decodes the peer's handshake. An OPEN for
  a key with no local channel waiting is REJECTed at once unless a ``pair()`` handler matches;
  while that handler runs (it may create the channel) the peer's messages for it are buffered
  (the stream is paused past 32 KiB, each message counting 512 + its length).
* Any frame that does not decode, an OPEN reusing a live remote slot, a REJECT for an id we never
  offered, or an exception from a user callback destroys the whole mux (as JS does): the host is
  told to destroy the stream, :attr:`ProtomuxCore.error` keeps the reason, and
  :meth:`ProtomuxCore.receive_data` never raises.
* While corked, outgoing frames are collected into one BATCH frame (split at 8 MiB). A received
  batch holding more than one item corks our replies until its handlers have finished.
* The core never does IO: it calls a :class:`Host` (write/destroy/end/pause/resume, ``call_soon``
  for deferred work, ``spawn`` for awaitables returned by async handlers). Deferred work keeps
  Node's order (all ``process.nextTick`` work, i.e. JS ``queueTick``, before promise jobs) so
  replies land in a batch in the order JS puts them; it runs at the end of the outermost
  :meth:`ProtomuxCore.receive_data`, or via ``host.call_soon`` when queued outside it (so handlers
  attached right after ``create_channel`` still see everything).
* Input speaks the core vocabulary (``receive_data(frame)``; protomux has no timers, so no
  ``now``). Output is pushed through ``Host.write`` rather than pulled with ``data_to_send()``:
  ``message.send()`` is called by user code outside any adapter loop and returns the stream's
  drained flag at once (JS ``channel.send`` returns ``stream.write``), and cork/uncork already
  coalesces frames into one BATCH write; a pull model would need a wake-up call per send anyway.
* Channels (:mod:`hyperpunch.protomux.channel`) reach the mux only through the public
  :class:`~hyperpunch.protomux.channel.ChannelHost` seam this class satisfies; the pairing state
  lives in :mod:`hyperpunch.protomux.pairing`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Protocol, Unpack

from hyperpunch.encoding import DecodeState, State
from hyperpunch.encoding import optional_buffer as _optional_buffer
from hyperpunch.encoding import string as _string
from hyperpunch.encoding import uint as _uint
from hyperpunch.encoding.codec import decode_from
from hyperpunch.encoding.numbers import put_uint, uint_size
from hyperpunch.protomux.channel import Channel, ChannelOptions, Notify
from hyperpunch.protomux.errors import (
    BatchTooDeepError,
    ControlChannelOpenError,
    InvalidOpenError,
    InvalidRejectError,
    UnbalancedUncorkError,
)
from hyperpunch.protomux.pairing import Pending, ProtocolInfo, RemoteSlot, is_awaitable

__all__ = ["MAX_BATCH", "MAX_BUFFERED", "Host", "ProtomuxCore", "to_key"]

MAX_BUFFERED = 32768
MAX_BATCH = 8 * 1024 * 1024
MAX_BATCH_DEPTH = 64  # JS would recurse until its stack overflows; JS never nests batches

_uint_decode = _uint.decode


class Host(Protocol):
    """What the core needs from the outside world (the asyncio adapter, or a test harness)."""

    def write(self, frame: bytearray) -> bool:
        """Send one frame as one stream message; return False when the stream wants a drain."""
        ...

    def destroy(self, error: BaseException | None) -> None:
        """Destroy the stream; call :meth:`ProtomuxCore.on_close` once it is gone."""
        ...

    def end(self) -> None:
        """End our side of the stream (the remote ended its side)."""
        ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` soon, outside the current call (JS ``queueTick``)."""
        ...

    def spawn(self, awaitable: Awaitable[object], done: Callable[[BaseException | None], None]) -> None:
        """Run an awaitable a handler returned; call ``done(error_or_None)`` when it finishes."""
        ...

    def warn(self, error: BaseException) -> None:
        """Report an error that does not destroy anything (JS ``stream.emit('warning')``)."""
        ...


def to_key(protocol: str, id: bytes | None) -> str:
    """The pairing key JS uses: ``protocol + "##" + hex(id)``."""
    return protocol + "##" + (id.hex() if id else "")


class ProtomuxCore:
    """The protomux state machine for one stream (JS ``Protomux``), driven by a :class:`Host`."""

    def __init__(self, host: Host) -> None:
        self.corked = 0
        self.drained = True
        self.error: BaseException | None = None
        self._host = host
        self._remote_backlog = 0
        self._buffered = 0
        self._paused = False
        self._remote: list[RemoteSlot[Channel] | None] = []
        self._local: list[Channel | None] = []
        self._free: list[int] = []
        self._batch: list[tuple[int, bytearray]] | None = None
        self._batch_end = 0
        self._infos: dict[str, ProtocolInfo[Channel]] = {}
        self._notify: dict[str, Notify] = {}
        self._destroying = False
        self._stream_closed = False
        self._ticks: deque[Callable[[], None]] = deque()  # JS process.nextTick (queueTick)
        self._jobs: deque[Callable[[], None]] = deque()  # JS promise continuations
        self._tick_scheduled = False
        self._depth = 0
        self._batch_depth = 0

    # --- public ----------------------------------------------------------------------------------

    @property
    def destroyed(self) -> bool:
        """The mux is being destroyed or its stream closed."""
        return self._destroying

    @property
    def paused(self) -> bool:
        """Too many messages are buffered for channels still pairing; the host should stop reading."""
        return self._paused

    def __iter__(self) -> Iterator[Channel]:
        for channel in list(self._local):
            if channel is not None:
                yield channel

    def is_idle(self) -> bool:
        return len(self._local) == len(self._free)

    def cork(self) -> None:
        self.corked += 1
        if self.corked == 1:
            self._batch = []
            self._batch_end = 1

    def uncork(self) -> None:
        if self.corked <= 0:
            raise UnbalancedUncorkError("uncork() without cork()")
        self.corked -= 1
        if self.corked == 0:
            batch = self._batch
            self._batch = None
            if batch:
                self._send_batch(batch, self._batch_end)

    def get_last_channel(self, protocol: str, id: bytes | None = None) -> Channel | None:
        info = self._infos.get(to_key(protocol, id))
        return info.last_channel if info is not None else None

    def pair(self, protocol: str, notify: Notify, *, id: bytes | None = None) -> None:
        """Call ``notify(id)`` when the remote opens ``protocol``/``id`` (``id=None``: any id) first."""
        self._notify[to_key(protocol, id)] = notify

    def unpair(self, protocol: str, *, id: bytes | None = None) -> None:
        self._notify.pop(to_key(protocol, id), None)

    def opened(self, protocol: str, id: bytes | None = None) -> bool:
        info = self._infos.get(to_key(protocol, id))
        return info.opened > 0 if info is not None else False

    def create_channel(self, protocol: str, **options: Unpack[ChannelOptions]) -> Channel | None:
        """A new channel, or None when the stream is gone or ``unique`` and one is already open."""
        if self._stream_closed:
            return None
        id = options.get("id")
        id = bytes(id) if id is not None else None
        aliases = options.get("aliases", ())
        info = self._get(protocol, id, aliases)
        if options.get("unique", True) and info.opened > 0:
            return None
        args = (
            options.get("user_data"),
            protocol,
            aliases,
            id,
            options.get("handshake"),
            options.get("messages", ()),
            options.get("on_open"),
            options.get("on_close"),
            options.get("on_destroy"),
            options.get("on_drain"),
        )
        if not info.incoming:
            return Channel(self, info, *args)
        self._remote_backlog -= 1
        remote_id = info.incoming.pop(0)
        remote = self._remote[remote_id - 1]
        if remote is None:
            return None
        session = Channel(self, info, *args, remote_id=remote_id)
        remote.session = session
        self._queue_tick(session.fully_open)
        return session

    def destroy(self, error: BaseException | None = None) -> None:
        """Destroy the stream (and so every channel)."""
        self._destroying = True
        if error is not None and self.error is None:
            self.error = error
        self._host.destroy(error)

    # --- inputs from the host --------------------------------------------------------------------

    def receive_data(self, frame: bytes | bytearray | memoryview) -> None:
        """One received stream message (one frame). Never raises: faults destroy the mux."""
        if len(frame) == 0 or self._destroying:
            return
        data = frame if type(frame) is bytes else bytes(frame)
        self._depth += 1
        try:
            state: DecodeState = State(0, len(data), data)
            first = data[0]
            if first <= 0xFC:
                state.start = 1
            else:
                first = _uint_decode(state)
            self._decode(first, state)
        except Exception as err:
            self._safe_destroy(err)
        finally:
            self._depth -= 1
        if self._depth == 0 and (self._ticks or self._jobs):
            self.run_ticks()

    def on_drain(self) -> None:
        """The stream can take more writes."""
        self.drained = True
        for channel in list(self._local):
            if channel is not None and channel.on_drain is not None:
                try:
                    channel.handle_drain()
                except Exception as err:
                    self._safe_destroy(err)

    def on_end(self) -> None:
        """The remote ended its side: end ours too (JS has no half-open mode)."""
        self._host.end()

    def on_close(self) -> None:
        """The stream is gone: close every channel as closed by the remote."""
        self._stream_closed = True
        self._destroying = True
        for channel in list(self._local):
            if channel is not None:
                try:
                    channel.close_from_remote()
                except Exception as err:
                    self._host.warn(err)
        self.run_ticks()

    def run_ticks(self) -> None:
        """Run deferred work now, in Node's order: every queued next-tick, then every promise job
        (next-ticks queued by jobs wait for the jobs to drain), until both are empty. The host's
        ``call_soon`` does this; harnesses may call it."""
        ticks = self._ticks
        jobs = self._jobs
        self._depth += 1
        try:
            while ticks or jobs:
                while ticks:
                    self._run_guarded(ticks.popleft())
                while jobs:
                    self._run_guarded(jobs.popleft())
        finally:
            self._depth -= 1

    def _run_guarded(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as err:
            self._safe_destroy(err)

    # --- internals (names follow JS) -------------------------------------------------------------

    def _queue_tick(self, fn: Callable[[], None]) -> None:
        self._ticks.append(fn)
        self._schedule()

    def _queue_job(self, fn: Callable[[], None]) -> None:
        self._jobs.append(fn)
        self._schedule()

    def _schedule(self) -> None:
        if self._depth == 0 and not self._tick_scheduled:
            self._tick_scheduled = True
            self._host.call_soon(self._run_ticks_soon)

    def _run_ticks_soon(self) -> None:
        self._tick_scheduled = False
        self.run_ticks()

    def _when_all(self, waiting: list[Pending], fn: Callable[[], None]) -> None:
        remaining = [sum(1 for p in waiting if not p.done)]
        if remaining[0] == 0:
            self._queue_job(fn)
            return

        def one_done() -> None:
            remaining[0] -= 1
            if remaining[0] == 0:
                self._queue_job(fn)

        for p in waiting:
            if not p.done:
                p.then(one_done)

    def push_batch(self, local_id: int, buf: bytearray) -> None:
        """Add one item (``uint type · value``, or a control frame minus its 0) to the BATCH."""
        batch = self._batch
        assert batch is not None
        if self._batch_end >= MAX_BATCH:
            self._send_batch(batch, self._batch_end)
            batch = self._batch = []
            self._batch_end = 1
        if not batch or batch[-1][0] != local_id:
            self._batch_end += 1 + uint_size(local_id)
        n = len(buf)
        self._batch_end += uint_size(n) + n
        batch.append((local_id, buf))

    def _send_batch(self, batch: list[tuple[int, bytearray]], end: int) -> None:
        if not batch:
            return
        out = bytearray(end)
        prev = batch[0][0]
        pos = put_uint(out, 2, prev)
        for local_id, item in batch:
            if local_id != prev:
                out[pos] = 0
                pos = put_uint(out, pos + 1, local_id)
                prev = local_id
            n = len(item)
            pos = put_uint(out, pos, n)
            out[pos : pos + n] = item
            pos += n
        self.drained = self._host.write(out)

    def _get(self, protocol: str, id: bytes | None, aliases: Sequence[str] = ()) -> ProtocolInfo[Channel]:
        key = to_key(protocol, id)
        info = self._infos.get(key)
        if info is not None:
            return info
        info = ProtocolInfo(key, protocol, id)
        self._infos[key] = info
        for alias in aliases:
            alias_key = to_key(alias, id)
            info.aliases.append(alias_key)
            self._infos[alias_key] = info
        return info

    def _gc(self, info: ProtocolInfo[Channel]) -> None:
        if info.opened == 0 and not info.outgoing and not info.incoming:
            self._infos.pop(info.key, None)
            for alias in info.aliases:
                self._infos.pop(alias, None)

    def _decode(self, remote_id: int, state: DecodeState) -> Pending | None:
        s = state.start
        if s < state.end and state.buffer[s] <= 0xFC:
            type_ = state.buffer[s]
            state.start = s + 1
        else:
            type_ = _uint_decode(state)
        if remote_id == 0:
            return self._on_control_session(type_, state)
        r = self._remote[remote_id - 1] if remote_id <= len(self._remote) else None
        if r is None:  # closed (or never opened): ignore, it may be a pipelined message
            return None
        if r.pending is not None:
            r.pending.append((type_, State(state.start, state.end, state.buffer)))
            self._buffered += 512 + (state.end - state.start)
            self._pause_maybe()
            return None
        if r.session is None:
            return None
        return r.session.receive(type_, state)

    def _on_control_session(self, type_: int, state: DecodeState) -> Pending | None:
        if type_ == 0:
            self._on_batch(state)
        elif type_ == 1:
            return self._on_open_session(state)
        elif type_ == 2:
            self._on_reject_session(state)
        elif type_ == 3:
            self._on_close_session(state)
        return None

    def _pause_maybe(self) -> None:
        if self._paused or self._buffered <= MAX_BUFFERED:
            return
        self._paused = True
        self._host.pause()

    def _resume_maybe(self) -> None:
        if not self._paused or self._buffered > MAX_BUFFERED:
            return
        self._paused = False
        self._host.resume()

    def _on_batch(self, state: DecodeState) -> None:
        if self._batch_depth >= MAX_BATCH_DEPTH:
            raise BatchTooDeepError(f"batches nested more than {MAX_BATCH_DEPTH} deep")
        self._batch_depth += 1
        try:
            end = state.end
            remote_id = _uint_decode(state)
            waiting: list[Pending] | None = None
            while state.end > state.start:
                length = _uint_decode(state)
                if length == 0:
                    remote_id = _uint_decode(state)
                    continue
                state.end = min(state.start + length, end)
                # a batch of more than one message: cork so our replies go back as one batch
                if end != state.end and waiting is None:
                    waiting = []
                    self.cork()
                p = self._decode(remote_id, state)
                if waiting is not None and p is not None:
                    waiting.append(p)
                state.start = state.end
                state.end = end
        finally:
            self._batch_depth -= 1
        if waiting is not None:
            self._when_all(waiting, self.uncork)

    def _on_open_session(self, state: DecodeState) -> Pending | None:
        remote_id = _uint_decode(state)
        protocol = decode_from(_string, state)
        id = decode_from(_optional_buffer, state)
        if remote_id == 0:
            # JS calls _rejectSession(0) with a missing argument; encoding it throws and the
            # stream is destroyed without anything written
            raise ControlChannelOpenError("the remote tried to open the control channel")
        rid = remote_id - 1
        info = self._get(protocol, id)
        remote = self._remote
        if len(remote) == rid:  # the remote may grow the ids by one
            remote.append(None)
        if rid >= len(remote) or remote[rid] is not None:
            raise InvalidOpenError("Invalid open message")
        if info.outgoing:
            local_id = info.outgoing.pop(0)
            session = self._local[local_id - 1]
            if session is None:  # we already closed the channel: ignore
                self._free.append(local_id - 1)
                return None
            remote[rid] = RemoteSlot(state, None, None)
            session.remote_opened(remote_id)
            return None
        remote[rid] = RemoteSlot(State(state.start, state.end, state.buffer), [], None)
        self._remote_backlog += 1
        info.pairing += 1
        info.incoming.append(remote_id)
        return self._request_session(protocol, id, info)

    def _request_session(
        self, protocol: str, id: bytes | None, info: ProtocolInfo[Channel]
    ) -> Pending | None:
        notify = self._notify.get(to_key(protocol, id)) or self._notify.get(to_key(protocol, None))
        if notify is None:
            self._request_session_done(info)
            return None
        try:
            result = notify(id)
        except Exception as err:
            self._safe_destroy(err)
            return None
        pending = Pending()
        if is_awaitable(result):

            def done(err: BaseException | None) -> None:
                try:
                    if err is not None:
                        self._safe_destroy(err)
                    else:
                        self._request_session_done(info)
                except Exception as e:
                    self._safe_destroy(e)
                pending.resolve()

            self._host.spawn(result, done)
        else:

            def tick() -> None:
                try:
                    self._request_session_done(info)
                finally:
                    pending.resolve()

            self._queue_job(tick)
        return pending

    def _request_session_done(self, info: ProtocolInfo[Channel]) -> None:
        info.pairing -= 1
        if info.pairing > 0:
            return
        while info.incoming:
            self._reject_session(info.incoming.pop(0))
        self._gc(info)

    def _reject_session(self, remote_id: int) -> None:
        r = self._remote[remote_id - 1]
        if r is not None and r.pending is not None:
            for _, state in r.pending:
                self._buffered -= 512 + (state.end - state.start)
        self._remote[remote_id - 1] = None
        self._resume_maybe()
        buf = bytearray(2 + uint_size(remote_id))
        buf[1] = 2
        put_uint(buf, 2, remote_id)
        self.write_control(buf)

    def _on_reject_session(self, state: DecodeState) -> None:
        local_id = _uint_decode(state)
        for info in list(self._infos.values()):
            if local_id not in info.outgoing:
                continue
            info.outgoing.remove(local_id)
            session = self._local[local_id - 1]
            self._free.append(local_id - 1)
            if session is not None:
                session.close_from_remote()
            self._gc(info)
            return
        raise InvalidRejectError("Invalid reject message")

    def _on_close_session(self, state: DecodeState) -> None:
        remote_id = _uint_decode(state)
        if remote_id == 0:
            return
        rid = remote_id - 1
        r = self._remote[rid] if rid < len(self._remote) else None
        if r is None:
            return
        if r.session is not None:
            r.session.close_from_remote()

    # --- the ChannelHost seam: what channels ask of the mux ----------------------------------------

    def write_frame(self, frame: bytearray) -> bool:
        """Write one whole frame now; return (and keep) the stream's drained flag."""
        drained = self.drained = self._host.write(frame)
        return drained

    def write_control(self, frame: bytearray) -> None:
        """Write a channel-0 frame (its first byte is the 0 channel id), batched while corked."""
        if self._batch is not None:
            self.push_batch(0, frame[1:])
            return
        self.drained = self._host.write(frame)

    def next_local_id(self) -> int:
        free = self._free
        return (free[-1] if free else len(self._local)) + 1

    def add_local(self, channel: Channel) -> int:
        free = self._free
        local = self._local
        if free:
            index = free.pop()
            local[index] = channel
        else:
            index = len(local)
            local.append(channel)
        return index + 1

    def free(self, local_id: int, remote_id: int, info: ProtocolInfo[Channel]) -> None:
        if remote_id > 0:
            self._remote[remote_id - 1] = None
            if local_id > 0:  # JS pushes -1 here for a never-opened channel (a JS bug)
                self._free.append(local_id - 1)
        if local_id > 0:
            self._local[local_id - 1] = None
        self._gc(info)

    def remote_slot(self, remote_id: int) -> RemoteSlot[Channel] | None:
        remote = self._remote
        return remote[remote_id - 1] if 0 < remote_id <= len(remote) else None

    def deliver_pending(self, remote: RemoteSlot[Channel], channel: Channel) -> None:
        for type_, state in remote.pending or []:
            self._buffered -= 512 + (state.end - state.start)
            channel.receive(type_, state)
            if self._destroying:
                return
        remote.pending = None
        self._resume_maybe()

    def spawn(self, awaitable: Awaitable[object], done: Callable[[BaseException | None], None]) -> None:
        self._host.spawn(awaitable, done)

    def warn(self, error: BaseException) -> None:
        self._host.warn(error)

    def _safe_destroy(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self._destroying = True
        self._host.destroy(error)

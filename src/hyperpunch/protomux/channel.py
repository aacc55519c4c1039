"""Channels and typed messages of protomux (JS ``Channel`` and its message objects).

Invariants: a message's type id is its index in ``channel.messages``; ``send`` writes
``uint local_id · uint type · value`` (or, while the mux is corked, ``uint type · value`` into the
batch); a channel is ``opened`` once both OPENs crossed and its ``on_open`` ran, ``closed`` once
either side closed, ``destroyed`` once closed and every async handler it started finished.
Handlers may return awaitables; the core hands them to its host and tracks them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hyperpunch.encoding import Codec, DecodeError, DecodeState, EncodeError, EncodeState, State, raw
from hyperpunch.encoding import optional_buffer as _optional_buffer
from hyperpunch.encoding import string as _string
from hyperpunch.protomux.errors import ChannelClosedError, ChannelNotOpenError

if TYPE_CHECKING:
    from hyperpunch.protomux.core import ProtomuxCore

__all__ = ["Channel", "Message", "MessageSpec", "Notify", "OnChannel", "OnClose", "OnMessage", "OnOpen"]

T = TypeVar("T")

OnOpen = Callable[[Any, "Channel"], object]
OnClose = Callable[[bool, "Channel"], object]
OnChannel = Callable[["Channel"], object]
OnMessage = Callable[[Any, "Channel"], object]
Notify = Callable[[bytes | None], object]

# Exceptions a codec (maybe user-written) can raise on bad input or a wrong-typed value.
_DECODE_FAILURES = (IndexError, ValueError, TypeError, KeyError, OverflowError, UnicodeError)
_ENCODE_FAILURES = (TypeError, ValueError, OverflowError, AttributeError, IndexError, KeyError)
_NO_BUFFER = bytearray()  # preencode never touches the buffer


def _uint_len(n: int) -> int:
    return 1 if n <= 0xFC else 3 if n <= 0xFFFF else 5 if n <= 0xFFFFFFFF else 9


def _put_uint(buf: bytearray, pos: int, n: int) -> int:
    if n <= 0xFC:
        buf[pos] = n
        return pos + 1
    if n <= 0xFFFF:
        buf[pos] = 0xFD
        buf[pos + 1 : pos + 3] = n.to_bytes(2, "little")
        return pos + 3
    if n <= 0xFFFFFFFF:
        buf[pos] = 0xFE
        buf[pos + 1 : pos + 5] = n.to_bytes(4, "little")
        return pos + 5
    buf[pos] = 0xFF
    buf[pos + 1 : pos + 9] = n.to_bytes(8, "little")
    return pos + 9


def _decode_with(codec: Codec[T], state: DecodeState) -> T:
    try:
        return codec.decode(state)
    except DecodeError:
        raise
    except _DECODE_FAILURES as err:
        raise DecodeError(f"invalid encoding: {err}") from err


def _is_awaitable(value: object) -> bool:
    return value is not None and inspect.isawaitable(value)


class _Pending:
    """A minimal promise: the core's stand-in for the JS promises it waits on."""

    __slots__ = ("_callbacks", "done")

    def __init__(self) -> None:
        self.done = False
        self._callbacks: list[Callable[[], None]] = []

    def resolve(self) -> None:
        if self.done:
            return
        self.done = True
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()

    def then(self, cb: Callable[[], None]) -> None:
        if self.done:
            cb()
        else:
            self._callbacks.append(cb)


class _Info:
    __slots__ = (
        "aliases",
        "id",
        "incoming",
        "key",
        "last_channel",
        "opened",
        "outgoing",
        "pairing",
        "protocol",
    )

    def __init__(self, key: str, protocol: str, id: bytes | None) -> None:
        self.key = key
        self.protocol = protocol
        self.aliases: list[str] = []
        self.id = id
        self.pairing = 0
        self.opened = 0
        self.incoming: list[int] = []
        self.outgoing: list[int] = []
        self.last_channel: Channel | None = None


class _Remote:
    __slots__ = ("pending", "session", "state")

    def __init__(
        self,
        state: DecodeState | None,
        pending: list[tuple[int, DecodeState]] | None,
        session: Channel | None,
    ) -> None:
        self.state = state
        self.pending = pending
        self.session = session


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One message type of a channel: its codec, handler and whether it holds a reply batch open."""

    encoding: Codec[Any] = raw
    on_message: OnMessage | None = None
    auto_batch: bool = True


class Message(Generic[T]):
    """One typed message of a channel; its type id is its index in ``channel.messages``."""

    __slots__ = (
        "_channel",
        "_dec",
        "_enc",
        "_encoding",
        "_pre",
        "_skip",
        "_type_len",
        "auto_batch",
        "on_message",
        "type",
    )

    def __init__(
        self,
        channel: Channel,
        type: int,
        encoding: Codec[T],
        on_message: OnMessage | None,
        auto_batch: bool,
        skip: bool = False,
    ) -> None:
        self._channel = channel
        self.type = type
        self._encoding = encoding
        self._pre = encoding.preencode
        self._enc = encoding.encode
        self._dec = encoding.decode
        self.on_message = on_message
        self.auto_batch = auto_batch
        self._skip = skip
        self._type_len = _uint_len(type)

    @property
    def encoding(self) -> Codec[T]:
        return self._encoding

    def send(self, value: T) -> bool:
        """Send ``value``; return the mux's ``drained`` flag (True when batched, False when closed)."""
        channel = self._channel
        if channel.closed or self._skip:
            return False
        local_id = channel._local_id
        if local_id == 0:
            raise ChannelNotOpenError("open() the channel before sending messages on it")
        mux = channel._mux
        type_ = self.type
        try:
            if mux._batch is not None:
                state: EncodeState = State(0, self._type_len, _NO_BUFFER)
                self._pre(state, value)
                buf = state.buffer = bytearray(state.end)
                state.start = _put_uint(buf, 0, type_)
                self._enc(state, value)
                mux._push_batch(local_id, buf)
                return True
            if local_id <= 0xFC and type_ <= 0xFC:  # the common 2-byte header
                state = State(2, 2, _NO_BUFFER)
                self._pre(state, value)
                buf = state.buffer = bytearray(state.end)
                buf[0] = local_id
                buf[1] = type_
            else:
                state = State(0, self._type_len + _uint_len(local_id), _NO_BUFFER)
                self._pre(state, value)
                buf = state.buffer = bytearray(state.end)
                state.start = _put_uint(buf, _put_uint(buf, 0, local_id), type_)
            self._enc(state, value)
        except EncodeError:
            raise
        except _ENCODE_FAILURES as err:
            raise EncodeError(f"cannot encode {type(value).__name__}: {err}") from err
        drained = mux.drained = mux._host.write(buf)
        return drained

    def _recv(self, state: DecodeState, channel: Channel) -> _Pending | None:
        if self._skip:
            return None
        try:
            value = self._dec(state)
        except DecodeError:
            raise
        except _DECODE_FAILURES as err:
            raise DecodeError(f"invalid encoding: {err}") from err
        handler = self.on_message
        if handler is None:
            return None
        result = handler(value, channel)
        if result is None:
            return None
        return channel._track(result)

    def __repr__(self) -> str:
        return f"<Message {self.type} of {self._channel.protocol!r}>"


class Channel:
    """One protocol session over the mux (JS ``Channel``)."""

    def __init__(
        self,
        mux: ProtomuxCore,
        info: _Info,
        user_data: Any,
        protocol: str,
        aliases: Sequence[str],
        id: bytes | None,
        handshake: Codec[Any] | None,
        messages: Iterable[MessageSpec | Codec[Any] | None],
        on_open: OnOpen | None,
        on_close: OnClose | None,
        on_destroy: OnChannel | None,
        on_drain: OnChannel | None,
    ) -> None:
        self.user_data = user_data
        self.protocol = protocol
        self.aliases = tuple(aliases)
        self.id = id
        self.handshake: Any = None
        self.messages: list[Message[Any]] = []
        self.opened = False
        self.closed = False
        self.destroyed = False
        self.on_open = on_open
        self.on_close = on_close
        self.on_destroy = on_destroy
        self.on_drain = on_drain
        self._handshake = handshake
        self._mux = mux
        self._info = info
        self._local_id = 0
        self._remote_id = 0
        self._active = 0
        self._counted = False  # counted in info.opened (JS decrements even when never opened)
        self._open_waiters: list[asyncio.Future[bool]] = []
        self._destroy_waiters: list[asyncio.Future[None]] = []
        self._listeners: list[Callable[[str], None]] = []
        for spec in messages:
            if spec is None:
                self.add_message(None)
            elif isinstance(spec, MessageSpec):
                self.add_message(spec.encoding, on_message=spec.on_message, auto_batch=spec.auto_batch)
            else:
                self.add_message(spec)

    # --- public ----------------------------------------------------------------------------------

    @property
    def mux(self) -> ProtomuxCore:
        return self._mux

    @property
    def local_id(self) -> int:
        return self._local_id

    @property
    def remote_id(self) -> int:
        return self._remote_id

    @property
    def drained(self) -> bool:
        return self._mux.drained

    def add_message(
        self,
        encoding: Codec[Any] | None = raw,
        *,
        on_message: OnMessage | None = None,
        auto_batch: bool = True,
    ) -> Message[Any]:
        """Declare the next message type (``None`` declares a placeholder that is never sent)."""
        type_ = len(self.messages)
        if encoding is None:
            m: Message[Any] = Message(self, type_, raw, None, True, skip=True)
        else:
            m = Message(self, type_, encoding, on_message, auto_batch)
        self.messages.append(m)
        return m

    def open(self, handshake: Any = None) -> None:
        """Send our OPEN (with ``handshake`` encoded by the channel's handshake codec)."""
        if self._local_id != 0 or self.closed:
            raise ChannelClosedError("a channel is opened once, and not after close")
        mux = self._mux
        free = mux._free
        index = free[-1] if free else len(mux._local)
        local_id = index + 1
        state: EncodeState = State(2 + _uint_len(local_id), 0, bytearray())
        state.end = state.start
        try:
            _string.preencode(state, self.protocol)
            _optional_buffer.preencode(state, self.id)
            if self._handshake is not None:
                self._handshake.preencode(state, handshake)
            buf = state.buffer = bytearray(state.end)
            buf[1] = 1
            _put_uint(buf, 2, local_id)
            _string.encode(state, self.protocol)
            _optional_buffer.encode(state, self.id)
            if self._handshake is not None:
                self._handshake.encode(state, handshake)
        except EncodeError:
            raise
        except _ENCODE_FAILURES as err:
            raise EncodeError(f"cannot encode the handshake: {err}") from err
        if free:
            free.pop()
        else:
            mux._local.append(None)
        info = self._info
        info.opened += 1
        self._counted = True
        info.last_channel = self
        self._local_id = local_id
        mux._local[index] = self
        if self._remote_id == 0:
            info.outgoing.append(local_id)
        mux._write0(buf)

    def close(self) -> None:
        """Close the channel and send CLOSE (JS sends ``00 03 00`` even for a never-opened one)."""
        if self.closed:
            return
        local_id = self._local_id
        buf = bytearray(2 + _uint_len(local_id))
        buf[1] = 3
        _put_uint(buf, 2, local_id)
        self._close(False)
        self._mux._write0(buf)

    def cork(self) -> None:
        self._mux.cork()

    def uncork(self) -> None:
        self._mux.uncork()

    async def fully_opened(self) -> bool:
        """Wait until the channel is fully open (True) or closed first (False)."""
        if self.opened:
            return True
        if self.closed:
            return False
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._open_waiters.append(fut)
        return await fut

    async def fully_closed(self) -> None:
        """Wait until the channel is destroyed (closed and its handlers finished)."""
        if self.destroyed:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._destroy_waiters.append(fut)
        await fut

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(event)`` on "open", "close" and "destroy" (for adapters)."""
        self._listeners.append(listener)

    def __repr__(self) -> str:
        state = (
            "destroyed"
            if self.destroyed
            else "closed"
            if self.closed
            else "open"
            if self.opened
            else "opening"
        )
        return f"<Channel {self.protocol!r} id={self.id.hex() if self.id else None} {state} local={self._local_id} remote={self._remote_id}>"

    # --- internals (names follow JS) -------------------------------------------------------------

    def _emit(self, event: str) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _track(self, result: object) -> _Pending | None:
        if not _is_awaitable(result):
            return None
        self._active += 1
        pending = _Pending()
        mux = self._mux

        def done(err: BaseException | None) -> None:
            try:
                self._dec()
                if err is not None:
                    if self.closed:
                        mux._host.warn(err)
                    else:
                        mux._safe_destroy(err)
            except Exception as e:
                mux._safe_destroy(e)
            pending.resolve()

        mux._host.spawn(result, done)  # type: ignore[arg-type]
        return pending

    def _dec(self) -> None:
        self._active -= 1
        if self._active == 0 and self.closed:
            self._destroy()

    def _fully_open_soon(self) -> None:
        remote = self._mux._remote[self._remote_id - 1]
        if remote is not None:
            remote.session = self
        self._mux._queue_tick(self._fully_open)

    def _fully_open(self) -> None:
        if self.opened or self.closed:
            return
        mux = self._mux
        remote = mux._remote[self._remote_id - 1] if self._remote_id > 0 else None
        if remote is None:
            return
        if self._handshake is not None and remote.state is not None:
            self.handshake = _decode_with(self._handshake, remote.state)
        else:
            self.handshake = None
        if self.on_open is not None:
            self._track(self.on_open(self.handshake, self))
        remote.session = self
        remote.state = None
        if remote.pending is not None:
            self._drain(remote)
        if mux._destroying:
            return
        self.opened = True
        self._resolve_open(True)

    def _resolve_open(self, opened: bool) -> None:
        waiters, self._open_waiters = self._open_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(opened)
        if opened:
            self._emit("open")

    def _drain(self, remote: _Remote) -> None:
        mux = self._mux
        pending = remote.pending or []
        for type_, state in pending:
            mux._buffered -= 512 + (state.end - state.start)
            self._recv(type_, state)
            if mux._destroying:
                return
        remote.pending = None
        mux._resume_maybe()

    def _close(self, is_remote: bool) -> None:
        if self.closed:
            return
        self.closed = True
        mux = self._mux
        info = self._info
        if self._counted:
            self._counted = False
            info.opened -= 1
        if info.last_channel is self:
            info.last_channel = None
        if self._remote_id > 0:
            mux._remote[self._remote_id - 1] = None
            self._remote_id = 0
            if self._local_id > 0:  # JS pushes -1 here for a never-opened channel (a JS bug)
                mux._free.append(self._local_id - 1)
        if self._local_id > 0:
            mux._local[self._local_id - 1] = None
        self._local_id = 0
        mux._gc(info)
        self._emit("close")
        if self.on_close is not None:
            self._track(self.on_close(is_remote, self))
        if self._active == 0:
            self._destroy()
        self._resolve_open(False)

    def _destroy(self) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        if self.on_destroy is not None:
            self._track(self.on_destroy(self))
        waiters, self._destroy_waiters = self._destroy_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        self._emit("destroy")

    def _recv(self, type_: int, state: DecodeState) -> _Pending | None:
        messages = self.messages
        if type_ < len(messages):
            m = messages[type_]
            p = m._recv(state, self)
            if m.auto_batch:
                return p
        return None

"""Channels and typed messages of protomux (JS ``Channel`` and its message objects), sans-IO.

Invariants: a message's type id is its index in ``channel.messages``; ``send`` writes
``uint local_id · uint type · value`` (or, while the mux is corked, ``uint type · value`` into the
batch); a channel is ``opened`` once both OPENs crossed and its ``on_open`` ran, ``closed`` once
either side closed, ``destroyed`` once closed and every async handler it started finished.
Handlers may return awaitables; the channel hands them to its mux (a :class:`ChannelHost`) and
tracks them. This module imports no asyncio: waiting for "opened"/"destroyed" is the adapter's
(:func:`hyperpunch.protomux.mux.wait_opened`), built on :meth:`Channel.add_listener`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypedDict, TypeVar

from hyperpunch.encoding import Codec, DecodeError, DecodeState, EncodeError, EncodeState, State, raw
from hyperpunch.encoding import optional_buffer as _optional_buffer
from hyperpunch.encoding import string as _string
from hyperpunch.encoding.codec import DECODE_FAILURES, ENCODE_FAILURES, decode_from
from hyperpunch.encoding.numbers import put_uint, uint_size
from hyperpunch.protomux.errors import ChannelClosedError, ChannelNotOpenError
from hyperpunch.protomux.pairing import Pending, ProtocolInfo, RemoteSlot, is_awaitable

__all__ = [
    "Channel",
    "ChannelEvent",
    "ChannelHost",
    "ChannelOptions",
    "Message",
    "MessageSpec",
    "Notify",
    "OnChannel",
    "OnClose",
    "OnMessage",
    "OnOpen",
]

T = TypeVar("T")

OnOpen = Callable[[Any, "Channel"], object]
OnClose = Callable[[bool, "Channel"], object]
OnChannel = Callable[["Channel"], object]
OnMessage = Callable[[Any, "Channel"], object]
Notify = Callable[[bytes | None], object]
ChannelEvent = Literal["open", "close", "destroy"]

_NO_BUFFER = bytearray()  # preencode never touches the buffer


class ChannelHost(Protocol):
    """What a channel needs from its mux (the seam): :class:`~hyperpunch.protomux.core.ProtomuxCore`
    satisfies it. The mux owns the id tables, the remote slots and the output; a channel asks."""

    @property
    def corked(self) -> int:
        """Above 0 while frames collect into one BATCH (then use :meth:`push_batch`)."""
        ...

    @property
    def drained(self) -> bool: ...

    @property
    def destroyed(self) -> bool: ...

    def cork(self) -> None: ...

    def uncork(self) -> None: ...

    def write_frame(self, frame: bytearray) -> bool:
        """Write one whole data frame now (not corked); return the stream's drained flag."""
        ...

    def push_batch(self, local_id: int, item: bytearray) -> None:
        """Add ``uint type · value`` of channel ``local_id`` to the BATCH being corked."""
        ...

    def write_control(self, frame: bytearray) -> None:
        """Write a channel-0 frame (OPEN, CLOSE), batched while corked."""
        ...

    def next_local_id(self) -> int:
        """The local id :meth:`add_local` will give (for encoding the OPEN first)."""
        ...

    def add_local(self, channel: Channel) -> int:
        """Give ``channel`` the next local id and return it."""
        ...

    def free(self, local_id: int, remote_id: int, info: ProtocolInfo[Channel]) -> None:
        """A closing channel gives back its local id and remote slot; ``info`` may be dropped."""
        ...

    def remote_slot(self, remote_id: int) -> RemoteSlot[Channel] | None: ...

    def deliver_pending(self, remote: RemoteSlot[Channel], channel: Channel) -> None:
        """Hand ``channel`` the messages buffered for ``remote`` while it was pairing."""
        ...

    def spawn(self, awaitable: Awaitable[object], done: Callable[[BaseException | None], None]) -> None: ...

    def destroy(self, error: BaseException | None = None) -> None: ...

    def warn(self, error: BaseException) -> None: ...


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One message type of a channel: its codec, handler and whether it holds a reply batch open."""

    encoding: Codec[Any] = raw
    on_message: OnMessage | None = None
    auto_batch: bool = True


class ChannelOptions(TypedDict, total=False):
    """The keyword options of ``create_channel``, declared once for the core and its adapter.

    Defaults: no ``id``, no ``handshake`` codec, no ``messages``, no handlers, no ``aliases``,
    ``unique=True`` (refuse a second open channel for the same protocol and id), no ``user_data``.
    """

    id: bytes | None
    handshake: Codec[Any] | None
    messages: Iterable[MessageSpec | Codec[Any] | None]
    on_open: OnOpen | None
    on_close: OnClose | None
    on_destroy: OnChannel | None
    on_drain: OnChannel | None
    aliases: Sequence[str]
    unique: bool
    user_data: Any


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
        self._type_len = uint_size(type)

    @property
    def encoding(self) -> Codec[T]:
        return self._encoding

    @property
    def channel(self) -> Channel:
        return self._channel

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
            if mux.corked:
                state: EncodeState = State(0, self._type_len, _NO_BUFFER)
                self._pre(state, value)
                buf = state.buffer = bytearray(state.end)
                state.start = put_uint(buf, 0, type_)
                self._enc(state, value)
                mux.push_batch(local_id, buf)
                return True
            if local_id <= 0xFC and type_ <= 0xFC:  # the common 2-byte header
                state = State(2, 2, _NO_BUFFER)
                self._pre(state, value)
                buf = state.buffer = bytearray(state.end)
                buf[0] = local_id
                buf[1] = type_
            else:
                state = State(0, self._type_len + uint_size(local_id), _NO_BUFFER)
                self._pre(state, value)
                buf = state.buffer = bytearray(state.end)
                state.start = put_uint(buf, put_uint(buf, 0, local_id), type_)
            self._enc(state, value)
        except EncodeError:
            raise
        except ENCODE_FAILURES as err:
            raise EncodeError(f"cannot encode {type(value).__name__}: {err}") from err
        return mux.write_frame(buf)

    def _recv(self, state: DecodeState, channel: Channel) -> Pending | None:
        if self._skip:
            return None
        try:
            value = self._dec(state)
        except DecodeError:
            raise
        except DECODE_FAILURES as err:
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
    """One protocol session over the mux (JS ``Channel``).

    The methods under "driven by the mux" are the core's side of the seam: it calls them when
    the remote's frames arrive; applications use the rest.
    """

    def __init__(
        self,
        mux: ChannelHost,
        info: ProtocolInfo[Channel],
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
        remote_id: int = 0,
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
        self._remote_id = remote_id
        self._active = 0
        self._counted = False  # counted in info.opened (JS decrements even when never opened)
        self._listeners: list[Callable[[ChannelEvent], None]] = []
        for spec in messages:
            if spec is None:
                self.add_message(None)
            elif isinstance(spec, MessageSpec):
                self.add_message(spec.encoding, on_message=spec.on_message, auto_batch=spec.auto_batch)
            else:
                self.add_message(spec)

    # --- public ----------------------------------------------------------------------------------

    @property
    def mux(self) -> ChannelHost:
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
        local_id = mux.next_local_id()
        state: EncodeState = State(2 + uint_size(local_id), 0, bytearray())
        state.end = state.start
        try:
            _string.preencode(state, self.protocol)
            _optional_buffer.preencode(state, self.id)
            if self._handshake is not None:
                self._handshake.preencode(state, handshake)
            buf = state.buffer = bytearray(state.end)
            buf[1] = 1
            put_uint(buf, 2, local_id)
            _string.encode(state, self.protocol)
            _optional_buffer.encode(state, self.id)
            if self._handshake is not None:
                self._handshake.encode(state, handshake)
        except EncodeError:
            raise
        except ENCODE_FAILURES as err:
            raise EncodeError(f"cannot encode the handshake: {err}") from err
        info = self._info
        info.opened += 1
        self._counted = True
        info.last_channel = self
        self._local_id = mux.add_local(self)
        if self._remote_id == 0:
            info.outgoing.append(local_id)
        mux.write_control(buf)

    def close(self) -> None:
        """Close the channel and send CLOSE (JS sends ``00 03 00`` even for a never-opened one)."""
        if self.closed:
            return
        local_id = self._local_id
        buf = bytearray(2 + uint_size(local_id))
        buf[1] = 3
        put_uint(buf, 2, local_id)
        self._close(False)
        self._mux.write_control(buf)

    def cork(self) -> None:
        self._mux.cork()

    def uncork(self) -> None:
        self._mux.uncork()

    def add_listener(self, listener: Callable[[ChannelEvent], None]) -> None:
        """Call ``listener(event)`` on "open", "close" and "destroy" (for adapters)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[ChannelEvent], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

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

    # --- driven by the mux (names follow JS) -----------------------------------------------------

    def receive(self, type_: int, state: DecodeState) -> Pending | None:
        """A message of type ``type_`` arrived; a :class:`Pending` when its handler holds the batch."""
        messages = self.messages
        if type_ < len(messages):
            m = messages[type_]
            p = m._recv(state, self)
            if m.auto_batch:
                return p
        return None

    def remote_opened(self, remote_id: int) -> None:
        """The remote's OPEN answered ours (its channel ``remote_id``): open fully now."""
        self._remote_id = remote_id
        self.fully_open()

    def fully_open(self) -> None:
        """Both OPENs crossed: decode the remote handshake, run ``on_open``, deliver buffered messages."""
        if self.opened or self.closed:
            return
        mux = self._mux
        remote = mux.remote_slot(self._remote_id)
        if remote is None:
            return
        if self._handshake is not None and remote.state is not None:
            self.handshake = decode_from(self._handshake, remote.state)
        else:
            self.handshake = None
        if self.on_open is not None:
            self._track(self.on_open(self.handshake, self))
        remote.session = self
        remote.state = None
        if remote.pending is not None:
            mux.deliver_pending(remote, self)
        if mux.destroyed:
            return
        self.opened = True
        self._emit("open")

    def close_from_remote(self) -> None:
        """The remote closed (or rejected) the channel, or the stream is gone."""
        self._close(True)

    def handle_drain(self) -> None:
        """The stream drained: run ``on_drain``."""
        if self.on_drain is not None:
            self._track(self.on_drain(self))

    # --- internals -------------------------------------------------------------------------------

    def _emit(self, event: ChannelEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _track(self, result: object) -> Pending | None:
        if not is_awaitable(result):
            return None
        self._active += 1
        pending = Pending()
        mux = self._mux

        def done(err: BaseException | None) -> None:
            try:
                self._dec()
                if err is not None:
                    if self.closed:
                        mux.warn(err)
                    else:
                        mux.destroy(err)
            except Exception as e:
                mux.destroy(e)
            pending.resolve()

        mux.spawn(result, done)
        return pending

    def _dec(self) -> None:
        self._active -= 1
        if self._active == 0 and self.closed:
            self._destroy()

    def _close(self, is_remote: bool) -> None:
        if self.closed:
            return
        self.closed = True
        info = self._info
        if self._counted:
            self._counted = False
            info.opened -= 1
        if info.last_channel is self:
            info.last_channel = None
        local_id, remote_id = self._local_id, self._remote_id
        self._remote_id = 0
        self._local_id = 0
        self._mux.free(local_id, remote_id, info)
        self._emit("close")
        if self.on_close is not None:
            self._track(self.on_close(is_remote, self))
        if self._active == 0:
            self._destroy()

    def _destroy(self) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        if self.on_destroy is not None:
            self._track(self.on_destroy(self))
        self._emit("destroy")

"""asyncio adapter: :class:`Protomux` runs a :class:`ProtomuxCore` over a message stream.

Invariants:

* The stream is a :class:`hyperpunch.secretstream.SecretStream` or anything with its message
  shape (:class:`MessageStream`): one ``write`` is one frame, ``read`` returns whole frames and
  ``None`` at a clean end. Nothing else is assumed.
* One owned reader task feeds frames to the core; it stops reading while the core is paused
  (messages buffered for channels still pairing) and, like JS, ends our side when the remote
  ends. When the stream is gone every channel is closed (``on_close(True, channel)``).
* Handlers may be plain functions or ``async def``: awaitables run as tasks of the mux's
  :class:`~hyperpunch.aio.TaskOwner`; while one from a received batch runs, our replies stay
  corked (JS ``autoBatch``). ``aclose()`` (once, via :class:`~hyperpunch.aio.CloseOnce`) closes
  the stream, waits for the reader and cancels handler tasks still running.
* Waiting on a channel is asyncio's, so it lives here: :func:`wait_opened` and
  :func:`wait_destroyed` (JS ``fullyOpened`` / ``fullyClosed``) listen to the sans-IO channel.
* ``message.send`` returns the ``drained`` flag: False means the stream asked for backpressure;
  channels' ``on_drain`` run when it drains (and ``await mux.drain()`` waits for that).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, Protocol, Self, TypeVar, Unpack

from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.errors import HyperpunchError
from hyperpunch.protomux.channel import Channel, ChannelEvent, ChannelOptions, Message, Notify
from hyperpunch.protomux.core import ProtomuxCore

__all__ = ["MessageQueue", "MessageStream", "Protomux", "wait_destroyed", "wait_opened"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class MessageStream(Protocol):
    """The message-stream shape :class:`Protomux` runs over (a SecretStream has it)."""

    user_data: Any

    def write(self, data: bytearray) -> None: ...
    async def drain(self) -> None: ...
    async def read(self) -> bytes | None: ...
    def write_eof(self) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    async def wait_closed(self) -> None: ...


class Protomux:
    """Protocol multiplexer over one stream (JS ``new Protomux(stream)``); use ``async with``."""

    def __init__(self, stream: MessageStream) -> None:
        self.stream = stream
        if getattr(stream, "user_data", None) is None:
            stream.user_data = self
        self.core = ProtomuxCore(_StreamHost(self))
        self.stream_error: BaseException | None = None
        self._loop = asyncio.get_running_loop()
        self._tasks = TaskOwner("protomux")
        self._close_once = CloseOnce(self._aclose)
        self._resume = asyncio.Event()
        self._resume.set()
        self._closed = asyncio.Event()
        self._drain_task: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self._closing = False
        self._reader = self._tasks.spawn(self._read_loop())

    @classmethod
    def from_stream(cls, stream: MessageStream) -> Protomux:
        """The mux already attached to ``stream`` (via ``user_data``), or a new one (JS ``from``)."""
        existing = getattr(stream, "user_data", None)
        if isinstance(existing, Protomux):
            return existing
        return cls(stream)

    # --- the JS API, delegated -------------------------------------------------------------------

    def create_channel(self, protocol: str, **options: Unpack[ChannelOptions]) -> Channel | None:
        """See :meth:`ProtomuxCore.create_channel` (None: stream gone, or unique and already open)."""
        return self.core.create_channel(protocol, **options)

    def pair(self, protocol: str, notify: Notify, *, id: bytes | None = None) -> None:
        self.core.pair(protocol, notify, id=id)

    def unpair(self, protocol: str, *, id: bytes | None = None) -> None:
        self.core.unpair(protocol, id=id)

    def opened(self, protocol: str, id: bytes | None = None) -> bool:
        return self.core.opened(protocol, id)

    def get_last_channel(self, protocol: str, id: bytes | None = None) -> Channel | None:
        return self.core.get_last_channel(protocol, id)

    def is_idle(self) -> bool:
        return self.core.is_idle()

    def cork(self) -> None:
        self.core.cork()

    def uncork(self) -> None:
        self.core.uncork()

    def __iter__(self) -> Iterator[Channel]:
        return iter(self.core)

    @property
    def corked(self) -> int:
        return self.core.corked

    @property
    def drained(self) -> bool:
        return self.core.drained

    @property
    def error(self) -> BaseException | None:
        """Why the mux was destroyed (a protocol fault, a handler's exception, a stream error)."""
        return self.core.error or self.stream_error

    @property
    def destroyed(self) -> bool:
        return self.core.destroyed

    @property
    def closed(self) -> bool:
        """The stream is gone and every channel has been closed."""
        return self._closed.is_set()

    def destroy(self, error: BaseException | None = None) -> None:
        """Destroy the stream at once (JS ``mux.destroy(err)``)."""
        self.core.destroy(error)

    async def drain(self) -> None:
        """Wait until the stream accepts more writes."""
        await self._drained.wait()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def aclose(self) -> None:
        """Close the stream (flushing what was written), close all channels, end handler tasks."""
        self._closing = True
        self._resume.set()  # a reader paused for pairing must see the stream end
        await self._close_once()

    async def _aclose(self) -> None:
        if not self._closed.is_set():
            with contextlib.suppress(Exception):
                self.stream.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._tasks.aclose()  # cancels handler tasks still running and the drain waiter

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- Host (called by the core through _StreamHost) ------------------------------------------

    def _host_write(self, frame: bytearray) -> bool:
        if self._closed.is_set():
            return False
        try:
            self.stream.write(frame)
        except HyperpunchError:
            return False
        if not self._write_paused():
            return True
        self._drained.clear()
        if self._drain_task is None and not self._tasks.closed:
            self._drain_task = self._tasks.spawn(self._wait_drain())
        return False

    def _host_destroy(self, error: BaseException | None) -> None:
        self.stream.abort()
        self._resume.set()

    def _host_end(self) -> None:
        if self._closing:
            return
        with contextlib.suppress(Exception):  # a stream already closing needs no end
            self.stream.write_eof()

    def _host_spawn(self, awaitable: Awaitable[object], done: Callable[[BaseException | None], None]) -> None:
        if self._tasks.closed:  # after aclose() nothing runs any more
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()
            return
        self._tasks.spawn(_run_handler(awaitable, done))

    # --- internals -------------------------------------------------------------------------------

    def _write_paused(self) -> bool:
        return bool(getattr(self.stream, "write_paused", False))

    async def _wait_drain(self) -> None:
        try:
            await self.stream.drain()
        except Exception:  # the stream failed: the reader reports it
            return
        finally:
            self._drain_task = None
        self._drained.set()
        self.core.on_drain()

    async def _read_loop(self) -> None:
        core = self.core
        stream = self.stream
        try:
            while not core.destroyed:
                if core.paused and not self._closing:
                    await self._resume.wait()
                    continue
                frame = await stream.read()
                if frame is None:
                    if not core.destroyed:
                        core.on_end()
                    break
                core.receive_data(frame)
        except Exception as err:
            self.stream_error = err
        finally:
            try:
                if core.destroyed:
                    stream.abort()
                with contextlib.suppress(Exception):
                    await stream.wait_closed()
            finally:
                core.on_close()
                self._drained.set()
                self._closed.set()


async def _run_handler(awaitable: Awaitable[object], done: Callable[[BaseException | None], None]) -> None:
    """Run a handler's awaitable and report how it ended to the core (a cancelled one is not)."""
    try:
        await awaitable
    except Exception as err:
        done(err)
        return
    done(None)


async def wait_opened(channel: Channel) -> bool:
    """Wait until ``channel`` is fully open (True) or closed first (False): JS ``fullyOpened()``."""
    if channel.opened:
        return True
    if channel.closed:
        return False
    fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def on_event(event: ChannelEvent) -> None:
        if not fut.done() and event in ("open", "close"):
            fut.set_result(event == "open")

    channel.add_listener(on_event)
    try:
        return await fut
    finally:
        channel.remove_listener(on_event)


async def wait_destroyed(channel: Channel) -> None:
    """Wait until ``channel`` is destroyed (closed and its handlers finished): JS ``fullyClosed()``."""
    if channel.destroyed:
        return
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_event(event: ChannelEvent) -> None:
        if not fut.done() and event == "destroy":
            fut.set_result(None)

    channel.add_listener(on_event)
    try:
        await fut
    finally:
        channel.remove_listener(on_event)


class _StreamHost:
    """The :class:`~hyperpunch.protomux.core.Host` face of a :class:`Protomux`."""

    __slots__ = ("_mux",)

    def __init__(self, mux: Protomux) -> None:
        self._mux = mux

    def write(self, frame: bytearray) -> bool:
        return self._mux._host_write(frame)

    def destroy(self, error: BaseException | None) -> None:
        self._mux._host_destroy(error)

    def end(self) -> None:
        self._mux._host_end()

    def pause(self) -> None:
        self._mux._resume.clear()

    def resume(self) -> None:
        self._mux._resume.set()

    def call_soon(self, callback: Callable[[], None]) -> None:
        self._mux._loop.call_soon(callback)

    def spawn(self, awaitable: Awaitable[object], done: Callable[[BaseException | None], None]) -> None:
        self._mux._host_spawn(awaitable, done)

    def warn(self, error: BaseException) -> None:
        log.warning("protomux warning: %r", error)


class MessageQueue(Generic[T]):
    """Receive one message type by async iteration: ``async for value in MessageQueue(msg)``.

    It replaces the message's ``on_message``; iteration ends when the channel closes (messages
    that arrived before are still delivered).
    """

    def __init__(self, message: Message[T]) -> None:
        self._items: collections.deque[T] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        channel = message.channel
        message.on_message = self._push
        channel.add_listener(self._on_event)
        if channel.closed:
            self._ended = True

    def _push(self, value: T, channel: Channel) -> None:
        self._items.append(value)
        self._wake()

    def _on_event(self, event: ChannelEvent) -> None:
        if event == "close":
            self._ended = True
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> T:
        while not self._items:
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return await self.get()

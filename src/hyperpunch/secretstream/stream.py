"""asyncio adapter for :class:`~hyperpunch.secretstream.core.SecretStreamCore` over any byte stream.

Invariants:

* The transport interface is asyncio's Transport/Protocol pair, nothing more. A transport (TCP
  today, a UDX stream later) must provide :class:`ByteStreamTransport` and drive the
  :class:`SecretStreamProtocol` it is given through ``connection_made(transport)``,
  ``data_received(bytes)``, ``eof_received()``, ``connection_lost(exc | None)`` and the flow
  control calls ``pause_writing()`` / ``resume_writing()``. A transport that also carries
  unordered datagrams (UDX) provides :class:`DatagramTransport` and calls
  ``message_received(bytes)`` for each datagram it receives.
* Backpressure both ways: received messages queue up to ``read_buffer_limit`` bytes, then the
  transport is paused until the application reads below half of it; :meth:`SecretStream.drain`
  waits while the transport has asked us to pause writing (and until the handshake is done).
* One message per :meth:`SecretStream.write`, delivered whole by :meth:`SecretStream.read`;
  ``read`` returns ``None`` at a clean end and raises the stream's error after a failure (messages
  that arrived intact before it are delivered first).
* Every stream is closed by ``aclose()`` / ``async with``. The only timer is one ``call_at``
  handle for the core's next deadline.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, Self, runtime_checkable

from hyperpunch.errors import HyperpunchError
from hyperpunch.secretstream.cipher import MAX_ATOMIC_WRITE, MAX_PLAINTEXT
from hyperpunch.secretstream.core import (
    Closed,
    Event,
    HandshakeComplete,
    Message,
    RemoteEnded,
    SecretStreamCore,
    SecretStreamOptions,
)
from hyperpunch.secretstream.errors import (
    ConnectionLostError,
    HandshakeIncompleteError,
    InvalidOptionError,
    MessageTooLargeError,
    StreamClosedError,
)
from hyperpunch.secretstream.framing import BytesLike

__all__ = [
    "ByteStreamTransport",
    "DatagramTransport",
    "SecretStream",
    "SecretStreamProtocol",
]

DEFAULT_READ_BUFFER_LIMIT = 1 << 21


@runtime_checkable
class ByteStreamTransport(Protocol):
    """What a reliable, ordered byte-stream transport must offer (asyncio.Transport has it all)."""

    def write(self, data: bytes | bytearray | memoryview) -> None: ...
    def write_eof(self) -> None: ...
    def can_write_eof(self) -> bool: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def is_closing(self) -> bool: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


@runtime_checkable
class DatagramTransport(ByteStreamTransport, Protocol):
    """A byte stream that also carries unordered datagrams (a UDX stream's MESSAGE packets)."""

    def send(self, data: bytes) -> Awaitable[bool]: ...
    def try_send(self, data: bytes) -> None: ...


class SecretStreamProtocol(asyncio.Protocol):
    """The protocol object a transport drives; it forwards everything to its :class:`SecretStream`."""

    __slots__ = ("stream",)

    def __init__(self, stream: SecretStream) -> None:
        self.stream = stream

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.stream._attach(transport)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        self.stream._on_data(data)

    def eof_received(self) -> bool:
        return self.stream._on_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stream._on_lost(exc)

    def pause_writing(self) -> None:
        self.stream._write_paused = True

    def resume_writing(self) -> None:
        self.stream._on_resume_writing()

    def message_received(self, data: bytes) -> None:
        """A datagram from a :class:`DatagramTransport` (unordered ``send`` of the peer)."""
        self.stream._on_datagram(data)


class SecretStream:
    """An encrypted, authenticated message stream over a transport (JS ``NoiseSecretStream``).

    Create it, hand :attr:`protocol` to a transport (``loop.create_connection(lambda:
    stream.protocol, ...)``), or use :meth:`connect` / :func:`serve`. ``options`` is the core's
    :class:`SecretStreamOptions` (or give its fields as keyword arguments); times are in seconds.
    ``on_message`` receives unordered datagrams.
    """

    def __init__(
        self,
        is_initiator: bool,
        options: SecretStreamOptions | None = None,
        *,
        read_buffer_limit: int = DEFAULT_READ_BUFFER_LIMIT,
        on_message: Callable[[bytes], None] | None = None,
        core: SecretStreamCore | None = None,
        **changes: Any,
    ) -> None:
        if read_buffer_limit < 1:
            raise InvalidOptionError("read_buffer_limit must be positive")
        self.core = core or SecretStreamCore(is_initiator, options, **changes)
        self.protocol = SecretStreamProtocol(self)
        self.on_message = on_message
        self.user_data: Any = None
        self._transport: ByteStreamTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._limit = read_buffer_limit
        self._reading_paused = False
        self._write_paused = False
        self._pending: list[bytes] = []  # writes made before the handshake completed
        self._end_requested = False
        self._remote_ended = False
        self._closing = False
        self._closed = False
        self._error: HyperpunchError | None = None
        self._open_waiter: asyncio.Future[None] | None = None
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._closed_waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0  # the loop time _timer fires at (uvloop's handles have no when())

    # --- helpers ---------------------------------------------------------------------------------

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        options: SecretStreamOptions | None = None,
        handshake_timeout: float | None = 30.0,
        **changes: Any,
    ) -> SecretStream:
        """Open TCP to ``host:port`` as the initiator and complete the handshake. ``options`` and
        the keyword arguments are those of :class:`SecretStream`."""
        stream = cls(True, options, **changes)
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: stream.protocol, host, port)
        try:
            async with asyncio.timeout(handshake_timeout):
                await stream.wait_open()
        except BaseException:
            stream.abort()
            raise
        return stream

    # --- public state ----------------------------------------------------------------------------

    @property
    def is_initiator(self) -> bool:
        return self.core.is_initiator

    @property
    def public_key(self) -> bytes | None:
        return self.core.public_key

    @property
    def remote_public_key(self) -> bytes | None:
        """The peer's static key: the expected one until the handshake proves it, then the proven one."""
        return self.core.remote_public_key

    @property
    def handshake_hash(self) -> bytes | None:
        return self.core.handshake_hash

    @property
    def connected(self) -> bool:
        """The handshake completed and the stream has not failed or closed."""
        return self.core.established and not self._closed and self._error is None

    @property
    def error(self) -> HyperpunchError | None:
        return self._error

    @property
    def closed(self) -> bool:
        """The transport is gone (after a clean close or a failure)."""
        return self._closed

    @property
    def transport(self) -> ByteStreamTransport | None:
        return self._transport

    @property
    def write_paused(self) -> bool:
        """True while the transport has asked us to stop writing (:meth:`drain` would wait)."""
        return self._write_paused

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if self._transport is None:
            return default
        return self._transport.get_extra_info(name, default)

    def set_keep_alive(self, seconds: float) -> None:
        self.core.set_keep_alive(seconds, self._now())
        self._arm_timer()

    def set_timeout(self, seconds: float) -> None:
        self.core.set_timeout(seconds, self._now())
        self._arm_timer()

    # --- application API -------------------------------------------------------------------------

    async def wait_open(self) -> None:
        """Wait for the handshake (JS ``await stream.opened``); raise if it fails or the stream closes."""
        if self.core.established and self._error is None:
            return
        self._raise_if_dead()
        if self._open_waiter is None:
            self._open_waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._open_waiter)

    def write(self, data: BytesLike) -> None:
        """Encrypt and send one message (at most 16 MiB - 18 bytes); pair with :meth:`drain`."""
        if self._end_requested or self._closing or self._closed or self._error is not None:
            raise StreamClosedError("cannot write: the stream is ending or closed") from self._error
        transport = self._transport
        if transport is None or not self.core.established:
            size = memoryview(data).nbytes
            if size > MAX_PLAINTEXT:
                raise MessageTooLargeError(
                    f"Message is too large for an atomic write. Max size is {MAX_ATOMIC_WRITE} bytes."
                )
            self._pending.append(bytes(data))
            return
        transport.write(self.core.send(data, self._now()))

    def writelines(self, messages: list[BytesLike]) -> None:
        for message in messages:
            self.write(message)

    async def drain(self) -> None:
        """Wait until the transport accepts more (and the handshake is done); raise if it failed."""
        if self._pending or not self.core.established:
            await self.wait_open()
        self._raise_if_dead()
        while self._write_paused:
            self._raise_if_dead()
            if self._drain_waiter is None:
                self._drain_waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._drain_waiter)
        if self._error is not None:
            raise self._error

    async def read(self) -> bytes | None:
        """The next message; ``None`` once the peer ended (or the stream closed) cleanly."""
        while True:
            if self._queue:
                message = self._queue.popleft()
                self._queued -= len(message)
                if self._reading_paused and self._queued <= self._limit >> 1:
                    self._reading_paused = False
                    if self._transport is not None and not self._closed:
                        self._transport.resume_reading()
                return message
            if self._error is not None:
                raise self._error
            if self._remote_ended or self._closed:
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._read_waiter = waiter
            try:
                await waiter
            finally:
                self._read_waiter = None

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        message = await self.read()
        if message is None:
            raise StopAsyncIteration
        return message

    async def send(self, data: BytesLike) -> bool:
        """Send an unordered, encrypted datagram (needs a :class:`DatagramTransport`; else False)."""
        box = self.core.send_box
        transport = self._transport
        if box is None or not isinstance(transport, DatagramTransport):
            return False
        return await transport.send(box.box(data))

    def try_send(self, data: BytesLike) -> bool:
        """Best-effort datagram; False when the transport carries none or the handshake is not done."""
        box = self.core.send_box
        transport = self._transport
        if box is None or not isinstance(transport, DatagramTransport):
            return False
        transport.try_send(box.box(data))
        return True

    def send_keep_alive(self) -> None:
        """Send an empty message now (what the keepalive timer does)."""
        self.write(b"")

    def write_eof(self) -> None:
        """End this side (JS ``end()``): no more writes; the transport is half-closed once flushed."""
        if self._end_requested or self._closed:
            return
        self._end_requested = True
        if self.core.established and not self._pending:
            self._finish_end()

    end = write_eof

    def close(self) -> None:
        """Close the transport (buffered bytes are still flushed); see :meth:`aclose`."""
        if self._closing or self._closed:
            return
        self._closing = True
        self._cancel_timer()
        if self._transport is not None:
            self._transport.close()
        else:
            self._on_lost(None)

    def abort(self) -> None:
        """Drop the transport at once (JS ``destroy()``)."""
        self._closing = True
        self._cancel_timer()
        if self._transport is not None and not self._closed:
            self._transport.abort()
        elif self._transport is None:
            self._on_lost(None)

    async def wait_closed(self) -> None:
        if self._closed:
            return
        if self._closed_waiter is None:
            self._closed_waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._closed_waiter)

    async def aclose(self) -> None:
        """Close and wait until the transport is gone."""
        self.close()
        await self.wait_closed()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        role = "initiator" if self.is_initiator else "responder"
        state = "closed" if self._closed else "open" if self.core.established else "handshaking"
        return f"<SecretStream {role} {state}>"

    # --- transport callbacks ---------------------------------------------------------------------

    def _now(self) -> float:
        loop = self._loop
        if loop is None:
            try:
                loop = self._loop = asyncio.get_running_loop()
            except RuntimeError:
                return 0.0
        return loop.time()

    def _attach(self, transport: ByteStreamTransport) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        if self._closing:
            transport.close()
            return
        try:
            events = self.core.start(self._loop.time())
        except HyperpunchError as err:
            self._dispatch([Closed(err)])
            return
        self._flush_outbox()
        self._dispatch(events)
        self._arm_timer()

    def _on_data(self, data: bytes) -> None:
        core = self.core
        events = core.receive_data(data, self._loop.time())  # type: ignore[union-attr]
        if core.has_data_to_send:
            self._flush_outbox()
        if not events:
            return
        queue = self._queue
        for event in events:
            if type(event) is Message:
                message = event.data
                queue.append(message)
                self._queued += len(message)
            else:
                self._dispatch((event,))
        if (
            self._queued > self._limit
            and not self._reading_paused
            and not self._closed
            and self._error is None
        ):
            self._reading_paused = True
            self._transport.pause_reading()  # type: ignore[union-attr]
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_eof(self) -> bool:
        self._dispatch(self.core.receive_eof())
        # keep the transport half-open for our writes, unless it failed or both sides ended
        return self._error is None and not (self._end_requested and self.core.ended_local)

    def _on_lost(self, exc: Exception | None) -> None:
        if self._closed:
            return
        self._cancel_timer()
        if self._error is None and not self._closing:
            if exc is not None:
                err: HyperpunchError = ConnectionLostError(f"the transport failed: {exc}")
                err.__cause__ = exc
                self.core.fail(err)
                self._error = err
            elif not self.core.opened:
                err = HandshakeIncompleteError(
                    "the transport closed before the handshake and header exchange"
                )
                self.core.fail(err)
                self._error = err
        self._closed = True
        self._wake_all()

    def _on_resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        self._drain_waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_datagram(self, data: bytes) -> None:
        box = self.core.send_box
        if box is None or self.on_message is None:
            return  # datagrams before the handshake are dropped, as in JS
        plain = box.open(data)
        if plain is not None:
            self.on_message(plain)

    # --- internals -------------------------------------------------------------------------------

    def _raise_if_dead(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed or self._closing:
            raise StreamClosedError("the stream is closed")

    def _flush_outbox(self) -> None:
        out = self.core.data_to_send()
        if out and self._transport is not None and not self._closed:
            self._transport.write(out)

    def _dispatch(self, events: tuple[Event, ...] | list[Event]) -> None:
        for event in events:
            if type(event) is Message:
                self._queue.append(event.data)
                self._queued += len(event.data)
            elif type(event) is HandshakeComplete:
                self._on_handshake()
            elif type(event) is RemoteEnded:
                self._remote_ended = True
                if self.core.ended_local and self._transport is not None:
                    self._transport.close()
            elif type(event) is Closed:
                self._on_failed(event.error)
        self._wake_reader()

    def _on_handshake(self) -> None:
        transport = self._transport
        assert transport is not None
        self._flush_outbox()  # the header frame goes before any data
        if self._pending:
            pending, self._pending = self._pending, []
            now = self._now()
            for message in pending:
                transport.write(self.core.send(message, now))
        if self._end_requested:
            self._finish_end()
        waiter = self._open_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._arm_timer()

    def _finish_end(self) -> None:
        self.core.end()
        transport = self._transport
        if transport is None or self._closed:
            return
        if self._remote_ended:
            transport.close()
        elif transport.can_write_eof():
            transport.write_eof()

    def _on_failed(self, error: HyperpunchError | None) -> None:
        if error is not None and self._error is None:
            self._error = error
        self._cancel_timer()
        if self._transport is not None and not self._closed:
            self._transport.abort()
        self._wake_all()

    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_all(self) -> None:
        self._wake_reader()
        error: BaseException = self._error or StreamClosedError("the stream closed")
        for name in ("_open_waiter", "_drain_waiter"):
            waiter: asyncio.Future[None] | None = getattr(self, name)
            setattr(self, name, None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)
                waiter.exception()  # mark retrieved: nobody may be awaiting it
        if self._closed:
            waiter = self._closed_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def _arm_timer(self) -> None:
        loop = self._loop
        if loop is None:
            return
        deadline = self.core.next_deadline()
        if deadline is None or self._closed:
            self._cancel_timer()
            return
        timer = self._timer
        if timer is not None:
            if self._timer_when <= deadline:
                return  # fires early, then re-arms
            timer.cancel()
        self._timer_when = deadline
        self._timer = loop.call_at(deadline, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        timer, self._timer = self._timer, None
        if self._closed or self._loop is None:
            return
        # asyncio may run a timer up to one clock resolution early: never look earlier than its time
        now = self._loop.time()
        if timer is not None and self._timer_when > now:
            now = self._timer_when
        events = self.core.handle_timer(now)
        self._flush_outbox()
        self._dispatch(events)
        self._arm_timer()

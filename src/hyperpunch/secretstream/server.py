"""TCP server helper for secret streams: accept, handshake as the responder, run a handler.

Invariants:

* Each accepted connection gets its own :class:`~hyperpunch.secretstream.stream.SecretStream`
  (responder) and one task owned by the server; the handler runs only after the handshake
  completed (so the firewall and expected-key checks already passed), and the stream is closed
  when the handler returns or fails.
* ``aclose()`` / ``async with`` (once, :class:`~hyperpunch.aio.CloseOnce`) stops listening,
  cancels every handler task (all owned by one :class:`~hyperpunch.aio.TaskOwner`) and waits
  for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Self

from hyperpunch.aio import CloseOnce, TaskOwner
from hyperpunch.crypto import key_pair as make_key_pair
from hyperpunch.errors import HyperpunchError
from hyperpunch.secretstream.core import SecretStreamOptions
from hyperpunch.secretstream.stream import SecretStream, SecretStreamProtocol

__all__ = ["SecretStreamServer", "serve"]

log = logging.getLogger(__name__)


class SecretStreamServer:
    """A TCP listener that runs ``handler(stream)`` for each peer once its handshake completes."""

    def __init__(
        self,
        handler: Callable[[SecretStream], Awaitable[None]],
        factory: Callable[[], SecretStream],
        handshake_timeout: float | None,
    ) -> None:
        self._handler = handler
        self._factory = factory
        self._handshake_timeout = handshake_timeout
        self._server: asyncio.Server | None = None
        self._tasks = TaskOwner("secret-stream server")
        self._close_once = CloseOnce(self._aclose)
        self.streams: set[SecretStream] = set()

    def _protocol_factory(self) -> SecretStreamProtocol:
        stream = self._factory()
        if self._tasks.closed:  # accepted while closing: drop it
            stream.abort()
            return stream.protocol
        self.streams.add(stream)
        self._tasks.spawn(self._run(stream))
        return stream.protocol

    async def _run(self, stream: SecretStream) -> None:
        try:
            async with asyncio.timeout(self._handshake_timeout):
                await stream.wait_open()
            await self._handler(stream)
        except HyperpunchError as err:
            log.debug("secret stream connection ended: %s", err)
        except Exception:
            log.exception("secret stream handler failed")
        finally:
            self.streams.discard(stream)
            if stream.error is not None:
                stream.abort()
            else:
                stream.close()
            with contextlib.suppress(Exception):
                await stream.wait_closed()

    @property
    def sockets(self) -> tuple[Any, ...]:
        return tuple(self._server.sockets) if self._server is not None else ()

    @property
    def port(self) -> int:
        """The bound TCP port (useful with port 0)."""
        return int(self.sockets[0].getsockname()[1])

    async def aclose(self) -> None:
        """Stop listening, cancel running handlers and wait for them and their streams."""
        await self._close_once()

    async def _aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._tasks.aclose()
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def serve(
    handler: Callable[[SecretStream], Awaitable[None]],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    options: SecretStreamOptions | None = None,
    handshake_timeout: float | None = 30.0,
    **changes: Any,
) -> SecretStreamServer:
    """Listen on TCP ``host:port`` as the responder; each accepted stream is closed after ``handler``.

    ``options`` and the keyword arguments are those of :class:`SecretStream`; every accepted
    stream uses the same key pair (a random one when none is given).
    """
    kp = changes.pop("key_pair", None) or (options.key_pair if options is not None else None)
    if kp is None:
        kp = make_key_pair()

    def factory() -> SecretStream:
        return SecretStream(False, options, key_pair=kp, **changes)

    server = SecretStreamServer(handler, factory, handshake_timeout)
    server._server = await asyncio.get_running_loop().create_server(server._protocol_factory, host, port)
    return server

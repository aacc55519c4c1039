"""The relay server: WebSocket clients relayed through one HyperDHT node (JS ``dht-relay`` bin).

Invariants:

* One :class:`~hyperpunch.relay.session.RelaySession` per WebSocket connection, all sharing the
  node and one id counter; a session's failure (garbage, a limit, a disconnect) ends that session
  only. :meth:`RelayServer.aclose` stops accepting, ends every session (freeing what each opened)
  and closes the node if the server made it.
* The WebSocket server is the ``websockets`` library's; a frame larger than
  ``limits.max_frame`` closes that client (code 1009). What one client can make the relay buffer
  is bounded: toward the client ``limits.high_water`` (then DHT reads pause), from the client two
  read-ahead frames plus the frame being written (then WebSocket reads pause).
* ``on_session(session)`` runs for each new client before it is served: the place to add channels of
  one's own to ``session.mux`` (the client's Protomux, shared with the relay channel). If it
  raises, that client is closed; the server goes on.
* With ``http_handler``, plain HTTP requests on the same port go to it (a page and its relay on one
  origin); WebSocket upgrades go to the relay only at ``ws_path`` (any path when ``ws_path`` is
  ``None``), others get a 404.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import Server as WSServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from hyperpunch.aio import CloseOnce
from hyperpunch.dht import HyperDHT
from hyperpunch.relay.session import IdCounter, RelayLimits, RelaySession
from hyperpunch.relay.transport import WebSocketStream
from hyperpunch.relay.web import HttpHandler, HttpReply, not_found

__all__ = ["RelayServer"]

log = logging.getLogger(__name__)


class RelayServer:
    """``async with RelayServer(dht, host, port) as relay:`` serves ``relay.url`` until closed."""

    def __init__(
        self,
        dht: HyperDHT,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
        limits: RelayLimits | None = None,
        require_non_custodial: bool = False,
        own_dht: bool = False,
        http_handler: HttpHandler | None = None,
        ws_path: str | None = None,
        on_session: Callable[[RelaySession], None] | None = None,
    ) -> None:
        self.dht = dht
        self.host = host
        self.port = port
        self.limits = limits or RelayLimits()
        self.require_non_custodial = require_non_custodial
        self.sessions: set[RelaySession] = set()
        self._ssl = ssl_context
        self._http = http_handler
        self.ws_path = ws_path
        self.on_session = on_session
        self._own_dht = own_dht
        self._ids = IdCounter()
        self._ws: WSServer | None = None
        self._close_once = CloseOnce(self._aclose)
        self._changed = asyncio.Event()  # set whenever a session ends
        self._secret_keys_past = 0  # secret keys received by sessions that ended

    @property
    def url(self) -> str:
        scheme = "wss" if self._ssl is not None else "ws"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{self.ws_path or ''}"

    @property
    def http_url(self) -> str:
        scheme = "https" if self._ssl is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}/"

    async def _process_request(self, _conn: ServerConnection, request: Request) -> Response | None:
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        path = request.path.split("?", 1)[0]
        if upgrade:
            if self.ws_path is None or path == self.ws_path:
                return None
            return _response(not_found())
        if self._http is None:
            return None  # the WebSocket library answers 426 Upgrade Required
        try:
            reply = await self._http(request.path)
        except Exception:  # a handler's bug is this request's 500, never the server's end
            reply = HttpReply(500, b"internal error\n")
        return _response(reply)

    async def listen(self) -> None:
        await self.dht.ready()
        self._ws = await serve(
            self._serve,
            self.host,
            self.port,
            ssl=self._ssl,
            max_size=self.limits.max_frame,
            max_queue=2,  # frames read ahead per client: with max_frame, bounds what a client buffers here
            compression=None,
            ping_interval=None,
            process_request=self._process_request,
        )
        sockets = list(self._ws.sockets)
        if sockets and self.port == 0:
            self.port = sockets[0].getsockname()[1]

    async def _serve(self, ws: ServerConnection) -> None:
        stream = WebSocketStream(ws, high_water=self.limits.high_water)
        session = RelaySession(
            self.dht,
            stream,
            ids=self._ids,
            limits=self.limits,
            require_non_custodial=self.require_non_custodial,
        )
        self.sessions.add(session)
        try:
            if self.on_session is not None:
                try:
                    self.on_session(session)
                except Exception as err:  # the operator's hook failed: this client only
                    log.exception("relay on_session hook failed")
                    session.fail(err)
            await session.run()
        finally:
            self.sessions.discard(session)
            self._secret_keys_past += session.secret_keys_seen
            self._changed.set()

    @property
    def secret_keys_seen(self) -> int:
        """How many messages carrying a secret key clients ever sent this relay (0 when every client
        was non-custodial; with ``require_non_custodial`` each one was refused)."""
        return self._secret_keys_past + sum(s.secret_keys_seen for s in self.sessions)

    async def wait_sessions(self, count: int = 0) -> None:
        """Wait until at most ``count`` client sessions are open (0: every client left and was freed)."""
        while len(self.sessions) > count:
            self._changed.clear()
            await self._changed.wait()

    async def aclose(self) -> None:
        await self._close_once()

    async def _aclose(self) -> None:
        if self._ws is not None:
            self._ws.close(close_connections=False)
        await asyncio.gather(*(s.aclose() for s in list(self.sessions)), return_exceptions=True)
        if self._ws is not None:
            await self._ws.wait_closed()
        if self._own_dht:
            await self.dht.aclose()

    async def __aenter__(self) -> RelayServer:
        await self.listen()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


_REASONS = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}


def _response(reply: HttpReply) -> Response:
    headers = Headers()
    headers["Content-Type"] = reply.content_type
    headers["Content-Length"] = str(len(reply.body))
    headers["Cache-Control"] = "no-cache"
    headers["Connection"] = "close"
    for name, value in reply.headers.items():
        headers[name] = value
    return Response(reply.status, _REASONS.get(reply.status, "Status"), headers, reply.body)

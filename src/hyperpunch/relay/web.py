"""Plain HTTP beside the relay's WebSocket on the same port (what ``hyperpunch todo serve`` needs).

:class:`~hyperpunch.relay.server.RelayServer` hands every request that is not a WebSocket
upgrade to an :data:`HttpHandler`; :func:`static_handler` is one that serves the files of a
directory (plus a few computed routes). Only ``GET``/``HEAD`` reach a handler (the WebSocket
library's HTTP parser refuses the rest).

Invariants: a path never resolves outside the directory (``..``, absolute paths, symlinks out
are a 404); unknown paths are a 404, never a traceback; replies carry a content type and
``Cache-Control: no-cache`` so a rebuilt page is picked up on reload.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["HttpHandler", "HttpReply", "not_found", "static_handler"]


@dataclass(frozen=True)
class HttpReply:
    """What a handler answers: status, body and headers (a content type is always sent)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


HttpHandler = Callable[[str], Awaitable[HttpReply]]
"""Called with the request target (path and query); answers with an :class:`HttpReply`."""


def not_found() -> HttpReply:
    return HttpReply(404, b"not found\n")


_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".map": "application/json",
}


def _content_type(path: Path) -> str:
    known = _TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def static_handler(
    root: Path,
    *,
    index: str = "index.html",
    routes: Mapping[str, Callable[[], HttpReply]] | None = None,
) -> HttpHandler:
    """A handler serving the files under ``root`` (``/`` is ``index``), ``routes`` first."""
    base = root.resolve()
    computed = dict(routes or {})

    async def handle(target: str) -> HttpReply:
        path = unquote(urlsplit(target).path) or "/"
        route = computed.get(path)
        if route is not None:
            return route()
        name = index if path.endswith("/") else ""
        candidate = (base / (path.lstrip("/") + name)).resolve()
        if not candidate.is_relative_to(base) or not candidate.is_file():
            return not_found()
        try:
            body = candidate.read_bytes()
        except OSError:
            return not_found()
        return HttpReply(200, body, _content_type(candidate))

    return handle

"""HTTP on the relay's port: static files, computed routes, 404s, and the relay still at its path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from relay_net import HOST, peer
from relay_net import testnet as local_testnet

from hyperpunch.relay import HttpReply, RelayedDHT, RelayServer, static_handler


async def http_get(port: int, target: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
        await writer.drain()
        raw = await reader.read()  # the server closes after each reply
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


async def test_static_files_routes_and_relay_on_one_port(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / "app.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("no")
    handler = static_handler(tmp_path, routes={"/list": lambda: HttpReply(200, b"abc\n")})
    async with (
        local_testnet(3) as bootstrap,
        peer(bootstrap) as node,
        RelayServer(node, HOST, 0, http_handler=handler, ws_path="/relay") as relay,
    ):
        assert relay.url.endswith("/relay")
        status, headers, body = await http_get(relay.port, "/")
        assert (status, body) == (200, b"<h1>hi</h1>")
        assert headers["content-type"].startswith("text/html")
        status, headers, body = await http_get(relay.port, "/app.js?v=1")
        assert (status, body) == (200, b"console.log(1)")
        assert headers["content-type"].startswith("text/javascript")
        assert (await http_get(relay.port, "/list"))[2] == b"abc\n"
        for bad in ("/nope.js", "/../secret.txt", "/%2e%2e/secret.txt", "//etc/passwd"):
            assert (await http_get(relay.port, bad))[0] == 404, bad
        # the relay still answers at its path, and a relayed client works through it
        async with RelayedDHT(relay.url, custodial=True) as client:
            found = [r async for r in client.lookup(bytes(32))]
            assert isinstance(found, list)


async def test_handler_error_is_a_500_and_server_keeps_serving() -> None:
    calls = 0

    async def handler(target: str) -> HttpReply:
        nonlocal calls
        calls += 1
        if target == "/boom":
            raise RuntimeError("bug")
        return HttpReply(200, b"ok")

    async with (
        local_testnet(3) as bootstrap,
        peer(bootstrap) as node,
        RelayServer(node, HOST, 0, http_handler=handler, ws_path="/relay") as relay,
    ):
        assert (await http_get(relay.port, "/boom"))[0] == 500
        assert (await http_get(relay.port, "/x"))[:3:2] == (200, b"ok")
        assert calls == 2


@pytest.mark.parametrize("path", ["/", "/other"])
async def test_websocket_elsewhere_than_ws_path_is_refused(path: str) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    async with (
        local_testnet(3) as bootstrap,
        peer(bootstrap) as node,
        RelayServer(node, HOST, 0, ws_path="/relay") as relay,
    ):
        with pytest.raises(InvalidStatus):
            async with connect(f"ws://{HOST}:{relay.port}{path}"):
                pass

"""A hyperpunch HyperDHT peer for the NAT lab, driven by JSON lines (twin: interop/scripts/dht-lab-peer.js).

usage: python lab_peer.py '{"bootstrap": ["host:port", ...], "host": "0.0.0.0"}'
stdout: {"event": "ready", "firewalled": bool}
stdin commands (one JSON object a line):
  {"cmd": "listen", "seed": hex, "relayThrough": hex?}
      -> {"event": "listening", "publicKey": hex}; per accepted connection
         {"event": "connection", "host", "port", "path", "remotePublicKey"} and it is echoed back
         (data -> write, end -> end), then {"event": "server-closed", "bytes": n}
  {"cmd": "connect", "publicKey": hex, "bytes": n, "relayThrough": hex?, "timeout": s?}
      -> {"event": "open", "host", "port", "path", "remotePublicKey"}, writes n random bytes, ends,
         -> {"event": "echoed", "sent": sha256, "received": sha256, "bytes": n}
      or {"event": "connect-error", "code": "..."}
  {"cmd": "relay", "seed": hex} -> a blind-relay server: {"event": "relaying", "publicKey": hex}
  {"cmd": "close"} -> {"event": "closed"}

Invariant: every task and server it starts is closed before "closed" is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from hyperpunch.dht import HyperDHT
from hyperpunch.dht.relay import BlindRelayServer
from hyperpunch.secretstream import SecretStream


def out(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def conn_event(event: str, stream: SecretStream) -> dict[str, Any]:
    info = stream.user_data.get("dht", {}) if isinstance(stream.user_data, dict) else {}
    host, port = info.get("remote_address", (None, None))
    rpk = stream.remote_public_key
    return {
        "event": event,
        "host": host,
        "port": port,
        "path": info.get("path"),
        "remotePublicKey": rpk.hex() if rpk else None,
    }


async def echo(stream: SecretStream) -> None:
    out(conn_event("connection", stream))
    total = 0
    try:
        async for message in stream:
            total += len(message)
            stream.write(message)
            await stream.drain()
        stream.write_eof()
    except Exception as err:
        out({"event": "server-error", "message": repr(err)})
    out({"event": "server-closed", "bytes": total})


async def connect_and_echo(node: HyperDHT, msg: dict[str, Any]) -> None:
    relay = msg.get("relayThrough")
    try:
        stream = await node.connect(
            bytes.fromhex(msg["publicKey"]),
            relay_through=bytes.fromhex(relay) if relay else None,
            timeout=float(msg.get("timeout", 60)),
        )
    except Exception as err:
        out({"event": "connect-error", "code": getattr(err, "code", None) or type(err).__name__})
        return
    out(conn_event("open", stream))
    sent, received = hashlib.sha256(), hashlib.sha256()
    total = 0

    async def reader() -> None:
        nonlocal total
        async for message in stream:
            total += len(message)
            received.update(message)

    task = asyncio.ensure_future(reader())
    try:
        left = int(msg["bytes"])
        while left:
            chunk = os.urandom(min(left, 16384))
            sent.update(chunk)
            stream.write(chunk)
            await stream.drain()
            left -= len(chunk)
        stream.write_eof()
        await asyncio.wait_for(task, 60)
        out({"event": "echoed", "sent": sent.hexdigest(), "received": received.hexdigest(), "bytes": total})
    except Exception as err:
        out({"event": "echo-error", "message": repr(err), "bytes": total})
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await stream.aclose()


def _relay_acceptor(blind: BlindRelayServer) -> Callable[[SecretStream], None]:
    def accept(stream: SecretStream) -> None:
        blind.accept(stream)

    return accept


async def main() -> None:
    opts = json.loads(sys.argv[1])
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    tasks: set[asyncio.Task[None]] = set()
    relays: list[BlindRelayServer] = []
    async with HyperDHT(bootstrap=opts["bootstrap"], host=opts.get("host", "0.0.0.0")) as node:
        await node.ready()
        out({"event": "ready", "firewalled": node.firewalled})
        while line := await stdin.readline():
            msg = json.loads(line)
            cmd = msg["cmd"]
            if cmd == "listen":
                relay = msg.get("relayThrough")
                server = node.create_server(
                    on_connection=echo, relay_through=bytes.fromhex(relay) if relay else None
                )
                key_pair = HyperDHT.key_pair(bytes.fromhex(msg["seed"]))
                await server.listen(key_pair)
                out({"event": "listening", "publicKey": key_pair.public_key.hex()})
            elif cmd == "connect":
                task = asyncio.ensure_future(connect_and_echo(node, msg))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            elif cmd == "relay":
                blind = BlindRelayServer(node.create_raw_stream)
                relays.append(blind)
                server = node.create_server(on_connection=_relay_acceptor(blind))
                key_pair = HyperDHT.key_pair(bytes.fromhex(msg["seed"]))
                await server.listen(key_pair)
                out({"event": "relaying", "publicKey": key_pair.public_key.hex()})
            elif cmd == "close":
                break
        for task in list(tasks):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        for blind in relays:
            await blind.aclose()
    out({"event": "closed"})


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as err:
        out({"event": "error", "message": repr(err)})
        raise SystemExit(1) from None

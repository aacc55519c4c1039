"""Echo helpers shared by the DHT and relay tests: an echoing server side and a checked bulk send."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from typing import Any

MIB = 1 << 20


async def echo(stream: Any) -> None:
    """Server side: write back every message, end when the client ends."""
    async for message in stream:
        stream.write(message)
        await stream.drain()
    stream.write_eof()


async def send_and_check_echo(stream: Any, total: int = MIB, *, timeout: float = 30) -> tuple[str, str, int]:
    """Write ``total`` random bytes (64 KiB messages), end, read the echo within ``timeout`` seconds;
    (sent sha, got sha, bytes)."""
    sent = hashlib.sha256()
    got = hashlib.sha256()
    received = 0

    async def reader() -> None:
        nonlocal received
        async for message in stream:
            got.update(message)
            received += len(message)

    task = asyncio.ensure_future(reader())
    try:
        left = total
        while left:
            chunk = os.urandom(min(left, 65536))
            sent.update(chunk)
            stream.write(chunk)
            await stream.drain()
            left -= len(chunk)
        stream.write_eof()
        await asyncio.wait_for(task, timeout)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    return sent.hexdigest(), got.hexdigest(), received

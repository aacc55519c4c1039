"""A lossy UDP relay for tests: two ports, each side talks to one; seeded loss, delay, duplication."""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any


class LossyRelay:
    """``left_port`` faces peer L, ``right_port`` faces peer R; call ``set_peers`` once known."""

    def __init__(
        self, *, seed: int, loss: float, dup: float, reorder: float, max_delay: float = 0.004
    ) -> None:
        self.rng = random.Random(seed)
        self.loss = loss
        self.dup = dup
        self.reorder = reorder
        self.max_delay = max_delay
        self.left: socket.socket | None = None
        self.right: socket.socket | None = None
        self.left_peer: tuple[str, int] | None = None
        self.right_peer: tuple[str, int] | None = None
        self.stats = {"forwarded": 0, "dropped": 0, "duplicated": 0, "delayed": 0}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> LossyRelay:
        self._loop = asyncio.get_running_loop()
        self.left = self._open()
        self.right = self._open()
        self._loop.add_reader(self.left.fileno(), self._on_read, self.left, "L")
        self._loop.add_reader(self.right.fileno(), self._on_read, self.right, "R")
        return self

    @staticmethod
    def _open() -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.bind(("127.0.0.1", 0))
        return s

    @property
    def left_port(self) -> int:
        assert self.left is not None
        return int(self.left.getsockname()[1])

    @property
    def right_port(self) -> int:
        assert self.right is not None
        return int(self.right.getsockname()[1])

    def _on_read(self, sock: socket.socket, side: str) -> None:
        for _ in range(256):
            try:
                data, addr = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            if side == "L":
                self.left_peer = addr
                out, dest = self.right, self.right_peer
            else:
                self.right_peer = addr
                out, dest = self.left, self.left_peer
            if dest is None or out is None:
                continue
            self._forward(data, out, dest)

    def _forward(self, data: bytes, out: socket.socket, dest: tuple[str, int]) -> None:
        rng = self.rng
        if rng.random() < self.loss:
            self.stats["dropped"] += 1
            return
        copies = 2 if rng.random() < self.dup else 1
        if copies == 2:
            self.stats["duplicated"] += 1
        for _ in range(copies):
            if rng.random() < self.reorder:
                self.stats["delayed"] += 1
                assert self._loop is not None
                self._loop.call_later(rng.random() * self.max_delay, self._send, out, data, dest)
            else:
                self._send(out, data, dest)

    def _send(self, out: socket.socket, data: bytes, dest: tuple[str, int]) -> None:
        try:
            out.sendto(data, dest)
            self.stats["forwarded"] += 1
        except OSError:
            self.stats["dropped"] += 1

    def set_peers(self, left: tuple[str, int] | None = None, right: tuple[str, int] | None = None) -> None:
        if left is not None:
            self.left_peer = left
        if right is not None:
            self.right_peer = right

    async def aclose(self) -> None:
        for s in (self.left, self.right):
            if s is not None and self._loop is not None:
                self._loop.remove_reader(s.fileno())
                s.close()
        self.left = self.right = None

    async def __aenter__(self) -> LossyRelay:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

"""An in-memory network of sans-IO DHT cores on a virtual clock (no sockets, no sleeping)."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import Any

from hyperpunch.dht_rpc.core import DHTCore
from hyperpunch.dht_rpc.events import DHTEvent
from hyperpunch.dht_rpc.messages import REQUEST_ID, decode_message


class MemSocket:
    def __init__(self, net: MemNet, host: str, port: int) -> None:
        self.net = net
        self.addr = (host, port)
        self.core: DHTCore | None = None
        self.blocked = False  # drop everything arriving here (a firewalled port)

    def __repr__(self) -> str:
        return f"MemSocket{self.addr}"


class MemNet:
    def __init__(self, seed: int = 1) -> None:
        self.now = 0.0
        self.rng = random.Random(seed)
        self.sockets: dict[tuple[str, int], MemSocket] = {}
        self.cores: list[DHTCore] = []
        self.queue: deque[tuple[tuple[str, int], tuple[str, int], bytes]] = deque()
        self.down: set[tuple[str, int]] = set()  # hosts:ports that swallow everything
        self.sent_log: list[tuple[tuple[str, int], tuple[str, int], bytes]] = []
        self.log_sends = False
        self.events: dict[int, list[DHTEvent]] = {}  # id(core) -> everything it reported
        self._next_port = 10000

    def _alloc(self) -> int:
        self._next_port += 1
        return self._next_port

    def add(
        self, *, host: str = "10.0.0.1", port: int | None = None, seed_nat: bool = False, **opts: Any
    ) -> DHTCore:
        sport = port or self._alloc()
        server = MemSocket(self, host, sport)
        client = MemSocket(self, host, self._alloc())
        rng = random.Random(self.rng.random())

        def send(sock: object, data: bytes, to_port: int, to_host: str, ttl: int) -> None:
            assert isinstance(sock, MemSocket)
            item = ((to_host, to_port), sock.addr, data)
            self.queue.append(item)
            if self.log_sends:
                self.sent_log.append(item)

        core = DHTCore(send, now=self.now, rng=rng, random_bytes=rng.randbytes, **opts)
        server.core = client.core = core
        self.sockets[server.addr] = server
        self.sockets[client.addr] = client
        if seed_nat:
            core.seed_nat(host, sport)
        core.bind(server, client, sport)
        self.cores.append(core)
        self.events[id(core)] = core.take_events()
        return core

    def events_of(self, core: DHTCore) -> list[DHTEvent]:
        """Everything ``core`` reported so far (its inputs' events plus any left by commands)."""
        got = self.events[id(core)]
        got.extend(core.take_events())
        return got

    def _record(self, core: DHTCore, events: list[DHTEvent]) -> None:
        if events:
            self.events[id(core)].extend(events)

    def address(self, core: DHTCore) -> tuple[str, int]:
        sock = core.io.server_socket
        assert isinstance(sock, MemSocket)
        return sock.addr

    def deliver_all(self) -> None:
        while self.queue:
            dst, src, data = self.queue.popleft()
            if dst in self.down or src in self.down:
                continue
            sock = self.sockets.get(dst)
            if sock is None or sock.blocked or sock.core is None or sock.core.destroyed:
                continue
            self._record(sock.core, sock.core.receive_datagram(data, src, self.now, socket=sock))

    def run(self, until: Callable[[], bool] | None = None, *, max_time: float = 600.0) -> bool:
        """Deliver packets and advance virtual time until ``until()`` or ``max_time`` seconds pass."""
        end = self.now + max_time
        while True:
            self.deliver_all()
            if until is not None and until():
                return True
            deadlines = [d for c in self.cores if not c.destroyed and (d := c.next_deadline()) is not None]
            if not deadlines:
                return until is None
            nxt = min(deadlines)
            if nxt > end:
                self.now = end
                for c in self.cores:
                    self._record(c, c.handle_timer(self.now))
                self.deliver_all()
                return until() if until is not None else True
            self.now = max(self.now, nxt)
            for c in self.cores:
                if not c.destroyed:
                    self._record(c, c.handle_timer(self.now))

    def requests_sent(self, command: int, internal: bool = True) -> int:
        n = 0
        for _dst, _src, data in self.sent_log:
            if data[0] == REQUEST_ID:
                m = decode_message(data)
                if getattr(m, "command", None) == command and getattr(m, "internal", None) == internal:
                    n += 1
        return n


def bootstrap_network(net: MemNet, n: int, **opts: Any) -> tuple[DHTCore, list[DHTCore]]:
    """One bootstrapper plus ``n`` persistent nodes, all bootstrapped."""
    boot = net.add(ephemeral=False, firewalled=False, seed_nat=True, host="10.0.0.1")
    bs = [net.address(boot)]
    nodes = [
        net.add(bootstrap=bs, ephemeral=False, host=f"10.0.{1 + i // 200}.{2 + i % 200}", **opts)
        for i in range(n)
    ]
    assert net.run(lambda: all(c.bootstrapped for c in [boot, *nodes]), max_time=120)
    return boot, nodes

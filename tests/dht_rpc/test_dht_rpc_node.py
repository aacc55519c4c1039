"""The asyncio DHT node over real UDP sockets on 127.0.0.1 (Python only)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpunch.dht_rpc import (
    DHT,
    DHTRPCLocalError,
    IncomingRequest,
    NodeDestroyedError,
    RequestDestroyedError,
    RequestMessage,
    RequestTimeoutError,
    encode_request,
)
from hyperpunch.encoding import Address

HOST = "127.0.0.1"


async def small_net(n: int) -> tuple[DHT, list[DHT]]:
    boot = DHT.bootstrapper(0, HOST, bind_host=HOST)
    await boot.ready()
    bs = [f"{HOST}:{boot.server_address().port}"]  # type: ignore[union-attr]
    nodes = [DHT(bootstrap=bs, host=HOST, ephemeral=False) for _ in range(n)]
    for node in nodes:
        await node.bind()
    await asyncio.gather(*(node.ready() for node in nodes))
    return boot, nodes


async def close_all(*nodes: DHT) -> None:
    for node in nodes:
        await node.aclose()


async def test_python_network_query_and_commands() -> None:
    boot, nodes = await small_net(4)
    try:
        assert boot.id is not None and all(n.id is not None for n in nodes)

        def handler(req: IncomingRequest) -> bool:
            if req.command != 42:
                return False
            req.reply(b"echo:" + (req.value or b""))
            return True

        for n in nodes:
            n.on_request = handler
        res = await nodes[0].request(nodes[1].server_address(), 42, value=b"x")  # type: ignore[arg-type]
        assert res.value == b"echo:x" and res.token is not None and res.from_.id == nodes[1].id
        res = await nodes[0].request(nodes[1].server_address(), 7)  # type: ignore[arg-type]
        assert res.error == 1

        target = os.urandom(32)
        committed: list[bytes | None] = []

        async def commit(reply, dht, q):  # type: ignore[no-untyped-def]
            committed.append(reply.token)
            r = await dht.request(reply.from_.address, 42, token=reply.token, value=b"c")
            assert r.error == 0

        q = nodes[2].query(target, 42, b"q", commit=commit)
        values = [r.value async for r in q]
        assert values and all(v == b"echo:q" for v in values)
        assert len(committed) == len(q.closest_replies) and all(t is not None for t in committed)

        r = await nodes[3].ping(boot.server_address())  # type: ignore[arg-type]
        assert r.from_.id == boot.id
        r = await nodes[3].delayed_ping(boot.server_address(), 0.05)  # type: ignore[arg-type]
        assert r.from_.id == boot.id
    finally:
        await close_all(*nodes, boot)


async def test_aclose_fails_pending_and_cancels() -> None:
    node = DHT(bootstrap=[], host=HOST)
    async with node:
        await node.ready()
        task = asyncio.ensure_future(node.request((HOST, 9), 42))
        await asyncio.sleep(0.01)
        cancelled = asyncio.ensure_future(node.request((HOST, 9), 43))
        await asyncio.sleep(0.01)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert node.core.io.stats_requests["active"] == 1
    with pytest.raises(RequestDestroyedError):
        await task
    with pytest.raises(NodeDestroyedError):
        await node.request((HOST, 9), 42)
    with pytest.raises(NodeDestroyedError):
        node.find_node(bytes(32))
    await node.aclose()  # idempotent


def test_bootstrapper_validation() -> None:
    for host in ("", "0.0.0.0", "::", "example.com"):
        with pytest.raises(DHTRPCLocalError):
            DHT.bootstrapper(1234, host)


_junk_node: dict[str, object] = {}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.binary(min_size=0, max_size=100), min_size=1, max_size=10))
def test_junk_over_udp_does_not_break_node(junk: list[bytes]) -> None:
    async def main() -> None:
        async with DHT.bootstrapper(0, HOST, bind_host=HOST) as node:
            await node.ready()
            addr = node.server_address()
            assert addr is not None
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                for data in junk:
                    s.sendto(data, addr)
                    s.sendto(b"\x03" + data, addr)
                    s.sendto(b"\x13" + data, addr)
                # a valid request with a bogus id and token still gets an answer (INVALID_TOKEN)
                bogus = RequestMessage(5, Address(*addr), 42, False, os.urandom(32), os.urandom(32))
                s.sendto(encode_request(bogus), addr)
            finally:
                s.close()
            async with DHT(bootstrap=[], host=HOST) as other:
                await other.ready()
                r = await other.ping(addr)
                assert r.from_.id == node.id

    asyncio.run(main())


async def test_early_break_destroys_query_and_handler_errors_are_contained() -> None:
    boot, nodes = await small_net(3)
    try:

        def bad_handler(req: IncomingRequest) -> bool:
            raise RuntimeError("boom")

        nodes[1].on_request = bad_handler
        with pytest.raises(RequestTimeoutError):
            await nodes[0].request(nodes[1].server_address(), 42, retry=False)  # type: ignore[arg-type]
        r = await nodes[0].ping(nodes[1].server_address())  # type: ignore[arg-type]
        assert r.from_.id == nodes[1].id  # still alive

        async with nodes[0].find_node(os.urandom(32)) as q:
            async for _reply in q:
                break
        assert q.query.destroyed
        await q.finished()  # destroyed without error
    finally:
        await close_all(*nodes, boot)


async def test_bootstrap_suggested_ip_and_dns_fallback() -> None:
    async with DHT.bootstrapper(0, HOST, bind_host=HOST) as boot:
        await boot.ready()
        port = boot.server_address().port  # type: ignore[union-attr]
        # the suggested IP answers: used as is
        async with DHT(bootstrap=[f"{HOST}@invalid.invalid:{port}"], host=HOST) as a:
            await a.ready()
            assert a.bootstrap_nodes == [(HOST, port)]
        # the suggested IP is silent: fall back to resolving the name
        async with DHT(bootstrap=[f"127.0.0.2@localhost:{port}"], host=HOST) as b:
            await b.ready()
            assert b.bootstrap_nodes == [(HOST, port)]
            assert len(b.core.table) == 1


async def test_aclose_while_resolving_bootstrap_is_prompt() -> None:
    node = DHT(bootstrap=["127.0.0.2@invalid.invalid:9"], host=HOST)
    binding = asyncio.ensure_future(node.bind())
    await asyncio.sleep(0.05)  # bound, now pinging the silent suggested IP
    await node.aclose()
    with pytest.raises(NodeDestroyedError):
        await node.ready()
    binding.cancel()
    with contextlib.suppress(BaseException):
        await binding
    assert node.core.destroyed and not node.core.io.inflight

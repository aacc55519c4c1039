"""``hyperpunch relay``: the first line names the real port; a JS client works through it; SIGTERM
stops it with exit 0; ``--require-non-custodial`` refuses a custodial client and serves a
non-custodial one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator

import pytest
from relay_net import HOST, MIB, echo, peer
from relay_net import testnet as local_testnet

from hyperpunch.dht import HyperDHT
from jsref import spawn_node

pytestmark = pytest.mark.interop


@contextlib.asynccontextmanager
async def relay_command(bootstrap: list[str], *extra: str) -> AsyncIterator[str]:
    """``hyperpunch relay --port 0 ...``; yields the URL of its first line; SIGTERM exits 0."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hyperpunch",
        "relay",
        "--host",
        HOST,
        "--port",
        "0",
        "--bootstrap",
        ",".join(bootstrap),
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        assert line.startswith(f"relay listening on ws://{HOST}:")
        port = int(line.rsplit(":", 1)[1])
        assert port > 0
        yield line.removeprefix("relay listening on ")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_relay_command_serves_a_js_client() -> None:
    async with (
        local_testnet() as bootstrap,
        relay_command(bootstrap) as url,
        spawn_node("relay-client.js", json.dumps({"url": url})) as js,
    ):
        await js.expect("ready")
        await js.send({"cmd": "lookup", "topic": "dd" * 32})
        assert (await js.expect("lookup"))["peers"] == []


async def test_relay_command_require_non_custodial() -> None:
    async with (
        local_testnet() as bootstrap,
        relay_command(bootstrap, "--require-non-custodial") as url,
        peer(bootstrap) as srv_node,
    ):
        # a custodial client (the JS default) is refused with a clear reason
        async with spawn_node("relay-client.js", json.dumps({"url": url})) as js:
            await js.expect("ready")
            closed = await js.expect("ws-close")
            assert closed["code"] == 1008
            assert closed["reason"].startswith("NON_CUSTODIAL_REQUIRED")
        # a non-custodial one is served: 1 MiB echo with a hyperpunch server
        kp = HyperDHT.key_pair()
        server = srv_node.create_server(on_connection=echo)
        await server.listen(kp)
        async with spawn_node("relay-client.js", json.dumps({"url": url, "custodial": False})) as js:
            await js.expect("ready")
            await js.send({"cmd": "connect", "publicKey": kp.public_key.hex(), "bytes": MIB})
            assert (await js.expect("open"))["remotePublicKey"] == kp.public_key.hex()
            done = await js.expect("echoed")
            assert done["bytes"] == MIB and done["sent"] == done["received"]
        await server.aclose()


async def test_relay_command_rejects_half_tls() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hyperpunch",
        "relay",
        "--tls-cert",
        "x.pem",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"--tls-cert and --tls-key go together" in err

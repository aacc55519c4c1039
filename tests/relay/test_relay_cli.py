"""``hyperpunch relay``: the first line names the real port; a JS client works through it; SIGTERM
stops it with exit 0."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import pytest
from relay_net import HOST
from relay_net import testnet as local_testnet

from jsref import spawn_node

pytestmark = pytest.mark.interop


async def test_relay_command_serves_a_js_client() -> None:
    async with local_testnet() as bootstrap:
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
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
            assert line.startswith(f"relay listening on ws://{HOST}:")
            port = int(line.rsplit(":", 1)[1])
            assert port > 0
            url = line.removeprefix("relay listening on ")
            async with spawn_node("relay-client.js", json.dumps({"url": url})) as js:
                await js.expect("ready")
                await js.send({"cmd": "lookup", "topic": "dd" * 32})
                assert (await js.expect("lookup"))["peers"] == []
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


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

"""The seed's browser snippet in Python (examples/sdk/discovery.py and in-process): in-memory
storage, no auto-join, a DHT relayed through ``hyperpunch relay`` (custodial) or native;
``discovery = await sdk.get(topic)``; peer-add fires when a JS hyper-sdk peer opens the same
topic; ``join_core`` replicates a JS peer's core."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sys
from collections.abc import AsyncIterator

import pytest
from sdk_helpers import HOST, ROOT, js_sdk, local_dht, next_kind

from hyperpunch.relay import RelayedDHT
from hyperpunch.sdk import SDK, core_events, url

pytestmark = pytest.mark.interop

TOPIC = hashlib.sha256(bytes(5)).digest()  # the seed's topic (APP-LAYER.md §5)


@contextlib.asynccontextmanager
async def relay_command(bootstrap: list[str]) -> AsyncIterator[str]:
    """``hyperpunch relay`` on a free loopback port; yields its ws:// URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hyperpunch", "relay", "--host", HOST, "--port", "0",
        "--bootstrap", ",".join(bootstrap),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        assert line.startswith("relay listening on ws://"), line
        yield line.removeprefix("relay listening on ")
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 30)


async def test_seed_snippet_native_dht() -> None:
    async with local_dht() as bootstrap, js_sdk(bootstrap) as js:
        theirs = await js.call("get", x="todo-writer")
        await js.call("append", x="todo-writer", texts=["first todo"])
        await js.call("watch", x=TOPIC.hex(), hex=True)
        async with SDK(None, auto_join=False, bootstrap=bootstrap, host=HOST) as sdk:
            discovery = await sdk.get(TOPIC)
            assert (
                discovery.discovery_key.hex()
                == "4732a8e99f6c779c33fe9ae33e1579ca09bffb595e1c9b4e7dbdaeb72520150b"
            )
            async with core_events(discovery) as events:
                assert sdk.swarm.status(discovery.discovery_key) is None  # no auto-join
                await sdk.join_core(discovery)
                event = await next_kind(events, "peer-add")
                assert event.peer.remote_public_key.hex() == js.public_key
            core = await sdk.get(theirs["url"])
            assert sdk.swarm.status(core.discovery_key) is None
            await sdk.join_core(core)
            assert await core.get(0) == b"first todo"


async def test_seed_snippet_example_through_hyperpunch_relay() -> None:
    async with local_dht() as bootstrap, relay_command(bootstrap) as relay_url, js_sdk(bootstrap) as js:
        theirs = await js.call("get", x="todo-writer")
        await js.call("append", x="todo-writer", texts=["through the relay"])
        await js.call("watch", x=TOPIC.hex(), hex=True)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "examples" / "sdk" / "discovery.py"),
            "--relay", relay_url, "--read", theirs["url"],
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            lines: list[str] = []
            async with asyncio.timeout(90):
                while not any(line.startswith("peer-add") for line in lines):
                    raw = await proc.stdout.readline()
                    if not raw:
                        assert proc.stderr is not None
                        raise AssertionError(f"example ended: {lines}\n{(await proc.stderr.read()).decode()}")
                    lines.append(raw.decode().strip())
            assert "read through the relay" in lines
            assert f"peer-add {js.public_key}" in lines
            # the JS side sees the relayed Python peer on the topic core too
            await js.wait_event(lambda m: m["event"] == "core-peer-add", what="core peer-add")
        finally:
            if proc.returncode is None:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 30)


async def test_relayed_sdk_serves_a_core_to_a_js_peer() -> None:
    """The relayed side as the writer: its core, announced through the relay, is read by JS."""
    async with (
        local_dht() as bootstrap,
        relay_command(bootstrap) as relay_url,
        RelayedDHT(relay_url, custodial=True) as dht,
        SDK(None, dht=dht) as sdk,
        js_sdk(bootstrap) as js,
    ):
        core = await sdk.get("written-behind-a-relay")
        await core.append([b"one", b"two"])
        got = await js.call("get", x=url(core))
        assert got["length"] == 2
        assert (await js.call("read", x=url(core), index=1))["text"] == "two"

"""SDK lifecycle and topics without JS: close() closes every core and the swarm, string topics are
hashed as hyper-sdk hashes them, leave_core/leave stop discovery, storage paths follow hyper-sdk's
rule, and two Python SDKs replicate a compat core (no manifest on the wire)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sdk_helpers import HOST, local_dht, next_kind

from hyperpunch.sdk import SDK, SDKClosedError, core_events, url
from hyperpunch.sdk.sdk import storage_path

# hypercore-crypto namespace("example", 1)[0], ran with the pinned JS (APP-LAYER.md §4)
EXAMPLE_TOPIC = "4b00bc46c768a3cc88cb222f557f1f8e84873d3dfb820aba22a85c0800fe063a"


def offline(**opts: Any) -> SDK:
    return SDK(None, bootstrap=[], host=HOST, **opts)


async def test_close_closes_cores_swarm_and_event_streams() -> None:
    sdk = offline()
    async with sdk:
        core = await sdk.get("a")
        topic_core = await sdk.get(bytes(32))
        bee = await sdk.get_bee("b")
        events = sdk.events()
        per_core = core_events(core)
        swarm = sdk.swarm
    assert core.closed and topic_core.closed and bee.core.closed
    assert swarm.destroyed
    assert [e async for e in events] == []
    assert [e async for e in per_core] == []
    with pytest.raises(SDKClosedError):
        await sdk.get("a")
    with pytest.raises(SDKClosedError):
        sdk.join("x")
    await sdk.aclose()  # idempotent


async def test_string_topics_join_and_leave() -> None:
    async with offline(auto_join=False) as sdk:
        assert SDK.make_topic_key("example").hex() == EXAMPLE_TOPIC
        session = sdk.join("example", server=False)
        assert session.topic.hex() == EXAMPLE_TOPIC
        assert sdk.swarm.status(bytes.fromhex(EXAMPLE_TOPIC)) is not None
        await sdk.leave("example")
        assert sdk.swarm.status(bytes.fromhex(EXAMPLE_TOPIC)) is None
        core = await sdk.get("named")
        assert sdk.swarm.status(core.discovery_key) is None  # auto_join=False
        await sdk.join_core(core)
        await sdk.join_core(core)  # once
        assert sdk.swarm.status(core.discovery_key) is not None
        await sdk.leave_core(core)
        assert sdk.swarm.status(core.discovery_key) is None


def test_storage_paths_follow_hyper_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    # an app name: per-user storage (JS: <data>/hyper-sdk-nodejs)
    assert storage_path("hyper-sdk") == tmp_path / "hyper-sdk-python"
    assert storage_path("./here") == "./here"
    assert storage_path(str(tmp_path / "abs")) == str(tmp_path / "abs")
    assert storage_path(None) is None


async def test_two_python_sdks_replicate_a_compat_core() -> None:
    async with (
        local_dht() as bootstrap,
        SDK(None, bootstrap=bootstrap, host=HOST) as a,
        SDK(None, bootstrap=bootstrap, host=HOST) as b,
    ):
        writer = await a.get("shared")
        assert writer.key is not None and writer.manifest is not None
        assert writer.key == writer.manifest.signers[0].public_key  # compat: key = signer
        await writer.append([b"one", b"two"])
        reader = await b.get(url(writer))
        assert reader.length == 2 and await reader.get(1) == b"two"
        await writer.append(b"three")
        assert await reader.get(2) == b"three"
        assert reader.manifest is not None and reader.manifest.signers[0].public_key == writer.key
        async with core_events(reader) as events:
            await a.aclose()
            await next_kind(events, "peer-remove")


async def test_concurrent_gets_share_one_session() -> None:
    async with offline(auto_join=False) as sdk:
        cores = await asyncio.gather(*(sdk.get("same") for _ in range(5)))
        assert all(c is cores[0] for c in cores)
        key = bytes(range(32))
        readers = await asyncio.gather(*(sdk.get(key) for _ in range(3)), sdk.get(key.hex()))
        assert all(r is readers[0] for r in readers)

"""hyperpunch.sdk <-> live hyper-sdk 4.5.1 (tests/sdk/sdk-peer.mjs) over a loopback HyperDHT:
cores and bees got by name on one side are read through their URL on the other, both ways; a
32-byte topic is a rendezvous core whose peer events and extension messages cross; join_peer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sdk_helpers import HOST, eventually, js_sdk, local_dht, next_kind

from hyperpunch.sdk import SDK, PeerEvent, core_events, url

pytestmark = pytest.mark.interop


def py_sdk(bootstrap: list[str], **opts: Any) -> SDK:
    return SDK(None, bootstrap=bootstrap, host=HOST, **opts)


async def test_core_by_name_read_through_url_both_ways() -> None:
    async with local_dht() as bootstrap, py_sdk(bootstrap) as sdk, js_sdk(bootstrap) as js:
        # Python writes, JS reads
        mine = await sdk.get("py-core")
        await mine.append([b"zero", b"one", b"two"])
        got = await js.call("get", x=url(mine))
        assert got["key"] == mine.key.hex() and got["writable"] is False
        assert (await js.call("read", x=url(mine), index=2))["text"] == "two"
        # JS writes, Python reads (by z32 URL; hex and z32 keys name the same core)
        theirs = await js.call("get", x="js-core")
        await js.call("append", x="js-core", texts=["a", "b"])
        core = await sdk.get(theirs["url"])
        assert core.key.hex() == theirs["key"] and not core.writable
        assert await core.get(1) == b"b"
        assert await sdk.get(theirs["key"]) is core
        # live: a later append reaches the reader
        await js.call("append", x="js-core", texts=["c"])
        assert await core.get(2) == b"c"


async def test_bee_by_name_read_through_url_both_ways() -> None:
    async with local_dht() as bootstrap, py_sdk(bootstrap) as sdk, js_sdk(bootstrap) as js:
        bee = await sdk.get_bee("py-bee", key_encoding="utf-8", value_encoding="utf-8")
        await bee.put("hello", "from python")
        await bee.put("second", "value")
        got = await js.call("bee-get", x=url(bee), key="hello")
        assert got == {**got, "value": "from python", "url": url(bee)}
        put = await js.call("bee-put", x="js-bee", key="k", value="from js")
        theirs = await sdk.get_bee(put["url"], key_encoding="utf-8", value_encoding="utf-8")
        assert await sdk.get_bee(put["url"]) is theirs  # cached by URL
        await theirs.core.update()
        entry = await theirs.get("k")
        assert entry is not None and entry.value == "from js"


async def test_topic_rendezvous_peer_add_and_extension() -> None:
    """The seed's discovery: ``get(topic)`` without auto-join, ``join_core``, peer-add when a JS
    hyper-sdk peer opens the same topic, then the ``-db-sync`` style JSON extension both ways."""
    topic = SDK.make_topic_key("hyperpunch sdk rendezvous")
    async with local_dht() as bootstrap, py_sdk(bootstrap, auto_join=False) as sdk, js_sdk(bootstrap) as js:
        discovery = await sdk.get(topic)
        assert discovery.length == 0 and not discovery.writable
        received: list[Any] = []
        ext = discovery.register_extension(
            "-db-sync", encoding="json", on_message=lambda m, p: received.append(m)
        )
        async with core_events(discovery) as events, sdk.events() as swarm_events:
            await sdk.join_core(discovery)
            await js.call("watch", x=topic.hex(), hex=True)  # opens (and auto-joins) the topic core
            await js.call("ext", x=topic.hex(), hex=True, name="-db-sync")
            first = await next_kind(events, "peer-add")
            assert isinstance(first, PeerEvent)
            assert first.peer.remote_public_key.hex() == js.public_key
            added = await next_kind(swarm_events, "peer-add")
            assert added.peer.public_key.hex() == js.public_key
            await js.wait_event(lambda m: m["event"] == "core-peer-add", what="core peer-add")
            assert bytes.fromhex(js.public_key) in sdk.peers
            await eventually(lambda: len(sdk.connections) == 1, what="one connection (duplicates dropped)")
            ext.broadcast(["writer-a", "writer-b"])
            msg = await js.wait_event(lambda m: m["event"] == "ext-message", what="extension message")
            assert msg["message"] == ["writer-a", "writer-b"]
            await js.call("ext-send", x=topic.hex(), hex=True, name="-db-sync", message={"from": "js"})
            await eventually(lambda: received == [{"from": "js"}], what="extension message from JS")
            # JS leaves: the core's peer goes away
            await js.node.send({"cmd": "exit", "id": 999})
            gone = await next_kind(events, "peer-remove")
            assert gone.peer.remote_public_key.hex() == js.public_key


async def test_join_peer_connects_without_a_topic() -> None:
    async with local_dht() as bootstrap, py_sdk(bootstrap) as sdk, js_sdk(bootstrap) as js:
        async with sdk.events() as events:
            sdk.join_peer(bytes.fromhex(js.public_key))
            added = await next_kind(events, "peer-add")
        assert added.peer.public_key.hex() == js.public_key
        await js.wait_event(
            lambda m: m["event"] == "peer-add" and m["publicKey"] == sdk.public_key.hex(), what="peer-add"
        )


async def test_reader_follows_a_hyper_sdk_truncation() -> None:
    """A compat core truncated and re-appended by its JS writer: the Python reader moves to the
    new fork (the reorg's signature verifies against the key alone)."""
    async with local_dht() as bootstrap, py_sdk(bootstrap) as sdk, js_sdk(bootstrap) as js:
        theirs = await js.call("get", x="forking")
        await js.call("append", x="forking", texts=["a", "b", "c"])
        core = await sdk.get(theirs["url"])
        assert await core.get(2) == b"c"
        truncated = asyncio.Event()
        core.on("truncate", lambda *_: truncated.set())
        cut = await js.call("truncate", x="forking", length=1)
        assert cut == {**cut, "length": 1, "fork": 1}
        await js.call("append", x="forking", texts=["B"])
        await core.update()
        await asyncio.wait_for(truncated.wait(), 60)
        await eventually(lambda: core.fork == 1 and core.length == 2, what="the new fork")
        assert await core.get(1) == b"B"

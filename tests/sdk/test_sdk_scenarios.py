"""hyper-sdk 4.5.1's own tests (its test.js), ported: storage, names and URLs, the same key twice,
DNSLink (a fake resolver instead of live DNS), a core and a bee between two peers, joinPeer. The
second peer of a two-peer scenario is a live JS hyper-sdk (tests/sdk/sdk-peer.mjs), both ways.
Hyperdrive scenarios are not ported (hyperpunch has no Hyperdrive)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sdk_helpers import HOST, js_sdk, local_dht, next_kind

from hyperpunch.sdk import SDK, DNSLinkError, StorageLockedError, TXTResolver, url

pytestmark = pytest.mark.interop  # the JS side is live hyper-sdk

NULL_KEY = "y" * 52
NULL_BUFFER = bytes(32)
NULL_HEX_KEY = NULL_BUFFER.hex()
NULL_URL = f"hyper://{NULL_KEY}/"


def offline(storage: str | None = None, **opts: Any) -> SDK:
    return SDK(storage, bootstrap=[], host=HOST, **opts)


async def test_specify_storage_for_sdk(tmp_path: Path) -> None:
    storage = str(tmp_path / "sdk")
    async with offline(storage) as sdk:
        with pytest.raises(StorageLockedError):
            async with offline(storage):
                pass
        core1 = await sdk.get("example")
        url1 = url(core1)
        await core1.append(b"Hello World!")
    async with offline(storage) as sdk:
        core2 = await sdk.get("example")
        assert url(core2) == url1, "loaded core has the same key"
        assert await core2.get(0) == b"Hello World!", "got data back from disk"
        assert core2.writable


async def test_load_hypercores_by_names_and_urls() -> None:
    async with offline(auto_join=False) as sdk:
        assert await sdk.get("example") is not None
        for key in (NULL_KEY, NULL_BUFFER, NULL_HEX_KEY, f"hyper://{NULL_KEY}", f"hyper://{NULL_HEX_KEY}"):
            core = await sdk.get(key)
            assert url(core) == NULL_URL, key


async def test_loading_same_key_twice_results_in_same_core() -> None:
    async with offline() as sdk:
        core1 = await sdk.get("example")
        assert core1.key is not None
        assert await sdk.get(core1.key) is core1
        assert await sdk.get(url(core1)) is core1
        bee1 = await sdk.get_bee("example")
        assert await sdk.get_bee(core1.key) is bee1
        assert await sdk.get_bee(url(bee1)) is bee1
        await core1.aclose()
        core4 = await sdk.get("example")
        assert core4 is not core1, "new core after close"
        assert (await sdk.get_bee("example")) is not bee1, "new bee after close"


def fake_dns(records: dict[str, list[str]]) -> tuple[TXTResolver, list[str]]:
    asked: list[str] = []

    async def resolve(name: str) -> list[str]:
        asked.append(name)
        return records.get(name, [])

    return resolve, asked


async def test_resolve_dns_entries_to_keys() -> None:
    resolve, asked = fake_dns({"_dnslink.example.mauve.moe": ["other=1", f"dnslink=/hyper/{NULL_KEY}/"]})
    async with offline(resolver=resolve) as sdk:
        assert await sdk.resolve_dns_to_key("example.mauve.moe") == NULL_KEY
        assert asked == ["_dnslink.example.mauve.moe"]
        with pytest.raises(DNSLinkError):
            await sdk.resolve_dns_to_key("nothing.example")


async def test_resolve_dns_in_hyper_urls() -> None:
    resolve, _ = fake_dns({"_dnslink.example.mauve.moe": [f"dnslink=/hyper/{NULL_KEY}"]})
    async with offline(resolver=resolve, auto_join=False) as sdk:
        core = await sdk.get("hyper://example.mauve.moe")
        assert url(core) == NULL_URL
        assert await sdk.get("hyper://example.mauve.moe/some/file.txt") is core


async def test_load_a_core_between_two_peers() -> None:
    async with (
        local_dht() as bootstrap,
        js_sdk(bootstrap) as js,
        SDK(None, bootstrap=bootstrap, host=HOST) as sdk1,
    ):
        # Python initialises the core, JS loads it
        core1 = await sdk1.get("example")
        await core1.append(b"Hello World!")
        got = await js.call("get", x=url(core1))
        assert got["peers"] > 0 and got["url"] == url(core1) and got["length"] == 1
        assert (await js.call("read", x=url(core1), index=0))["text"] == "Hello World!"
        # JS initialises the core, Python loads it: get() waits for the first peers
        theirs = await js.call("get", x="example")
        await js.call("append", x="example", texts=["Hello World!"])
        core2 = await sdk1.get(theirs["url"])
        assert len(core2.peers) > 0, "found peer"
        assert url(core2) == theirs["url"]
        assert core2.length == 1, "not empty"
        assert await core2.get(0) == b"Hello World!"


async def test_connect_directly_between_two_peers() -> None:
    async with local_dht() as bootstrap, js_sdk(bootstrap) as js:
        # Python joins the JS peer
        sdk1 = SDK(None, bootstrap=bootstrap, host=HOST)
        async with sdk1:
            sdk1.join_peer(bytes.fromhex(js.public_key))
            added = await js.wait_event(lambda m: m["event"] == "peer-add", what="peer-add")
            assert added["publicKey"] == sdk1.public_key.hex(), "connected to peer"
        await js.wait_event(lambda m: m["event"] == "peer-remove", what="peer-remove")
        # the JS peer joins Python
        async with SDK(None, bootstrap=bootstrap, host=HOST) as sdk2, sdk2.events() as events:
            await js.call("joinPeer", publicKey=sdk2.public_key.hex())
            added_py = await next_kind(events, "peer-add")
            assert added_py.peer.public_key.hex() == js.public_key
            await js.node.send({"cmd": "exit", "id": 0})
            removed = await next_kind(events, "peer-remove")
            assert removed.peer.public_key.hex() == js.public_key


async def test_get_a_hyperbee_and_share_a_key_value_pair() -> None:
    async with (
        local_dht() as bootstrap,
        js_sdk(bootstrap) as js,
        SDK(None, bootstrap=bootstrap, host=HOST) as sdk1,
    ):
        db1 = await sdk1.get_bee("example", key_encoding="utf-8", value_encoding="utf-8")
        await db1.put("hello", "world")
        got = await js.call("bee-get", x=url(db1), key="hello")
        assert got["url"] == url(db1) and got["value"] == "world"
        put = await js.call("bee-put", x="example", key="hello", value="world")
        db2 = await sdk1.get_bee(put["url"], key_encoding="utf-8", value_encoding="utf-8")
        assert url(db2) == put["url"]
        entry = await db2.get("hello")
        assert entry is not None and entry.value == "world"

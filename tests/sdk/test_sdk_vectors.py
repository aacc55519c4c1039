"""Names, URLs, topics and key forms give the keys, discovery keys and signatures live hyper-sdk
4.5.1 gives (tests/sdk/sdk-vectors.mjs runs it with the same primary key)."""

from __future__ import annotations

import pytest
from sdk_helpers import run_sdk_json

from hyperpunch.sdk import SDK, InvalidKeyError, InvalidURLError, url, z32_decode, z32_encode

pytestmark = pytest.mark.interop  # the JS side is live hyper-sdk

PRIMARY = bytes([7]) * 32
NAMES = ["example", "a", "todo", "ünïcode ✓", "x" * 52, "l" * 52, "y" * 64 + "z"]
TOPICS = ["example", "Hello Todos", ""]
NAMESPACED = [["todo", "x"], ["todo", "local"], ["other", "x"]]
APPENDS = [["signed", ["hello", "world", "!"]]]
NULL_Z32 = "y" * 52
FORMS = [
    NULL_Z32,
    "00" * 32,
    "AB" * 32,  # upper-case hex
    f"hyper://{NULL_Z32}",
    f"hyper://{NULL_Z32}/some/path?x=1#frag",
    f"hyper://{'00' * 32}/",
    f"hyper://{'Y' * 52}/",  # upper-case z32: not a key
    "hyper://" + "l" * 52 + "/",  # 52 characters, not z32
    "hyper://short/",
    "l" * 52,  # a name
    "Y" * 52,  # a name
]


@pytest.fixture(scope="module")
def js() -> dict:
    return run_sdk_json(
        "sdk-vectors.mjs",
        {
            "primaryKey": PRIMARY.hex(),
            "names": NAMES,
            "topics": TOPICS,
            "forms": FORMS,
            "namespaced": NAMESPACED,
            "appends": APPENDS,
        },
    )


def open_sdk() -> SDK:
    # no network: the vectors only need the store (the swarm binds loopback with no bootstrap)
    return SDK(None, auto_join=False, primary_key=PRIMARY, bootstrap=[], host="127.0.0.1")


async def test_names_keys_urls_match_hyper_sdk(js: dict) -> None:
    async with open_sdk() as sdk:
        assert sdk.public_key.hex() == js["noise"]
        for name in NAMES:
            core = await sdk.get(name)
            want = js["names"][name]
            assert core.key is not None and core.discovery_key is not None
            assert core.key.hex() == want["key"], name
            assert core.discovery_key.hex() == want["discoveryKey"], name
            assert url(core) == want["url"]
            assert z32_encode(core.key) == want["id"]
            assert core.writable == want["writable"]
            # every key form names the same core, and the very same session
            for form in (core.key, core.key.hex(), want["id"], want["url"], want["url"] + "some/path?q#f"):
                assert await sdk.get(form) is core, form


async def test_topics_are_keyless_rendezvous_cores(js: dict) -> None:
    async with open_sdk() as sdk:
        for t in TOPICS:
            topic = sdk.make_topic_key(t)
            want = js["topics"][t]
            assert topic.hex() == want["topic"]
            core = await sdk.get(topic)
            assert core.key is not None and core.discovery_key is not None
            assert core.key.hex() == want["key"]
            assert core.discovery_key.hex() == want["discoveryKey"]
            assert core.writable is want["writable"] is False
            assert core.length == want["length"] == 0


async def test_namespaces_match_hyper_sdk(js: dict) -> None:
    async with open_sdk() as sdk:
        for ns, name in NAMESPACED:
            core = await sdk.namespace(ns).get(name=name)
            assert core.key is not None
            assert core.key.hex() == js["namespaced"][f"{ns}/{name}"]


async def test_compat_signatures_match_hypercore_10(js: dict) -> None:
    async with open_sdk() as sdk:
        for name, blocks in APPENDS:
            core = await sdk.get(name)
            await core.append([b.encode() for b in blocks])
            want = js["signatures"][name]
            tree = core.core.tree
            assert core.length == want["length"]
            assert tree.hash().hex() == want["hash"]
            assert tree.signature is not None and tree.signature.hex() == want["signature"]


def test_z32_round_trip_and_errors() -> None:
    for n in range(0, 40):
        data = bytes(range(n))
        assert z32_decode(z32_encode(data)) == data
    with pytest.raises(InvalidKeyError):
        z32_decode("0")  # "0" is not in the alphabet


async def test_bad_input_raises_typed_errors() -> None:
    async with open_sdk() as sdk:
        for bad in (b"short", bytes(33), 42, None):
            with pytest.raises(InvalidKeyError):
                await sdk.get(bad)
        with pytest.raises(InvalidKeyError):
            await sdk.get("g" * 64)  # 64 characters, not hex
        with pytest.raises(InvalidKeyError):
            await sdk.get("")
        for bad_url in ("hyper://not-a-key/", "hyper://" + "0" * 52 + "/", "hyper://"):
            with pytest.raises(InvalidURLError):
                await sdk.get(bad_url)


async def test_key_forms_resolve_or_fail_as_in_hyper_sdk(js: dict) -> None:
    async with open_sdk() as sdk:
        for form in FORMS:
            want = js["forms"][form]
            if "error" in want:
                with pytest.raises((InvalidKeyError, InvalidURLError)):
                    await sdk.get(form)
            else:
                core = await sdk.get(form)
                assert core.key is not None and core.key.hex() == want["key"], form

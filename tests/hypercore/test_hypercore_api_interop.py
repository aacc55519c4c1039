"""Interop: a Python Hypercore writer reproduces a JS hypercore 11.37.1 writer byte for byte
(same key pair, same appends/truncates, with and without ``encryptionKey``), and each side
decrypts the other's encrypted blocks."""

from __future__ import annotations

from typing import Any

import pytest

from hyperpunch import crypto
from hyperpunch.hypercore.encryption import DefaultEncryption
from hyperpunch.hypercore.session import Hypercore
from jsref import run_node_json

SEED = "11" * 32
EK = "a5" * 32


def _ops() -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    n = 0
    for size in (1, 1, 3, 1, 7, 2, 16, 1):
        ops.append({"append": [bytes([n + i]).hex() * ((n + i) % 11 + 1) for i in range(size)]})
        n += size
    ops.append({"truncate": 20})
    ops.append({"append": [f"after-fork-{i}".encode().hex() for i in range(5)]})
    ops.append({"append": [""]})  # an empty block
    ops.append({"truncate": 24})
    ops.append({"append": ["ff" * 100, "00" * 64]})
    return ops


async def _py_run(seed: str, ek: str | None, ops: list[dict[str, Any]], tmp: str) -> dict[str, Any]:
    kp = crypto.key_pair(bytes.fromhex(seed))
    results: list[dict[str, int] | None] = []
    async with Hypercore(tmp, key_pair=kp, encryption_key=bytes.fromhex(ek) if ek else None) as core:
        for op in ops:
            if "append" in op:
                r = await core.append([bytes.fromhex(h) for h in op["append"]])
                results.append({"length": r["length"], "byteLength": r["byte_length"]})
            else:
                await core.truncate(op["truncate"])
                results.append(None)
        assert core.key is not None and core.discovery_key is not None
        sig = core.signature
        return {
            "key": core.key.hex(),
            "discoveryKey": core.discovery_key.hex(),
            "results": results,
            "length": core.length,
            "byteLength": core.byte_length,
            "fork": core.fork,
            "padding": core.padding,
            "treeHash": (await core.tree_hash()).hex(),
            "signature": sig.hex() if sig else None,
            "raw": [(await core.get(i, raw=True)).hex() for i in range(core.length)],
            "blocks": [(await core.get(i)).hex() for i in range(core.length)],
        }


@pytest.mark.parametrize("ek", [None, EK], ids=["plain", "encrypted"])
async def test_python_writer_matches_js_writer(ek: str | None, tmp_path: Any) -> None:
    ops = _ops()
    js = run_node_json(
        "hypercore-api-append.js", input_obj={"mode": "append", "seed": SEED, "encryptionKey": ek, "ops": ops}
    )
    py = await _py_run(SEED, ek, ops, str(tmp_path / "core"))
    assert py["key"] == js["key"]
    assert py["discoveryKey"] == js["discoveryKey"]
    assert py["results"] == js["results"]
    for field in ("length", "byteLength", "fork", "padding", "treeHash", "signature"):
        assert py[field] == js[field], field
    assert py["raw"] == js["raw"]
    assert py["blocks"] == js["blocks"]
    if ek is not None:
        # stored bytes are the ciphertext, not the plaintext
        assert py["raw"] != py["blocks"]


async def test_python_decrypts_js_blocks_and_js_decrypts_python_blocks(tmp_path: Any) -> None:
    ops = [
        {"append": [f"blk{i}".encode().hex() * (i + 1) for i in range(9)]},
        {"truncate": 4},
        {"append": ["77" * 33]},
    ]
    js = run_node_json(
        "hypercore-api-append.js",
        input_obj={"mode": "append", "seed": "22" * 32, "encryptionKey": EK, "ops": ops},
    )
    enc = DefaultEncryption(bytes.fromhex(EK), bytes.fromhex(js["key"]))
    assert [enc.decrypt(i, bytes.fromhex(r)).hex() for i, r in enumerate(js["raw"])] == js["blocks"]

    # Python encrypts under another core key and fork 2; JS decrypts
    async with Hypercore(
        None, key_pair=crypto.key_pair(b"\x33" * 32), encryption_key=bytes.fromhex(EK)
    ) as core:
        await core.append([b"x" * 5, b"y" * 40])
        await core.truncate(1)
        await core.truncate(1)
        plain = [b"", b"z" * 3, bytes(range(200))]
        await core.append(plain)
        assert core.fork == 2 and core.key is not None
        raw = [(await core.get(i, raw=True)).hex() for i in range(core.length)]
        out = run_node_json(
            "hypercore-api-append.js",
            input_obj={"mode": "decrypt", "key": core.key.hex(), "encryptionKey": EK, "blocks": raw},
        )
        assert out["blocks"] == [(await core.get(i)).hex() for i in range(core.length)]
        assert out["blocks"][0] == (b"x" * 5).hex()
        assert out["blocks"][1:] == [p.hex() for p in plain]


JSON_VALUES: list[Any] = [
    {"b": 1, "1": 2, "a": [1.0, 0.1, -2.5, 1e21, 1e20, 1e-7, 1.5e-6, 123456789.125]},
    {"10": "x", "2": "y", "02": "z", "é": 'ü\n\t"\\\u2028\x01'},
    [True, False, None, 0, -0.0, 5e-324, 1.7976931348623157e308, 2**53],
    "plain string",
    3.14159,
    {"nested": {"deep": [{"k": 1e-6}, {"k": 1e-5}, 1e16, 1e15, 123e-20]}},
]


async def test_json_encoding_matches_js_json_stringify() -> None:
    import json

    texts = [json.dumps(v) for v in JSON_VALUES]
    js = run_node_json("hypercore-api-append.js", input_obj={"mode": "json", "texts": texts})
    async with Hypercore(key_pair=crypto.key_pair(b"\x44" * 32), value_encoding="json") as core:
        await core.append([json.loads(t) for t in texts])
        assert [(await core.get(i, raw=True)).hex() for i in range(core.length)] == js["blocks"]
        assert [await core.get(i) for i in range(core.length)] == [json.loads(t) for t in texts]

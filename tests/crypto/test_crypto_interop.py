"""Sealed boxes against a live hypercore-crypto (their ciphertexts are random, so no fixed vectors)."""

from __future__ import annotations

import json
import subprocess

import pytest

from hyperpunch import crypto
from jsref import INTEROP, node_binary

_SCRIPT = r"""
const crypto = require('hypercore-crypto')
const b4a = require('b4a')
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const kp = crypto.encryptionKeyPair(b4a.from(input.seed, 'hex'))
const opened = input.boxes.map((ct) => {
  const pt = crypto.decrypt(b4a.from(ct, 'hex'), kp)
  return pt === null ? null : b4a.toString(pt, 'hex')
})
const sealed = input.messages.map((m) => b4a.toString(crypto.encrypt(b4a.from(m, 'hex'), kp.publicKey), 'hex'))
process.stdout.write(JSON.stringify({ opened, sealed }))
"""


@pytest.mark.interop
def test_sealed_boxes_open_both_ways() -> None:
    seed = b"\x03" * 32
    kp = crypto.encryption_key_pair(seed)
    messages = [b"", b"secret message", bytes(range(256)) * 4]
    boxes = [crypto.encrypt(m, kp.public_key) for m in messages]
    tampered = bytearray(boxes[1])
    tampered[-1] ^= 1
    boxes.append(bytes(tampered))
    proc = subprocess.run(
        [node_binary(), "-e", _SCRIPT],
        input=json.dumps(
            {"seed": seed.hex(), "boxes": [b.hex() for b in boxes], "messages": [m.hex() for m in messages]}
        ),
        capture_output=True,
        text=True,
        cwd=INTEROP,
        timeout=60,
        check=True,
    )
    out = json.loads(proc.stdout)
    # JS opens Python's boxes (and refuses the tampered one)
    assert out["opened"] == [m.hex() for m in messages] + [None]
    # Python opens JS's boxes
    for message, ct in zip(messages, out["sealed"], strict=True):
        assert crypto.decrypt(bytes.fromhex(ct), kp) == message
        bad = bytearray(bytes.fromhex(ct))
        bad[0] ^= 1
        assert crypto.decrypt(bytes(bad), kp) is None

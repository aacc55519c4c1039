"""Transcripts of the pinned JS protomux (tests/vectors/reference.json) replayed on the Python core.

Every frame the core writes, every callback and its order, pause/resume and stream destruction
must match what JS protomux 3.12.1 did for the same steps (interop/vectors/protomux.js).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from protomux_scenario import run

from hyperpunch import encoding as c
from hyperpunch.encoding import DecodeError
from hyperpunch.errors import RemoteError
from hyperpunch.protomux import (
    ControlChannelOpenError,
    InvalidOpenError,
    InvalidRejectError,
    MemoryHost,
    ProtomuxCore,
)
from refvectors import section

VECTORS = section("protomux")

# what each JS error message means as a Python error class
JS_ERRORS: dict[str, tuple[type[BaseException], ...]] = {
    "Out of bounds": (DecodeError,),
    "Invalid open message": (InvalidOpenError,),
    "Invalid reject message": (InvalidRejectError,),
    # thrown by c.uint: decoding an id past 2^53, or encoding the reject of an OPEN with id 0
    "uint must be between 0 and 9007199254740991, use biguint": (DecodeError, ControlChannelOpenError),
}


def _normalise(log: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    out, errors = [], []
    for event in log:
        if event["ev"] == "destroyed":
            errors.append(event["error"])
            event = {"ev": "destroyed"}
        out.append(event)
    return out, errors


def _check(js_log: list[dict[str, Any]], steps: list[dict[str, Any]]) -> None:
    expected, js_errors = _normalise(js_log)
    scenario = run(steps)
    assert scenario.log == expected
    if js_errors:
        err = scenario.mux.error
        assert isinstance(err, RemoteError)
        assert isinstance(err, JS_ERRORS[js_errors[0]]), (err, js_errors[0])
    else:
        assert scenario.mux.error is None


def test_pinned_version() -> None:
    assert VECTORS["version"] == "3.12.1"


@pytest.mark.parametrize("name", sorted(VECTORS["scenarios"]))
def test_scenario(name: str) -> None:
    vector = VECTORS["scenarios"][name]
    _check(vector["log"], vector["steps"])


@pytest.mark.parametrize("name", sorted(VECTORS["garbage"]))
def test_garbage(name: str) -> None:
    vector = VECTORS["garbage"][name]
    _check(vector["log"], vector["steps"])


def test_big_batch_is_split_like_js() -> None:
    host = MemoryHost()
    mux = ProtomuxCore(host)
    ch = mux.create_channel("big", messages=[c.string])
    assert ch is not None
    ch.open()
    mux.cork()
    for i in range(10):
        ch.messages[0].send(chr(97 + i) * (1 << 20))
    mux.uncork()
    got = [{"bytes": len(f), "sha256": hashlib.sha256(f).hexdigest()} for f in host.frames]
    assert got == VECTORS["big_batch"]

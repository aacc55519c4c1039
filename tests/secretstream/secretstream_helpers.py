"""In-memory pairs of sans-IO secret-stream cores for the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hyperpunch.crypto import key_pair
from hyperpunch.secretstream import Closed, Event, HandshakeComplete, Message, SecretStreamCore

SEED_I = bytes([0x11]) * 32
SEED_R = bytes([0x22]) * 32


@dataclass
class Side:
    core: SecretStreamCore
    events: list[Event] = field(default_factory=list)
    wire: bytearray = field(default_factory=bytearray)  # everything this side wrote

    @property
    def messages(self) -> list[bytes]:
        return [e.data for e in self.events if isinstance(e, Message)]

    @property
    def closed(self) -> list[Closed]:
        return [e for e in self.events if isinstance(e, Closed)]

    @property
    def handshakes(self) -> list[HandshakeComplete]:
        return [e for e in self.events if isinstance(e, HandshakeComplete)]


def make_pair(**common: Any) -> tuple[SecretStreamCore, SecretStreamCore]:
    only_i = common.pop("initiator", {})
    only_r = common.pop("responder", {})
    i_opts = {"key_pair": key_pair(SEED_I), **common, **only_i}
    r_opts = {"key_pair": key_pair(SEED_R), **common, **only_r}
    return SecretStreamCore(True, **i_opts), SecretStreamCore(False, **r_opts)


def pump(a: Side, b: Side, now: float = 0.0, chunk: int | None = None) -> None:
    """Move queued outbox bytes both ways until nothing is left."""
    while True:
        moved = False
        for src, dst in ((a, b), (b, a)):
            out = src.core.data_to_send()
            if out:
                moved = True
                src.wire += out
                deliver(dst, out, now, chunk)
        if not moved:
            return


def deliver(dst: Side, data: bytes, now: float = 0.0, chunk: int | None = None) -> None:
    if chunk is None:
        dst.events += dst.core.receive_data(data, now)
        return
    for i in range(0, len(data), chunk):
        dst.events += dst.core.receive_data(data[i : i + chunk], now)


def send(src: Side, dst: Side, message: bytes, now: float = 0.0, chunk: int | None = None) -> bytes:
    frame = bytes(src.core.send(message, now))
    src.wire += frame
    deliver(dst, frame, now, chunk)
    return frame


def connect(a_core: SecretStreamCore, b_core: SecretStreamCore, now: float = 0.0) -> tuple[Side, Side]:
    a, b = Side(a_core), Side(b_core)
    a.events += a.core.start(now)
    b.events += b.core.start(now)
    pump(a, b, now)
    return a, b

"""The scenario language of interop/vectors/protomux.js, interpreted with the sans-IO core.

Each step drives one ProtomuxCore whose host records the same transcript JS records: frames
written, channel callbacks, pause/resume, stream destruction. See the JS file for the ops.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from hyperpunch import encoding as c
from hyperpunch.protomux import Channel, MemoryHost, MessageSpec, ProtomuxCore

CODECS: dict[str, c.Codec[Any]] = {
    "uint": c.uint,
    "string": c.string,
    "raw": c.raw,
    "buffer": c.buffer,
    "uint-array": c.array(c.uint),
    "bool": c.bool_,
}


def to_py(kind: str | None, value: Any) -> Any:
    if kind in ("raw", "buffer"):
        return bytes.fromhex(value)
    return value


def to_json(kind: str | None, value: Any) -> Any:
    if value is None:
        return None
    if kind in ("raw", "buffer"):
        return bytes(value).hex()
    return value


class Deferred:
    """An awaitable the scenario host resolves by hand (a JS promise resolved by a later step)."""

    def __init__(self, before: Callable[[], None] | None = None) -> None:
        self.done: Callable[[BaseException | None], None] | None = None
        self.before = before

    def __await__(self) -> Generator[None, None, None]:
        yield None


class ScenarioHost(MemoryHost):
    def __init__(self, log: list[dict[str, Any]]) -> None:
        super().__init__()
        self.log = log

    def write(self, frame: bytearray) -> bool:
        self.log.append({"ev": "write", "hex": bytes(frame).hex()})
        return self.write_result

    def end(self) -> None:
        self.log.append({"ev": "end"})

    def pause(self) -> None:
        self.log.append({"ev": "pause"})

    def resume(self) -> None:
        self.log.append({"ev": "resume"})

    def destroy(self, error: BaseException | None) -> None:
        if not self.destroyed:
            self.log.append({"ev": "destroyed"})
        super().destroy(error)

    def spawn(self, awaitable: Any, done: Callable[[BaseException | None], None]) -> None:
        assert isinstance(awaitable, Deferred), awaitable
        awaitable.done = done


class Scenario:
    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []
        self.host = ScenarioHost(self.log)
        self.mux = ProtomuxCore(self.host)
        self.channels: dict[str, Channel] = {}
        self.deferred: dict[str, list[tuple[Deferred, dict[str, Any] | None]]] = {}
        self.closed = False

    def create(self, spec: dict[str, Any]) -> Channel | None:
        log = self.log
        name = spec["name"]
        kinds: list[str | None] = spec.get("messages", [])
        hs_kind = spec.get("handshake")

        def message_spec(kind: str | None, type_: int) -> MessageSpec | None:
            if kind is None:
                return None

            def on_message(value: Any, session: Channel) -> Deferred | None:
                log.append({"ev": "message", "name": name, "type": type_, "value": to_json(kind, value)})
                if spec.get("echo"):
                    session.messages[type_].send(value)
                if spec.get("hold"):  # an async handler, finished by a later "release" step
                    deferred = Deferred(lambda: log.append({"ev": "handled", "name": name, "type": type_}))
                    self.deferred.setdefault(name, []).append((deferred, None))
                    return deferred
                return None

            return MessageSpec(CODECS[kind], on_message=on_message)

        def on_open(handshake: Any, session: Channel) -> None:
            log.append(
                {"ev": "open", "name": name, "handshake": to_json(hs_kind, handshake) if hs_kind else None}
            )
            for s in spec.get("onopen_send", []):
                session.messages[s["type"]].send(to_py(kinds[s["type"]], s["value"]))

        ch = self.mux.create_channel(
            spec["protocol"],
            id=bytes.fromhex(spec["id"]) if spec.get("id") else None,
            aliases=spec.get("aliases", []),
            unique=spec.get("unique", True) is not False,
            handshake=CODECS[hs_kind] if hs_kind else None,
            messages=[message_spec(kind, i) for i, kind in enumerate(kinds)],
            on_open=on_open,
            on_close=lambda remote, ch: log.append({"ev": "close", "name": name, "remote": remote}),
            on_destroy=lambda ch: log.append({"ev": "destroy", "name": name}),
            on_drain=lambda ch: log.append({"ev": "drain", "name": name}),
        )
        if ch is None:
            log.append({"ev": "create-null", "name": name})
            return None
        self.channels[name] = ch
        if "open" in spec:
            ch.open(to_py(hs_kind, spec["open"]) if hs_kind else None)
        return ch

    def step(self, step: dict[str, Any]) -> None:
        op = step["op"]
        mux = self.mux
        if op == "create":
            self.create(step)
        elif op == "send":
            ch = self.channels[step["name"]]
            result = ch.messages[step["type"]].send(to_py(step["kind"], step["value"]))
            self.log.append({"ev": "sent", "result": result})
        elif op == "close":
            self.channels[step["name"]].close()
        elif op == "cork":
            mux.cork()
        elif op == "uncork":
            mux.uncork()
        elif op == "pair":
            self.pair(step)
        elif op == "unpair":
            mux.unpair(step["protocol"], id=bytes.fromhex(step["id"]) if step.get("id") else None)
        elif op == "release":
            waiting, self.deferred[step["protocol"]] = self.deferred[step["protocol"]], []
            for deferred, create in waiting:
                if create is not None:
                    self.create(create)
                if deferred.before is not None:
                    deferred.before()
                assert deferred.done is not None
                deferred.done(None)
        elif op == "feed":
            mux.receive_data(bytes.fromhex(step["hex"]))
        elif op == "full":
            self.host.write_result = not step["full"]
        elif op == "drain":
            mux.on_drain()
        elif op == "end":
            mux.on_end()
        elif op == "state":
            self.log.append(
                {
                    "ev": "state",
                    "idle": mux.is_idle(),
                    "opened": mux.opened(
                        step["protocol"], bytes.fromhex(step["id"]) if step.get("id") else None
                    ),
                    "channels": {
                        n: {"opened": ch.opened, "closed": ch.closed, "destroyed": ch.destroyed}
                        for n, ch in self.channels.items()
                    },
                }
            )
        else:
            raise AssertionError(f"unknown op {op}")
        self.settle()

    def pair(self, step: dict[str, Any]) -> None:
        protocol = step["protocol"]

        def notify(id: bytes | None) -> Any:
            self.log.append({"ev": "notify", "protocol": protocol, "id": id.hex() if id else None})
            if step.get("defer"):
                deferred = Deferred()
                self.deferred.setdefault(protocol, []).append((deferred, step.get("create")))
                return deferred
            if step.get("create"):
                self.create(step["create"])
            return None

        self.mux.pair(protocol, notify, id=bytes.fromhex(step["id"]) if step.get("id") else None)

    def settle(self) -> None:
        self.host.run_soon()
        if self.host.destroyed and not self.closed:
            self.closed = True
            self.mux.on_close()
            self.host.run_soon()


def run(steps: list[dict[str, Any]]) -> Scenario:
    scenario = Scenario()
    for step in steps:
        scenario.step(step)
    return scenario

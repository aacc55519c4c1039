"""Issue 17's bad-input acceptance against the real ``hyperpunch todo serve --local`` with two
headless-Chromium pages on its list:

* garbage on the relay socket: raw WebSockets to ``/relay`` send random and mutated dht-relay
  frames while the pages edit; only those sockets close, the pages' relay sessions never drop and
  they keep syncing;
* a hostile writer (the Node peer, autobase from interop/node_modules, added as a writer through
  the 'hyperpunch/todo-writers' channel) appends garbage BSON, unknown op types, a 1 MiB node and
  wrong-shape docs: every peer skips them, the pages, the Node peer and ``hyperpunch todo ls``
  still agree, and later adds still arrive;
* a 1 MiB todo typed into a page is refused with the inline error; nothing is lost.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import bson
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from todo_node import node_peer
from todo_page import add, chrome, open_page, rows, text_of, wait
from todo_serve import Served, build_bundle, parse_ls, todo_cli, todo_serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect as ws_connect

from hyperpunch.dht import HyperDHT
from hyperpunch.docdb.multiwriter import encode_add_writer, encode_op
from hyperpunch.encoding import encode
from hyperpunch.relay import messages as m
from hyperpunch.relay.messages import MessageType as T

pytestmark = pytest.mark.interop

SYNC = 120.0  # seconds; every wait ends as soon as its condition holds
PREFIX = b"todo\x00doc\x00"
OPEN_FRAME = b"\x00\x01\x01\x15@hyperswarm/dht-relay\x00"  # protomux open of the relay channel
MIB = 1 << 20

# every page logs each change of its connection state (the status element's data-state)
WATCH_STATES = """
const el = document.getElementById('connection');
window.__states = [el.dataset.state];
new MutationObserver(() => window.__states.push(el.dataset.state))
  .observe(el, {attributes: true, attributeFilter: ['data-state']});
"""


@dataclass
class App:
    served: Served
    cli_storage: Path
    a: WebDriver
    b: WebDriver

    def cli(self, *args: str) -> str:
        return todo_cli(self.served, self.cli_storage, *args)


def writable(driver: WebDriver) -> bool:
    return bool(
        driver.execute_script(
            "return document.body.dataset.ready === 'true'"
            " && document.getElementById('readonly').hidden"
            " && !document.getElementById('new-todo').disabled"
        )
    )


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    web = build_bundle(tmp_path_factory.mktemp("todo-web"))
    with ExitStack() as stack:
        a = chrome(700, 760)
        stack.callback(a.quit)
        b = chrome(700, 760)
        stack.callback(b.quit)
        served = stack.enter_context(todo_serve(tmp_path_factory.mktemp("todo-serve"), web))
        for d in (a, b):
            open_page(d, served.url)
            wait(d, writable, "the page to be added as a writer", SYNC)
        yield App(served, tmp_path_factory.mktemp("todo-cli"), a, b)


def has(driver: WebDriver, text: str) -> bool:
    return any(t == text for t, _ in rows(driver))


def synced(app: App) -> list[tuple[str, bool]]:
    wait(app.a, lambda d: rows(d) == rows(app.b), "both pages to show the same rows", SYNC)
    return rows(app.a)


def wait_ls(app: App, expected: list[tuple[str, bool]]) -> None:
    """``todo ls`` (a fresh CLI peer each run, caught up with a peer first) until it shows ``expected``."""
    got: list[tuple[str, bool]] = []
    for _ in range(10):
        got = parse_ls(app.cli("ls", app.served.key))
        if got == expected:
            return
    raise AssertionError(f"todo ls never showed {expected}; last {got}")


# ---- garbage on the relay socket ----------------------------------------------------------------


def frame(type_: int, value: object) -> bytes:
    return bytes([1, type_]) + encode(m.MESSAGES[type_], value)


def valid_frames() -> list[bytes]:
    kp = HyperDHT.key_pair()
    return [
        frame(T.CONNECT, m.Connect(True, 7, kp.public_key, bytes(32), kp.secret_key)),
        frame(T.CONNECT, m.Connect(False, 8, kp.public_key, bytes(32))),
        frame(T.DATA, m.Data(7, [b"hello", b""])),
        frame(T.END, m.End(7)),
        frame(T.DESTROY, m.Destroy(True, 7, "x")),
        frame(T.LOOKUP, m.Lookup(9, bytes(32))),
        frame(T.LISTEN, m.Listen(False, 4, kp.public_key)),
        frame(T.ANNOUNCE, m.Announce(False, 11, bytes(32), kp.public_key)),
        frame(T.CLOSE, m.Close(3)),
        frame(T.SIGNATURE, m.Signature(1, bytes(64))),
        frame(T.PONG, None),
        frame(T.HANDSHAKE, m.Handshake(True, kp.public_key, kp.secret_key)),
        bytes([0, 2, 1]),  # protomux close of the channel
        bytes([0, 0]),  # protomux batch
    ]


def mutate(rng: random.Random, valid: list[bytes]) -> bytes:
    base = bytearray(rng.choice(valid))
    kind = rng.randrange(5)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 120))
    if kind == 1 and base:
        for _ in range(rng.randrange(1, 4)):
            base[rng.randrange(len(base))] = rng.randrange(256)
    elif kind == 2:
        del base[rng.randrange(len(base) + 1) :]
    elif kind == 3:
        base += rng.randbytes(rng.randrange(1, 60))
    else:
        base[2:] = rng.randbytes(max(0, len(base) - 2))
    return bytes(base)


def hostile_sockets(url: str, sockets: int, stop: threading.Event, report: dict[str, int]) -> None:
    """Open ``sockets`` WebSockets to the relay one after the other; each sends the relay channel
    open, a handshake (or not) and mutated frames until the relay closes it."""
    rng = random.Random(17)
    valid = valid_frames()
    kp = HyperDHT.key_pair()
    handshake = frame(T.HANDSHAKE, m.Handshake(True, kp.public_key, kp.secret_key))
    for i in range(sockets):
        if stop.is_set():
            break
        with ws_connect(url, max_size=None, open_timeout=60, close_timeout=10) as ws:
            try:
                if i % 3:
                    ws.send(OPEN_FRAME)
                if i % 3 == 1:
                    ws.send(handshake)
                for _ in range(300):
                    ws.send(mutate(rng, valid))
                    report["frames"] += 1
                ws.send("text frames are not part of the protocol")
                while True:  # whatever it answers first, the relay ends by closing the socket
                    ws.recv(timeout=60)
            except ConnectionClosed:
                report["closed"] += 1
            except TimeoutError:
                report["open"] += 1
        report["sockets"] += 1


def test_garbage_on_the_relay_socket_closes_only_that_socket(app: App) -> None:
    a, b = app.a, app.b
    for d in (a, b):
        wait(
            d,
            lambda d: (
                d.execute_script("return document.getElementById('connection').dataset.state") == "online"
            ),
            "the page online",
            SYNC,
        )
        d.execute_script(WATCH_STATES)
    url = f"ws://127.0.0.1:{app.served.port}/relay"
    report = {"frames": 0, "closed": 0, "open": 0, "sockets": 0}
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            hostile_sockets(url, 24, stop, report)
        except (OSError, InvalidHandshake, ConnectionClosed) as exc:  # pragma: no cover - reported
            errors.append(exc)

    attacker = threading.Thread(target=run, daemon=True)
    attacker.start()
    try:
        # the pages keep editing while the garbage flows
        for i in range(3):
            add(a, f"during garbage A{i}")
            wait(b, lambda d, i=i: has(d, f"during garbage A{i}"), f"A{i} in B", SYNC)
            add(b, f"during garbage B{i}")
            wait(a, lambda d, i=i: has(d, f"during garbage B{i}"), f"B{i} in A", SYNC)
    finally:
        attacker.join(SYNC * 3)
        stop.set()
    assert not attacker.is_alive(), report
    assert not errors, errors
    assert report["sockets"] == 24 and report["closed"] == 24, report  # each hostile socket was closed
    # after the garbage: still syncing both ways, and neither page's relay session ever dropped
    add(a, "after garbage")
    wait(b, lambda d: has(d, "after garbage"), "the later add in B", SYNC)
    for d in (a, b):
        states = d.execute_script("return window.__states")
        assert states == ["online"], f"the page's relay connection changed: {states}"
    print(f"hostile relay sockets: {report}")
    wait_ls(app, synced(app))


# ---- a hostile writer -----------------------------------------------------------------------------


def todo_doc(text: object, done: object, oid: bson.ObjectId | None = None) -> bytes:
    return bson.encode({"_id": oid or bson.ObjectId(), "text": text, "done": done})


def put(value: bytes, *, key: bytes | None = None, prefix: bytes = PREFIX) -> bytes:
    return encode_op("put", key if key is not None else bson.ObjectId().binary, value, prefix)


def hostile_ops(victim: str) -> list[bytes]:
    """Nodes the contract says every peer skips (derived from its skip rules, one rule each)."""
    return [
        b"\xde\xad\xbe\xef",  # not BSON
        bson.encode({"type": "put"})[:-1],  # truncated BSON
        bson.encode({"type": "put"}) + b"\x00",  # trailing bytes after the document
        bson.encode(
            {"type": "drop", "key": bson.Binary(b"x"), "prefix": bson.Binary(PREFIX)}
        ),  # unknown type
        bson.encode(
            {"type": 7, "key": bson.Binary(b"x"), "prefix": bson.Binary(PREFIX)}
        ),  # type not a string
        bson.encode({"type": "put", "key": "a string", "value": bson.Binary(todo_doc("t", False))}),
        put(todo_doc("no prefix field", False)).replace(b"prefix", b"prefiy"),
        put(todo_doc("other collection", False), prefix=b"note\x00doc\x00"),
        put(todo_doc(42, False)),  # text not a string
        put(todo_doc("done not a bool", 1)),
        put(bson.encode({"_id": bson.ObjectId(), "text": "no done"})),
        put(todo_doc("y" * 4097, False)),  # text over 4096 bytes
        put(b"\x05\x00\x00"),  # value not BSON
        bson.encode(
            {
                "type": "put",
                "key": bson.Binary(bson.ObjectId().binary),
                "value": "not binary",
                "prefix": bson.Binary(PREFIX),
            }
        ),
        put(todo_doc("huge", False) + b"\x00" * MIB),  # a 1 MiB node
        put(todo_doc("h" * MIB, False)),  # a 1 MiB todo text, as a whole valid-looking op
        encode_add_writer(b"\x01" * 31, indexer=False),  # a writer key is 32 bytes
        encode_op("del", bytes.fromhex(victim), None, b"note\x00doc\x00"),  # a del outside the todos
        encode_op("del", bytes.fromhex(victim), None, b"todo\x00doc"),  # prefix one byte short
    ]


def test_hostile_writer_ops_are_skipped_by_every_peer(app: App) -> None:
    a, b = app.a, app.b
    add(a, "keep me")
    wait(b, lambda d: has(d, "keep me"), "the todo in B", SYNC)
    with node_peer("hostile", bootstrap=[app.served.bootstrap], listKey=app.served.key) as h:
        h.wait_for(lambda: h.status.get("writable"), "the hostile peer to be added as a writer", SYNC)
        h.wait_for(lambda: ("keep me", False) in h.texts(), "the list in the hostile peer", SYNC)
        victim = next(t["id"] for t in h.todos if t["text"] == "keep me")
        for raw in hostile_ops(victim):
            answer = h.send({"raw": raw.hex()}, SYNC)
            assert answer.get("ok") == "raw", answer
        # a well-formed op from the same writer right after the garbage still applies everywhere
        oid = bson.ObjectId()
        assert h.send({"raw": put(todo_doc("after the garbage", False, oid), key=oid.binary).hex()})["ok"]
        for d in (a, b):
            wait(d, lambda d: has(d, "after the garbage"), "the good op after the garbage", SYNC)
        # the pages keep writing; everyone ends on the same list, the hostile nodes in none
        add(b, "still writable")
        for d in (a, b):
            wait(d, lambda d: has(d, "still writable"), "a later add", SYNC)
        now = synced(app)
        h.wait_for(lambda: h.texts() == now, f"the hostile peer to show {now}", SYNC)
        assert ("keep me", False) in now
        shown = {t for t, _ in now}
        assert not shown & {"no prefix field", "other collection", "done not a bool", "huge", "no done"}
        assert all(len(t) <= 4096 for t in shown)
        wait_ls(app, now)


# ---- a 1 MiB todo typed into a page --------------------------------------------------------------


def test_a_one_mib_todo_is_refused_inline_and_nothing_is_lost(app: App) -> None:
    a, b = app.a, app.b
    add(a, "before the big one")
    wait(b, lambda d: has(d, "before the big one"), "the todo in B", SYNC)
    before = synced(app)
    box = a.find_element(By.ID, "new-todo")
    # 1 MiB of text pasted into the box (send_keys of a MiB would take minutes), then typed into
    big = "x" * MIB
    a.execute_script(
        "const el = arguments[0]; el.value = arguments[1];"
        " el.dispatchEvent(new Event('input', {bubbles: true}))",
        box,
        big,
    )
    box.send_keys("yz")
    a.find_element(By.ID, "add").click()
    wait(a, lambda d: d.find_element(By.ID, "new-error").is_displayed(), "the inline error", SYNC)
    assert "too long" in text_of(a, "new-error").lower()
    # refused: the text stays in the box for the user, no row anywhere
    assert len(box.get_attribute("value") or "") == MIB + 2
    assert rows(a) == before
    # the page and the list still work: a normal todo from the same box goes through everywhere
    a.execute_script("arguments[0].value = ''", box)
    add(a, "after the big one")
    for d in (a, b):
        wait(d, lambda d: has(d, "after the big one"), "the normal todo", SYNC)
    assert not a.find_element(By.ID, "new-error").is_displayed()
    now = synced(app)
    assert sorted(now) == sorted([*before, ("after the big one", False)])
    assert all(len(t) < 5000 for t, _ in now)
    wait_ls(app, now)

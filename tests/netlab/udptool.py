"""Plain UDP probes run inside lab namespaces (stdlib only; run as a script, see ``udptool_argv``).

Invariants: every socket binds port 0 (the chosen port is reported), every result is one JSON object
per stdout line, every wait has a deadline, and traffic only goes to addresses given on the command
line (lab addresses). Messages are small JSON objects with an ``op`` field.

Commands:
- ``reflect [--hello IP:PORT]``: a rendezvous/reflector. Prints ``{"event": "ready", "port": P}``, then
  ``{"event": "recv", "from": [ip, port], "msg": ...}`` per datagram. Ops: ``observe`` (reply with the
  sender's observed address), ``register`` {name} (remember it, reply observed), ``lookup`` {name}
  (reply ``peer``), ``echo`` {data}, ``tell`` {target, msg} (send ``msg`` to ``target`` from this
  socket). ``--hello`` first sends ``observe`` to IP:PORT and prints the reply (opens a NAT mapping).
- ``probe TARGET...``: one socket sends ``observe`` to every target; prints the observed addresses.
- ``send TARGET [--connected]``: one datagram from a fresh socket; reports whether a reply or an ICMP
  error (ECONNREFUSED on a connected socket) came back within ``--wait`` seconds.
- ``punch --rendezvous R --name N --peer P``: register at R, look the peer up, punch its mapped
  address, then exchange data both ways; ``--relay R`` instead sends everything through relay R.
- ``relay``: forwards datagrams between the first two distinct senders.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

Addr = tuple[str, int]


def udptool_argv(*args: str) -> list[str]:
    """The argv that runs this file with the current interpreter (isolated, no site: fast start)."""
    return [sys.executable, "-I", "-S", str(Path(__file__).resolve()), *args]


def _addr(text: str) -> Addr:
    host, _, port = text.rpartition(":")
    return (host, int(port))


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _socket(wait: float | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", 0))
    sock.settimeout(wait)
    return sock


def _send(sock: socket.socket, addr: Addr, msg: dict[str, Any]) -> None:
    sock.sendto(json.dumps(msg).encode(), addr)


def _recv(sock: socket.socket) -> tuple[dict[str, Any], Addr]:
    data, addr = sock.recvfrom(65535)
    return json.loads(data), (addr[0], addr[1])


def _request(sock: socket.socket, addr: Addr, msg: dict[str, Any], deadline: float) -> dict[str, Any]:
    """Send ``msg`` until a reply from ``addr`` arrives (retry every 200 ms) or ``deadline`` passes."""
    while time.monotonic() < deadline:
        _send(sock, addr, msg)
        sock.settimeout(0.2)
        until = time.monotonic() + 0.2
        while time.monotonic() < until:
            try:
                reply, src = _recv(sock)
            except TimeoutError:
                break
            if src == addr:
                return reply
    raise TimeoutError(f"no reply from {addr[0]}:{addr[1]} to {msg.get('op')}")


def cmd_reflect(args: argparse.Namespace) -> int:
    sock = _socket()
    _emit({"event": "ready", "port": sock.getsockname()[1]})
    if args.hello:
        reply = _request(sock, _addr(args.hello), {"op": "observe"}, time.monotonic() + 5)
        _emit({"event": "hello", "observed": reply["observed"]})
    sock.settimeout(None)
    names: dict[str, Addr] = {}
    while True:
        msg, src = _recv(sock)
        _emit({"event": "recv", "from": list(src), "msg": msg})
        op = msg.get("op")
        if op in ("observe", "register"):
            if op == "register":
                names[msg["name"]] = src
            _send(sock, src, {"observed": list(src)})
        elif op == "lookup":
            peer = names.get(msg["name"])
            _send(sock, src, {"peer": list(peer) if peer else None})
        elif op == "echo":
            _send(sock, src, {"echo": msg.get("data"), "observed": list(src)})
        elif op == "tell":
            target = msg["target"]
            _send(sock, (target[0], int(target[1])), msg["msg"])


def cmd_probe(args: argparse.Namespace) -> int:
    sock = _socket()
    observed: dict[str, list[Any]] = {}
    deadline = time.monotonic() + args.timeout
    for target in args.targets:
        observed[target] = _request(sock, _addr(target), {"op": "observe"}, deadline)["observed"]
    _emit({"local_port": sock.getsockname()[1], "observed": observed})
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    sock = _socket(args.wait)
    target = _addr(args.target)
    result: dict[str, Any] = {"local_port": sock.getsockname()[1], "refused": False, "reply": None}
    payload = args.msg.encode() if args.msg else json.dumps({"op": args.op, "data": args.data}).encode()
    try:
        if args.connected:
            sock.connect(target)
            sock.send(payload)
            result["reply"] = json.loads(sock.recv(65535))
        else:
            sock.sendto(payload, target)
            result["reply"] = _recv(sock)[0]
    except ConnectionRefusedError:
        result["refused"] = True
    except TimeoutError:
        pass
    _emit(result)
    return 0


def cmd_punch(args: argparse.Namespace) -> int:
    sock = _socket()
    deadline = time.monotonic() + args.timeout
    result: dict[str, Any] = {"name": args.name, "ok": False, "received": None, "acked": False}
    try:
        if args.relay:
            peer = _addr(args.relay)
            _request(sock, peer, {"op": "hello", "from": args.name}, deadline)
        else:
            rendezvous = _addr(args.rendezvous)
            result["observed"] = _request(sock, rendezvous, {"op": "register", "name": args.name}, deadline)[
                "observed"
            ]
            while True:
                found = _request(sock, rendezvous, {"op": "lookup", "name": args.peer}, deadline)["peer"]
                if found:
                    peer = (found[0], int(found[1]))
                    break
                time.sleep(0.05)
        result["peer_addr"] = list(peer)
        mine = f"data from {args.name}"
        next_send = 0.0
        while time.monotonic() < deadline and not (result["received"] and result["acked"]):
            now = time.monotonic()
            if now >= next_send:
                # punch packets until the peer answers, then our data until it is acknowledged
                op = "data" if result.get("seen_from") else "punch"
                _send(sock, peer, {"op": op, "from": args.name, "data": mine})
                next_send = now + 0.05
            sock.settimeout(max(0.001, min(next_send, deadline) - time.monotonic()))
            try:
                msg, src = _recv(sock)
            except TimeoutError:
                continue
            if msg.get("from") != args.peer:
                continue
            result["seen_from"] = list(src)
            if msg.get("op") == "data":
                result["received"] = msg.get("data")
                _send(sock, src, {"op": "ack", "from": args.name, "data": msg.get("data")})
            elif msg.get("op") == "ack" and msg.get("data") == mine:
                result["acked"] = True
            elif msg.get("op") == "punch":
                _send(sock, src, {"op": "data", "from": args.name, "data": mine})
        # keep answering briefly so the peer can finish too
        linger = time.monotonic() + (0.3 if result["received"] and result["acked"] else 0)
        while time.monotonic() < linger:
            sock.settimeout(max(0.001, linger - time.monotonic()))
            try:
                msg, src = _recv(sock)
            except TimeoutError:
                break
            if msg.get("op") in ("data", "punch"):
                _send(sock, src, {"op": "ack", "from": args.name, "data": msg.get("data")})
    except TimeoutError as err:
        result["error"] = str(err)
    result["ok"] = bool(result["received"] and result["acked"])
    _emit(result)
    return 0 if result["ok"] else 1


def cmd_relay(args: argparse.Namespace) -> int:
    sock = _socket()
    _emit({"event": "ready", "port": sock.getsockname()[1]})
    peers: list[Addr] = []
    while True:
        data, raw = sock.recvfrom(65535)
        src = (raw[0], raw[1])
        if src not in peers and len(peers) < 2:
            peers.append(src)
            _emit({"event": "peer", "addr": list(src)})
        msg = json.loads(data)
        if msg.get("op") == "hello":
            _send(sock, src, {"op": "welcome"})
            continue
        for other in peers:
            if other != src and src in peers:
                sock.sendto(data, other)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="udptool")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("reflect")
    p.add_argument("--hello")
    p = sub.add_parser("probe")
    p.add_argument("targets", nargs="+")
    p.add_argument("--timeout", type=float, default=5)
    p = sub.add_parser("send")
    p.add_argument("target")
    p.add_argument("--connected", action="store_true")
    p.add_argument("--op", default="echo")
    p.add_argument("--data", default="x")
    p.add_argument("--msg", help="a whole JSON message to send instead of {op, data}")
    p.add_argument("--wait", type=float, default=0.5)
    p = sub.add_parser("punch")
    p.add_argument("--rendezvous")
    p.add_argument("--relay")
    p.add_argument("--name", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--timeout", type=float, default=5)
    sub.add_parser("relay")
    args = parser.parse_args(argv)
    commands = {
        "reflect": cmd_reflect,
        "probe": cmd_probe,
        "send": cmd_send,
        "punch": cmd_punch,
        "relay": cmd_relay,
    }
    return commands[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

"""The NAT lab behaves like the NAT kinds it claims (plain UDP, no DHT), builds and tears down cleanly.

Needs root and iptables/iproute2/conntrack: the tests FAIL (NetLabUnavailable) without them, never skip.
Traffic only flows between lab namespaces.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import netlab.lab as lab_module
from netlab import (
    NatSpec,
    NetLab,
    NetLabUnavailable,
    PathKind,
    Topology,
    check_prerequisites,
    classify,
    list_namespaces,
    sweep_stale,
    udptool_argv,
)
from netlab.topology import plan

TOPOLOGY = Topology(
    bootstrap=3,
    relays=1,
    public=1,
    nats=(
        NatSpec("a", "cone", hosts=2),
        NatSpec("b", "cone"),
        NatSpec("c", "symmetric"),
        NatSpec("d", "symmetric"),
    ),
)


@pytest.fixture
async def lab() -> AsyncIterator[NetLab]:
    async with NetLab(TOPOLOGY) as built:
        yield built


async def read_json(proc: asyncio.subprocess.Process, timeout: float = 5) -> dict[str, Any]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    if not line:
        err = await proc.stderr.read() if proc.stderr is not None else b""
        raise AssertionError(f"process ended without output: {err.decode(errors='replace')}")
    result: dict[str, Any] = json.loads(line)
    return result


async def start_reflector(lab: NetLab, host: str, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await lab.spawn(
        host, udptool_argv("reflect", *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    ready = await read_json(proc)
    assert ready["event"] == "ready"
    return proc, f"{lab.addr(host)}:{ready['port']}"


async def run_tool(lab: NetLab, host: str, *args: str, timeout: float = 10) -> dict[str, Any]:
    proc = await lab.spawn(host, udptool_argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert out, f"{args[0]} in {host} printed nothing: {err.decode(errors='replace')}"
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    return result


# ---- prerequisites and address plan (no namespaces) -------------------------------------------------


def test_prerequisites_present_on_this_machine() -> None:
    tools = check_prerequisites()
    assert set(tools) == set(lab_module.REQUIRED_TOOLS)
    assert all(os.path.isabs(path) for path in tools.values())


def test_prerequisites_fail_when_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(NetLabUnavailable, match="needs root"):
        check_prerequisites()
    with pytest.raises(NetLabUnavailable), NetLab(Topology()):
        raise AssertionError("must not build")


def test_prerequisites_fail_when_tools_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(lab_module, "_SBIN_PATH", str(tmp_path))
    with pytest.raises(NetLabUnavailable, match=r"missing tools: ip, iptables.*apt-get install"):
        check_prerequisites()


def test_address_plan_and_classification() -> None:
    addresses = plan(TOPOLOGY)
    assert [h.addr for h in addresses.hosts.values() if h.nat is None] == [
        "10.99.0.11",
        "10.99.0.12",
        "10.99.0.13",
        "10.99.0.31",
        "10.99.0.51",
    ]
    assert addresses.hosts["a2"].addr == "192.168.1.12"
    assert addresses.hosts["a2"].gateway == "192.168.1.1"
    assert addresses.routers["c"].wan_addr == "10.99.0.103"
    assert addresses.routers["c"].kind == "symmetric"
    cases = {
        "192.168.1.12:5000": (PathKind.LAN, "a2"),
        "10.99.0.102:40000": (PathKind.HOLEPUNCHED, "b"),
        "10.99.0.31:7": (PathKind.RELAYED, "relay1"),
        "10.99.0.12": (PathKind.PUBLIC, "boot2"),
        "10.99.0.200:1": (PathKind.UNKNOWN, None),
    }
    for observed, (kind, name) in cases.items():
        info = classify(addresses, observed)
        assert (info.kind, info.name) == (kind, name), observed
    assert classify(addresses, ("192.168.4.11", 9)).name == "d1"
    for bad in (
        Topology(nats=(NatSpec("a"), NatSpec("a"))),
        Topology(nats=(NatSpec("a1"), NatSpec("a"))),  # host a1 of NAT a collides with NAT a1
        Topology(nats=(NatSpec("boot"),)),
        Topology(nats=(NatSpec("toolongname"),)),
        Topology(nats=(NatSpec("a", "full-cone"),)),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError):
            plan(bad)


# ---- the built lab --------------------------------------------------------------------------------


def _root_links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip() for line in out.splitlines()}


def test_build_layout_sysctls_and_rules() -> None:
    root_before = _root_links()
    with NetLab(TOPOLOGY) as lab:
        assert _root_links() == root_before, "the lab must not touch the root namespace"
        assert set(lab.namespaces()) <= set(list_namespaces())
        routers = {lab.ns_for(nat.name) for nat in TOPOLOGY.nats}
        for ns in lab.namespaces():
            name = ns.removeprefix(lab.prefix + "-").removeprefix("nat-")
            script = (
                "cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/rp_filter"
                " /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/bridge/bridge-nf-call-iptables;"
                " ip -o link show lo"
            )
            out = lab.run(name, ["sh", "-c", script]).stdout.splitlines()
            assert out[:4] == ["1" if ns in routers else "0", "0", "1", "0"], ns
            assert "UP" in out[4], f"loopback down in {ns}"
        for nat in TOPOLOGY.nats:
            rules = lab.run(nat.name, ["iptables-save"]).stdout
            assert "-A INPUT -i wan -j DROP" in rules
            assert "-A FORWARD -i wan -j DROP" in rules
            assert ("--random-fully" in rules) == (nat.kind == "symmetric")
        assert lab.run("a1", ["ip", "route"]).stdout.startswith("default via 192.168.1.1")
    print(f"\nnetlab timings: {lab.timings}")
    assert not [ns for ns in list_namespaces() if ns.startswith(lab.prefix + "-")]
    assert _root_links() == root_before


async def test_cone_nat_maps_one_socket_to_one_public_port(lab: NetLab) -> None:
    _, pub1 = await start_reflector(lab, "pub1")
    _, boot1 = await start_reflector(lab, "boot1")
    result = await run_tool(lab, "a1", "probe", pub1, boot1)
    seen = {tuple(addr) for addr in result["observed"].values()}
    assert len(seen) == 1, result
    ((ip, port),) = seen
    assert ip == lab.wan_addr("a")
    assert lab.classify(ip).kind is PathKind.HOLEPUNCHED
    # the router holds one mapping per destination, both to the same public port
    entries = [e for e in lab.conntrack("a") if "src=192.168.1.11" in e]
    assert len(entries) == 2 and all(f"dport={port}" in e for e in entries), entries


async def test_symmetric_nat_maps_each_destination_to_its_own_port(lab: NetLab) -> None:
    targets = [(await start_reflector(lab, host))[1] for host in ("pub1", "boot1", "boot2")]
    result = await run_tool(lab, "c1", "probe", *targets)
    seen = [tuple(addr) for addr in result["observed"].values()]
    assert {ip for ip, _ in seen} == {lab.wan_addr("c")}
    assert len({port for _, port in seen}) > 1, result  # all equal: not symmetric (chance ~1e-9)


async def test_unsolicited_inbound_is_dropped_at_the_router_wan(lab: NetLab) -> None:
    _, pub1 = await start_reflector(lab, "pub1")
    inside, _ = await start_reflector(lab, "a1", "--hello", pub1)
    hello = await read_json(inside)
    wan_ip, mapped_port = hello["observed"]
    assert wan_ip == lab.wan_addr("a")
    mapped = f"{wan_ip}:{mapped_port}"
    drops_before = lab.wan_drops("a")
    # never contacted by a1: another public host, and pub1 from another port (port-restricted cone)
    await run_tool(lab, "boot1", "send", mapped, "--data", "intruder-boot1", "--wait", "0.05")
    await run_tool(lab, "pub1", "send", mapped, "--data", "intruder-pub1", "--wait", "0.05")
    # the router answers nothing, not even ICMP, on a closed WAN port; a public host does
    closed = await run_tool(
        lab, "boot1", "send", f"{wan_ip}:{mapped_port ^ 1}", "--connected", "--wait", "0.3"
    )
    assert closed == {"local_port": closed["local_port"], "refused": False, "reply": None}
    control = await run_tool(lab, "boot1", "send", f"{lab.addr('boot3')}:{mapped_port}", "--connected")
    assert control["refused"], "a public host must refuse a closed port (else the check above proves nothing)"
    # positive control: the very endpoint a1 talked to gets through
    tell = {"op": "tell", "target": [wan_ip, mapped_port], "msg": {"op": "echo", "data": "control"}}
    await run_tool(lab, "pub1", "send", pub1, "--msg", json.dumps(tell), "--wait", "0.05")
    first = await read_json(inside)
    assert first["event"] == "recv"
    assert first["msg"] == {"op": "echo", "data": "control"}, f"unsolicited packet got through: {first}"
    assert lab.wan_drops("a") - drops_before >= 3


async def test_hosts_on_the_same_lan_talk_directly(lab: NetLab) -> None:
    _, a2 = await start_reflector(lab, "a2")
    result = await run_tool(lab, "a1", "probe", a2)
    (observed,) = result["observed"].values()
    assert observed == [lab.addr("a1"), result["local_port"]]
    info = lab.classify(observed)
    assert (info.kind, info.name) == (PathKind.LAN, "a1")
    assert not [e for e in lab.conntrack("a") if "192.168.1.12" in e], "LAN traffic must not cross the router"


async def test_hole_punch_between_two_cone_nats(lab: NetLab) -> None:
    _, rendezvous = await start_reflector(lab, "pub1")
    a, b = await asyncio.gather(
        run_tool(lab, "a1", "punch", "--rendezvous", rendezvous, "--name", "a1", "--peer", "b1"),
        run_tool(lab, "b1", "punch", "--rendezvous", rendezvous, "--name", "b1", "--peer", "a1"),
    )
    assert a["ok"] and b["ok"], (a, b)
    assert (a["received"], b["received"]) == ("data from b1", "data from a1")
    assert a["acked"] and b["acked"]
    # each saw the other at the mapped address the rendezvous saw: through the other's router
    assert a["seen_from"] == b["observed"] and b["seen_from"] == a["observed"]
    for result, nat in ((a, "b"), (b, "a")):
        info = lab.classify(result["seen_from"])
        assert (info.kind, info.name) == (PathKind.HOLEPUNCHED, nat)


async def test_symmetric_pair_cannot_punch_but_connects_through_a_relay(lab: NetLab) -> None:
    _, rendezvous = await start_reflector(lab, "pub1")
    c, d = await asyncio.gather(
        run_tool(
            lab, "c1", "punch", "--rendezvous", rendezvous, "--name", "c1", "--peer", "d1", "--timeout", "1.5"
        ),
        run_tool(
            lab, "d1", "punch", "--rendezvous", rendezvous, "--name", "d1", "--peer", "c1", "--timeout", "1.5"
        ),
    )
    assert not c["ok"] and not d["ok"], (c, d)
    assert c["received"] is None and d["received"] is None
    assert lab.wan_drops("c") > 0 and lab.wan_drops("d") > 0

    relay = await lab.spawn("relay1", udptool_argv("relay"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    relay_addr = f"{lab.addr('relay1')}:{(await read_json(relay))['port']}"
    c, d = await asyncio.gather(
        run_tool(lab, "c1", "punch", "--relay", relay_addr, "--name", "c1", "--peer", "d1"),
        run_tool(lab, "d1", "punch", "--relay", relay_addr, "--name", "d1", "--peer", "c1"),
    )
    assert c["ok"] and d["ok"], (c, d)
    assert (c["received"], d["received"]) == ("data from d1", "data from c1")
    for result in (c, d):
        info = lab.classify(result["seen_from"])
        assert (info.kind, info.name) == (PathKind.RELAYED, "relay1")


# ---- lifecycle ------------------------------------------------------------------------------------


def _mine(prefix: str) -> list[str]:
    return [ns for ns in list_namespaces() if ns.startswith(prefix + "-")]


def _start_inside(ns: str) -> subprocess.Popen[str]:
    """A process not started through the lab; returns once it runs inside ``ns``."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, "sh", "-c", "echo inside; exec sleep 60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "inside\n"
    return proc


def test_teardown_kills_processes_and_removes_namespaces() -> None:
    small = Topology(bootstrap=1, relays=0, public=1, nats=(NatSpec("a"),))
    with NetLab(small) as first, NetLab(small) as second:  # side by side
        assert first.prefix != second.prefix
        sleeper = first.popen("a1", ["sleep", "60"])
        # a process not started through the lab, still inside one of its namespaces
        stray = _start_inside(first.ns_for("pub1"))
        for each in (first, second):
            out = each.run("a1", udptool_argv("send", f"{each.addr('pub1')}:9", "--connected", "--wait", "1"))
            assert json.loads(out.stdout)["refused"], "a1 must reach pub1 through its NAT"
    assert sleeper.poll() is not None
    assert stray.wait(timeout=5) is not None
    stray.stdout.close()  # type: ignore[union-attr]
    assert _mine(first.prefix) == [] and _mine(second.prefix) == []
    assert not (lab_module.OWNER_DIR / f"{first.prefix}.json").exists()


def test_teardown_runs_when_the_body_fails() -> None:
    lab = NetLab(Topology(bootstrap=1, relays=0, public=0, nats=(NatSpec("a"),)))
    with pytest.raises(RuntimeError, match="boom"), lab:
        assert _mine(lab.prefix)
        raise RuntimeError("boom")
    assert _mine(lab.prefix) == []


def test_build_removes_leftovers_of_a_crashed_run() -> None:
    prefix = f"hpltest{os.getpid()}"
    subprocess.run(["ip", "netns", "add", f"{prefix}-a1"], check=True)  # as a crashed run left it
    subprocess.run(["ip", "netns", "add", f"{prefix}-junk"], check=True)
    stray = _start_inside(f"{prefix}-junk")
    try:
        with NetLab(Topology(bootstrap=1, relays=0, public=0, nats=(NatSpec("a"),)), prefix=prefix) as lab:
            assert f"{prefix}-junk" not in list_namespaces()
            assert lab.run("a1", ["ip", "-o", "addr", "show", "eth0"]).stdout.count("192.168.1.11/24") == 1
        assert stray.wait(timeout=5) is not None
        stray.stdout.close()  # type: ignore[union-attr]
    finally:
        lab_module.remove_prefix(prefix)
    assert _mine(prefix) == []


def test_sweep_removes_labs_of_dead_owners_only() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    prefix = f"hplstale{os.getpid()}"
    with NetLab(Topology(bootstrap=1, relays=0, public=0)) as alive:
        subprocess.run(["ip", "netns", "add", f"{prefix}-x"], check=True)  # as a crashed run left it
        record = lab_module._owner_record() | {"pid": dead.pid, "start": "0"}
        (lab_module.OWNER_DIR / f"{prefix}.json").write_text(json.dumps(record))
        removed = sweep_stale()
        assert f"{prefix}-x" in removed
        assert _mine(alive.prefix), "a live owner's lab must survive the sweep"
        assert alive.run("boot1", ["true"]).returncode == 0
    assert _mine(prefix) == []
    assert not (lab_module.OWNER_DIR / f"{prefix}.json").exists()


async def test_cancelled_async_build_leaves_nothing_behind() -> None:
    lab = NetLab(Topology(bootstrap=1, relays=0, public=0, nats=(NatSpec("a"),)))
    task = asyncio.ensure_future(lab.__aenter__())
    await asyncio.sleep(0)  # the build is now running in its thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _mine(lab.prefix) == []

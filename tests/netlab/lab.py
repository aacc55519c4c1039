"""A NAT lab built from Linux network namespaces and real iptables NAT (needs root).

Invariants:
- every namespace of a lab is named ``<prefix>-<name>``; the prefix is unique per lab (default
  ``hpl<pid>x<n>``), so labs run side by side, and building first removes leftovers of an earlier
  run with the same prefix (and of crashed runs whose owner process is gone);
- nothing is created in the root namespace: veth pairs and bridges are created straight inside lab
  namespaces (interface names are fixed and short: eth0, br0, wan, lan, p-<host>, w-<nat>, l-<host>),
  so no lab traffic can leave the machine;
- ``ip_forward=1`` only in router namespaces, ``rp_filter=0`` and IPv6 off everywhere, loopback up,
  bridge netfilter off; every router DROPs unsolicited inbound traffic on its WAN side;
- ``cone`` routers MASQUERADE (port-preserving, endpoint-independent mapping, port-restricted
  filtering); ``symmetric`` routers MASQUERADE --random-fully (a new random port per destination);
- teardown always runs (context managers, also on failure): it kills every process started through
  the lab and any other process still inside a lab namespace, then deletes the namespaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from netlab.paths import Observed, PathInfo, classify
from netlab.topology import AddressPlan, HostPlan, RouterPlan, Topology, plan

NETNS_DIR = Path("/run/netns")
OWNER_DIR = Path("/run/hyperpunch-netlab")
REQUIRED_TOOLS = ("ip", "iptables", "iptables-restore", "sysctl", "conntrack", "sh")
APT_PACKAGES = ("iptables", "iproute2", "conntrack")
_SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"
_counter = itertools.count(1)


class NetLabError(RuntimeError):
    """A lab command failed (the message carries the command and its stderr)."""


class NetLabUnavailable(NetLabError):
    """The machine cannot run the lab (not root, tools missing): a broken setup, never a skip."""


def _which(tool: str) -> str | None:
    return shutil.which(tool, path=f"{os.environ.get('PATH', '')}:{_SBIN_PATH}")


def check_prerequisites() -> dict[str, str]:
    """Return the absolute path of every tool the lab needs; raise NetLabUnavailable otherwise."""
    problems: list[str] = []
    if os.geteuid() != 0:
        problems.append(
            f"the NAT lab needs root (network namespaces, iptables); running as uid {os.geteuid()}"
        )
    tools: dict[str, str] = {}
    missing: list[str] = []
    for tool in REQUIRED_TOOLS:
        found = _which(tool)
        if found is None:
            missing.append(tool)
        else:
            tools[tool] = found
    if missing:
        problems.append(
            f"missing tools: {', '.join(missing)} "
            f"(install with `apt-get install -y {' '.join(APT_PACKAGES)}`, or run `make deps`)"
        )
    if not Path("/proc/self/ns/net").exists():
        problems.append("this kernel has no network namespaces (/proc/self/ns/net is missing)")
    if problems:
        raise NetLabUnavailable("NAT lab unavailable: " + "; ".join(problems))
    return tools


def _run(argv: Sequence[str], *, input: str | None = None, timeout: float = 30) -> str:
    try:
        proc = subprocess.run(
            list(argv), input=input, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise NetLabError(f"{' '.join(argv)}: {err}") from err
    if proc.returncode != 0:
        detail = proc.stderr.strip() or proc.stdout.strip()
        where = f"\ninput:\n{input}" if input else ""
        raise NetLabError(f"{' '.join(argv)} exited {proc.returncode}: {detail}{where}")
    return proc.stdout


def _run_all(jobs: Sequence[tuple[Sequence[str], str | None]], *, timeout: float = 30) -> None:
    """Run independent commands concurrently; raise the first failure after all have finished."""
    procs = [
        (
            argv,
            stdin,
            subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for argv, stdin in jobs
    ]
    errors: list[str] = []
    for argv, stdin, proc in procs:
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            errors.append(f"{' '.join(argv)}: timed out")
            continue
        if proc.returncode != 0:
            where = f"\ninput:\n{stdin}" if stdin else ""
            errors.append(f"{' '.join(argv)} exited {proc.returncode}: {(err or out).strip()}{where}")
    if errors:
        raise NetLabError("\n".join(errors))


def list_namespaces() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def _ns_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def kill_processes_in(namespaces: Sequence[str]) -> list[int]:
    """SIGKILL every process whose network namespace is one of ``namespaces``; return their pids."""
    wanted = {ident for ns in namespaces if (ident := _ns_identity(NETNS_DIR / ns)) is not None}
    if not wanted:
        return []
    killed: list[int] = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        if _ns_identity(Path("/proc") / entry / "ns" / "net") in wanted:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry), signal.SIGKILL)
                killed.append(int(entry))
    return killed


def remove_prefix(prefix: str, ip: str = "ip") -> list[str]:
    """Delete every namespace named ``<prefix>-*`` (killing what runs inside); return their names."""
    names = [ns for ns in list_namespaces() if ns.startswith(prefix + "-")]
    if names:
        kill_processes_in(names)
        # -force: keep going past a namespace that vanished meanwhile
        with contextlib.suppress(NetLabError):
            _run([ip, "-force", "-batch", "-"], input="".join(f"netns del {ns}\n" for ns in names))
        for ns in names:  # anything -batch could not remove
            if (NETNS_DIR / ns).exists():
                _run([ip, "netns", "del", ns])
    with contextlib.suppress(FileNotFoundError):
        (OWNER_DIR / f"{prefix}.json").unlink()
    return names


def _process_start(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22: start time in clock ticks since boot


def _owner_record() -> dict[str, Any]:
    pid = os.getpid()
    return {"pid": pid, "pidns": os.readlink("/proc/self/ns/pid"), "start": _process_start(pid)}


def sweep_stale(ip: str = "ip") -> list[str]:
    """Remove labs left by crashed runs: owner recorded in our pid namespace and no longer alive."""
    removed: list[str] = []
    try:
        markers = list(OWNER_DIR.glob("*.json"))
    except OSError:
        return removed
    my_pidns = os.readlink("/proc/self/ns/pid")
    for marker in markers:
        try:
            owner = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(owner, dict) or owner.get("pidns") != my_pidns:
            continue  # another pid namespace: we cannot tell whether its owner is alive
        pid = owner.get("pid")
        if isinstance(pid, int) and _process_start(pid) == owner.get("start"):
            continue  # owner still running
        removed += remove_prefix(marker.stem, ip)
    return removed


async def _in_thread_to_completion(fn: Callable[[], None]) -> None:
    """Run ``fn`` in a thread; if we are cancelled meanwhile, still wait for it, then re-raise."""
    task = asyncio.ensure_future(asyncio.to_thread(fn))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


class NetLab:
    """One lab: ``with NetLab(Topology(...)) as lab:`` (or ``async with``) builds, then tears down.

    Hosts are named ``boot1..``, ``relay1..``, ``pub1..`` and ``<nat>1..``; ``ns_for`` also accepts a
    NAT router's name (its namespace) and ``"inet"`` (the internet bridge).
    """

    def __init__(self, topology: Topology | None = None, *, prefix: str | None = None) -> None:
        self.topology = topology if topology is not None else Topology()
        self.plan: AddressPlan = plan(self.topology)
        if prefix is None:
            prefix = f"hpl{os.getpid()}x{next(_counter)}"
        if not prefix.replace("_", "").isalnum() or not prefix.isascii() or len(prefix) > 40:
            raise ValueError(f"bad lab prefix {prefix!r}: 1-40 chars [A-Za-z0-9_]")
        self.prefix = prefix
        self.timings: dict[str, float] = {}
        self._tools: dict[str, str] = {}
        self._popen: list[subprocess.Popen[Any]] = []
        self._async: list[asyncio.subprocess.Process] = []
        self._built = False

    # ---- naming and addresses -------------------------------------------------------------------

    @property
    def internet_ns(self) -> str:
        return f"{self.prefix}-inet"

    def ns_for(self, name: str) -> str:
        """The namespace of a host, of a NAT router (by the NAT's name) or of "inet"."""
        if name in self.plan.hosts:
            return f"{self.prefix}-{name}"
        if name in self.plan.routers:
            return f"{self.prefix}-nat-{name}"
        if name == "inet":
            return self.internet_ns
        raise KeyError(f"no host or NAT named {name!r} in this lab")

    def namespaces(self) -> list[str]:
        return [
            self.internet_ns,
            *(self.ns_for(r) for r in self.plan.routers),
            *(self.ns_for(h) for h in self.plan.hosts),
        ]

    def host(self, name: str) -> HostPlan:
        return self.plan.hosts[name]

    def router(self, nat: str) -> RouterPlan:
        return self.plan.routers[nat]

    def addr(self, host: str) -> str:
        """The host's own IPv4 address (public, or private on its LAN)."""
        return self.plan.hosts[host].addr

    def wan_addr(self, nat: str) -> str:
        """The public address a NAT router maps its hosts to."""
        return self.plan.routers[nat].wan_addr

    def public_addr(self, host: str) -> str:
        """Where the internet sees ``host`` come from: its router's WAN address, or its own."""
        info = self.plan.hosts[host]
        return self.wan_addr(info.nat) if info.nat is not None else info.addr

    def classify(self, observed: Observed) -> PathInfo:
        return classify(self.plan, observed)

    # ---- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> NetLab:
        self.build()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.teardown()

    async def __aenter__(self) -> NetLab:
        try:
            await _in_thread_to_completion(self.build)
        except asyncio.CancelledError:
            await _in_thread_to_completion(self.teardown)
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Kill and reap the asyncio processes, then tear the lab down."""
        self._kill_handles()
        for proc in self._async:
            with contextlib.suppress(ProcessLookupError, TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
        self._async.clear()
        await _in_thread_to_completion(self.teardown)

    def build(self) -> None:
        """Create every namespace, link, address, route and rule; tear down again on any failure."""
        self._tools = check_prerequisites()
        started = time.monotonic()
        try:
            sweep_stale(self._tools["ip"])
            remove_prefix(self.prefix, self._tools["ip"])
            self._write_owner()
            self._build()
        except BaseException:
            self.teardown()
            raise
        self._built = True
        self.timings["build_s"] = time.monotonic() - started

    def teardown(self) -> None:
        """Kill the lab's processes and delete its namespaces; safe to call twice, never raises for leftovers."""
        started = time.monotonic()
        self._kill_handles()
        for popen in self._popen:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=5)
        self._popen.clear()
        self._async.clear()  # killed above; their event loop reaps them
        remove_prefix(self.prefix, self._tools.get("ip") or _which("ip") or "ip")
        self._built = False
        self.timings["teardown_s"] = time.monotonic() - started

    def _write_owner(self) -> None:
        OWNER_DIR.mkdir(parents=True, exist_ok=True)
        (OWNER_DIR / f"{self.prefix}.json").write_text(json.dumps(_owner_record()))

    def _kill_handles(self) -> None:
        pids = [p.pid for p in self._popen if p.poll() is None]
        pids += [p.pid for p in self._async if p.returncode is None]
        for pid in pids:
            # each handle leads its own session (start_new_session), so its children go too
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def _build(self) -> None:
        ip, sh, sysctl = self._tools["ip"], self._tools["sh"], self._tools["sysctl"]
        namespaces = self.namespaces()
        _run([ip, "-batch", "-"], input="".join(f"netns add {ns}\n" for ns in namespaces))

        # sysctls before any link exists, so new interfaces inherit the "default" values
        routers = {self.ns_for(r) for r in self.plan.routers}
        jobs: list[tuple[Sequence[str], str | None]] = []
        for ns in namespaces:
            forward = 1 if ns in routers else 0
            script = (
                "set -e\n"
                f"{sysctl} -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0"
                f" net.ipv4.ip_forward={forward}\n"
                f"if [ -d /proc/sys/net/ipv6 ]; then {sysctl} -q -w net.ipv6.conf.all.disable_ipv6=1"
                " net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1; fi\n"
                "for f in /proc/sys/net/bridge/bridge-nf-call-iptables"
                " /proc/sys/net/bridge/bridge-nf-call-ip6tables /proc/sys/net/bridge/bridge-nf-call-arptables;"
                ' do if [ -e "$f" ]; then echo 0 > "$f"; fi; done\n'
                f"{ip} link set lo up\n"
            )
            jobs.append(([ip, "netns", "exec", ns, sh, "-c", script], None))
        _run_all(jobs)

        # links, created straight inside their namespaces (never in the root namespace)
        inet = self.internet_ns
        links = [f"link add name br0 netns {inet} type bridge"]
        per_ns: dict[str, list[str]] = {ns: [] for ns in namespaces}
        per_ns[inet].append("link set br0 up")
        for host in self.plan.hosts.values():
            if host.nat is None:
                links.append(
                    f"link add name eth0 netns {self.ns_for(host.name)} type veth peer name p-{host.name} netns {inet}"
                )
                per_ns[inet] += [f"link set p-{host.name} master br0", f"link set p-{host.name} up"]
            cmds = per_ns[self.ns_for(host.name)]
            cmds += [f"addr add {host.addr}/24 dev eth0", "link set eth0 up"]
            if host.gateway is not None:
                cmds.append(f"route add default via {host.gateway} dev eth0")
        for router in self.plan.routers.values():
            rns = self.ns_for(router.name)
            links.append(f"link add name wan netns {rns} type veth peer name w-{router.name} netns {inet}")
            links.append(f"link add name lan netns {rns} type bridge")
            per_ns[inet] += [f"link set w-{router.name} master br0", f"link set w-{router.name} up"]
            per_ns[rns] += [
                f"addr add {router.wan_addr}/24 dev wan",
                "link set wan up",
                f"addr add {router.lan_addr}/24 dev lan",
                "link set lan up",
            ]
            for name in router.hosts:
                links.append(
                    f"link add name eth0 netns {self.ns_for(name)} type veth peer name l-{name} netns {rns}"
                )
                per_ns[rns] += [f"link set l-{name} master lan", f"link set l-{name} up"]
        _run([ip, "-batch", "-"], input="".join(line + "\n" for line in links))

        jobs = [
            ([ip, "-n", ns, "-batch", "-"], "".join(c + "\n" for c in cmds)) for ns, cmds in per_ns.items()
        ]
        for router in self.plan.routers.values():
            jobs.append(
                (
                    [ip, "netns", "exec", self.ns_for(router.name), self._tools["iptables-restore"]],
                    _router_rules(router),
                )
            )
        _run_all(jobs)

    # ---- processes ------------------------------------------------------------------------------

    def exec_argv(self, name: str, argv: Sequence[str]) -> list[str]:
        """``argv`` wrapped to run inside the namespace of ``name`` (a host, a NAT router or "inet")."""
        return [self._tools.get("ip") or "ip", "netns", "exec", self.ns_for(name), *argv]

    def _check_built(self) -> None:
        if not self._built:
            raise NetLabError("the lab is not built (use it as a context manager)")

    def popen(self, name: str, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` inside ``name``'s namespace; killed (with its process group) on teardown."""
        self._check_built()
        kwargs.setdefault("start_new_session", True)
        proc: subprocess.Popen[Any] = subprocess.Popen(self.exec_argv(name, argv), **kwargs)
        self._popen.append(proc)
        return proc

    async def spawn(self, name: str, argv: Sequence[str], **kwargs: Any) -> asyncio.subprocess.Process:
        """asyncio variant of ``popen``: an ``asyncio.subprocess.Process``, killed on teardown."""
        self._check_built()
        kwargs.setdefault("start_new_session", True)
        proc = await asyncio.create_subprocess_exec(*self.exec_argv(name, argv), **kwargs)
        self._async.append(proc)
        return proc

    def run(
        self,
        name: str,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float = 30,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` to completion inside ``name``'s namespace (text mode, output captured)."""
        self._check_built()
        proc = subprocess.run(
            self.exec_argv(name, argv),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise NetLabError(f"{' '.join(argv)} in {name} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc

    # ---- router introspection -------------------------------------------------------------------

    def wan_drops(self, nat: str) -> int:
        """Packets the router dropped as unsolicited inbound on its WAN side (INPUT + FORWARD)."""
        total = 0
        for chain in ("INPUT", "FORWARD"):
            out = self.run(
                nat, [self._tools["iptables"], "-t", "filter", "-L", chain, "-v", "-x", "-n"]
            ).stdout
            for line in out.splitlines():
                cols = line.split()
                # pkts bytes target prot opt in out source destination
                if len(cols) >= 6 and cols[0].isdigit() and cols[2] == "DROP" and cols[5] == "wan":
                    total += int(cols[0])
        return total

    def conntrack(self, nat: str) -> list[str]:
        """The router's UDP conntrack entries, one ``conntrack -L`` line each."""
        out = self.run(nat, [self._tools["conntrack"], "-L", "-p", "udp"]).stdout
        return [line for line in out.splitlines() if line.strip()]


def _router_rules(router: RouterPlan) -> str:
    masquerade = "-j MASQUERADE" + (" --random-fully" if router.kind == "symmetric" else "")
    return (
        "*filter\n"
        ":INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        "-A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
        "-A INPUT -i wan -j DROP\n"
        "-A FORWARD -i lan -o wan -j ACCEPT\n"
        "-A FORWARD -i wan -o lan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
        "-A FORWARD -i wan -j DROP\n"
        "COMMIT\n"
        "*nat\n"
        ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
        f"-A POSTROUTING -s {router.lan_cidr} -o wan {masquerade}\n"
        "COMMIT\n"
    )

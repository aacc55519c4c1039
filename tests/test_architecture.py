"""The house rules as a check (see docs/ARCHITECTURE.md): one-way imports, no private names across
modules, no asyncio or clock in a sans-IO core. ``tests/archcheck.py`` does the measuring."""

from __future__ import annotations

import textwrap
from pathlib import Path

import archcheck

# Every module that calls itself a sans-IO core: bytes, datagrams and ``now`` in; bytes, typed
# events and the next deadline out. None of them may import asyncio, a clock, sockets or threads.
CORES = (
    "hyperpunch.autobase.apply_state",
    "hyperpunch.autobase.clock",
    "hyperpunch.autobase.consensus",
    "hyperpunch.autobase.linearizer",
    "hyperpunch.autobase.node",
    "hyperpunch.autobase.replay",
    "hyperpunch.autobase.system",
    "hyperpunch.autobase.topolist",
    "hyperpunch.docdb.codec",
    "hyperpunch.docdb.query",
    "hyperpunch.todo.ops",
    "hyperpunch.sansio",
    "hyperpunch.sdk.keys",
    "hyperpunch.udx.congestion",
    "hyperpunch.udx.core",
    "hyperpunch.udx.mtu",
    "hyperpunch.udx.packet",
    "hyperpunch.secretstream.core",
    "hyperpunch.protomux.core",
    "hyperpunch.protomux.channel",
    "hyperpunch.protomux.pairing",
    "hyperpunch.dht_rpc.core",
    "hyperpunch.dht_rpc.events",
    "hyperpunch.dht_rpc.health",
    "hyperpunch.dht_rpc.nat_sampler",
    "hyperpunch.dht_rpc.network_state",
    "hyperpunch.dht_rpc.requests",
    "hyperpunch.dht_rpc.query",
    "hyperpunch.dht_rpc.timers",
    "hyperpunch.dht_rpc.routing_table",
    "hyperpunch.dht.nat",
    "hyperpunch.dht.persistent",
    "hyperpunch.hypercore.core",
    "hyperpunch.hypercore.replication.seam",
    "hyperpunch.hypercore.replication.replicator",
    "hyperpunch.hypercore.replication.peer",
    "hyperpunch.hypercore.replication.reorg",
    "hyperpunch.hypercore.replication.apply",
    "hyperpunch.hypercore.replication.protocol",
)


def _fmt(findings: list[archcheck.Finding]) -> str:
    return "\n".join(str(f) for f in findings)


def test_no_import_circles() -> None:
    found = archcheck.circles(archcheck.load())
    assert found == [], "import circles:\n" + "\n".join(", ".join(c) for c in found)


def test_no_private_names_imported_across_modules() -> None:
    found = archcheck.private_imports(archcheck.load())
    assert found == [], _fmt(found)


def test_no_private_attribute_reaches_across_modules() -> None:
    found = archcheck.private_reaches(archcheck.load())
    assert found == [], _fmt(found)


def test_cores_import_no_io() -> None:
    found = archcheck.io_in_cores(archcheck.load(), CORES)
    assert found == [], _fmt(found)


# The guard must be able to fail: run it on a small package that breaks each rule on purpose.


def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "pkg"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return pkg


def test_guard_catches_a_cycle_hidden_in_a_function_or_type_checking(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg.b import B\nclass A: ...\n",
            "b.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from pkg.c import C
                class B: ...
            """,
            "c.py": "def f():\n    from pkg.a import A\n    return A\nclass C: ...\n",
            "d.py": "from pkg import a\n",
        },
    )
    mods = archcheck.load(pkg)
    assert archcheck.circles(mods) == [["pkg.a", "pkg.b", "pkg.c"]]
    in_functions, type_checking = archcheck.hidden_imports(mods)
    assert [f.module for f in in_functions] == ["pkg.c"]
    assert [f.module for f in type_checking] == ["pkg.b"]


def test_guard_catches_private_names_and_reaches(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "low.py": """
                _SECRET = 1
                class Low:
                    def __init__(self) -> None:
                        self._state = 0
                    def _poke(self) -> None: ...
            """,
            "high.py": """
                from pkg.low import _SECRET, Low
                class High:
                    def __init__(self, low: Low) -> None:
                        self._low = low
                        self._mine = 1
                    def run(self) -> int:
                        self._low._poke()          # reach: call
                        self._low._state = 3       # reach: write
                        other = High(self._low)
                        return other._mine + _SECRET  # same module: fine
            """,
        },
    )
    mods = archcheck.load(pkg)
    assert [f.text for f in archcheck.private_imports(mods)] == ["imports _SECRET from pkg.low"]
    reaches = sorted(f.text.split()[1] for f in archcheck.private_reaches(mods))
    assert reaches == ["._poke", "._state"]


def test_guard_catches_io_in_a_core(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "core.py": "import asyncio\nfrom time import monotonic\n",
            "ok.py": "import struct\n",
        },
    )
    mods = archcheck.load(pkg)
    found = archcheck.io_in_cores(mods, ["pkg.core", "pkg.ok", "pkg.gone"])
    assert [(f.module, f.text) for f in found] == [
        ("pkg.core", "a sans-IO core imports asyncio"),
        ("pkg.core", "a sans-IO core imports time"),
        ("pkg.gone", "declared as a core but no such module"),
    ]

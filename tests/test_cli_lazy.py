"""``hyperpunch`` starts fast: listing the commands imports no layer, a command imports only its own.

Each check runs in a fresh interpreter (this one has long imported everything) and looks at
``sys.modules`` there.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from typing import Any

from hyperpunch.cli import COMMANDS, build_parser

HEAVY = [
    "hyperpunch.autobase",
    "hyperpunch.corestore",
    "hyperpunch.dht",
    "hyperpunch.dht_rpc",
    "hyperpunch.docdb",
    "hyperpunch.hyperbee",
    "hyperpunch.hypercore",
    "hyperpunch.relay",
    "hyperpunch.swarm",
    "hyperpunch.todo",
    "hyperpunch.udx",
]


def loaded_after(code: str) -> set[str]:
    """The hyperpunch modules a fresh interpreter has loaded after running ``code``."""
    probe = (
        "import contextlib, io, json, sys\n"
        f"{code}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('hyperpunch'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_import_cli_loads_no_layer() -> None:
    modules = loaded_after("import hyperpunch.cli")
    assert "hyperpunch.cli" in modules
    assert heavy_in(modules) == []


def test_help_loads_no_layer_and_lists_every_command() -> None:
    code = (
        "from hyperpunch.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "assert all(name in out.getvalue() for name in "
        f"{sorted(COMMANDS)!r}), out.getvalue()\n"
    )
    assert heavy_in(loaded_after(code)) == []


def test_a_command_loads_only_its_own_layers() -> None:
    code = (
        "from hyperpunch.cli import main\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n"
        "    assert main(['core', 'read', 'not-a-key']) == 2\n"
    )
    modules = loaded_after(code)
    assert "hyperpunch.cli.core" in modules and "hyperpunch.hypercore" in modules
    for other in ("hyperpunch.autobase", "hyperpunch.hyperbee", "hyperpunch.relay", "hyperpunch.todo"):
        assert other not in modules


class Recorder:
    """Stands in for the subparsers action: records each top-level command's help."""

    def __init__(self) -> None:
        self.helps: dict[str, str] = {}

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        self.helps[name] = kwargs["help"]
        return argparse.ArgumentParser(prog=name)


def test_the_listed_help_is_what_each_module_registers() -> None:
    """COMMANDS (what ``--help`` lists without importing) matches every module's ``register``."""
    registered: dict[str, tuple[str, str]] = {}
    for module in sorted({module for module, _ in COMMANDS.values()}):
        recorder = Recorder()
        importlib.import_module(module).register(recorder)
        registered.update({name: (module, h) for name, h in recorder.helps.items()})
    assert registered == COMMANDS


def test_the_command_run_gets_its_real_parser() -> None:
    for name, (module, _) in COMMANDS.items():
        args = build_parser(name).parse_args([name, *_minimal(name)])
        assert args.func.__module__ == module, name


def _minimal(name: str) -> list[str]:
    """Arguments that parse for each command (no action is run)."""
    key = "00" * 32
    return {
        "testnet": [],
        "dht": ["connect", key],
        "swarm": [],
        "core": ["read", key],
        "store": ["read", key],
        "bee": ["read", key],
        "relay": [],
        "fsck": ["somewhere"],
        "todo": ["ls", key],
    }[name]

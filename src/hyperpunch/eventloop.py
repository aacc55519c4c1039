"""How hyperpunch programs run: the event loop (uvloop when asked for or installed) and the GC.

``HYPERPUNCH_LOOP=uvloop`` asks for uvloop (an error if it is not installed),
``HYPERPUNCH_LOOP=asyncio`` for the standard loop; unset, uvloop is used when it is importable
(``pip install hyperpunch[fast]``). Everything in hyperpunch runs on either loop: the adapters use
only the ``asyncio.AbstractEventLoop`` API (transports, ``add_reader``/``add_writer``, timers).

:func:`run` also raises the cyclic garbage collector's first threshold to ``GC_THRESHOLD0``
allocations (``HYPERPUNCH_GC=default`` keeps Python's 700): a node holding many connections keeps
hundreds of thousands of objects alive, and with the default every few hundred allocations start
a collection whose older generations walk them all (measured: 44 % of the CPU of a 50-peer swarm
meshing, 7 % with the raised threshold). Garbage cycles then live a little longer; nothing else
changes. Only :func:`run` does this (the program's entry point), never an import.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["GC_THRESHOLD0", "loop_factory", "loop_name", "run", "tune_gc"]

GC_THRESHOLD0 = 50_000

T = TypeVar("T")


def loop_name() -> str:
    """``"uvloop"`` or ``"asyncio"``: the loop ``loop_factory`` makes under the environment."""
    wanted = os.environ.get("HYPERPUNCH_LOOP", "").strip().lower()
    if wanted in ("asyncio", "default", "stdlib"):
        return "asyncio"
    if wanted == "uvloop":
        importlib.import_module("uvloop")  # asked for: a missing uvloop is an error
        return "uvloop"
    if wanted:
        raise ValueError(f"HYPERPUNCH_LOOP={wanted!r}: expected 'uvloop' or 'asyncio'")
    try:
        importlib.import_module("uvloop")
    except ImportError:
        return "asyncio"
    return "uvloop"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """A zero-argument callable making a new event loop of the chosen kind."""
    if loop_name() == "uvloop":
        uvloop = importlib.import_module("uvloop")
        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    return asyncio.new_event_loop


def tune_gc() -> None:
    """Raise the GC's first threshold to ``GC_THRESHOLD0`` (unless ``HYPERPUNCH_GC=default``)."""
    if os.environ.get("HYPERPUNCH_GC", "").strip().lower() == "default":
        return
    first, second, third = gc.get_threshold()
    if 0 < first < GC_THRESHOLD0:
        gc.set_threshold(GC_THRESHOLD0, second, third)


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop ``loop_factory`` chooses, with :func:`tune_gc` applied."""
    tune_gc()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)

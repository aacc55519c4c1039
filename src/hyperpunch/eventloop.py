"""Which asyncio event loop hyperpunch programs run on: uvloop when asked for or installed.

``HYPERPUNCH_LOOP=uvloop`` asks for uvloop (an error if it is not installed),
``HYPERPUNCH_LOOP=asyncio`` for the standard loop; unset, uvloop is used when it is importable
(``pip install hyperpunch[fast]``). Everything in hyperpunch runs on either loop: the adapters use
only the ``asyncio.AbstractEventLoop`` API (transports, ``add_reader``/``add_writer``, timers).
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["loop_factory", "loop_name", "run"]

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


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop ``loop_factory`` chooses."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)

"""``hyperpunch.run(main())``: run a program until it finishes or gets SIGINT/SIGTERM.

Like ``asyncio.run`` (on uvloop when it is installed: ``hyperpunch.eventloop``), but Ctrl-C and
SIGTERM cancel ``main`` explicitly (so its ``async with``
blocks close every node, stream and core), whatever signal disposition the process inherited, and
the program then exits 0 instead of printing a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any

from hyperpunch.eventloop import run as run_loop

__all__ = ["run"]


def run(main: Coroutine[Any, Any, Any]) -> None:
    """Run ``main`` to completion, or cancel it on SIGINT/SIGTERM and return quietly."""

    async def runner() -> None:
        task = asyncio.ensure_future(main)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    run_loop(runner())

"""Suite-wide pytest setup: ``HYPERPUNCH_LOOP=uvloop pytest`` runs every async test on uvloop.

Without it the tests run on the standard asyncio loop (pytest-asyncio's default). The same
variable picks the loop for programs (``hyperpunch.eventloop``); ``make unit-uvloop`` runs the
suite on uvloop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping

import pytest

if os.environ.get("HYPERPUNCH_LOOP", "").strip().lower() == "uvloop":
    import uvloop

    def pytest_asyncio_loop_factories(
        config: pytest.Config, item: pytest.Item
    ) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
        return {"uvloop": uvloop.new_event_loop}

    def pytest_report_header(config: pytest.Config) -> str:
        return f"event loop: uvloop {uvloop.__version__}"

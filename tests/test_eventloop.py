"""hyperpunch.eventloop: the loop choice from HYPERPUNCH_LOOP and the GC threshold of run()."""

from __future__ import annotations

import asyncio
import gc
import importlib.util

import pytest

from hyperpunch import eventloop

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


def test_loop_choice_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERPUNCH_LOOP", "asyncio")
    assert eventloop.loop_name() == "asyncio"
    assert eventloop.loop_factory() is asyncio.new_event_loop
    monkeypatch.setenv("HYPERPUNCH_LOOP", "nonsense")
    with pytest.raises(ValueError):
        eventloop.loop_name()
    monkeypatch.delenv("HYPERPUNCH_LOOP")
    assert eventloop.loop_name() == ("uvloop" if HAVE_UVLOOP else "asyncio")
    monkeypatch.setenv("HYPERPUNCH_LOOP", "uvloop")
    if HAVE_UVLOOP:
        assert eventloop.loop_name() == "uvloop"
    else:
        with pytest.raises(ImportError):
            eventloop.loop_name()


def test_run_returns_the_result_and_raises_the_gc_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = gc.get_threshold()
    monkeypatch.setenv("HYPERPUNCH_LOOP", "asyncio")

    async def main() -> int:
        return 42

    try:
        gc.set_threshold(700, 10, 10)
        monkeypatch.setenv("HYPERPUNCH_GC", "default")
        assert eventloop.run(main()) == 42
        assert gc.get_threshold() == (700, 10, 10)
        monkeypatch.delenv("HYPERPUNCH_GC")
        assert eventloop.run(main()) == 42
        assert gc.get_threshold() == (eventloop.GC_THRESHOLD0, 10, 10)
    finally:
        gc.set_threshold(*saved)

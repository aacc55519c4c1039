"""Owned concurrency for the asyncio adapters: :class:`TaskOwner` and :class:`CloseOnce`.

Invariants:

* Every task an adapter starts belongs to exactly one :class:`TaskOwner`; ``aclose()`` cancels
  every task it still owns and awaits them all, so nothing outlives the object that started it.
* A task that fails with an unexpected exception is logged once, at WARNING with its traceback and
  its owner's name; one that ends with a hyperpunch error (a protocol outcome such as a peer not
  found, which whoever awaits the task handles) only at DEBUG; a cancelled task is not an error.
* :class:`DeadlineTimer` keeps exactly one ``loop.call_at`` armed at the core's
  ``next_deadline()``; it fires ``handle_timer(loop.time())`` and hands the events to the adapter.
* :class:`CloseOnce` runs a close coroutine once: concurrent and repeated ``aclose()`` calls all
  wait for the same run, and cancelling one waiter does not cancel the close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

from hyperpunch.errors import HyperpunchError
from hyperpunch.sansio import TimedCore

__all__ = ["CloseOnce", "DeadlineTimer", "TaskOwner"]

T = TypeVar("T")
E = TypeVar("E")

log = logging.getLogger("hyperpunch")


class TaskOwner:
    """A set of tasks owned by one object: ``spawn`` starts one, ``aclose`` cancels and awaits all."""

    __slots__ = ("closed", "name", "tasks")

    def __init__(self, name: str) -> None:
        self.name = name
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    def spawn(self, coro: Coroutine[Any, Any, T] | Awaitable[T]) -> asyncio.Task[T]:
        """Start ``coro`` as a task owned here. After :meth:`aclose` the coroutine is closed unrun."""
        if self.closed:
            if isinstance(coro, Coroutine):
                coro.close()
            raise RuntimeError(f"{self.name} is closed: cannot start a task")
        task: asyncio.Task[T] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        err = task.exception()
        if isinstance(err, HyperpunchError):
            log.debug("%s: task ended: %r", self.name, err)
        elif err is not None:
            log.warning("%s: task failed: %r", self.name, err, exc_info=err)

    def __len__(self) -> int:
        return len(self.tasks)

    async def aclose(self) -> None:
        """Refuse new tasks, cancel every owned task and wait until all have ended."""
        self.closed = True
        current = asyncio.current_task()
        while True:
            pending = [t for t in self.tasks if t is not current and not t.done()]
            if not pending:
                return
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(BaseException):
                    await task


class CloseOnce:
    """Idempotent asynchronous close: the first ``__call__`` starts ``close``; every call awaits it."""

    __slots__ = ("_close", "_task")

    def __init__(self, close: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._close = close
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        return self._task is not None

    @property
    def done(self) -> bool:
        return self._task is not None and self._task.done()

    async def __call__(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._close())
        await asyncio.shield(self._task)


class DeadlineTimer(Generic[E]):
    """Drives a core's timer: call :meth:`rearm` after every input; events go to ``on_events``."""

    __slots__ = ("_armed_at", "_core", "_handle", "_loop", "_on_events")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        core: TimedCore[E],
        on_events: Callable[[list[E]], None],
    ) -> None:
        self._loop = loop
        self._core = core
        self._on_events = on_events
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at: float | None = None

    def rearm(self) -> None:
        deadline = self._core.next_deadline()
        if deadline == self._armed_at and (deadline is None or self._handle is not None):
            return
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._armed_at = deadline
        if deadline is not None:
            self._handle = self._loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._armed_at = None
        events = list(self._core.handle_timer(self._loop.time()))
        if events:
            self._on_events(events)
        self.rearm()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._armed_at = None

"""Starting coroutines from Qt slots, keeping a reference to each (asyncio only keeps weak ones)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger("kling_studio.ui")

# Start-up paints the window before the asyncio loop exists (issue 13): work a panel starts in
# that moment (measuring the opened project's first frame) waits here for ``start_waiting``,
# called once the loop runs. Only when start-up said a loop is coming (``expect_loop``): a
# script that renders widgets without one closes such coroutines, as before.
_waiting: list[tuple[TaskSet, Coroutine[Any, Any, Any], Callable[[BaseException], None] | None]] = []
_loop_coming = False


def expect_loop() -> None:
    """Start-up: the asyncio loop starts after the first paint; hold what is spawned till then."""
    global _loop_coming
    _loop_coming = True


def start_waiting() -> None:
    """Start-up, with the loop running: start what was spawned before it."""
    global _loop_coming
    _loop_coming = False
    waiting = list(_waiting)
    _waiting.clear()
    for tasks, coro, on_error in waiting:
        tasks.spawn(coro, on_error)


class TaskSet:
    """The tasks a widget started; ``cancel_all`` when the widget goes away."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[Any]] = set()

    def spawn(
        self, coro: Coroutine[Any, Any, Any], on_error: Callable[[BaseException], None] | None = None
    ) -> asyncio.Future[Any] | None:
        """Run ``coro``; a failure goes to ``on_error`` (expected errors shown inline) or, without
        one, to ``sys.excepthook``."""
        # Without asyncio loaded no loop can run (the window's first paint comes before it).
        running = "asyncio" in sys.modules
        if running:
            import asyncio

            try:
                asyncio.get_running_loop()
            except RuntimeError:
                running = False
        if not running and _loop_coming:
            _waiting.append((self, coro, on_error))
            return None
        if not running:
            coro.close()  # no event loop (a script rendering widgets): nothing can run it
            log.debug("no running event loop; skipped %s", getattr(coro, "__qualname__", coro))
            return None
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, on_error))
        return task

    def _done(self, task: asyncio.Future[Any], on_error: Callable[[BaseException], None] | None) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        if on_error is not None:
            on_error(exc)
            return
        # Unexpected errors go to the one error path (sys.excepthook: log and show).
        sys.excepthook(type(exc), exc, exc.__traceback__)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for entry in [w for w in _waiting if w[0] is self]:
            _waiting.remove(entry)
            entry[1].close()

    def __len__(self) -> int:
        return len(self._tasks)

"""The queue is starting: what waits for it instead of failing.

The window paints before the engine starts (issue 13, first paint first). While it starts,
Submit stays available; a submit made then waits here and goes through once the engine is
ready (or says why not, if it did not start). The composition root owns the one instance
(a child of the window, found by ``startup_of``) and calls ``finish`` when the engine is set.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

OBJECT_NAME = "engineStartup"


class EngineStartup(QObject):
    finished = Signal()

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName(OBJECT_NAME)
        self.starting = True

    def finish(self) -> None:
        if self.starting:
            self.starting = False
            self.finished.emit()

    async def wait(self) -> None:
        """Return once the start-up has finished (at once if it has)."""
        if not self.starting:
            return
        import asyncio

        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not future.done():
                future.set_result(None)

        self.finished.connect(done)
        try:
            await future
        finally:
            self.finished.disconnect(done)


def startup_of(window: QObject) -> EngineStartup | None:
    """The window's start-up while the engine is still starting; None once it is over."""
    startup = window.findChild(EngineStartup, OBJECT_NAME)
    return startup if startup is not None and startup.starting else None

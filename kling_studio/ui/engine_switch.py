"""Apply engine settings (backend, key, base URL, concurrency, library) without restarting the app.

The engine fixes its backend and limits when it is built, so a change builds a new one with
the composition root's factory, starts it, and swaps the job panels over. Jobs stay in the
store; only a switch while jobs are in flight waits for the next start, because a running
local task lives inside the old engine's local server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from kling_studio.services.engine_api import JobEngineAPI
from kling_studio.services.settings import AppSettings

if TYPE_CHECKING:
    from kling_studio.ui.main_window import StudioWindow

log = logging.getLogger("kling_studio.ui")

EngineFactory = Callable[[AppSettings], JobEngineAPI | None]
ENGINE_FIELDS = ("backend", "base_url", "concurrency", "library_dir", "inline_images", "task_seconds")
LATER = "The new backend settings apply when the jobs in flight have finished and Kling Studio restarts."


def engine_settings_changed(old: AppSettings, new: AppSettings, key_entered: bool) -> bool:
    return key_entered or any(getattr(old, f) != getattr(new, f) for f in ENGINE_FIELDS)


def jobs_in_flight(engine: JobEngineAPI | None) -> bool:
    return engine is not None and any(not job.state.is_terminal for job in engine.job_summaries())


async def switch_engine(window: StudioWindow, factory: EngineFactory) -> bool:
    """Replace the window's engine with one built from its current settings. False if it waits."""
    old = window.engine
    if jobs_in_flight(old):
        window.show_message(LATER, 0)
        return False
    try:
        new = factory(window.settings)
        if new is not None:
            await new.start()
    except Exception as exc:  # keep working with the old engine, and say why
        log.exception("the new job engine did not start")
        window.show_message(f"The new backend settings could not be applied: {exc}", 0)
        return False
    if window.job_panels is not None:
        window.detach_job_panels()
    window.set_engine(new)
    window.attach_job_panels(new)
    if old is not None:
        try:
            # Shielded: closing the window cancels this task, but the old engine must still stop.
            import asyncio  # late: the window paints before asyncio loads

            await asyncio.shield(old.stop())
        except Exception:
            log.exception("the old job engine did not stop cleanly")
    label = new.backend_label if new is not None else "no job engine"
    window.show_message(f"Backend: {label}")
    return True

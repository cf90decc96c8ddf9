"""The job engine's public interface, as the UI and the CLI see it.

``services.job_engine.JobEngine`` implements it; UI tests may use a fake with the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kling_studio.domain.job_record import JobEvent, JobRecord
from kling_studio.domain.storyboard import Storyboard

JobListener = Callable[[JobEvent], None]


class JobEngineAPI(Protocol):
    @property
    def is_local(self) -> bool:
        """True when new jobs go to the bundled local server (no key, no credits)."""
        ...

    @property
    def backend_label(self) -> str:
        """Plain words for the status bar, e.g. "Local preview — no credits spent"."""
        ...

    async def start(self) -> None:
        """Open the store and resume every unfinished job (each against its own backend)."""
        ...

    async def stop(self) -> None:
        """Stop polling and downloading; close clients. Unfinished jobs resume on next start."""
        ...

    def subscribe(self, listener: JobListener) -> Callable[[], None]:
        """Call ``listener`` (on the event loop's thread) for every job change; returns unsubscribe."""
        ...

    def jobs(self) -> list[JobRecord]:
        """All jobs, oldest first (full records: for a long history, slow; lists use ``job_summaries``)."""
        ...

    def job_summaries(self) -> list[JobRecord]:
        """All jobs, oldest first, for lists: a finished job may be a light record without its
        request or storyboard (``services.job_summary.is_summary``); ``get`` gives the whole one."""
        ...

    def get(self, job_id: str) -> JobRecord | None: ...

    async def submit_storyboard(self, storyboard: Storyboard, *, project_path: str | None = None) -> JobRecord:
        """Compile, refuse (ValueError with the compiler's messages) if invalid, write the job
        down, then queue it. Returns the created record (state ``queued``)."""
        ...

    async def retry(self, job_id: str) -> JobRecord:
        """A new job with the same request; the old one is kept."""
        ...

    async def check_again(self, job_id: str) -> None:
        """Resume a ``needs_attention`` job (poll, download or re-send with the same key)."""
        ...

    async def cancel(self, job_id: str) -> None:
        """Stop locally (the service may still bill a running task)."""
        ...

    async def remove(self, job_id: str, *, delete_files: bool = False) -> None: ...

    async def set_flags(self, job_id: str, *, starred: bool | None = None, rejected: bool | None = None) -> None: ...

"""Shared plumbing for the job steps: dependencies, error codes, the crash hook, outcomes.

``JobSteps`` holds what every step needs (the core, policies, the poll scheduler, the executor) and the
few ways a step ends a job early: needs attention, failed, expired.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import threading
from concurrent.futures import Executor
from pathlib import Path

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_download import temp_path_for
from kling_studio.services.api_errors import KlingAPIError
from kling_studio.services.downloads import video_destination
from kling_studio.services.job_core import EngineCore
from kling_studio.services.local_backend import LOCAL, LocalBackendError
from kling_studio.services.polling import PollPolicy, PollScheduler, SleepFn
from kling_studio.services.settings import AppSettings

log = logging.getLogger("kling_studio.jobs")

# Test hook: SIGKILL this process at a named point, to prove the write-ahead log recovers.
CRASH_ENV = "KLING_STUDIO_TEST_CRASH_AT"
CRASH_POINTS = ("after_job_written", "after_submit_before_task_id", "mid_poll", "mid_download")
_S = JobState


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        log.warning("test crash point %s reached: killing the process", name)
        os.kill(os.getpid(), signal.SIGKILL)


def error_code(exc: BaseException) -> str:
    """``RateLimitError`` → ``rate_limit_error``: a stable code for the store and the CLI."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


class JobSteps:
    def __init__(
        self,
        core: EngineCore,
        *,
        policy: PollPolicy,
        scheduler: PollScheduler,
        sleep: SleepFn,
        executor: Executor,
        library: Path,
        inline_images: bool = False,
        submit_parallel: int = 4,
        max_video_bytes: int | None = None,
    ) -> None:
        self.core = core
        self.policy = policy
        self.scheduler = scheduler  # every status read waits here: one heap, the shared cap
        self.sleep = sleep
        self.executor = executor
        self.library = library
        self.inline_images = inline_images
        # None: the setting's default (2048 MB, or KLING_STUDIO_MAX_VIDEO_MB).
        self.max_video_bytes = max_video_bytes if max_video_bytes is not None else AppSettings().max_video_bytes()
        self._submit_gate = asyncio.Semaphore(submit_parallel)
        # One PyAV probe at a time: each decodes for tens of milliseconds, and several at once
        # (hundreds of short takes finishing together) crowd the event loop's thread off the GIL.
        self._probe_gate = threading.Lock()

    async def _client(self, job: JobRecord) -> KlingClient | None:
        try:
            return await self.core.client_for(job.backend)
        except (LocalBackendError, ValueError) as exc:
            self._attention(job.id, "backend_unavailable", f"{exc} Check again once the backend is reachable.")
            return None

    def _links_current(self, job: JobRecord) -> bool:
        current = self.core.current_local_url()
        return bool(current and job.result_urls and job.result_urls[0].startswith(current))

    def _not_found_message(self, job: JobRecord, exc: KlingAPIError) -> str:
        if job.backend == LOCAL:
            return (
                "The local preview server was restarted and no longer knows this task, so its video is gone. "
                "Retry the job to render it again (local previews cost nothing)."
            )
        return f"{exc.message} The service does not know task {job.task_id}; retry the job to generate it again."

    def _attention(self, job_id: str, code: str, message: str) -> None:
        self.core.update(job_id, state=_S.NEEDS_ATTENTION, error_code=code, error_message=message)

    def _fail(self, job_id: str, code: str, message: str) -> None:
        self.core.update(job_id, state=_S.FAILED, error_code=code, error_message=message, finished_at=self.core.clock())

    def _expire(self, job_id: str) -> None:
        job = self.core.update(
            job_id,
            state=_S.EXPIRED,
            error_code="link_expired",
            error_message="The result link expired before the video could be saved. Retry the job to generate it again.",
            finished_at=self.core.clock(),
        )
        # A partial download can no longer be continued: do not leave it in the library.
        self.discard_partial(job)

    def discard_partial(self, job: JobRecord) -> None:
        """Remove the job's ``.part`` file, if any: nothing will continue it (expired, cancelled,
        removed). Blocking file work: the engine calls it through its executor."""
        part = temp_path_for(video_destination(job, self.library, self.core.out_dirs.get(job.id)))
        try:
            part.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove the partial download %s: %s", part, exc)

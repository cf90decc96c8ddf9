"""The download step: the finished MP4 into the library, verified, with its sidecar.

Retried until the link expires: a full disk or a failed fetch needs attention for a while and
is tried again by itself; a link the service no longer serves is refreshed from the task once.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_errors import DownloadError, KlingAPIError, NotFoundError
from kling_studio.services.downloads import (
    disk_error_message,
    is_valid_video,
    sidecar_document,
    sidecar_path_for,
    video_destination,
    write_sidecar,
)
from kling_studio.services.job_core import run_blocking
from kling_studio.services.job_steps import JobSteps, crash_point, error_code
from kling_studio.services.local_backend import LOCAL

log = logging.getLogger("kling_studio.jobs")

_S = JobState
_GONE = (403, 404, 410)


class DownloadSteps(JobSteps):
    async def _download(self, job: JobRecord) -> None:
        if job.expires_at is not None and self.core.clock() > job.expires_at:
            self._expire(job.id)
            return
        job = self.core.update(job.id, download_attempts=job.download_attempts + 1)
        client = await self._client(job)
        if client is None:
            return
        if job.backend == LOCAL and not self._links_current(job):
            fresh = await self._refresh_links(job, client)
            if fresh is None:
                return
            job = fresh
        dest = video_destination(job, self.library, self.core.store.out_dir(job.id))

        def on_progress(done: int, total: int | None) -> None:
            if done > 0:
                crash_point("mid_download")

        refreshed = False
        while True:
            try:
                await client.download(job.result_urls[0], dest, on_progress)
                break
            except OSError as exc:
                await self._retry_download_later(job, "disk_full", disk_error_message(exc, dest.parent))
                return
            except (NotFoundError, DownloadError) as exc:
                if exc.status in _GONE and not refreshed:
                    refreshed = True
                    fresh = await self._refresh_links(job, client)
                    if fresh is None:
                        return
                    job = fresh
                    continue
                await self._retry_download_later(job, error_code(exc), str(exc))
                return
            except KlingAPIError as exc:
                await self._retry_download_later(job, error_code(exc), str(exc))
                return
        if not await run_blocking(self.executor, is_valid_video, dest):
            await self._retry_download_later(job, "bad_video", "The downloaded file is not a valid MP4; retrying.")
            return
        sidecar = sidecar_path_for(dest)
        finished = self.core.clock()
        done = replace(job, state=_S.DONE, finished_at=finished, video_path=str(dest), sidecar_path=str(sidecar))
        try:
            document = sidecar_document(done, self.core.store.final_status(job.id))
            await run_blocking(self.executor, write_sidecar, sidecar, document)
        except OSError as exc:
            await self._retry_download_later(job, "disk_full", disk_error_message(exc, sidecar.parent))
            return
        self.core.update(
            job.id,
            state=_S.DONE,
            video_path=str(dest),
            sidecar_path=str(sidecar),
            finished_at=finished,
            progress=100,
            error_code=None,
            error_message=None,
        )

    async def _retry_download_later(self, job: JobRecord, code: str, message: str) -> None:
        """Report the problem (needs attention), wait, then try again — until the link expires."""
        log.warning("job %s: download failed: %s", job.id, message)
        attempts = max(1, self.core.records[job.id].download_attempts)
        delay = min(self.policy.download_retry * 2 ** (attempts - 1), self.policy.download_retry_max)
        if job.expires_at is not None:
            delay = max(0.0, min(delay, job.expires_at - self.core.clock()))
        self._attention(job.id, code, message)
        await self.sleep(delay)
        current = self.core.records.get(job.id)
        if current is None or current.state != _S.NEEDS_ATTENTION:
            return  # cancelled or removed meanwhile
        if current.expires_at is not None and self.core.clock() > current.expires_at:
            self._expire(job.id)
        else:
            self.core.update(job.id, state=_S.DOWNLOADING)

    async def _refresh_links(self, job: JobRecord, client: KlingClient) -> JobRecord | None:
        """Ask the service again for the result links; None when the job went elsewhere."""
        assert job.task_id is not None
        await self.limiter.acquire()
        try:
            status = await client.get_task(job.task_id)
        except NotFoundError as exc:
            self._attention(job.id, "task_not_found", self._not_found_message(job, exc))
            return None
        except KlingAPIError as exc:
            await self._retry_download_later(job, error_code(exc), str(exc))
            return None
        if not status.is_completed or not status.video_urls:
            if job.expires_at is not None and self.core.clock() > job.expires_at:
                self._expire(job.id)
            else:
                self._attention(job.id, "no_video", "The service no longer offers a video link for this task.")
            return None
        return self.core.update(
            job.id,
            final_status=status.raw,
            result_urls=status.video_urls,
            expires_at=status.expires_at or job.expires_at,
        )

    # Helpers

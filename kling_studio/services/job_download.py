"""The download step: the finished MP4 into the library, verified, with its sidecar.

Retried until the link expires: a full disk or a failed fetch needs attention for a while and
is tried again by itself; a link the service no longer serves is refreshed from the task once.
An interrupted download continues from its ``.part`` file, even after a restart. The file is
verified with the PyAV probe before it takes its name: a damaged one is fetched again a few
times, then the job says the file is damaged. A video over ``max_video_mb`` is stopped, removed,
and the job says so; neither is retried by itself.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_errors import DownloadError, KlingAPIError, NotFoundError, VideoTooLarge
from kling_studio.services.downloads import (
    disk_error_message,
    sidecar_document,
    sidecar_path_for,
    video_destination,
    write_sidecar,
)
from kling_studio.services.job_core import run_blocking
from kling_studio.services.job_steps import JobSteps, crash_point, error_code
from kling_studio.services.local_backend import LOCAL
from kling_studio.services.video_probe import VideoDamaged, VideoProbe, probe_video

log = logging.getLogger("kling_studio.jobs")

_S = JobState
_GONE = (403, 404, 410)
# Fetches of a file that arrives whole but does not play, before the job says it is damaged.
DAMAGED_TRIES = 3


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
        dest = video_destination(job, self.library, self.core.out_dirs.get(job.id))

        def on_progress(done: int, total: int | None) -> None:
            if done > 0:
                crash_point("mid_download")

        probes: list[VideoProbe] = []
        expected = float(job.duration) if job.duration else None

        def verify(path: Path) -> None:  # in a worker thread, before the file takes its name
            with self._probe_gate:
                probes.append(probe_video(path, expected))

        refreshed = False
        damaged = 0
        while True:
            try:
                await client.download(
                    job.result_urls[0], dest, on_progress, max_bytes=self.max_video_bytes, verify=verify
                )
                break
            except OSError as exc:
                await self._retry_download_later(job, "disk_full", disk_error_message(exc, dest.parent))
                return
            except VideoTooLarge as exc:
                self._attention(job.id, "video_too_large", str(exc))
                return
            except VideoDamaged as exc:
                damaged += 1
                log.warning("job %s: %s (fetch %d of %d)", job.id, exc.message, damaged, DAMAGED_TRIES)
                if damaged < DAMAGED_TRIES:
                    await self.sleep(self.policy.download_retry)
                    continue
                self._attention(
                    job.id,
                    "video_damaged",
                    f"{exc.message} It arrived damaged {damaged} times in a row, so it was not saved. "
                    "Check the job again to fetch it once more while the result link is valid.",
                )
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
        sidecar = sidecar_path_for(dest)
        finished = self.core.clock()
        done = replace(job, state=_S.DONE, finished_at=finished, video_path=str(dest), sidecar_path=str(sidecar))
        try:
            probe = probes[-1].as_dict() if probes else None
            final_status = await self.core.read(lambda store: store.final_status(job.id))
            document = sidecar_document(done, final_status, probe)
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
        await self.scheduler.turn()
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

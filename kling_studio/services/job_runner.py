"""One job's way through the service: submit, poll, download — each step resumable.

The runner reads a job's recorded state and carries it forward; every state it reaches is
committed before the next network action, so a killed process picks up exactly where it
stopped: ``submitting`` without a task id is re-sent with the same idempotency key, a task id
is polled, a completed task is downloaded. Nothing here ever creates a second job.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_errors import (
    AuthError,
    KlingAPIError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from kling_studio.services.api_models import TaskStatus
from kling_studio.services.image_prep import prepare_for_upload
from kling_studio.services.job_core import run_blocking
from kling_studio.services.job_download import DownloadSteps
from kling_studio.services.job_steps import CRASH_ENV, CRASH_POINTS, crash_point, error_code
from kling_studio.services.local_backend import LOCAL
from kling_studio.services.polling import next_poll_delay

log = logging.getLogger("kling_studio.jobs")

DEFAULT_LINK_LIFE = float(KLING_3_TURBO.default_link_lifetime_s)  # contract §2: trust expires_at, else assume 24 h
_S = JobState
_ACCOUNT_ERRORS = (AuthError, PaymentRequiredError, PermissionDeniedError)
# An unreadable or oversized answer to a submit says as little about the task as silence does.
_UNKNOWN_OUTCOME = (NetworkError, ServerError, RateLimitError, ProtocolError)
__all__ = ["CRASH_ENV", "CRASH_POINTS", "JobRunner"]


def _is_local_file(reference: str) -> bool:
    return not reference.lower().startswith(("http://", "https://", "data:"))


class JobRunner(DownloadSteps):
    """Submit and poll here; download, shared plumbing and outcomes in the base classes."""

    async def run(self, job_id: str) -> None:
        """Drive a job until it is terminal or needs attention (cancellation leaves it resumable)."""
        try:
            while True:
                # Write-ahead: the state this step acts on is on disk before it touches the network.
                await self.core.committed(job_id)
                job = self.core.records.get(job_id)
                if job is None:
                    return
                if job.state in (_S.QUEUED, _S.SUBMITTING):
                    await self._submit(job)
                elif job.state in (_S.SUBMITTED, _S.PROCESSING):
                    await self._poll(job)
                elif job.state == _S.DOWNLOADING:
                    await self._download(job)
                else:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not leave a job silently stuck
            log.exception("job %s stopped on an unexpected error", job_id)
            job = self.core.records.get(job_id)
            if job is not None and not job.is_terminal and job.state != _S.NEEDS_ATTENTION:
                self._attention(job_id, "internal_error", f"Unexpected error ({exc!r}). Check the job again.")

    # Steps

    async def _submit(self, job: JobRecord) -> None:
        if job.task_id:  # the id was stored: only the state change was lost
            if job.state == _S.QUEUED:
                job = self.core.update(job.id, state=_S.SUBMITTING)
            self.core.update(job.id, state=_S.SUBMITTED)
            return
        # A few submits at a time: hundreds of jobs released at once must not freeze the loop.
        async with self._submit_gate:
            job = self.core.records[job.id]
            if job.state not in (_S.QUEUED, _S.SUBMITTING):
                return  # cancelled while waiting
            job = self.core.update(
                job.id,
                state=_S.SUBMITTING,
                submit_attempts=job.submit_attempts + 1,
                error_code=None,
                error_message=None,
            )
            await self._send(job)

    async def _send(self, job: JobRecord) -> None:
        client = await self._client(job)
        if client is None:
            return
        request = job.request
        image = request.get("first_frame_image")
        if isinstance(image, str) and _is_local_file(image):
            reference = await self._prepare_image(job, client, image)
            if reference is None:
                return
            # Commit the uploaded URL before the submit: the store holds exactly the body sent.
            job = self.core.update(job.id, request={**request, "first_frame_image": reference})
            request = job.request
        # The row, its idempotency key, the attempt count and the uploaded URL are durably on disk
        # before the request leaves (the writer commits them; the loop only waits for it).
        await self.core.committed(job.id)
        crash_point("after_job_written")
        try:
            task_id = await client.submit(request, job.idempotency_key)
        except ValidationError as exc:
            self._fail(job.id, error_code(exc), str(exc))
            return
        except _UNKNOWN_OUTCOME as exc:
            self._attention(
                job.id,
                error_code(exc),
                f"{exc.message} The service may or may not have started the task. Check again sends the "
                "same request with the same idempotency key, which never starts a second task.",
            )
            return
        except KlingAPIError as exc:
            self._attention(job.id, error_code(exc), str(exc))
            return
        crash_point("after_submit_before_task_id")
        self.core.update(
            job.id, state=_S.SUBMITTED, task_id=task_id, remote_status="submitted", submitted_at=self.core.clock()
        )
        await self.core.committed(job.id)  # the task id is on disk as soon as it arrives

    async def _prepare_image(self, job: JobRecord, client: KlingClient, path: str) -> str | None:
        try:
            prepared = await run_blocking(self.executor, prepare_for_upload, path)
            if self.inline_images:
                encoded: bytes = await run_blocking(self.executor, base64.b64encode, prepared.data)
                return f"data:{prepared.content_type};base64,{encoded.decode('ascii')}"
            return await client.upload_image(
                path, data=prepared.data, filename=prepared.filename, content_type=prepared.content_type
            )
        except ValidationError as exc:
            self._fail(job.id, error_code(exc), str(exc))
        except KlingAPIError as exc:
            self._attention(job.id, error_code(exc), str(exc))
        except (OSError, ValueError) as exc:
            self._attention(
                job.id,
                "first_frame_unreadable",
                f"The first frame {path} could not be prepared ({exc}). Fix or restore the file, then check again.",
            )
        return None

    async def _poll(self, job: JobRecord) -> None:
        client = await self._client(job)
        if client is None:
            return
        task_id = job.task_id
        assert task_id is not None, "a polled job has a task id"
        # No deadline: a task the service still answers about is polled for as long as it takes
        # (contract §6). Only silence — no good answer for ``silence_limit`` — asks a human.
        last_ok = self.core.clock()
        polls = 0
        retry_after: float | None = None
        while True:
            job = self.core.records[job.id]
            since = job.submitted_at or job.created_at
            delay = next_poll_delay(
                self.policy,
                polls=polls,
                elapsed=self.core.clock() - since,
                estimated_time=job.estimated_time,
                progress=job.progress,
                retry_after=retry_after,
            )
            retry_after = None
            await self.scheduler.turn(delay)  # one heap for every job's next read, under the cap
            try:
                status = await client.get_task(task_id)
            except NotFoundError as exc:
                # Contract §2/§4: an unknown task is a permanent error for that job, never resubmitted.
                self._fail(job.id, "task_not_found", self._not_found_message(job, exc))
                return
            except _ACCOUNT_ERRORS as exc:
                self._attention(job.id, error_code(exc), str(exc))
                return
            except KlingAPIError as exc:
                polls += 1
                retry_after = exc.retry_after
                silent = self.core.clock() - last_ok
                log.warning("job %s: status read failed (%s)", job.id, exc.message)
                if silent > self.policy.silence_limit:
                    self._attention(
                        job.id,
                        "no_answer",
                        f"No answer about this task for {silent / 60:.0f} minutes ({exc.message}). "
                        "Nothing is lost: check again later.",
                    )
                    return
                continue
            crash_point("mid_poll")
            polls += 1
            last_ok = self.core.clock()
            if self._apply_status(job, status):
                return

    def _apply_status(self, job: JobRecord, status: TaskStatus) -> bool:
        """Record one status answer; True when polling is over for this job."""
        common: dict[str, Any] = {
            "remote_status": status.status,
            "progress": status.progress,
            "poll_count": job.poll_count + 1,
        }
        if status.estimated_time is not None:
            common["estimated_time"] = status.estimated_time
        if status.is_completed:
            if not status.video_urls:
                self.core.update(job.id, **common)
                self._attention(
                    job.id, "no_video", "The service says the task completed but sent no video link. Check again."
                )
                return True
            expires = status.expires_at or (status.completed or self.core.clock()) + DEFAULT_LINK_LIFE
            cost = 0.0 if job.backend == LOCAL else (status.cost if status.cost is not None else job.estimated_cost_usd)
            self.core.update(
                job.id,
                final_status=status.raw,
                state=_S.DOWNLOADING,
                result_urls=status.video_urls,
                expires_at=expires,
                actual_cost_usd=cost,
                error_code=None,
                error_message=None,
                **{**common, "progress": 100},
            )
            return True
        if status.is_failed or status.is_cancelled:
            reason = status.error_message or (
                "The service cancelled the task." if status.is_cancelled else "The service reported a failure."
            )
            self.core.update(
                job.id,
                final_status=status.raw,
                state=_S.FAILED,
                error_code=str(status.error_code if status.error_code is not None else status.status),
                error_message=f"{reason} Failed tasks are not billed.",
                actual_cost_usd=0.0,
                finished_at=self.core.clock(),
                **common,
            )
            return True
        waiting = status.status.strip().lower() in ("submitted", "pending")
        self.core.update(job.id, state=job.state if waiting else _S.PROCESSING, **common)
        return False

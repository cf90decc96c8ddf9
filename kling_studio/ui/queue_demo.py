"""An in-memory engine with the real engine's interface, for screenshots, demos and UI tests.

It publishes the same ``JobEvent``s the real engine does; ``put`` and ``change`` let a caller
script a job's life, and every command is recorded in ``calls``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from kling_studio.domain.job_record import (
    EVENT_CREATED,
    EVENT_FINISHED,
    EVENT_PROGRESS,
    EVENT_REMOVED,
    EVENT_STATE,
    EVENT_UPDATED,
    JobEvent,
    JobRecord,
)
from kling_studio.domain.jobs import JobState
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.storyboard import Storyboard
from kling_studio.services.engine_api import JobListener


def make_job(
    title: str = "Sunrise over the harbour",
    *,
    state: JobState = JobState.QUEUED,
    shots: tuple[int, ...] = (2, 3),
    resolution: str = "720p",
    created_at: float | None = None,
    job_id: str | None = None,
    **fields: Any,
) -> JobRecord:
    """A plausible job record: storyboard snapshot, request, cost estimate from the price list."""
    now = time.time() if created_at is None else created_at
    duration = sum(shots)
    storyboard = {
        "schema": 1,
        "title": title,
        "settings": {"model": KLING_3_TURBO.model, "resolution": resolution, "aspect_ratio": "16:9", "watermark": None},
        "first_frame": None,
        "shots": [{"text": f"Shot {i + 1} of {title}", "duration": d} for i, d in enumerate(shots)],
    }
    price = float(KLING_3_TURBO.price_per_second_usd[resolution])
    values: dict[str, Any] = {
        "id": job_id or uuid.uuid4().hex,
        "idempotency_key": uuid.uuid4().hex,
        "title": title,
        "project_path": None,
        "backend": "https://api.example.invalid",
        "state": state,
        "mode": "text-to-video",
        "duration": duration,
        "resolution": resolution,
        "request": {"model": KLING_3_TURBO.model, "duration": duration, "resolution": resolution},
        "storyboard": storyboard,
        "created_at": now,
        "updated_at": now,
        "estimated_cost_usd": round(price * duration, 2),
    }
    values.update(fields)
    return JobRecord(**values)


class DemoEngine:
    """Implements ``JobEngineAPI`` in memory. Commands change records the way the engine would."""

    def __init__(self, jobs: list[JobRecord] | None = None, *, is_local: bool = False) -> None:
        self._jobs: dict[str, JobRecord] = {job.id: job for job in jobs or []}
        self._listeners: list[JobListener] = []
        self._is_local = is_local
        self.calls: list[tuple[str, Any]] = []

    # Scripting.

    def put(self, job: JobRecord) -> JobRecord:
        """Add or replace a job and publish the event the engine would."""
        old = self._jobs.get(job.id)
        self._jobs[job.id] = job
        if old is None:
            kind = EVENT_CREATED
        elif old.state != job.state:
            kind = EVENT_FINISHED if job.state.is_terminal else EVENT_STATE
        elif old.progress != job.progress:
            kind = EVENT_PROGRESS
        else:
            kind = EVENT_UPDATED
        self._emit(JobEvent(kind, job, None if old is None else old.state))
        return job

    def change(self, job_id: str, **changes: Any) -> JobRecord:
        changes.setdefault("updated_at", time.time())
        return self.put(replace(self._jobs[job_id], **changes))

    def _emit(self, event: JobEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # JobEngineAPI.

    @property
    def is_local(self) -> bool:
        return self._is_local

    @property
    def backend_label(self) -> str:
        return "Local preview — no credits spent" if self._is_local else "Demo engine"

    async def start(self) -> None:
        self.calls.append(("start", None))

    async def stop(self) -> None:
        self.calls.append(("stop", None))

    def subscribe(self, listener: JobListener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def jobs(self) -> list[JobRecord]:
        return sorted(self._jobs.values(), key=lambda j: j.created_at)

    def job_summaries(self) -> list[JobRecord]:
        return self.jobs()

    def get(self, job_id: str) -> JobRecord | None:
        return self._jobs.get(job_id)

    async def submit_storyboard(self, storyboard: Storyboard, *, project_path: str | None = None) -> JobRecord:
        self.calls.append(("submit_storyboard", storyboard.title))
        job = make_job(storyboard.title, shots=tuple(s.duration for s in storyboard.shots), project_path=project_path)
        return self.put(job)

    async def retry(self, job_id: str) -> JobRecord:
        self.calls.append(("retry", job_id))
        old = self._jobs[job_id]
        new = replace(
            old,
            id=uuid.uuid4().hex,
            idempotency_key=uuid.uuid4().hex,
            state=JobState.QUEUED,
            created_at=time.time(),
            updated_at=time.time(),
            task_id=None,
            progress=0,
            error_code=None,
            error_message=None,
            actual_cost_usd=None,
            video_path=None,
            sidecar_path=None,
            submitted_at=None,
            finished_at=None,
            starred=False,
            rejected=False,
        )
        return self.put(new)

    async def check_again(self, job_id: str) -> None:
        self.calls.append(("check_again", job_id))

    async def cancel(self, job_id: str) -> None:
        self.calls.append(("cancel", job_id))
        self.change(job_id, state=JobState.CANCELLED, finished_at=time.time())

    async def remove(self, job_id: str, *, delete_files: bool = False) -> None:
        self.calls.append(("remove", (job_id, delete_files)))
        job = self._jobs.pop(job_id)
        self._emit(JobEvent(EVENT_REMOVED, job, job.state))

    async def set_flags(self, job_id: str, *, starred: bool | None = None, rejected: bool | None = None) -> None:
        self.calls.append(("set_flags", (job_id, starred, rejected)))
        changes: dict[str, Any] = {}
        if starred is not None:
            changes["starred"] = starred
        if rejected is not None:
            changes["rejected"] = rejected
        self.change(job_id, **changes)


def demo_engine(media_dir: Path) -> tuple[DemoEngine, float]:
    """A queue with a job in each interesting state (and real videos for the done ones).

    Returns the engine and the "now" its times are relative to, so pictures do not drift.
    """
    from kling_studio.ui.preview_sample import write_sample_video

    now = time.time()
    project = "/projects/harbour.kling.json"
    specs: list[tuple[str, JobState, tuple[int, ...], str, dict[str, Any]]] = [
        ("Harbour at dawn — take 1", JobState.DONE, (2, 3), "720p", {"actual_cost_usd": 0.56, "age": 3600}),
        ("Harbour at dawn — take 2", JobState.DONE, (2, 2, 1), "1080p", {"actual_cost_usd": 0.70, "age": 2400}),
        (
            "Lighthouse close-up",
            JobState.FAILED,
            (5,),
            "720p",
            {"error_message": "The prompt was refused by the content filter. Reword shot 1, then Retry.", "age": 1800},
        ),
        (
            "Fish market, handheld",
            JobState.NEEDS_ATTENTION,
            (3, 3),
            "720p",
            {"error_message": "The network dropped while submitting; the task may exist.", "age": 1200},
        ),
        ("Gulls over the pier", JobState.CANCELLED, (4,), "720p", {"age": 900}),
        ("Night ferry departure", JobState.DOWNLOADING, (3, 4, 3), "1080p", {"progress": 100, "age": 400}),
        ("Rain on the quay", JobState.PROCESSING, (2, 2, 2, 2), "720p", {"progress": 62, "age": 240}),
        ("Harbour at dawn — take 3", JobState.SUBMITTED, (2, 3), "720p", {"progress": 5, "age": 60}),
        ("Closing titles", JobState.QUEUED, (3,), "720p", {"age": 10}),
    ]
    jobs: list[JobRecord] = []
    for i, (title, state, shots, resolution, extra) in enumerate(specs):
        age = float(extra.pop("age"))
        created = now - age
        fields: dict[str, Any] = dict(extra)
        if state is not JobState.QUEUED:
            fields["submitted_at"] = created + 2
            fields["task_id"] = f"task_01KDEMO{i:04d}"
            fields["estimated_time"] = 300.0
        if state.is_terminal:
            fields["finished_at"] = created + 150
        if state is JobState.DONE:
            video = media_dir / f"take-{i + 1}.mp4"
            if not video.exists():
                write_sample_video(video, shots, size=(256, 144), fps=12)
            fields["video_path"] = str(video)
            fields["sidecar_path"] = str(video.with_suffix(".json"))
            fields["progress"] = 100
        jobs.append(
            make_job(
                title,
                state=state,
                shots=shots,
                resolution=resolution,
                created_at=created,
                updated_at=created + min(age, 150.0),
                project_path=project if "Harbour" in title else None,
                job_id=f"demo-{i}",
                **fields,
            )
        )
    return DemoEngine(jobs), now

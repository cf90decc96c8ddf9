"""Words and numbers the queue shows for a job: times, costs and the status-bar summary.

Plain functions over ``JobRecord`` (no Qt) so the table model, the takes list and the
notifier all say the same thing the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState

MODE_WORDS = {"text-to-video": "Text → video", "image-to-video": "Image → video"}

# States in which the clock runs for a job (it holds, or is about to hold, a slot, or is downloading).
TICKING_STATES = frozenset({JobState.SUBMITTING, JobState.SUBMITTED, JobState.PROCESSING, JobState.DOWNLOADING})
# "In flight": work the app is still doing on its own, without the user's help.
IN_FLIGHT_STATES = frozenset(
    {JobState.QUEUED, JobState.SUBMITTING, JobState.SUBMITTED, JobState.PROCESSING, JobState.DOWNLOADING}
)


def clock_text(seconds: float) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` above."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def mode_text(job: JobRecord) -> str:
    return MODE_WORDS.get(job.mode, job.mode)


def length_text(job: JobRecord) -> str:
    return f"{job.duration} s · {job.resolution}"


def started_at(job: JobRecord) -> float | None:
    """When the service side of the job began (the submit), else when it left the queue."""
    if job.submitted_at is not None:
        return job.submitted_at
    if job.state is JobState.QUEUED:
        return None
    return job.created_at


def elapsed_seconds(job: JobRecord, now: float) -> float | None:
    start = started_at(job)
    if start is None:
        return None
    if job.state in TICKING_STATES:
        end = now
    elif job.state.is_terminal and job.finished_at is not None:
        end = job.finished_at
    else:  # paused (needs attention) or finished without a stamp: stop counting at the last change
        end = job.updated_at
    return max(0.0, end - start)


def remaining_seconds(job: JobRecord, now: float) -> float | None:
    """From the service's ``estimated_time`` (seconds from submit); None when unknown or over."""
    if job.state not in TICKING_STATES or job.estimated_time is None:
        return None
    elapsed = elapsed_seconds(job, now) or 0.0
    return max(0.0, job.estimated_time - elapsed)


def elapsed_text(job: JobRecord, now: float) -> str:
    value = elapsed_seconds(job, now)
    return "—" if value is None else clock_text(value)


def remaining_text(job: JobRecord, now: float) -> str:
    if job.state is JobState.DONE:
        return "—"
    value = remaining_seconds(job, now)
    if value is None:
        return "—" if job.state not in TICKING_STATES else "estimating…"
    if value <= 0:
        return "any moment"
    return "~" + clock_text(value)


def job_cost(job: JobRecord) -> float | None:
    """What the job costs: the service's figure once known, else our estimate."""
    return job.actual_cost_usd if job.actual_cost_usd is not None else job.estimated_cost_usd


def cost_text(job: JobRecord) -> str:
    if job.actual_cost_usd is not None:
        return f"${job.actual_cost_usd:.2f}"
    if job.estimated_cost_usd is not None:
        return f"~${job.estimated_cost_usd:.2f}"
    return "—"


def spent_usd(job: JobRecord) -> float:
    """Dollars a job counts as spent: done jobs on a paid backend only."""
    if job.state is not JobState.DONE or job.backend == "local":
        return 0.0
    return job_cost(job) or 0.0


def status_summary(jobs: Iterable[JobRecord], *, project_path: str | None, now: float, is_local: bool = False) -> str:
    """The status bar's words: jobs in flight, dollars spent today and in this project."""
    in_flight = 0
    today = 0.0
    in_project = 0.0
    today_date = dt.date.fromtimestamp(now)
    for job in jobs:
        if job.state in IN_FLIGHT_STATES:
            in_flight += 1
        spent = spent_usd(job)
        if not spent:
            continue
        when = job.finished_at if job.finished_at is not None else job.updated_at
        if dt.date.fromtimestamp(when) == today_date:
            today += spent
        if project_path is not None and job.project_path == project_path:
            in_project += spent
    parts = ["1 job in flight" if in_flight == 1 else f"{in_flight} jobs in flight", f"${today:.2f} spent today"]
    if project_path is not None:
        parts.append(f"${in_project:.2f} in this project")
    if is_local:
        parts.append("new jobs: local preview, no credits")
    return " · ".join(parts)

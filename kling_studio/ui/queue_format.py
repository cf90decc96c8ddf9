"""Words and numbers the queue shows for a job: times, costs and the status-bar summary.

Plain functions over ``JobRecord`` (no Qt) so the table model, the takes list and the
notifier all say the same thing the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState

MODE_WORDS = {"text-to-video": "Text → video", "image-to-video": "Image → video"}
LOCAL_BACKEND = "local"  # JobRecord.backend of jobs sent to the bundled local server
LOCAL_COST = "$0.00 (local)"  # the local server renders animatics: nothing is ever billed
# A local job the app was waiting on when it was closed or killed: the local server went with it.
LOCAL_STOPPED = "the local preview stopped with the app — Retry renders it again, free"

# Codes the services and the local server put into messages, in the words a person reads.
CODE_WORDS = {
    "task_not_found": "the service does not know this task",
    "shot_text_too_long": "a shot's text is too long",
    "shot_text_empty": "a shot has no text",
    "shot_duration_invalid": "a shot is too short",
    "invalid_duration": "the shots do not add up to the clip's length",
    "prompt_too_long": "the prompt is too long",
    "invalid_request_error": "the request was refused",
    "needs_attention": "needs attention",
    "backend_unavailable": "the backend cannot be reached",
    "link_expired": "the download link expired",
    "no_answer": "no answer from the service",
    "no_video": "no video offered",
    "internal_error": "an unexpected error",
}
_LEADING_CODE = re.compile(r"^\s*[a-z][a-z0-9]*(?:_[a-z0-9]+)+\s*:\s*")
_ANY_CODE = re.compile(r"\b(" + "|".join(sorted(CODE_WORDS, key=len, reverse=True)) + r")\b")

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


def is_local(job: JobRecord) -> bool:
    return job.backend == LOCAL_BACKEND


def plain_words(text: str | None) -> str:
    """A message without the machine codes servers prefix or embed (``shot_text_too_long: …``)."""
    if not text:
        return ""
    text = _LEADING_CODE.sub("", text.strip())
    text = _ANY_CODE.sub(lambda m: CODE_WORDS[m.group(1)], text)
    return text[:1].upper() + text[1:]


def local_preview_lost(job: JobRecord) -> bool:
    """A local job whose server went away with the app (a restarted one does not know the task)."""
    return (
        is_local(job)
        and job.error_code == "task_not_found"
        and job.state in (JobState.FAILED, JobState.NEEDS_ATTENTION)
    )


def state_text(job: JobRecord) -> str:
    """The State column's words: the state, or what happened when that needs saying in the row."""
    if local_preview_lost(job):
        return "Interrupted"
    return job.state.label


def title_text(job: JobRecord) -> str:
    """The Title cell: the title, and on a second line what happened when the row must say it
    in full (the State column is too narrow for a sentence)."""
    title = job.title or "Untitled"
    if local_preview_lost(job):
        return f"{title}\n{LOCAL_STOPPED[:1].upper()}{LOCAL_STOPPED[1:]}"
    return title


def state_tooltip(job: JobRecord) -> str:
    if local_preview_lost(job):
        return (
            f"Interrupted: {LOCAL_STOPPED}.\nThe app was closed while the local server rendered this preview; "
            "the server stopped with it and the video was never made."
        )
    if job.error_message:
        return f"{job.state.label}: {plain_words(job.error_message)}"
    if job.remote_status:
        return f"{job.state.label} (the service says “{plain_words(job.remote_status)}”)"
    return job.state.label


def cost_text(job: JobRecord) -> str:
    if is_local(job):
        return LOCAL_COST
    if job.actual_cost_usd is not None:
        return f"${job.actual_cost_usd:.2f}"
    if job.estimated_cost_usd is not None:
        return f"~${job.estimated_cost_usd:.2f}"
    return "—"


def spent_usd(job: JobRecord) -> float:
    """Dollars a job counts as spent: done jobs on a paid backend only."""
    if job.state is not JobState.DONE or is_local(job):
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
    parts = ["1 job in flight" if in_flight == 1 else f"{in_flight} jobs in flight"]
    if is_local:
        # Local previews are free: say so in the figure itself, and show paid spend only if there was some.
        parts.append(f"${today:.2f} spent today" if today else f"{LOCAL_COST} spent today")
        if project_path is not None and in_project:
            parts.append(f"${in_project:.2f} in this project")
        parts.append(f"new jobs: {LOCAL_COST}")
        return " · ".join(parts)
    parts.append(f"${today:.2f} spent today")
    if project_path is not None:
        parts.append(f"${in_project:.2f} in this project")
    return " · ".join(parts)


def retry_cost_question(job: JobRecord) -> str:
    """What a paid retry will cost, asked before it is sent: "Retry will cost about $0.56 (5 s at 720p). Retry?"."""
    cost = job_cost(job)
    what = f"{job.duration} s at {job.resolution}"
    if cost is None:
        return f"Retry will be billed by the service ({what}). Retry?"
    return f"Retry will cost about ${cost:.2f} ({what}). Retry?"

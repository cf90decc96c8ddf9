"""Which take stands for a segment: a job's segment, a segment's latest done take, its video.

Light on purpose (no engine, HTTP or FFmpeg imports): the segment strip calls these while the
window is built, before its first paint; the sequence runner and assembly use the same ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.domain.project_file import SEQUENCE_JOB_KEY
from kling_studio.domain.sequence import SequenceProject

SEQUENCE_TAG = SEQUENCE_JOB_KEY


def job_tag(job: JobRecord) -> dict[str, Any] | None:
    tag = job.storyboard.get(SEQUENCE_TAG)
    return tag if isinstance(tag, dict) else None


def segment_of(job: JobRecord, project_path: str) -> int | None:
    """The 1-based segment a job was made for (a plain storyboard job of the project: 1)."""
    if job.project_path != project_path:
        return None
    tag = job_tag(job)
    if tag is None:
        return 1
    segment = tag.get("segment")
    return segment if isinstance(segment, int) else None


def latest_done_take(jobs: list[JobRecord], project_path: str, segment: int) -> JobRecord | None:
    done = [
        j
        for j in jobs
        if segment_of(j, project_path) == segment
        and j.state == JobState.DONE
        and j.video_path
        and Path(j.video_path).is_file()
    ]
    return max(done, key=lambda j: j.finished_at or j.updated_at, default=None)


def segment_video(project: SequenceProject, project_path: str, index: int, jobs: list[JobRecord]) -> str | None:
    """The take a segment (0-based ``index``) stands for in the film: its pick while the file
    exists, else its latest done take; None when it has none (what assembly and a strip show)."""
    pick = project.segments[index].pick
    if pick and Path(pick).is_file():
        return pick
    take = latest_done_take(jobs, project_path, index + 1)
    return take.video_path if take is not None else None

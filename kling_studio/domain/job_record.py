"""What the rest of the app knows about one generation job, and the events the engine publishes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kling_studio.domain.jobs import JobState

# Event kinds published by the job engine.
EVENT_CREATED = "created"
EVENT_STATE = "state"
EVENT_PROGRESS = "progress"
EVENT_FINISHED = "finished"
EVENT_UPDATED = "updated"  # other fields changed (star, rejection, title...)
EVENT_REMOVED = "removed"


@dataclass(frozen=True)
class JobRecord:
    """A snapshot of one job row. Immutable: the engine publishes a new record on each change."""

    id: str
    idempotency_key: str
    title: str
    project_path: str | None
    backend: str  # base URL, or "local"
    state: JobState
    mode: str  # text-to-video | image-to-video
    duration: int
    resolution: str
    request: dict[str, Any]
    storyboard: dict[str, Any]  # project-file snapshot (absolute paths)
    created_at: float
    updated_at: float
    task_id: str | None = None
    remote_status: str | None = None
    progress: int = 0
    estimated_time: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    estimated_cost_usd: float | None = None
    actual_cost_usd: float | None = None
    result_urls: tuple[str, ...] = ()
    expires_at: float | None = None
    video_path: str | None = None
    sidecar_path: str | None = None
    submit_attempts: int = 0
    poll_count: int = 0
    download_attempts: int = 0
    submitted_at: float | None = None
    finished_at: float | None = None
    starred: bool = False
    rejected: bool = False
    transitions: tuple[tuple[str, float], ...] = field(default=())  # (state, unix time) history

    @property
    def is_terminal(self) -> bool:
        return self.state.is_terminal

    @property
    def shot_starts(self) -> list[int]:
        """Planned shot start seconds, from the storyboard snapshot."""
        starts: list[int] = []
        t = 0
        for shot in self.storyboard.get("shots", []):
            starts.append(t)
            d = shot.get("duration", 0)
            t += d if isinstance(d, int) else 0
        return starts


@dataclass(frozen=True)
class JobEvent:
    kind: str
    job: JobRecord
    previous_state: JobState | None = None

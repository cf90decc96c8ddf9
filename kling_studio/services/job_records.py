"""The engine's jobs in memory: the unfinished ones, plus any finished one somebody asked for.

History does not grow the engine: at start only jobs that can still change are read (to resume
them); a finished job is read from the store the first time it is looked up (``get``, ``[]``,
``in``) — a retry, a star, a removal — and kept from then on. Lists of every job come from the
store (``JobStore.summaries``), never from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kling_studio.domain.job_record import JobRecord

if TYPE_CHECKING:
    from kling_studio.services.job_store import JobStore


class JobRecords(dict[str, JobRecord]):
    """A dict of job id → record that reads a missing job from the store on first use."""

    def __init__(self, store: JobStore) -> None:
        super().__init__()
        self._store = store

    def __missing__(self, job_id: str) -> JobRecord:
        record = self._store.get(job_id)
        if record is None:
            raise KeyError(job_id)
        self[job_id] = record
        return record

    def get(self, job_id: str, default: JobRecord | None = None) -> JobRecord | None:  # type: ignore[override]
        try:
            return self[job_id]
        except KeyError:
            return default

    def __contains__(self, job_id: object) -> bool:
        return isinstance(job_id, str) and self.get(job_id) is not None

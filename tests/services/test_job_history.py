"""A long history stays on disk: the engine keeps only unfinished jobs in memory, lists read light
records from the store, and a finished job is read whole the moment someone acts on it."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from kling_studio.domain.jobs import JobState
from kling_studio.domain.project_file import SEQUENCE_JOB_KEY
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.job_store import JobStore
from kling_studio.services.job_summary import is_summary
from kling_studio.services.settings import AppSettings
from kling_studio.ui.queue_demo import make_job

S = JobState
# What a job table shows: these must be the same in a summary as in the whole record.
SHOWN = [
    "id",
    "title",
    "project_path",
    "backend",
    "state",
    "mode",
    "duration",
    "resolution",
    "created_at",
    "updated_at",
    "task_id",
    "remote_status",
    "progress",
    "estimated_time",
    "error_code",
    "error_message",
    "estimated_cost_usd",
    "actual_cost_usd",
    "expires_at",
    "video_path",
    "submitted_at",
    "finished_at",
    "starred",
    "rejected",
]


def fill(path: Path, count: int) -> JobStore:
    store = JobStore(path)
    base = time.time() - count * 60
    for i in range(count):
        done = i % 3 != 2
        store.insert(
            make_job(
                f"Take {i}",
                state=S.DONE if done else S.FAILED,
                job_id=f"hist-{i:03d}",
                created_at=base + i * 60,
                project_path="/projects/harbour.kling.json" if i % 2 else None,
                video_path=f"/videos/take-{i}.mp4" if done else None,
                actual_cost_usd=0.56 if done else None,
                error_message=None if done else "The service said the task failed.",
                starred=i == 4,
            )
        )
    return store


def test_summaries_hold_what_a_table_shows_and_only_the_sequence_tag_of_the_storyboard(tmp_path: Path) -> None:
    store = fill(tmp_path / "jobs.sqlite3", 6)
    tagged = make_job("Film, segment 2", job_id="seq-1", created_at=time.time())
    tagged = dataclasses.replace(tagged, storyboard={**tagged.storyboard, SEQUENCE_JOB_KEY: {"segment": 2, "take": 1}})
    store.insert(tagged)

    summaries = store.summaries()
    assert [s.id for s in summaries] == [j.id for j in store.all()]  # same rows, oldest first
    for summary in summaries:
        full = store.get(summary.id)
        assert full is not None and is_summary(summary) and not is_summary(full)
        assert {n: getattr(summary, n) for n in SHOWN} == {n: getattr(full, n) for n in SHOWN}
        assert summary.transitions == () and summary.result_urls == ()
    assert summaries[-1].storyboard == {SEQUENCE_JOB_KEY: {"segment": 2, "take": 1}}
    assert summaries[0].storyboard == {} and summaries[0].request == {}
    store.close()


async def test_the_engine_keeps_only_unfinished_jobs_and_reads_a_finished_one_when_asked(tmp_path: Path) -> None:
    store = fill(tmp_path / "jobs.sqlite3", 9)
    waiting = make_job("Still waiting", state=S.NEEDS_ATTENTION, job_id="attn-1", created_at=time.time())
    store.insert(waiting)
    engine = JobEngine(AppSettings(library_dir=str(tmp_path / "library")), store=store, api_key=None)
    await engine.start(resume=False)
    try:
        assert set(dict(engine.core.records)) == {"attn-1"}  # history stays on disk

        listed = engine.job_summaries()
        assert (
            [j.id for j in listed] == [j.id for j in engine.jobs()] == [*(f"hist-{i:03d}" for i in range(9)), "attn-1"]
        )
        assert is_summary(listed[0]) and not is_summary(listed[-1])  # what is in memory is listed whole

        full = engine.get("hist-004")
        assert full is not None and full.storyboard["title"] == "Take 4" and full.request
        assert engine.get("no-such-job") is None

        await engine.set_flags("hist-001", starred=True)  # a finished job changes through the same path
        assert engine.get("hist-001").starred  # type: ignore[union-attr]
        assert next(j for j in engine.job_summaries() if j.id == "hist-001").starred

        await engine.remove("hist-002")
        assert engine.get("hist-002") is None
        assert "hist-002" not in [j.id for j in engine.job_summaries()]
    finally:
        await engine.stop()
    reopened = JobStore(tmp_path / "jobs.sqlite3")
    assert reopened.get("hist-001").starred and reopened.get("hist-002") is None  # type: ignore[union-attr]
    reopened.close()
    store.close()

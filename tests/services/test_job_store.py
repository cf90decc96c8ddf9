"""The job store: every field survives a round trip, writes are committed, schemas are versioned."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.services.job_store import SCHEMA_VERSION, JobStore, JobStoreError


def _record(job_id: str = "a" * 32, **changes: object) -> JobRecord:
    base = JobRecord(
        id=job_id,
        idempotency_key=f"key-{job_id}",
        title="Rain on the window",
        project_path="/projects/rain.kling.json",
        backend="local",
        state=JobState.QUEUED,
        mode="text-to-video",
        duration=6,
        resolution="720p",
        request={"model": "kling-3.0-turbo", "prompt": "shot 1, 3, rain; shot 2, 3, window;", "duration": 6},
        storyboard={"schema": 1, "title": "Rain on the window", "shots": [{"text": "rain", "duration": 3}]},
        created_at=1_700_000_000.5,
        updated_at=1_700_000_000.5,
        transitions=(("queued", 1_700_000_000.5),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_every_field_round_trips(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    full = _record(
        state=JobState.DONE,
        task_id="task_01",
        remote_status="completed",
        progress=100,
        estimated_time=42.5,
        error_code="x",
        error_message="y",
        estimated_cost_usd=0.672,
        actual_cost_usd=0.5,
        result_urls=("https://cdn/a.mp4", "https://cdn/b.mp4"),
        expires_at=1_700_086_400.0,
        video_path="/lib/a.mp4",
        sidecar_path="/lib/a.json",
        submit_attempts=2,
        poll_count=7,
        download_attempts=1,
        submitted_at=1_700_000_001.0,
        finished_at=1_700_000_100.0,
        starred=True,
        rejected=True,
        transitions=(("queued", 1.0), ("submitting", 2.0), ("done", 3.0)),
    )
    store.insert(full, out_dir="/out")
    store.close()

    reopened = JobStore(tmp_path / "jobs.sqlite3")
    assert reopened.get(full.id) == full
    assert reopened.out_dir(full.id) == "/out"
    reopened.close()


def test_save_replaces_and_unfinished_excludes_terminal(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    a, b, c = _record("a" * 32), _record("b" * 32, created_at=2e9), _record("c" * 32, created_at=3e9)
    for r in (a, b, c):
        store.insert(r)
    for state in (JobState.SUBMITTING, JobState.SUBMITTED, JobState.DOWNLOADING, JobState.DONE):
        store.save(replace(a, state=state))
    store.save(replace(c, state=JobState.NEEDS_ATTENTION, error_message="check"))
    assert [r.id for r in store.all()] == [a.id, b.id, c.id]
    assert [r.id for r in store.unfinished()] == [b.id, c.id]
    store.delete(b.id)
    assert store.get(b.id) is None
    with pytest.raises(KeyError):
        store.save(b)
    store.close()


def test_idempotency_keys_are_unique(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.insert(_record("a" * 32))
    with pytest.raises(sqlite3.IntegrityError):
        store.insert(replace(_record("b" * 32), idempotency_key="key-" + "a" * 32))
    store.close()


def test_wal_schema_version_and_integrity(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    store = JobStore(path)
    store.insert(_record())
    assert store.schema_version == SCHEMA_VERSION
    assert store.integrity_check() == "ok"
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {row[1] for row in db.execute("PRAGMA index_list(jobs)")}
    assert {"jobs_state", "jobs_project"} <= indexes
    db.close()


def test_a_newer_schema_is_refused_not_damaged(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(JobStoreError, match="newer Kling Studio"):
        JobStore(path)


def test_final_status_is_kept_beside_the_record(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.insert(_record())
    assert store.final_status("a" * 32) is None
    store.set_final_status("a" * 32, {"code": 200, "data": {"status": "completed"}})
    assert store.final_status("a" * 32) == {"code": 200, "data": {"status": "completed"}}
    store.close()

"""The engine against the real local server over loopback: the happy paths and their records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from kling_studio.domain.job_record import EVENT_CREATED, EVENT_FINISHED, EVENT_STATE, JobEvent
from kling_studio.domain.jobs import JobState
from kling_studio.services.engine_api import JobEngineAPI
from kling_studio.services.job_engine import LOCAL_LABEL, JobEngine, StoryboardRefused
from kling_studio.services.settings import AppSettings
from tests.services.test_engine_support import (
    exists,
    file_head,
    local_server,
    make_engine,
    read_text,
    store_bytes,
    storyboard,
    wait_done,
)

S = JobState


async def test_a_job_goes_from_queued_to_done_with_mp4_sidecar_and_events(tmp_path: Path) -> None:
    events: list[JobEvent] = []
    with local_server() as server:
        engine = make_engine(server.base_url, tmp_path)
        engine.subscribe(events.append)
        await engine.start()
        try:
            project = tmp_path / "Rainy Night.kling.json"
            job = await engine.submit_storyboard(storyboard(), project_path=str(project))
            assert job.state == S.QUEUED
            assert engine.get(job.id) is not None
            (done,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
        assert server.state.tasks_created_by_key == {job.idempotency_key: 1}

    assert done.state == S.DONE
    assert done.task_id and done.progress == 100 and done.error_message is None
    video = Path(done.video_path or "")
    assert video.parent == tmp_path / "library" / "Rainy Night"
    assert re.fullmatch(r"\d{8}-\d{6}_" + done.id[:8] + r"\.mp4", video.name)
    assert file_head(video)[4:8] == b"ftyp"
    sidecar = json.loads(read_text(done.sidecar_path))
    assert sidecar["request"] == done.request
    assert sidecar["final_status"]["data"]["status"] == "completed"
    assert sidecar["task_id"] == done.task_id
    assert sidecar["timings"]["finished_at"] == done.finished_at
    assert "cost" in sidecar

    states = [e.job.state for e in events if e.kind == EVENT_STATE]
    assert events[0].kind == EVENT_CREATED
    assert states[0] == S.SUBMITTING and states[1] == S.SUBMITTED and states[-2:] == [S.DOWNLOADING, S.DONE]
    assert events[-1].kind == EVENT_FINISHED and events[-1].previous_state == S.DOWNLOADING
    assert [t[0] for t in done.transitions][:3] == ["queued", "submitting", "submitted"]


async def test_the_engine_satisfies_the_ui_protocol(tmp_path: Path) -> None:
    engine: JobEngineAPI = JobEngine(AppSettings(), api_key=None)
    assert engine.is_local and engine.backend_label == LOCAL_LABEL
    await engine.stop()


async def test_an_invalid_storyboard_is_refused_with_the_compiler_messages(tmp_path: Path) -> None:
    engine = make_engine("http://127.0.0.1:9", tmp_path)
    await engine.start()
    try:
        bad = storyboard(seconds=30)
        with pytest.raises(StoryboardRefused) as caught:
            await engine.submit_storyboard(bad)
        assert any(d.code == "total_duration_out_of_range" for d in caught.value.errors)
        assert engine.jobs() == []
    finally:
        await engine.stop()


async def test_slots_cap_tasks_in_flight_and_queued_jobs_start_in_order(tmp_path: Path) -> None:
    in_flight: set[str] = set()
    peak = 0
    order: list[str] = []

    def watch(event: JobEvent) -> None:
        nonlocal peak
        if event.job.state.is_active:
            in_flight.add(event.job.id)
        else:
            in_flight.discard(event.job.id)
        peak = max(peak, len(in_flight))
        if event.kind == EVENT_STATE and event.job.state == S.SUBMITTING:
            order.append(event.job.id)

    with local_server(task_seconds=0.3) as server:
        engine = make_engine(server.base_url, tmp_path, concurrency=2)
        engine.subscribe(watch)
        await engine.start()
        try:
            ids = [(await engine.submit_storyboard(storyboard(f"Job {n}"))).id for n in range(5)]
            records = await wait_done(engine, ids)
        finally:
            await engine.stop()
    assert all(r.state == S.DONE for r in records)
    assert peak == 2
    assert order == ids


async def test_image_to_video_uploads_the_first_frame_and_stores_the_url(tmp_path: Path) -> None:
    picture = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (30, 60, 90)).save(picture)
    with local_server() as server:
        base_url = server.base_url
        engine = make_engine(base_url, tmp_path)
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard(first_frame=str(picture)))
            assert job.request["first_frame_image"] == str(picture)
            (done,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
    assert done.state == S.DONE
    assert done.request["first_frame_image"].startswith(base_url + "/")


async def test_inline_images_setting_sends_a_data_uri(tmp_path: Path) -> None:
    picture = tmp_path / "frame.jpg"
    Image.new("RGB", (400, 400), (200, 10, 10)).save(picture, "JPEG")
    with local_server() as server:
        engine = make_engine(server.base_url, tmp_path, inline_images=True)
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard(first_frame=str(picture)))
            (done,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
    assert done.state == S.DONE
    assert done.request["first_frame_image"].startswith("data:image/jpeg;base64,")


async def test_the_api_key_never_reaches_the_store_or_the_sidecar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-unit-test-4b1d2c3e9f"
    monkeypatch.setenv("KLING_STUDIO_API_KEY", secret)
    with local_server() as server:
        engine = make_engine(server.base_url, tmp_path)
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard())
            (done,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
    assert done.state == S.DONE
    stored = store_bytes(engine.paths.data_dir)
    assert stored and secret.encode() not in stored
    assert secret not in read_text(done.sidecar_path)


async def test_a_failing_listener_does_not_stop_the_job(tmp_path: Path) -> None:
    def broken(event: JobEvent) -> None:
        raise RuntimeError("listener bug")

    with local_server() as server:
        engine = make_engine(server.base_url, tmp_path)
        engine.subscribe(broken)
        seen: list[str] = []
        unsubscribe = engine.subscribe(lambda e: seen.append(e.kind))
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard())
            (done,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
        unsubscribe()
    assert done.state == S.DONE
    assert EVENT_FINISHED in seen


async def test_flags_retry_and_remove(tmp_path: Path) -> None:
    with local_server() as server:
        engine = make_engine(server.base_url, tmp_path)
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard())
            (done,) = await wait_done(engine, [job.id])
            await engine.set_flags(job.id, starred=True)
            assert engine.get(job.id) is not None and engine.get(job.id).starred  # type: ignore[union-attr]
            again = await engine.retry(job.id)
            assert again.id != job.id and again.idempotency_key != job.idempotency_key
            assert again.request["prompt"] == job.request["prompt"]
            (second,) = await wait_done(engine, [again.id])
            assert second.state == S.DONE and second.video_path != done.video_path
            await engine.remove(job.id, delete_files=True)
            assert engine.get(job.id) is None and not exists(done.video_path)
        finally:
            await engine.stop()
        assert len(server.state.created_tasks) == 2

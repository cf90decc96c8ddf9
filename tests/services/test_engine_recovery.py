"""When things go wrong: unknown submit outcomes, restarts, silence, full disks, expiry, cancel."""

from __future__ import annotations

import errno
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from kling_studio.domain.job_record import EVENT_STATE, JobEvent
from kling_studio.domain.jobs import JobState
from kling_studio.services.api_client import KlingClient
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.settings import AppSettings
from tests.services.test_engine_support import (
    FAST_POLL,
    FAST_RETRY,
    local_server,
    make_engine,
    storyboard,
    wait_done,
    wait_until,
)

S = JobState


async def test_an_unknown_submit_outcome_needs_attention_and_check_again_never_duplicates(tmp_path: Path) -> None:
    with local_server(faults="500=1@submit") as server:
        engine = make_engine(server.base_url, tmp_path)
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard())
            (stuck,) = await wait_done(engine, [job.id])
            assert stuck.state == S.NEEDS_ATTENTION
            assert stuck.task_id is None and "idempotency key" in (stuck.error_message or "")
            await engine.check_again(job.id)
            (done,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
        assert done.state == S.DONE and done.submit_attempts == 2
        assert server.state.tasks_created_by_key == {job.idempotency_key: 1}


async def test_a_reset_after_the_task_was_created_is_replayed_with_the_same_key(tmp_path: Path) -> None:
    with local_server(faults="reset=1@submit") as server:
        engine = make_engine(server.base_url, tmp_path)
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard())
            (done,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
        assert done.state == S.DONE
        assert server.state.submissions_by_key[job.idempotency_key] == 2
        assert server.state.tasks_created_by_key == {job.idempotency_key: 1}


async def test_a_restarted_engine_resumes_polling_and_downloads(tmp_path: Path) -> None:
    with local_server(task_seconds=1.5) as server:
        first = make_engine(server.base_url, tmp_path)
        await first.start()
        job = await first.submit_storyboard(storyboard())
        await wait_until(first, job.id, lambda j: j.task_id is not None)
        await first.stop()
        assert first.get(job.id) is not None and not first.get(job.id).is_terminal  # type: ignore[union-attr]

        second = make_engine(server.base_url, tmp_path)
        await second.start()
        try:
            (done,) = await wait_done(second, [job.id])
        finally:
            await second.stop()
        assert done.state == S.DONE
        assert server.state.tasks_created_by_key == {job.idempotency_key: 1}


async def test_a_job_left_submitting_is_resent_with_its_key_and_the_service_replays(tmp_path: Path) -> None:
    with local_server() as server:
        first = make_engine(server.base_url, tmp_path)
        job = await first.submit_storyboard(storyboard())  # not started: written down, never sent
        await first.stop()
        # The crash happened after the request reached the service, before the task id was stored.
        client = KlingClient("k", server.base_url, retry=FAST_RETRY)
        await client.submit(job.request, job.idempotency_key)
        await client.aclose()
        store = make_engine(server.base_url, tmp_path).store
        store.save(replace(job, state=S.SUBMITTING, submit_attempts=1))
        store.close()

        second = make_engine(server.base_url, tmp_path)
        await second.start()
        try:
            (done,) = await wait_done(second, [job.id])
        finally:
            await second.stop()
        assert done.state == S.DONE
        assert server.state.submissions_by_key[job.idempotency_key] == 2
        assert server.state.tasks_created_by_key == {job.idempotency_key: 1}


async def test_long_silence_needs_attention_then_check_again_resumes(tmp_path: Path) -> None:
    policy = replace(FAST_POLL, silence_limit=0.3)
    with local_server() as server:
        engine = make_engine(server.base_url, tmp_path, poll_policy=policy)
        await engine.start()
        try:
            server.set_faults("500=1.0@status")
            job = await engine.submit_storyboard(storyboard())
            (stuck,) = await wait_done(engine, [job.id])
            assert stuck.state == S.NEEDS_ATTENTION and stuck.error_code == "no_answer"
            server.set_faults(None)
            await engine.check_again(job.id)
            (done,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
    assert done.state == S.DONE


async def test_a_remote_failure_is_failed_and_not_billed(tmp_path: Path) -> None:
    with local_server(faults="fail=1") as server:
        engine = make_engine(server.base_url, tmp_path)
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard())
            (failed,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
    assert failed.state == S.FAILED
    assert failed.error_message and failed.actual_cost_usd == 0.0


class _FullDiskClient(KlingClient):
    """The real client, but the disk is full for the first two downloads."""

    failures = 0

    async def download(self, url: str, dest: Path, on_progress: Any = None, **kwargs: Any) -> Path:
        if _FullDiskClient.failures < 2:
            _FullDiskClient.failures += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return await super().download(url, dest, on_progress, **kwargs)


async def test_a_full_disk_is_reported_and_retried_until_saved(tmp_path: Path) -> None:
    messages: list[str] = []

    def watch(event: JobEvent) -> None:
        if event.kind == EVENT_STATE and event.job.state == S.NEEDS_ATTENTION:
            messages.append(event.job.error_message or "")

    with local_server() as server:
        engine = make_engine(
            server.base_url, tmp_path, client_factory=lambda url, key: _FullDiskClient(key, url, retry=FAST_RETRY)
        )
        engine.subscribe(watch)
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard())
            (done,) = await wait_until(engine, job.id, lambda j: j.state == S.DONE)
        finally:
            await engine.stop()
    assert len(messages) == 2 and all(m.startswith("disk full") for m in messages)
    assert done.download_attempts == 3 and done.error_message is None


async def test_a_link_that_expired_before_download_makes_the_job_expired(tmp_path: Path) -> None:
    with local_server(faults="expire=1") as server:
        # The engine's clock runs a minute ahead: the one-second link is already dead when seen.
        engine = make_engine(server.base_url, tmp_path, clock=lambda: time.time() + 60.0)
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard())
            (expired,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
    assert expired.state == S.EXPIRED and expired.video_path is None


async def test_cancel_frees_the_slot_and_warns_about_billing(tmp_path: Path) -> None:
    with local_server(task_seconds=30.0) as server:
        engine = make_engine(server.base_url, tmp_path, concurrency=1)
        await engine.start()
        try:
            first = await engine.submit_storyboard(storyboard("Long"))
            second = await engine.submit_storyboard(storyboard("Next"))
            await wait_until(engine, first.id, lambda j: j.task_id is not None)
            assert engine.get(second.id).state == S.QUEUED  # type: ignore[union-attr]
            await engine.cancel(first.id)
            cancelled = engine.get(first.id)
            assert cancelled is not None and cancelled.state == S.CANCELLED
            assert "bill" in (cancelled.error_message or "")
            await wait_until(engine, second.id, lambda j: j.task_id is not None)
            await engine.cancel(second.id)
        finally:
            await engine.stop()


async def test_a_local_job_unknown_after_restart_fails_for_good_and_new_jobs_run_locally(tmp_path: Path) -> None:
    engine = JobEngine(
        AppSettings(backend="local", task_seconds=0.2, library_dir=str(tmp_path / "library")),
        poll_policy=FAST_POLL,
        client_factory=lambda url, key: KlingClient(key, url, retry=FAST_RETRY),
    )
    assert engine.is_local
    ghost = await engine.submit_storyboard(storyboard("Ghost"))  # not started yet: only written down
    engine.core.update(ghost.id, state=S.SUBMITTING)
    engine.core.update(ghost.id, state=S.SUBMITTED, task_id="task_from_a_dead_server")
    await engine.start()
    try:
        job = await engine.submit_storyboard(storyboard("Fresh"))
        ghost_now, done = await wait_done(engine, [ghost.id, job.id])
    finally:
        await engine.stop()
    assert done.state == S.DONE and done.backend == "local" and done.actual_cost_usd == 0.0
    assert ghost_now.state == S.FAILED and ghost_now.error_code == "task_not_found"
    assert "local preview server was restarted" in (ghost_now.error_message or "")


async def test_an_unknown_task_id_is_a_permanent_error_never_resubmitted(tmp_path: Path) -> None:
    with local_server() as server:
        engine = make_engine(server.base_url, tmp_path)
        job = await engine.submit_storyboard(storyboard())  # written down, not started
        engine.core.update(job.id, state=S.SUBMITTING)
        engine.core.update(job.id, state=S.SUBMITTED, task_id="task_the_service_never_heard_of")
        await engine.start()
        try:
            (gone,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
        assert gone.state == S.FAILED and gone.error_code == "task_not_found"
        assert gone.task_id == "task_the_service_never_heard_of"
        assert server.state.submissions_by_key == {}  # 404 never leads to a new submit


def _fast_forward_clock(step: float) -> Any:
    """An engine clock that jumps ``step`` seconds on every reading: hours pass in a moment."""
    offset = [0.0]

    def clock() -> float:
        offset[0] += step
        return time.time() + offset[0]

    return clock


async def test_no_deadline_a_task_far_past_its_estimate_is_polled_until_done(tmp_path: Path) -> None:
    with local_server(task_seconds=1.0) as server:
        # Each clock reading is five minutes later: the task "runs" for hours past its 1 s estimate.
        engine = make_engine(server.base_url, tmp_path, clock=_fast_forward_clock(300.0))
        await engine.start()
        try:
            job = await engine.submit_storyboard(storyboard())
            (done,) = await wait_done(engine, [job.id])
        finally:
            await engine.stop()
    assert done.state == S.DONE, done.error_message
    assert done.finished_at is not None and done.submitted_at is not None
    assert done.finished_at - done.submitted_at > 3600.0


async def test_a_restart_resumes_a_download_that_was_waiting_out_a_full_disk(tmp_path: Path) -> None:
    with local_server() as server:
        first = make_engine(server.base_url, tmp_path)
        await first.start()
        job = await first.submit_storyboard(storyboard())
        await wait_until(first, job.id, lambda j: j.state == S.DOWNLOADING)
        await first.stop()
        # The app stopped while a failed download waited for its next try.
        store = make_engine(server.base_url, tmp_path).store
        waiting = store.get(job.id)
        assert waiting is not None and waiting.result_urls
        store.save(replace(waiting, state=S.NEEDS_ATTENTION, error_code="disk_full", video_path=None))
        store.close()

        second = make_engine(server.base_url, tmp_path)
        await second.start()
        try:
            (done,) = await wait_until(second, job.id, lambda j: j.state == S.DONE)
        finally:
            await second.stop()
    assert done.video_path and done.error_code is None
    assert server.state.tasks_created_by_key == {job.idempotency_key: 1}


async def test_check_again_waits_for_a_free_slot_before_re_sending(tmp_path: Path) -> None:
    in_flight: list[int] = []

    def watch(event: JobEvent) -> None:
        in_flight.append(sum(1 for j in engine.jobs() if j.state.is_active))

    with local_server(task_seconds=1.0, faults="500=1@submit") as server:
        engine = make_engine(server.base_url, tmp_path, concurrency=1)
        engine.subscribe(watch)
        await engine.start()
        try:
            unknown = await engine.submit_storyboard(storyboard("Unknown"))
            await wait_done(engine, [unknown.id])
            running = await engine.submit_storyboard(storyboard("Running"))
            await wait_until(engine, running.id, lambda j: j.task_id is not None)
            await engine.check_again(unknown.id)
            waiting = engine.get(unknown.id)
            assert waiting is not None and waiting.state == S.NEEDS_ATTENTION and waiting.submit_attempts == 1
            first, second = await wait_done(engine, [unknown.id, running.id])
        finally:
            await engine.stop()
        assert first.state == S.DONE and second.state == S.DONE
        assert server.state.tasks_created_by_key == {unknown.idempotency_key: 1, running.idempotency_key: 1}
    assert max(in_flight) == 1

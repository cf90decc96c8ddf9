"""The engine's loop never waits on the disk, and still keeps the write-ahead promise.

Store writes go through one writer thread (``services.store_writer``) in batched transactions;
what the loop must not act on before it is on disk — the job and its idempotency key before the
submit, the task id before the first poll — is read back here from a second sqlite connection,
which only sees committed rows, at the moment the request reaches the (mock) service.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from kling_studio.domain.job_record import EVENT_STATE, JobEvent, JobRecord
from kling_studio.domain.jobs import InvalidTransition, JobState
from kling_studio.services.api_client import KlingClient
from kling_studio.services.job_store import JobStore, StoreOp, encode_record
from kling_studio.services.polling import PollScheduler
from kling_studio.services.store_writer import StoreWriter
from tests.services.test_engine_support import FAST_RETRY, make_engine, storyboard, wait_done
from tests.services.test_job_store import _record

S = JobState
TASK = "task_WRITE_AHEAD"


def _committed(path: Path) -> list[Any]:
    reader = JobStore(path, read_only=True)  # another connection: sees committed rows only
    try:
        return reader.all()
    finally:
        reader.close()


async def test_the_job_and_its_key_are_committed_before_the_submit_and_the_task_id_before_the_first_poll(
    tmp_path: Path,
) -> None:
    seen: dict[str, Any] = {}
    store_path: list[Path] = []

    def handler(request: httpx.Request) -> httpx.Response:
        rows = _committed(store_path[0])
        if request.method == "POST":
            key = request.headers["Idempotency-Key"]
            seen["at submit"] = [(r.idempotency_key == key, r.state, r.submit_attempts, r.task_id) for r in rows]
            return httpx.Response(200, json={"code": 200, "data": [{"status": "submitted", "task_id": TASK}]})
        seen.setdefault("at first poll", [(r.task_id, r.state) for r in rows])
        failed = {"id": TASK, "status": "failed", "progress": 0, "error": {"message": "no rain today"}}
        return httpx.Response(200, json={"code": 200, "data": failed})

    def factory(url: str, key: str | None) -> KlingClient:
        return KlingClient(key, url, retry=FAST_RETRY, transport=httpx.MockTransport(handler))

    engine = make_engine("http://127.0.0.1:9", tmp_path, client_factory=factory)
    store_path.append(engine.paths.job_store)
    await engine.start()
    try:
        job = await engine.submit_storyboard(storyboard())
        assert [r.id for r in _committed(engine.paths.job_store)] == [job.id]  # on disk when submit returns
        (done,) = await wait_done(engine, [job.id])
    finally:
        await engine.stop()
    assert seen["at submit"] == [(True, S.SUBMITTING, 1, None)]
    assert seen["at first poll"] == [(TASK, S.SUBMITTED)]
    assert done.state == S.FAILED
    on_disk = _committed(engine.paths.job_store)
    assert [(r.state, r.task_id) for r in on_disk] == [(S.FAILED, TASK)]  # stop() drained the writer


async def test_writes_queued_together_commit_together_and_a_forbidden_one_fails_alone(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    writer = StoreWriter(store)
    writer.start()
    try:
        jobs = [_record(f"{n:032x}", idempotency_key=f"key-{n}") for n in range(50)]
        await asyncio.gather(*(writer.submit(_insert(j), durable=True) for j in jobs))
        assert writer.batches < len(jobs)  # group commit: one transaction (and fsync) for many
        # A terminal job cannot go back (checked against the disk inside the transaction); the
        # writes around it in the same batch still commit.
        first, second, third = (j.id for j in jobs[:3])
        outcomes = [
            writer.submit(lambda s: s.update_in_batch(first, {"state": "cancelled"}), durable=True),
            writer.submit(lambda s: s.update_in_batch(first, {"state": "queued"}), durable=True),
            writer.submit(lambda s: s.update_in_batch(second, {"progress": 40}), durable=False),
            writer.submit(lambda s: s.get(third), durable=False),  # reads run after queued writes
        ]
        results = await asyncio.gather(*outcomes, return_exceptions=True)
        assert results[0] is None and isinstance(results[1], InvalidTransition) and results[2] is None
        assert results[3] == jobs[2]
    finally:
        await writer.close()
    by_id = {r.id: r for r in _committed(tmp_path / "jobs.sqlite3")}
    store.close()
    assert len(by_id) == 50
    assert by_id[first].state == S.CANCELLED and by_id[second].progress == 40


async def test_close_commits_what_is_still_queued(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    writer = StoreWriter(store)
    writer.start()
    job = _record()
    writer.submit(_insert(job), durable=True)
    for progress in range(1, 30):
        writer.submit(_set(job.id, progress=progress), durable=False)
    await writer.close()  # nobody awaited those writes: closing still commits them
    store.close()
    assert [r.progress for r in _committed(tmp_path / "jobs.sqlite3")] == [29]


async def test_an_engine_change_the_disk_refuses_is_replaced_by_what_the_disk_holds(tmp_path: Path) -> None:
    # Another writer (say a second engine that should not exist) finished the job on disk; this
    # engine's next change for it is refused inside the transaction and it adopts the stored job.
    def factory(url: str, key: str | None) -> KlingClient:
        return KlingClient(key, url, retry=FAST_RETRY, transport=httpx.MockTransport(lambda r: httpx.Response(503)))

    engine = make_engine("http://127.0.0.1:9", tmp_path, client_factory=factory)
    await engine.start(resume=False)
    events: list[JobEvent] = []
    engine.subscribe(events.append)
    try:
        job = engine.store.get((await engine.submit_storyboard(storyboard())).id)
        assert job is not None
        await engine.wait_for([job.id])  # the 503s leave it needing attention
        other = JobStore(engine.paths.job_store)
        try:
            stored = other.get(job.id)
            assert stored is not None
            other.save(replace(stored, state=S.CANCELLED, error_code="cancelled", error_message="elsewhere"))
        finally:
            other.close()
        with pytest.raises(InvalidTransition):
            await engine.check_again(job.id)  # the engine believes needs_attention; the disk says cancelled
        await engine.wait_for([job.id], lambda r: r.state == S.CANCELLED)
    finally:
        await engine.stop()
    adopted = engine.get(job.id)
    assert adopted is not None and (adopted.state, adopted.error_message) == (S.CANCELLED, "elsewhere")
    assert events[-1].kind == EVENT_STATE and events[-1].job.state == S.CANCELLED
    # Nothing of the refused changes reached the disk either.
    (stored,) = _committed(engine.paths.job_store)
    assert (stored.state, stored.error_message) == (S.CANCELLED, "elsewhere")


async def test_the_poll_scheduler_wakes_jobs_in_due_order_and_a_cancelled_wait_takes_no_turn() -> None:
    scheduler = PollScheduler(rate=1000.0, burst=1.0)
    order: list[str] = []

    async def wait(name: str, delay: float) -> None:
        await scheduler.turn(delay)
        order.append(name)

    late, early, middle = (asyncio.create_task(wait(n, d)) for n, d in (("late", 0.06), ("early", 0.0), ("mid", 0.03)))
    gone = asyncio.create_task(wait("gone", 0.01))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(late, early, middle)
    assert order == ["early", "mid", "late"]
    assert scheduler.acquired == 3 and len(scheduler) == 0


async def test_the_poll_scheduler_holds_the_rate_cap_across_every_job() -> None:
    scheduler = PollScheduler(rate=50.0, burst=2.0)  # 2 at once, then one per 20 ms
    loop = asyncio.get_running_loop()
    started = loop.time()
    woken: list[float] = []

    async def wait() -> None:
        await scheduler.turn(0.0)
        woken.append(loop.time() - started)

    await asyncio.gather(*(wait() for _ in range(6)))
    # Six reads due at once: two pass, the other four are spaced by the cap (≥ 80 ms in all).
    assert scheduler.acquired == 6
    assert max(woken) >= 4 / 50.0 - 0.005


def _insert(record: JobRecord) -> StoreOp:
    columns = encode_record(record)
    return lambda store: store.insert_in_batch(columns, None)


def _set(job_id: str, **columns: Any) -> StoreOp:
    return lambda store: store.update_in_batch(job_id, columns)

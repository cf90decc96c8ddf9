"""Fifty jobs through a misbehaving server: rate limits with Retry-After, 5xx bursts, dropped
connections and truncated downloads. Every job must end done, with one task and a playable MP4.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import av

from kling_studio.domain.jobs import JobState
from tests.services.test_engine_support import local_server, make_engine, storyboard

JOBS = 50
FAULTS = (
    "429=3@submit,503=4@submit,reset=2@submit,"
    "500=0.15@status,502=0.1@status,reset=0.05@status,429=0.05@status,"
    "reset=3@download,500=0.05@download,truncate=0.3,"
    "retry_after=0.05,seed=7"
)


def _playable(path: Path) -> bool:
    with open(path, "rb") as fh:
        if fh.read(8)[4:8] != b"ftyp":
            return False
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        return bool(frame.width and frame.height)


async def test_fifty_jobs_survive_a_fault_storm(tmp_path: Path) -> None:
    with local_server(task_seconds=0.3, faults=FAULTS) as server:
        engine = make_engine(server.base_url, tmp_path, concurrency=10)
        await engine.start()
        try:
            ids = [(await engine.submit_storyboard(storyboard(f"Storm {n:02}"))).id for n in range(JOBS)]
            # A download that ran out of client retries needs attention for a moment, then is retried
            # by itself: wait for terminal states, not just settled ones.
            records = await asyncio.wait_for(engine.wait_for(ids, lambda j: j.is_terminal), 120.0)
        finally:
            await engine.stop()
        created = dict(server.state.tasks_created_by_key)
        requests = dict(server.state.requests_by_route)
    print(f"requests by route: {requests}")

    assert [r.state for r in records] == [JobState.DONE] * JOBS, [r.error_message for r in records]
    assert len(created) == JOBS and set(created.values()) == {1}
    assert {r.idempotency_key for r in records} == set(created)
    videos = [Path(r.video_path or "") for r in records]
    assert len(set(videos)) == JOBS
    assert all(_playable(v) for v in videos)
    assert requests.get("submit", 0) > JOBS  # the faults really fired

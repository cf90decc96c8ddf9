"""200 concurrent jobs through the job engine against the local server (a child process).

Prints the wall time, status requests per job, the longest event-loop stall (a heartbeat task
that wakes every 10 ms, running from before ``engine.start()`` until after ``engine.stop()``;
the issue's floor is 20 ms, its goal 8 ms) and the peak memory of this process. On Linux it
also prints the longest stall less the time the loop's thread waited for a CPU in it (other
processes on a busy machine), which is the engine's own part.
The default polling policy and its global cap of ~5 status requests a second are used as
shipped, so the wall time is mostly that cap: ``--rate`` raises it to see the engine's own cost.

    .venv/bin/python benchmarks/engine_bench.py [--jobs 200 1000] [--task-seconds 1] [--rate 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
from benchlib import report

from kling_studio.domain.jobs import JobState
from kling_studio.domain.storyboard import GenerationSettings, Shot, Storyboard
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.local_backend import LocalBackend
from kling_studio.services.polling import PollPolicy
from kling_studio.services.settings import AppSettings

HEARTBEAT = 0.010
_SCHEDSTAT = Path("/proc/thread-self/schedstat")


def cpu_wait() -> float | None:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux), else None."""
    try:
        return int(_SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


class Heartbeat:
    """Wakes every 10 ms and records how late each wake-up was: the loop's longest stall.

    Beside it, how long the loop's thread waited for a CPU during that beat (the kernel's run
    queue: other processes on a busy machine), so a stall can be told from the engine's own work.
    """

    def __init__(self) -> None:
        self.worst = 0.0
        self.worst_own = 0.0  # the longest stall less the CPU wait in it
        self.beats = 0
        self.stalls: list[tuple[float, float, float]] = []  # (s since start, stall, CPU wait) over 20 ms
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        origin = loop.time()
        while True:
            before = loop.time()
            waited_before = cpu_wait()
            await asyncio.sleep(HEARTBEAT)
            late = loop.time() - before - HEARTBEAT
            waited_after = cpu_wait()
            waited = 0.0 if waited_before is None or waited_after is None else waited_after - waited_before
            self.worst = max(self.worst, late)
            self.worst_own = max(self.worst_own, late - waited)
            if late > 0.020:
                self.stalls.append((before - origin, late, waited))
            self.beats += 1

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def bench(jobs: int, task_seconds: float, rate: float) -> float:
    home = Path(tempfile.mkdtemp(prefix="kling-engine-bench-"))
    os.environ["KLING_STUDIO_HOME"] = str(home)
    os.environ.pop("KLING_STUDIO_API_KEY", None)
    local = LocalBackend(task_seconds=task_seconds)
    base_url = await local.ensure_started()
    settings = AppSettings(backend="local", concurrency=jobs, library_dir=str(home / "library"))
    policy = replace(PollPolicy(), status_rate=rate, status_burst=max(5.0, rate))
    engine = JobEngine(settings, local_backend=local, poll_policy=policy)
    boards = [
        Storyboard(
            title=f"Bench {n:03}",
            shots=(Shot(text=f"take {n}: rain on a window at night", duration=3),),
            settings=GenerationSettings(resolution="720p"),
        )
        for n in range(jobs)
    ]
    heartbeat = Heartbeat()
    heartbeat.start()
    await engine.start()
    started = time.perf_counter()
    try:
        ids = [(await engine.submit_storyboard(b)).id for b in boards]
        records = await engine.wait_for(ids)
        wall = time.perf_counter() - started
        await engine.stop()
        await heartbeat.stop()  # the engine's whole life is measured, start to stop
        # The bench's own client (building its TLS context blocks ~20 ms) is not the engine's.
        async with httpx.AsyncClient() as http:
            stats = (await http.get(f"{base_url}/_local/stats")).json()
    finally:
        await heartbeat.stop()
        await engine.stop()
        await local.stop()
        shutil.rmtree(home, ignore_errors=True)
    done = sum(1 for r in records if r.state == JobState.DONE)
    status_requests = stats["requests_by_route"].get("status", 0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"jobs: {jobs} ({done} done), task {task_seconds:g} s, status cap {rate:g}/s")
    print(f"wall time: {wall:.1f} s")
    print(f"status requests per job: {status_requests / jobs:.2f} (tasks created: {stats['tasks_created']})")
    print(f"longest event-loop stall: {heartbeat.worst * 1000:.1f} ms over {heartbeat.beats} heartbeats")
    if cpu_wait() is not None:
        print(
            f"longest stall less the loop thread's wait for a CPU (run queue): {heartbeat.worst_own * 1000:.1f} ms; "
            f"stalls over 20 ms: {len(heartbeat.stalls)}"
        )
    if os.environ.get("ENGINE_BENCH_VERBOSE"):
        print(
            "stalls over 20 ms (at s, ms, of which CPU wait ms):",
            [(round(t, 1), round(d * 1000), round(w * 1000)) for t, d, w in heartbeat.stalls],
        )
    print(f"peak memory (max RSS of this process): {peak_mb:.0f} MB")
    if done != jobs:
        raise SystemExit(f"only {done} of {jobs} jobs finished")
    return heartbeat.worst * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--task-seconds", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=5.0, help="status requests per second, all jobs")
    args = parser.parse_args()
    for jobs in args.jobs:
        stall = asyncio.run(bench(jobs, args.task_seconds, args.rate))
        report(f"engine, {jobs} jobs: longest event-loop stall", stall, "ms", 20, 8)
    return 0


if __name__ == "__main__":
    sys.exit(main())

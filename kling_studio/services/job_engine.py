"""The job engine: the one place where storyboards become paid tasks and tasks become files.

Qt-free; the GUI and the CLI both drive it through ``JobEngineAPI``. Every job is written to the
store (with its idempotency key) before anything is sent; at most ``settings.concurrency`` tasks
are in flight, the rest wait ``queued`` in order; after a crash ``start()`` carries every
unfinished job on against the backend it was sent to. Runs on one event loop that never waits
on the disk: store writes go to one writer thread (``services.store_writer``, batched, awaited
where the write-ahead promise needs them), other blocking work (image preparation, fsync of
sidecars, file checks) to the engine's own small thread pool, and every job's next status read
waits in one scheduler heap (``services.polling.PollScheduler``) that also holds the rate cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kling_studio.domain.compiler import compile_storyboard
from kling_studio.domain.job_record import EVENT_CREATED, EVENT_REMOVED, EVENT_UPDATED, JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.domain.project_file import storyboard_to_snapshot
from kling_studio.domain.storyboard import Storyboard
from kling_studio.services.downloads import delete_files_quietly
from kling_studio.services.engine_api import JobListener
from kling_studio.services.image_prep import read_first_frame
from kling_studio.services.job_core import (
    WAITING_FOR_SLOT,
    ClientFactory,
    EngineCore,
    StoryboardRefused,
    default_client_factory,
    run_blocking,
    settled,
)
from kling_studio.services.job_runner import JobRunner
from kling_studio.services.job_store import JobStore
from kling_studio.services.local_backend import LOCAL, LocalBackend
from kling_studio.services.paths import AppPaths, app_paths
from kling_studio.services.polling import PollPolicy, PollScheduler, SleepFn
from kling_studio.services.secrets import get_api_key
from kling_studio.services.settings import BACKEND_LOCAL, BACKEND_REMOTE, AppSettings

log = logging.getLogger("kling_studio.jobs")

LOCAL_LABEL = "Local preview — no credits spent"
SPAWN_PER_TURN = 8  # job runners started per turn of the event loop
# Test hook: multiply the default polling intervals (the CLI crash tests use a tiny factor).
POLL_SCALE_ENV = "KLING_STUDIO_TEST_POLL_SCALE"
_S = JobState
__all__ = ["LOCAL_LABEL", "POLL_SCALE_ENV", "JobEngine", "StoryboardRefused", "settled"]


class JobEngine:
    """Implements ``services.engine_api.JobEngineAPI``."""

    def __init__(
        self,
        settings: AppSettings | None = None,
        *,
        store: JobStore | None = None,
        paths: AppPaths | None = None,
        client_factory: ClientFactory | None = None,
        local_backend: LocalBackend | None = None,
        base_url: str | None = None,
        force_local: bool = False,
        api_key: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: SleepFn = asyncio.sleep,
        poll_policy: PollPolicy | None = None,
    ) -> None:
        self.settings = settings or AppSettings()
        self.paths = paths or app_paths()
        self._owns_store = store is None
        self.store = store if store is not None else JobStore(self.paths.job_store)
        self._owns_local = local_backend is None
        self._local = local_backend
        self._key = api_key if api_key is not None else get_api_key()
        self._base_override = base_url.rstrip("/") if base_url else None
        self._new_backend = self._choose_backend(force_local)
        self.policy = poll_policy or _default_policy()
        self._sleep = sleep
        self._executor: ThreadPoolExecutor | None = None
        self.core = EngineCore(
            self.store,
            clock=clock,
            client_factory=client_factory or default_client_factory,
            local_backend=self._local_server,
            api_key=self._key,
            on_slot_free=self._pump,
        )
        self.core.load()
        self._queue: deque[str] = deque()
        self._resend: deque[str] = deque()  # needs-attention jobs checked again, waiting for a slot
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._to_spawn: dict[str, None] = {}  # runners to start, oldest first (see ``_spawn``)
        self._spawning = False
        self._runner: JobRunner | None = None
        self._started = False
        self._stopped = False

    # Backend

    def _choose_backend(self, force_local: bool) -> str:
        if self._base_override:
            return self._base_override
        if force_local or self.settings.backend == BACKEND_LOCAL:
            return LOCAL
        if self.settings.backend == BACKEND_REMOTE or self._key:
            return self.settings.base_url.rstrip("/")
        return LOCAL

    def _local_server(self) -> LocalBackend:
        if self._local is None:
            self._local = LocalBackend(task_seconds=self.settings.task_seconds)
        return self._local

    @property
    def is_local(self) -> bool:
        return self._new_backend == LOCAL

    @property
    def backend(self) -> str:
        """Where new jobs go: ``"local"`` or a base URL."""
        return self._new_backend

    @property
    def backend_label(self) -> str:
        if self.is_local:
            return LOCAL_LABEL
        if self._base_override:
            return f"Server at {self._base_override}"
        if not self._key:
            return "No API key — add one in Settings before submitting"
        return "Kling 3.0 Turbo via APIMart"

    # Lifecycle

    async def start(self, *, resume: bool = True) -> None:
        """Open the store and carry every unfinished job on (``resume=False``: only new jobs run).

        Jobs that need attention stay as they are until ``check_again`` (or ``check_all_again``).
        """
        if self._started:
            return
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kling-engine")
        self.core.executor = self._executor
        self.core.writer.start()
        # Load now, off the loop, what the first request and the first download would otherwise
        # import on it mid-run (anyio, behind httpcore; FFmpeg, behind the probe).
        await asyncio.to_thread(_warm_imports)
        # Everything alive now (modules, classes, the loaded jobs) lives as long as the process:
        # set it aside from the cyclic collector, whose full passes would otherwise walk it all
        # on the loop's thread (~50 ms measured at 1,000 jobs). Garbage is still freed as before.
        gc.freeze()
        self._runner = JobRunner(
            self.core,
            policy=self.policy,
            scheduler=PollScheduler(self.policy.status_rate, self.policy.status_burst),
            sleep=self._sleep,
            executor=self._executor,
            library=self.settings.library_path(self.paths),
            inline_images=self.settings.inline_images,
            max_video_bytes=self.settings.max_video_bytes(),
        )
        self._started = True
        if resume:
            for job in list(self.core.records.values()):
                if job.state == _S.QUEUED:
                    self._queue.append(job.id)
                elif job.state.is_active:
                    # Already on the service (or maybe): it holds a slot whatever the limit says.
                    self.core.slot_holders.add(job.id)
                    self._spawn(job.id)
                elif job.state == _S.DOWNLOADING:
                    self._spawn(job.id)
                elif job.state == _S.NEEDS_ATTENTION and job.error_code == WAITING_FOR_SLOT:
                    self._resend.append(job.id)  # checked again before the stop: still wanted
                elif _completed_not_downloaded(job):
                    # A download waiting out a full disk or a bad link when the app stopped: it is
                    # retried by itself until the link expires, restart or not.
                    self.core.update(job.id, state=_S.DOWNLOADING)
                    self._spawn(job.id)
            self._pump()

    async def stop(self) -> None:
        """Stop every task (jobs stay resumable), close clients, the local server and the store."""
        if self._stopped:
            return
        self._stopped = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        await self.core.close_clients()
        if self._owns_local and self._local is not None:
            await self._local.stop()
        await self.core.writer.close()  # everything queued reaches the disk first
        if self._runner is not None:
            self._runner.scheduler.close()
        if self._executor is not None:
            # Joining the pool's threads (and closing sqlite) blocks: not on the loop.
            await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        if self._owns_store:
            await asyncio.to_thread(self.store.close)

    # Reading

    def subscribe(self, listener: JobListener) -> Callable[[], None]:
        return self.core.subscribe(listener)

    def jobs(self) -> list[JobRecord]:
        """Every job, oldest first: the history read from the store (slow for a long one; lists
        use ``job_summaries``), with what is in memory (newer than the disk) over it."""
        return self._merged(self.store.all())

    def job_summaries(self) -> list[JobRecord]:
        """Every job as a light record (``job_summary.is_summary``) except those in memory, oldest first."""
        return self._merged(self.store.summaries())

    def _merged(self, stored: list[JobRecord]) -> list[JobRecord]:
        records = dict(self.core.records)  # a plain copy: no lookup here reads the store
        if not records:
            return stored
        merged = [records.pop(r.id, r) for r in stored]
        if records:  # written ahead of the store's commit (a submit in flight)
            merged.extend(records.values())
            merged.sort(key=lambda r: r.created_at)
        return merged

    def get(self, job_id: str) -> JobRecord | None:
        return self.core.records.get(job_id)

    async def wait_for(
        self, job_ids: Iterable[str], predicate: Callable[[JobRecord], bool] = settled
    ) -> list[JobRecord]:
        """Wait until every listed job satisfies ``predicate`` (default: settled); removed jobs count."""
        ids = list(job_ids)
        # Only the jobs not yet there are looked at again, and only when one of them changes:
        # waiting on a thousand jobs costs O(1) per event, not a scan of all of them.
        waiting = {i for i in ids if not self._arrived(i, predicate)}
        changed: set[str] = set()
        wake = asyncio.Event()

        def listener(event: Any) -> None:
            if event.job.id in waiting:
                changed.add(event.job.id)
                wake.set()

        unsubscribe = self.subscribe(listener)
        try:
            while waiting:
                await wake.wait()
                wake.clear()
                arrived = {i for i in changed if self._arrived(i, predicate)}
                changed.clear()
                waiting -= arrived
            records = [self.get(i) for i in ids]
            return [r for r in records if r is not None]
        finally:
            unsubscribe()

    def _arrived(self, job_id: str, predicate: Callable[[JobRecord], bool]) -> bool:
        record = self.get(job_id)
        return record is None or predicate(record)

    # Commands

    async def submit_storyboard(
        self, storyboard: Storyboard, *, project_path: str | None = None, out_dir: str | None = None
    ) -> JobRecord:
        """Compile (StoryboardRefused, a ValueError, on errors), write the job down, queue it.

        ``out_dir`` puts the MP4 and its sidecar in that folder instead of the library.
        """
        await asyncio.sleep(0)  # let the loop breathe between submissions in a batch
        check = None
        frame = storyboard.first_frame
        if frame is not None and frame.path is not None:
            check = await run_blocking(self._executor, read_first_frame, frame.path)
        compiled = compile_storyboard(storyboard, first_frame_check=check, prices=self.settings.prices)
        if not compiled.ok:
            raise StoryboardRefused(compiled.errors)
        return await self._create(
            title=storyboard.title,
            project_path=project_path,
            mode=compiled.mode,
            request=compiled.request,
            snapshot=storyboard_to_snapshot(storyboard),
            estimated_cost=compiled.estimated_cost_usd,
            out_dir=out_dir,
        )

    async def retry(self, job_id: str) -> JobRecord:
        old = self._require(job_id)
        request = dict(old.request)
        frame = old.storyboard.get("first_frame")
        if isinstance(frame, dict) and isinstance(frame.get("path"), str):
            request["first_frame_image"] = frame["path"]  # upload again: an uploaded URL lives 72 h
        return await self._create(
            title=old.title,
            project_path=old.project_path,
            mode=old.mode,
            request=request,
            snapshot=old.storyboard,
            estimated_cost=old.estimated_cost_usd,
            out_dir=self.core.out_dirs.get(job_id),
        )

    async def check_again(self, job_id: str) -> None:
        job = self._require(job_id)
        if job.state != _S.NEEDS_ATTENTION:
            return
        await self._stop_task(job_id)
        job = self._require(job_id)
        if job.state != _S.NEEDS_ATTENTION:
            return
        if not job.task_id:
            # Same idempotency key: the service replays, never starts a second task. It may start the
            # first one, though, so the re-send waits for a slot like any queued job.
            if job_id not in self._resend:
                self._resend.append(job_id)
                self.core.update(
                    job_id,
                    error_code=WAITING_FOR_SLOT,
                    error_message="Waiting for a free slot to send again with the same key.",
                )
            self._pump()
            await self.core.committed(job_id)
            return
        target = _S.DOWNLOADING if job.result_urls else _S.SUBMITTED
        if target.is_active:
            self.core.slot_holders.add(job_id)
        self.core.update(job_id, state=target, error_code=None, error_message=None)
        self._spawn(job_id)
        await self.core.committed(job_id)

    async def check_all_again(self) -> list[str]:
        """``check_again`` for every job that needs attention; returns their ids."""
        # Needs-attention jobs are unfinished: all of them are in memory.
        ids = [
            j.id
            for j in sorted(self.core.records.values(), key=lambda r: r.created_at)
            if j.state == _S.NEEDS_ATTENTION
        ]
        for job_id in ids:
            await self.check_again(job_id)
        return ids

    async def cancel(self, job_id: str) -> None:
        job = self._require(job_id)
        if job.is_terminal:
            return
        await self._stop_task(job_id)
        job = self._require(job_id)
        with contextlib.suppress(ValueError):
            self._queue.remove(job_id)
        with contextlib.suppress(ValueError):
            self._resend.remove(job_id)
        sent = job.task_id is not None or job.state == _S.SUBMITTING or job.submit_attempts > 0
        message = (
            "Cancelled here. The request had already been sent, so the service may still finish and bill it."
            if sent
            else "Cancelled before it was sent; nothing was billed."
        )
        self.core.update(
            job_id, state=_S.CANCELLED, error_code="cancelled", error_message=message, finished_at=self.core.clock()
        )
        await self.core.committed(job_id)
        await self._discard_partial(job)

    async def remove(self, job_id: str, *, delete_files: bool = False) -> None:
        job = self._require(job_id)
        await self._stop_task(job_id)
        with contextlib.suppress(ValueError):
            self._queue.remove(job_id)
        with contextlib.suppress(ValueError):
            self._resend.remove(job_id)
        with contextlib.suppress(Exception):  # its last change failing to store does not keep it
            await self.core.committed(job_id)
        await self.core.delete(job_id)
        self.core.records.pop(job_id, None)
        if job_id in self.core.slot_holders:
            self.core.slot_holders.discard(job_id)
            self._pump()
        await self._discard_partial(job)
        if delete_files:
            files = [Path(p) for p in (job.video_path, job.sidecar_path) if p]
            await run_blocking(self._executor, delete_files_quietly, files)
        self.core.publish(EVENT_REMOVED, job)

    async def _discard_partial(self, job: JobRecord) -> None:
        """A cancelled or removed job's half-downloaded video would otherwise stay on disk for good."""
        if self._runner is not None:
            await run_blocking(self._executor, self._runner.discard_partial, job)

    async def set_flags(self, job_id: str, *, starred: bool | None = None, rejected: bool | None = None) -> None:
        self._require(job_id)
        changes: dict[str, Any] = {}
        if starred is not None:
            changes["starred"] = starred
        if rejected is not None:
            changes["rejected"] = rejected
        if changes:
            self.core.update(job_id, kind=EVENT_UPDATED, **changes)
            await self.core.committed(job_id)

    # Internals

    def _require(self, job_id: str) -> JobRecord:
        job = self.core.records.get(job_id)
        if job is None:
            raise KeyError(f"no job {job_id!r}")
        return job

    async def _create(
        self,
        *,
        title: str,
        project_path: str | None,
        mode: str,
        request: dict[str, Any],
        snapshot: dict[str, Any],
        estimated_cost: float | None,
        out_dir: str | None,
    ) -> JobRecord:
        now = self.core.clock()
        duration = request.get("duration")
        record = JobRecord(
            id=uuid.uuid4().hex,
            idempotency_key=str(uuid.uuid4()),
            title=title,
            project_path=project_path,
            backend=self._new_backend,
            state=_S.QUEUED,
            mode=mode,
            duration=duration if isinstance(duration, int) else 0,
            resolution=str(request.get("resolution", "")),
            request=request,
            storyboard=snapshot,
            created_at=now,
            updated_at=now,
            estimated_cost_usd=estimated_cost,
            transitions=((_S.QUEUED.value, now),),
        )
        await self.core.add(record, out_dir=out_dir)  # committed (key and all) before anything is sent
        self.core.publish(EVENT_CREATED, record)
        self._queue.append(record.id)
        self._pump()
        return record

    def _pump(self) -> None:
        """Start queued jobs, oldest first, while slots are free."""
        if not self._started or self._stopped:
            return
        limit = max(1, self.settings.concurrency)
        while self._resend and len(self.core.slot_holders) < limit:
            job_id = self._resend.popleft()
            job = self.core.records.get(job_id)
            if job is None or job.state != _S.NEEDS_ATTENTION or job.task_id:
                continue
            self.core.slot_holders.add(job_id)
            self.core.update(job_id, state=_S.SUBMITTING, error_code=None, error_message=None)
            self._spawn(job_id)
        while self._queue and len(self.core.slot_holders) < limit:
            job_id = self._queue.popleft()
            job = self.core.records.get(job_id)
            if job is None or job.state != _S.QUEUED:
                continue
            self.core.slot_holders.add(job_id)
            self._spawn(job_id)

    def _spawn(self, job_id: str) -> None:
        """Start the job's runner soon: a few per turn of the loop, so resuming a thousand jobs
        does not run a thousand first steps in one turn."""
        if self._stopped or self._runner is None:
            return
        self._to_spawn[job_id] = None
        if not self._spawning:
            self._spawning = True
            asyncio.get_running_loop().call_soon(self._spawn_some)

    def _spawn_some(self) -> None:
        for _ in range(min(SPAWN_PER_TURN, len(self._to_spawn))):
            job_id = next(iter(self._to_spawn))
            del self._to_spawn[job_id]
            self._start_runner(job_id)
        if self._to_spawn and not self._stopped:
            asyncio.get_running_loop().call_soon(self._spawn_some)
        else:
            self._spawning = False

    def _start_runner(self, job_id: str) -> None:
        if self._stopped or self._runner is None:
            return
        task = asyncio.create_task(self._runner.run(job_id), name=f"job-{job_id[:8]}")
        self._tasks[job_id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._tasks.get(job_id) is done:
                del self._tasks[job_id]

        task.add_done_callback(forget)

    async def _stop_task(self, job_id: str) -> None:
        self._to_spawn.pop(job_id, None)
        task = self._tasks.get(job_id)
        if task is None or task is asyncio.current_task():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _warm_imports() -> None:
    for name in _WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # the step that needs it reports it properly
            log.debug("could not preload %s", name)


_WARM_MODULES = ("anyio", "anyio._backends._asyncio", "httpcore._backends.anyio", "av")


def _completed_not_downloaded(job: JobRecord) -> bool:
    return job.state == _S.NEEDS_ATTENTION and job.task_id is not None and bool(job.result_urls) and not job.video_path


def _default_policy() -> PollPolicy:
    policy = PollPolicy()
    try:
        scale = float(os.environ.get(POLL_SCALE_ENV, "") or 1.0)
    except ValueError:
        scale = 1.0
    return policy.scaled(scale) if 0 < scale < 1 else policy

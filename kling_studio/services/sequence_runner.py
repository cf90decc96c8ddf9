"""Generating a sequence: segments in order, chained segments started from their predecessor's take.

The plan (which segments, how many takes, the project as it was, the backend) is written to
``<data>/sequences/<id>.json`` before the first job. Every job the plan makes carries a tag in
its storyboard snapshot (``{"sequence": {"plan", "segment", "take", "source"}}``), committed in
the same row as the job and its idempotency key. So after a crash the store says exactly which
(segment, take) jobs exist: those are resumed by the engine, and only the missing ones are made,
once. A chained segment waits for the previous segment's picked take (its first take to finish
while none is picked), extracts that take's last frame to ``frames/`` beside the project file
and submits with it.

Qt-free; the CLI drives it, a UI can too (``SequenceRunner.run`` with an ``on_job`` callback).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.domain.project_file import SEQUENCE_JOB_KEY
from kling_studio.domain.sequence import SequenceProject
from kling_studio.domain.sequence_file import sequence_from_snapshot
from kling_studio.domain.storyboard import FirstFrame, Storyboard
from kling_studio.services.job_core import StoryboardRefused, settled
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.job_steps import crash_point
from kling_studio.services.project_io import atomic_write_bytes
from kling_studio.services.sequence_frames import FrameError, save_last_frame
from kling_studio.services.sequence_io import chained_frame_path, load_sequence
from kling_studio.services.sequence_takes import job_tag, segment_video  # the light half lives there
from kling_studio.services.sequence_takes import latest_done_take as latest_done_take
from kling_studio.services.sequence_takes import segment_of as segment_of

log = logging.getLogger("kling_studio.sequence")

SEQUENCE_TAG = SEQUENCE_JOB_KEY
RUNNING, SUBMITTED, STOPPED = "running", "submitted", "stopped"


@dataclass(frozen=True)
class SequencePlan:
    """One ``submit`` of a sequence. ``segments`` are 1-based; ``backend`` is "local" or a URL."""

    id: str
    project_path: str
    project: dict[str, Any]  # schema-2 snapshot, absolute paths
    segments: tuple[int, ...]
    takes: int
    backend: str
    out_dir: str | None
    created_at: float
    state: str = RUNNING
    message: str | None = None

    @staticmethod
    def from_json(data: dict[str, Any]) -> SequencePlan:
        return SequencePlan(**{**data, "segments": tuple(data["segments"])})


class PlanStore:
    """Plans as small JSON files, written atomically (temp file, fsync, rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, plan: SequencePlan) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps(asdict(plan), ensure_ascii=False, indent=2).encode("utf-8")
        atomic_write_bytes(self.folder / f"{plan.id}.json", data)

    def running(self) -> list[SequencePlan]:
        plans: list[SequencePlan] = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                plan = SequencePlan.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                log.warning("ignoring an unreadable sequence plan %s: %s", path, exc)
                continue
            if plan.state == RUNNING:
                plans.append(plan)
        return sorted(plans, key=lambda p: p.created_at)


def plan_store(engine: JobEngine) -> PlanStore:
    return PlanStore(engine.paths.data_dir / "sequences")


def new_plan(
    project_path: str, project: dict[str, Any], segments: tuple[int, ...], takes: int, backend: str, out_dir: str | None
) -> SequencePlan:
    return SequencePlan(uuid.uuid4().hex, project_path, project, segments, takes, backend, out_dir, time.time())


class ChainStopped(RuntimeError):
    """A chained segment has nothing to start from; ``str()`` says why and what to do."""


JobCallback = Callable[[int, int, JobRecord], None]


class SequenceRunner:
    """Carries one plan forward on a started engine. ``run`` returns the plan's jobs by (segment, take)."""

    def __init__(
        self,
        engine: JobEngine,
        plan: SequencePlan,
        *,
        plans: PlanStore | None = None,
        wait: bool = True,
        on_job: JobCallback | None = None,
    ) -> None:
        self.engine = engine
        self.plan = plan
        self.plans = plans or plan_store(engine)
        self.wait = wait
        self.on_job = on_job or (lambda _k, _t, _j: None)
        self.project: SequenceProject = sequence_from_snapshot(plan.project)

    # Reading the store

    def plan_jobs(self) -> dict[tuple[int, int], JobRecord]:
        """The plan's jobs by (segment, take); a retried job replaces the one it retried."""
        found: dict[tuple[int, int], JobRecord] = {}
        for job in self.engine.jobs():
            tag = job_tag(job)
            if tag is None or tag.get("plan") != self.plan.id:
                continue
            key = (int(tag["segment"]), int(tag["take"]))
            if key not in found or job.created_at >= found[key].created_at:
                found[key] = job
        return found

    # Running

    async def run(self) -> dict[tuple[int, int], JobRecord]:
        try:
            for segment in self.plan.segments:
                if not await self._ensure_segment(segment):
                    return self.plan_jobs()  # not waiting: the chain continues on a later resume
            self._set_state(SUBMITTED)
        except (ChainStopped, StoryboardRefused) as exc:
            # Nothing a resume could change: the plan stops; the jobs it made stay as they are.
            self._set_state(STOPPED, str(exc))
            raise
        if self.wait:
            jobs = self.plan_jobs()
            await self.engine.wait_for([j.id for j in jobs.values()], settled)
        return self.plan_jobs()

    async def _ensure_segment(self, segment: int) -> bool:
        """Make the segment's missing takes; False when its start frame is not ready (no wait)."""
        existing = {t: j for (k, t), j in self.plan_jobs().items() if k == segment}
        if len(existing) >= self.plan.takes:
            for take, job in sorted(existing.items()):
                self.on_job(segment, take, job)
            return True
        index = segment - 1
        frame: FirstFrame | None = None
        source = ""
        if self.project.segments[index].from_previous:
            recorded = [job_tag(j) or {} for j in existing.values()]
            source = next((str(t["source"]) for t in recorded if t.get("source")), "")
            video = source if source else await self._source_video(segment)
            if video is None:
                return False
            source = video
            frame = FirstFrame(path=str(await self._extract(segment, video)))
        board = self.project.storyboard(index, frame)
        for take in range(1, self.plan.takes + 1):
            found = existing.get(take)
            if found is not None:
                job = found
            else:
                tag = {"plan": self.plan.id, "segment": segment, "take": take, "source": source or None}
                tagged = Storyboard(board.title, board.shots, board.settings, board.first_frame, {SEQUENCE_TAG: tag})
                job = await self.engine.submit_storyboard(
                    tagged, project_path=self.plan.project_path, out_dir=self.plan.out_dir
                )
            self.on_job(segment, take, job)
        crash_point(f"sequence_segment_{segment}")  # test hook: a SIGKILL mid-chain
        return True

    async def _source_video(self, segment: int) -> str | None:
        """The video a chained segment starts from (None: not ready and not waiting)."""
        previous = segment - 1
        if previous not in self.plan.segments:
            return self._outside_source(segment, previous)
        ids = [j.id for (k, _t), j in self.plan_jobs().items() if k == previous]
        while True:
            video = self._chosen_take(previous, ids)
            if video is not None:
                return video
            records = [r for r in (self.engine.get(i) for i in ids) if r is not None]
            if all(settled(r) for r in records):
                if any(r.state == JobState.NEEDS_ATTENTION for r in records):
                    # Not lost: once checked again (``kling-studio resume``) the chain continues.
                    log.warning("segment %d waits for segment %d, whose takes need attention", segment, previous)
                    return None
                raise ChainStopped(
                    f"Segment {segment} cannot continue: no take of segment {previous} finished "
                    f"({', '.join(sorted({r.state.value for r in records}))}). Submit segment {previous} again."
                )
            if not self.wait:
                return None
            await self._changed(ids)

    def _outside_source(self, segment: int, previous: int) -> str:
        """A predecessor this plan does not generate: its pick in the file, else its latest done take."""
        video = segment_video(self.project, self.plan.project_path, previous - 1, self.engine.jobs())
        if video is None:
            raise ChainStopped(
                f"Segment {segment} continues from segment {previous}, which has no take yet: "
                f"generate segment {previous} first (or pick one of its takes)."
            )
        return video

    def _chosen_take(self, segment: int, ids: list[str]) -> str | None:
        """The pick among this plan's done takes (read from the file now), else the first to finish."""
        done = [r for r in (self.engine.get(i) for i in ids) if r is not None and r.state == JobState.DONE]
        done = [r for r in done if r.video_path]
        if not done:
            return None
        with contextlib.suppress(OSError, ValueError):
            pick = load_sequence(self.plan.project_path).segments[segment - 1].pick
            for record in done:
                if pick and record.video_path and Path(record.video_path) == Path(pick):
                    return record.video_path
        first = min(done, key=lambda r: (r.finished_at or r.updated_at, r.created_at))
        return first.video_path

    async def _changed(self, ids: list[str]) -> None:
        event = asyncio.Event()
        wanted = set(ids)

        def listener(e: Any) -> None:
            if e.job.id in wanted:
                event.set()

        unsubscribe = self.engine.subscribe(listener)
        try:
            await event.wait()
        finally:
            unsubscribe()

    async def _extract(self, segment: int, video: str) -> Path:
        source_name = Path(video).stem
        png = chained_frame_path(self.plan.project_path, segment, source_name)
        try:
            return await asyncio.to_thread(save_last_frame, video, png)
        except (FrameError, OSError) as exc:
            raise ChainStopped(
                f"Segment {segment}: the previous take's last frame could not be saved ({exc})."
            ) from None

    def _set_state(self, state: str, message: str | None = None) -> None:
        self.plan = replace(self.plan, state=state, message=message)
        self.plans.save(self.plan)

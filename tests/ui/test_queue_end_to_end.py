"""A job end to end against the real local server: row, progress, done, preview with shot markers."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex

from kling_studio.domain.jobs import JobState
from kling_studio.domain.storyboard import GenerationSettings, Shot, Storyboard
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.polling import PollPolicy
from kling_studio.services.settings import AppSettings
from kling_studio.ui.preview_panel import PreviewPanel
from kling_studio.ui.queue_job_rows import JOB_ROLE
from kling_studio.ui.queue_panel import QueuePanel
from kling_studio.ui.queue_table_model import COL_PROGRESS, COL_STATE

QUICK_POLL = PollPolicy(
    first_delay=0.05,
    max_interval=0.1,
    near_interval=0.05,
    near_window=0.0,
    min_interval=0.01,
    status_rate=200.0,
    status_burst=50.0,
)


async def until(predicate: Callable[[], bool], what: Callable[[], str], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what()}"
        await asyncio.sleep(0.02)


async def test_a_job_runs_end_to_end_and_plays_with_shot_markers(qtbot, tmp_path: Path) -> None:
    storyboard = Storyboard(
        title="Harbour at dawn",
        shots=(Shot("Fog lifts off the harbour water", 1), Shot("A fishing boat leaves the quay", 2)),
        settings=GenerationSettings(resolution="720p"),
    )
    with LocalServer(LocalServerConfig(task_seconds=0.5)) as server:
        engine = JobEngine(
            AppSettings(library_dir=str(tmp_path / "library")), base_url=server.base_url, poll_policy=QUICK_POLL
        )
        await engine.start()
        panel = QueuePanel(engine)
        preview = PreviewPanel()
        for widget in (panel, preview):
            qtbot.addWidget(widget)
            widget.show()
        panel.attach_preview(preview)
        inserted: list[int] = []
        progress: list[int] = []
        states: list[JobState] = []
        durations: list[int] = []

        def on_data(top_left: QModelIndex, bottom_right: QModelIndex, _roles: object = ()) -> None:
            job = top_left.data(JOB_ROLE)
            if top_left.column() <= COL_PROGRESS <= bottom_right.column():
                progress.append(job.progress)
            if top_left.column() <= COL_STATE <= bottom_right.column():
                states.append(job.state)

        panel.model.rowsInserted.connect(lambda _p, first, _last: inserted.append(first))
        panel.model.dataChanged.connect(on_data)
        preview.duration_known.connect(durations.append)
        try:
            job = await engine.submit_storyboard(storyboard)
            assert inserted == [0]
            assert panel.model.job(job.id) is not None
            await until(
                lambda: panel.model.job(job.id).state.is_terminal,
                lambda: f"the job to finish: {engine.get(job.id)} seen {states} {progress}",
            )
            assert panel.model.job(job.id).state is JobState.DONE, panel.model.job(job.id).error_message
            await until(lambda: bool(durations), lambda: f"the preview to load {preview.path()}")
        finally:
            panel.shutdown()
            await engine.stop()

    done = panel.model.job(job.id)
    assert done.video_path and os.path.isfile(done.video_path)  # noqa: ASYNC240 - a test's last look
    # The progress column rose, through values in between, and only ever up.
    assert progress == sorted(progress)
    assert any(0 < p < 100 for p in progress) and progress[-1] == 100
    assert states[-1] is JobState.DONE and JobState.PROCESSING in states
    # The finished job auto-played in the preview, which knows the clip's length...
    assert preview.path() == done.video_path
    assert abs(durations[-1] - 3000) <= 150
    assert preview.duration_ms() == durations[-1]
    # ...and the shot markers sit at the storyboard's planned starts: 0 s and 1 s.
    assert preview.scrub.marker_ms() == [0, 1000]
    (_n1, x1), (_n2, x2) = preview.scrub.marker_positions()
    full = preview.scrub.marker_x(preview.duration_ms()) - x1
    assert abs((x2 - x1) - full * 1000 / preview.duration_ms()) <= 1
    preview.unload()

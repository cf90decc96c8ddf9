"""The window's sequence commands: the strip, ×N takes, Generate, Continue, Compare, Assemble.

It gets the window and touches only what it adds: the strip above the editor, a takes spin box
beside Submit, a "Continue from previous take" row under the first-frame panel, and the
Sequence/Generate menu actions. Generation goes through ``services.sequence_runner`` (the same
plan, tags and chaining as ``kling-studio submit`` of a sequence); assembly through
``services.sequence_assemble`` in a worker thread. PyAV and QtMultimedia load on first use.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.ui.segment_strip import MiddleFrames, SegmentStrip
from kling_studio.ui.sequence_document import FROM_PREVIOUS
from kling_studio.ui.tasks import TaskSet

if TYPE_CHECKING:
    from kling_studio.ui.main_window import StudioWindow

log = logging.getLogger("kling_studio.ui")
MAX_TAKES = 8


def last_frame_image(video: str) -> Any:
    """Blocking: the QImage of a video's last frame (what a chained segment starts on)."""
    from PySide6.QtGui import QImage

    from kling_studio.services.sequence_frames import last_frame

    try:
        image = last_frame(video)
    except (OSError, ValueError):
        return None
    image.thumbnail((160, 90))
    rgb = image.convert("RGB")
    return QImage(rgb.tobytes(), rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()


class ContinueRow(QWidget):
    """Under the first frame: the Continue button, the frame it will use, or why it cannot yet."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("continueRow")
        self.button = QPushButton("Continue from previous take")
        self.button.setAccessibleName("Continue from the previous segment's take")
        self.thumb = QLabel()
        self.thumb.setFixedSize(96, 54)
        self.thumb.hide()
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Continue from previous take")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(self.thumb)
        row.addWidget(self.status, 1)


class SequenceController(QObject):
    def __init__(self, window: StudioWindow) -> None:
        super().__init__(window)
        self.window = window
        self.sequence = window.files.sequence
        self.tasks = TaskSet()
        self.last_cut: Any = None  # the latest AssembleResult
        self._unsubscribe: Any = None
        self._engine: Any = None
        self._closed = False
        self.strip = SegmentStrip(self.sequence)
        self.strip.jobs_source = self.jobs
        self.strip.prices = window.settings.prices
        a = window.studio_actions
        self.strip.bind(a.add_segment, a.duplicate_segment, a.delete_segment, a.move_segment_left, a.move_segment_right)
        central = cast(QBoxLayout, cast(QWidget, window.centralWidget()).layout())
        central.insertWidget(central.indexOf(window.editor_scroll), self.strip)
        self.takes = QSpinBox()
        self.takes.setRange(1, MAX_TAKES)
        self.takes.setPrefix("×")
        self.takes.setAccessibleName("Takes per segment")
        self.takes.setToolTip("How many takes Generate makes of each segment")
        self.takes.valueChanged.connect(self._on_takes)
        bar = cast(QBoxLayout, window.submit_bar.layout())
        bar.insertWidget(bar.indexOf(window.submit_button), self.takes)
        self.continue_row = ContinueRow()
        window.first_frame.body.addWidget(self.continue_row)
        self.frames = MiddleFrames(self.continue_row)
        self.frames.decode = last_frame_image
        self.frames.ready.connect(lambda _p: self.update_continue())
        self.continue_row.button.clicked.connect(a.continue_previous.trigger)
        a.add_segment.triggered.connect(self.add_segment)
        a.duplicate_segment.triggered.connect(lambda: self.sequence.duplicate_segment())
        a.delete_segment.triggered.connect(lambda: self.sequence.delete_segment())
        a.move_segment_left.triggered.connect(lambda: self.sequence.move_segment(-1))
        a.move_segment_right.triggered.connect(lambda: self.sequence.move_segment(1))
        a.previous_segment.triggered.connect(lambda: self.step(-1))
        a.next_segment.triggered.connect(lambda: self.step(1))
        a.continue_previous.triggered.connect(self.continue_from_previous)
        a.generate_segment.triggered.connect(lambda: self.generate(whole=False))
        a.generate_sequence.triggered.connect(lambda: self.generate(whole=True))
        a.compare_takes.triggered.connect(self.compare)
        a.assemble.triggered.connect(self.assemble)
        a.export_cut.triggered.connect(self.export_cut)
        self.sequence.changed.connect(self.update_state)
        self.sequence.current_changed.connect(lambda _i: self.update_state())
        window.document.changed.connect(self.update_continue)
        self.update_state()

    # Jobs from the window's engine.

    def jobs(self) -> list[JobRecord]:
        engine = self.window.engine
        if self._closed:
            return []  # the window is closing: its engine may be stopping
        self._follow(engine)
        return engine.jobs() if engine is not None else []

    def _follow(self, engine: Any) -> None:
        if engine is self._engine:
            return
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._engine = engine
        if engine is not None:
            self._unsubscribe = engine.subscribe(lambda _e: self.strip.refresh())

    def segment_jobs(self, index: int, *, done: bool = False) -> list[JobRecord]:
        jobs = self.strip.card_jobs(index)
        if done:
            jobs = [j for j in jobs if j.state == JobState.DONE and j.video_path and Path(j.video_path).is_file()]
        return sorted(jobs, key=lambda j: j.created_at)

    # Editing.

    def add_segment(self) -> None:
        self.sequence.add_segment()
        self.window.focus_shot_text()

    def step(self, step: int) -> None:
        self.sequence.show_segment(self.sequence.current + step)
        self.strip.focus_current()

    def continue_from_previous(self) -> None:
        if self.sequence.current == 0:
            self.window.show_message("The first segment has no previous take to continue from.")
            return
        from kling_studio.ui.edit_commands import StoryboardCommand

        doc = self.window.document
        board = doc.storyboard
        after = replace(board, first_frame=None, extra={**dict(board.extra), FROM_PREVIOUS: True})
        doc.push(StoryboardCommand(doc, after, "Continue from previous take"))

    def previous_video(self) -> tuple[str | None, str]:
        """The video the current segment would continue from, or None and why not."""
        from kling_studio.services.sequence_takes import segment_video

        index = self.sequence.current
        if index == 0:
            return None, "The first segment starts the film: it has no previous take."
        path = self.sequence.path
        project = self.sequence.project
        video = segment_video(project, path, index - 1, self.jobs()) if path else project.segments[index - 1].pick
        if video is None:
            return None, f"Segment {index} has no take yet: generate it (or the whole sequence) first."
        return video, f"Starts on the last frame of {Path(video).name}"

    def update_continue(self) -> None:
        row = self.continue_row
        chained = bool(self.window.document.storyboard.extra.get(FROM_PREVIOUS))
        video, why = self.previous_video()
        row.button.setEnabled(self.sequence.current > 0 and not chained)
        row.setVisible(self.sequence.count > 1 or chained)
        pixmap = self.frames.pixmap(video) if video else None
        row.thumb.setVisible(pixmap is not None and chained)
        if pixmap is not None:
            row.thumb.setPixmap(pixmap)
        if chained:
            row.status.setText(why if video else f"Continues from the previous take once it exists. {why}")
        else:
            row.status.setText(why if video is None else "")

    def update_state(self) -> None:
        a = self.window.studio_actions
        n = self.sequence.count
        i = self.sequence.current
        a.delete_segment.setEnabled(n > 1)
        a.move_segment_left.setEnabled(i > 0)
        a.move_segment_right.setEnabled(i < n - 1)
        a.previous_segment.setEnabled(i > 0)
        a.next_segment.setEnabled(i < n - 1)
        a.continue_previous.setEnabled(i > 0)
        self.update_continue()

    def _on_takes(self, value: int) -> None:
        self.strip.takes = value
        self.strip.refresh()

    # Generating.

    def generate(self, *, whole: bool) -> None:
        window = self.window
        if window.engine is None:
            window.show_message("The job engine is still starting; try again in a moment.")
            return
        if (window.document.is_dirty or self.sequence.path is None) and not window.files.save():
            window.show_message("Save the project first: the sequence's frames and plan live beside it.")
            return
        numbers = tuple(range(1, self.sequence.count + 1)) if whole else (self.sequence.current + 1,)
        self.tasks.spawn(self.run(numbers, self.takes.value()), self._failed)

    async def run(self, numbers: tuple[int, ...], takes: int) -> dict[tuple[int, int], JobRecord]:
        from kling_studio.domain.sequence_file import sequence_to_snapshot
        from kling_studio.services.sequence_runner import PlanStore, SequenceRunner, new_plan

        path = self.sequence.path
        assert path is not None
        engine = self.window.engine
        backend = "local" if getattr(engine, "is_local", True) else "remote"
        plan = new_plan(path, sequence_to_snapshot(self.sequence.project), numbers, takes, backend, None)
        plans = PlanStore(self.window.paths.data_dir / "sequences")
        what = f"segment {numbers[0]}" if len(numbers) == 1 else f"{len(numbers)} segments"
        self.window.show_message(f"Generating {what} × {takes} take{'s' if takes > 1 else ''}…")
        runner = SequenceRunner(engine, plan, plans=plans, wait=True, on_job=lambda _s, _t, _j: self.strip.refresh())  # type: ignore[arg-type]
        jobs = await runner.run()
        self.strip.refresh()
        self.update_continue()
        return jobs

    def _failed(self, exc: BaseException) -> None:
        self.window.show_message(f"Generate stopped: {exc}", 0)
        self.strip.refresh()

    # Compare and pick.

    def compare(self) -> None:
        index = self.sequence.current
        takes = self.segment_jobs(index, done=True)
        if not takes:
            self.window.show_message(f"Segment {index + 1} has no finished take to compare yet.")
            return
        from kling_studio.ui.compare_takes import CompareTakesDialog

        segment = self.sequence.segment(index)
        starts = _starts([s.duration for s in segment.shots])
        self.compare_dialog = CompareTakesDialog(
            f"{index + 1}. {segment.title}",
            takes,
            starts,
            segment.pick,
            lambda video: self.pick(index, video),
            self.window,
        )
        self.compare_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.compare_dialog.show()

    def pick(self, index: int, video: str) -> None:
        self.sequence.set_pick(index, video)
        self.window.show_message(f"Picked {Path(video).name} for segment {index + 1}")

    # Assembling.

    def assemble(self) -> None:
        from kling_studio.services.sequence_assemble import AssembleInput
        from kling_studio.services.sequence_takes import segment_video

        path = self.sequence.path
        if path is None:
            self.window.show_message("Save the project and generate its segments before assembling.")
            return
        project = self.sequence.project
        inputs = []
        jobs = self.jobs()
        for index, segment in enumerate(project.segments):
            video = segment_video(project, path, index, jobs)
            if video is None:
                self.window.show_message(f"Segment {index + 1} ({segment.title}) has no take yet: generate it first.")
                return
            inputs.append(AssembleInput(video, segment.title, tuple((s.text, s.duration) for s in segment.shots)))
        out = Path(path).parent / "cuts" / f"{Path(path).name.split('.')[0]}.cut.mp4"
        self.tasks.spawn(self.run_assemble(inputs, out), lambda e: self.window.show_message(f"Cannot assemble: {e}", 0))

    async def run_assemble(self, inputs: list[Any], out: Path) -> Any:
        from kling_studio.services.sequence_assemble import assemble

        self.window.show_message(f"Assembling {len(inputs)} segments…", 0)
        import asyncio  # late: the window paints before asyncio loads

        result = await asyncio.to_thread(assemble, inputs, out, title=self.sequence.project.title)
        self.last_cut = (result, inputs)
        self.play_cut()
        self.window.show_message(f"Assembled {result.video.name}: {result.frames} frames")
        return result

    def cut_starts(self) -> list[int]:
        """Segment and shot starts in the cut (seconds): the markers the preview shows."""
        result, inputs = self.last_cut
        starts: list[int] = []
        at = 0.0
        for item, frames in zip(inputs, result.segment_frames, strict=True):
            starts.extend(round(at) + s for s in _starts([d for _t, d in item.shots]))
            at += frames / float(result.fps)
        return sorted(set(starts))

    def segment_starts_ms(self) -> list[int]:
        """Where each segment starts in the cut (ms, from its frame counts): the joins."""
        result, _inputs = self.last_cut
        starts, frames = [], 0
        for count in result.segment_frames:
            starts.append(round(frames * 1000 / float(result.fps)))
            frames += count
        return starts

    def play_cut(self) -> None:
        panels = self.window.job_panels
        preview = getattr(panels, "preview", None)
        if preview is None or self.last_cut is None:
            return
        preview.load(
            str(self.last_cut[0].video), self.cut_starts(), autoplay=True, segment_starts_ms=self.segment_starts_ms()
        )
        self.window.preview_dock.show()
        self.window.preview_dock.raise_()

    def cut_job(self) -> JobRecord | None:
        """The cut as a take, so it leaves through the same export as a single take."""
        if self.last_cut is None:
            return None
        from kling_studio.domain.project_file import storyboard_to_snapshot
        from kling_studio.domain.storyboard import Shot, Storyboard

        result, inputs = self.last_cut
        shots = tuple(Shot(text, seconds) for item in inputs for text, seconds in item.shots)
        title = self.sequence.project.title or "cut"
        now = time.time()
        return JobRecord(
            id="cut",
            idempotency_key="cut",
            title=title,
            project_path=self.sequence.path,
            backend="local",
            state=JobState.DONE,
            mode="text-to-video",
            duration=sum(s.duration for s in shots),
            resolution=self.sequence.project.settings.resolution,
            request={},
            storyboard=storyboard_to_snapshot(Storyboard(title=title, shots=shots)),
            created_at=now,
            updated_at=now,
            video_path=str(result.video),
        )

    def export_cut(self) -> None:
        job = self.cut_job()
        if job is None:
            self.window.show_message("Assemble the film first (Sequence → Assemble Film), then export the cut.")
            return
        exporter = self.window.take_export
        path = exporter.choose_path(job)
        if path:
            exporter.tasks.spawn(exporter.export(job, path))

    def shutdown(self) -> None:
        self._closed = True
        self.tasks.cancel_all()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


def _starts(durations: list[int]) -> list[int]:
    starts, at = [], 0
    for seconds in durations:
        starts.append(at)
        at += seconds
    return starts

"""Render the README screenshots: ``python -m kling_studio.ui.demo.screenshots OUTDIR``.

Works offscreen (``QT_QPA_PLATFORM=offscreen``) or under Xvfb; each picture is the real window
grabbed with ``QWidget.grab()``. The studio at real screen sizes (1366×768 light and dark,
1920×1080) is rendered in a child process per size: the offscreen platform reads its screen
from a config file when the QApplication starts. The first frame is drawn with Pillow.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from kling_studio.domain.jobs import JobState
from kling_studio.domain.storyboard import Shot, Storyboard
from kling_studio.ui.demo.scene import FOUR_SHOTS, draw_first_frame, four_shot_storyboard, release_window, run_on_screen

SIZE = (1480, 980)
# (file name, screen width, screen height, theme): the studio as it opens on that screen.
STUDIO_SHOTS = (
    ("studio-1366x768-light.png", 1366, 768, "light"),
    ("studio-1366x768-dark.png", 1366, 768, "dark"),
    ("studio-1920x1080.png", 1920, 1080, "dark"),
)


def _engine(with_jobs: bool) -> object:
    from kling_studio.ui.queue_demo import DemoEngine, make_job

    now = time.time()
    jobs = []
    if with_jobs:
        jobs = [
            make_job(
                "Lighthouse — take 1",
                state=JobState.DONE,
                shots=(4, 3, 3, 4),
                created_at=now - 900,
                actual_cost_usd=1.57,
                finished_at=now - 700,
            ),
            make_job(
                "Lighthouse — take 2",
                state=JobState.PROCESSING,
                shots=(4, 3, 3, 4),
                created_at=now - 120,
                progress=58,
                estimated_time=300.0,
                submitted_at=now - 118,
                task_id="task_01KDEMO0002",
            ),
        ]
    return DemoEngine(jobs, is_local=True)


def render(out_dir: Path) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from kling_studio.services.paths import app_paths
    from kling_studio.services.settings import AppSettings
    from kling_studio.ui.first_frame_io import measure_image
    from kling_studio.ui.first_frame_panel import THUMB_SIZE
    from kling_studio.ui.main_window import StudioWindow
    from kling_studio.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kling-shots-"))
    frame = draw_first_frame(work / "lighthouse.png")
    written: list[Path] = []

    def shoot(name: str, storyboard: Storyboard, *, jobs: bool, banner: bool, select: int = 0) -> None:
        settings = AppSettings(banner_dismissed=not banner)
        window = StudioWindow(settings, engine=_engine(jobs), paths=app_paths(), store_settings=lambda _s: None)  # type: ignore[arg-type]
        window.attach_job_panels(window.engine)
        window.resize(*SIZE)
        window.document.load(storyboard, None)
        ff = storyboard.first_frame
        if ff is not None and ff.path is not None:
            window.first_frame.accept_measured(ff.path, measure_image(ff.path, THUMB_SIZE.width(), THUMB_SIZE.height()))
        window.document.select(select)
        window.show()
        for _ in range(6):
            app.processEvents()
        path = out_dir / name
        window.grab().save(str(path))
        written.append(path)
        release_window(window)
        window.hide()
        window.deleteLater()
        app.processEvents()

    shoot("empty-project.png", Storyboard(title="Untitled", shots=(Shot("", 5),)), jobs=False, banner=True)
    four = four_shot_storyboard(frame)
    assert four.shots == FOUR_SHOTS
    shoot("storyboard-4-shots.png", four, jobs=True, banner=False, select=1)
    long_text = (
        "Slow dolly across a rain-soaked neon market at night; vendors shout, steam rises from noodle stalls, "
        "reflections ripple in puddles as a courier on a bicycle weaves between umbrellas, "
    )
    over = Storyboard(
        title="Neon market (too long)",
        shots=tuple(Shot((long_text * 3)[: 500 + i * 9], 3) for i in range(6)),
    )
    shoot("over-limit.png", over, jobs=False, banner=False, select=5)

    # The queue with jobs in several states and the preview with shot markers (issue 6),
    # rendered in the work folder so their demo media stay out of docs/.
    from kling_studio.ui import preview_panel, queue_panel

    for name, save in (
        ("queue.png", queue_panel.save_demo_screenshot),
        ("preview.png", preview_panel.save_demo_screenshot),
    ):
        shot = save(work / "panels" / name)
        target = out_dir / name
        shutil.copyfile(shot, target)
        written.append(target)
    return written


def render_studio(path: Path, theme: str) -> Path:
    """The studio filling the screen this process was started on (see ``STUDIO_SHOTS``)."""
    from PySide6.QtWidgets import QApplication

    from kling_studio.services.paths import app_paths
    from kling_studio.services.settings import AppSettings
    from kling_studio.ui.demo.scene import demo_jobs, open_scene
    from kling_studio.ui.main_window import StudioWindow
    from kling_studio.ui.preview_sample import write_sample_video
    from kling_studio.ui.queue_demo import DemoEngine
    from kling_studio.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_theme(app, theme)
    work = Path(tempfile.mkdtemp(prefix="kling-shots-"))
    video = write_sample_video(work / "take.mp4", (4, 3, 3, 4), size=(320, 180), fps=4)
    engine = DemoEngine(demo_jobs(video), is_local=True)
    window = StudioWindow(AppSettings(banner_dismissed=True), engine=engine, paths=app_paths().ensure())
    window.attach_job_panels(engine)
    window.resize(window.screen().availableGeometry().size())  # as a maximised window
    window.show()
    open_scene(window, four_shot_storyboard(draw_first_frame(work / "lighthouse.png")), select=1)
    for _ in range(10):
        app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path))
    release_window(window)
    return path


def render_studio_sizes(out_dir: Path) -> list[Path]:
    """One child process per screen size (a QApplication reads its screens once)."""
    written = []
    for name, width, height, theme in STUDIO_SHOTS:
        target = out_dir / name
        run_on_screen(width, height, "kling_studio.ui.demo.screenshots", "--studio", str(target), "--theme", theme)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render Kling Studio's README screenshots.")
    parser.add_argument("out_dir", nargs="?", default="docs/screenshots")
    parser.add_argument("--studio", help="(internal) render only the studio at this process's screen size here")
    parser.add_argument("--theme", default="dark")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A throwaway home: the user's saved layout and settings must not leak into the pictures.
    os.environ["KLING_STUDIO_HOME"] = tempfile.mkdtemp(prefix="kling-shots-home-")
    if args.studio:
        print(render_studio(Path(args.studio), args.theme))
        return 0
    for path in render_studio_sizes(Path(args.out_dir)):
        print(path)
    for path in render(Path(args.out_dir)):
        print(path)
    from kling_studio.ui.demo.sequence_shots import render_sequence_shots

    for path in render_sequence_shots(Path(args.out_dir)):  # the segment strip and Compare takes
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

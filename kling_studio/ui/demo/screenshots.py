"""Render the README screenshots: ``python -m kling_studio.ui.screenshots OUTDIR``.

Works offscreen (``QT_QPA_PLATFORM=offscreen``) or under Xvfb; each picture is the real window
grabbed with ``QWidget.grab()``, in the dark theme, at a fixed size so the pictures do not drift.
The first frame is drawn here with Pillow (no third-party artwork).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from kling_studio.domain.jobs import JobState
from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot, Storyboard

SIZE = (1480, 980)

FOUR_SHOTS = (
    Shot("Wide establishing shot: a lighthouse on a basalt cliff at blue hour, waves rolling in slow motion", 4),
    Shot("The keeper climbs the spiral stairs, lantern light sweeping across brass and glass; handheld", 3),
    Shot("Close-up: the great lens turns and the beam ignites, dust sparkling in the light", 3),
    Shot("Drone pull-back over the sea as the beam cuts through the fog, the coast glowing below", 4),
)


def draw_first_frame(path: Path, size: tuple[int, int] = (1280, 720)) -> Path:
    """A lighthouse at dusk: gradient sky, sea, cliff, tower and beam."""
    w, h = size
    img = Image.new("RGB", size)
    px = ImageDraw.Draw(img)
    horizon = int(h * 0.62)
    for y in range(horizon):
        t = y / horizon
        px.line([(0, y), (w, y)], fill=(int(28 + 200 * t**1.6), int(34 + 90 * t**1.4), int(78 + 60 * t)))
    for y in range(horizon, h):
        t = (y - horizon) / (h - horizon)
        px.line([(0, y), (w, y)], fill=(int(40 - 25 * t), int(52 - 30 * t), int(88 - 40 * t)))
    for i in range(90):  # glints on the water
        x = (i * 137) % w
        y = horizon + 6 + (i * 53) % (h - horizon - 10)
        px.line([(x, y), (x + 18 + i % 30, y)], fill=(120, 110, 150), width=1)
    px.polygon(
        [(w * 0.56, h), (w * 0.66, horizon - 40), (w * 0.8, horizon - 70), (w, horizon - 60), (w, h)], fill=(18, 20, 28)
    )
    base_x, base_y = int(w * 0.76), horizon - 66
    px.polygon(
        [(base_x - 22, base_y), (base_x + 22, base_y), (base_x + 12, base_y - 190), (base_x - 12, base_y - 190)],
        fill=(226, 222, 214),
    )
    for k in range(3):
        y = base_y - 40 - k * 50
        px.rectangle([base_x - 20 + k * 3, y, base_x + 20 - k * 3, y + 14], fill=(190, 52, 48))
    lamp = (base_x, base_y - 205)
    px.rectangle([base_x - 14, base_y - 218, base_x + 14, base_y - 190], fill=(255, 226, 150))
    beam = Image.new("RGBA", size, (0, 0, 0, 0))
    bd = ImageDraw.Draw(beam)
    angle = math.radians(196)
    far = (lamp[0] + math.cos(angle) * w * 1.2, lamp[1] + math.sin(angle) * w * 0.3)
    bd.polygon([lamp, (far[0], far[1] - 90), (far[0], far[1] + 70)], fill=(255, 236, 180, 70))
    beam = beam.filter(ImageFilter.GaussianBlur(12))
    img.paste(beam, (0, 0), beam)
    img.save(path)
    return path


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
            window.first_frame.accept_measured(ff.path, measure_image(ff.path, 192, 108))
        window.document.select(select)
        window.show()
        for _ in range(6):
            app.processEvents()
        path = out_dir / name
        window.grab().save(str(path))
        written.append(path)
        window.files.shutdown()
        window.generation.shutdown()
        if window.job_panels is not None:
            window.job_panels.shutdown()
        window.hide()
        window.deleteLater()
        app.processEvents()

    shoot("empty-project.png", Storyboard(title="Untitled", shots=(Shot("", 5),)), jobs=False, banner=True)
    four = Storyboard(
        title="Lighthouse at blue hour",
        shots=FOUR_SHOTS,
        settings=GenerationSettings(resolution="1080p"),
        first_frame=FirstFrame(path=str(frame)),
    )
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render Kling Studio's README screenshots.")
    parser.add_argument("out_dir", nargs="?", default="docs/screenshots")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A throwaway home: the user's saved layout and settings must not leak into the pictures.
    os.environ["KLING_STUDIO_HOME"] = tempfile.mkdtemp(prefix="kling-shots-home-")
    for path in render(Path(args.out_dir)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

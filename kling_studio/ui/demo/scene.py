"""The studio as a creator has it mid-work: a 4-shot storyboard, a first frame, warnings, and
jobs in the queue. Shared by the screenshots and the layout audit so both look at one scene."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from kling_studio.domain.jobs import JobState
from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot, Storyboard

# Semicolons are reported (text_sanitized): the diagnostics list shows warnings, as it would.
FOUR_SHOTS = (
    Shot("Wide establishing shot: a lighthouse on a basalt cliff at blue hour; waves rolling in slow motion", 4),
    Shot("The keeper climbs the spiral stairs; lantern light sweeping across brass and glass, handheld", 3),
    Shot("Close-up: the great lens turns and the beam ignites; dust sparkling in the light", 3),
    Shot("Drone pull-back over the sea as the beam cuts through the fog, the coast glowing below", 4),
)


def draw_first_frame(path: Path, size: tuple[int, int] = (1280, 720)) -> Path:
    """A lighthouse at dusk: gradient sky, sea, cliff, tower and beam (no third-party artwork)."""
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


def four_shot_storyboard(frame: Path) -> Storyboard:
    return Storyboard(
        title="Lighthouse at blue hour",
        shots=FOUR_SHOTS,
        settings=GenerationSettings(resolution="1080p"),
        first_frame=FirstFrame(path=str(frame)),
    )


def demo_jobs(video: Path | None = None) -> list[Any]:
    """Three queue rows: a finished take, one rendering, one waiting."""
    from kling_studio.ui.queue_demo import make_job

    now = time.time()
    done: dict[str, Any] = {"actual_cost_usd": 1.57, "finished_at": now - 700, "progress": 100}
    if video is not None:
        done["video_path"] = str(video)
    return [
        make_job("Lighthouse — take 1", state=JobState.DONE, shots=(4, 3, 3, 4), created_at=now - 900, **done),
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
        make_job("Lighthouse — take 3", state=JobState.QUEUED, shots=(4, 3, 3, 4), created_at=now - 5),
    ]


def open_scene(
    window: Any, storyboard: Storyboard, *, select: int = 0, video: Path | None = None, starts: list[int] | None = None
) -> None:
    """Load ``storyboard`` (measuring its first frame here: a script has no event loop) and,
    with ``video``, show it in the preview as a finished take would be."""
    from kling_studio.ui.first_frame_io import measure_image
    from kling_studio.ui.first_frame_panel import THUMB_SIZE

    window.document.load(storyboard, None)
    ff = storyboard.first_frame
    if ff is not None and ff.path is not None:
        window.first_frame.accept_measured(ff.path, measure_image(ff.path, THUMB_SIZE.width(), THUMB_SIZE.height()))
    window.document.select(select)
    panels = window.job_panels
    if video is not None and panels is not None and panels.preview is not None:
        panels.preview.load(str(video), starts or [0])


def run_on_screen(width: int, height: int, module: str, *args: str) -> None:
    """``python -m module args…`` in a child process whose offscreen screen is ``width``×``height``
    (a QApplication reads its screens once) and whose data folder is a fresh temporary one."""
    config = Path(tempfile.mkdtemp(prefix="kling-screen-")) / "screens.json"
    screen = {"name": "screen", "x": 0, "y": 0, "width": width, "height": height}
    screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [screen]}), "utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    env["KLING_STUDIO_HOME"] = tempfile.mkdtemp(prefix="kling-shots-home-")
    subprocess.run([sys.executable, "-m", module, *args], env=env, check=True, stderr=subprocess.DEVNULL)


def release_window(window: Any) -> None:
    """What closing the window would stop (autosave, generation, the job panels), without closing it."""
    window.files.shutdown()
    window.generation.shutdown()
    if window.job_panels is not None:
        window.job_panels.shutdown()

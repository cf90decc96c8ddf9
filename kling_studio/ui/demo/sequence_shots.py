"""README pictures of sequences: the segment strip (a 3-segment film) and Compare takes, 1366×768.

``python -m kling_studio.ui.demo.sequence_shots OUTDIR`` renders both in a child process whose
offscreen screen is 1366×768 (the platform reads its screen when the QApplication starts).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from kling_studio.ui.demo.scene import release_window, run_on_screen

WIDTH, HEIGHT = 1366, 768
SEGMENTS = (
    ("Harbour at dawn", (("Fog lifts off the harbour water", 4), ("A fishing boat leaves the quay", 4))),
    ("Open sea", (("The boat cuts through grey swell", 5), ("Gulls follow the wake", 3))),
    ("Storm", (("Rain lashes the wheelhouse window", 4), ("Lightning shows the lighthouse", 4))),
)


def _take(project: Path, segment: int, take: int, video: Path, when: float) -> object:
    from kling_studio.domain.jobs import JobState
    from kling_studio.ui.queue_demo import make_job

    job = make_job(f"{SEGMENTS[segment - 1][0]}", state=JobState.DONE, shots=(4, 4), created_at=when)
    tag = {"plan": "demo", "segment": segment, "take": take, "source": None}
    return replace(
        job,
        project_path=str(project),
        video_path=str(video),
        finished_at=when + 60,
        actual_cost_usd=0.0,
        storyboard={**job.storyboard, "sequence": tag},
    )


def render_here(out_dir: Path) -> list[Path]:
    """In this process (its screen already 1366×768): both pictures."""
    from PySide6.QtWidgets import QApplication

    from kling_studio.domain.sequence import Segment, SequenceProject
    from kling_studio.domain.storyboard import Shot
    from kling_studio.services.paths import app_paths
    from kling_studio.services.sequence_io import save_sequence
    from kling_studio.services.settings import AppSettings
    from kling_studio.ui.main_window import StudioWindow
    from kling_studio.ui.preview_sample import write_sample_video
    from kling_studio.ui.queue_demo import DemoEngine
    from kling_studio.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")
    work = Path(tempfile.mkdtemp(prefix="kling-seq-shots-"))
    project_path = work / "voyage.kling.json"
    segments = tuple(
        Segment(title=title, shots=tuple(Shot(t, s) for t, s in shots), from_previous=i > 0)
        for i, (title, shots) in enumerate(SEGMENTS)
    )
    now = time.time() - 3600
    videos = {
        (seg, take): write_sample_video(work / f"segment{seg}-take{take}.mp4", (4, 4), size=(320, 180), fps=4)
        for seg, take in ((1, 1), (1, 2), (2, 1), (2, 2))
    }
    segments = (segments[0].with_pick(str(videos[(1, 2)])), *segments[1:])
    project = SequenceProject(title="Voyage", segments=segments)
    save_sequence(project_path, project)
    jobs = [_take(project_path.resolve(), s, t, v, now + 100 * (2 * s + t)) for (s, t), v in videos.items()]
    engine = DemoEngine(jobs, is_local=True)  # type: ignore[arg-type]
    window = StudioWindow(AppSettings(banner_dismissed=True), engine=engine, paths=app_paths().ensure())
    window.attach_job_panels(engine)
    window.resize(window.screen().availableGeometry().size())
    window.show()
    assert window.files.open(str(project_path), confirmed=True)
    ui = window.sequence_ui
    window.files.sequence.show_segment(1)
    ui.takes.setValue(2)
    for _ in range(10):
        app.processEvents()
    ui.strip.frames.wait()
    ui.frames.wait()
    for _ in range(10):
        app.processEvents()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "sequence-strip.png", out_dir / "compare-takes.png"]
    window.grab().save(str(written[0]))
    ui.compare()
    dialog = ui.compare_dialog
    dialog.resize(1100, 600)
    dialog.set_active(1)
    dialog.show()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    dialog.grab().save(str(written[1]))
    dialog.close()
    ui.shutdown()
    release_window(window)
    return written


def render_sequence_shots(out_dir: Path) -> list[Path]:
    """Both pictures, rendered in a child process on a 1366×768 offscreen screen."""
    run_on_screen(WIDTH, HEIGHT, "kling_studio.ui.demo.sequence_shots", "--here", str(out_dir))
    return [out_dir / "sequence-strip.png", out_dir / "compare-takes.png"]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--here":
        for path in render_here(Path(args[1])):
            print(path)
        return 0
    for path in render_sequence_shots(Path(args[0] if args else "docs/screenshots")):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""GUI frame time under load: the studio with the real engine against ``serve-local``.

200 jobs polling (``--task-seconds 20``, all in flight) and 3 large downloads streaming
(200 MB each from a loopback file server, through ``KlingClient.download`` on the same loop)
while a widget in the window repaints as fast as the GUI thread lets it. The frame time is
the interval between its paints; printed as median, p99 and max, beside the same widget's
frame time with the studio idle (measured first, in the same run). Floor: p99 ≤ 16.7 ms.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_load_bench.py [--jobs 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HOME = Path(tempfile.mkdtemp(prefix="kling-gui-load-"))
os.environ["KLING_STUDIO_HOME"] = str(HOME)
os.environ.pop("KLING_STUDIO_API_KEY", None)

import qasync  # noqa: E402
from benchlib import report  # noqa: E402
from download_bench import free_port, make_file, wait_for  # noqa: E402
from PySide6.QtGui import QPainter, QPaintEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from kling_studio.domain.storyboard import GenerationSettings, Shot, Storyboard  # noqa: E402
from kling_studio.services.api_client import KlingClient  # noqa: E402
from kling_studio.services.job_engine import JobEngine  # noqa: E402
from kling_studio.services.local_backend import LocalBackend  # noqa: E402
from kling_studio.services.settings import AppSettings  # noqa: E402
from kling_studio.ui.main_window import StudioWindow  # noqa: E402

MB = 1_000_000


class FrameMeter(QWidget):
    """Repaints again as soon as it has painted: the interval between paints is the frame time."""

    def __init__(self) -> None:
        super().__init__()
        self.setFixedSize(48, 24)
        self.stamps: list[float] = []
        self.recording = False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        painter.drawText(self.rect(), 0, str(len(self.stamps) % 100))
        painter.end()
        if self.recording:
            self.stamps.append(time.perf_counter())
        self.update()

    def take(self) -> list[float]:
        stamps, self.stamps = self.stamps, []
        return [(b - a) * 1000 for a, b in itertools.pairwise(stamps)]


def summary(frames: list[float]) -> tuple[float, float, float]:
    ordered = sorted(frames)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], ordered[-1]


async def measure(meter: FrameMeter, seconds: float) -> list[float]:
    meter.recording = True
    meter.update()
    await asyncio.sleep(seconds)
    meter.recording = False
    return meter.take()


async def bench(jobs: int, seconds: float, downloads: int, size_mb: int) -> int:
    local = LocalBackend(task_seconds=20.0)
    await local.ensure_started()
    settings = AppSettings(backend="local", concurrency=jobs, library_dir=str(HOME / "library"), banner_dismissed=True)
    engine = JobEngine(settings, local_backend=local)
    window = StudioWindow(settings, store_settings=lambda _s: None)
    meter = FrameMeter()
    window.statusBar().addPermanentWidget(meter)
    window.resize(1366, 768)
    window.show()
    await engine.start()
    window.set_engine(engine)
    window.attach_job_panels(engine)
    await asyncio.sleep(0.5)
    idle = await measure(meter, min(5.0, seconds))

    serve = HOME / "serve"
    serve.mkdir()
    source = make_file(serve, size_mb * MB)
    port = free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 - the file server lives for the whole run
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(serve)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        url = f"http://127.0.0.1:{port}/{source.name}"
        boards = [
            Storyboard(
                title=f"Load {n:03}",
                shots=(Shot(f"take {n}: rain on a window at night", 3),),
                settings=GenerationSettings(resolution="720p"),
            )
            for n in range(jobs)
        ]
        for board in boards:
            await engine.submit_storyboard(board)
        async with KlingClient(None, f"http://127.0.0.1:{port}") as client:
            pulls = [
                asyncio.ensure_future(client.download(url, HOME / "out" / f"big-{n}.mp4")) for n in range(downloads)
            ]
            loaded = await measure(meter, seconds)
            await asyncio.gather(*pulls, return_exceptions=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
        window.shutdown() if hasattr(window, "shutdown") else None
        await engine.stop()
        await local.stop()
        window.document.undo_stack.setClean()
        window.close()

    for name, frames in (("idle", idle), ("under load", loaded)):
        median, p99, worst = summary(frames)
        print(
            f"  {name:10s}: {len(frames):6d} frames   median {median:6.2f} ms   p99 {p99:6.2f} ms   max {worst:6.1f} ms"
        )
    print(f"load: {jobs} jobs polling (task 20 s), {downloads} × {size_mb} MB downloads, {seconds:g} s measured")
    report(f"GUI frame time (p99), {jobs} jobs polling + {downloads} downloads", summary(loaded)[1], "ms", 16.7, 8)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--downloads", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=200)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        code = runner.run(bench(args.jobs, args.seconds, args.downloads, args.size_mb))
    os._exit(code)  # the figures are out; skip Qt's teardown of a busy window


if __name__ == "__main__":
    sys.exit(main())

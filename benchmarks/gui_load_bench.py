"""GUI frame time under load: the studio with the real engine against ``serve-local``.

200 jobs polling (``--task-seconds 20``, all in flight) and 3 large downloads streaming for the
whole measured window (200 MB each from a loopback file server, through ``KlingClient.download``
on the same loop; each starts again when it ends) while a widget in the window is asked for a
frame 60 times a second.

The frame clock: due moments at a fixed 1/60 s schedule from a monotonic clock (not "every
16 ms after the last one", which drifts and hides lateness). A precise single-shot timer wakes
at each due moment and asks the widget to repaint; a frame's time is from its due moment to the
end of the paint that shows it. A GUI-thread stall of N ms is an N-ms frame; due moments that
pass during a stall are missed frames and each counts, late, at the paint that finally comes.
(The earlier meter repainted from inside its own paint event: thousands of sub-millisecond
frames a second diluted the p99 into saying nothing about stalls.) Printed: median, p99, max
and frames over 16.7 ms, with the studio idle and under load, in the same run.
Floor: p99 ≤ 16.7 ms; goal ≤ 8 ms.

``--inject-stall-ms N`` sleeps N ms on the GUI thread once a second (both phases): a check that
the meter sees stalls (its p99/max must show them).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_load_bench.py [--jobs 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
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
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtGui import QPainter, QPaintEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from kling_studio.domain.storyboard import GenerationSettings, Shot, Storyboard  # noqa: E402
from kling_studio.services.api_client import KlingClient  # noqa: E402
from kling_studio.services.job_engine import JobEngine  # noqa: E402
from kling_studio.services.local_backend import LocalBackend  # noqa: E402
from kling_studio.services.settings import AppSettings  # noqa: E402
from kling_studio.ui.main_window import StudioWindow  # noqa: E402

MB = 1_000_000


PERIOD = 1 / 60
LATE_MS = 1000 / 60


class FrameMeter(QWidget):
    """Asked for a frame at every 1/60 s due moment; a frame's time runs from due to painted."""

    def __init__(self) -> None:
        super().__init__()
        self.setFixedSize(48, 24)
        self.frames: list[float] = []  # ms, one per due moment, while recording
        self.recording = False
        self._pending: list[float] = []  # due moments not yet shown by a paint
        self._next_due = 0.0
        self._painted = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._next_due = time.perf_counter() + PERIOD
        self._arm()

    def _arm(self) -> None:
        # Whole milliseconds, rounded up: a timer that fires early just arms again for the rest.
        self._timer.start(max(0, math.ceil((self._next_due - time.perf_counter()) * 1000)))

    def _tick(self) -> None:
        now = time.perf_counter()
        if now >= self._next_due:
            while self._next_due <= now:  # every due moment passed, missed ones included
                self._pending.append(self._next_due)
                self._next_due += PERIOD
            self.update()
        self._arm()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        painter.drawText(self.rect(), 0, str(self._painted % 100))
        painter.end()
        self._painted += 1
        done = time.perf_counter()
        if self.recording:
            self.frames.extend((done - due) * 1000 for due in self._pending)
        self._pending.clear()

    def begin(self) -> None:
        """Record from now: only frames due from now on count (not one left over from before)."""
        self._pending.clear()
        self.recording = True

    def take(self) -> list[float]:
        frames, self.frames = self.frames, []
        return frames


def summary(frames: list[float]) -> tuple[float, float, float, int]:
    """Median, p99, max (ms) and the count of frames later than one 60 Hz period."""
    ordered = sorted(frames)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1], sum(1 for f in ordered if f > LATE_MS)


async def measure(meter: FrameMeter, seconds: float) -> list[float]:
    meter.begin()
    await asyncio.sleep(seconds)
    meter.recording = False
    return meter.take()


def inject_stalls(parent: QWidget, stall_ms: float) -> QTimer:
    """Self-check: block the GUI thread ``stall_ms`` once a second (the meter must show it)."""
    timer = QTimer(parent)
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: time.sleep(stall_ms / 1000))
    timer.start(1000)
    return timer


async def keep_downloading(client: KlingClient, url: str, dest: Path, moved: list[int]) -> None:
    """One stream for the whole window: the file again as soon as it has arrived."""
    while True:
        before = moved[0]

        def count(done: int, _total: int | None, before: int = before) -> None:
            moved[0] = before + done

        await client.download(url, dest, on_progress=count)
        await asyncio.to_thread(dest.unlink)  # off the GUI thread: the bench must not add stalls


async def bench(jobs: int, seconds: float, downloads: int, size_mb: int, stall_ms: float) -> int:
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
    serve = HOME / "serve"
    serve.mkdir()
    source = await asyncio.to_thread(make_file, serve, size_mb * MB)
    port = free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 - the file server lives for the whole run
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(serve)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    moved = [0]
    try:
        wait_for(port)
        # Built in a thread, as the engine builds its own: loading the CA bundle is not GUI work.
        client = await asyncio.to_thread(KlingClient, None, f"http://127.0.0.1:{port}")
        if stall_ms > 0:
            inject_stalls(window, stall_ms)
        meter.start()
        await asyncio.sleep(0.5)
        idle = await measure(meter, min(5.0, seconds))
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
        async with client:
            pulls = [
                asyncio.ensure_future(keep_downloading(client, url, HOME / "out" / f"big-{n}.mp4", moved))
                for n in range(downloads)
            ]
            started = time.perf_counter()
            loaded = await measure(meter, seconds)
            streamed = time.perf_counter() - started
            # The figures first: nothing after the measurement may keep them from being printed.
            print_figures(idle, loaded, jobs, downloads, size_mb, seconds, stall_ms, moved[0] / MB / streamed)
            for pull in pulls:
                pull.cancel()
            await asyncio.gather(*pulls, return_exceptions=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
        # Not window.close(): closing a studio whose preview holds a video can block inside Qt's
        # FFmpeg backend (seen twice here); the process ends with os._exit after the figures.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(engine.stop(), 15)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(local.stop(), 15)
        window.document.undo_stack.setClean()
    return 0


def print_figures(
    idle: list[float],
    loaded: list[float],
    jobs: int,
    downloads: int,
    size_mb: int,
    seconds: float,
    stall_ms: float,
    rate: float,
) -> None:
    print(f"60 Hz frame clock; frame time = due moment → end of its paint (over {LATE_MS:.1f} ms = late or missed)")
    for name, frames in (("idle", idle), ("under load", loaded)):
        median, p99, worst, late = summary(frames)
        print(
            f"  {name:10s}: {len(frames):5d} frames   median {median:6.2f} ms   p99 {p99:6.2f} ms"
            f"   max {worst:6.1f} ms   over {LATE_MS:.1f} ms: {late}"
        )
    print(
        f"load: {jobs} jobs polling (task 20 s), {downloads} downloads streaming ({size_mb} MB file, "
        f"{rate:.0f} MB/s together), {seconds:g} s measured"
        + (f"; injected {stall_ms:g} ms GUI stall every 1 s" if stall_ms > 0 else ""),
        flush=True,
    )
    report(f"GUI frame time (p99), {jobs} jobs polling + {downloads} downloads", summary(loaded)[1], "ms", 16.7, 8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--downloads", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument(
        "--inject-stall-ms", type=float, default=0.0, help="self-check: block the GUI thread this long every second"
    )
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        code = runner.run(bench(args.jobs, args.seconds, args.downloads, args.size_mb, args.inject_stall_ms))
    sys.stdout.flush()
    os._exit(code)  # the figures are out; skip Qt's teardown of a busy window


if __name__ == "__main__":
    sys.exit(main())

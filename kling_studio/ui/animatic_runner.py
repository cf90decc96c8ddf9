"""Play animatic: render the storyboard locally in a child process and report the MP4.

The renderer lives in ``localapi`` (its own process by design); the window runs
``python -m kling_studio animatic PROJECT -o OUT.mp4`` with ``QProcess`` so rendering never
touches the GUI thread, and reads percentages from its output for the progress bar.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

from kling_studio.domain.project_file import dumps_project
from kling_studio.domain.storyboard import Storyboard

_PERCENT = re.compile(r"(\d{1,3})\s*%")


class AnimaticRunner(QObject):
    progress = Signal(int)  # 0–100, or -1 while the renderer says nothing measurable
    finished = Signal(str)  # path of the MP4
    failed = Signal(str)  # a message for people

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process: QProcess | None = None
        self._out: Path | None = None
        self._output = ""
        self._runs = 0
        self._folder = tempfile.TemporaryDirectory(prefix="kling-animatic-")

    @property
    def running(self) -> bool:
        return self._process is not None

    def start(self, storyboard: Storyboard) -> bool:
        if self._process is not None:
            return False
        folder = Path(self._folder.name)
        project = folder / "animatic.kling.json"
        project.write_text(dumps_project(storyboard, None), encoding="utf-8")
        self._runs += 1
        self._out = folder / f"animatic-{self._runs}.mp4"
        self._output = ""
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._done)
        process.errorOccurred.connect(self._error)
        self._process = process
        self.progress.emit(-1)
        process.start(sys.executable, ["-m", "kling_studio", "animatic", str(project), "-o", str(self._out)])
        return True

    def cancel(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.waitForFinished(2000)

    def _read(self) -> None:
        if self._process is None:
            return
        chunk = bytes(self._process.readAllStandardOutput().data()).decode("utf-8", "replace")
        self._output = (self._output + chunk)[-4000:]
        found = _PERCENT.findall(chunk)
        if found:
            self.progress.emit(min(100, int(found[-1])))

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._process = None
            self.failed.emit("The animatic renderer could not start.")

    def _done(self, code: int, status: QProcess.ExitStatus) -> None:
        self._process = None
        out = self._out
        if status == QProcess.ExitStatus.NormalExit and code == 0 and out is not None and out.exists():
            self.progress.emit(100)
            self.finished.emit(str(out))
            return
        tail = self._output.strip().splitlines()[-1:] or ["no output"]
        self.failed.emit(f"The animatic could not be rendered (exit {code}): {tail[0]}")

    def close(self) -> None:
        self.cancel()
        self._folder.cleanup()

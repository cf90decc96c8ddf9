"""Composition root: builds the services, injects them into the window, runs qasync.

Start and stop the qasync way (ARCHITECTURE.md §5): ``asyncio.Runner`` with a
``qasync.QEventLoop``; ``main`` awaits an event set by ``aboutToQuit``, then cancels what it
started and stops the engine.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import logging.handlers
import sys
import traceback
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

from kling_studio import __version__
from kling_studio.services.paths import AppPaths, app_paths
from kling_studio.services.secrets import get_api_key
from kling_studio.services.settings import AppSettings, load_settings

log = logging.getLogger("kling_studio")

SMOKE_MS = 800
SAMPLE_PROJECT = ("sample", "sample.kling.json")


def setup_logging(paths: AppPaths) -> None:
    """The rotating, secret-scrubbing log file (services.logging_setup); stderr if that fails."""
    try:
        from kling_studio.services.logging_setup import setup_logging as setup

        setup(paths.log_dir)
    except (ImportError, OSError):
        logging.basicConfig(level=logging.INFO)


def install_excepthook(show: bool) -> None:
    """One error path for the unexpected: log it, then tell the user plainly."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        if not show:
            traceback.print_exception(exc_type, exc, tb)
            return
        from PySide6.QtWidgets import QApplication, QMessageBox

        if QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Something went wrong", f"{exc_type.__name__}: {exc}")
        box.setInformativeText("Your storyboard is autosaved. The details are in the log file (Help → About).")
        box.setDetailedText("".join(traceback.format_exception(exc_type, exc, tb))[-6000:])
        box.exec()

    sys.excepthook = hook


def build_engine(settings: AppSettings, paths: AppPaths, force_local: bool) -> Any | None:
    """The real job engine when its module is present; None (window still works) otherwise."""
    try:
        from kling_studio.services.job_engine import JobEngine  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        log.warning("the job engine is not available; submitting is disabled")
        return None
    offered: dict[str, Any] = {"paths": paths, "force_local": force_local}
    params = inspect.signature(JobEngine).parameters
    kwargs = {k: v for k, v in offered.items() if k in params}
    return JobEngine(settings, **kwargs)


def sample_project() -> str | None:
    path = resources.files("kling_studio").joinpath("resources", *SAMPLE_PROJECT)
    return str(path) if path.is_file() else None


def initial_project(file: str | None, settings: AppSettings) -> str | None:
    """What to open: the file given, else with a key the last project, else the sample."""
    if file:
        return file
    if settings.last_project and Path(settings.last_project).is_file():
        return settings.last_project
    if get_api_key() is None and not settings.last_project:
        return sample_project()
    return None


def _open_first_project(window: Any, file: str | None, settings: AppSettings, smoke: bool) -> None:
    if smoke:
        if file:
            window.files.open(file, confirmed=True)
        return
    if window.files.offer_recovery():
        return
    start = initial_project(file, settings)
    if start:
        # The bundled sample lives inside the package: open it as an untitled copy so a Save
        # never writes into the installation (or the repository).
        window.files.open(start, confirmed=True, as_copy=start == sample_project() and not file)


async def _main(app: Any, file: str | None, smoke: bool, force_local: bool) -> int:
    from PySide6.QtCore import QTimer

    from kling_studio.ui.main_window import StudioWindow
    from kling_studio.ui.theme import apply_theme

    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    # The window closing ends the app; the loop keeps running until the engine has stopped.
    app.setQuitOnLastWindowClosed(False)
    app.lastWindowClosed.connect(closed.set)
    hard_quit = False

    def about_to_quit() -> None:
        nonlocal hard_quit
        hard_quit = True  # app.quit() from elsewhere: the Qt loop is ending, await nothing more
        closed.set()

    app.aboutToQuit.connect(about_to_quit)
    paths = app_paths().ensure()
    settings = load_settings(paths.settings_file)
    apply_theme(app, settings.theme)
    # The editor first: people see their storyboard while the engine and the queue start.
    window = StudioWindow(settings, engine=None, paths=paths)
    if smoke or window.files.recovery.read() is None:
        _open_first_project(window, file, settings, smoke)  # no question to ask: open before painting
    else:
        # The recovery question runs as a plain Qt callback, never inside a task: a modal
        # dialog's nested event loop must not re-enter a running task.
        QTimer.singleShot(0, lambda: _open_first_project(window, file, settings, smoke))
    window.show()
    if smoke:
        QTimer.singleShot(SMOKE_MS, window.close)
    await asyncio.sleep(0.02)  # let the first paint through before the slower imports
    engine = build_engine(settings, paths, force_local)
    if engine is not None:
        try:
            await engine.start()
        except Exception:  # the editor stays usable without a queue
            log.exception("the job engine did not start")
            engine = None
    if not closed.is_set():
        window.set_engine(engine)
        window.attach_job_panels(engine)
        # Settings may build a new engine later (another backend, key or concurrency).
        window.engine_factory = lambda s: build_engine(s, paths, force_local)
    await closed.wait()
    engine = window.engine  # the one running now
    if engine is not None and not hard_quit:
        try:
            await engine.stop()
        except Exception:
            log.exception("the job engine did not stop cleanly")
    current = asyncio.current_task(loop)
    tasks = [t for t in asyncio.all_tasks(loop) if t is not current]
    for t in tasks:
        t.cancel()
    if tasks and not hard_quit:
        await asyncio.gather(*tasks, return_exceptions=True)
    return 0


def run_gui(file: str | None = None, *, smoke: bool = False, force_local: bool = False) -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    paths = app_paths()
    setup_logging(paths)
    log.info("Kling Studio %s starting", __version__)
    install_excepthook(show=not smoke)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Kling Studio")
    app.setOrganizationName("Kling Studio")
    app.setApplicationVersion(__version__)
    # Matches packaging/io.github.klingstudio.KlingStudio.desktop so the desktop shell groups the window.
    app.setDesktopFileName("io.github.klingstudio.KlingStudio")
    from kling_studio.ui.icons import app_icon

    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(True)
    factory: Callable[[], asyncio.AbstractEventLoop] = lambda: qasync.QEventLoop(app)  # noqa: E731
    with asyncio.Runner(loop_factory=factory) as runner:
        code = runner.run(_main(app, file, smoke, force_local))
    log.info("Kling Studio stopped")
    return code

"""Composition root: builds the services, injects them into the window, runs qasync.

Start and stop the qasync way (ARCHITECTURE.md §5): ``asyncio.Runner`` with a
``qasync.QEventLoop``; ``main`` awaits an event set by ``aboutToQuit``, then cancels what it
started and stops the engine.

One window per data folder (``ui.single_instance``): a second ``kling-studio FILE`` hands FILE to
the running window and exits 0. One engine per data folder (``services.engine_lock``): the window
takes the engine lock before the job store is opened; while a CLI ``resume``/``submit`` holds it,
the editor works, the queue says who runs the jobs, and the window takes the engine over as soon
as the lock is free.

First paint first (issue 13): ``run_gui`` builds the QApplication and the editor, opens the
project, shows the window and lets it paint; only then does it import asyncio/qasync and start
the rest (the keyring, the hand-over server, the engine, the queue/takes/preview panels), with
"Starting the queue…" in the status bar until the queue is ready. ``tests/test_import_budget.py``
keeps httpx, PyAV, OpenTimelineIO, keyring, QtMultimedia, sqlite3 and asyncio out of that path.
"""

from __future__ import annotations

import inspect
import logging
import logging.handlers
import os
import sys
import time
import traceback
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from kling_studio import __version__
from kling_studio.services.paths import AppPaths, app_paths
from kling_studio.services.secrets import ENV_VAR, get_api_key, key_configured
from kling_studio.services.settings import AppSettings, load_settings

if TYPE_CHECKING:
    import asyncio

    from PySide6.QtWidgets import QApplication

    from kling_studio.ui.main_window import StudioWindow

log = logging.getLogger("kling_studio")

SMOKE_MS = 800
SAMPLE_PROJECT = ("sample", "sample.kling.json")
HANDOVER_WAIT_S = 8.0  # a window that holds the lock may still be starting: how long to keep asking
LOCK_RETRY_S = 2.0  # without the engine lock: how often to try to take the queue over
FIRST_PAINT_WAIT_S = 1.0  # at most this long for the first paint (a hidden or minimised window never paints)
STARTING_QUEUE = "Starting the queue…"


def setup_logging(paths: AppPaths) -> None:
    """The rotating, secret-scrubbing log file (services.logging_setup); stderr if that fails."""
    try:
        from kling_studio.services.logging_setup import setup_logging as setup

        # The keyring's key is registered when it is first read (after the first paint).
        setup(paths.log_dir, ask_keyring=False)
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
        from kling_studio.services.redact import redact

        box = QMessageBox(QMessageBox.Icon.Critical, "Something went wrong", redact(f"{exc_type.__name__}: {exc}"))
        box.setInformativeText("Your storyboard is autosaved. The details are in the log file (Help → About).")
        box.setDetailedText(redact("".join(traceback.format_exception(exc_type, exc, tb))[-6000:]))
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
    if not settings.last_project and not key_configured():
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


class Instance:
    """What start-up settled: the engine lock (held or not), who else holds it, the server name."""

    def __init__(self, lock: Any, holder: Any, name: str | None) -> None:
        self.lock = lock
        self.holder = holder
        self.name = name


def claim_instance(paths: AppPaths, file: str | None, smoke: bool) -> Instance | None:
    """None: a running window for this data folder took ``file`` (exit 0). Else this process's
    share: the engine lock if it was free, or the holder's name if it was not."""
    from kling_studio.services.engine_lock import KIND_GUI, EngineLock, EngineLockHeld

    lock = EngineLock(paths.data_dir, KIND_GUI)
    if smoke:  # the packaging check: never hand over, never take another window's name
        try:
            return Instance(lock.acquire(), None, None)
        except EngineLockHeld as exc:
            return Instance(lock, exc.holder, None)
    from kling_studio.ui.instance_name import may_be_listening, server_name

    name = server_name(paths.data_dir)
    if _hand_over(name, file):
        return None
    try:
        return Instance(lock.acquire(), None, name)
    except EngineLockHeld as exc:
        holder = exc.holder
    if holder.kind == KIND_GUI:  # a window is starting: it listens once its first paint is done
        deadline = time.monotonic() + HANDOVER_WAIT_S
        while time.monotonic() < deadline:
            if may_be_listening(name) and _hand_over(name, file, 500):
                return None
            time.sleep(0.2)
    return Instance(lock, holder, name)


def _hand_over(name: str, file: str | None, timeout_ms: int = 3000) -> bool:
    """QtNetwork only when a window may listen: without its socket file nobody does."""
    from kling_studio.ui.instance_name import may_be_listening

    if not may_be_listening(name):
        return False
    from kling_studio.ui.single_instance import hand_over

    return hand_over(name, file, timeout_ms)


def _bring_forward(window: Any, path: str) -> None:
    """Another ``kling-studio FILE`` handed FILE over: show the window and open it."""
    from PySide6.QtCore import QTimer

    log.info("another instance handed over %s", path or "(no file)")
    if window.isMinimized():
        window.showNormal()
    window.raise_()
    window.activateWindow()
    if path:
        # Out of the socket's callback: opening may ask about unsaved changes in a modal dialog.
        QTimer.singleShot(0, lambda: window.files.open(path))


async def _take_engine_when_free(
    window: Any, instance: Instance, settings: AppSettings, paths: AppPaths, force_local: bool, closed: asyncio.Event
) -> None:
    """Without the lock the queue belongs to another process; take it over once that one ends."""
    import asyncio

    from kling_studio.services.engine_lock import EngineLockHeld

    message = f"The queue is run by {instance.holder.describe()}; it shows here when that finishes."
    window.set_queue_status(message)
    window.show_message(message, 0)
    while not closed.is_set():
        await asyncio.sleep(LOCK_RETRY_S)
        try:
            instance.lock.acquire()
        except EngineLockHeld:
            continue
        break
    if closed.is_set():
        return
    engine = await _start_engine(settings, paths, force_local)
    window.set_queue_status("")
    if window.job_panels is not None:
        window.detach_job_panels()
    window.set_engine(engine)
    window.attach_job_panels(engine)
    window.engine_factory = lambda s: build_engine(s, paths, force_local)
    window.show_message("The queue is running here now.")


async def _start_engine(settings: AppSettings, paths: AppPaths, force_local: bool) -> Any | None:
    engine = build_engine(settings, paths, force_local)
    if engine is not None:
        try:
            await engine.start()
        except Exception:  # the editor stays usable without a queue
            log.exception("the job engine did not start")
            engine = None
    return engine


class FirstPaint:
    """The painted editor and what start-up learnt on the way (before any event loop runs)."""

    def __init__(self, window: StudioWindow, settings: AppSettings) -> None:
        self.window = window
        self.settings = settings


def paint_editor(app: QApplication, paths: AppPaths, file: str | None, smoke: bool) -> FirstPaint:
    """Build the editor, open the project, show the window and return once it has painted.

    Nothing here imports the engine, HTTP, FFmpeg, the keyring, QtMultimedia or asyncio: the
    docks hold light placeholders and the backend label goes by the settings' keyring hint."""
    from PySide6.QtCore import QTimer

    from kling_studio.services.secrets import assume_key_until_asked
    from kling_studio.ui.engine_startup import EngineStartup
    from kling_studio.ui.main_window import StudioWindow
    from kling_studio.ui.theme import apply_theme

    paths.ensure()
    settings = load_settings(paths.settings_file)
    apply_theme(app, settings.theme)
    assume_key_until_asked(settings.key_in_keyring)
    window = StudioWindow(settings, engine=None, paths=paths)
    window.set_queue_status(STARTING_QUEUE)
    EngineStartup(window)  # while the engine starts, a Submit waits for it instead of being refused
    window.generation.update_submit_state()
    state = FirstPaint(window, settings)
    # The window closing ends the app; the loop keeps running until the engine has stopped.
    app.setQuitOnLastWindowClosed(False)
    if smoke or window.files.recovery.read() is None:
        _open_first_project(window, file, settings, smoke)  # no question to ask: open before painting
    else:
        # The recovery question runs as a plain Qt callback once the loop runs, never inside a
        # task: a modal dialog's nested event loop must not re-enter a running task.
        QTimer.singleShot(0, lambda: _open_first_project(window, file, settings, smoke))
    window.show()
    _wait_for_paint(app, window)
    return state


def _wait_for_paint(app: QApplication, window: StudioWindow) -> None:
    """Process events until the window has had its first paint event (or a short while passed)."""
    from PySide6.QtCore import QEvent, QObject

    class Painted(QObject):
        seen = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.seen = True
            return False

    probe = Painted()
    window.installEventFilter(probe)
    deadline = time.monotonic() + FIRST_PAINT_WAIT_S
    while not probe.seen and window.isVisible() and time.monotonic() < deadline:
        app.processEvents()
        if not probe.seen:
            time.sleep(0.001)  # an exposure from the display server is on its way
    window.removeEventFilter(probe)
    app.processEvents()  # what the paint posted (the children's paints) before the slow part


def _learn_key(window: StudioWindow) -> None:
    """After the first paint: ask the keyring (registering its key for redaction), correct the
    backend label if start-up's hint was wrong, and remember the answer as the next hint."""
    if os.environ.get(ENV_VAR, "").strip():
        return
    in_keyring = get_api_key() is not None
    window.update_backend_label()
    if window.settings.key_in_keyring != in_keyring:
        window.update_settings(key_in_keyring=in_keyring)


async def _main(
    app: QApplication,
    painted: FirstPaint,
    paths: AppPaths,
    file: str | None,
    smoke: bool,
    force_local: bool,
    instance: Instance | None = None,
) -> int:
    import asyncio

    from PySide6.QtCore import QTimer

    from kling_studio.ui import tasks as ui_tasks
    from kling_studio.ui.engine_startup import startup_of

    window, settings = painted.window, painted.settings
    loop = asyncio.get_running_loop()
    ui_tasks.start_waiting()  # e.g. measuring the opened project's first frame
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    if not window.isVisible():  # closed before the loop ran (no signal then)
        closed.set()
    hard_quit = False

    def about_to_quit() -> None:
        nonlocal hard_quit
        hard_quit = True  # app.quit() from elsewhere: the Qt loop is ending, await nothing more
        closed.set()

    app.aboutToQuit.connect(about_to_quit)
    if smoke:
        QTimer.singleShot(SMOKE_MS, window.close)
    _learn_key(window)
    server = None
    if instance is not None and instance.name:
        from kling_studio.ui.single_instance import InstanceServer

        server = InstanceServer(instance.name, window)
        server.open_requested.connect(lambda path: _bring_forward(window, path))
        server.listen()
    await asyncio.sleep(0)  # let a resize or a key press in before the engine's imports
    owns_engine = instance is None or instance.lock.held
    engine = await _start_engine(settings, paths, force_local) if owns_engine else None
    waiting: asyncio.Task[None] | None = None
    startup = startup_of(window)
    if startup is not None:
        startup.finish()  # a Submit made meanwhile goes on (or says the queue did not start)
    if not closed.is_set():
        window.set_queue_status("")
        window.set_engine(engine)
        window.attach_job_panels(engine)
        if owns_engine:
            # Settings may build a new engine later (another backend, key or concurrency).
            window.engine_factory = lambda s: build_engine(s, paths, force_local)
        elif instance is not None:
            waiting = asyncio.create_task(
                _take_engine_when_free(window, instance, settings, paths, force_local, closed)
            )
    await closed.wait()
    if waiting is not None:
        waiting.cancel()
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
    if server is not None:
        server.close()
    if instance is not None:
        instance.lock.release()  # after the engine (and its store) stopped
    return 0


def run_gui(file: str | None = None, *, smoke: bool = False, force_local: bool = False) -> int:
    from PySide6.QtWidgets import QApplication

    paths = app_paths()
    setup_logging(paths)
    instance = claim_instance(paths, file, smoke)
    if instance is None:
        log.info("handed %s to the Kling Studio window already running for %s", file or "nothing", paths.data_dir)
        return 0
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
    from kling_studio.ui import tasks

    tasks.expect_loop()  # what the editor starts before the loop runs waits for it
    painted = paint_editor(app, paths, file, smoke)
    # Everything below comes after the first paint: the asyncio loop, the keyring, the engine.
    import asyncio
    from collections.abc import Callable

    import qasync

    factory: Callable[[], asyncio.AbstractEventLoop] = lambda: qasync.QEventLoop(app)  # noqa: E731
    with asyncio.Runner(loop_factory=factory) as runner:
        code = runner.run(_main(app, painted, paths, file, smoke, force_local, instance))
    log.info("Kling Studio stopped")
    return code

"""Issue 11 §1: one window per data folder. A second ``kling-studio FILE`` hands FILE to the
running window and exits 0; the running window opens it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kling_studio import __version__
from kling_studio.services.engine_lock import KIND_CLI, KIND_GUI, EngineLock, LockHolder, read_holder
from kling_studio.services.paths import app_paths
from kling_studio.ui.single_instance import InstanceServer, hand_over, server_name
from tests.test_cli_jobs import write_project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX local sockets and flock")


def _gui_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KLING_STUDIO_API_KEY"}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return env  # KLING_STUDIO_HOME comes from the suite's isolated environment


def test_a_second_instance_hands_its_file_to_the_running_window(qtbot: QtBot, tmp_path: Path) -> None:
    data = app_paths().data_dir
    project = write_project(tmp_path, "Handed over")
    server = InstanceServer(server_name(data))
    assert server.listen()
    try:
        with EngineLock(data, KIND_GUI):  # what the running window holds
            with qtbot.waitSignal(server.open_requested, timeout=30_000) as opened:
                second = subprocess.Popen(
                    [sys.executable, "-m", "kling_studio", str(project)],
                    env=_gui_env(),
                    cwd=tmp_path,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            _out, err = second.communicate(timeout=30)
    finally:
        server.close()
    assert opened.args == [str(project.resolve())]
    assert second.returncode == 0, err


def test_hand_over_is_refused_when_no_window_listens(tmp_path: Path) -> None:
    assert hand_over(server_name(tmp_path / "nobody"), None, timeout_ms=200) is False


def test_two_studio_processes_one_window_opens_the_others_file(tmp_path: Path) -> None:
    """The whole path through app.py: the first window holds the engine lock and listens; a
    second ``python -m kling_studio FILE`` exits 0 and the first logs that it opened FILE."""
    paths = app_paths()
    project = write_project(tmp_path, "Second")
    env = _gui_env()
    first = subprocess.Popen(
        [sys.executable, "-m", "kling_studio", "--local"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while (holder := read_holder(paths.data_dir)) is None or holder.pid != first.pid:
            assert first.poll() is None and time.monotonic() < deadline, "the first window never took the lock"
            time.sleep(0.1)
        assert holder.kind == KIND_GUI
        second = subprocess.run(
            [sys.executable, "-m", "kling_studio", str(project)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 0, second.stderr
        log_file = paths.log_dir / "kling-studio.log"
        while f"another instance handed over {project.resolve()}" not in log_file.read_text(encoding="utf-8"):
            assert first.poll() is None and time.monotonic() < deadline, "the first window never opened the file"
            time.sleep(0.1)
        assert read_holder(paths.data_dir) == holder  # still one window, still the one engine
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)


def test_a_window_started_during_a_resume_takes_the_engine_when_it_ends(tmp_path: Path) -> None:
    """GUI plus ``resume``: the window does not run a second engine; it names the holder and
    takes the queue over once the lock is free."""
    paths = app_paths()
    cli = EngineLock(paths.data_dir, KIND_CLI, "resume").acquire()  # stands in for `kling-studio resume`
    window = subprocess.Popen(
        [sys.executable, "-m", "kling_studio", "--local"],
        env=_gui_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        log_file = paths.log_dir / "kling-studio.log"
        deadline = time.monotonic() + 60
        while not log_file.is_file() or f"Kling Studio {__version__} starting" not in log_file.read_text(
            encoding="utf-8"
        ):
            assert window.poll() is None and time.monotonic() < deadline, "the window never started"
            time.sleep(0.1)
        time.sleep(1.0)  # the window is up and polling the lock: it must not have taken it
        assert read_holder(paths.data_dir) == LockHolder(os.getpid(), KIND_CLI, "resume")
        cli.release()
        while (holder := read_holder(paths.data_dir)) is None or holder.pid != window.pid:
            assert window.poll() is None and time.monotonic() < deadline, "the window never took the engine"
            time.sleep(0.1)
        assert holder.kind == KIND_GUI
    finally:
        cli.release()
        window.send_signal(signal.SIGTERM)
        window.communicate(timeout=30)

"""The API key never lands on disk: a full submit → poll → download run against the local server
with a key, logging at DEBUG, then every file the app wrote is searched for the key's bytes."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import kling_studio
from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import JobState
from kling_studio.domain.storyboard import Shot
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.logging_setup import LOG_FILE_NAME, setup_logging, shutdown_logging
from kling_studio.services.paths import app_paths
from kling_studio.services.polling import PollPolicy
from kling_studio.services.project_io import load_project, save_project
from kling_studio.services.secrets import ENV_VAR
from kling_studio.services.settings import BACKEND_REMOTE, AppSettings, save_settings

KEY = "sk-NeverOnDisk-4c1f9e7b2a6d4e0f8b3a"
SAMPLE = Path(kling_studio.__file__).parent / "resources" / "sample" / "sample.kling.json"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    monkeypatch.setenv(ENV_VAR, KEY)
    with LocalServer(LocalServerConfig(api_key=KEY, task_seconds=0.2)) as running:
        yield running


def files_containing_key(*roots: Path) -> list[Path]:
    needle = KEY.encode()
    hits = []
    for root in roots:
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                path = Path(dirpath) / name
                if needle in path.read_bytes():
                    hits.append(path)
    return hits


async def test_api_key_is_never_written_after_a_full_run(server: LocalServer, tmp_path: Path) -> None:
    paths = app_paths().ensure()
    log_file = setup_logging(paths.log_dir, logging.DEBUG)
    try:
        settings = AppSettings(backend=BACKEND_REMOTE, base_url=server.base_url, task_seconds=0.2)
        save_settings(settings)
        # The sample's first frame makes this an image-to-video run, so the upload is exercised too.
        storyboard = load_project(SAMPLE).with_shots([Shot("The sun rises.", 1), Shot("Gulls lift off.", 2)])
        project = tmp_path / "project" / "leak-check.kling.json"
        project.parent.mkdir()
        save_project(project, storyboard)

        engine = JobEngine(settings, poll_policy=PollPolicy().scaled(0.02))
        await engine.start()
        try:
            assert not engine.is_local
            job = await engine.submit_storyboard(storyboard, project_path=str(project))
            async with asyncio.timeout(60):  # a hang fails here, with the job's state below
                (done,) = await engine.wait_for([job.id])
        finally:
            await engine.stop()
        logging.getLogger("kling_studio.test").debug("run finished with key %s in the message", KEY)
    finally:
        shutdown_logging()

    _assert_finished_without_leaks(done, log_file, settings.library_path(paths), project.parent)


def _assert_finished_without_leaks(done: JobRecord, log_file: Path, library: Path, project_dir: Path) -> None:
    paths = app_paths()
    assert done.state == JobState.DONE, (done.state, done.error_code, done.error_message)
    assert done.video_path is not None and Path(done.video_path).stat().st_size > 0
    assert done.sidecar_path is not None and Path(done.sidecar_path).is_file()
    assert paths.settings_file.is_file() and paths.job_store.is_file()
    log_text = log_file.read_text(encoding="utf-8")
    assert "DEBUG" in log_text and "[redacted]" in log_text  # logging really ran, and scrubbed
    assert "HTTP Request: POST" in log_text  # the submit itself was logged at DEBUG

    home = Path(os.environ["KLING_STUDIO_HOME"])
    written = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name.startswith(LOG_FILE_NAME) for p in written)
    assert files_containing_key(home, library, project_dir) == []

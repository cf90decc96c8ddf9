"""The write-ahead promise, proven with SIGKILL: a killed ``submit --wait`` loses nothing and
``resume --wait`` finishes every job with exactly one remote task and one MP4.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kling_studio.domain.jobs import JobState
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import POLL_SCALE_ENV
from kling_studio.services.job_runner import CRASH_ENV, CRASH_POINTS
from kling_studio.services.job_store import JobStore
from tests.test_cli_jobs import write_project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kling_studio", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _check_crash_left(point: str, home: Path, out: Path, server: LocalServer) -> None:
    """What the killed process left behind is what the point's name says."""
    store = JobStore(home / "data" / "jobs.sqlite3")
    try:
        (job,) = store.all()
    finally:
        store.close()
    sent = server.state.submissions_by_key.get(job.idempotency_key, 0)
    if point == "after_job_written":
        assert job.state == JobState.SUBMITTING and job.task_id is None and sent == 0
    elif point == "after_submit_before_task_id":
        assert job.state == JobState.SUBMITTING and job.task_id is None and sent == 1
    elif point == "mid_poll":
        assert job.state == JobState.SUBMITTED and job.task_id is not None
    else:
        assert job.state == JobState.DOWNLOADING and list(out.glob(".*.part")) and not list(out.glob("*.mp4"))


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_killed_submit_resumes_to_one_task_and_one_mp4(point: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "KLING_STUDIO_API_KEY"}
    env.update(
        KLING_STUDIO_HOME=str(home),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        **{POLL_SCALE_ENV: "0.02"},
    )
    out = tmp_path / "takes"
    project = write_project(tmp_path)
    with LocalServer(LocalServerConfig(task_seconds=0.3)) as server:
        submit = ["submit", str(project), "--wait", "--out", str(out), "--base-url", server.base_url]
        crashed = _run(submit, {**env, CRASH_ENV: point})
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        _check_crash_left(point, home, out, server)

        resumed = _run(["resume", "--wait", "--base-url", server.base_url], env)
        assert resumed.returncode == 0, resumed.stderr

        store = JobStore(home / "data" / "jobs.sqlite3")
        try:
            jobs = store.all()
            assert store.integrity_check() == "ok"
        finally:
            store.close()
        assert len(jobs) == 1
        assert all(j.state == JobState.DONE for j in jobs)
        for job in jobs:
            assert server.state.tasks_created_by_key.get(job.idempotency_key) == 1
        assert len(server.state.created_tasks) == len(jobs)

    videos = sorted(out.glob("*.mp4"))
    assert len(videos) == len(jobs)
    assert all(v.read_bytes()[4:8] == b"ftyp" for v in videos)
    assert not list(out.glob(".*.part"))
    db = sqlite3.connect(home / "data" / "jobs.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()

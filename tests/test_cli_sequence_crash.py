"""A chain killed with SIGKILL mid-way: ``resume --wait`` finishes it, each segment paid once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kling_studio.domain.jobs import JobState
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import POLL_SCALE_ENV
from kling_studio.services.job_runner import CRASH_ENV
from kling_studio.services.job_store import JobStore
from tests.test_cli_sequence import job_lines, write_sequence

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kling_studio", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


# mid_poll: killed while segment 1 renders (no later segment exists yet);
# sequence_segment_2: killed right after segment 2's job is written, before it is sent.
@pytest.mark.parametrize(("point", "jobs_left"), [("mid_poll", 1), ("sequence_segment_2", 2)])
def test_a_chain_killed_mid_way_resumes_to_one_task_per_segment(point: str, jobs_left: int, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "KLING_STUDIO_API_KEY"}
    env.update(
        KLING_STUDIO_HOME=str(home),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        **{POLL_SCALE_ENV: "0.02"},
    )
    project = write_sequence(tmp_path)
    out = tmp_path / "takes"
    store_path = home / "data" / "jobs.sqlite3"
    with LocalServer(LocalServerConfig(task_seconds=0.3)) as server:
        submit = ["submit", str(project), "--wait", "--out", str(out), "--base-url", server.base_url]
        crashed = _run(submit, {**env, CRASH_ENV: point})
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        store = JobStore(store_path)
        try:
            assert len(store.all()) == jobs_left
        finally:
            store.close()

        resumed = _run(["resume", "--wait"], env)
        assert resumed.returncode == 0, resumed.stderr
        # Today's resume prints a line per unfinished job first; then the chain's lines.
        lines = job_lines("\n".join(ln for ln in resumed.stdout.splitlines() if ln.startswith("segment ")))
        assert sorted(lines) == [(1, 1), (2, 1), (3, 1)]

        store = JobStore(store_path)
        try:
            jobs = store.all()
            assert store.integrity_check() == "ok"
        finally:
            store.close()
        assert len(jobs) == 3 and all(j.state == JobState.DONE for j in jobs)
        assert sorted(j.storyboard["sequence"]["segment"] for j in jobs) == [1, 2, 3]
        for job in jobs:
            assert server.state.tasks_created_by_key.get(job.idempotency_key) == 1
        assert len(server.state.created_tasks) == 3  # nobody paid twice
        assert {lines[(k, 1)][0] for k in (1, 2, 3)} == {j.id for j in jobs}

    by_segment = {j.storyboard["sequence"]["segment"]: j for j in jobs}
    for k in (2, 3):
        previous = Path(str(by_segment[k - 1].video_path))
        assert by_segment[k].storyboard["sequence"]["source"] == str(previous)
        assert (tmp_path / "frames" / f"Film.segment-{k}.{previous.stem}.png").is_file()
    (plan,) = (home / "data" / "sequences").glob("*.json")
    assert json.loads(plan.read_text(encoding="utf-8"))["state"] == "submitted"
    # Nothing left to do: a second resume makes no job.
    again = _run(["resume", "--wait"], env)
    assert again.returncode == 0 and "no unfinished jobs" in again.stderr

"""Issue 11 §1: exactly one engine per data folder.

Two ``resume --wait`` at once used to drive the same jobs twice (shared ``.part`` files, ``done``
flipped to ``needs_attention``). Now the second exits 5 naming the first, a SIGKILLed holder's
lock is taken over, ``jobs --json`` reads while the engine runs, and the store itself refuses a
forbidden transition.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from kling_studio.domain.jobs import InvalidTransition, JobState
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.engine_lock import (
    KIND_CLI,
    KIND_GUI,
    EngineLock,
    EngineLockHeld,
    LockHolder,
    read_holder,
)
from kling_studio.services.job_engine import POLL_SCALE_ENV
from kling_studio.services.job_store import JobStore
from tests.test_cli_jobs import write_project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock and SIGKILL are POSIX")
EXIT_ENGINE_BUSY = 5


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KLING_STUDIO_API_KEY"}
    env.update(
        KLING_STUDIO_HOME=str(home),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        **{POLL_SCALE_ENV: "0.02"},
    )
    return env


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kling_studio", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _popen(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kling_studio", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _wait_for_holder(data_dir: Path, pid: int, proc: subprocess.Popen[str]) -> LockHolder:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        holder = read_holder(data_dir)
        if holder is not None and holder.pid == pid:
            return holder
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the process never took the engine lock")


def _submitted_job(home: Path, project: Path, out: Path, server: LocalServer) -> str:
    """A job written and sent, left unfinished (submit without --wait against a URL)."""
    done = _cli(["submit", str(project), "--out", str(out), "--base-url", server.base_url], _env(home))
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[1]


def test_two_resumes_at_once_one_runs_the_other_exits_5_and_nothing_is_corrupted(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "takes"
    env = _env(home)
    with LocalServer(LocalServerConfig(task_seconds=2.0)) as server:
        job_id = _submitted_job(home, write_project(tmp_path), out, server)
        first = _popen(["resume", "--wait", "--base-url", server.base_url], env)
        try:
            holder = _wait_for_holder(home / "data", first.pid, first)
            assert (holder.kind, holder.command) == (KIND_CLI, "resume")
            second = _cli(["resume", "--wait", "--base-url", server.base_url], env)
            # While the first still runs, the job list reads fine (read-only, no lock).
            listed = _cli(["jobs", "--json"], env)
            stdout, stderr = first.communicate(timeout=90)
        finally:
            if first.poll() is None:
                first.kill()
        assert second.returncode == EXIT_ENGINE_BUSY, second.stderr
        assert f"`kling-studio resume` (pid {first.pid}) is running the queue for this data folder" in second.stderr
        assert "Traceback" not in second.stderr and second.stdout == ""
        assert listed.returncode == 0, listed.stderr
        assert [j["id"] for j in json.loads(listed.stdout)] == [job_id]
        assert first.returncode == 0, stderr
        assert f"{job_id} done" in stdout

        store = JobStore(home / "data" / "jobs.sqlite3")
        try:
            (job,) = store.all()
            assert store.integrity_check() == "ok"
        finally:
            store.close()
        assert job.state == JobState.DONE
        assert [s for s, _t in job.transitions].count("done") == 1
        assert server.state.tasks_created_by_key.get(job.idempotency_key) == 1
    assert len(list(out.glob("*.mp4"))) == 1 and not list(out.glob(".*.part"))


def test_a_sigkilled_holders_lock_is_taken_over(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "takes"
    env = _env(home)
    with LocalServer(LocalServerConfig(task_seconds=2.0)) as server:
        job_id = _submitted_job(home, write_project(tmp_path), out, server)
        victim = _popen(["resume", "--wait", "--base-url", server.base_url], env)
        try:
            _wait_for_holder(home / "data", victim.pid, victim)
        finally:
            victim.send_signal(signal.SIGKILL)
            victim.communicate(timeout=30)
        assert victim.returncode == -signal.SIGKILL
        # The lock file still names the dead process, but the kernel dropped its lock.
        stale = read_holder(home / "data")
        assert stale is not None and stale.pid == victim.pid
        resumed = _cli(["resume", "--wait", "--base-url", server.base_url], env)
        assert resumed.returncode == 0, resumed.stderr
        assert f"{job_id} done" in resumed.stdout


def test_a_lock_held_in_a_killed_process_is_free_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = (
        "import sys, time; from pathlib import Path;"
        "from kling_studio.services.engine_lock import EngineLock;"
        f"EngineLock(Path({str(data)!r}), 'cli', 'resume').acquire(); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(EngineLockHeld) as refused:
            EngineLock(data, KIND_GUI).acquire()
        assert refused.value.holder == LockHolder(holder.pid, KIND_CLI, "resume")
    finally:
        holder.kill()
        holder.wait(timeout=10)
    with EngineLock(data, KIND_GUI) as lock:
        assert lock.held and read_holder(data) == LockHolder(os.getpid(), KIND_GUI, "")
    assert not lock.held


def test_a_second_lock_in_the_same_process_is_refused_and_names_the_window(tmp_path: Path) -> None:
    with EngineLock(tmp_path, KIND_GUI), pytest.raises(EngineLockHeld) as refused:
        EngineLock(tmp_path, KIND_CLI, "submit").acquire()
    assert str(refused.value).startswith(f"the Kling Studio window (pid {os.getpid()}) is running the queue")
    EngineLock(tmp_path, KIND_CLI, "submit").acquire().release()  # free again after release


def test_submit_while_the_window_holds_the_engine_exits_5_naming_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    project = write_project(tmp_path)
    with EngineLock(home / "data", KIND_GUI):  # stands in for the window (same lock, same file)
        refused = _cli(["submit", str(project), "--base-url", "http://127.0.0.1:9"], _env(home))
    assert refused.returncode == EXIT_ENGINE_BUSY
    assert f"the Kling Studio window (pid {os.getpid()}) is running the queue for this data folder" in refused.stderr
    assert "submit from the window" in refused.stderr
    assert not (home / "data" / "jobs.sqlite3").exists()  # refused before the store was opened


def test_the_store_refuses_done_to_needs_attention(tmp_path: Path) -> None:
    from tests.services.test_job_store import _record

    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        job = _record()
        store.insert(job)
        for state in (JobState.SUBMITTING, JobState.SUBMITTED, JobState.DOWNLOADING, JobState.DONE):
            store.save(replace(job, state=state, video_path="/lib/take.mp4"))
        with pytest.raises(InvalidTransition):
            store.save(replace(job, state=JobState.NEEDS_ATTENTION, error_message="could not save the video"))
        with pytest.raises(InvalidTransition):
            store.save(replace(job, state=JobState.QUEUED))
        kept = store.get(job.id)
        assert kept is not None and kept.state == JobState.DONE and kept.error_message is None
        store.save(replace(kept, starred=True))  # a terminal job still takes flags, not a new state
        assert store.get(job.id) == replace(kept, starred=True)
    finally:
        store.close()


def test_jobs_json_reads_without_the_lock_and_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    empty = _cli(["jobs", "--json"], _env(home))
    assert (empty.returncode, json.loads(empty.stdout)) == (0, [])
    assert not (home / "data" / "jobs.sqlite3").exists()


def test_resume_while_the_window_holds_the_engine_exits_5_naming_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with EngineLock(home / "data", KIND_GUI):
        refused = _cli(["resume", "--wait"], _env(home))
    assert refused.returncode == EXIT_ENGINE_BUSY
    assert f"the Kling Studio window (pid {os.getpid()}) is running the queue" in refused.stderr
    assert "it carries the unfinished jobs on itself" in refused.stderr

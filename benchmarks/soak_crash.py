"""Crash soak (``make soak``): N random SIGKILLs across submit, poll and download; nothing lost,
nothing paid twice.

Against a local Kling-compatible server (in this process, so its idempotency statistics can be
read), it repeatedly runs ``kling-studio submit --wait`` and ``kling-studio resume --wait`` as
real subprocesses and SIGKILLs them: either at one of the engine's named crash points
(``KLING_STUDIO_TEST_CRASH_AT``: after the job is written, after the submit left but before the
task id was stored, mid-poll, mid-download) or after a random delay (anywhere: start-up, lock,
store, network, fsync). After each kill a ``resume --wait`` carries the jobs on; that resume may be
killed too. At the end one last ``resume --wait`` settles everything, then it prints:

    kills, jobs written, jobs lost (written or announced but not done), jobs paid twice (an
    idempotency key that made more than one remote task), remote tasks vs jobs, MP4s that do not
    decode, and sqlite's integrity_check.

Not part of ``make test`` (it takes minutes). Usage: ``python benchmarks/soak_crash.py --kills 100``.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kling_studio.domain.jobs import JobState
from kling_studio.domain.project_file import dumps_project
from kling_studio.domain.storyboard import GenerationSettings, Shot, Storyboard
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import POLL_SCALE_ENV
from kling_studio.services.job_runner import CRASH_ENV, CRASH_POINTS
from kling_studio.services.job_store import JobStore

EXIT_ENGINE_BUSY = 5


def _project(folder: Path, n: int) -> Path:
    board = Storyboard(
        title=f"Soak {n}",
        shots=(Shot(text=f"take {n}: rain on a window", duration=2), Shot(text="the street below", duration=1)),
        settings=GenerationSettings(resolution="720p"),
    )
    path = folder / f"soak-{n}.kling.json"
    path.write_text(dumps_project(board, str(folder)), encoding="utf-8")
    return path


class Soak:
    def __init__(self, root: Path, server: LocalServer, rng: random.Random, verbose: bool) -> None:
        self.root = root
        self.server = server
        self.rng = rng
        self.verbose = verbose
        self.home = root / "home"
        self.out = root / "takes"
        self.env = {k: v for k, v in os.environ.items() if k != "KLING_STUDIO_API_KEY"}
        self.env.update(
            KLING_STUDIO_HOME=str(self.home),
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            **{POLL_SCALE_ENV: "0.02"},
        )
        self.env.pop(CRASH_ENV, None)
        self.kills = 0
        self.kills_by_where: dict[str, int] = {}
        self.announced: set[str] = set()  # job ids a submit printed before it died (or finished)
        self.runs = 0
        self.busy = 0  # exit 5: never expected here (one process at a time), counted to prove it

    def _run(self, args: list[str], *, crash_at: str | None = None, kill_after: float | None = None) -> int:
        env = dict(self.env)
        if crash_at:
            env[CRASH_ENV] = crash_at
        proc = subprocess.Popen(
            [sys.executable, "-m", "kling_studio", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        try:
            out, err = proc.communicate(timeout=kill_after if kill_after is not None else 180)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            out, err = proc.communicate(timeout=30)
        self.runs += 1
        for line in out.splitlines():
            if line.startswith("job "):
                self.announced.add(line.split()[1])
        code = proc.returncode
        if code == -signal.SIGKILL:
            self.kills += 1
            where = f"{args[0]}@{crash_at}" if crash_at else f"{args[0]}@random"
            self.kills_by_where[where] = self.kills_by_where.get(where, 0) + 1
        elif code == EXIT_ENGINE_BUSY:
            self.busy += 1
        if self.verbose:
            print(f"  {' '.join(args[:2])} crash={crash_at} kill_after={kill_after} -> {code}", file=sys.stderr)
            if code not in (0, -signal.SIGKILL):
                print(err[-2000:], file=sys.stderr)
        return code

    def submit(self) -> None:
        project = _project(self.root, self.runs)
        args = ["submit", str(project), "--wait", "--out", str(self.out), "--base-url", self.server.base_url]
        if self.rng.random() < 0.5:
            self._run(args, crash_at=self.rng.choice(CRASH_POINTS))
        else:
            self._run(args, kill_after=self.rng.uniform(0.1, 3.0))

    def resume(self, *, may_kill: bool) -> int:
        args = ["resume", "--wait", "--base-url", self.server.base_url]
        if may_kill and self.rng.random() < 0.3:
            return self._run(args, kill_after=self.rng.uniform(0.1, 2.0))
        return self._run(args)

    def run(self, kills: int) -> None:
        while self.kills < kills:
            self.submit()
            if self.rng.random() < 0.7:  # else the next submit's resume picks up two at once
                self.resume(may_kill=self.kills < kills)
            if self.verbose or self.runs % 20 == 0:
                print(f"... {self.kills} kills after {self.runs} runs", file=sys.stderr, flush=True)
        for _ in range(5):  # settle everything; a resume is only ever killed above
            if self.resume(may_kill=False) == 0:
                break


def _decodes(path: Path) -> bool:
    import av

    try:
        with av.open(str(path)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        return frames > 0
    except (av.error.FFmpegError, OSError, StopIteration):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs to deliver (default 100)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--task-seconds", type=float, default=0.5, help="local task duration (default 0.5)")
    parser.add_argument("--verbose", action="store_true")
    ns = parser.parse_args()
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="kling-soak-") as tmp,
        LocalServer(LocalServerConfig(task_seconds=ns.task_seconds)) as server,
    ):
        soak = Soak(Path(tmp), server, random.Random(ns.seed), ns.verbose)
        soak.run(ns.kills)
        db_path = soak.home / "data" / "jobs.sqlite3"
        store = JobStore(db_path, read_only=True)
        try:
            jobs = store.all()
        finally:
            store.close()
        db = sqlite3.connect(db_path)
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
        ids = {j.id for j in jobs}
        not_done = [j for j in jobs if j.state != JobState.DONE]
        lost = len(soak.announced - ids) + len(not_done)
        created = server.state.tasks_created_by_key
        paid_twice = sum(1 for j in jobs if created.get(j.idempotency_key, 0) > 1)
        remote_tasks = len(server.state.created_tasks)
        videos = [Path(j.video_path) for j in jobs if j.video_path]
        undecodable = [v for v in videos if not _decodes(v)]
        leftovers = list(soak.out.glob(".*.part"))
    elapsed = time.monotonic() - started
    print(f"command: python benchmarks/soak_crash.py --kills {ns.kills} --seed {ns.seed}")
    print(f"kills: {soak.kills} ({', '.join(f'{k} {v}' for k, v in sorted(soak.kills_by_where.items()))})")
    print(f"processes run: {soak.runs}; exit 5 (engine busy): {soak.busy}")
    print(f"jobs written: {len(jobs)}; announced by submit: {len(soak.announced)}")
    print(f"jobs lost: {lost}" + (f" (not done: {[(j.id[:8], j.state.value) for j in not_done]})" if not_done else ""))
    print(f"jobs paid twice: {paid_twice}; remote tasks: {remote_tasks} for {len(jobs)} jobs")
    print(f"MP4s: {len(videos)}, not decoding: {len(undecodable)}; .part files left: {len(leftovers)}")
    print(f"integrity_check: {integrity}")
    print(f"wall time: {elapsed:.0f} s")
    ok = lost == 0 and paid_twice == 0 and not undecodable and integrity == "ok" and soak.busy == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

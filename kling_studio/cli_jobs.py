"""Sub-commands ``submit``, ``jobs`` and ``resume``: the job engine without a window.

Exit codes: 0 done (or submitted, without ``--wait``), 1 invalid storyboard, 2 unreadable file,
3 remote failure (failed, expired or cancelled), 4 needs attention, 5 another process (the window
or another ``submit``/``resume``) runs the engine for this data folder. Results go to stdout
(job id, task id, MP4 path; ``jobs --json``), progress and problems to stderr; both pass the
secret scrubber (``services.redact``), since a server may echo the key into any answer.

``submit`` and ``resume`` take the engine lock (``services.engine_lock``) before the store is
opened. When the window holds it, ``submit`` refuses (exit 5) rather than handing the job over:
the window's queue would then run a job this command cannot wait for or report on. ``jobs``
reads the store read-only, without the lock, so it works while anything else runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kling_studio.domain.job_record import EVENT_PROGRESS, EVENT_STATE, JobEvent, JobRecord
from kling_studio.domain.jobs import JobState

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE, EXIT_REMOTE_FAILURE, EXIT_ATTENTION = 0, 1, 2, 3, 4
EXIT_ENGINE_BUSY = 5
_FAILURES = frozenset({JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED})


def register(sub: Any) -> None:
    submit = sub.add_parser("submit", help="compile a project file and submit it as a job")
    submit.add_argument("file", help="a *.kling.json project file")
    submit.add_argument("--wait", action="store_true", help="wait for the video; print its path")
    submit.add_argument("--out", metavar="DIR", help="folder for the MP4 and its sidecar (default: the library)")
    submit.add_argument("--local", action="store_true", help="start a local server for this run (no credits)")
    submit.add_argument("--base-url", metavar="URL", help="send to this server instead of the configured one")
    submit.set_defaults(func=run_submit)

    jobs = sub.add_parser("jobs", help="list jobs with state, progress, cost and file")
    jobs.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    jobs.set_defaults(func=run_jobs)

    resume = sub.add_parser("resume", help="resume every unfinished job, each against its own backend")
    resume.add_argument("--wait", action="store_true", help="wait until every job is done or needs attention")
    resume.add_argument("--base-url", metavar="URL", help="backend for new jobs (resumed jobs keep their own)")
    resume.set_defaults(func=run_resume)


# Shared helpers


def exit_code(records: Iterable[JobRecord]) -> int:
    states = {r.state for r in records}
    if JobState.NEEDS_ATTENTION in states:
        return EXIT_ATTENTION
    if states & _FAILURES:
        return EXIT_REMOTE_FAILURE
    return EXIT_OK


def job_json(job: JobRecord) -> dict[str, Any]:
    return {
        "id": job.id,
        "title": job.title,
        "project": job.project_path,
        "state": job.state.value,
        "task_id": job.task_id,
        "progress": job.progress,
        "estimated_cost_usd": job.estimated_cost_usd,
        "actual_cost_usd": job.actual_cost_usd,
        "video_path": job.video_path,
        "error": job.error_message,
        "error_code": job.error_code,
        "backend": job.backend,
        "remote_status": job.remote_status,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "expires_at": job.expires_at,
    }


def _err(text: str) -> None:
    from kling_studio.services.redact import redact

    print(redact(text), file=sys.stderr, flush=True)


def _out(text: str) -> None:
    from kling_studio.services.redact import redact

    print(redact(text), flush=True)


def busy_message(holder: Any, command: str) -> str:
    """Why this command will not run, naming the process that runs the queue instead."""
    from kling_studio.services.engine_lock import KIND_GUI

    if holder.kind == KIND_GUI:
        then = (
            "submit from the window, or close it and run this command again"
            if command == "submit"
            else "it carries the unfinished jobs on itself; close it to resume them here"
        )
    else:
        then = "wait for it to finish (or stop it), then run this command again"
    return (
        f"kling-studio: {holder.describe()} is running the queue for this data folder; {then}. "
        "`kling-studio jobs` shows the jobs meanwhile."
    )


def _locked(command: str, run: Any) -> int:
    """Run ``run()`` holding the engine lock for the data folder; exit 5 naming the holder if taken."""
    from kling_studio.services.engine_lock import KIND_CLI, EngineLock, EngineLockHeld
    from kling_studio.services.paths import app_paths

    lock = EngineLock(app_paths().data_dir, KIND_CLI, command)
    try:
        lock.acquire()
    except EngineLockHeld as exc:
        _err(busy_message(exc.holder, command))
        return EXIT_ENGINE_BUSY
    except OSError as exc:
        _err(f"kling-studio: the data folder cannot be used ({exc.strerror or exc}).")
        return EXIT_UNREADABLE
    try:
        result: int = run()
        return result
    finally:
        lock.release()


class _ProgressPrinter:
    """Progress on stderr: every state change, and progress in steps of 10 %."""

    def __init__(self, job_ids: Iterable[str] | None = None) -> None:
        self._ids = set(job_ids) if job_ids is not None else None
        self._shown: dict[str, int] = {}

    def __call__(self, event: JobEvent) -> None:
        job = event.job
        if self._ids is not None and job.id not in self._ids:
            return
        if event.kind == EVENT_STATE:
            detail = f" — {job.error_message}" if job.error_message and job.state != JobState.DONE else ""
            _err(f"job {job.id[:8]}: {job.state.label.lower()}{detail}")
        elif event.kind == EVENT_PROGRESS and job.progress // 10 != self._shown.get(job.id, -1):
            self._shown[job.id] = job.progress // 10
            _err(f"job {job.id[:8]}: {job.state.label.lower()} {job.progress}%")


def _submitted_or_settled(job: JobRecord) -> bool:
    from kling_studio.services.job_core import settled

    return job.task_id is not None or settled(job)


def _report(job: JobRecord) -> None:
    if job.state == JobState.DONE:
        return
    if job.error_message:
        _err(f"job {job.id[:8]}: {job.state.label.lower()}: {job.error_message}")


# submit


def run_submit(args: argparse.Namespace) -> int:
    from kling_studio.domain.project_file import ProjectFileError
    from kling_studio.services.project_io import ProjectIOError, load_project

    try:
        storyboard = load_project(args.file)
    except (ProjectFileError, ProjectIOError) as exc:
        _err(f"kling-studio: {exc}")
        return EXIT_UNREADABLE
    project_path = str(Path(args.file).resolve())
    out_dir = str(Path(args.out).resolve()) if args.out else None
    return _locked(
        "submit", lambda: _with_logging(lambda: asyncio.run(_submit(args, storyboard, project_path, out_dir)))
    )


async def _submit(args: argparse.Namespace, storyboard: Any, project_path: str, out_dir: str | None) -> int:
    from kling_studio.services.job_engine import JobEngine, StoryboardRefused, settled
    from kling_studio.services.settings import load_settings

    engine = JobEngine(load_settings(), base_url=args.base_url, force_local=args.local)
    wait = args.wait
    if engine.is_local and not wait:
        # A local server lives only as long as this command: without waiting the video would be lost.
        _err("kling-studio: the local server stops with this command, so submit waits for the video.")
        wait = True
    _err(f"backend: {engine.backend_label}")
    try:
        await engine.start(resume=False)
        try:
            job = await engine.submit_storyboard(storyboard, project_path=project_path, out_dir=out_dir)
        except StoryboardRefused as exc:
            for d in exc.errors:
                _err(f"error: {d.code}: {d.message}")
            return EXIT_INVALID
        _out(f"job {job.id}")
        printer = _ProgressPrinter([job.id])
        unsubscribe = engine.subscribe(printer) if wait else (lambda: None)
        try:
            (record,) = await engine.wait_for([job.id], settled if wait else _submitted_or_settled)
        finally:
            unsubscribe()
        if record.task_id:
            _out(f"task {record.task_id}")
        _report(record)
        if record.state == JobState.DONE and record.video_path:
            _out(record.video_path)
        return exit_code([record])
    finally:
        await engine.stop()


# jobs


def run_jobs(args: argparse.Namespace) -> int:
    from kling_studio.services.job_store import JobStore, JobStoreError
    from kling_studio.services.paths import app_paths
    from kling_studio.services.redact import redact_value

    path = app_paths().job_store
    records: list[JobRecord] = []
    if path.is_file():  # no store yet: no jobs (and nothing is created by looking)
        try:
            # Read-only and without the engine lock: works while the window or a resume runs.
            store = JobStore(path, read_only=True)
        except JobStoreError as exc:
            _err(f"kling-studio: {exc}")
            return EXIT_UNREADABLE
        try:
            records = store.all()
        finally:
            store.close()
    if args.json:
        _out(json.dumps(redact_value([job_json(j) for j in records]), ensure_ascii=False, indent=2))
        return EXIT_OK
    if not records:
        print("No jobs yet.")
        return EXIT_OK
    print(f"{'ID':8}  {'STATE':15}  {'PROG':>4}  {'COST':>7}  {'TITLE':24}  FILE / ERROR")
    for j in records:
        cost = j.actual_cost_usd if j.actual_cost_usd is not None else j.estimated_cost_usd
        cost_text = f"${cost:.2f}" if cost is not None else "-"
        tail = j.video_path or j.error_message or ""
        # People read this table (``--json`` keeps the state values for scripts).
        _out(f"{j.id[:8]:8}  {j.state.label.lower():15}  {j.progress:>3}%  {cost_text:>7}  {j.title[:24]:24}  {tail}")
    return EXIT_OK


# resume


def run_resume(args: argparse.Namespace) -> int:
    return _locked("resume", lambda: _with_logging(lambda: asyncio.run(_resume(args))))


async def _resume(args: argparse.Namespace) -> int:
    from kling_studio.services.job_engine import JobEngine, settled
    from kling_studio.services.settings import load_settings

    engine = JobEngine(load_settings(), base_url=args.base_url)
    try:
        unfinished = [j for j in engine.jobs() if not j.is_terminal]
        if not unfinished:
            _err("kling-studio: no unfinished jobs.")
            return EXIT_OK
        ids = [j.id for j in unfinished]
        local = any(j.backend == "local" for j in unfinished)
        wait = args.wait or local
        if local and not args.wait:
            _err("kling-studio: local jobs need the local server of this command, so resume waits for them.")
        printer = _ProgressPrinter(ids)
        unsubscribe = engine.subscribe(printer)
        try:
            await engine.start()
            await engine.check_all_again()
            records = await engine.wait_for(ids, settled if wait else _submitted_or_settled)
        finally:
            unsubscribe()
        for job in records:
            _out(f"{job.id} {job.state.value} {job.video_path or job.task_id or ''}".rstrip())
            _report(job)
        return exit_code(records)
    finally:
        await engine.stop()


def _with_logging(run: Any) -> int:
    from kling_studio.services.logging_setup import setup_logging, shutdown_logging

    with contextlib.suppress(OSError):  # no log folder: run without a log file
        setup_logging()
    try:
        result: int = run()
        return result
    except KeyboardInterrupt:
        _err("kling-studio: interrupted; unfinished jobs continue with `kling-studio resume`.")
        return 130
    finally:
        shutdown_logging()

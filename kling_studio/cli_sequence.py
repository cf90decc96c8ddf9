"""Sequences on the command line: ``compile``, ``submit`` and ``resume`` learn segments; ``pick`` and
``assemble`` are new.

``register`` runs after ``cli_jobs`` (see ``cli._COMMAND_MODULES``): it adds ``--takes`` and
``--segment`` to ``submit`` and wraps the ``compile``, ``submit`` and ``resume`` handlers, so a
schema-1 file without those flags takes exactly today's path and prints exactly today's output.

- ``submit FILE [--takes N] [--segment K]``: one line per job on stdout,
  ``segment K take T: <job id> <video path>`` (the state instead of the path when not done).
- ``pick FILE --segment K TAKE``: TAKE is a job id (or its first 8+ characters) or a video path.
- ``assemble FILE -o cut.mp4``: exit 2 naming the segment that has no take.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kling_studio.cli_jobs import (
    EXIT_ENGINE_BUSY,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_REMOTE_FAILURE,
    EXIT_UNREADABLE,
    _err,
    _locked,
    _out,
    _ProgressPrinter,
    _with_logging,
    exit_code,
)
from kling_studio.domain.job_record import JobRecord

Handler = Callable[[argparse.Namespace], int]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def register(sub: Any) -> None:
    choices = sub.choices
    compile_p, submit_p, resume_p = choices["compile"], choices["submit"], choices["resume"]
    submit_p.add_argument("--takes", type=_positive, metavar="N", help="N takes of each segment (separate jobs)")
    submit_p.add_argument("--segment", type=_positive, metavar="K", help="generate only segment K (1-based)")
    _wrap(compile_p, lambda args, today: run_compile(args) if _is_sequence(args.file) else today(args))
    _wrap(
        submit_p,
        lambda args, today: (
            run_submit(args)
            if args.takes is not None or args.segment is not None or _is_sequence(args.file)
            else today(args)
        ),
    )
    _wrap(resume_p, run_resume)

    pick = sub.add_parser("pick", help="record the take a segment uses (for chaining and assembly)")
    pick.add_argument("file", help="a *.kling.json project file")
    pick.add_argument("--segment", type=_positive, required=True, metavar="K", help="the segment (1-based)")
    pick.add_argument("take", help="a job id (or its first 8 characters) or a video path")
    pick.set_defaults(func=run_pick)

    assemble = sub.add_parser("assemble", help="join each segment's pick (or latest take) into one MP4 + .otio")
    assemble.add_argument("file", help="a *.kling.json project file")
    assemble.add_argument("-o", "--out", required=True, metavar="CUT.mp4", help="the MP4 to write")
    assemble.set_defaults(func=run_assemble)


def _wrap(parser: argparse.ArgumentParser, handler: Callable[[argparse.Namespace, Handler], int]) -> None:
    today: Handler = parser.get_default("func")
    parser.set_defaults(func=lambda args: handler(args, today))


def _is_sequence(path: str) -> bool:
    from kling_studio.domain.sequence_file import SEQUENCE_SCHEMA
    from kling_studio.services.sequence_io import file_schema

    schema = file_schema(path)
    return schema is not None and schema >= SEQUENCE_SCHEMA


def _load(path: str) -> Any:
    """The project, or None after printing why it cannot be read."""
    from kling_studio.domain.project_file import ProjectFileError
    from kling_studio.services.project_io import ProjectIOError
    from kling_studio.services.sequence_io import load_sequence

    try:
        return load_sequence(path)
    except (ProjectFileError, ProjectIOError) as exc:
        _err(f"kling-studio: {exc}")
        return None


def _compile(project: Any, project_path: str) -> list[Any]:
    from kling_studio.domain.sequence import compile_sequence
    from kling_studio.domain.storyboard import FirstFrame
    from kling_studio.services.image_prep import read_first_frame
    from kling_studio.services.sequence_io import chained_frame_path

    checks = {}
    chained = {}
    for i, segment in enumerate(project.segments):
        if segment.first_frame is not None and segment.first_frame.path is not None:
            checks[i] = read_first_frame(segment.first_frame.path)
        if segment.from_previous:
            chained[i] = FirstFrame(path=str(chained_frame_path(project_path, i + 1, "previous-take")))
    return compile_sequence(project, checks, chained_frame=chained)


# compile


def run_compile(args: argparse.Namespace) -> int:
    from kling_studio.cli import _refuse
    from kling_studio.domain.project_file import ProjectFileError
    from kling_studio.domain.sequence import sequence_json
    from kling_studio.services.project_io import ProjectIOError
    from kling_studio.services.sequence_io import load_sequence

    try:
        project = load_sequence(args.file)
    except (ProjectFileError, ProjectIOError) as exc:
        code = f"project_{exc.kind}" if isinstance(exc, ProjectFileError) else "project_unreadable"
        return _refuse(args, code, str(exc))  # the same refusal as a schema-1 file's
    compiled = _compile(project, args.file)
    if args.json:
        print(json.dumps(sequence_json(project, compiled), ensure_ascii=False, indent=2))
    else:
        for number, (segment, result) in enumerate(zip(project.segments, compiled, strict=True), start=1):
            print(f"# segment {number}: {segment.title} ({segment.total_duration} s, {result.mode})")
            print(result.text)
            for d in result.warnings:
                _err(f"warning: segment {number}: {d.code}: {d.message}")
            for d in result.errors:
                _err(f"error: segment {number}: {d.code}: {d.message}")
    return EXIT_OK if all(c.ok for c in compiled) else EXIT_INVALID


# submit


def run_submit(args: argparse.Namespace) -> int:
    project = _load(args.file)
    if project is None:
        return EXIT_UNREADABLE
    count = len(project.segments)
    if args.segment is not None and args.segment > count:
        _err(f"kling-studio: there is no segment {args.segment}; the project has {count}.")
        return EXIT_UNREADABLE
    numbers = (args.segment,) if args.segment is not None else tuple(range(1, count + 1))
    compiled = _compile(project, args.file)
    broken = [(k, d) for k in numbers for d in compiled[k - 1].errors]
    for k, d in broken:
        _err(f"error: segment {k}: {d.code}: {d.message}")
    if broken:
        return EXIT_INVALID
    return _locked("submit", lambda: _with_logging(lambda: asyncio.run(_submit(args, project, numbers))))


async def _submit(args: argparse.Namespace, project: Any, numbers: tuple[int, ...]) -> int:
    from kling_studio.domain.sequence_file import sequence_to_snapshot
    from kling_studio.services.job_engine import JobEngine
    from kling_studio.services.sequence_runner import new_plan, plan_store
    from kling_studio.services.settings import load_settings

    engine = JobEngine(load_settings(), base_url=args.base_url, force_local=args.local)
    wait = args.wait
    if engine.is_local and not wait:
        _err("kling-studio: the local server stops with this command, so submit waits for the videos.")
        wait = True
    _err(f"backend: {engine.backend_label}")
    project_path, out_dir = _resolved(args.file), (_resolved(args.out) if args.out else None)
    plan = new_plan(project_path, sequence_to_snapshot(project), numbers, args.takes or 1, engine.backend, out_dir)
    try:
        plan_store(engine).save(plan)  # before any job: a crash from here on resumes the chain
        await engine.start(resume=False)
        return await _run_plan(engine, plan, wait)
    finally:
        await engine.stop()


async def _run_plan(engine: Any, plan: Any, wait: bool) -> int:
    from kling_studio.services.job_core import StoryboardRefused
    from kling_studio.services.sequence_runner import ChainStopped, SequenceRunner

    announced: set[str] = set()

    def announce(segment: int, take: int, job: JobRecord) -> None:
        if job.id not in announced:
            announced.add(job.id)
            _err(f"segment {segment} take {take}: job {job.id}")

    printer = _ProgressPrinter()
    unsubscribe = engine.subscribe(printer) if wait else (lambda: None)
    runner = SequenceRunner(engine, plan, wait=wait, on_job=announce)
    code = EXIT_OK
    try:
        await runner.run()
    except ChainStopped as exc:
        _err(f"kling-studio: {exc}")
        code = EXIT_REMOTE_FAILURE if runner.plan_jobs() else EXIT_UNREADABLE
    except StoryboardRefused as exc:
        for d in exc.errors:
            _err(f"error: {d.code}: {d.message}")
        code = EXIT_INVALID
    finally:
        unsubscribe()
    records = []
    for (segment, take), job in sorted(runner.plan_jobs().items()):
        record = engine.get(job.id) or job
        records.append(record)
        _out(f"segment {segment} take {take}: {record.id} {record.video_path or record.state.value}")
    return code if code != EXIT_OK else exit_code(records)


def _resolved(path: str) -> str:
    return str(Path(path).resolve())


# resume


def run_resume(args: argparse.Namespace, today: Handler) -> int:
    """Today's resume first (every unfinished job), then every chain that still has segments to make."""
    from kling_studio.services.paths import app_paths
    from kling_studio.services.sequence_runner import PlanStore

    code = today(args)
    if code == EXIT_ENGINE_BUSY or not PlanStore(app_paths().data_dir / "sequences").running():
        return code  # busy: the process holding the queue was named once, that is enough
    chains = _locked("resume", lambda: _with_logging(lambda: asyncio.run(_resume_chains(args))))
    return code if code != EXIT_OK else chains


async def _resume_chains(args: argparse.Namespace) -> int:
    from kling_studio.services.job_engine import JobEngine
    from kling_studio.services.local_backend import LOCAL
    from kling_studio.services.paths import app_paths
    from kling_studio.services.sequence_runner import PlanStore
    from kling_studio.services.settings import load_settings

    code = EXIT_OK
    for plan in PlanStore(app_paths().data_dir / "sequences").running():
        local = plan.backend == LOCAL
        # The chain's new segments go where it started (never from a free preview to a paid service).
        engine = JobEngine(load_settings(), base_url=None if local else plan.backend, force_local=local)
        _err(f"kling-studio: continuing the sequence {Path(plan.project_path).name} ({engine.backend_label})")
        try:
            await engine.start()
            result = await _run_plan(engine, plan, args.wait or local)
        finally:
            await engine.stop()
        code = code if code != EXIT_OK else result
    return code


# pick


def run_pick(args: argparse.Namespace) -> int:
    from kling_studio.domain.project_file import ProjectFileError
    from kling_studio.services.project_io import ProjectIOError
    from kling_studio.services.sequence_io import save_sequence

    project = _load(args.file)
    if project is None:
        return EXIT_UNREADABLE
    if args.segment > len(project.segments):
        _err(f"kling-studio: there is no segment {args.segment}; the project has {len(project.segments)}.")
        return EXIT_UNREADABLE
    video = _take_video(args.take)
    if video is None:
        return EXIT_UNREADABLE
    try:
        save_sequence(args.file, project.with_pick(args.segment - 1, video))
    except (ProjectIOError, ProjectFileError) as exc:
        _err(f"kling-studio: {exc}")
        return EXIT_UNREADABLE
    print(f"segment {args.segment}: {video}", flush=True)
    return EXIT_OK


def _take_video(take: str) -> str | None:
    """A video path as given, or the video of the job with that id (or unique id prefix)."""
    path = Path(take)
    if path.suffix.lower() == ".mp4" or path.is_file():
        if not path.is_file():
            _err(f"kling-studio: {take}: no such video file.")
            return None
        return str(path.resolve())
    records = [j for j in _all_jobs() if j.id == take or (len(take) >= 6 and j.id.startswith(take))]
    if len(records) != 1:
        found = "no job" if not records else f"{len(records)} jobs"
        _err(f"kling-studio: {found} with the id {take!r}; give a job id from `kling-studio jobs` or a video path.")
        return None
    job = records[0]
    if not job.video_path or not Path(job.video_path).is_file():
        _err(f"kling-studio: job {job.id[:8]} has no video ({job.state.value}); pick a finished take.")
        return None
    return job.video_path


def _all_jobs() -> list[JobRecord]:
    from kling_studio.services.job_store import JobStore, JobStoreError
    from kling_studio.services.paths import app_paths

    path = app_paths().job_store
    if not path.is_file():
        return []
    try:
        # Read-only and without the engine lock, like ``jobs``: works while a queue runs.
        store = JobStore(path, read_only=True)
    except JobStoreError as exc:
        _err(f"kling-studio: {exc}")
        return []
    try:
        return store.all()
    finally:
        store.close()


# assemble


def run_assemble(args: argparse.Namespace) -> int:
    from kling_studio.services.sequence_assemble import AssembleError, AssembleInput, assemble
    from kling_studio.services.sequence_takes import segment_video

    project = _load(args.file)
    if project is None:
        return EXIT_UNREADABLE
    project_path = str(Path(args.file).resolve())
    jobs = _all_jobs()
    inputs = []
    for number, segment in enumerate(project.segments, start=1):
        video = segment_video(project, project_path, number - 1, jobs)
        if video is None:
            why = f" (its pick {segment.pick} is missing)" if segment.pick else ""
            _err(
                f"kling-studio: segment {number} ({segment.title}) has no take{why}: "
                f"generate it with `kling-studio submit {args.file} --segment {number}` or pick one."
            )
            return EXIT_UNREADABLE
        inputs.append(AssembleInput(video, segment.title, tuple((s.text, s.duration) for s in segment.shots)))
    try:
        result = assemble(inputs, args.out, title=project.title)
    except AssembleError as exc:
        _err(f"kling-studio: {exc}")
        return EXIT_UNREADABLE
    _err(f"{'remuxed' if result.remuxed else 're-encoded'} {len(inputs)} segments, {result.frames} frames")
    print(result.video, flush=True)
    print(result.timeline, flush=True)
    return EXIT_OK

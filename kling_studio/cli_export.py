"""Sub-command ``export``: a take for an editor (.otio, .fcpxml, .edl) or its storyboard PDF.

``kling-studio export TAKE --format otio|fcpxml|edl|pdf -o OUT``. TAKE is a job id (or its first
8+ characters, as in the video's file name), looked up read-only in the job store, or a video
file with its sidecar JSON beside it. Exit codes: 0 written, 1 the take cannot be written in that
format (a rate Final Cut cannot describe, an unwritable OUT), 2 TAKE cannot be read.
The GUI's Export Take for Editor uses the same service (``services.editor_export``).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2
FORMAT_CHOICES = ("otio", "fcpxml", "edl", "pdf")
MIN_PREFIX = 8


class TakeUnreadable(Exception):
    """TAKE names no job and no video with a sidecar; the message says what was missing."""


def register(sub: Any) -> None:
    export = sub.add_parser("export", help="export a take for an editor (.otio/.fcpxml/.edl) or as a storyboard PDF")
    export.add_argument("take", metavar="TAKE", help="a job id (8+ characters) or a video file with its sidecar JSON")
    export.add_argument("--format", required=True, choices=FORMAT_CHOICES, help="what to write")
    export.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write")
    export.set_defaults(func=run_export)


def _err(text: str) -> None:
    print(f"kling-studio export: {text}", file=sys.stderr, flush=True)


def find_job(job_id: str, store_path: Path) -> Any:
    """The job with this id (or unique prefix), read without writing to the store (``mode=ro``)."""
    from kling_studio.services.job_store import _decode  # the store's own row → record mapping

    if len(job_id) < MIN_PREFIX:
        raise TakeUnreadable(
            f"{job_id!r} is neither a video file nor a job id (give at least {MIN_PREFIX} characters)."
        )
    if not store_path.is_file():
        raise TakeUnreadable(f"{job_id!r} is not a video file, and there is no job store at {store_path}.")
    try:
        db = sqlite3.connect(f"{store_path.as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as exc:
        raise TakeUnreadable(f"The job store {store_path} cannot be opened ({exc}).") from None
    try:
        db.row_factory = sqlite3.Row
        escaped = job_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = db.execute("SELECT * FROM jobs WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (escaped + "%",)).fetchall()
    except sqlite3.Error as exc:
        raise TakeUnreadable(f"The job store {store_path} cannot be read ({exc}).") from None
    finally:
        db.close()
    if not rows:
        raise TakeUnreadable(f"No job {job_id!r} in {store_path}, and no such video file.")
    if len(rows) > 1:
        raise TakeUnreadable(f"{job_id!r} matches more than one job; give more of its id.")
    return _decode(rows[0])


def read_sidecar(video: Path) -> dict[str, Any]:
    sidecar = video.with_suffix(".json")
    try:
        document = json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TakeUnreadable(f"{video} has no sidecar {sidecar.name} beside it (the shots come from it).") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TakeUnreadable(f"The sidecar {sidecar} cannot be read: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("storyboard"), dict):
        raise TakeUnreadable(f"The sidecar {sidecar} has no storyboard.")
    return document


def export_video_file(video: Path, fmt: str, out: Path) -> Path:
    from kling_studio.domain.project_file import ProjectFileError, storyboard_from_snapshot
    from kling_studio.services.editor_export import export_take, probe_video, storyboard_shots

    side = read_sidecar(video)
    if probe_video(video) is None:
        raise TakeUnreadable(f"{video} is not a video PyAV can read.")
    title = str(side.get("title") or video.stem)
    job_id = str(side.get("job_id") or video.stem)
    if fmt != "pdf":
        return export_take(video, storyboard_shots(side["storyboard"]), out, title=title, fmt=fmt, reel_id=job_id)
    from kling_studio.services.storyboard_pdf import export_storyboard_pdf

    try:
        storyboard = storyboard_from_snapshot(side["storyboard"])
    except ProjectFileError as exc:
        raise TakeUnreadable(f"The sidecar's storyboard cannot be read: {exc}") from None
    raw_cost = side.get("cost")
    cost: dict[str, Any] = raw_cost if isinstance(raw_cost, dict) else {}
    usd = cost.get("actual_usd") if cost.get("actual_usd") is not None else cost.get("estimated_usd")
    return export_storyboard_pdf(
        storyboard.with_title(title) if storyboard.title == "Untitled" else storyboard,
        out,
        take=video,
        project_path=side.get("project_path"),
        cost_usd=float(usd) if isinstance(usd, int | float) else None,
    )


def run_export(args: argparse.Namespace) -> int:
    from kling_studio.domain.project_file import ProjectFileError
    from kling_studio.services.editor_export import EditorExportError, export_job
    from kling_studio.services.paths import app_paths
    from kling_studio.services.storyboard_pdf import StoryboardPdfError

    take, out = Path(args.take), Path(args.output)
    try:
        if take.is_file():
            written = export_video_file(take, args.format, out)
        else:
            record = find_job(args.take, app_paths().job_store)
            if args.format != "pdf" and not (record.video_path and Path(record.video_path).is_file()):
                raise TakeUnreadable(
                    f"Job {record.id[:8]} has no downloaded video to export (state: {record.state.value})."
                )
            written = export_job(record, out, fmt=args.format)
    except (TakeUnreadable, ProjectFileError) as exc:
        _err(str(exc))
        return EXIT_UNREADABLE
    except (EditorExportError, StoryboardPdfError) as exc:
        _err(str(exc))
        return EXIT_FAILED
    except OSError as exc:
        _err(f"cannot write {out}: {exc.strerror or exc}")
        return EXIT_FAILED
    print(written)
    return EXIT_OK

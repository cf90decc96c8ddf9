"""Where a finished video lands, and the sidecar written beside it.

``<library>/<project name>/<YYYYMMDD-HHMMSS>_<short id>.mp4`` plus ``….json`` with the request,
the service's final status answer, timings and cost (never the key). Names derive from the job
alone, so a download repeated after a crash overwrites the same file instead of adding one.
"""

from __future__ import annotations

import errno
import json
import logging
import re
import time
import unicodedata
from pathlib import Path
from typing import Any

from kling_studio.domain.job_record import JobRecord
from kling_studio.services.project_io import atomic_write_bytes

log = logging.getLogger("kling_studio.jobs")

SIDECAR_SCHEMA = 1
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')
_PROJECT_SUFFIXES = (".kling.json", ".json")


def project_folder_name(job: JobRecord) -> str:
    """A file-system-safe folder name: the project file's name, else the storyboard title."""
    name = ""
    if job.project_path:
        name = Path(job.project_path).name
        for suffix in _PROJECT_SUFFIXES:
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
                break
    if not name.strip():
        name = job.title
    name = unicodedata.normalize("NFC", name)
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:80] or "Untitled"


def video_filename(job: JobRecord) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(job.created_at))
    return f"{stamp}_{job.id[:8]}.mp4"


def video_destination(job: JobRecord, library: Path, out_dir: str | None) -> Path:
    """``out_dir`` (the CLI's ``--out``) takes the file directly; else the project's library folder."""
    folder = Path(out_dir) if out_dir else library / project_folder_name(job)
    return folder / video_filename(job)


def sidecar_path_for(video: Path) -> Path:
    return video.with_suffix(".json")


def sidecar_document(
    job: JobRecord, final_status: dict[str, Any] | None, probe: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a take remembers about how it was made. Built only from the record: no key in it.

    ``probe``: what the PyAV check found (codec, width, height, fps, duration, audio).
    """
    return {
        "schema": SIDECAR_SCHEMA,
        "job_id": job.id,
        "title": job.title,
        "project_path": job.project_path,
        "backend": job.backend,
        "task_id": job.task_id,
        "mode": job.mode,
        "duration": job.duration,
        "resolution": job.resolution,
        "request": job.request,
        "storyboard": job.storyboard,
        "final_status": final_status,
        "timings": {
            "created_at": job.created_at,
            "submitted_at": job.submitted_at,
            "finished_at": job.finished_at,
            "estimated_time": job.estimated_time,
            "transitions": [list(t) for t in job.transitions],
        },
        "cost": {"estimated_usd": job.estimated_cost_usd, "actual_usd": job.actual_cost_usd},
        "result_urls": list(job.result_urls),
        "expires_at": job.expires_at,
        "idempotency_key": job.idempotency_key,
        "video": probe,
    }


def write_sidecar(path: Path, document: dict[str, Any]) -> None:
    """Blocking (fsync): run in an executor. Scrubbed: a server may have echoed the key into any field."""
    from kling_studio.services.redact import redact_value

    data = json.dumps(redact_value(document), ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data.encode("utf-8"))


def disk_error_message(exc: OSError, folder: Path) -> str:
    """Plain words for a local write failure; a full disk is named as such."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"disk full: the video could not be saved in {folder}. Free some space; Kling Studio tries "
            "again by itself until the result link expires."
        )
    reason = exc.strerror or str(exc)
    return (
        f"could not save the video in {folder} ({reason}). Check the folder (Settings → library); "
        "Kling Studio tries again by itself until the result link expires."
    )


def delete_files_quietly(paths: list[Path]) -> None:
    """Remove a take's files (blocking; missing ones are fine, failures are logged)."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete %s: %s", path, exc)

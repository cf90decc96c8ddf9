"""Turning a task into its MP4 (on a render thread) and finding first frames we host."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from PIL import Image

from kling_studio.localapi.animatic import FirstFrameInput, animatic_size, render_animatic
from kling_studio.localapi.remote_frames import FrameFetchError, RemoteFrame, fetch_first_frame
from kling_studio.localapi.state import ServerState, Upload
from kling_studio.localapi.tasks import Task
from kling_studio.localapi.validation import displayed_size

UPLOAD_ROUTE = "/files/uploads/"
VIDEO_ROUTE = "/files/videos/"
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)?")


class RenderCancelled(Exception):
    """The server is stopping; the renderer discards its half-written file."""


def fetch_failure(message: str) -> dict[str, Any]:
    """The task's ``error`` when its first frame could not be fetched or used (not billed)."""
    return {"code": 400, "message": message, "type": "invalid_first_frame"}


def render_task(task: Task, first_frame: FirstFrameInput | RemoteFrame, fps: int, stopping: threading.Event) -> None:
    """Runs on a render thread; the task reads ``completed`` only once ``ready_at`` is set.

    A ``RemoteFrame`` is fetched first; when that fails the task fails with the reason, as the
    real service would, rather than rendering a video without the picture it was asked for.
    """

    def check_stop(_fraction: float) -> None:
        if stopping.is_set():
            raise RenderCancelled

    if isinstance(first_frame, RemoteFrame):
        try:
            path, size = fetch_first_frame(first_frame)
            task.width, task.height = animatic_size(task.resolution, task.aspect_ratio, size)
        except FrameFetchError as exc:
            task.failure = fetch_failure(str(exc))
            return
        first_frame = path
    try:
        render_animatic(
            task.shots,
            task.video_path,
            width=task.width,
            height=task.height,
            fps=fps,
            first_frame=first_frame,
            title=task.id,
            on_progress=check_stop,
        )
    except RenderCancelled:
        return
    except Exception as exc:
        task.render_error = f"{type(exc).__name__}: {exc}"
        return
    task.ready_at = time.time()


def note_render_outcome(task: Task, future: Future[None]) -> None:
    """A render that never ran or blew up outside its own guard still ends the task (failed)."""
    if future.cancelled():
        task.render_error = "the server stopped before rendering"
    elif future.exception() is not None and task.render_error is None:
        task.render_error = f"{type(future.exception()).__name__}: {future.exception()}"


def find_upload(state: ServerState, url: str) -> Upload | None:
    """The upload a URL points at when it is this server's upload route, else None."""
    path = unquote(urlsplit(url).path)
    if not path.startswith(UPLOAD_ROUTE):
        return None
    name = path[len(UPLOAD_ROUTE) :]
    return state.uploads.get(name) if SAFE_NAME.fullmatch(name) else None


def image_info(path: Path) -> tuple[str, tuple[int, int]]:
    """Pillow's format name and the size as displayed (after the EXIF orientation), from the header."""
    with Image.open(path) as image:
        return image.format or "", displayed_size(image)

"""Turning a task into its MP4 (on a render thread) and finding first frames we host."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image

from kling_studio.localapi.animatic import FirstFrameInput, render_animatic
from kling_studio.localapi.state import ServerState, Upload
from kling_studio.localapi.tasks import Task
from kling_studio.localapi.validation import displayed_size

UPLOAD_ROUTE = "/files/uploads/"
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)?")


class RenderCancelled(Exception):
    """The server is stopping; the renderer discards its half-written file."""


def render_task(task: Task, first_frame: FirstFrameInput, fps: int, stopping: threading.Event) -> None:
    """Runs on a render thread; the task reads ``completed`` only once ``ready_at`` is set."""

    def check_stop(_fraction: float) -> None:
        if stopping.is_set():
            raise RenderCancelled

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

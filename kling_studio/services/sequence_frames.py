"""Frames out of takes with PyAV: the last decoded frame (a chained segment's first frame).

Blocking (decodes video): run in an executor from the event loop.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import av
from PIL import Image

from kling_studio.services.project_io import atomic_write_bytes


class FrameError(ValueError):
    """No frame could be decoded; the message names the file."""


def last_frame(video: str | os.PathLike[str]) -> Image.Image:
    """The last frame the decoder gives, at the stream's full size, as RGB.

    Every frame is decoded (seeking to the last keyframe would be faster, but a file whose
    index lies would give a wrong frame; a 15 s take decodes in well under a second).
    """
    frame = None
    try:
        with av.open(os.fspath(video)) as container:
            if not container.streams.video:
                raise FrameError(f"{video} has no video stream.")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for decoded in container.decode(stream):
                frame = decoded
            if frame is None:
                raise FrameError(f"{video} has no decodable frame.")
            return _rgb(frame)
    except (OSError, av.FFmpegError) as exc:
        raise FrameError(f"{video} cannot be decoded ({exc}).") from None


def _rgb(frame: av.VideoFrame) -> Image.Image:
    image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
    return image.convert("RGB")


def first_frame(video: str | os.PathLike[str]) -> Image.Image:
    """The first decoded frame, as RGB."""
    try:
        with av.open(os.fspath(video)) as container:
            for frame in container.decode(video=0):
                return _rgb(frame)
    except (OSError, av.FFmpegError, IndexError) as exc:
        raise FrameError(f"{video} cannot be decoded ({exc}).") from None
    raise FrameError(f"{video} has no decodable frame.")


def save_last_frame(video: str | os.PathLike[str], png: str | os.PathLike[str]) -> Path:
    """Write the take's last frame as a PNG (atomically, folders made); returns the path."""
    image = last_frame(video)
    out = Path(png)
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    atomic_write_bytes(out, buffer.getvalue())
    return out

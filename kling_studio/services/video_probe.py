"""The one MP4 check: open the file with PyAV and prove it plays from its first to its last frame.

A downloaded video is verified, not sniffed (a body cut short still starts with ``ftyp``): it must
have a video stream, its first frame must decode, its last frame must decode (found by seeking to
the end, so a 2 GB file is not read through), and it must last within one second of the seconds
that were asked for. Blocking (FFmpeg): run it in an executor or ``asyncio.to_thread``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from kling_studio.services.api_errors import DownloadError

# The requested seconds and the file's may differ by this much (contract: whole seconds).
DURATION_TOLERANCE_S = 1.0
# The seek for the last frame aims this far before the end and lands on the keyframe before it:
# only the last GOP is decoded.
_TAIL_S = 0.5
# A frame beyond this is not a Kling video (1440×1440 is the largest); refuse before decoding.
_MAX_PIXELS = 4096 * 4096


class VideoDamaged(DownloadError):
    """The file is not a playable video of the expected length; ``reason`` says what is wrong."""

    default_next_step = "Kling Studio fetches it again; if it stays damaged, check the job again later."

    def __init__(self, reason: str) -> None:
        super().__init__(f"The downloaded video is damaged: {reason}.", retryable=True)
        self.reason = reason


@dataclass(frozen=True)
class VideoProbe:
    """What the sidecar records about a verified video."""

    codec: str
    width: int
    height: int
    fps: float
    duration: float  # seconds, up to the end of the last decoded frame
    audio: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _seconds(pts: int | None, time_base: Fraction | None) -> float | None:
    if pts is None or time_base is None:
        return None
    return float(pts * time_base)


def probe_video(path: str | Path, expected_duration: float | None = None) -> VideoProbe:
    """Verify ``path`` as described above; raise ``VideoDamaged`` with the reason otherwise."""
    import av  # FFmpeg is heavy to load; only the download step needs it

    _check_boxes(Path(path))
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise VideoDamaged(f"it cannot be opened as a video ({_reason(exc)})") from None
    try:
        return _probe_open(container, expected_duration)
    except (av.FFmpegError, ValueError, ZeroDivisionError) as exc:
        raise VideoDamaged(f"it cannot be decoded ({_reason(exc)})") from None
    finally:
        container.close()


def _check_boxes(path: Path) -> None:
    """Walk the top-level MP4 boxes (a few seeks): the last one must end where the file ends.

    A body cut short by even one byte leaves its last box (``mdat`` or ``moov``) claiming more
    bytes than the file has, which decoding alone may not notice.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            offset = 0
            while offset < size:
                fh.seek(offset)
                header = fh.read(16)
                if offset == 0 and not (len(header) >= 8 and header[4:8].isalpha()):
                    raise VideoDamaged("it is not an MP4 file")
                if len(header) < 8:
                    raise VideoDamaged(f"it ends inside a box header at byte {offset}")
                length = int.from_bytes(header[:4], "big")
                if length == 1 and len(header) == 16:
                    length = int.from_bytes(header[8:16], "big")
                elif length == 0:
                    return  # "to the end of the file": nothing to compare
                if length < 8:
                    raise VideoDamaged(f"it has a malformed box at byte {offset}")
                offset += length
            if offset > size:
                raise VideoDamaged(f"it is cut short ({size} bytes of the {offset} its boxes announce)")
    except OSError as exc:
        raise VideoDamaged(f"it cannot be read ({exc.strerror or exc})") from None


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


def _probe_open(container: Any, expected: float | None) -> VideoProbe:
    if not container.streams.video:
        raise VideoDamaged("it has no video stream")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    width, height = int(ctx.width or 0), int(ctx.height or 0)
    if width <= 0 or height <= 0 or width * height > _MAX_PIXELS:
        raise VideoDamaged(f"its picture size {width}×{height} is not a video Kling makes")
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    time_base = stream.time_base

    first = next(container.decode(stream), None)
    if first is None:
        raise VideoDamaged("its first frame cannot be decoded")
    start = _seconds(first.pts, time_base) or 0.0

    declared = _seconds(stream.duration, time_base)
    if declared is None and container.duration is not None:
        declared = container.duration / 1_000_000
    last_pts = _last_frame_pts(container, stream, declared)
    end = _seconds(last_pts, time_base)
    if end is None:
        raise VideoDamaged("its last frame cannot be decoded")
    frame_time = 1.0 / fps if fps > 0 else 0.0
    duration = max(0.0, end - start + frame_time)
    if declared is not None and duration + 1.5 * frame_time < declared:
        raise VideoDamaged(f"it ends after {duration:.2f} s although it says it lasts {declared:.2f} s (cut short)")
    if expected and math.isfinite(expected) and abs(duration - expected) > DURATION_TOLERANCE_S:
        raise VideoDamaged(f"it lasts {duration:.2f} s instead of the {expected:g} s that were asked for")
    audio = bool(container.streams.audio)
    return VideoProbe(codec=str(ctx.name), width=width, height=height, fps=round(fps, 3), duration=round(duration, 3),
                      audio=audio)  # fmt: skip


def _last_frame_pts(container: Any, stream: Any, declared: float | None) -> int | None:
    """The pts of the last decodable frame: seek near the end, decode to the end of the file."""
    if declared is not None and declared > _TAIL_S and stream.time_base:
        target = int((declared - _TAIL_S) / stream.time_base)
        container.seek(target, stream=stream, backward=True, any_frame=False)
    last: int | None = None
    for frame in container.decode(stream):
        if frame.pts is not None and (last is None or frame.pts > last):
            last = frame.pts
    return last

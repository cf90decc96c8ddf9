"""The animatic renderer: a storyboard as an H.264 MP4 of title cards, one segment per shot.

Each shot becomes a card of its own colour (so every planned cut is visible) that shows the shot
number, its seconds and its text. When there is a first-frame image, shot 1 shows that image with
a slow push-in and a caption band. The video lasts exactly the storyboard's seconds at a fixed
frame rate. Cards are drawn once and converted to YUV once; the encoder repeats them, and the
push-in only crops and resizes per frame.

Turbo's outputs always carry sound, so the animatic does too: a stereo 48 kHz AAC track, silent
but for a short quiet click on the first sample of every shot, so an editor gets an A/V clip (and
can hear the cuts) just as with a real take. The track lasts exactly as long as the picture.
"""

from __future__ import annotations

import array
import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, cast

import av
from av.video.frame import PictureType
from PIL import Image, ImageOps

from kling_studio.domain.limits import KLING_3_TURBO, LimitsProfile
from kling_studio.domain.sequence import output_size
from kling_studio.localapi.cards import CardInfo, draw_band, draw_card

DEFAULT_FPS = 24
PUSH_IN_SCALE = 1.08  # how far shot 1 zooms into the first frame over its length
# The zoom moves by well under 1 % per step, so a new picture every second frame looks just as
# smooth and halves the per-frame resize, the slowest step of a render.
PUSH_IN_STEP = 2
# ultrafast keeps a 15 s 1080p render well above 5× real time even on a busy 2-core machine;
# the files are larger than with slower presets, which does not matter for an animatic.
_X264_OPTIONS = {"preset": "ultrafast", "crf": "22"}
AUDIO_RATE = 48000
AUDIO_LAYOUT = "stereo"
_AUDIO_CHUNK = 1024  # samples per AAC frame
CLICK_SECONDS = 0.012
CLICK_LEVEL = 0.1  # about -20 dBFS: audible in an editor, not loud
CLICK_HZ = 1000


# PyAV ships this classmethod without annotations.
_frame_from_image = cast(Callable[[Image.Image], av.VideoFrame], av.VideoFrame.from_image)


class ShotLike(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def duration(self) -> int: ...


ShotInput = tuple[str, int] | ShotLike
FirstFrameInput = str | os.PathLike[str] | Image.Image | None
ProgressCallback = Callable[[float], None]


def animatic_size(
    resolution: str,
    aspect_ratio: str,
    image_size: tuple[int, int] | None = None,
    profile: LimitsProfile = KLING_3_TURBO,
) -> tuple[int, int]:
    """The output size: the profile's size for text-to-video, the image's ratio for image-to-video.

    For image-to-video an image whose ratio is one of the profile's (16:9, 9:16, 1:1) gets that
    ratio's size from the contract's table (a square image at 720p is 960×960, as a 1:1 text-to-video
    would be). Any other ratio keeps the resolution's short side (720 or 1080) with the long side
    following the image, clamped to the profile's widest allowed ratio; both sides are even (yuv420p).
    """
    # One rule for the size (the domain's, which the sequence compiler uses for a chained
    # segment's placeholder frame); here a setting it cannot size is an error, not None.
    size = output_size(resolution, aspect_ratio, image_size, profile)
    if size is not None:
        return size
    if resolution not in profile.resolutions:
        raise ValueError(f"resolution must be one of {', '.join(profile.resolutions)}; got {resolution!r}")
    if image_size is None:
        raise ValueError(f"aspect_ratio must be one of {', '.join(profile.aspect_ratios)}; got {aspect_ratio!r}")
    raise ValueError(f"image size must be positive, got {image_size[0]}×{image_size[1]}")


def _normalise_shots(shots: Sequence[ShotInput]) -> list[tuple[str, int]]:
    result: list[tuple[str, int]] = []
    for i, shot in enumerate(shots, start=1):
        if isinstance(shot, tuple):
            text, seconds = shot
        else:
            text, seconds = shot.text, shot.duration
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 1:
            raise ValueError(f"shot {i}: duration must be a whole number of seconds ≥ 1, got {seconds!r}")
        result.append((str(text), seconds))
    if not result:
        raise ValueError("an animatic needs at least one shot")
    return result


def _open_first_frame(first_frame: FirstFrameInput) -> Image.Image | None:
    if first_frame is None:
        return None
    if isinstance(first_frame, Image.Image):
        image = first_frame
    else:
        with Image.open(first_frame) as opened:
            opened.load()
            image = opened.copy()
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (0, 0, 0))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


class _PushIn:
    """Shot 1 over the first frame: cover-crop once, then per frame a shrinking centred crop."""

    def __init__(self, image: Image.Image, size: tuple[int, int], frames: int, band: tuple[Any, ...]) -> None:
        width, height = size
        # Scale the source once so that at zoom 1.0 it exactly covers the output.
        scale = max(width / image.width, height / image.height)
        cover = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
        self._source = image.resize(cover, Image.Resampling.LANCZOS) if cover != image.size else image
        self._size = size
        self._frames = max(frames, 1)
        self._band, self._mask, self._band_y = band
        self._cached: tuple[int, av.VideoFrame] | None = None

    def video_frame(self, index: int) -> av.VideoFrame:
        step = index // PUSH_IN_STEP
        if self._cached is None or self._cached[0] != step:
            picture = self.picture(step * PUSH_IN_STEP)
            self._cached = (step, _frame_from_image(picture).reformat(format="yuv420p"))
        return self._cached[1]

    def picture(self, index: int) -> Image.Image:
        width, height = self._size
        zoom = 1.0 + (PUSH_IN_SCALE - 1.0) * index / self._frames
        crop_w, crop_h = width / zoom, height / zoom
        cx, cy = self._source.width / 2, self._source.height / 2
        box = (cx - crop_w / 2, cy - crop_h / 2, cx + crop_w / 2, cy + crop_h / 2)
        picture = self._source.resize(self._size, Image.Resampling.BILINEAR, box=box)
        picture.paste(self._band, (0, self._band_y), self._mask)
        return picture


def _constant(frame: av.VideoFrame) -> Callable[[int], av.VideoFrame]:
    def frame_at(_index: int) -> av.VideoFrame:
        return frame

    return frame_at


def _segments(
    shots: list[tuple[str, int]], size: tuple[int, int], fps: int, image: Image.Image | None, title: str | None
) -> Iterator[tuple[int, Callable[[int], av.VideoFrame]]]:
    """For each shot: its frame count and a function giving frame ``i`` of the segment."""
    total = sum(seconds for _, seconds in shots)
    start = 0
    for number, (text, seconds) in enumerate(shots, start=1):
        info = CardInfo(number, len(shots), seconds, start, total, text, title)
        frames = seconds * fps
        if number == 1 and image is not None:
            push = _PushIn(image, size, frames, draw_band(size, info))
            yield frames, push.video_frame
        else:
            card = _frame_from_image(draw_card(size, info)).reformat(format="yuv420p")
            yield frames, _constant(card)
        start += seconds


def _click() -> array.array[float]:
    """A short 1 kHz blip with a fade-out, so it does not pop."""
    count = int(AUDIO_RATE * CLICK_SECONDS)
    return array.array(
        "f",
        (CLICK_LEVEL * (1 - i / count) * math.sin(2 * math.pi * CLICK_HZ * i / AUDIO_RATE) for i in range(count)),
    )


class _ClickTrack:
    """Writes the audio in AAC-sized frames, a click at each cut, as the picture advances."""

    def __init__(self, container: Any, cuts: list[int], total_samples: int) -> None:
        self.stream = container.add_stream("aac", rate=AUDIO_RATE)
        self.stream.layout = AUDIO_LAYOUT
        self._container = container
        self._cuts = cuts  # sample index of every shot's start
        self._total = total_samples
        self._written = 0
        self._click = _click()
        self._silence = bytes(4 * _AUDIO_CHUNK)

    def _chunk(self, start: int, count: int) -> bytes:
        nearby = [c for c in self._cuts if c < start + count and c + len(self._click) > start]
        if not nearby:
            return self._silence[: 4 * count]
        samples = array.array("f", bytes(4 * count))
        for cut in nearby:
            for i in range(max(cut, start), min(cut + len(self._click), start + count)):
                samples[i - start] = self._click[i - cut]
        return samples.tobytes()

    def write_until(self, sample: int) -> None:
        sample = min(sample, self._total)
        while self._written < sample:
            count = min(_AUDIO_CHUNK, self._total - self._written)
            frame = av.AudioFrame(format="fltp", layout=AUDIO_LAYOUT, samples=count)
            data = self._chunk(self._written, count)
            for plane in frame.planes:
                plane.update(data)
            frame.sample_rate = AUDIO_RATE
            frame.pts = self._written
            frame.time_base = Fraction(1, AUDIO_RATE)
            self._container.mux(self.stream.encode(frame))
            self._written += count

    def finish(self) -> None:
        self.write_until(self._total)
        self._container.mux(self.stream.encode(None))


def render_animatic(
    shots: Sequence[ShotInput],
    out_path: str | os.PathLike[str],
    *,
    width: int,
    height: int,
    fps: int = DEFAULT_FPS,
    first_frame: FirstFrameInput = None,
    title: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Render the shots as an MP4 of exactly ``sum(seconds)`` seconds; returns the written path.

    ``shots`` are ``(text, seconds)`` pairs or objects with ``text`` and ``duration``.
    ``on_progress`` receives the fraction done (0.0–1.0). The file appears atomically.
    """
    plan = _normalise_shots(shots)
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"width and height must be positive and even (yuv420p), got {width}×{height}")
    if fps < 1:
        raise ValueError(f"fps must be at least 1, got {fps}")
    image = _open_first_frame(first_frame)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _encode(plan, tmp, (width, height), fps, image, title, on_progress)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return out


def _encode(
    plan: list[tuple[str, int]],
    path: Path,
    size: tuple[int, int],
    fps: int,
    image: Image.Image | None,
    title: str | None,
    on_progress: ProgressCallback | None,
) -> None:
    total_frames = sum(seconds for _, seconds in plan) * fps
    done = 0
    cuts, at = [], 0
    for _, seconds in plan:
        cuts.append(at * AUDIO_RATE)
        at += seconds
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.options = dict(_X264_OPTIONS)
        audio = _ClickTrack(container, cuts, at * AUDIO_RATE)
        for frames, frame_at in _segments(plan, size, fps, image, title):
            for i in range(frames):
                frame = frame_at(i)
                frame.pts = done
                frame.time_base = Fraction(1, fps)
                # A key frame at every cut makes each shot start cleanly and seek fast.
                frame.pict_type = PictureType.I if i == 0 else PictureType.NONE
                container.mux(stream.encode(frame))
                done += 1
                if on_progress is not None and (done % fps == 0 or done == total_frames):
                    on_progress(done / total_frames)
            # Interleave: the sound up to the end of this shot follows its pictures.
            audio.write_until(done * AUDIO_RATE // fps)
        container.mux(stream.encode(None))
        audio.finish()

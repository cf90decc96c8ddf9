"""Hand a finished take to an editor: OpenTimelineIO, Final Cut Pro XML, CMX 3600 EDL or a storyboard PDF.

One plan serves every format: the take's real frame rate, size, frame count and audio, read once
with PyAV (``probe_take``), and each shot's start as a whole frame of that rate (``TakePlan``).
Rates are OpenTimelineIO's: a measured 23.976023… is snapped with
``RationalTime.nearest_valid_timecode_rate`` and kept as the exact fraction 24000/1001, so every
time in every file is a whole number of frames and a marker sits on the frame where the shot's
cut is in the video (planned seconds × rate, rounded to the nearest frame).

- ``.otio`` (``otio_json``, written by OTIO): everything: clip, media URL, duration, the audio
  track when the take has sound, markers with full names and the shot text in their metadata.
- ``.fcpxml`` (FCPXML 1.8, ``export_fcpxml``): written here rather than by the fcpx adapter,
  whose output depends on ``ffprobe`` and leaves 23.976 without a frame duration.
- ``.edl`` (CMX 3600, ``export_edl``): written here for the ``FCM:`` line, drop-frame timecode,
  a per-take reel and 80-column lines; OTIO's cmx_3600 adapter reads it back in the tests.
- ``.pdf``: the storyboard as a printable PDF (``storyboard_pdf``).

Blocking (PyAV reads the file): call from an executor on the event loop.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from kling_studio.domain.job_record import JobRecord

log = logging.getLogger("kling_studio.editor_export")

FORMATS: dict[str, str] = {".otio": "otio_json", ".fcpxml": "fcpx_xml", ".edl": "cmx_3600", ".pdf": "pdf"}
# The rates FCPXML (and an NLE's project settings) know, as exact fractions.
STANDARD_RATES: tuple[Fraction, ...] = (
    Fraction(24000, 1001),
    Fraction(24),
    Fraction(25),
    Fraction(30000, 1001),
    Fraction(30),
    Fraction(50),
    Fraction(60000, 1001),
    Fraction(60),
)
DROP_FRAME_RATES = frozenset({Fraction(30000, 1001), Fraction(60000, 1001)})
DEFAULT_RATE = Fraction(24)
MARKER_TEXT_CHARS = 80  # the shot text shown in a marker name; the full text stays in metadata


class EditorExportError(ValueError):
    """The take cannot be written in the requested format; the message says why."""


@dataclass(frozen=True)
class VideoFacts:
    """What PyAV measured of the take (one probe)."""

    duration_s: float
    fps: float | None
    width: int | None
    height: int | None
    frames: int | None = None
    has_audio: bool = False
    audio_channels: int | None = None
    audio_rate: int | None = None


def probe_video(path: str | os.PathLike[str]) -> VideoFacts | None:
    """Duration, rate, size, frame count and audio of a video file, or None if unreadable."""
    import av  # PyAV is heavy to import; only the export needs it

    try:
        with av.open(os.fspath(path)) as container:
            stream = container.streams.video[0] if container.streams.video else None
            audio = container.streams.audio[0] if container.streams.audio else None
            duration: float | None = None
            if stream is not None and stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            if duration is None:
                return None
            rate = stream.average_rate if stream is not None else None
            return VideoFacts(
                duration_s=duration,
                fps=float(rate) if rate else None,
                width=stream.codec_context.width if stream is not None else None,
                height=stream.codec_context.height if stream is not None else None,
                frames=(stream.frames or None) if stream is not None else None,
                has_audio=audio is not None,
                audio_channels=audio.codec_context.channels if audio is not None else None,
                audio_rate=audio.codec_context.sample_rate if audio is not None else None,
            )
    except (OSError, av.FFmpegError, IndexError) as exc:
        log.info("cannot probe %s: %s", path, type(exc).__name__)
        return None


def exact_rate(fps: float | Fraction) -> Fraction:
    """The exact rate for a measured or nominal one: 23.976 and 23.9760239 both give 24000/1001.

    OpenTimelineIO's table decides the nominal rate; a rate far from every entry (12 fps) is kept
    as measured, since the table would otherwise pull it to its nearest neighbour.
    """
    value = float(fps)
    if value <= 0:
        raise EditorExportError(f"A frame rate must be positive, not {value:g}.")
    nearest = otio.opentime.RationalTime.nearest_valid_timecode_rate(value)
    if abs(nearest - value) <= 0.002 * value:
        return Fraction(nearest).limit_denominator(1001)
    return Fraction(value).limit_denominator(1001)


def is_drop_frame(rate: Fraction) -> bool:
    return rate in DROP_FRAME_RATES


def frame_at(seconds: float | Fraction, rate: Fraction) -> int:
    """The frame on which ``seconds`` falls: the nearest one, halves rounding up (not to even)."""
    return int(Fraction(seconds) * rate + Fraction(1, 2))


def marker_name(number: int, text: str, limit: int = MARKER_TEXT_CHARS) -> str:
    """``Shot 2: The driver pulls on…``: one line, the text cut at ``limit`` characters."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return f"Shot {number}: {line}" if line else f"Shot {number}"


@dataclass(frozen=True)
class ShotMark:
    number: int
    text: str
    seconds: int
    frame: int  # first frame of the shot in the take


@dataclass(frozen=True)
class TakePlan:
    """Everything a format needs, in whole frames of ``rate``."""

    video: Path
    title: str
    reel_id: str  # unique per take: the job id, or the file name
    rate: Fraction
    frames: int
    width: int | None
    height: int | None
    has_audio: bool
    audio_channels: int | None
    audio_rate: int | None
    shots: tuple[ShotMark, ...]

    @property
    def float_rate(self) -> float:
        return float(self.rate)

    def time(self, frame: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(frame, self.float_rate)


def plan_take(
    video_path: str | os.PathLike[str],
    shots: Sequence[tuple[str, int]],
    *,
    fps: float | Fraction | None = None,
    title: str | None = None,
    reel_id: str | None = None,
    facts: VideoFacts | None = None,
) -> TakePlan:
    """Probe the take (unless ``facts`` is given) and place every shot on a whole frame."""
    video = Path(video_path).absolute()
    if facts is None:
        facts = probe_video(video)
    measured = fps if fps is not None else (facts.fps if facts and facts.fps else DEFAULT_RATE)
    rate = exact_rate(measured)
    if facts is not None and facts.frames and fps is None:
        frames = facts.frames
    elif facts is not None:
        frames = frame_at(Fraction(facts.duration_s), rate)
    else:
        frames = frame_at(sum(s for _, s in shots), rate)
    if frames <= 0:
        raise EditorExportError("The take has no duration to export.")
    marks: list[ShotMark] = []
    start = 0
    for number, (text, seconds) in enumerate(shots, start=1):
        marks.append(ShotMark(number, text, seconds, min(frame_at(start, rate), frames - 1)))
        start += seconds
    if frame_at(start, rate) > frames + 1:
        log.warning("the planned shots (%d s) run past the video (%d frames)", start, frames)
    return TakePlan(
        video=video,
        title=title or video.stem,
        reel_id=reel_id or video.stem,
        rate=rate,
        frames=frames,
        width=facts.width if facts else None,
        height=facts.height if facts else None,
        has_audio=facts.has_audio if facts else False,
        audio_channels=facts.audio_channels if facts else None,
        audio_rate=facts.audio_rate if facts else None,
        shots=tuple(marks),
    )


def build_timeline(plan: TakePlan) -> otio.schema.Timeline:
    """One video track (and one audio track when the take has sound), markers on each shot's first frame."""

    def clip(markers: bool) -> otio.schema.Clip:
        whole = otio.opentime.TimeRange(plan.time(0), plan.time(plan.frames))
        reference = otio.schema.ExternalReference(target_url=plan.video.as_uri(), available_range=whole)
        item = otio.schema.Clip(name=plan.video.name, media_reference=reference, source_range=whole)
        item.metadata["kling_studio"] = {"reel": plan.reel_id}
        for shot in plan.shots if markers else ():
            item.markers.append(
                otio.schema.Marker(
                    name=marker_name(shot.number, shot.text),
                    marked_range=otio.opentime.TimeRange(plan.time(shot.frame), plan.time(0)),
                    color=otio.schema.MarkerColor.RED,
                    metadata={"kling_studio": {"shot": shot.number, "seconds": shot.seconds, "text": shot.text}},
                )
            )
        return item

    timeline = otio.schema.Timeline(name=plan.title)
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    video.append(clip(True))
    timeline.tracks.append(video)
    if plan.has_audio:
        audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
        audio.append(clip(False))
        timeline.tracks.append(audio)
    return timeline


def format_for(out_path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The writer for a suffix (``.otio``, ``.fcpxml``, ``.edl``, ``.pdf``) or an explicit ``fmt``."""
    key = fmt if fmt is not None else Path(out_path).suffix
    key = key.lower() if key.startswith(".") else "." + key.lower()
    if key not in FORMATS:
        raise EditorExportError(f"Unknown editor format {key!r}; choose one of {', '.join(FORMATS)}.")
    return FORMATS[key]


def render_plan(plan: TakePlan, writer: str) -> str:
    if writer == "otio_json":
        text: str = otio.adapters.write_to_string(build_timeline(plan), "otio_json")
        return text
    if writer == "fcpx_xml":
        from kling_studio.services.export_fcpxml import fcpxml_text

        return fcpxml_text(plan)
    if writer == "cmx_3600":
        from kling_studio.services.export_edl import edl_text

        return edl_text(plan)
    raise EditorExportError(f"{writer} is not a timeline format.")


def export_take(
    video_path: str | os.PathLike[str],
    shots: Sequence[tuple[str, int]],
    out_path: str | os.PathLike[str],
    *,
    fps: float | Fraction | None = None,
    title: str | None = None,
    fmt: str | None = None,
    reel_id: str | None = None,
) -> Path:
    """Write the take as ``.otio``, ``.fcpxml`` or ``.edl`` (by ``out_path``'s suffix or ``fmt``).

    ``shots`` are the planned ``(text, seconds)``; a marker sits on each shot's first frame.
    ``fps`` defaults to the video's own rate (24 when the file cannot be read); the clip lasts the
    video's frame count, or the planned total when the file is unreadable.
    """
    writer = format_for(out_path, fmt)
    if writer == "pdf":
        raise EditorExportError("A storyboard PDF is made from the job or project, not from a bare video.")
    plan = plan_take(video_path, shots, fps=fps, title=title, reel_id=reel_id)
    text = render_plan(plan, writer)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="ascii" if writer == "cmx_3600" else "utf-8")
    log.info("exported %s as %s to %s", plan.video.name, writer, out)
    return out


def job_shots(record: JobRecord) -> list[tuple[str, int]]:
    """The planned ``(text, seconds)`` of a job, from its storyboard snapshot."""
    return storyboard_shots(record.storyboard)


def storyboard_shots(storyboard: dict[str, Any]) -> list[tuple[str, int]]:
    shots: list[tuple[str, int]] = []
    for shot in storyboard.get("shots", []):
        seconds = shot.get("duration", 0)
        shots.append((str(shot.get("text", "")), seconds if isinstance(seconds, int) else 0))
    return shots


def export_job(record: JobRecord, out_path: str | os.PathLike[str], *, fmt: str | None = None) -> Path:
    """Export a downloaded take (``record.video_path``) with its storyboard's shots as markers.

    ``.pdf`` writes the storyboard PDF with stills from this take.
    """
    writer = format_for(out_path, fmt)
    if writer == "pdf":
        from kling_studio.services.storyboard_pdf import export_job_pdf

        pdf: Path = export_job_pdf(record, out_path)
        return pdf
    if not record.video_path:
        raise EditorExportError("This take has not been downloaded yet; there is no video to export.")
    return export_take(
        record.video_path, job_shots(record), out_path, title=record.title or None, fmt=fmt, reel_id=record.id
    )

"""Hand a finished take to an editor: OpenTimelineIO, Final Cut Pro XML or CMX 3600 EDL.

The timeline is built once with OpenTimelineIO (one video track, one clip referencing the MP4,
a marker at the planned start of every shot) and written by OTIO's own adapters; nothing here
writes a timeline format by hand. What each format keeps:

- ``.otio`` (``otio_json``): everything: clip, media URL, duration, markers with full names
  and the shot seconds in the markers' metadata.
- ``.fcpxml`` (``fcpx_xml``, FCPXML 1.8): clip, asset URL, duration, markers with full names.
  The adapter names the video format with ``ffprobe``; when that is missing it leaves an empty
  name, so we drop the empty name and give the ``format`` element its width and height instead.
  Only the frame rates FCPXML knows (23.976, 24, 25, 29.97, 30, 50, 59.94, 60) can be written.
- ``.edl`` (``cmx_3600``): one event for the clip with ``FROM CLIP`` comments and a
  ``* LOC:`` locator per shot. EDL comments are one ASCII line and the adapter upper-cases them,
  so marker names are folded to ASCII, upper-cased and cut to ``EDL_MARKER_CHARS``; the timecode
  rate is not stored in the file (read it back with ``rate=fps``).

Blocking (PyAV probes the file): call from an executor on the event loop.
"""

from __future__ import annotations

import logging
import os
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from kling_studio.domain.job_record import JobRecord

log = logging.getLogger("kling_studio.editor_export")

# Suffix → OTIO adapter name (``otio.adapters.available_adapter_names()``).
FORMATS: dict[str, str] = {".otio": "otio_json", ".fcpxml": "fcpx_xml", ".edl": "cmx_3600"}
FCPXML_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0)
DEFAULT_FPS = 24.0
EDL_MARKER_CHARS = 60  # keeps a "* LOC:" line within the 80 columns many EDL readers expect
MARKER_TEXT_CHARS = 80  # the shot text shown in a marker name; the full text stays in metadata


class EditorExportError(ValueError):
    """The take cannot be written in the requested format; the message says why."""


@dataclass(frozen=True)
class VideoFacts:
    """What PyAV measured of the MP4 (None when it could not be read)."""

    duration_s: float
    fps: float | None
    width: int | None
    height: int | None


def probe_video(path: str | os.PathLike[str]) -> VideoFacts | None:
    """Duration, frame rate and size of a video file, or None if it is missing or unreadable."""
    import av  # PyAV is heavy to import; only the export needs it

    try:
        with av.open(os.fspath(path)) as container:
            stream = container.streams.video[0] if container.streams.video else None
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
            )
    except (OSError, av.FFmpegError, IndexError) as exc:
        log.info("cannot probe %s: %s", path, type(exc).__name__)
        return None


def format_for(out_path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The OTIO adapter for a suffix (``.otio``, ``.fcpxml``, ``.edl``) or an explicit ``fmt``."""
    key = fmt if fmt is not None else Path(out_path).suffix
    key = key.lower() if key.startswith(".") else "." + key.lower()
    if key not in FORMATS:
        raise EditorExportError(f"Unknown editor format {key!r}; choose one of {', '.join(FORMATS)}.")
    return FORMATS[key]


def marker_name(number: int, text: str, limit: int = MARKER_TEXT_CHARS) -> str:
    """``Shot 2: The driver pulls on…``: one line, the text cut at ``limit`` characters."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return f"Shot {number}: {line}" if line else f"Shot {number}"


def _edl_name(name: str, *, upper: bool = True) -> str:
    folded = unicodedata.normalize("NFKD", name.replace("…", "...")).encode("ascii", "ignore").decode("ascii")
    folded = " ".join(folded.split())
    if len(folded) > EDL_MARKER_CHARS:
        folded = folded[: EDL_MARKER_CHARS - 3].rstrip() + "..."
    return folded.upper() if upper else folded


def _snap_rate(fps: float) -> float:
    """A measured rate like 23.9760239 becomes the nominal 23.976 the adapters know."""
    for nominal in FCPXML_RATES:
        if abs(fps - nominal) < 0.01:
            return nominal
    return fps


def build_timeline(
    video_path: str | os.PathLike[str],
    shots: Sequence[tuple[str, int]],
    *,
    fps: float,
    duration_s: float,
    title: str | None = None,
) -> otio.schema.Timeline:
    """One track, one clip (the MP4, available range = its duration), a marker per planned shot start."""
    video = Path(video_path).absolute()

    def at(seconds: float) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(round(seconds * fps), fps)

    whole = otio.opentime.TimeRange(at(0), at(duration_s))
    reference = otio.schema.ExternalReference(target_url=video.as_uri(), available_range=whole)
    clip = otio.schema.Clip(name=video.name, media_reference=reference, source_range=whole)
    start = 0
    for number, (text, seconds) in enumerate(shots, start=1):
        clip.markers.append(
            otio.schema.Marker(
                name=marker_name(number, text),
                marked_range=otio.opentime.TimeRange(at(start), at(0)),
                color=otio.schema.MarkerColor.RED,
                metadata={"kling_studio": {"shot": number, "seconds": seconds, "text": text}},
            )
        )
        start += seconds
    if start > duration_s + 1 / fps:
        log.warning("the planned shots (%d s) run past the video (%.2f s)", start, duration_s)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    track.append(clip)
    timeline = otio.schema.Timeline(name=title or video.stem)
    timeline.tracks.append(track)
    return timeline


def _fcpxml_fix_format(text: str, facts: VideoFacts | None) -> str:
    """Give the FCPXML ``format`` a size when the adapter could not name it (no ffprobe)."""
    root = ET.fromstring(text)
    for fmt_el in root.iter("format"):
        if not fmt_el.get("name"):
            fmt_el.attrib.pop("name", None)
            if facts is not None and facts.width and facts.height:
                fmt_el.set("width", str(facts.width))
                fmt_el.set("height", str(facts.height))
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n' + body + "\n"


def _render(timeline: otio.schema.Timeline, adapter: str, fps: float, facts: VideoFacts | None) -> str:
    if adapter == "cmx_3600":
        clip = next(iter(timeline.find_clips()))
        for marker in clip.markers:
            marker.name = _edl_name(marker.name)
        timeline.name = _edl_name(timeline.name, upper=False)
        text: str = otio.adapters.write_to_string(timeline, adapter, rate=fps)
        return text
    text = otio.adapters.write_to_string(timeline, adapter)
    if adapter == "fcpx_xml":
        text = _fcpxml_fix_format(text, facts)
    return text


def export_take(
    video_path: str | os.PathLike[str],
    shots: Sequence[tuple[str, int]],
    out_path: str | os.PathLike[str],
    *,
    fps: float | None = None,
    title: str | None = None,
    fmt: str | None = None,
) -> Path:
    """Write the take as ``.otio``, ``.fcpxml`` or ``.edl`` (by ``out_path``'s suffix or ``fmt``).

    ``shots`` are the planned ``(text, seconds)``; markers sit at each shot's planned start.
    ``fps`` defaults to the video's own rate (24 when the file cannot be read); the clip's
    duration is the video's measured duration, or the planned total when the file is unreadable.
    """
    adapter = format_for(out_path, fmt)
    facts = probe_video(video_path)
    rate = _snap_rate(fps if fps is not None else (facts.fps if facts and facts.fps else DEFAULT_FPS))
    if rate <= 0:
        raise EditorExportError(f"A frame rate must be positive, not {rate}.")
    if adapter == "fcpx_xml" and rate not in FCPXML_RATES:
        raise EditorExportError(f"Final Cut Pro XML cannot describe {rate:g} fps; export .otio or .edl instead.")
    duration = facts.duration_s if facts is not None else float(sum(s for _, s in shots))
    if duration <= 0:
        raise EditorExportError("The take has no duration to export.")
    # Whole frames only: an MP4 a few ms longer than the plan must not produce a fractional frame.
    duration = round(duration * rate) / rate
    timeline = build_timeline(video_path, shots, fps=rate, duration_s=duration, title=title)
    text = _render(timeline, adapter, rate, facts)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    encoding = "ascii" if adapter == "cmx_3600" else "utf-8"
    out.write_text(text, encoding=encoding, errors="replace")
    log.info("exported %s as %s to %s", Path(video_path).name, adapter, out)
    return out


def job_shots(record: JobRecord) -> list[tuple[str, int]]:
    """The planned ``(text, seconds)`` of a job, from its storyboard snapshot."""
    shots: list[tuple[str, int]] = []
    for shot in record.storyboard.get("shots", []):
        seconds = shot.get("duration", 0)
        shots.append((str(shot.get("text", "")), seconds if isinstance(seconds, int) else 0))
    return shots


def export_job(record: JobRecord, out_path: str | os.PathLike[str], *, fmt: str | None = None) -> Path:
    """Export a downloaded take (``record.video_path``) with its storyboard's shots as markers."""
    if not record.video_path:
        raise EditorExportError("This take has not been downloaded yet; there is no video to export.")
    return export_take(record.video_path, job_shots(record), out_path, title=record.title or None, fmt=fmt)

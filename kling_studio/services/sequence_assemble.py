"""One cut from a sequence: each segment's take joined in order into one MP4, plus a ``.otio``.

Every frame of every take is kept, in order, none lost or doubled at a join. When the takes
share codec, size, rate and codec headers (SPS/PPS), the packets are copied (a remux: no
quality lost, no time spent) with their timestamps continued across the joins; otherwise every
frame is decoded and encoded again (H.264) at the first take's size and rate. Audio goes along
when the takes have it (silence stands in for a take without). The MP4 carries one chapter per
segment; the ``.otio`` beside it has one clip per segment (the take itself) and a marker per shot.

Blocking (PyAV): run in an executor from an event loop.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import opentimelineio as otio

from kling_studio.services.editor_export import marker_name

log = logging.getLogger("kling_studio.assemble")

_X264_OPTIONS = {"preset": "veryfast", "crf": "18"}
_AUDIO_RATE = 48_000


class AssembleError(ValueError):
    """The takes cannot be joined; the message names the file and the reason."""


class _RemuxImpossible(Exception):
    pass


@dataclass(frozen=True)
class AssembleInput:
    """One segment: its take's video, its title and its planned shots ``(text, seconds)``."""

    video: str
    title: str
    shots: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class AssembleResult:
    video: Path
    timeline: Path
    frames: int
    segment_frames: tuple[int, ...]  # frames of each segment, in order
    fps: Fraction
    remuxed: bool
    audio: bool


@dataclass(frozen=True)
class _Facts:
    codec: str
    width: int
    height: int
    rate: Fraction
    pix_fmt: str | None
    extradata: bytes | None
    audio: tuple[str, int, int] | None  # codec, sample rate, channels


def _probe(path: str) -> _Facts:
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise AssembleError(f"{path} has no video stream.")
            video = container.streams.video[0]
            ctx = video.codec_context
            rate = video.average_rate or video.guessed_rate
            if not rate:
                raise AssembleError(f"{path}: the frame rate cannot be read.")
            audio = None
            if container.streams.audio:
                a = container.streams.audio[0].codec_context
                audio = (a.name, a.sample_rate, a.channels)
            return _Facts(
                ctx.name,
                ctx.width,
                ctx.height,
                Fraction(rate),
                ctx.format.name if ctx.format else None,
                bytes(ctx.extradata) if ctx.extradata else None,
                audio,
            )
    except (OSError, av.FFmpegError) as exc:
        raise AssembleError(f"{path} cannot be read ({exc}).") from None


def assemble(inputs: Sequence[AssembleInput], out_path: str | os.PathLike[str], *, title: str = "") -> AssembleResult:
    """Write ``out_path`` (MP4) and ``<out>.otio`` beside it; the file appears atomically."""
    if not inputs:
        raise AssembleError("There is nothing to assemble: the project has no segments.")
    facts = [_probe(i.video) for i in inputs]
    first = facts[0]
    same = all(
        (f.codec, f.width, f.height, f.rate, f.pix_fmt, f.extradata, f.audio)
        == (first.codec, first.width, first.height, first.rate, first.pix_fmt, first.extradata, first.audio)
        for f in facts
    )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part")
    audio = any(f.audio is not None for f in facts)
    remuxed = False
    try:
        if same:
            try:
                counts = _remux(inputs, tmp, first.rate)
                remuxed = True
            except (av.FFmpegError, _RemuxImpossible) as exc:  # timestamps a muxer refuses: encode instead
                log.warning("remux failed (%s); re-encoding", exc)
        if not remuxed:
            counts = _reencode(inputs, facts, tmp, audio)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    timeline = write_timeline(inputs, counts, first.rate, out, title=title)
    return AssembleResult(out, timeline, sum(counts), tuple(counts), first.rate, remuxed, audio)


def _chapters(inputs: Sequence[AssembleInput], counts: Sequence[int], rate: Fraction) -> list[dict[str, object]]:
    chapters: list[dict[str, object]] = []
    start = 0
    for number, (item, count) in enumerate(zip(inputs, counts, strict=True), start=1):
        chapters.append(
            {
                "id": number,
                "start": start,
                "end": start + count,
                "time_base": 1 / rate,
                "metadata": {"title": item.title},
            }
        )
        start += count
    return chapters


def _video_frame_count(path: str) -> int:
    with av.open(path) as container:
        return sum(1 for packet in container.demux(video=0) if packet.size)


def _remux(inputs: Sequence[AssembleInput], tmp: Path, rate: Fraction) -> list[int]:
    counts = [_video_frame_count(i.video) for i in inputs]
    with av.open(inputs[0].video) as template, av.open(str(tmp), "w", format="mp4") as output:
        v_out = output.add_stream_from_template(template.streams.video[0])
        a_out = output.add_stream_from_template(template.streams.audio[0]) if template.streams.audio else None
        output.set_chapters(_chapters(inputs, counts, rate))  # type: ignore[arg-type]
        offset = Fraction(0)  # seconds already in the cut
        last_dts: dict[str, int] = {}
        for item, count in zip(inputs, counts, strict=True):
            with av.open(item.video) as source:
                video = source.streams.video[0]
                streams = [video] + ([source.streams.audio[0]] if a_out and source.streams.audio else [])
                # The take's own zero is its first picture; its sound keeps its place against it
                # (AAC priming before zero included), so picture and sound stay in sync per take.
                zero = Fraction(_first_pts(item.video, video.index)) * (video.time_base or Fraction(1, 90_000))
                for packet in source.demux(streams):
                    if packet.dts is None or not packet.size:
                        continue
                    kind = packet.stream.type
                    tb = packet.stream.time_base or Fraction(1, 90_000)
                    shift = round((offset - zero) / tb)
                    dts = packet.dts + shift
                    if dts <= last_dts.get(kind, -(2**62)):
                        if kind == "video":  # a frame would be lost: let the caller re-encode
                            raise _RemuxImpossible("video timestamps overlap at a join")
                        continue  # the next take's AAC priming overlaps the previous sound's tail
                    packet.pts = None if packet.pts is None else packet.pts + shift
                    packet.dts = dts
                    last_dts[kind] = dts
                    packet.stream = v_out if kind == "video" or a_out is None else a_out
                    output.mux(packet)
            offset += Fraction(count) / rate  # the picture sets the clock: sound follows each join
    return counts


def _first_pts(path: str, index: int) -> int:
    with av.open(path) as container:
        stream = container.streams[index]
        pts = [p.pts for p in container.demux(stream) if p.pts is not None and p.size]
    return min(pts) if pts else 0


def _reencode(inputs: Sequence[AssembleInput], facts: Sequence[_Facts], tmp: Path, audio: bool) -> list[int]:
    first = facts[0]
    width, height = first.width - first.width % 2, first.height - first.height % 2
    counts: list[int] = []
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        v_out = output.add_stream("libx264", rate=first.rate, options=dict(_X264_OPTIONS))
        v_out.width, v_out.height, v_out.pix_fmt = width, height, "yuv420p"
        a_out = output.add_stream("aac", rate=_AUDIO_RATE) if audio else None
        frames_at: list[int] = []
        index = 0
        samples = 0
        segments: list[tuple[int, int]] = []
        # Chapters need the counts before the header; count first (cheap: packets only).
        planned = [_video_frame_count(i.video) for i in inputs]
        output.set_chapters(_chapters(inputs, planned, first.rate))  # type: ignore[arg-type]
        for item in inputs:
            start = index
            with av.open(item.video) as source:
                for frame in source.decode(video=0):
                    picture = frame.reformat(width=width, height=height, format="yuv420p")
                    picture.pts = index
                    picture.time_base = 1 / first.rate
                    for packet in v_out.encode(picture):
                        output.mux(packet)
                    index += 1
            counts.append(index - start)
            frames_at.append(index)
            if a_out is not None:
                samples = _audio_for(item.video, output, a_out, samples, Fraction(index) / first.rate)
            segments.append((start, index))
        for packet in v_out.encode():
            output.mux(packet)
        if a_out is not None:
            for packet in a_out.encode():
                output.mux(packet)
    if counts != planned:
        log.warning("decoded frame counts %s differ from the packet counts %s", counts, planned)
    return counts


def _audio_for(
    path: str, output: av.container.OutputContainer, stream: av.AudioStream, samples: int, end: Fraction
) -> int:
    """Encode this take's audio (or silence) so the audio reaches ``end`` seconds; returns samples written."""
    target = round(end * _AUDIO_RATE)
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=_AUDIO_RATE)
    with av.open(path) as source:
        frames: Iterator[av.AudioFrame] = source.decode(audio=0) if source.streams.audio else iter(())
        for frame in frames:
            for chunk in resampler.resample(frame):
                samples = _put(output, stream, chunk, samples, target)
        for chunk in resampler.resample(None):
            samples = _put(output, stream, chunk, samples, target)
    while samples < target:  # a take shorter in sound than in picture, or silent: pad with silence
        count = min(1024, target - samples)
        silence = av.AudioFrame(format="fltp", layout="stereo", samples=count)
        for plane in silence.planes:
            plane.update(bytes(plane.buffer_size))
        silence.sample_rate = _AUDIO_RATE
        samples = _put(output, stream, silence, samples, target)
    return samples


def _put(
    output: av.container.OutputContainer, stream: av.AudioStream, frame: av.AudioFrame, samples: int, target: int
) -> int:
    if samples >= target:
        return samples  # sound running past the picture is dropped so the next take starts in sync
    frame.pts = samples
    frame.time_base = Fraction(1, _AUDIO_RATE)
    for packet in stream.encode(frame):
        output.mux(packet)
    return samples + frame.samples


def write_timeline(
    inputs: Sequence[AssembleInput], counts: Sequence[int], rate: Fraction, cut: Path, *, title: str = ""
) -> Path:
    """``<cut>.otio``: a clip per segment (the take, its frames) and a marker per planned shot."""
    fps = float(rate)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    start_frame = 0
    for number, (item, count) in enumerate(zip(inputs, counts, strict=True), start=1):
        whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(count, fps))
        reference = otio.schema.ExternalReference(
            target_url=Path(item.video).absolute().as_uri(), available_range=whole
        )
        clip = otio.schema.Clip(
            name=item.title or f"Segment {number}",
            media_reference=reference,
            source_range=whole,
            metadata={"kling_studio": {"segment": number, "cut_start_frame": start_frame, "frames": count}},
        )
        at = 0
        for shot, (text, seconds) in enumerate(item.shots, start=1):
            clip.markers.append(
                otio.schema.Marker(
                    name=marker_name(shot, text),
                    marked_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(round(at * fps), fps), otio.opentime.RationalTime(0, fps)
                    ),
                    color=otio.schema.MarkerColor.RED,
                    metadata={"kling_studio": {"segment": number, "shot": shot, "seconds": seconds, "text": text}},
                )
            )
            at += seconds
        track.append(clip)
        start_frame += count
    timeline = otio.schema.Timeline(name=title or cut.stem, metadata={"kling_studio": {"cut": cut.name}})
    timeline.tracks.append(track)
    path = cut.with_suffix(".otio")
    otio.adapters.write_to_file(timeline, str(path))
    return path

"""Real takes for the export tests: H.264 (+ AAC) MP4s made with PyAV at any rate, a new colour
on the frame each shot starts, and a cut detector that finds those frames again by decoding."""

from __future__ import annotations

import array
import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageStat

COLOURS = ((200, 40, 40), (40, 170, 60), (50, 70, 210), (220, 200, 40), (150, 50, 170))


def first_frames(seconds: Sequence[int], rate: Fraction) -> list[int]:
    """Where each shot starts: its planned second × the rate, to the nearest frame."""
    starts, at = [], 0
    for s in seconds:
        starts.append(int(Fraction(at) * rate + Fraction(1, 2)))
        at += s
    return starts


def make_take(
    path: Path,
    seconds: Sequence[int],
    rate: Fraction,
    *,
    size: tuple[int, int] = (64, 36),
    audio: bool = False,
) -> Path:
    """A take whose picture changes colour on each shot's first frame (and nowhere else)."""
    starts = first_frames(seconds, rate)
    total = int(Fraction(sum(seconds)) * rate + Fraction(1, 2))
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        sound = out.add_stream("aac", rate=48000) if audio else None
        for index in range(total):
            shot = sum(1 for s in starts if s <= index) - 1
            frame = av.VideoFrame.from_image(Image.new("RGB", size, COLOURS[shot % len(COLOURS)]))
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            samples, chunk = 48000 * sum(seconds), 1024  # AAC codes 1024 samples a frame
            for offset in range(0, samples, chunk):
                tone = array.array(
                    "f", (0.05 * math.sin(i * 2 * math.pi * 440 / 48000) for i in range(offset, offset + chunk))
                )
                aframe = av.AudioFrame(format="fltp", layout="stereo", samples=chunk)
                for plane in aframe.planes:
                    plane.update(tone.tobytes())
                aframe.sample_rate = 48000
                aframe.pts = offset
                out.mux(sound.encode(aframe))
            out.mux(sound.encode(None))
    return path


def detect_cuts(path: Path) -> list[int]:
    """Frame indices where the picture changes (a plain cut detector: mean colour jumps)."""
    cuts = [0]
    previous = None
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            mean = ImageStat.Stat(frame.to_image()).mean
            if previous is not None and max(abs(a - b) for a, b in zip(mean, previous, strict=True)) > 40:
                cuts.append(index)
            previous = mean
    return cuts

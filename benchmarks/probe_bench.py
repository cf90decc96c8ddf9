"""What verifying a downloaded video costs: ``probe_video`` against decoding the whole file.

Makes a 15 s 1080p H.264 MP4 (Kling's longest and largest), then times the probe (open, first
frame, seek, last frame) and a full decode of every frame, and counts the bytes each one reads
(``rchar`` in /proc/self/io). The probe runs after every download, so it must stay a small part
of the download and never read the file through.

    .venv/bin/python benchmarks/probe_bench.py [--seconds 15] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
from benchlib import report
from PIL import Image, ImageDraw

from kling_studio.services.video_probe import probe_video

MB = 1_000_000


def rchar() -> int:
    with open("/proc/self/io") as fh:
        for line in fh:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def make_clip(path: Path, seconds: int, fps: int = 24, size: tuple[int, int] = (1920, 1080)) -> None:
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(2 * fps), "crf": "18"}
        for i in range(seconds * fps):
            image = Image.new("RGB", size, ((i * 3) % 256, (i * 7) % 256, 90))
            draw = ImageDraw.Draw(image)
            x = (i * 17) % size[0]
            draw.rectangle((x, 200, x + 300, 700), fill=(250, 250, 250))  # something moves every frame
            frame = av.VideoFrame.from_image(image)
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def full_decode(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def timed(func, *args) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    before = rchar()
    started = time.perf_counter()
    func(*args)
    return time.perf_counter() - started, rchar() - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kling-probe-") as tmp:
        clip = Path(tmp) / "clip.mp4"
        make_clip(clip, args.seconds)
        size = clip.stat().st_size
        probe_video(clip, args.seconds)  # warm: FFmpeg loaded, file in the page cache
        probes = [timed(probe_video, clip, args.seconds) for _ in range(args.runs)]
        decodes = [timed(full_decode, clip) for _ in range(max(1, args.runs // 2))]
    probe_s = statistics.median(t for t, _ in probes)
    decode_s = statistics.median(t for t, _ in decodes)
    probe_read = max(r for _, r in probes)
    print(f"file: {args.seconds} s 1080p H.264, {size / MB:.1f} MB")
    print(f"probe_video      : median {probe_s * 1000:7.1f} ms, reads {probe_read / MB:6.2f} MB")
    print(f"full decode      : median {decode_s * 1000:7.1f} ms, reads {max(r for _, r in decodes) / MB:6.2f} MB")
    report("video probe vs full decode (time)", probe_s, "s", 0.5, 0.2, floor=decode_s)
    report("video probe: share of the file read", probe_read / size, "fraction", 0.5, 0.25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
